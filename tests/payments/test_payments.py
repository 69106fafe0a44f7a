"""Grant payments: tranches worked out from the grant, proposed by one officer, paid once when another approves."""

from __future__ import annotations

import html
import threading

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.audit.models import AuditEvent
from backend.core.errors import Conflict, InvalidTransition
from backend.identity.models import Role, User
from backend.identity.permissions import SegregationOfDutiesError
from backend.placements.models import Placement, PlacementStatus
from backend.projects.models import ProjectStatus
from backend.schemes import payments
from backend.schemes.models import GrantPayment, PaymentStatus, PaymentTranche
from tests.accounts.helpers import make_user
from tests.applicants.helpers import make_applicant
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_organisation, make_project, make_scheme
from tests.workflow.helpers import build_world, zh


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def _funded(session, world, *, places=10, subsidy=25_000, status=ProjectStatus.OPEN, **overrides):
    return make_project(session, world.scheme, world.organisation, places=places, subsidy=subsidy, status=status,
                        **overrides)


def _interns(session, project, n: int, status=PlacementStatus.ACCEPTED) -> None:
    from backend.core.db import utcnow

    for _ in range(n):
        _user, profile = make_applicant(session)
        session.add(Placement(scheme_id=project.scheme_id, project_id=project.id, applicant_id=profile.id,
                              status=status, subsidy_hkd=project.subsidy_granted_per_place, offer_deadline=utcnow()))
    session.flush()


def _propose(session, officer, project, tranche, note=""):
    return payments.propose(session, officer, project_scheme(session, project),
                            {"project_id": str(project.id), "tranche": tranche, "note": note})


def project_scheme(session, project):
    from backend.schemes.models import Scheme

    return session.get(Scheme, project.scheme_id)


def _complete(session, project, completed: int) -> None:
    """The project completed with an accepted report: `completed` of its interns completed, the rest left early."""
    from backend.projects.models import CompletionReport, CompletionReportStatus

    interns = session.exec(select(Placement).where(Placement.project_id == project.id,
                                                   Placement.status == PlacementStatus.ACCEPTED)
                           .order_by(Placement.id)).all()
    for n, intern in enumerate(interns):
        intern.status = PlacementStatus.COMPLETED if n < completed else PlacementStatus.LEFT_EARLY
    project.status = ProjectStatus.COMPLETED
    session.add(CompletionReport(project_id=project.id, status=CompletionReportStatus.ACCEPTED, evaluation="Fine."))
    session.flush()


# --- what is due ---------------------------------------------------------------------------------------------

def test_an_approved_project_is_advanced_the_schemes_share_of_its_grant(session, world):
    project = _funded(session, world, places=10, subsidy=25_000)
    due = payments.amount_due(session, project, PaymentTranche.ADVANCE)
    assert due.amount == 125_000  # 50% of 10 × 25,000

    world.admin.post(f"/staff/schemes/{world.scheme.id}/payment-terms", {"advance_percent": "30"})
    assert payments.amount_due(session, project, PaymentTranche.ADVANCE).amount == 75_000


def test_the_balance_waits_for_the_completion_report_then_pays_for_interns_who_completed(session, world):
    project = _funded(session, world, places=10, subsidy=25_000)
    officer, approver = world.officer.user, world.approver.user
    payments.approve(session, approver, _propose(session, officer, project, "advance"))
    assert payments.amount_due(session, project, PaymentTranche.BALANCE) == \
        "The completion report has not been accepted yet."

    _interns(session, project, 8)
    _complete(session, project, completed=8)  # the report claims 8 of the 8 interns who took a place
    balance = _propose(session, officer, project, "balance")

    assert balance.amount_hkd == 8 * 25_000 - 125_000
    payments.approve(session, approver, balance)
    money = payments.scheme_money(session, world.scheme)
    assert (money.paid, money.recovered) == (200_000, 0)


def test_an_advance_beyond_what_completed_interns_earned_is_recovered(session, world):
    project = _funded(session, world, places=10, subsidy=25_000)
    payments.approve(session, world.approver.user, _propose(session, world.officer.user, project, "advance"))
    _interns(session, project, 5)
    _complete(session, project, completed=3)  # 3 of 5 interns completed: the advance paid for 5 of 10 places

    assert payments.amount_due(session, project, PaymentTranche.BALANCE) == "No balance is due."
    recovery = _propose(session, world.officer.user, project, "recovery")
    assert recovery.amount_hkd == 125_000 - 3 * 25_000
    payments.approve(session, world.approver.user, recovery)
    money = payments.scheme_money(session, world.scheme)
    assert (money.paid, money.recovered, money.net_paid) == (125_000, 50_000, 75_000)


