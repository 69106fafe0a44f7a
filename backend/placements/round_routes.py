"""Staff pages for match rounds: officers start, follow, review and adjust rounds; approvers approve them.

Handlers are thin: they read the form, call one service (rounds, review, approvals) and redirect. A round
is never solved inside a request: starting one queues it for the worker, and the round page follows its
progress (round-progress.js polls /api/v1/rounds/{id}/progress; without JavaScript a "Refresh" link).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from backend.core import todo
from backend.core.db import DbSession, utcnow
from backend.core.errors import DomainError, NotFound
from backend.core.formatting import hkd, region_name
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext, localised, ngettext
from backend.core.params import Id, OptionalQueryId, PageNumber, id_from_text
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, SegregationOfDutiesError, can
from backend.outbox.service import hong_kong_time
from backend.placements import approval_jobs, approvals, empty_places, review, round_status, rounds
from backend.placements.models import MatchAdjustment, MatchProposal, MatchRun, MatchRunStatus, ProposalStatus
from backend.projects.models import Project
from backend.schemes import lottery
from backend.schemes.models import Scheme

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, require_permission(Permission.PROJECT_VIEW_ALL)]
Officer = Annotated[User, require_permission(Permission.MATCH_RUN)]
Approver = Annotated[User, require_permission(Permission.MATCH_APPROVE)]
PAGE_SIZE = 50


async def form_fields(request: Request):
    """The posted form with repeated fields kept (checkbox lists), unlike a plain dict."""
    return await request.form()


MultiForm = Annotated[Any, Depends(form_fields)]

STAGE_NAMES = {
    "queued": lazy_gettext("Waiting for the worker"),
    "freeze": lazy_gettext("Freezing the inputs (applicants, projects, choices and limits as they are now)"),
    "load": lazy_gettext("Reading the inputs"),
    "text": lazy_gettext("Comparing interests with projects"),
    "rules": lazy_gettext("Checking eligibility rules"),
    "solve": lazy_gettext("Finding the best placements"),
    "explain": lazy_gettext("Explaining the outcome"),
    "sensitivity": lazy_gettext("Working out what binds"),
    "tradeoff": lazy_gettext("Working out what the first-timer priority costs"),
    "store": lazy_gettext("Saving the proposals"),
    "done": lazy_gettext("Finished"),
    "cancelled": lazy_gettext("Cancelled"),
}
STATUS_NAMES = {
    MatchRunStatus.QUEUED: lazy_gettext("Waiting"),
    MatchRunStatus.RUNNING: lazy_gettext("Running"),
    MatchRunStatus.SUCCEEDED: lazy_gettext("Finished"),
    MatchRunStatus.FAILED: lazy_gettext("Failed"),
    MatchRunStatus.CANCELLED: lazy_gettext("Cancelled"),
}
STATUS_COLOURS = {MatchRunStatus.QUEUED: "grey", MatchRunStatus.RUNNING: "blue",
                  MatchRunStatus.SUCCEEDED: "green", MatchRunStatus.FAILED: "red",
                  MatchRunStatus.CANCELLED: "grey"}
MODE_NAMES = {"optimal": lazy_gettext("Optimal"), "stable": lazy_gettext("Stable")}
PROPOSAL_STATUS_NAMES = {ProposalStatus.PROPOSED: lazy_gettext("Proposed"),
                         ProposalStatus.APPROVED: lazy_gettext("Approved"),
                         ProposalStatus.REFUSED: lazy_gettext("Refused")}
REASON_NAMES = {
    "ineligible": lazy_gettext("Not eligible"),
    "no_choices": lazy_gettext("No valid choices"),
    "budget_exhausted": lazy_gettext("Budget used up"),
    "regional_cap_exhausted": lazy_gettext("Regional cap reached"),
    "origin_seats_full": lazy_gettext("Seats for their side taken"),
    "outcompeted": lazy_gettext("Places went to others"),
    "excluded": lazy_gettext("Excluded by an officer"),
    "not_selected": lazy_gettext("Not selected"),
}


def stage_name(stage: str) -> str:
    name = STAGE_NAMES.get(stage or "queued")
    return str(name) if name is not None else stage


def status_name(status: str) -> str:
    return str(STATUS_NAMES.get(MatchRunStatus(status), status))


def reason_name(code: str) -> str:
    name = REASON_NAMES.get(code)
    return str(name) if name is not None else code


def round_words() -> dict:
    return dict(stage_name=stage_name, status_name=status_name, status_colours=STATUS_COLOURS,
                mode_names=MODE_NAMES, proposal_status_names=PROPOSAL_STATUS_NAMES, reason_name=reason_name,
                empty_reason_name=empty_places.reason_name)


def get_run(db: Session, run_id: int) -> MatchRun:
    # The input snapshot (tens of MB for a national round) is read only if used, not for every page and poll.
    run = db.get(MatchRun, run_id, options=[defer(MatchRun.input_snapshot)])
    if run is None:
        raise NotFound(_("We could not find that round."))
    return run


def percent(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.1f}%"


def what_binds_lines(figures: dict) -> list[str]:
    """The sensitivity figures as plain sentences an officer can act on."""
    binds = (figures or {}).get("what_binds") or {}
    budget = binds.get("budget")
    caps = binds.get("caps") or {}
    if binds and not (budget or {}).get("binding") and not any((e or {}).get("binding") for e in caps.values()):
        # Funding grants places within the budget and caps, so a round filling funded places cannot exceed them.
        return [_("A round's budget and regional caps cannot hold anyone back here: they are spent when projects "
                  "are funded, and a round only fills places already funded within them. What the budget and caps "
                  "leave out is on the scheme's funding portfolio page.")]
    lines = []
    if budget:
        if budget.get("binding") and budget.get("re_solved"):
            lines.append(_("+%(step)s budget → +%(n)s placements (%(cost)s)", step=hkd(budget["step_hkd"]),
                           n=budget["extra_placements"], cost=hkd(budget["extra_cost_hkd"])))
        else:
            lines.append(_("The budget is not what keeps applicants out: more money would place nobody more."))
    for region, entry in sorted(caps.items()):
        if not entry.get("binding"):
            continue
        if entry.get("extra_placements") is None:
            lines.append(_("%(region)s cap +%(step)s → not worked out (too many caps bind at once)",
                           region=region_name(region), step=entry["step"]))
        else:
            lines.append(_("%(region)s cap +%(step)s → +%(n)s placements", region=region_name(region),
                           step=entry["step"], n=entry["extra_placements"]))
    if binds and not any((e or {}).get("binding") for e in caps.values()):
        lines.append(_("No regional cap keeps applicants out."))
    return lines


def tradeoff_lines(figures: dict) -> list[dict]:
    """The policy trade-off as rows of a small table, each with one sentence saying what it means."""
    rows = []
    for row in (figures or {}).get("tradeoff") or []:
        priority = row["policy"]["first_timer_priority"]
        name = {"scheme": _("This round's priority (%(n)s)", n=priority),
                "lighter": _("Lighter priority (%(n)s)", n=priority),
                "off": _("No priority (0)")}.get(row["label"], row["label"])
        share, field = percent(row["first_timer_share"]), percent(row["own_field_share"])
        sentence = _("%(placed)s places filled; %(share)s of them go to first-time participants and %(field)s are "
                     "in the applicant's own field, with a mean fit of %(fit)s.", placed=f"{row['placed']:,}",
                     share=share, field=field, fit=f"{row['mean_fit']:.2f}")
        rows.append({"name": name, "placed": row["placed"], "first_timers": row["first_timers_placed"],
                     "first_timer_share": share, "own_field": row["own_field"], "own_field_share": field,
                     "mean_fit": f"{row['mean_fit']:.2f}", "sentence": sentence})
    return rows


@dataclass
class Paged:
    items: list
    page: int
    pages: int
    total: int


def paginate(items: list, page: int, size: int = PAGE_SIZE) -> Paged:
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 1), pages)
    return Paged(items[(page - 1) * size: page * size], page, pages, len(items))


def paginate_query(total: int, page: int, fetch, size: int = PAGE_SIZE) -> Paged:
    """Like `paginate`, reading only the page: `fetch(offset, limit)` returns its items."""
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    return Paged(fetch((page - 1) * size, size), page, pages, total)


def round_view(db: Session, run: MatchRun, view: str, q: str, page: int, reason: str) -> dict:
    """The part of a finished round the page shows: one tab, filtered and paginated."""
    context: dict = {"view": view, "q": q, "reason": reason}
    # Only the page shown is read, searched or not: a national round has ~50,000 proposals.
    if view == "applicants":
        context["paged"] = paginate_query(
            review.count_proposals(db, run, search=q), page,
            lambda offset, limit: review.proposals_by_applicant(db, run, search=q, offset=offset, limit=limit))
    elif view == "unplaced":
        context["paged"] = paginate_query(
            review.count_unplaced(db, run, reason=reason, search=q), page,
            lambda offset, limit: review.unplaced_with_reasons(db, run, reason=reason, search=q, offset=offset,
                                                               limit=limit))
        context["reason_codes"] = sorted((run.figures or {}).get("unplaced_reasons", {}).items())
    elif view == "empty":
        context["paged"] = paginate(empty_places.empty_places(db, run, reason=reason, search=q), page)
        context["empty_reasons"] = empty_places.reasons(run)
    else:
        shown = paginate(review.proposed_projects(db, run, search=q), page, size=10)
        context["paged"] = Paged(review.proposals_by_project(db, run, projects=shown.items), shown.page,
                                 shown.pages, shown.total)
    return context


def _schemes(db: Session) -> list[Scheme]:
    return list(db.exec(select(Scheme).order_by(col(Scheme.id).desc())))


def rounds_awaiting_approval(db: Session) -> list[tuple[MatchRun, int]]:
    return approvals.rounds_awaiting_approval(db)


@router.get("/staff/rounds", response_class=HTMLResponse)
def round_list(request: Request, db: DbSession, user: StaffUser, scheme: OptionalQueryId = 0):
    query = select(MatchRun).order_by(col(MatchRun.id).desc()).limit(100).options(defer(MatchRun.input_snapshot))
    if scheme:
        query = query.where(MatchRun.scheme_id == scheme)
    schemes = {s.id: s for s in _schemes(db)}
    runs = list(db.exec(query))
    return render(request, "rounds/list.html", {
        **round_words(), "user": user, "runs": runs, "schemes": schemes,
        "states": approvals.approval_states(db, runs), "awaiting": rounds_awaiting_approval(db)})


def _start_page(request: Request, db: Session, user: User, values: dict, errors: dict | None = None,
                status_code: int = 200):
    schemes = _schemes(db)
    return render(request, "rounds/new.html", {
        "user": user, "schemes": schemes, "values": values, "errors": errors or {},
        "latest": {s.id: rounds.latest_round(db, s.id) for s in schemes}}, status_code=status_code)


@router.get("/staff/rounds/new", response_class=HTMLResponse)
def new_round(request: Request, db: DbSession, user: Officer, scheme: OptionalQueryId = 0, refill: str = ""):
    return _start_page(request, db, user, {"scheme_id": str(scheme or ""), "mode": "optimal",
                                           "refill": refill == "yes"})


@router.post("/staff/rounds", response_class=HTMLResponse)
def start_round(request: Request, db: DbSession, user: Officer, form: MultiForm):
    values = {"scheme_id": form.get("scheme_id", ""), "mode": form.get("mode", ""),
              "refill": form.get("refill") == "yes"}
    scheme = db.get(Scheme, int(values["scheme_id"])) if str(values["scheme_id"]).isdigit() else None
    if scheme is None:
        return _start_page(request, db, user, values, {"scheme_id": _("Choose the scheme to match.")}, 400)
    if values["mode"] not in rounds.MODES:
        return _start_page(request, db, user, values, {"mode": _("Choose how to match: optimal or stable.")}, 400)
    previous = rounds.latest_round(db, scheme.id)
    try:
        run = rounds.start_round(db, user, scheme, mode=values["mode"], refill=values["refill"],
                                 previous_run=previous if previous and previous.status == MatchRunStatus.SUCCEEDED
                                 else None)
    except DomainError as error:
        if error.status_code in (403, 404):
            raise
        return _start_page(request, db, user, values, {"scheme_id": error.message}, 409)
    return RedirectResponse(f"/staff/rounds/{run.id}", status_code=303)


NOTICES = {
    "pinned": lazy_gettext("The placement is pinned. It holds in every later round until removed: re-run to use it."),
    "excluded": lazy_gettext("The pair is excluded from every later round until removed: re-run to use it."),
    "reviewed": lazy_gettext("You have marked this round as reviewed."),
    "removed": lazy_gettext("The pin or exclusion has been removed."),
}


def inputs_as_at(run: MatchRun) -> str:
    """When the round's inputs were frozen, in words; a round the worker has not started reads them later."""
    if (run.parameters or {}).get("inputs_read_at"):
        return _("Inputs as at %(time)s (Hong Kong time): what applicants, projects, choices and limits were "
                 "when the worker froze them.", time=hong_kong_time(rounds.inputs_read_at(run)))
    if run.status in (MatchRunStatus.QUEUED, MatchRunStatus.RUNNING):
        return _("Inputs not frozen yet: the worker reads applicants, projects, choices and limits as they are "
                 "when it starts the round.")
    return _("No inputs were frozen for this round.")


