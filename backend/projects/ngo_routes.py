"""NGO pages: the organisation's own projects, the project form (save a draft / submit), the project's
timeline with staff comments, and the completion report. Thin handlers over projects.lifecycle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from backend.core.db import DbSession
from backend.core.errors import Conflict
from backend.core.forms import Fields, FormData, day_boxes
from backend.core.i18n import gettext as _
from backend.core.params import Id, OptionalQueryId
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, organisation_id_of, require_visible
from backend.organisations.models import Organisation
from backend.projects import catalogue, lifecycle
from backend.projects.lifecycle import EDITABLE, ProjectInvalid
from backend.projects.models import Project
from backend.projects.validation import COST_FIELDS
from backend.projects.words import common_words
from backend.schemes import admin as schemes
from backend.schemes import kinds
from backend.schemes.models import Scheme
from matching.geography import CITIES

router = APIRouter(include_in_schema=False)
NgoUser = Annotated[User, require_permission(Permission.PROJECT_EDIT_OWN)]

def form_choices() -> dict:
    return dict(
        sectors=sorted(((key, str(name)) for key, name in catalogue.SECTOR_NAMES.items()), key=lambda s: s[1]),
        gba_cities=[c for c in CITIES if c.gba], other_cities=sorted((c for c in CITIES if not c.gba),
                                                                    key=lambda c: (c.region, c.name_en)),
        language_choices=[(key, str(name)) for key, name in catalogue.LANGUAGE_NAMES.items()],
        levels=[(0, _("Not required"))] + [(n, f"{n} – {name}") for n, name in catalogue.LEVEL_NAMES.items()],
        educations=[(key, str(name)) for key, name in catalogue.EDUCATION_NAMES.items()],
        cost_fields=COST_FIELDS,
    )


def cost_total(values: dict) -> int | None:
    """The breakdown's total as typed, or None while any part of it is not an amount."""
    fields = Fields(values)
    amounts = [fields.money(name, default=0) for name in COST_FIELDS]
    return None if fields.errors else sum(amounts)


def own_project(db: Session, user: User, project_id: int) -> Project:
    return require_visible(user, Permission.PROJECT_EDIT_OWN, db.get(Project, project_id))


def _form_page(request: Request, db: Session, user: User, scheme: Scheme, *, project: Project | None,
               form: dict, errors: dict, notice: str | None = None, problem: str | None = None,
               status_code: int = 200):
    return render(request, "ngo/form.html", {
        **common_words(), **form_choices(), "user": user, "scheme": scheme, "project": project, "form": form,
        "errors": errors, "notice": notice, "problem": problem, "total": cost_total(form),
        "kind_rules": kinds.rules_of(scheme),
    }, status_code=status_code)


@router.get("/ngo/projects", response_class=HTMLResponse)
def project_list(request: Request, db: DbSession, user: NgoUser):
    organisation = db.get(Organisation, organisation_id_of(user) or 0)
    projects = list(db.exec(select(Project).where(Project.organisation_id == (organisation.id if organisation else 0))
                            .order_by(col(Project.updated_at).desc(), col(Project.id).desc())))
    scheme_names = {s.id: s for s in db.exec(select(Scheme))}
    return render(request, "ngo/list.html", {
        **common_words(), "user": user, "organisation": organisation, "projects": projects, "schemes": scheme_names,
        "open_schemes": [s for s in schemes.open_for_ngos(db)
                         if organisation is None or kinds.takes_places_from(s, organisation)],
        "can_create": organisation is not None and organisation.is_verified})


@router.get("/ngo/projects/new", response_class=HTMLResponse)
def new_project(request: Request, db: DbSession, user: Annotated[User, require_permission(Permission.PROJECT_CREATE)],
                scheme_id: OptionalQueryId = 0):
    scheme = db.get(Scheme, scheme_id)
    if scheme is None:  # choose the scheme on the projects page
        return RedirectResponse("/ngo/projects", status_code=303)
    lifecycle.check_may_post(db, user, scheme)
    form = {"min_age": str(scheme.min_age), "max_age": str(scheme.max_age), "min_education": "secondary"}
    return _form_page(request, db, user, scheme, project=None, form=form, errors={})