# --- four eyes, idempotence, audit ---------------------------------------------------------------------------

def test_whoever_proposed_a_payment_cannot_approve_it(session, world):
    project = _funded(session, world)
    payment = _propose(session, world.officer.user, project, "advance")
    payment.proposed_by_id = world.approver.user.id  # someone holding both duties proposed it
    session.flush()
    with pytest.raises(SegregationOfDutiesError):
        payments.approve(session, world.approver.user, payment)
    assert payment.status == PaymentStatus.PROPOSED


def test_a_retried_proposal_and_a_second_approval_never_pay_twice(session, world):
    project = _funded(session, world)
    first = _propose(session, world.officer.user, project, "advance")
    assert _propose(session, world.officer.user, project, "advance").id == first.id  # a retry
    with pytest.raises(Conflict, match="already been proposed"):
        _propose(session, make_user(session, Role.OFFICER), project, "advance")

    payments.approve(session, world.approver.user, first)
    with pytest.raises(InvalidTransition, match="already been paid"):
        payments.approve(session, make_user(session, Role.APPROVER), first)
    with pytest.raises(Conflict):
        _propose(session, world.officer.user, project, "advance")

    assert len(session.exec(select(GrantPayment).where(GrantPayment.project_id == project.id)).all()) == 1
    paid = session.exec(select(AuditEvent).where(AuditEvent.action == "payment.paid")).all()
    assert [(e.object_id, e.after["amount_hkd"]) for e in paid] == [(str(first.id), 125_000)]


def test_an_approver_who_read_the_payment_before_another_paid_it_is_refused(session, world):
    project = _funded(session, world)
    payment = _propose(session, world.officer.user, project, "advance")
    session.flush()
    session.execute(update(GrantPayment).where(col(GrantPayment.id) == payment.id)
                    .values(status=PaymentStatus.PAID).execution_options(synchronize_session=False))
    assert payment.status == PaymentStatus.PROPOSED

    with pytest.raises(InvalidTransition, match="already been paid"):
        payments.approve(session, world.approver.user, payment)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "payment.paid")).first() is None


def test_a_refused_tranche_can_be_proposed_again(session, world):
    project = _funded(session, world)
    payment = _propose(session, world.officer.user, project, "advance")
    payments.refuse(session, world.approver.user, payment)
    again = _propose(session, world.officer.user, project, "advance", note="Bank details corrected")
    assert (again.id, again.status, again.note) == (payment.id, PaymentStatus.PROPOSED, "Bank details corrected")


# --- pages and API -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_a_payment_proposal_with_mistakes_is_refused_field_by_field(session, world, language):
    project = _funded(session, world)
    session.commit()
    response = world.officer.post(f"/staff/schemes/{world.scheme.id}/payments?lang={language}",
                                  {"project_id": str(project.id), "tranche": "balance", "note": "Voucher 42" + "x" * 500})

    assert response.status_code == 400
    page = html.unescape(response.text)
    for message in ("The completion report has not been accepted yet.", "Use 500 characters or fewer."):
        assert (message if language == "en" else zh(message.replace("500", "%(limit)s")).replace("%(limit)s", "500")) \
            in page
    assert "Voucher 42" in page
    assert session.exec(select(GrantPayment)).first() is None
    terms = world.admin.post(f"/staff/schemes/{world.scheme.id}/payment-terms?lang={language}",
                             {"advance_percent": "150"})
    assert terms.status_code == 400 and 'value="150"' in terms.text


def test_officer_proposes_and_approver_pays_through_the_pages_and_the_dashboard_shows_it(session, world):
    project = _funded(session, world, places=4, subsidy=20_000)
    session.commit()
    assert world.officer.post(f"/staff/schemes/{world.scheme.id}/payments",
                              {"project_id": str(project.id), "tranche": "advance"}).status_code == 303
    payment = session.exec(select(GrantPayment)).one()
    assert world.officer.post(f"/staff/payments/{payment.id}/approve").status_code == 403
    assert world.approver.post(f"/staff/payments/{payment.id}/approve").status_code == 303

    dashboard = world.officer.client.get(f"/staff/schemes/{world.scheme.id}").text
    assert 'id="paid">HK$40,000<' in dashboard and 'id="committed">HK$80,000<' in dashboard
    again = world.approver.post(f"/staff/payments/{payment.id}/approve")
    assert again.status_code == 409 and "already been paid" in html.unescape(again.text)