def _round_page(request: Request, db: Session, user: User, run: MatchRun, *, view: str = "projects", q: str = "",
                page: int = 1, reason: str = "", done: str = "", errors: dict | None = None,
                adjust: dict | None = None, status_code: int = 200):
    scheme = db.get(Scheme, run.scheme_id)
    context: dict = {**round_words(), "user": user, "run": run, "scheme": scheme, "errors": errors or {},
                     "adjust": adjust or {}, "notice": str(NOTICES[done]) if done in NOTICES else None,
                     "percent": percent, "people": {}, "worker": round_status.worker_contact(run),
                     "what_if": approvals.what_if_message(scheme, run) if rounds.is_what_if(db, run) else None,
                     "inputs_as_at": inputs_as_at(run), "policy": rounds.policy_of_round(run),
                     "seed_words": lottery.round_seed_words(scheme, run.parameters or {})}
    for field in ("started_by_id", "reviewed_by_id"):
        person = db.get(User, getattr(run, field)) if getattr(run, field) else None
        context["people"][field] = person.display_name if person else "–"
    context["approval"] = approval_view(db, run)
    if run.status == MatchRunStatus.SUCCEEDED:
        context.update(round_view(db, run, view if view in ("projects", "applicants", "unplaced", "empty") else "projects",
                                  q, page, reason))
        context["what_binds"] = what_binds_lines(run.figures)
        context["tradeoff"] = tradeoff_lines(run.figures)
        context["projects"] = list(db.exec(select(Project).where(Project.scheme_id == run.scheme_id)
                                           .order_by(col(Project.id))))
        context["adjustments"] = review.adjustments(db, scheme)
        previous = (db.get(MatchRun, run.previous_run_id, options=[defer(MatchRun.input_snapshot)])
                    if run.previous_run_id else None)
        if previous is not None and previous.status == MatchRunStatus.SUCCEEDED:
            context["previous"] = previous
            context["comparison"] = review.compare(db, run, previous)
        state = approvals.approval_states(db, [run])[run.id]
        context["pending"] = state.awaiting_approval
        context["superseded_by"] = state.superseded_by if state.shown_as_superseded else None
    return render(request, "rounds/round.html", context, status_code=status_code)