def _save(request: Request, db: Session, user: User, scheme: Scheme, project: Project | None, data: dict):
    """Save the draft (every valid field), then submit if asked; re-render with what to fix."""
    form = {k: v for k, v in data.items() if k not in ("csrf_token", "action", "scheme_id")}
    if project is None:
        project, not_saved = lifecycle.create_draft(db, user, scheme, form)
    else:
        not_saved = lifecycle.update_draft(db, user, project, form)
    errors = dict(not_saved)
    # Something typed that could not be saved is never submitted without it: the NGO fixes it first.
    if data.get("action") == "submit" and not not_saved:
        try:
            lifecycle.submit(db, user, project)
        except ProjectInvalid as error:
            errors = {**error.errors, **errors}
        except Conflict as error:
            return _form_page(request, db, user, scheme, project=project, form=form, errors=errors,
                              problem=error.message, notice=_("Your draft has been saved."), status_code=409)
        else:
            return RedirectResponse(f"/ngo/projects/{project.id}?done=submitted", status_code=303)
    if errors:
        return _form_page(request, db, user, scheme, project=project, form=form, errors=_in_page_order(errors),
                          notice=_("Your draft has been saved. The fields shown below were not saved: fix them "
                                   "and save again.") if not_saved else _("Your draft has been saved."),
                          status_code=400)
    return RedirectResponse(f"/ngo/projects/{project.id}?done=saved", status_code=303)


def _in_page_order(errors: dict[str, str]) -> dict[str, str]:
    """The error summary in the order of the form; a date's message leads to its day box."""
    ordered = {name: errors[name] for name in _FIELD_ORDER if name in errors}
    ordered.update({k: v for k, v in errors.items() if k not in ordered})
    return day_boxes(ordered, "start_date", "end_date")


_FIELD_ORDER = ("title_en", "title_zh", "description_en", "description_zh", "host_organisation_en",
                "host_organisation_zh", "host_provides_en", "host_provides_zh", "sector", "city", "start_date", "end_date", "places_requested", "min_places",
                *COST_FIELDS, "language_putonghua", "language_english", "language_cantonese", "min_education",
                "min_age", "max_age")


@router.post("/ngo/projects/new", response_class=HTMLResponse)
def create_project(request: Request, db: DbSession,
                   user: Annotated[User, require_permission(Permission.PROJECT_CREATE)], data: FormData,
                   scheme_id: OptionalQueryId = 0):
    scheme = db.get(Scheme, scheme_id)
    if scheme is None:
        message = _("Choose a scheme from your projects page.")
        raise ProjectInvalid({"scheme_id": message}, message)
    return _save(request, db, user, scheme, None, data)


@router.get("/ngo/projects/{project_id}", response_class=HTMLResponse)
def project_page(request: Request, db: DbSession, user: NgoUser, project_id: Id, done: str = ""):
    project = own_project(db, user, project_id)
    return _project_page(request, db, user, project, notice={
        "saved": _("Your draft has been saved."),
        "submitted": _("Your project has been submitted. Home Affairs staff will assess it."),
    }.get(done))


def _project_page(request: Request, db: Session, user: User, project: Project, *, notice=None, errors=None,
                  problem=None, form=None, status_code=200):
    events = lifecycle.timeline(db, project)
    actors = {u.id: u for u in db.exec(select(User).where(col(User.id).in_([e.actor_id for e in events if e.actor_id])))}
    return render(request, "ngo/project.html", {
        **common_words(), "user": user, "project": project, "scheme": db.get(Scheme, project.scheme_id),
        "events": events, "actors": actors, "editable": project.status in EDITABLE, "notice": notice,
        "errors": errors or {}, "problem": problem, "form": form or {},
        "comments": [e for e in events if e.comment and e.to_status in ("returned", "rejected", "approved")],
    }, status_code=status_code)


@router.get("/ngo/projects/{project_id}/edit", response_class=HTMLResponse)
def edit_project(request: Request, db: DbSession, user: NgoUser, project_id: Id):
    project = own_project(db, user, project_id)
    if project.status not in EDITABLE:
        return RedirectResponse(f"/ngo/projects/{project.id}", status_code=303)
    return _form_page(request, db, user, db.get(Scheme, project.scheme_id), project=project,
                      form=lifecycle.form_values(project), errors={})


@router.post("/ngo/projects/{project_id}/edit", response_class=HTMLResponse)
def save_project(request: Request, db: DbSession, user: NgoUser, project_id: Id, data: FormData):
    project = own_project(db, user, project_id)
    return _save(request, db, user, db.get(Scheme, project.scheme_id), project, data)


@router.post("/ngo/projects/{project_id}/submit", response_class=HTMLResponse)
def submit_project(request: Request, db: DbSession, user: Annotated[User, require_permission(Permission.PROJECT_SUBMIT)],
                   project_id: Id):
    project = own_project(db, user, project_id)
    try:
        lifecycle.submit(db, user, project)
    except ProjectInvalid as error:
        return _form_page(request, db, user, db.get(Scheme, project.scheme_id), project=project,
                          form=lifecycle.form_values(project), errors=_in_page_order(error.errors),
                          problem=error.message, status_code=400)
    return RedirectResponse(f"/ngo/projects/{project.id}?done=submitted", status_code=303)
