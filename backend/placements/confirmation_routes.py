"""Pages for interns' confirmations: the intern's form (after the internship) and staff's list of mismatches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from backend.core.db import DbSession
from backend.core.forms import FormData
from backend.core.i18n import gettext as _
from backend.core.params import Id
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.placements import confirmations
from backend.placements.models import Received

router = APIRouter(include_in_schema=False)
Intern = Annotated[User, require_permission(Permission.PLACEMENT_RESPOND)]
Staff = Annotated[User, require_permission(Permission.PROJECT_VIEW_ALL)]


def _form_page(request: Request, db: Session, user: User, placement_id: int, *, errors=None, notice=None,
               problem=None, status_code=200):
    owed = confirmations.owed_one(db, user, placement_id)
    return render(request, "offers/confirmation.html", {
        **confirmations.words(), "user": user, "owed": owed, "form": confirmations.draft_values(owed), "errors": errors or {},
        "notice": notice, "problem": problem,
        "received_options": [(r.value, confirmations.received_name(r)) for r in Received],
        "rating_options": [(str(n), str(n)) for n in range(5, 0, -1)]}, status_code=status_code)


@router.get("/status/confirmations/{internship_id}", response_class=HTMLResponse)
def confirmation_page(request: Request, db: DbSession, user: Intern, internship_id: Id, done: str = ""):
    notice = {"saved": _("Your answers are saved. You can finish and send them later."),
              "sent": _("Thank you: your answers have been sent.")}.get(done)
    return _form_page(request, db, user, internship_id, notice=notice)


@router.post("/status/confirmations/{internship_id}", response_class=HTMLResponse)
def save_confirmation(request: Request, db: DbSession, user: Intern, internship_id: Id, data: FormData):
    send = data.get("action") == "send"
    try:
        confirmations.save(db, user, internship_id, data, send=send)
    except confirmations.ConfirmationInvalid as error:
        return _form_page(request, db, user, internship_id, errors=error.errors,
                          problem=None if error.errors else error.message, status_code=400)
    return RedirectResponse(f"/status/confirmations/{internship_id}?done={'sent' if send else 'saved'}",
                            status_code=303)


@router.get("/staff/confirmations", response_class=HTMLResponse)
def mismatches_page(request: Request, db: DbSession, user: Staff):
    return render(request, "offers/staff_confirmations.html", {
        **confirmations.words(), "user": user, "mismatches": confirmations.mismatches(db, user)})
