"""Complaint pages: the complainant raises and follows one, the organisation reads shared ones, staff handle them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, func, select

from backend.complaints import case
from backend.complaints.models import Complaint
from backend.core import clock, todo
from backend.core.db import DbSession
from backend.core.errors import Conflict
from backend.core.forms import FormData
from backend.core.i18n import gettext as _
from backend.core.i18n import ngettext
from backend.core.params import Id
from backend.core.templating import render
from backend.identity.deps import CurrentUser, require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, can, organisation_id_of
from backend.organisations.models import Organisation
from backend.projects.models import Project

router = APIRouter(include_in_schema=False)
Complainant = Annotated[User, require_permission(Permission.COMPLAINT_RAISE)]
OwnViewer = Annotated[User, require_permission(Permission.COMPLAINT_VIEW_OWN)]
NgoViewer = Annotated[User, require_permission(Permission.COMPLAINT_VIEW_SHARED)]
Handler = Annotated[User, require_permission(Permission.COMPLAINT_HANDLE)]

STATUS_COLOURS = {"received": "blue", "acknowledged": "light-blue", "investigating": "purple", "upheld": "green",
                  "not_upheld": "grey"}
NOTICES = {
    "raised": lambda: _("Your complaint has been received. We have sent you an e-mail."),
    "acknowledged": lambda: _("The complaint has been acknowledged."),
    "investigating": lambda: _("The investigation has started."),
    "decided": lambda: _("The decision has been sent to the complainant."),
    "shared": lambda: _("The complaint has been shared with the organisation."),
}


def _words() -> dict:
    return {"status_name": case.status_name, "status_colours": STATUS_COLOURS, "is_overdue": case.is_overdue}


def _notice(done: str) -> str | None:
    notice = NOTICES.get(done)
    return notice() if notice else None


def _about(db: Session, complaint: Complaint) -> tuple[Organisation | None, Project | None]:
    organisation = db.get(Organisation, complaint.organisation_id)
    project = db.get(Project, complaint.project_id) if complaint.project_id is not None else None
    return organisation, project


# --- the complainant -----------------------------------------------------------------------------------------

@router.get("/complaints", response_class=HTMLResponse)
def own_list(request: Request, db: DbSession, user: OwnViewer):
    complaints = case.own_complaints(db, user)
    return render(request, "complaints/list.html", {
        **_words(), "user": user, "complaints": complaints,
        "about": {c.id: case.about_label(db, c) for c in complaints}})


def _form_page(request: Request, db: Session, user: User, *, form=None, errors=None, status_code=200):
    options = case.about_options(db, user)
    return render(request, "complaints/new.html", {
        "user": user, "form": form or {}, "errors": errors or {},
        "project_options": [(o.value, case.about_label_of(o)) for o in options if o.project is not None],
        "organisation_options": [(o.value, case.about_label_of(o)) for o in options if o.project is None],
    }, status_code=status_code)


@router.get("/complaints/new", response_class=HTMLResponse)
def new_complaint(request: Request, db: DbSession, user: Complainant):
    return _form_page(request, db, user)


@router.post("/complaints/new", response_class=HTMLResponse)
def raise_complaint(request: Request, db: DbSession, user: Complainant, data: FormData):
    try:
        complaint = case.raise_complaint(db, user, data)
    except case.ComplaintInvalid as error:
        return _form_page(request, db, user, form=data, errors=error.errors, status_code=400)
    return RedirectResponse(f"/complaints/{complaint.id}?done=raised", status_code=303)


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def complaint_page(request: Request, db: DbSession, user: CurrentUser, complaint_id: Id, done: str = ""):
    complaint = case.visible_complaint(db, user, complaint_id)
    organisation, project = _about(db, complaint)
    return render(request, "complaints/complaint.html", {
        **_words(), "user": user, "complaint": complaint, "organisation": organisation, "project": project,
        "is_complainant": complaint.user_id == user.id, "notice": _notice(done)})


# --- the organisation ----------------------------------------------------------------------------------------

@router.get("/ngo/complaints", response_class=HTMLResponse)
def shared_list(request: Request, db: DbSession, user: NgoViewer):
    complaints = case.shared_complaints(db, user, organisation_id_of(user))
    return render(request, "complaints/ngo_list.html", {
        **_words(), "user": user, "complaints": complaints,
        "about": {c.id: case.about_label(db, c) for c in complaints}})


# --- staff ---------------------------------------------------------------------------------------------------

@router.get("/staff/complaints", response_class=HTMLResponse)
def staff_list(request: Request, db: DbSession, user: Handler, status: str = ""):
    complaints = case.staff_cases(db, user, status=status)
    return render(request, "complaints/staff_list.html", {
        **_words(), "user": user, "complaints": complaints, "status": status,
        "about": {c.id: case.about_label(db, c) for c in complaints}, "today": clock.today(),
        "filters": [("", _("All")), ("overdue", _("Overdue"))] + [(s, case.status_name(s)) for s in case.C]})


def _staff_page(request: Request, db: Session, user: User, complaint: Complaint, *, errors=None, form=None,
                problem=None, notice=None, status_code=200):
    organisation, project = _about(db, complaint)
    complainant = db.get(User, complaint.user_id) if complaint.user_id is not None else None
    return render(request, "complaints/staff_complaint.html", {
        **_words(), "user": user, "complaint": complaint, "organisation": organisation, "project": project,
        "complainant": complainant, "errors": errors or {}, "form": form or {}, "problem": problem,
        "notice": notice, "outcomes": [(o, case.status_name(o)) for o in case.OUTCOMES]}, status_code=status_code)


@router.get("/staff/complaints/{complaint_id}", response_class=HTMLResponse)
def staff_complaint(request: Request, db: DbSession, user: Handler, complaint_id: Id, done: str = ""):
    return _staff_page(request, db, user, case.get_case(db, user, complaint_id), notice=_notice(done))


def _act(request: Request, db: Session, user: User, complaint_id: int, done: str, act) -> object:
    complaint = case.get_case(db, user, complaint_id)
    try:
        act(complaint)
    except Conflict as error:
        return _staff_page(request, db, user, case.get_case(db, user, complaint_id), problem=error.message,
                           status_code=409)
    return RedirectResponse(f"/staff/complaints/{complaint_id}?done={done}", status_code=303)


@router.post("/staff/complaints/{complaint_id}/acknowledge", response_class=HTMLResponse)
def acknowledge(request: Request, db: DbSession, user: Handler, complaint_id: Id):
    return _act(request, db, user, complaint_id, "acknowledged", lambda c: case.acknowledge(db, user, c))


@router.post("/staff/complaints/{complaint_id}/investigate", response_class=HTMLResponse)
def investigate(request: Request, db: DbSession, user: Handler, complaint_id: Id):
    return _act(request, db, user, complaint_id, "investigating", lambda c: case.start_investigation(db, user, c))


@router.post("/staff/complaints/{complaint_id}/decide", response_class=HTMLResponse)
def decide(request: Request, db: DbSession, user: Handler, complaint_id: Id, data: FormData):
    complaint = case.get_case(db, user, complaint_id)
    try:
        case.decide(db, user, complaint, data)
    except case.ComplaintInvalid as error:
        return _staff_page(request, db, user, complaint, errors=error.errors, form=data, status_code=400)
    except Conflict as error:
        return _staff_page(request, db, user, case.get_case(db, user, complaint_id), problem=error.message,
                           form=data, status_code=409)
    return RedirectResponse(f"/staff/complaints/{complaint_id}?done=decided", status_code=303)


@router.post("/staff/complaints/{complaint_id}/share", response_class=HTMLResponse)
def share(request: Request, db: DbSession, user: Handler, complaint_id: Id):
    return _act(request, db, user, complaint_id, "shared", lambda c: case.share(db, user, c))


def _todo(db: Session, user: User) -> list[todo.TodoItem]:
    """Open cases (received, acknowledged or under investigation), saying how many are overdue."""
    if not can(user, Permission.COMPLAINT_HANDLE):
        return []
    open_statuses = (case.C.RECEIVED, case.C.ACKNOWLEDGED, case.C.INVESTIGATING)
    waiting = db.exec(select(func.count(col(Complaint.id))).where(col(Complaint.status).in_(open_statuses))).one()
    overdue = db.exec(select(func.count(col(Complaint.id))).where(
        Complaint.status == case.C.RECEIVED, col(Complaint.acknowledge_by) < clock.today())).one()
    hint = (ngettext("%(num)s is overdue for acknowledgement.", "%(num)s are overdue for acknowledgement.",
                     int(overdue)) if overdue else _("Acknowledge, investigate and decide each case."))
    return [todo.TodoItem("complaints.open", _("Complaints to act on"), int(waiting),
                          "/staff/complaints?status=overdue" if overdue else "/staff/complaints", hint, order=40)]


todo.register("complaints", _todo)
