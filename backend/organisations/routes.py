"""Pages for organisations: registration (Hong Kong NGOs and Guangdong host organisations), the organisation's own
page and invitations, and verification (NGOs by staff, Guangdong hosts by the Guangdong coordinating office)."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, func, select

from backend.accounts.routes import message_page, signed_in_redirect
from backend.core import todo
from backend.core.db import DbSession
from backend.core.errors import Conflict
from backend.core.forms import FormInvalid
from backend.core.i18n import get_language, localised, ngettext
from backend.core.i18n import gettext as _
from backend.core.params import Id
from backend.core.templating import render
from backend.identity.deps import client_address, require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, can
from backend.organisations import service, track_record
from backend.organisations.models import Organisation, OrganisationKind

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]
SIGN_UP_FIELDS = ("kind", "name_en", "name_zh", "registration_number", "contact_name", "email", "contact_phone")


def _sign_up_page(request: Request, form: dict, errors: dict, status_code: int = 200):
    return render(request, "organisations/sign_up.html", {
        "form": form, "errors": errors, "kinds": list(service.KIND_LABELS.items())}, status_code=status_code)


@router.get("/sign-up/organisation", response_class=HTMLResponse)
def sign_up_page(request: Request, kind: Annotated[OrganisationKind, Query()] = OrganisationKind.NGO):
    return _sign_up_page(request, {"kind": kind}, {})


@router.post("/sign-up/organisation", response_class=HTMLResponse)
def sign_up(request: Request, db: DbSession, kind: FormStr = OrganisationKind.NGO, name_en: FormStr = "", name_zh: FormStr = "",
            registration_number: FormStr = "", contact_name: FormStr = "", email: FormStr = "",
            contact_phone: FormStr = "", password: FormStr = ""):
    form = dict(kind=kind, name_en=name_en, name_zh=name_zh, registration_number=registration_number,
                contact_name=contact_name, email=email, contact_phone=contact_phone)
    try:
        user, _organisation = service.sign_up_organisation(db, **form, password=password, language=get_language(),
                                                           client_address=client_address(request))
    except FormInvalid as error:
        return _sign_up_page(request, form, error.errors, status_code=400)
    return signed_in_redirect(db, request, user, "/organisation?done=registered")


def _organisation_page(request: Request, db, user: User, *, errors=None, form=None, notice=None, status_code=200):
    organisation = service.own_organisation(db, user)
    return render(request, "organisations/organisation.html", {
        "user": user, "organisation": organisation, "members": service.members(db, organisation),
        "invitations": service.pending_invitations(db, organisation), "errors": errors or {}, "form": form or {},
        "notice": notice}, status_code=status_code)


@router.get("/organisation", response_class=HTMLResponse)
def organisation_page(request: Request, db: DbSession,
                      user: Annotated[User, require_permission(Permission.ORGANISATION_VIEW_OWN)], done: str = ""):
    organisation = service.own_organisation(db, user)
    notice = {"registered": _("Your organisation has been registered. The Guangdong coordinating office will verify "
                              "it.") if organisation.is_guangdong_host else
              _("Your organisation has been registered. Home Affairs staff will verify it."),
              "invited": _("The invitation has been sent.")}.get(done)
    return _organisation_page(request, db, user, notice=notice)


@router.post("/organisation/invitations", response_class=HTMLResponse)
def invite(request: Request, db: DbSession,
           user: Annotated[User, require_permission(Permission.ORGANISATION_MANAGE_MEMBERS)], email: FormStr = ""):
    try:
        service.invite(db, user, service.own_organisation(db, user), email)
    except FormInvalid as error:
        return _organisation_page(request, db, user, errors=error.errors, form={"email": email}, status_code=400)
    return RedirectResponse("/organisation?done=invited", status_code=303)


@router.get("/invitations/{token}", response_class=HTMLResponse)
def invitation_page(request: Request, db: DbSession, token: str):
    invitation, organisation = service.invitation(db, token)
    return render(request, "organisations/invitation.html", {"token": token, "invitation": invitation,
                                                             "organisation": organisation, "form": {}, "errors": {}})


@router.post("/invitations/{token}", response_class=HTMLResponse)
def accept_invitation(request: Request, db: DbSession, token: str, display_name: FormStr = "",
                      password: FormStr = ""):
    try:
        user = service.accept_invitation(db, token, display_name=display_name, password=password,
                                         language=get_language())
    except FormInvalid as error:
        invitation, organisation = service.invitation(db, token)
        return render(request, "organisations/invitation.html", {
            "token": token, "invitation": invitation, "organisation": organisation,
            "form": {"display_name": display_name}, "errors": error.errors}, status_code=400)
    except Conflict as error:
        return message_page(request, _("You already have an account"), error.message,
                            link=("/sign-in", _("Sign in")), status_code=409)
    return signed_in_redirect(db, request, user, "/organisation")


@router.get("/staff/organisations", response_class=HTMLResponse)
def staff_list(request: Request, db: DbSession,
               user: Annotated[User, require_permission(Permission.ORGANISATION_VIEW_ALL)], done: str = ""):
    verified = service.list_organisations(db, user, awaiting_verification=False)
    hosts = service.list_organisations(db, user, kind=OrganisationKind.GUANGDONG_HOST)
    return render(request, "organisations/staff_list.html", {
        "user": user, "awaiting": service.list_organisations(db, user, awaiting_verification=True),
        "hosts_awaiting": sum(1 for h in hosts if not h.is_verified), "hosts": [h for h in hosts if h.is_verified],
        "verified": verified, "track_records": track_record.track_record(db, [o.id for o in verified]),
        "notice": _("The organisation has been verified.") if done == "verified" else None})


@router.post("/staff/organisations/{organisation_id}/verify", response_class=HTMLResponse)
def verify(request: Request, db: DbSession,
           user: Annotated[User, require_permission(Permission.ORGANISATION_VERIFY)], organisation_id: Id,
           confirmed: FormStr = ""):
    """Without `confirmed=yes` the confirmation page (what verifying lets the organisation do); then verifying."""
    return _verify(request, db, user, organisation_id, confirmed, back="/staff/organisations")


def _verify(request: Request, db: Session, user: User, organisation_id: int, confirmed: str, *, back: str):
    """Without `confirmed=yes` the confirmation page (what verifying lets the organisation do); then verifying."""
    organisation = service.verifiable(db, user, organisation_id)
    if confirmed != "yes" and not organisation.is_verified:
        people = len(service.members(db, organisation))
        lines = [
            _("Check first that registration number %(number)s belongs to %(name)s.",
              number=organisation.registration_number, name=localised(organisation, "name")),
            ngettext("Its %(num)s member can then offer internship places that young people see.",
                     "Its %(num)s members can then offer internship places that young people see.", people)
            if organisation.is_guangdong_host else
            ngettext("Its %(num)s member can then apply for funding and post projects that young people see.",
                     "Its %(num)s members can then apply for funding and post projects that young people see.",
                     people),
            _("The verification is recorded in the audit log under your name."),
        ]
        return render(request, "confirm.html", {
            "heading": _("Verify this organisation?"), "caption": localised(organisation, "name"), "lines": lines,
            "action": request.url.path, "confirm_label": _("Yes, verify it"),
            "cancel_href": back, "cancel_label": _("Go back without verifying"), "warning": False})
    service.verify(db, user, organisation_id)
    return RedirectResponse(f"{back}?done=verified", status_code=303)


@router.get("/guangdong-office/hosts", response_class=HTMLResponse)
def host_list(request: Request, db: DbSession,
              user: Annotated[User, require_permission(Permission.HOST_VERIFY)], done: str = ""):
    awaiting, verified = service.list_hosts(db, user)
    return render(request, "guangdong_office/hosts.html", {
        "user": user, "awaiting": awaiting, "verified": verified,
        "notice": _("The host organisation has been verified. It can now offer places.") if done == "verified"
        else None})


@router.post("/guangdong-office/hosts/{host_id}/verify", response_class=HTMLResponse)
def verify_host(request: Request, db: DbSession,
                user: Annotated[User, require_permission(Permission.HOST_VERIFY)], host_id: Id,
                confirmed: FormStr = ""):
    return _verify(request, db, user, host_id, confirmed, back="/guangdong-office/hosts")


def _todo(db: Session, user: User) -> list[todo.TodoItem]:
    if not can(user, Permission.ORGANISATION_VERIFY):
        return []
    waiting = db.exec(select(func.count(col(Organisation.id))).where(
        col(Organisation.verified_at).is_(None), Organisation.kind == OrganisationKind.NGO)).one()
    return [todo.TodoItem("organisations.verify", _("Organisations to verify"), int(waiting), "/staff/organisations",
                          _("Check each registration number, then verify."), order=30)]


todo.register("organisations", _todo)
