"""Staff pages for funding decisions: the assessment queue, the assessment page (officer proposes), the
approver's confirmation (four eyes, budget and regional caps), and opening/closing applications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, func, select

from backend.core import todo
from backend.core.db import DbSession
from backend.core.errors import Conflict, Forbidden, NotFound
from backend.core.forms import BadValue, Fields, FormData, FormInvalid, parse_whole
from backend.core.i18n import gettext as _
from backend.core.params import Id, OptionalQueryId
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, can, require_visible
from backend.organisations import track_record
from backend.organisations.models import Organisation
from backend.placements import confirmations
from backend.projects import completion, conflicts, funding, lifecycle, ranking, scoring
from backend.projects.models import Assessment, AssessmentDecision, Project, ProjectStatus
from backend.projects.scoring import ScoringStatus, weighted_total
from backend.projects.validation import subsidy_limit
from backend.projects.words import common_words
from backend.schemes import admin as schemes
from backend.schemes import facts
from backend.schemes.models import AssessmentCriterion, Scheme

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, require_permission(Permission.PROJECT_VIEW_ALL)]
QUEUE_STATUSES = (ProjectStatus.SUBMITTED, ProjectStatus.UNDER_ASSESSMENT)


class ProposalInvalid(FormInvalid):
    status_code = 422
    code = "proposal_invalid"


def read_proposal(criteria: list[AssessmentCriterion], data: dict) -> dict:
    """The assessment form (or JSON body) as propose_decision's arguments; ProposalInvalid names each field."""
    flat = dict(data)
    if isinstance(data.get("scores"), dict):
        flat.update({f"score_{code}": score for code, score in data["scores"].items()})
    fields = Fields(flat)
    decision = fields.choice("decision", AssessmentDecision, message=_("Choose a proposed decision."),
                             required=_("Choose a proposed decision."))
    scores: dict[str, int] = {}
    for criterion in criteria:
        message = _("Give a score from 0 to %(max)s.", max=criterion.max_score)
        score = fields.whole(f"score_{criterion.code}", 0, criterion.max_score, message=message, required=message)
        if score is not None:
            scores[criterion.code] = score
    places = subsidy = None
    if decision == AssessmentDecision.APPROVE:
        if fields.has("places"):
            try:
                places = parse_whole(flat["places"], 0, 9999)
            except BadValue:
                # Out of range for propose_decision, which names the field and the places that may be granted.
                places = -1
        subsidy = fields.money("subsidy_per_place")
    comments = str(data.get("comments") or "").strip()
    fields.raise_if_invalid(_("The assessment could not be saved: fix the fields shown."), ProposalInvalid)
    return dict(decision=AssessmentDecision(decision), scores=scores, comments=comments, places=places,
                subsidy_per_place=subsidy)


def declare_conflict(db: Session, user: User, organisation_id: int, data: dict):
    """The conflict-of-interest form (or JSON body): "none", or "conflict" with what it is."""
    conflicts.require_may_declare(user)
    answer = str(data.get("conflict_of_interest") or "").strip()
    if answer not in ("none", "conflict"):
        message = _("Say whether you have a conflict of interest with this organisation.")
        raise ProposalInvalid({"conflict_of_interest": message}, message)
    try:
        return conflicts.declare(db, user, organisation_id, has_conflict=answer == "conflict",
                                 description=str(data.get("conflict_description") or ""))
    except Conflict as error:
        raise ProposalInvalid({error.details.get("field", "conflict_description"): error.message},
                              error.message) from error


def propose(db: Session, user: User, project: Project, data: dict) -> Assessment:
    """Check the form, then funding.propose_decision; its field-specific refusals become field errors.

    Scoring needs the officer's conflict-of-interest declaration for the organisation, made first."""
    criteria = schemes.criteria_of(db, db.get(Scheme, project.scheme_id))
    arguments = read_proposal(criteria, data)
    try:
        conflicts.require_declared_without_conflict(db, user, project.organisation_id)
        return funding.propose_decision(db, user, project, **arguments)
    except Conflict as error:
        if "field" in error.details:
            raise ProposalInvalid({error.details["field"]: error.message}, error.message) from error
        raise


