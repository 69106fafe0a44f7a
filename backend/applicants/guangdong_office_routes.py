"""The Guangdong coordinating office's pages: the Guangdong participants awaiting its confirmation (confirm, or
refuse with a reason the applicant reads) and the cohorts of the programmes that admit Guangdong youth.

The rules and the tenancy (Guangdong applicants only, never Hong Kong ones) are in
`applicants.origin_confirmation`; these handlers only read forms and render.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from backend.applicants import origin_confirmation
from backend.core.db import DbSession
from backend.core.errors import DomainError
from backend.core.formatting import city_name
from backend.core.forms import FormInvalid
from backend.core.i18n import gettext as _
from backend.core.params import Id
from backend.core.templating import render
from backend.identity.deps import client_address, require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission

router = APIRouter(include_in_schema=False)
Office = Annotated[User, require_permission(Permission.ORIGIN_CONFIRM)]
CohortReader = Annotated[User, require_permission(Permission.GUANGDONG_COHORTS_VIEW)]
FormStr = Annotated[str, Form()]


def _participants_page(request: Request, db, user: User, *, errors: dict | None = None, typed: dict | None = None,
                       notice: str | None = None, status_code: int = 200):
    return render(request, "guangdong_office/participants.html", {
        "awaiting": origin_confirmation.list_awaiting(db, user), "errors": errors or {}, "typed": typed or {},
        "notice": notice, "reason_max": origin_confirmation.REFUSAL_REASON_MAX,
        "nominations": origin_confirmation.list_nominations(db, user),
        "cities": [(city, city_name(city)) for city in origin_confirmation.GUANGDONG_CITIES]},
        status_code=status_code)


@router.get("/guangdong-office/participants", response_class=HTMLResponse)
def participants(request: Request, db: DbSession, user: Office, done: str = ""):
    notice = {"confirmed": _("The applicant has been confirmed as a Guangdong participant."),
              "refused": _("The applicant has been refused. She will see your reason on her status page."),
              "nominated": _("The participant has been nominated. She is confirmed as soon as she signs up with that "
                             "e-mail address and declares she is from Guangdong.")}.get(done)
    return _participants_page(request, db, user, notice=notice)


@router.post("/guangdong-office/participants/{participant_id}/confirm", response_class=HTMLResponse)
def confirm(request: Request, db: DbSession, user: Office, participant_id: Id):
    try:
        origin_confirmation.confirm(db, user, participant_id, client_address=client_address(request))
    except DomainError as error:
        if error.status_code == 404:
            raise
        return _participants_page(request, db, user, errors={"awaiting": error.message},
                                  status_code=error.status_code)
    return RedirectResponse("/guangdong-office/participants?done=confirmed", status_code=303)


@router.post("/guangdong-office/participants/{participant_id}/refuse", response_class=HTMLResponse)
def refuse(request: Request, db: DbSession, user: Office, participant_id: Id, reason: FormStr = ""):
    try:
        origin_confirmation.refuse(db, user, participant_id, reason, client_address=client_address(request))
    except FormInvalid as error:
        return _participants_page(request, db, user,
                                  errors={f"reason-{participant_id}": message for message in error.errors.values()},
                                  typed={participant_id: reason}, status_code=400)
    except DomainError as error:
        if error.status_code == 404:
            raise
        return _participants_page(request, db, user, errors={"awaiting": error.message},
                                  status_code=error.status_code)
    return RedirectResponse("/guangdong-office/participants?done=refused", status_code=303)


@router.post("/guangdong-office/nominations", response_class=HTMLResponse)
def nominate(request: Request, db: DbSession, user: Office, email: FormStr = "", guangdong_city: FormStr = ""):
    try:
        origin_confirmation.nominate(db, user, email, guangdong_city, client_address=client_address(request))
    except FormInvalid as error:
        return _participants_page(request, db, user, errors=error.errors,
                                  typed={"email": email, "guangdong_city": guangdong_city}, status_code=400)
    return RedirectResponse("/guangdong-office/participants?done=nominated#nominations", status_code=303)


@router.get("/guangdong-office/cohorts", response_class=HTMLResponse)
def cohorts(request: Request, db: DbSession, user: CohortReader):
    return render(request, "guangdong_office/cohorts.html", {"cohorts": origin_confirmation.list_cohorts(db, user)})
