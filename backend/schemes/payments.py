"""Paying grants in tranches: what is due, four-eyes approval, and a tranche paid once whatever the race.

A scheme's terms (`SchemePaymentTerms`) say what share of a project's grant is advanced when it is approved;
the balance is paid pro rata to the interns who completed, once the completion report is accepted, and when
the advance was more than that earned, the difference is recovered from the organisation.

This module is the one owner of `GrantPayment.status` (proposed → paid or refused; a refused tranche may be
proposed again). Each project has at most one row per tranche (a unique constraint the database decides), so a
retry or a second officer proposing the same tranche finds the first; approving is a conditional UPDATE, so of
two approvers paying the same tranche at once exactly one pays and the other is told it is already paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.core import states
from backend.core.db import utcnow
from backend.core.errors import Conflict, InvalidTransition, NotFound
from backend.core.forms import Fields, FormInvalid
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.identity.models import User
from backend.identity.permissions import Permission, require, require_different_person
from backend.organisations.models import Organisation
from backend.placements.models import Placement, PlacementStatus
from backend.projects.models import CompletionReport, CompletionReportStatus, Project
from backend.schemes.facts import FUNDED_STATUSES, funding_granted
from backend.schemes.models import GrantPayment, PaymentStatus, PaymentTranche, Scheme, SchemePaymentTerms

S, T = PaymentStatus, PaymentTranche
TRANSITIONS: states.Transitions = {
    S.PROPOSED: frozenset({S.PAID, S.REFUSED}),
    S.REFUSED: frozenset({S.PROPOSED}),
    S.PAID: frozenset(),
}
DEFAULT_ADVANCE_PERCENT = 50
NOTE_MAX = 500
FINAL_TRANCHES = (T.BALANCE, T.RECOVERY)

TRANCHE_NAMES = {
    T.ADVANCE: lazy_gettext("Advance on approval"),
    T.BALANCE: lazy_gettext("Balance on completion"),
    T.RECOVERY: lazy_gettext("Recovery of unspent money"),
}
STATUS_NAMES = {
    S.PROPOSED: lazy_gettext("Awaiting approval"),
    S.PAID: lazy_gettext("Paid"),
    S.REFUSED: lazy_gettext("Refused"),
}


def tranche_name(tranche: str) -> str:
    return str(TRANCHE_NAMES.get(PaymentTranche(tranche), tranche))


def payment_status_name(status: str) -> str:
    return str(STATUS_NAMES.get(PaymentStatus(status), status))


class PaymentInvalid(FormInvalid):
    code = "payment_invalid"


# --- the scheme's terms --------------------------------------------------------------------------------------

def terms_of(session: Session, scheme_id: int) -> SchemePaymentTerms:
    """The scheme's terms; a scheme that never set them advances DEFAULT_ADVANCE_PERCENT (not stored)."""
    stored = session.exec(select(SchemePaymentTerms).where(SchemePaymentTerms.scheme_id == scheme_id)).first()
    return stored or SchemePaymentTerms(scheme_id=scheme_id, advance_percent=DEFAULT_ADVANCE_PERCENT)


def set_terms(session: Session, actor: User, scheme: Scheme, raw: Mapping[str, str]) -> SchemePaymentTerms:
    require(actor, Permission.SCHEME_MANAGE)
    fields = Fields(raw)
    percent = fields.whole("advance_percent", 0, 100, required=_("Enter the advance as a percentage from 0 to 100."),
                           message=_("Enter the advance as a whole percentage from 0 to 100."))
    fields.raise_if_invalid(_("Check the payment terms."), PaymentInvalid)
    terms = terms_of(session, scheme.id)
    before = terms.advance_percent
    terms.advance_percent = percent
    session.add(terms)
    session.flush()
    audit.record(session, actor, "scheme.payment_terms_changed", "scheme", scheme.id,
                 before={"advance_percent": before}, after={"advance_percent": percent})
    return terms


# --- what is due ---------------------------------------------------------------------------------------------