def moderate(db: Session, user: User, project: Project, data: dict):
    """The moderation form (or JSON body): the agreed score out of 100 and the note saying why."""
    fields = Fields(dict(data))
    message = _("Give the agreed score as a whole number from 0 to 100.")
    agreed = fields.whole("agreed_score", 0, 100, message=message, required=message)
    note = fields.text("moderation_note", max_length=scoring.MAX_NOTE,
                       required=_("Say why the agreed score is what it is."))
    fields.raise_if_invalid(_("The moderation could not be saved: fix the fields shown."), ProposalInvalid)
    try:
        return scoring.moderate(db, user, project, agreed_score=agreed, note=note)
    except Conflict as error:
        if "field" in error.details:
            raise ProposalInvalid({error.details["field"]: error.message}, error.message) from error
        raise


def pending_proposal(db: Session, project: Project) -> Assessment | None:
    return db.exec(select(Assessment).where(Assessment.project_id == project.id, col(Assessment.confirmed_at).is_(None),
                                            col(Assessment.superseded).is_(False))
                   .order_by(col(Assessment.id).desc())).first()


@router.get("/staff/schemes/{scheme_id}/ranking", response_class=HTMLResponse)
def ranked_list(request: Request, db: DbSession, user: StaffUser, scheme_id: Id):
    scheme = schemes.get_scheme(db, scheme_id)
    return render(request, "staff/ranking.html", {
        **common_words(), "user": user, "scheme": scheme, "ranked": ranking.ranked_projects(db, scheme),
        "scoring_status_names": scoring_status_names()})


@router.get("/staff/projects", response_class=HTMLResponse)
def queue(request: Request, db: DbSession, user: StaffUser, scheme_id: OptionalQueryId = 0, done: str = ""):
    all_schemes = schemes.all_schemes(db)
    scheme = db.get(Scheme, scheme_id) if scheme_id else (all_schemes[0] if all_schemes else None)
    rows = []
    if scheme is not None:
        rows = list(db.exec(select(Project, Organisation).join(Organisation, col(Organisation.id) == Project.organisation_id)
                            .where(Project.scheme_id == scheme.id).order_by(col(Project.submitted_at), col(Project.id))))
    proposals = {}
    if rows:
        for assessment in db.exec(select(Assessment).where(col(Assessment.project_id).in_([p.id for p, _o in rows]),
                                                           col(Assessment.confirmed_at).is_(None),
                                                           col(Assessment.superseded).is_(False))):
            proposals[assessment.project_id] = assessment
    return render(request, "staff/queue.html", {
        **common_words(), "user": user, "schemes": all_schemes, "scheme": scheme,
        "to_assess": [(p, o) for p, o in rows if p.status in QUEUE_STATUSES and p.id not in proposals],
        "to_confirm": [(p, o, proposals[p.id]) for p, o in rows if p.id in proposals],
        "funded": [(p, o) for p, o in rows if p.status in (ProjectStatus.APPROVED, ProjectStatus.OPEN)],
        "closed": [(p, o) for p, o in rows if p.status == ProjectStatus.CLOSED],
        "notice": {"confirmed": _("The decision has been confirmed and the organisation told by e-mail."),
                   "proposed": _("Your proposal has been saved. An approver will confirm it.")}.get(done),
    })