SKIPPED_SHOWN = 200


def approval_view(db: Session, run: MatchRun) -> dict | None:
    """The round's latest approval job as the round and approval pages show it: progress, result or failure."""
    job = approval_jobs.latest_job(db, run.id)
    if job is None:
        return None
    view: dict = {"job": job, "stage": approval_jobs.stage_words(job),
                  "active": job.status in approval_jobs.ACTIVE, "worker": None}
    if job.status == approval_jobs.J.SUCCEEDED:
        view["skipped"] = approval_jobs.skipped_of(db, job, limit=SKIPPED_SHOWN)
        view["titles"] = {p.id: localised(p, "title") for p in db.exec(select(Project).where(
            col(Project.id).in_({s.project_id for s in view["skipped"] if s.project_id is not None})))}
    if job.status == approval_jobs.J.FAILED:
        view["failure"] = approval_jobs.failure_message(db, job, run)
    return view


@router.get("/staff/rounds/{run_id}", response_class=HTMLResponse)
def round_page(request: Request, db: DbSession, user: StaffUser, run_id: Id, view: str = "projects",
               q: str = "", page: PageNumber = 1, reason: str = "", done: str = "", applicant_id: str = "",
               project_id: str = ""):
    run = get_run(db, run_id)
    return _round_page(request, db, user, run, view=view, q=q, page=page, reason=reason, done=done,
                       adjust={"applicant_id": applicant_id, "project_id": project_id})


