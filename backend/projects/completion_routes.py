"""After the internship: the NGO records each intern's outcome and sends the completion report; staff review it.

Thin handlers over placements.offers.record_outcome and projects.completion.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func
from sqlmodel import Session, select

from backend.core import todo
from backend.core.db import DbSession
from backend.core.errors import InvalidTransition, NotFound
from backend.core.forms import Fields, FormData, day_boxes
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.core.params import Id
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import can
from backend.organisations.models import Organisation
from backend.placements import offers
from backend.placements.models import OUTCOME_STATUSES, PlacementStatus
from backend.projects import completion
from backend.projects.completion import ReportInvalid
from backend.projects.models import CompletionReport, CompletionReportStatus, Project
from backend.projects.ngo_routes import NgoUser, own_project
from backend.projects.staff_routes import StaffUser, staff_project
from backend.projects.words import common_words
from backend.schemes.models import Scheme

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[User, require_permission(completion.REVIEW_PERMISSION)]

OUTCOME_NAMES = {
    PlacementStatus.ACCEPTED: lazy_gettext("Not recorded yet"),
    PlacementStatus.COMPLETED: lazy_gettext("Completed the internship"),
    PlacementStatus.LEFT_EARLY: lazy_gettext("Left early"),
    PlacementStatus.NO_SHOW: lazy_gettext("Did not show"),
}
OUTCOME_COLOURS = {PlacementStatus.ACCEPTED: "yellow", PlacementStatus.COMPLETED: "green",
                   PlacementStatus.LEFT_EARLY: "orange", PlacementStatus.NO_SHOW: "red"}


def words() -> dict:
    return {**common_words(), "outcome_names": {str(k): str(v) for k, v in OUTCOME_NAMES.items()},
            "outcome_colours": {str(k): v for k, v in OUTCOME_COLOURS.items()},
            "report_status_names": {str(k): str(v) for k, v in completion.STATUS_NAMES.items()}}


def _context(db: Session, user: User, project: Project) -> dict:
    return {**words(), "user": user, "project": project, "scheme": db.get(Scheme, project.scheme_id),
            "organisation": db.get(Organisation, project.organisation_id),
            "figures": completion.figures(db, project), "report": completion.report_of(db, project),
            "interns": offers.project_interns(db, project)}


# --- the NGO --------------------------------------------------------------------------------------------------

@router.get("/ngo/projects/{project_id}/outcomes", response_class=HTMLResponse)
def outcomes_page(request: Request, db: DbSession, user: NgoUser, project_id: Id, done: str = ""):
    project = own_project(db, user, project_id)
    return render(request, "ngo/outcomes.html", {
        **_context(db, user, project), "closed_reason": offers.outcomes_open(db, project),
        "notice": _("The outcome has been saved.") if done == "saved" else None})


def _intern_of(db: Session, project: Project, placement_id: int):
    for intern in offers.project_interns(db, project):
        if intern.placement.id == placement_id:
            return intern
    raise NotFound(_("That person is not an accepted intern of this project."))


def _outcome_form(request: Request, db: Session, user: User, project: Project, intern, *, form: dict,
                  errors: dict | None = None, problem: str | None = None, status_code: int = 200):
    return render(request, "ngo/outcome.html", {
        **_context(db, user, project), "intern": intern, "form": form, "errors": errors or {}, "problem": problem,
        "closed_reason": offers.outcomes_open(db, project),
        "choices": [(str(s), str(OUTCOME_NAMES[s])) for s in OUTCOME_STATUSES]}, status_code=status_code)


@router.get("/ngo/projects/{project_id}/outcomes/{intern_id}", response_class=HTMLResponse)
def outcome_form(request: Request, db: DbSession, user: NgoUser, project_id: Id, intern_id: Id):
    project = own_project(db, user, project_id)
    intern = _intern_of(db, project, intern_id)
    placement = intern.placement
    form = {"outcome": placement.status if placement.status != PlacementStatus.ACCEPTED else "",
            "left_on": placement.left_on.isoformat() if placement.left_on else "",
            "reason": placement.outcome_reason or ""}
    return _outcome_form(request, db, user, project, intern, form=form)


@router.post("/ngo/projects/{project_id}/outcomes/{intern_id}", response_class=HTMLResponse)
def save_outcome(request: Request, db: DbSession, user: NgoUser, project_id: Id, intern_id: Id, data: FormData):
    project = own_project(db, user, project_id)
    intern = _intern_of(db, project, intern_id)
    form = {k: v for k, v in data.items() if k != "csrf_token"}
    fields = Fields(form)
    outcome = fields.choice("outcome", OUTCOME_STATUSES, message=_("Choose how the internship ended."),
                            required=_("Choose how the internship ended."))
    left_on = fields.date("left_on", message=_("Enter a real date, for example 27 7 2027.")) \
        if outcome == PlacementStatus.LEFT_EARLY else None
    reason = fields.text("reason", max_length=offers.REASON_LIMIT) or ""
    try:
        if fields.errors:
            raise offers.OutcomeInvalid(fields.errors)
        offers.record_outcome(db, user, project, intern_id, PlacementStatus(outcome), left_on=left_on,
                              reason=reason)
    except offers.OutcomeInvalid as error:
        return _outcome_form(request, db, user, project, intern, form=form, errors=day_boxes(error.errors, "left_on"),
                             status_code=400)
    except InvalidTransition as error:
        return _outcome_form(request, db, user, project, intern, form=form, problem=error.message,
                             status_code=409)
    return RedirectResponse(f"/ngo/projects/{project.id}/outcomes?done=saved", status_code=303)


def _report_page(request: Request, db: Session, user: User, project: Project, *, form: dict | None = None,
                 errors: dict | None = None, problem: str | None = None, notice: str | None = None,
                 status_code: int = 200):
    context = _context(db, user, project)
    report = context["report"]
    return render(request, "ngo/report.html", {
        **context, "form": form or {"evaluation": report.evaluation if report else ""}, "errors": errors or {},
        "problem": problem, "notice": notice, "not_sendable": completion.why_not_sendable(db, project),
        "editable": report is None or report.status in completion.EDITABLE}, status_code=status_code)


@router.get("/ngo/projects/{project_id}/report", response_class=HTMLResponse)
def report_page(request: Request, db: DbSession, user: NgoUser, project_id: Id, done: str = ""):
    project = own_project(db, user, project_id)
    return _report_page(request, db, user, project, notice={
        "saved": _("Your draft has been saved."),
        "sent": _("Thank you: your completion report has been sent."),
    }.get(done))


@router.post("/ngo/projects/{project_id}/report", response_class=HTMLResponse)
def save_report(request: Request, db: DbSession, user: NgoUser, project_id: Id, data: FormData):
    project = own_project(db, user, project_id)
    form = {"evaluation": str(data.get("evaluation") or "")}
    sending = data.get("action") == "send"
    try:
        if sending:
            completion.send(db, user, project, form["evaluation"])
        else:
            completion.save_draft(db, user, project, form["evaluation"])
    except ReportInvalid as error:
        return _report_page(request, db, user, project, form=form, errors=error.errors, status_code=400)
    except InvalidTransition as error:
        return _report_page(request, db, user, project, form=form, problem=error.message, status_code=409)
    return RedirectResponse(f"/ngo/projects/{project.id}/report?done={'sent' if sending else 'saved'}",
                            status_code=303)


# --- staff ----------------------------------------------------------------------------------------------------

def _review_page(request: Request, db: Session, user: User, project: Project, *, form: dict | None = None,
                 errors: dict | None = None, problem: str | None = None, notice: str | None = None,
                 status_code: int = 200):
    return render(request, "staff/report.html", {
        **_context(db, user, project), "form": form or {}, "errors": errors or {}, "problem": problem,
        "notice": notice}, status_code=status_code)


@router.get("/staff/projects/{project_id}/report", response_class=HTMLResponse)
def review_page(request: Request, db: DbSession, user: StaffUser, project_id: Id, done: str = ""):
    project = staff_project(db, user, project_id)
    return _review_page(request, db, user, project, notice={
        "accepted": _("The completion report has been accepted and the project is completed."),
        "returned": _("The completion report has been returned to the organisation with your comments."),
    }.get(done))


@router.post("/staff/projects/{project_id}/report/accept", response_class=HTMLResponse)
def accept_report(request: Request, db: DbSession, user: Reviewer, project_id: Id):
    project = staff_project(db, user, project_id)
    try:
        completion.accept(db, user, project)
    except InvalidTransition as error:
        return _review_page(request, db, user, project, problem=error.message, status_code=409)
    return RedirectResponse(f"/staff/projects/{project.id}/report?done=accepted", status_code=303)


@router.post("/staff/projects/{project_id}/report/return", response_class=HTMLResponse)
def return_report(request: Request, db: DbSession, user: Reviewer, project_id: Id, data: FormData):
    project = staff_project(db, user, project_id)
    form = {"comments": str(data.get("comments") or "")}
    try:
        completion.return_report(db, user, project, form["comments"])
    except ReportInvalid as error:
        return _review_page(request, db, user, project, form=form, errors=error.errors, status_code=400)
    except InvalidTransition as error:
        return _review_page(request, db, user, project, form=form, problem=error.message, status_code=409)
    return RedirectResponse(f"/staff/projects/{project.id}/report?done=returned", status_code=303)


def _todo(db: Session, user: User) -> list[todo.TodoItem]:
    """Officers: completion reports an organisation has sent and nobody has reviewed yet."""
    if not can(user, completion.REVIEW_PERMISSION):
        return []
    sent = db.exec(select(func.count()).select_from(CompletionReport)
                   .where(CompletionReport.status == CompletionReportStatus.SENT)).one()
    return [todo.TodoItem("reports.review", _("Completion reports to review"), int(sent), "/staff/projects",
                          _("Accept each report, or return it to the organisation with comments."), order=40)]


todo.register("completion_reports", _todo)