def completed_interns(session: Session, project: Project) -> int | None:
    """How many interns completed the project, once its completion report is accepted; None before that.

    THE one place the final tranche learns this: the interns whose recorded outcome is "completed"
    (`PlacementStatus.COMPLETED`, set by `placements.offers.record_outcome`). The completion report's figures
    are counted from the same outcomes (projects/completion.py), and they cannot change once it is sent.
    """
    accepted = session.exec(select(CompletionReport.id).where(
        CompletionReport.project_id == project.id,
        CompletionReport.status == CompletionReportStatus.ACCEPTED)).first()
    if accepted is None:
        return None
    return int(session.exec(select(func.count()).select_from(Placement).where(
        Placement.project_id == project.id, Placement.status == PlacementStatus.COMPLETED)).one())


@dataclass(frozen=True)
class Due:
    project: Project
    tranche: PaymentTranche
    amount: int
    basis: str


def _rows(session: Session, project_id: int) -> dict[PaymentTranche, GrantPayment]:
    rows = session.exec(select(GrantPayment).where(GrantPayment.project_id == project_id)
                        .execution_options(populate_existing=True)).all()
    return {PaymentTranche(row.tranche): row for row in rows}


def _live(row: GrantPayment | None) -> bool:
    return row is not None and row.status != S.REFUSED


def amount_due(session: Session, project: Project, tranche: PaymentTranche, *,
               rows: dict[PaymentTranche, GrantPayment] | None = None, advance_percent: int | None = None) -> Due | str:
    """What `tranche` of the project comes to now, or the reason it is not due (whatever rows exist for it).

    `rows` (the project's payments by tranche) and `advance_percent` may be passed in by a caller that has
    already read them for many projects at once.
    """
    rows = _rows(session, project.id) if rows is None else rows
    grant = project.funding_granted
    if project.status not in FUNDED_STATUSES or grant <= 0:
        return _("The project has no grant to pay.")
    if tranche == T.ADVANCE:
        percent = terms_of(session, project.scheme_id).advance_percent if advance_percent is None else advance_percent
        if any(_live(rows.get(final)) for final in FINAL_TRANCHES):
            return _("The final payment has already been proposed, so no advance is due.")
        amount = grant * percent // 100
        if amount <= 0:
            return _("The scheme pays no advance.")
        return Due(project, tranche, amount, _("%(percent)s%% of the HK$%(grant)s granted", percent=percent,
                                               grant=f"{grant:,}"))
    completed = completed_interns(session, project)
    if completed is None:
        return _("The completion report has not been accepted yet.")
    advance = rows.get(T.ADVANCE)
    if advance is not None and advance.status == S.PROPOSED:
        return _("The advance is still awaiting approval.")
    advanced = advance.amount_hkd if advance is not None and advance.status == S.PAID else 0
    earned = completed * (project.subsidy_granted_per_place or 0)
    difference = earned - advanced
    basis = _("%(n)s interns completed × HK$%(each)s, less HK$%(advanced)s advanced", n=completed,
              each=f"{project.subsidy_granted_per_place or 0:,}", advanced=f"{advanced:,}")
    if tranche == T.BALANCE:
        return Due(project, tranche, difference, basis) if difference > 0 else _("No balance is due.")
    return Due(project, tranche, -difference, basis) if difference < 0 else _("Nothing is to be recovered.")


def funded_projects(session: Session, scheme_id: int) -> list[Project]:
    return list(session.exec(select(Project).where(Project.scheme_id == scheme_id,
                                                   col(Project.status).in_(FUNDED_STATUSES))
                             .order_by(Project.id)).all())


def due_now(session: Session, scheme_id: int) -> list[Due]:
    """Every tranche of the scheme's funded projects that may be proposed now (nothing live for it yet)."""
    percent = terms_of(session, scheme_id).advance_percent
    by_project: dict[int, dict[PaymentTranche, GrantPayment]] = {}
    for row in session.exec(select(GrantPayment).where(GrantPayment.scheme_id == scheme_id)).all():
        by_project.setdefault(row.project_id, {})[PaymentTranche(row.tranche)] = row
    dues = []
    for project in funded_projects(session, scheme_id):
        rows = by_project.get(project.id, {})
        for tranche in PaymentTranche:
            if _live(rows.get(tranche)):
                continue
            due = amount_due(session, project, tranche, rows=rows, advance_percent=percent)
            if isinstance(due, Due):
                dues.append(due)
    return dues


