"""Staff pages for paying grants: a scheme's payments, what is due, proposing, approving and refusing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, func, select

from backend.core import todo
from backend.core.db import DbSession
from backend.core.errors import Conflict, Forbidden
from backend.core.formatting import hkd
from backend.core.forms import FormData
from backend.core.i18n import gettext as _
from backend.core.i18n import localised
from backend.core.params import Id
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, can
from backend.schemes import admin, payments
from backend.schemes.models import GrantPayment, PaymentStatus, PaymentTranche, Scheme

router = APIRouter(include_in_schema=False)
Viewer = Annotated[User, require_permission(Permission.PAYMENT_VIEW)]
Proposer = Annotated[User, require_permission(Permission.PAYMENT_PROPOSE)]
Approver = Annotated[User, require_permission(Permission.PAYMENT_APPROVE)]
Manager = Annotated[User, require_permission(Permission.SCHEME_MANAGE)]

NOTICES = {
    "proposed": lambda: _("The payment has been proposed. Another person must approve it."),
    "paid": lambda: _("The payment has been approved and paid."),
    "refused": lambda: _("The payment has been refused."),
    "terms": lambda: _("The payment terms have been saved."),
}


def _page(request: Request, db: Session, user: User, scheme: Scheme, *, errors=None, form=None, problem=None,
          notice=None, status_code=200):
    dues = payments.due_now(db, scheme.id)
    projects = payments.funded_projects(db, scheme.id)
    return render(request, "schemes/payments.html", {
        "user": user, "scheme": scheme, "money": payments.scheme_money(db, scheme),
        "terms": payments.terms_of(db, scheme.id), "dues": dues, "lines": payments.payments_of(db, scheme.id),
        "project_options": [("", _("Choose a project"))] + [(p.id, f"{p.id} – {localised(p, 'title')}") for p in projects],
        "tranche_options": [("", _("Choose a tranche"))] + [(t.value, payments.tranche_name(t)) for t in PaymentTranche],
        "tranche_name": payments.tranche_name, "payment_status_name": payments.payment_status_name,
        "errors": errors or {}, "form": form or {}, "problem": problem, "notice": notice,
    }, status_code=status_code)


@router.get("/staff/schemes/{scheme_id}/payments", response_class=HTMLResponse)
def payments_page(request: Request, db: DbSession, user: Viewer, scheme_id: Id, done: str = ""):
    scheme = admin.get_scheme(db, scheme_id)
    notice = NOTICES.get(done)
    return _page(request, db, user, scheme, notice=notice() if notice else None)


@router.post("/staff/schemes/{scheme_id}/payments", response_class=HTMLResponse)
def propose_page(request: Request, db: DbSession, user: Proposer, scheme_id: Id, data: FormData):
    scheme = admin.get_scheme(db, scheme_id)
    try:
        payments.propose(db, user, scheme, data)
    except payments.PaymentInvalid as error:
        return _page(request, db, user, scheme, errors=error.errors, form=data, status_code=400)
    except Conflict as error:
        field = error.details.get("field")
        errors = {field: error.message} if field else None
        return _page(request, db, user, scheme, errors=errors, form=data, problem=None if field else error.message,
                     status_code=409)
    return RedirectResponse(f"/staff/schemes/{scheme.id}/payments?done=proposed", status_code=303)


@router.post("/staff/schemes/{scheme_id}/payment-terms", response_class=HTMLResponse)
def terms_page(request: Request, db: DbSession, user: Manager, scheme_id: Id, data: FormData):
    scheme = admin.get_scheme(db, scheme_id)
    try:
        payments.set_terms(db, user, scheme, data)
    except payments.PaymentInvalid as error:
        return _page(request, db, user, scheme, errors=error.errors, form=data, status_code=400)
    return RedirectResponse(f"/staff/schemes/{scheme.id}/payments?done=terms", status_code=303)


def _decide(request: Request, db: Session, user: User, payment_id: int, action) -> object:
    payment = payments.get_payment(db, user, payment_id)
    try:
        action(db, user, payment)
    except (Conflict, Forbidden) as error:
        scheme = admin.get_scheme(db, payment.scheme_id)
        return _page(request, db, user, scheme, problem=error.message, status_code=error.status_code)
    done = "paid" if action is payments.approve else "refused"
    return RedirectResponse(f"/staff/schemes/{payment.scheme_id}/payments?done={done}", status_code=303)


@router.post("/staff/payments/{payment_id}/approve", response_class=HTMLResponse)
def approve_page(request: Request, db: DbSession, user: Approver, payment_id: Id):
    return _decide(request, db, user, payment_id, payments.approve)


@router.post("/staff/payments/{payment_id}/refuse", response_class=HTMLResponse)
def refuse_page(request: Request, db: DbSession, user: Approver, payment_id: Id):
    return _decide(request, db, user, payment_id, payments.refuse)


def _todo(db: Session, user: User) -> list[todo.TodoItem]:
    """Approvers: grant payments another officer proposed, with the money they hold."""
    if not can(user, Permission.PAYMENT_APPROVE):
        return []
    rows = db.exec(select(GrantPayment.scheme_id, func.count(col(GrantPayment.id)), func.sum(GrantPayment.amount_hkd))
                   .where(GrantPayment.status == PaymentStatus.PROPOSED).group_by(col(GrantPayment.scheme_id))
                   .order_by(col(GrantPayment.scheme_id))).all()
    count, amount = sum(int(n) for _s, n, _a in rows), sum(int(a or 0) for _s, _n, a in rows)
    href = f"/staff/schemes/{rows[0][0]}/payments" if rows else "/staff/schemes"
    return [todo.TodoItem("payments.approve", _("Grant payments awaiting approval"), count, href,
                          _("%(amount)s in all.", amount=hkd(amount)), order=50)]


todo.register("payments", _todo)