@router.post("/staff/rounds/{run_id}/adjustments", response_class=HTMLResponse)
def adjust_round(request: Request, db: DbSession, user: Officer, run_id: Id, form: MultiForm):
    run = get_run(db, run_id)
    scheme = db.get(Scheme, run.scheme_id)
    adjust = {k: str(form.get(k, "")).strip() for k in ("kind", "applicant_id", "project_id", "reason")}
    errors = {}
    if adjust["kind"] not in ("pin", "exclude"):
        errors["kind"] = _("Choose whether to pin the placement or exclude the pair.")
    if id_from_text(adjust["applicant_id"]) is None:
        errors["applicant_id"] = _("Enter the applicant's number.")
    if id_from_text(adjust["project_id"]) is None:
        errors["project_id"] = _("Choose the project.")
    if not adjust["reason"]:
        errors["reason"] = _("Give a reason: it is kept with the change.")
    if not errors:
        action = review.pin if adjust["kind"] == "pin" else review.exclude
        try:
            action(db, user, scheme, int(adjust["applicant_id"]), int(adjust["project_id"]), adjust["reason"])
        except DomainError as error:
            if error.status_code == 403:
                raise
            errors[error.details.get("field", "applicant_id")] = error.message
    if errors:
        return _round_page(request, db, user, run, errors=errors, adjust=adjust, status_code=400)
    done = "pinned" if adjust["kind"] == "pin" else "excluded"
    return RedirectResponse(f"/staff/rounds/{run.id}?done={done}#adjust", status_code=303)


