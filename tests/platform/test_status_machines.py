"""Every status machine has one owner and one table: a move the table does not list is refused, and of two
requests racing for the same row exactly one wins while the other is told plainly."""

import itertools
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from backend.accounts import privacy
from backend.applicants import choice_status
from backend.applicants.models import Choice, ChoiceStatus
from backend.audit.models import AuditEvent
from backend.complaints import case as complaint_case
from backend.complaints.models import Complaint, ComplaintStatus
from backend.core import states
from backend.core.errors import InvalidTransition
from backend.identity.models import Role, User
from backend.placements import approval_jobs, approvals, offers, round_status, rounds
from backend.placements.models import (
    ApprovalJob,
    ApprovalJobStatus,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    Placement,
    PlacementStatus,
    ProposalStatus,
)
from backend.projects import completion, lifecycle
from backend.projects.models import (
    CompletionReport,
    CompletionReportStatus,
    Project,
    ProjectEvent,
    ProjectStatus,
)
from backend.schemes import payments
from backend.schemes.models import GrantPayment, PaymentStatus, PaymentTranche
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_project, make_scheme
from tests.placements.test_approvals import NOW, hold, make_applicant, make_run, make_user, propose, staff

MACHINES = {
    "choice": (ChoiceStatus, choice_status.TRANSITIONS),
    "placement": (PlacementStatus, offers.TRANSITIONS),
    "match_run": (MatchRunStatus, round_status.TRANSITIONS),
    "proposal": (ProposalStatus, approvals.PROPOSAL_TRANSITIONS),
    "approval_job": (ApprovalJobStatus, approval_jobs.TRANSITIONS),
    "project": (ProjectStatus, lifecycle.TRANSITIONS),
    "complaint": (ComplaintStatus, complaint_case.TRANSITIONS),
    "grant_payment": (PaymentStatus, payments.TRANSITIONS),
    "completion_report": (CompletionReportStatus, completion.TRANSITIONS),
}
PAIRS = [pytest.param(machine, before, after, id=f"{machine}:{before}->{after}")
         for machine, (enum, _table) in MACHINES.items()
         for before, after in itertools.product(enum, repeat=2)]


def _row_in(session, machine: str, state):
    """A stored row of the machine's table, in `state`."""
    scheme = make_scheme(session)
    project = make_project(session, scheme, status=state if machine == "project" else ProjectStatus.OPEN)
    if machine == "project":
        return Project, project
    if machine == "complaint":
        row = Complaint(organisation_id=project.organisation_id, status=state, acknowledge_by=date.today())
        session.add(row)
        session.flush()
        return Complaint, row
    if machine == "completion_report":
        row = CompletionReport(project_id=project.id, status=state)
        session.add(row)
        session.flush()
        return CompletionReport, row
    if machine == "grant_payment":
        row = GrantPayment(scheme_id=scheme.id, project_id=project.id, organisation_id=project.organisation_id,
                           tranche=PaymentTranche.ADVANCE, amount_hkd=1_000, status=state)
        session.add(row)
        session.flush()
        return GrantPayment, row
    profile, _user = make_applicant(session)
    if machine == "choice":
        row = Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=1, status=state)
    elif machine == "placement":
        return Placement, hold(session, project, profile, state)
    elif machine == "match_run":
        row = MatchRun(scheme_id=scheme.id, mode="optimal", status=state)
    elif machine == "approval_job":
        run = make_run(session, scheme, make_user(session, Role.OFFICER))
        row = ApprovalJob(run_id=run.id, offer_deadline=NOW + timedelta(days=7), status=state)
    else:
        run = make_run(session, scheme, make_user(session, Role.OFFICER))
        row = MatchProposal(run_id=run.id, applicant_id=profile.id, project_id=project.id, score=80.0, status=state)
    session.add(row)
    session.flush()
    return type(row), row


def _stored_status(session, model, row_id):
    return session.exec(select(model.status).where(model.id == row_id)).one()


@pytest.mark.parametrize("machine", MACHINES)
def test_every_table_names_every_state_and_only_states_of_its_own(machine):
    enum, table = MACHINES[machine]
    assert set(table) == set(enum)
    assert all(targets <= set(enum) for targets in table.values())


@pytest.mark.parametrize(("machine", "before", "after"), PAIRS)
def test_the_owner_refuses_every_move_its_table_does_not_list_and_makes_every_move_it_does(
        session, machine, before, after):
    _enum, table = MACHINES[machine]
    model, row = _row_in(session, machine, before)
    listed = after in table[before]

    if listed:
        states.check(table, before, after)
    else:
        with pytest.raises(InvalidTransition) as refused:
            states.check(table, before, after, "not now")
        assert (refused.value.status_code, refused.value.message) == (409, "not now")
        assert refused.value.details == {"current": str(before), "to": str(after)}

    # The conditional UPDATE every owner makes agrees with the table, whatever the caller checked.
    moved = states.move_if(session, model, row.id, table, after, where=[model.status == before])
    assert moved is listed
    assert _stored_status(session, model, row.id) == (after if listed else before)


@pytest.mark.parametrize(("before", "after"), list(itertools.product(ProjectStatus, repeat=2)),
                         ids=lambda s: str(s))
def test_lifecycle_move_is_the_project_owner_and_records_each_move_it_makes(session, before, after):
    _model, project = _row_in(session, "project", before)
    actor = make_user(session, Role.OFFICER)
    if after not in lifecycle.TRANSITIONS[before]:
        with pytest.raises(InvalidTransition):
            lifecycle.move(session, actor, project, after, action="project.test_step")
        assert _stored_status(session, Project, project.id) == before
        return
    lifecycle.move(session, actor, project, after, action="project.test_step")
    assert project.status == after == _stored_status(session, Project, project.id)
    event = session.exec(select(ProjectEvent).where(ProjectEvent.project_id == project.id)).one()
    assert (event.from_status, event.to_status) == (before, after)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "project.test_step",
                                                 AuditEvent.object_id == str(project.id))).one()


