"""A proposal replaced while its approver waits for the scheme lock is not confirmed."""

import threading
import time

import pytest
from sqlalchemy import text, update
from sqlmodel import Session, col

from backend.core.errors import InvalidTransition
from backend.identity.models import Role, User
from backend.projects.funding import confirm_decision, propose_decision
from backend.projects.models import Assessment, AssessmentDecision, Project, ProjectStatus
from backend.schemes.facts import lock_scheme
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_scheme
from tests.funding.test_funding_decisions import _submitted, _user


def test_a_proposal_replaced_after_the_approver_opened_it_is_refused_and_the_project_stays_undecided(session):
    scheme = make_scheme(session, budget_hkd=1_000_000)
    project = _submitted(session, scheme, places=4, subsidy=20_000)
    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)
    proposal = propose_decision(session, officer, project, decision=AssessmentDecision.APPROVE, scores={},
                                comments="")
    session.flush()
    # Another request replaced it meanwhile; this session still holds the proposal as it first read it.
    session.execute(update(Assessment).where(col(Assessment.id) == proposal.id).values(superseded=True)
                    .execution_options(synchronize_session=False))
    assert proposal.superseded is False

    with pytest.raises(InvalidTransition, match="already been decided or replaced"):
        confirm_decision(session, approver, proposal)

    session.refresh(project)
    assert (project.status, project.places_granted) == (ProjectStatus.UNDER_ASSESSMENT, None)


@pytest.mark.skipif(not IS_POSTGRES, reason="waiting on a row lock held by another connection needs PostgreSQL "
                                            "(set DATABASE_URL); SQLite serialises writers, so nothing can race")
def test_an_approval_waiting_for_the_scheme_lock_while_the_officer_replaces_it_with_a_rejection_is_refused():
    with migrated_database("internmatch_funding_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = make_scheme(setup, budget_hkd=1_000_000)
            project = _submitted(setup, scheme, places=4, subsidy=20_000)
            officer, approver = _user(setup, Role.OFFICER), _user(setup, Role.APPROVER)
            approval = propose_decision(setup, officer, project, decision=AssessmentDecision.APPROVE, scores={},
                                        comments="")
            setup.commit()

        outcome = {}

        def confirm() -> None:
            with Session(engine, expire_on_commit=False) as db:
                try:
                    confirm_decision(db, db.get(User, approver.id), db.get(Assessment, approval.id))
                    db.commit()
                    outcome["approver"] = "confirmed"
                except InvalidTransition as refusal:
                    db.rollback()
                    outcome["approver"] = refusal

        with Session(engine, expire_on_commit=False) as officer_db:
            lock_scheme(officer_db, scheme.id)
            approver_thread = threading.Thread(target=confirm)
            approver_thread.start()
            _wait_until_someone_waits_for_a_lock(officer_db)
            propose_decision(officer_db, officer_db.get(User, officer.id), officer_db.get(Project, project.id),
                             decision=AssessmentDecision.REJECT, scores={}, comments="Not a learning placement")
            officer_db.commit()
        approver_thread.join(timeout=30)

        assert isinstance(outcome.get("approver"), InvalidTransition), outcome
        assert outcome["approver"].status_code == 409
        with Session(engine) as check:
            stored = check.get(Project, project.id)
            assert (stored.status, stored.places_granted) == (ProjectStatus.UNDER_ASSESSMENT, None)
            assert check.get(Assessment, approval.id).confirmed_at is None


def _wait_until_someone_waits_for_a_lock(db: Session) -> None:
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with Session(db.get_bind()) as probe:
            if probe.execute(query).scalar():
                return
        time.sleep(0.05)
    raise AssertionError("the approver never waited for the scheme lock")