@router.post("/staff/rounds/{run_id}/adjustments/{adjustment_id}/remove", response_class=HTMLResponse)
def remove_adjustment(request: Request, db: DbSession, user: Officer, run_id: Id, adjustment_id: Id,
                      form: MultiForm):
    run = get_run(db, run_id)
    adjustment = db.get(MatchAdjustment, adjustment_id)
    if adjustment is None or adjustment.scheme_id != run.scheme_id:
        raise NotFound(_("We could not find that."))
    reason = str(form.get("reason", "")).strip()
    if not reason:
        return _round_page(request, db, user, run, errors={f"remove-{adjustment_id}": _(
            "Give a reason: it is kept with the change.")}, status_code=400)
    review.remove_adjustment(db, user, adjustment, reason)
    return RedirectResponse(f"/staff/rounds/{run.id}?done=removed#adjust", status_code=303)


@router.post("/staff/rounds/{run_id}/reviewed", response_class=HTMLResponse)
def mark_reviewed(request: Request, db: DbSession, user: Officer, run_id: Id):
    run = get_run(db, run_id)
    review.mark_reviewed(db, user, run)
    return RedirectResponse(f"/staff/rounds/{run.id}?done=reviewed", status_code=303)


@router.post("/staff/rounds/{run_id}/rerun", response_class=HTMLResponse)
def rerun(request: Request, db: DbSession, user: Officer, run_id: Id, form: MultiForm):
    """Run again with today's inputs (so new pins and exclusions count), same mode and refill choice."""
    run = get_run(db, run_id)
    scheme = db.get(Scheme, run.scheme_id)
    again = rounds.start_round(db, user, scheme, mode=run.mode, refill=run.is_refill,
                               previous_run=run if run.status == MatchRunStatus.SUCCEEDED else None,
                               seed=int((run.parameters or {}).get("seed", rounds.DEFAULT_SEED)))
    return RedirectResponse(f"/staff/rounds/{again.id}", status_code=303)


@router.post("/staff/rounds/{run_id}/cancel", response_class=HTMLResponse)
def cancel(request: Request, db: DbSession, user: Officer, run_id: Id):
    run = get_run(db, run_id)
    rounds.cancel_round(db, user, run)
    return RedirectResponse(f"/staff/rounds/{run.id}", status_code=303)