def _project_page(request: Request, db: Session, user: User, project: Project, *, errors=None, form=None,
                  problem: str | None = None, notice: str | None = None, status_code: int = 200):
    scheme = db.get(Scheme, project.scheme_id)
    weeks = None
    if project.start_date and project.end_date:
        weeks = max(1, round(((project.end_date - project.start_date).days + 1) / 7))
    similar, basis, based_on = schemes.similar_cost(db, project)
    proposal = pending_proposal(db, project)
    officer = db.get(User, proposal.officer_id) if proposal and proposal.officer_id else None
    room = facts.headroom(db, scheme, project.region, excluding_project_id=project.id)
    events = lifecycle.timeline(db, project)
    actors = {u.id: u for u in db.exec(select(User).where(col(User.id).in_([e.actor_id for e in events if e.actor_id])))}
    form = form or {"decision": "approve", "places": str(project.places_requested),
                    "subsidy_per_place": str(project.subsidy_requested_per_place)}
    criteria = schemes.criteria_of(db, scheme)
    where = scoring.scoring_of(db, project)
    scorers = {u.id: u for u in db.exec(select(User).where(col(User.id).in_(
        [s.officer_id for s in where.by_officer if s.officer_id] + ([where.moderation.moderator_id] if where.moderation
                                                                    and where.moderation.moderator_id else []))))}
    return render(request, "staff/project.html", {
        **common_words(), "user": user, "project": project, "scheme": scheme,
        "weighted_score": weighted_total(proposal.scores, criteria) if proposal else None,
        "scoring": where, "scores_shown": where.shows_scores_to(user), "scorers": scorers,
        "scoring_status_names": scoring_status_names(),
        "declaration": conflicts.declaration(db, user.id, project.organisation_id),
        "organisation": db.get(Organisation, project.organisation_id),
        "limit": subsidy_limit(db, scheme, project.region, weeks), "similar": similar, "similar_basis": basis,
        "similar_count": based_on, "criteria": criteria, "proposal": proposal,
        "officer": officer, "room": room, "events": events, "actors": actors, "errors": errors or {}, "form": form,
        "problem": problem, "notice": notice, "can_assess": project.status in QUEUE_STATUSES,
        **_completion_context(db, project),
        "track_record": track_record.of_organisation(db, project.organisation_id),
        "confirmations": confirmations.for_project(db, user, project), **confirmations.words(),
    }, status_code=status_code)


def scoring_status_names() -> dict[str, str]:
    return {ScoringStatus.UNSCORED: _("Not scored yet"),
            ScoringStatus.SECOND_SCORE_MISSING: _("Second score missing"),
            ScoringStatus.NEEDS_MODERATION: _("Needs moderation"),
            ScoringStatus.MODERATED: _("Moderated"),
            ScoringStatus.SCORED: _("Scored")}


def _completion_context(db: Session, project: Project) -> dict:
    """The completion report's figures and status, for a project past opening."""
    if project.status not in (ProjectStatus.OPEN, ProjectStatus.CLOSED, ProjectStatus.COMPLETED):
        return {"report_figures_of": None}
    return {"report_figures_of": completion.figures(db, project), "completion_report": completion.report_of(db, project),
            "report_status_names": {str(k): str(v) for k, v in completion.STATUS_NAMES.items()}}


def staff_project(db: Session, user: User, project_id: int) -> Project:
    return require_visible(user, Permission.PROJECT_VIEW_ALL, db.get(Project, project_id))


@router.get("/staff/projects/{project_id}", response_class=HTMLResponse)
def project_page(request: Request, db: DbSession, user: StaffUser, project_id: Id, done: str = ""):
    project = staff_project(db, user, project_id)
    return _project_page(request, db, user, project, notice={
        "declared": _("Your declaration has been recorded."),
        "moderated": _("The agreed score has been recorded."),
        "opened": _("The project is now open for applications."),
        "closed": _("Applications to the project are now closed."),
    }.get(done))


@router.post("/staff/projects/{project_id}/assessments", response_class=HTMLResponse)
def propose_page(request: Request, db: DbSession, user: Annotated[User, require_permission(Permission.PROJECT_ASSESS)],
                 project_id: Id, data: FormData):
    project = staff_project(db, user, project_id)
    try:
        propose(db, user, project, data)
    except ProposalInvalid as error:
        return _project_page(request, db, user, project, errors=error.errors, form=data, status_code=400)
    except Conflict as error:
        return _project_page(request, db, user, project, form=data, problem=error.message, status_code=409)
    return RedirectResponse(f"/staff/projects?scheme_id={project.scheme_id}&done=proposed", status_code=303)


