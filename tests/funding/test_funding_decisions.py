"""Funding decisions: four-eyes, and a budget and regional caps that can never be exceeded."""

import threading
import uuid

import pytest
from sqlmodel import Session, select

from backend.audit.models import AuditEvent
from backend.core.errors import Forbidden
from backend.identity.models import Role, User
from backend.identity.permissions import SegregationOfDutiesError
from backend.outbox.models import OutboxEmail
from backend.projects.funding import (
    BudgetExceeded,
    RegionalCapExceeded,
    confirm_decision,
    propose_decision,
)
from backend.projects.models import AssessmentDecision, Project, ProjectEvent, ProjectStatus
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_project, make_scheme


def _user(session, role: Role) -> User:
    user = User(email=f"{role}-{uuid.uuid4().hex[:6]}@hab.gov.hk", role=role, display_name=str(role))
    session.add(user)
    session.flush()
    return user


def _submitted(session, scheme, **kwargs) -> Project:
    return make_project(session, scheme, status=ProjectStatus.SUBMITTED, **kwargs)


def test_an_approved_project_gets_its_places_and_funding_after_a_second_person_confirms(session):
    scheme = make_scheme(session, budget_hkd=1_000_000)
    project = _submitted(session, scheme, places=10, subsidy=25_000)
    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)

    proposal = propose_decision(session, officer, project, decision=AssessmentDecision.APPROVE,
                                scores={"learning": 4}, comments="Strong learning plan", places=8,
                                subsidy_per_place=24_000)
    assert project.status == ProjectStatus.UNDER_ASSESSMENT and project.places_granted is None

    confirm_decision(session, approver, proposal)

    assert project.status == ProjectStatus.APPROVED
    assert (project.places_granted, project.subsidy_granted_per_place, project.funding_granted) == (8, 24_000, 192_000)
    events = session.exec(select(ProjectEvent).where(ProjectEvent.project_id == project.id)).all()
    assert [e.to_status for e in events] == ["under_assessment", "approved"]
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_id == str(project.id)))]
    assert actions == ["project.assessment_started", "project.decision_proposed", "project.decision_confirmed"]
    emails = session.exec(select(OutboxEmail).where(OutboxEmail.template == "project.approved")).all()
    assert emails and all("Funding approved" in e.subject for e in emails), "the NGO is told by e-mail"


def test_the_person_who_proposed_cannot_confirm_it_even_after_becoming_an_approver(session):
    scheme = make_scheme(session)
    project = _submitted(session, scheme)
    officer = _user(session, Role.OFFICER)
    proposal = propose_decision(session, officer, project, decision=AssessmentDecision.APPROVE, scores={}, comments="")
    officer.role = Role.APPROVER  # promoted while the proposal waits

    with pytest.raises(SegregationOfDutiesError, match="different person"):
        confirm_decision(session, officer, proposal)
    assert project.status == ProjectStatus.UNDER_ASSESSMENT and project.places_granted is None


def test_an_officer_cannot_confirm_and_an_approver_cannot_propose(session):
    scheme = make_scheme(session)
    project = _submitted(session, scheme)
    officer, other_officer, approver = _user(session, Role.OFFICER), _user(session, Role.OFFICER), _user(session, Role.APPROVER)
    with pytest.raises(Forbidden):
        propose_decision(session, approver, project, decision=AssessmentDecision.APPROVE, scores={}, comments="")
    proposal = propose_decision(session, officer, project, decision=AssessmentDecision.APPROVE, scores={}, comments="")
    with pytest.raises(Forbidden):
        confirm_decision(session, other_officer, proposal)