# --- approval -----------------------------------------------------------------------------------------

def _approval_page(request: Request, db: Session, user: User, run: MatchRun, *, page: int = 1, q: str = "",
                   refused: int | None = None,
                   errors: dict | None = None, refusal_reason: str = "", status_code: int = 200):
    scheme = db.get(Scheme, run.scheme_id)
    paged = paginate([], page)
    if run.status == MatchRunStatus.SUCCEEDED:  # read only the page shown: a national round has 50,000
        waiting = ProposalStatus.PROPOSED
        paged = paginate_query(
            review.count_proposals(db, run, status=waiting, search=q), page,
            lambda offset, limit: review.proposals_by_applicant(db, run, status=waiting, search=q,
                                                                offset=offset, limit=limit))
    blocked = superseded_by = None
    try:
        approvals.check_can_decide(db, user, run)
    except approvals.RoundSuperseded as error:
        blocked, superseded_by = error.message, error.details.get("superseded_by")
    except DomainError as error:  # four eyes (SegregationOfDutiesError) or an unfinished round
        blocked = error.message
    people = {}
    for field in ("started_by_id", "reviewed_by_id"):
        person = db.get(User, getattr(run, field)) if getattr(run, field) else None
        people[field] = person.display_name if person else "–"
    approval = approval_view(db, run)
    if blocked is None and approval is not None and approval["active"]:
        blocked = approval_jobs.underway_message(run)
    return render(request, "rounds/approval.html", {
        **round_words(), "user": user, "run": run, "scheme": scheme, "paged": paged, "q": q,
        "blocked": blocked, "people": people, "approval": approval, "refused": refused,
        "errors": errors or {}, "refusal_reason": refusal_reason, "superseded_by": superseded_by},
        status_code=status_code)


@router.get("/staff/rounds/{run_id}/approval", response_class=HTMLResponse)
def approval_page(request: Request, db: DbSession, user: Approver, run_id: Id, page: PageNumber = 1, q: str = ""):
    return _approval_page(request, db, user, get_run(db, run_id), page=page, q=q)


def _selected(form) -> list[int]:
    return sorted({int(v) for v in form.getlist("proposal_ids") if str(v).isdigit()})


def _approve_all_confirmation(request: Request, db: Session, run: MatchRun):
    """Approving a whole round makes thousands of offers and e-mails: say how many before it happens."""
    waiting = db.exec(select(MatchProposal.project_id).where(
        MatchProposal.run_id == run.id, MatchProposal.status == ProposalStatus.PROPOSED)).all()
    deadline = hong_kong_time(utcnow() + timedelta(days=approvals.DEFAULT_OFFER_DAYS))
    lines = [
        ngettext("%(num)s offer will be made, to %(num)s applicant.",
                 "%(num)s offers will be made, to %(num)s applicants.", len(waiting)),
        ngettext("%(num)s e-mail will be sent at once, telling the applicant about the offer.",
                 "%(num)s e-mails will be sent at once, telling each applicant about their offer.", len(waiting)),
        ngettext("The offers are for places on %(num)s project.", "The offers are for places on %(num)s projects.",
                 len(set(waiting))),
        _("Applicants have %(days)s days to answer, until %(deadline)s (Hong Kong time).",
          days=approvals.DEFAULT_OFFER_DAYS, deadline=deadline),
        _("Places, budget and regional caps are checked again first: a proposal that no longer fits stays "
          "proposed and is listed with its reason."),
    ]
    return render(request, "confirm.html", {
        "heading": _("Approve the whole round?"), "caption": _("Round %(id)s", id=run.id), "lines": lines,
        "action": f"/staff/rounds/{run.id}/approve", "hidden": {"scope": "all"},
        "confirm_label": ngettext("Yes, make %(num)s offer", "Yes, make %(num)s offers", len(waiting)),
        "cancel_href": f"/staff/rounds/{run.id}/approval", "cancel_label": _("Go back without approving"),
        "warning": False})