@router.post("/staff/projects/{project_id}/conflict-of-interest", response_class=HTMLResponse)
def declare_page(request: Request, db: DbSession,
                 user: Annotated[User, require_permission(Permission.PROJECT_ASSESS, Permission.PROJECT_DECIDE)],
                 project_id: Id, data: FormData):
    project = staff_project(db, user, project_id)
    try:
        declare_conflict(db, user, project.organisation_id, data)
    except ProposalInvalid as error:
        return _project_page(request, db, user, project, errors=error.errors, status_code=400)
    return RedirectResponse(f"/staff/projects/{project.id}?done=declared", status_code=303)


@router.post("/staff/projects/{project_id}/moderation", response_class=HTMLResponse)
def moderate_page(request: Request, db: DbSession,
                  user: Annotated[User, require_permission(Permission.PROJECT_ASSESS, Permission.PROJECT_DECIDE)],
                  project_id: Id, data: FormData):
    project = staff_project(db, user, project_id)
    try:
        moderate(db, user, project, data)
    except ProposalInvalid as error:
        return _project_page(request, db, user, project, errors=error.errors, form=data, status_code=400)
    except (Conflict, Forbidden) as error:
        return _project_page(request, db, user, project, form=data, problem=error.message,
                             status_code=error.status_code)
    return RedirectResponse(f"/staff/projects/{project.id}?done=moderated", status_code=303)


@router.post("/staff/assessments/{assessment_id}/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, db: DbSession, user: Annotated[User, require_permission(Permission.PROJECT_DECIDE)],
                 assessment_id: Id):
    assessment = db.get(Assessment, assessment_id)
    if assessment is None:
        raise NotFound(_("We could not find that."))
    project = staff_project(db, user, assessment.project_id)
    try:
        funding.confirm_decision(db, user, assessment)
    except (Conflict, Forbidden) as error:
        # BudgetExceeded, RegionalCapExceeded (409) and SegregationOfDutiesError (403): said on the page.
        return _project_page(request, db, user, project, problem=error.message,
                             status_code=error.status_code)
    return RedirectResponse(f"/staff/projects?scheme_id={project.scheme_id}&done=confirmed", status_code=303)


@router.post("/staff/projects/{project_id}/open", response_class=HTMLResponse)
def open_page(db: DbSession, user: Annotated[User, require_permission(Permission.PROJECT_ASSESS)], project_id: Id):
    project = staff_project(db, user, project_id)
    lifecycle.open_for_applications(db, user, project)
    return RedirectResponse(f"/staff/projects/{project.id}?done=opened", status_code=303)


@router.post("/staff/projects/{project_id}/close", response_class=HTMLResponse)
def close_page(db: DbSession, user: Annotated[User, require_permission(Permission.PROJECT_ASSESS)], project_id: Id):
    project = staff_project(db, user, project_id)
    lifecycle.close_applications(db, user, project)
    return RedirectResponse(f"/staff/projects/{project.id}?done=closed", status_code=303)


def _todo(db: Session, user: User) -> list[todo.TodoItem]:
    """Officers: submitted projects nobody has proposed a decision on; approvers: proposals to confirm."""
    pending = select(Assessment.project_id).where(col(Assessment.confirmed_at).is_(None),
                                                  col(Assessment.superseded).is_(False))
    items = []
    if can(user, Permission.PROJECT_ASSESS):
        to_assess = db.exec(select(func.count(col(Project.id))).where(
            col(Project.status).in_(QUEUE_STATUSES), col(Project.id).not_in(pending))).one()
        items.append(todo.TodoItem("projects.assess", _("Projects to assess"), int(to_assess), "/staff/projects",
                                   _("Score each project and propose a funding decision."), order=10))
    if can(user, Permission.PROJECT_DECIDE):
        to_confirm = db.exec(select(func.count()).select_from(pending.subquery())).one()
        items.append(todo.TodoItem("projects.confirm", _("Funding proposals to confirm"), int(to_confirm),
                                   "/staff/projects", _("Confirm or change another officer's proposal."), order=10))
    return items


todo.register("projects", _todo)
