"""The applicant's choices (add, move up or down, withdraw), "Suggested for you". (The status page is
with the offers, in placements/offer_routes.py, since it shows them.)

Plain POST forms: reordering is an "up"/"down" button per row, so it works without JavaScript.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from backend.applicants import choices, demand, eligibility, profile, scramble, suggestions
from backend.applicants.models import Choice, ChoiceStatus
from backend.core.db import DbSession
from backend.core.errors import DomainError, NotFound
from backend.core.i18n import gettext as _
from backend.core.params import Id
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission

router = APIRouter(include_in_schema=False)
Chooser = Annotated[User, require_permission(Permission.APPLICANT_CHOOSE_PROJECTS)]
FormStr = Annotated[str, Form()]


def _notice(done: str) -> str | None:
    return {"added": _("The project has been added to your choices."),
            "moved": _("The order of your choices has been saved."),
            "withdrawn": _("The choice has been withdrawn.")}.get(done)


def _choices_page(request: Request, db: Session, user: User, *, errors: dict | None = None, done: str = "",
                  status_code: int = 200):
    items = choices.list_choices(db, user)
    p = profile.find_profile(db, user)
    suggested = suggestions.suggest(db, user)
    return render(request, "applicants/choices.html", {
        "items": items, "suggestions": suggested, "errors": errors or {},
        "demands": demand.demands_for(db, [item.project_id for item in items]),
        "scheme_names": choices.scheme_names(db, items),
        "suggestion_demands": {s.project_id: s.demand for s in suggested},
        "notice": _notice(done), "missing": profile.missing_steps(p, profile.ELIGIBILITY_STEPS),
        "settled_message": choices.settled_message(),
        "step_title": profile.step_title, "submitted": p is not None and p.submitted_at is not None,
        "eligibility": eligibility.for_projects(db, user, [item.project_id for item in items]),
    }, status_code=status_code)


@router.get("/choices", response_class=HTMLResponse)
def choices_page(request: Request, db: DbSession, user: Chooser, done: str = ""):
    return _choices_page(request, db, user, done=done)


def _project_id(value: str) -> int:
    if not value.strip().isdigit():
        raise DomainError(_("Choose a project to add."), field="project_id")
    return int(value)


@router.post("/choices", response_class=HTMLResponse)
def add_choice(request: Request, db: DbSession, user: Chooser, project_id: FormStr = ""):
    try:
        choices.add_choice(db, user, _project_id(project_id))
    except DomainError as error:
        return _choices_page(request, db, user, errors={"project_id": error.message},
                             status_code=error.status_code)
    return RedirectResponse("/choices?done=added", status_code=303)


@router.post("/choices/{choice_id}/move", response_class=HTMLResponse)
def move_choice(request: Request, db: DbSession, user: Chooser, choice_id: Id, direction: FormStr = ""):
    try:
        choices.move_choice(db, user, choice_id, direction)
    except NotFound:
        raise
    except DomainError as error:
        return _choices_page(request, db, user, errors={"choices": error.message}, status_code=error.status_code)
    return RedirectResponse(f"/choices?done=moved#choice-{choice_id}", status_code=303)


def _own_active_choice(db: Session, user: User, choice_id: int) -> Choice:
    p = profile.own_profile(db, user)
    choice = db.get(Choice, choice_id)
    if choice is None or choice.applicant_id != p.id or choice.status == ChoiceStatus.WITHDRAWN:
        raise NotFound(_("We could not find that choice."))
    return choice


@router.get("/choices/{choice_id}/withdraw", response_class=HTMLResponse)
def withdraw_page(request: Request, db: DbSession, user: Chooser, choice_id: Id):
    choice = _own_active_choice(db, user, choice_id)
    item = next(i for i in choices.list_choices(db, user) if i.id == choice.id)
    return render(request, "applicants/withdraw.html", {"item": item, "errors": {}})


@router.post("/choices/{choice_id}/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, db: DbSession, user: Chooser, choice_id: Id):
    _own_active_choice(db, user, choice_id)
    try:
        choices.withdraw_choice(db, user, choice_id)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        return _choices_page(request, db, user, errors={"choices": error.message}, status_code=error.status_code)
    return RedirectResponse("/choices?done=withdrawn", status_code=303)



def _scramble_page(request: Request, db: Session, user: User, *, errors: dict | None = None, done: str = "",
                   status_code: int = 200):
    notice = {"applied": _("You have applied for the unfilled place."),
              "withdrawn": _("Your application for the unfilled place has been withdrawn.")}.get(done)
    return render(request, "applicants/scramble.html", {
        "schemes": scramble.where_she_may_apply(db, user), "errors": errors or {}, "notice": notice,
    }, status_code=status_code)


@router.get("/scramble", response_class=HTMLResponse)
def scramble_page(request: Request, db: DbSession, user: Chooser, done: str = ""):
    return _scramble_page(request, db, user, done=done)


@router.post("/scramble", response_class=HTMLResponse)
def apply_in_scramble(request: Request, db: DbSession, user: Chooser, project_id: FormStr = ""):
    try:
        scramble.apply(db, user, _project_id(project_id))
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        return _scramble_page(request, db, user, errors={"project_id": error.message}, status_code=error.status_code)
    return RedirectResponse("/scramble?done=applied", status_code=303)


@router.post("/scramble/{choice_id}/withdraw", response_class=HTMLResponse)
def withdraw_in_scramble(request: Request, db: DbSession, user: Chooser, choice_id: Id):
    try:
        scramble.withdraw(db, user, choice_id)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        return _scramble_page(request, db, user, errors={"project_id": error.message},
                              status_code=error.status_code)
    return RedirectResponse("/scramble?done=withdrawn", status_code=303)