@router.post("/staff/rounds/{run_id}/approve", response_class=HTMLResponse)
def approve(request: Request, db: DbSession, user: Approver, run_id: Id, form: MultiForm):
    """Queue the approval for the worker and show its progress on the round page: the request makes no offer."""
    run = get_run(db, run_id)
    everything = form.get("scope") == "all"
    selected = _selected(form)
    if not everything and not selected:
        return _approval_page(request, db, user, run, errors={
            "proposal_ids": _("Select the proposals to approve, or approve the whole round.")}, status_code=400)
    if everything and form.get("confirmed") != "yes":
        try:
            approvals.check_can_decide(db, user, run)
        except SegregationOfDutiesError as error:
            return _approval_page(request, db, user, run, errors={"proposal_ids": error.message}, status_code=403)
        except approvals.RoundSuperseded as error:
            return _approval_page(request, db, user, run, errors={"blocked": error.message}, status_code=409)
        if approval_jobs.active_job(db, run.id) is not None:
            return _approval_page(request, db, user, run, status_code=409,
                                  errors={"blocked": approval_jobs.underway_message(run)})
        if approvals.approval_states(db, [run])[run.id].to_decide == 0:
            return _approval_page(request, db, user, run, status_code=409,
                                  errors={"blocked": approvals.nothing_to_approve_message(run)})
        return _approve_all_confirmation(request, db, run)
    try:
        approval_jobs.queue_approval(db, user, run, None if everything else selected)
    except SegregationOfDutiesError as error:
        return _approval_page(request, db, user, run, errors={"proposal_ids": error.message}, status_code=403)
    except (approvals.RoundSuperseded, approvals.NothingToApprove, approval_jobs.ApprovalUnderway) as error:
        return _approval_page(request, db, user, run, errors={"blocked": error.message}, status_code=409)
    return RedirectResponse(f"/staff/rounds/{run.id}#approval", status_code=303)


@router.post("/staff/rounds/{run_id}/refuse", response_class=HTMLResponse)
def refuse(request: Request, db: DbSession, user: Approver, run_id: Id, form: MultiForm):
    run = get_run(db, run_id)
    selected = _selected(form)
    reason = str(form.get("reason", "")).strip()
    errors = {}
    if not selected:
        errors["proposal_ids"] = _("Select the proposals to refuse.")
    if not reason:
        errors["reason"] = _("Give the reason for refusing these proposals.")
    if errors:
        return _approval_page(request, db, user, run, errors=errors, refusal_reason=reason, status_code=400)
    try:
        refused = approvals.refuse_proposals(db, user, run, selected, reason=reason)
    except SegregationOfDutiesError as error:
        return _approval_page(request, db, user, run, errors={"proposal_ids": error.message}, status_code=403)
    except approvals.RoundSuperseded as error:
        return _approval_page(request, db, user, run, errors={"blocked": error.message}, status_code=409)
    return _approval_page(request, db, user, run, refused=len(refused))


def scheme_name(scheme: Scheme | None) -> str:
    return localised(scheme, "name") if scheme else "–"


def _todo(db: Session, user: User) -> list[todo.TodoItem]:
    """Approvers: rounds with proposals to decide; officers: finished rounds nobody has reviewed yet."""
    items = []
    if not (can(user, Permission.MATCH_APPROVE) or can(user, Permission.MATCH_RUN)):
        return items
    waiting = approvals.rounds_awaiting_approval(db)
    if can(user, Permission.MATCH_APPROVE):
        href = f"/staff/rounds/{waiting[0][0].id}/approval" if len(waiting) == 1 else "/staff/rounds"
        items.append(todo.TodoItem(
            "rounds.approve", _("Match rounds awaiting approval"), len(waiting), href,
            ngettext("%(num)s proposed placement waits for a decision.",
                     "%(num)s proposed placements wait for a decision.", sum(n for _run, n in waiting)), order=20))
    if can(user, Permission.MATCH_RUN):
        unreviewed = [run for run, _n in waiting if run.reviewed_by_id is None]
        href = f"/staff/rounds/{unreviewed[0].id}" if len(unreviewed) == 1 else "/staff/rounds"
        items.append(todo.TodoItem("rounds.review", _("Match rounds to review"), len(unreviewed), href,
                                   _("Read the outcome and mark the round reviewed for an approver."), order=20))
    return items


todo.register("rounds", _todo)
