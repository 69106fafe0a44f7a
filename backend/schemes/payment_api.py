"""Grant payments as JSON: a scheme's payments and figures, proposing a tranche, approving or refusing one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.params import BodyId, Id
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.schemes import admin, payments
from backend.schemes.models import GrantPayment

router = APIRouter(tags=["payments"], responses=error_responses(403))
Viewer = Annotated[User, require_permission(Permission.PAYMENT_VIEW)]
Proposer = Annotated[User, require_permission(Permission.PAYMENT_PROPOSE)]
Approver = Annotated[User, require_permission(Permission.PAYMENT_APPROVE)]


class PaymentOut(BaseModel):
    id: int
    scheme_id: int
    project_id: int
    organisation_id: int
    tranche: str = Field(description="advance, balance or recovery (money paid back by the organisation)")
    amount_hkd: int
    basis: str
    note: str
    status: str = Field(description="proposed, paid or refused")
    proposed_by_id: int | None
    proposed_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None


class DueOut(BaseModel):
    project_id: int
    tranche: str
    amount_hkd: int
    basis: str


class MoneyOut(BaseModel):
    budget_hkd: int
    committed_hkd: int = Field(description="Granted to the scheme's funded projects")
    paid_hkd: int = Field(description="Advances and balances paid")
    recovered_hkd: int = Field(description="Paid back by organisations")
    awaiting_approval_hkd: int


class SchemePaymentsOut(BaseModel):
    money: MoneyOut
    advance_percent: int
    due: list[DueOut]
    payments: list[PaymentOut]


class ProposalIn(BaseModel):
    project_id: BodyId | None = None
    tranche: str | None = Field(default=None, description="advance, balance or recovery")
    note: str = ""


def payment_out(payment: GrantPayment) -> PaymentOut:
    data = {name: getattr(payment, name) for name in PaymentOut.model_fields}
    return PaymentOut(**{**data, "tranche": str(payment.tranche), "status": str(payment.status)})


@router.get("/schemes/{scheme_id}/payments", response_model=SchemePaymentsOut, responses=error_responses(404))
def scheme_payments(db: DbSession, user: Viewer, scheme_id: Id):
    scheme = admin.get_scheme(db, scheme_id)
    money = payments.scheme_money(db, scheme)
    return SchemePaymentsOut(
        money=MoneyOut(budget_hkd=money.budget, committed_hkd=money.committed, paid_hkd=money.paid,
                       recovered_hkd=money.recovered, awaiting_approval_hkd=money.awaiting),
        advance_percent=payments.terms_of(db, scheme.id).advance_percent,
        due=[DueOut(project_id=d.project.id, tranche=str(d.tranche), amount_hkd=d.amount, basis=d.basis)
             for d in payments.due_now(db, scheme.id)],
        payments=[payment_out(line.payment) for line in payments.payments_of(db, scheme.id)])


@router.post("/schemes/{scheme_id}/payments", response_model=PaymentOut, status_code=201,
             responses=error_responses(400, 404, 409))
def propose_payment(db: DbSession, user: Proposer, scheme_id: Id, body: ProposalIn):
    scheme = admin.get_scheme(db, scheme_id)
    raw = {"project_id": "" if body.project_id is None else str(body.project_id), "tranche": body.tranche or "",
           "note": body.note}
    return payment_out(payments.propose(db, user, scheme, raw))


@router.post("/payments/{payment_id}/approve", response_model=PaymentOut, responses=error_responses(404, 409))
def approve_payment(db: DbSession, user: Approver, payment_id: Id):
    return payment_out(payments.approve(db, user, payments.get_payment(db, user, payment_id)))


@router.post("/payments/{payment_id}/refuse", response_model=PaymentOut, responses=error_responses(404, 409))
def refuse_payment(db: DbSession, user: Approver, payment_id: Id):
    return payment_out(payments.refuse(db, user, payments.get_payment(db, user, payment_id)))