def test_a_stale_reader_loses_to_the_move_already_made(session):
    """Two requests read the same state; the second one's conditional UPDATE finds it moved and is told."""
    _model, choice = _row_in(session, "choice", ChoiceStatus.SUBMITTED)
    choice_status.withdraw(session, None, choice)
    # What a request that read the choice before the withdrawal still believes.
    set_committed_value(choice, "status", ChoiceStatus.SUBMITTED)
    with pytest.raises(InvalidTransition) as refused:
        choice_status.shortlist(session, make_user(session, Role.NGO), choice)
    assert refused.value.status_code == 409 and "changed by someone else" in refused.value.message
    assert _stored_status(session, Choice, choice.id) == ChoiceStatus.WITHDRAWN


def test_named_transitions_refuse_a_second_decision(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    officer, approver = staff(session)
    run = make_run(session, scheme, officer)
    proposal = propose(session, run, make_applicant(session)[0], project)
    approvals.approve_proposal(session, proposal)
    with pytest.raises(InvalidTransition):
        approvals.refuse_proposal(session, proposal)
    assert _stored_status(session, MatchProposal, proposal.id) == ProposalStatus.APPROVED

    queued = MatchRun(scheme_id=scheme.id, mode="optimal")
    session.add(queued)
    session.flush()
    rounds.cancel_round(session, officer, queued)
    assert queued.status == MatchRunStatus.CANCELLED and queued.stage == "cancelled"
    with pytest.raises(InvalidTransition):
        rounds.cancel_round(session, officer, queued)


def test_deleting_an_account_withdraws_the_open_offer_through_the_offers_owner_with_an_audit_event(session):
    scheme = make_scheme(session)
    open_project, placed_project = make_project(session, scheme), make_project(session, scheme)
    profile, _user = make_applicant(session)
    for rank, project, status in ((1, open_project, ChoiceStatus.OFFERED), (2, placed_project, ChoiceStatus.ACCEPTED)):
        session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=rank,
                           status=status))
    open_offer = hold(session, open_project, profile, PlacementStatus.OFFERED)
    earlier_place = hold(session, placed_project, profile, PlacementStatus.ACCEPTED)
    session.flush()

    privacy.erase_profile(session, profile)
    session.flush()

    session.refresh(open_offer)
    session.refresh(earlier_place)
    assert open_offer.status == PlacementStatus.WITHDRAWN and open_offer.responded_at is not None
    assert earlier_place.status == PlacementStatus.ACCEPTED
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "placement.withdrawn")).all()
    assert event.object_id == str(open_offer.id)
    assert event.before == {"status": "offered"}
    assert event.after == {"status": "withdrawn", "reason": "personal_data_erased"}
    choices = {c.project_id: c for c in session.exec(select(Choice).where(Choice.applicant_id == profile.id))}
    assert choices[open_project.id].status == ChoiceStatus.WITHDRAWN and choices[open_project.id].rank == 0
    assert choices[placed_project.id].status == ChoiceStatus.ACCEPTED
    withdrawn = session.exec(select(AuditEvent).where(AuditEvent.action == "choice.withdrawn")).all()
    assert [e.object_id for e in withdrawn] == [str(choices[open_project.id].id)]


@pytest.mark.skipif(not IS_POSTGRES, reason="a real race needs two connections writing at once: PostgreSQL only "
                                            "(set DATABASE_URL); SQLite serialises writers, so nothing can race")
def test_of_two_answers_to_one_offer_at_the_same_moment_exactly_one_wins_and_the_other_is_told():
    with migrated_database("internmatch_status_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = make_scheme(setup)
            project = make_project(setup, scheme)
            profile, applicant = make_applicant(setup)
            setup.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=1,
                             status=ChoiceStatus.OFFERED))
            placement = hold(setup, project, profile, PlacementStatus.OFFERED)
            setup.commit()

        barrier, outcomes = threading.Barrier(2), {}
        answer_at = NOW + timedelta(days=1)

        def answer(name, step) -> None:
            with Session(engine, expire_on_commit=False) as db:
                actor = db.get(User, applicant.id)
                barrier.wait()
                try:
                    step(db, actor, placement.id, now=answer_at)
                    db.commit()
                    outcomes[name] = "won"
                except InvalidTransition as refusal:
                    db.rollback()
                    outcomes[name] = refusal

        threads = [threading.Thread(target=answer, args=("accept", offers.accept_offer)),
                   threading.Thread(target=answer, args=("decline", offers.decline_offer))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        winners = [name for name, outcome in outcomes.items() if outcome == "won"]
        assert len(outcomes) == 2 and len(winners) == 1, outcomes
        [loser] = [outcome for outcome in outcomes.values() if outcome != "won"]
        assert loser.status_code == 409
        assert loser.message == {"accept": "You have already accepted this offer.",
                                 "decline": "You have declined this offer."}[winners[0]]
        with Session(engine) as check:
            stored = check.get(Placement, placement.id)
            assert stored.status == {"accept": PlacementStatus.ACCEPTED, "decline": PlacementStatus.DECLINED}[winners[0]]
            choice = check.exec(select(Choice).where(Choice.applicant_id == profile.id)).one()
            assert choice.status == {"accept": ChoiceStatus.ACCEPTED, "decline": ChoiceStatus.DECLINED}[winners[0]]