def test_approval_that_would_exceed_the_budget_is_refused_and_changes_nothing(session):
    scheme = make_scheme(session, budget_hkd=300_000)
    make_project(session, scheme, places=10, subsidy=25_000)  # already funded: HK$250,000
    project = _submitted(session, scheme, places=3, subsidy=25_000)
    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)
    proposal = propose_decision(session, officer, project, decision=AssessmentDecision.APPROVE, scores={}, comments="")

    with pytest.raises(BudgetExceeded, match="only HK\\$50,000 is left"):
        confirm_decision(session, approver, proposal)
    session.refresh(project)
    assert project.status == ProjectStatus.UNDER_ASSESSMENT and project.places_granted is None


def test_granting_fewer_places_than_asked_fits_within_the_budget(session):
    scheme = make_scheme(session, budget_hkd=300_000)
    make_project(session, scheme, places=10, subsidy=25_000)
    project = _submitted(session, scheme, places=3, subsidy=25_000)
    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)
    proposal = propose_decision(session, officer, project, decision=AssessmentDecision.APPROVE, scores={},
                                comments="", places=2)
    confirm_decision(session, approver, proposal)
    assert project.funding_granted == 50_000


def test_a_capped_region_never_gets_more_places_than_its_cap(session):
    scheme = make_scheme(session, caps={"Guangdong": 12})
    make_project(session, scheme, region="Guangdong", places=10)
    capped = _submitted(session, scheme, region="Guangdong", places=5)
    elsewhere = _submitted(session, scheme, region="Beijing", city="Beijing", places=5)
    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)

    proposal = propose_decision(session, officer, capped, decision=AssessmentDecision.APPROVE, scores={}, comments="")
    with pytest.raises(RegionalCapExceeded, match="only 2 places are left"):
        confirm_decision(session, approver, proposal)

    other = propose_decision(session, officer, elsewhere, decision=AssessmentDecision.APPROVE, scores={}, comments="")
    confirm_decision(session, approver, other)
    assert elsewhere.places_granted == 5, "an uncapped region is not held back by another region's cap"


def test_returning_or_rejecting_needs_reasons_and_sets_the_status(session):
    scheme = make_scheme(session)
    project = _submitted(session, scheme)
    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)
    with pytest.raises(Exception, match="reasons"):
        propose_decision(session, officer, project, decision=AssessmentDecision.RETURN, scores={}, comments=" ")
    proposal = propose_decision(session, officer, project, decision=AssessmentDecision.RETURN, scores={},
                                comments="Please itemise the accommodation cost.")
    confirm_decision(session, approver, proposal)
    assert project.status == ProjectStatus.RETURNED and project.places_granted is None


@pytest.mark.skipif(not IS_POSTGRES, reason="concurrent approvals are tested on PostgreSQL (DATABASE_URL)")
def test_two_approvers_confirming_at_the_same_moment_cannot_overshoot_the_budget():
    """Each approval fits the budget alone; together they would not. Exactly one must win."""
    with migrated_database("internmatch_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = make_scheme(setup, budget_hkd=400_000, caps={"Guangdong": 100})
            officer = _user(setup, Role.OFFICER)
            approvers = [_user(setup, Role.APPROVER), _user(setup, Role.APPROVER)]
            proposals = []
            for _ in range(2):
                project = _submitted(setup, scheme, places=10, subsidy=25_000)  # HK$250,000 each
                proposals.append(propose_decision(setup, officer, project, decision=AssessmentDecision.APPROVE,
                                                  scores={}, comments=""))
            setup.commit()

        barrier, outcomes = threading.Barrier(2), []

        def approve(index: int) -> None:
            with Session(engine, expire_on_commit=False) as db:
                approver = db.get(User, approvers[index].id)
                proposal = db.merge(proposals[index])
                barrier.wait()
                try:
                    confirm_decision(db, approver, proposal)
                    db.commit()
                    outcomes.append("approved")
                except BudgetExceeded:
                    db.rollback()
                    outcomes.append("refused")

        threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(outcomes) == ["approved", "refused"]
        with Session(engine) as check:
            granted = sum(p.funding_granted for p in check.exec(select(Project)))
            assert granted == 250_000 <= 400_000