def test_the_api_lists_proposes_and_approves(session, world):
    project = _funded(session, world, places=2, subsidy=30_000)
    session.commit()
    listed = world.officer.api("GET", f"/api/v1/schemes/{world.scheme.id}/payments").json()
    assert [(d["project_id"], d["tranche"], d["amount_hkd"]) for d in listed["due"]] == [(project.id, "advance", 30_000)]

    bad = world.officer.api("POST", f"/api/v1/schemes/{world.scheme.id}/payments", {"tranche": "bonus"})
    assert bad.status_code == 400 and set(bad.json()["details"]["fields"]) == {"project_id", "tranche"}
    proposed = world.officer.api("POST", f"/api/v1/schemes/{world.scheme.id}/payments",
                                 {"project_id": project.id, "tranche": "advance"})
    assert proposed.status_code == 201, proposed.text
    paid = world.approver.api("POST", f"/api/v1/payments/{proposed.json()['id']}/approve")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    twice = world.approver.api("POST", f"/api/v1/payments/{proposed.json()['id']}/approve")
    assert twice.status_code == 409
    money = world.officer.api("GET", f"/api/v1/schemes/{world.scheme.id}/payments").json()["money"]
    assert (money["paid_hkd"], money["committed_hkd"]) == (30_000, 60_000)


# --- the race ------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not IS_POSTGRES, reason="two connections racing for one row need PostgreSQL (set DATABASE_URL)")
def test_two_approvers_paying_the_same_tranche_at_once_pay_it_once():
    with migrated_database("internmatch_payment_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = make_scheme(setup)
            project = make_project(setup, scheme, make_organisation(setup), places=10, subsidy=25_000)
            officer = make_user(setup, Role.OFFICER)
            approvers = [make_user(setup, Role.APPROVER) for _ in range(2)]
            payment = payments.propose(setup, officer, scheme, {"project_id": str(project.id), "tranche": "advance"})
            setup.commit()

        outcomes: list = []
        barrier = threading.Barrier(2)

        def approve(approver_id: int) -> None:
            with Session(engine, expire_on_commit=False) as db:
                row = db.get(GrantPayment, payment.id)
                barrier.wait()
                try:
                    payments.approve(db, db.get(User, approver_id), row)
                    db.commit()
                    outcomes.append("paid")
                except InvalidTransition as refusal:
                    db.rollback()
                    outcomes.append(refusal.status_code)

        threads = [threading.Thread(target=approve, args=(a.id,)) for a in approvers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(outcomes, key=str) == [409, "paid"]
        with Session(engine) as check:
            assert check.get(GrantPayment, payment.id).status == PaymentStatus.PAID
            assert len(check.exec(select(AuditEvent).where(AuditEvent.action == "payment.paid")).all()) == 1


@pytest.mark.skipif(not IS_POSTGRES, reason="two connections racing for one row need PostgreSQL (set DATABASE_URL)")
def test_two_officers_proposing_the_same_tranche_at_once_make_one_payment():
    with migrated_database("internmatch_payment_propose_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = make_scheme(setup)
            project = make_project(setup, scheme, make_organisation(setup), places=10, subsidy=25_000)
            officers = [make_user(setup, Role.OFFICER) for _ in range(2)]
            setup.commit()

        outcomes: list = []
        barrier = threading.Barrier(2)

        def propose(officer_id: int) -> None:
            with Session(engine, expire_on_commit=False) as db:
                officer = db.get(User, officer_id)
                barrier.wait()
                try:
                    payments.propose(db, officer, db.get(type(scheme), scheme.id),
                                     {"project_id": str(project.id), "tranche": "advance"})
                    db.commit()
                    outcomes.append("proposed")
                except Conflict as refusal:
                    db.rollback()
                    outcomes.append(refusal.status_code)

        threads = [threading.Thread(target=propose, args=(o.id,)) for o in officers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(outcomes, key=str) == [409, "proposed"]
        with Session(engine) as check:
            assert len(check.exec(select(GrantPayment).where(GrantPayment.project_id == project.id)).all()) == 1
            assert len(check.exec(select(AuditEvent).where(AuditEvent.action == "payment.proposed")).all()) == 1
