"""Staff pages for funding schemes: the list, create and edit (schemes.admin), and each scheme's dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from backend.core.db import DbSession
from backend.core.forms import FormData, day_boxes
from backend.core.i18n import gettext as _
from backend.core.params import Id
from backend.core.templating import render
from backend.identity.deps import client_address, require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.projects import portfolio
from backend.projects.portfolio_routes import binding_lines
from backend.projects.words import common_words
from backend.schemes import admin, kinds, lottery, payments, timetable
from backend.schemes.admin import SchemeForm, SchemeInvalid
from matching.geography import REGIONS

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, require_permission(Permission.PROJECT_VIEW_ALL)]
Manager = Annotated[User, require_permission(Permission.SCHEME_MANAGE)]


@router.get("/staff/schemes", response_class=HTMLResponse)
def scheme_list(request: Request, db: DbSession, user: StaffUser, done: str = ""):
    return render(request, "schemes/list.html", {
        "user": user, "dashboards": [admin.dashboard(db, s) for s in admin.all_schemes(db)],
        "notice": _("The scheme has been created.") if done == "created" else None})


def _form_page(request: Request, db: Session, user: User, form: SchemeForm, *, scheme=None, errors=None,
               status_code=200):
    return render(request, "schemes/form.html", {
        "user": user, "scheme": scheme, "form": form, "errors": errors or {}, "regions": REGIONS,
        "kinds": list(kinds.RULES.values()),
        "kind_options": [(str(rules.kind), rules.name) for rules in kinds.RULES.values()],
    }, status_code=status_code)


@router.get("/staff/schemes/new", response_class=HTMLResponse)
def new_scheme(request: Request, db: DbSession, user: Manager):
    return _form_page(request, db, user, admin.blank_form())


@router.post("/staff/schemes/new", response_class=HTMLResponse)
def create_scheme(request: Request, db: DbSession, user: Manager, data: FormData):
    form = admin.read_form(data)
    try:
        scheme = admin.create_scheme(db, user, form)
    except SchemeInvalid as error:
        return _form_page(request, db, user, form, errors=day_boxes(error.errors, *admin.DATE_FIELDS), status_code=400)
    return RedirectResponse(f"/staff/schemes/{scheme.id}?done=created", status_code=303)


@router.get("/staff/schemes/{scheme_id}", response_class=HTMLResponse)
def scheme_dashboard(request: Request, db: DbSession, user: StaffUser, scheme_id: Id, done: str = ""):
    scheme = admin.get_scheme(db, scheme_id)
    return render(request, "schemes/dashboard.html", {
        **common_words(), "user": user, "dashboard": admin.dashboard(db, scheme), "scheme": scheme,
        "criteria": admin.criteria_of(db, scheme), "money": payments.scheme_money(db, scheme),
        "kind_rules": kinds.rules_of(scheme),
        "timetable": timetable.steps(scheme), "what_binds": binding_lines(portfolio.shown(db, scheme).analysis),
        "lottery": lottery.published(scheme), "lottery_drawable": lottery.drawable(scheme),
        "notice": {"created": _("The scheme has been created."), "saved": _("The scheme has been saved."),
                   "seed_drawn": _("The lottery seed has been drawn. Its commitment is published; the seed itself is "
                                   "revealed on match day.")}.get(done)})


@router.post("/staff/schemes/{scheme_id}/lottery-seed", response_class=HTMLResponse)
def draw_lottery_seed(request: Request, db: DbSession, user: Manager, scheme_id: Id):
    lottery.draw(db, user, admin.get_scheme(db, scheme_id), client_address=client_address(request))
    return RedirectResponse(f"/staff/schemes/{scheme_id}?done=seed_drawn#lottery", status_code=303)


@router.get("/staff/schemes/{scheme_id}/edit", response_class=HTMLResponse)
def edit_scheme(request: Request, db: DbSession, user: Manager, scheme_id: Id):
    scheme = admin.get_scheme(db, scheme_id)
    return _form_page(request, db, user, admin.form_of(db, scheme), scheme=scheme)


@router.post("/staff/schemes/{scheme_id}/edit", response_class=HTMLResponse)
def save_scheme(request: Request, db: DbSession, user: Manager, scheme_id: Id, data: FormData):
    scheme = admin.get_scheme(db, scheme_id)
    form = admin.read_form(data)
    try:
        admin.update_scheme(db, user, scheme.id, form)
    except SchemeInvalid as error:
        return _form_page(request, db, user, form, scheme=scheme, errors=day_boxes(error.errors, *admin.DATE_FIELDS), status_code=400)
    return RedirectResponse(f"/staff/schemes/{scheme.id}?done=saved", status_code=303)