# --- propose, approve, refuse --------------------------------------------------------------------------------

def propose(session: Session, actor: User, scheme: Scheme, raw: Mapping[str, str]) -> GrantPayment:
    """An officer proposes a tranche (`project_id`, `tranche`, `note`); the amount is worked out here.

    A retry of the same proposal returns the payment already proposed; a tranche already proposed by someone
    else, or paid, is refused. The unique key (project, tranche) settles two officers proposing at once.
    """
    require(actor, Permission.PAYMENT_PROPOSE)
    fields = Fields(raw)
    project_ids = {str(project.id) for project in funded_projects(session, scheme.id)}
    project_id = fields.choice("project_id", project_ids, required=_("Choose the project to pay."),
                               message=_("Choose a funded project of this scheme."))
    tranche = fields.choice("tranche", PaymentTranche, required=_("Choose the tranche to pay."))
    note = fields.text("note", max_length=NOTE_MAX)
    project = session.get(Project, int(project_id)) if project_id else None
    due = amount_due(session, project, PaymentTranche(tranche)) if project and tranche else None
    if isinstance(due, str):
        fields.fail("tranche", due)
    fields.raise_if_invalid(_("Check the payment."), PaymentInvalid)

    existing = _rows(session, project.id).get(due.tranche)
    if existing is not None and existing.status != S.REFUSED:
        return _already(existing, actor, due)
    if existing is not None:  # refused earlier: proposed again, with today's figures
        if not states.move_if(session, GrantPayment, existing.id, TRANSITIONS, S.PROPOSED,
                              where=[col(GrantPayment.status) == S.REFUSED], amount_hkd=due.amount,
                              basis=due.basis[:300], note=note or "", proposed_by_id=actor.id,
                              proposed_at=utcnow(), decided_by_id=None, decided_at=None):
            session.refresh(existing)
            return _already(existing, actor, due)
        payment = existing
        session.refresh(payment)
    else:
        payment = GrantPayment(scheme_id=scheme.id, project_id=project.id, organisation_id=project.organisation_id,
                               tranche=due.tranche, amount_hkd=due.amount, basis=due.basis[:300], note=note or "",
                               status=S.PROPOSED, proposed_by_id=actor.id)
        try:
            with session.begin_nested():
                session.add(payment)
                session.flush()
        except IntegrityError:
            existing = _rows(session, project.id).get(due.tranche)
            if existing is None:
                raise
            return _already(existing, actor, due)
    audit.record(session, actor, "payment.proposed", "grant_payment", payment.id,
                 after={"project_id": project.id, "tranche": due.tranche, "amount_hkd": due.amount})
    return payment


def _already(existing: GrantPayment, actor: User, due: Due) -> GrantPayment:
    if existing.status == S.PAID:
        raise Conflict(_("This tranche has already been paid."), field="tranche")
    if existing.proposed_by_id == actor.id and existing.amount_hkd == due.amount:
        return existing  # the same proposal again: a retry
    raise Conflict(_("This tranche has already been proposed and is awaiting approval."), field="tranche")


def get_payment(session: Session, actor: User, payment_id: int) -> GrantPayment:
    require(actor, Permission.PAYMENT_VIEW)
    payment = session.exec(select(GrantPayment).where(GrantPayment.id == payment_id)
                           .execution_options(populate_existing=True)).first()
    if payment is None:
        raise NotFound(_("We could not find that payment."))
    return payment


def approve(session: Session, actor: User, payment: GrantPayment) -> GrantPayment:
    """Another person approves: the tranche is paid, once. Its amount is checked against today's figures."""
    require(actor, Permission.PAYMENT_APPROVE)
    require_different_person(payment.proposed_by_id, actor)
    if payment.status == S.PAID:
        raise InvalidTransition(_("This payment has already been paid."))
    states.check(TRANSITIONS, payment.status, S.PAID, _("Only a proposed payment can be approved."))
    project = session.get(Project, payment.project_id)
    due = amount_due(session, project, PaymentTranche(payment.tranche))
    if not isinstance(due, Due) or due.amount != payment.amount_hkd:
        raise Conflict(_("The figures behind this payment have changed since it was proposed: refuse it and "
                         "propose it again."))
    now = utcnow()
    if not states.move_if(session, GrantPayment, payment.id, TRANSITIONS, S.PAID,
                          where=[col(GrantPayment.status) == S.PROPOSED], decided_by_id=actor.id, decided_at=now):
        session.refresh(payment)
        if payment.status == S.PAID:
            raise InvalidTransition(_("This payment has already been paid."))
        raise InvalidTransition(_("This payment is no longer awaiting approval."))
    session.refresh(payment)
    audit.record(session, actor, "payment.paid", "grant_payment", payment.id,
                 before={"status": S.PROPOSED},
                 after={"status": S.PAID, "tranche": payment.tranche, "amount_hkd": payment.amount_hkd,
                        "project_id": payment.project_id})
    return payment


def refuse(session: Session, actor: User, payment: GrantPayment) -> GrantPayment:
    require(actor, Permission.PAYMENT_APPROVE)
    states.check(TRANSITIONS, payment.status, S.REFUSED, _("Only a proposed payment can be refused."))
    if not states.move_if(session, GrantPayment, payment.id, TRANSITIONS, S.REFUSED,
                          where=[col(GrantPayment.status) == S.PROPOSED], decided_by_id=actor.id,
                          decided_at=utcnow()):
        session.refresh(payment)
        raise InvalidTransition(_("This payment is no longer awaiting approval."))
    session.refresh(payment)
    audit.record(session, actor, "payment.refused", "grant_payment", payment.id,
                 before={"status": S.PROPOSED}, after={"status": S.REFUSED})
    return payment


# --- the scheme's money --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SchemeMoney:
    budget: int
    committed: int     # granted to funded projects
    paid: int          # advances and balances paid
    recovered: int     # paid back by organisations
    awaiting: int      # proposed, not yet approved (recoveries count negative)

    @property
    def net_paid(self) -> int:
        return self.paid - self.recovered

    @property
    def budget_uncommitted(self) -> int:
        return self.budget - self.committed


def scheme_money(session: Session, scheme: Scheme) -> SchemeMoney:
    sums = {(PaymentTranche(tranche), PaymentStatus(status)): int(total) for tranche, status, total in session.exec(
        select(GrantPayment.tranche, GrantPayment.status, func.coalesce(func.sum(GrantPayment.amount_hkd), 0))
        .where(GrantPayment.scheme_id == scheme.id).group_by(GrantPayment.tranche, GrantPayment.status)).all()}
    paid = sums.get((T.ADVANCE, S.PAID), 0) + sums.get((T.BALANCE, S.PAID), 0)
    awaiting = (sums.get((T.ADVANCE, S.PROPOSED), 0) + sums.get((T.BALANCE, S.PROPOSED), 0)
                - sums.get((T.RECOVERY, S.PROPOSED), 0))
    return SchemeMoney(budget=scheme.budget_hkd, committed=funding_granted(session, scheme.id), paid=paid,
                       recovered=sums.get((T.RECOVERY, S.PAID), 0), awaiting=awaiting)


@dataclass(frozen=True)
class PaymentLine:
    payment: GrantPayment
    project: Project
    organisation: Organisation


def payments_of(session: Session, scheme_id: int) -> list[PaymentLine]:
    rows = session.exec(select(GrantPayment, Project, Organisation)
                        .join(Project, col(Project.id) == GrantPayment.project_id)
                        .join(Organisation, col(Organisation.id) == GrantPayment.organisation_id)
                        .where(GrantPayment.scheme_id == scheme_id)
                        .order_by(col(GrantPayment.proposed_at).desc(), col(GrantPayment.id).desc())).all()
    return [PaymentLine(payment, project, organisation) for payment, project, organisation in rows]
