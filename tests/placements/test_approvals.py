"""Approving a round's proposals: four eyes, and places, budget, caps and one place per applicant re-checked."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.audit.models import AuditEvent
from backend.core.db import for_writing
from backend.core.errors import Conflict, Forbidden, InvalidTransition
from backend.identity.models import Role, User
from backend.identity.permissions import SegregationOfDutiesError
from backend.outbox.models import OutboxEmail
from backend.placements.approvals import NothingToApprove, approve_proposals, refuse_proposals
from backend.placements.models import (
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    Placement,
    PlacementStatus,
    ProposalStatus,
)
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_project, make_scheme

NOW = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)


def make_user(session, role: Role, *, language: str = "en") -> User:
    user = User(email=f"{role}-{uuid.uuid4().hex[:8]}@example.hk", role=role, display_name=str(role),
                preferred_language=language)
    session.add(user)
    session.flush()
    return user


def make_applicant(session, *, language: str = "en", with_account: bool = True, name_en: str = "Chan Ka Yan",
                   name_zh: str = "陳嘉欣", contact_email: str = "") -> tuple[ApplicantProfile, User | None]:
    user = make_user(session, Role.APPLICANT, language=language) if with_account else None
    profile = ApplicantProfile(user_id=user.id if user else None, name_en=name_en, name_zh=name_zh,
                               contact_email=contact_email or f"ka-yan-{uuid.uuid4().hex[:6]}@mail.example.hk")
    session.add(profile)
    session.flush()
    return profile, user


def make_run(session, scheme, starter: User, reviewer: User | None = None) -> MatchRun:
    run = MatchRun(scheme_id=scheme.id, mode="optimal", status=MatchRunStatus.SUCCEEDED, started_by_id=starter.id,
                   reviewed_by_id=reviewer.id if reviewer else None)
    session.add(run)
    session.flush()
    return run


def propose(session, run: MatchRun, profile: ApplicantProfile, project, *, score: float = 80.0,
            rank: int = 1) -> MatchProposal:
    if session.exec(select(Choice).where(Choice.applicant_id == profile.id, Choice.project_id == project.id)
                    ).first() is None:
        session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=run.scheme_id, rank=rank))
    proposal = MatchProposal(run_id=run.id, applicant_id=profile.id, project_id=project.id, score=score,
                             choice_rank=rank)
    session.add(proposal)
    session.flush()
    return proposal


def hold(session, project, profile, status: PlacementStatus = PlacementStatus.ACCEPTED, *,
         subsidy: int | None = None) -> Placement:
    """A placement from an earlier round, made directly."""
    placement = Placement(scheme_id=project.scheme_id, project_id=project.id, applicant_id=profile.id,
                          status=status, subsidy_hkd=project.subsidy_granted_per_place if subsidy is None else subsidy,
                          offer_deadline=NOW + timedelta(days=7))
    session.add(placement)
    session.flush()
    return placement


def staff(session) -> tuple[User, User]:
    return make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)


def choice_of(session, profile, project) -> Choice:
    return session.exec(select(Choice).where(Choice.applicant_id == profile.id,
                                             Choice.project_id == project.id)).one()


def test_approved_proposals_become_offers_with_the_choice_offered_an_email_and_an_audit_record(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme, places=3, subsidy=25_000)
    officer, approver = staff(session)
    run = make_run(session, scheme, officer)
    chinese_reader, _user = make_applicant(session, language="zh-Hant")
    imported, _none = make_applicant(session, with_account=False, contact_email="paper-form@mail.example.hk")
    proposals = [propose(session, run, chinese_reader, project), propose(session, run, imported, project)]

    result = approve_proposals(session, approver, run, now=NOW)

    assert not result.skipped and len(result.placements) == 2
    for placement in result.placements:
        assert (placement.status, placement.subsidy_hkd, placement.approved_by_id) == (
            PlacementStatus.OFFERED, 25_000, approver.id)
        # The end of the Hong Kong day a week on (23:59:59 HKT on 10 May is 15:59:59 UTC), not 09:00.
        assert placement.offer_deadline == datetime(2027, 5, 10, 15, 59, 59, tzinfo=UTC)
    assert {p.status for p in proposals} == {ProposalStatus.APPROVED}
    assert choice_of(session, chinese_reader, project).status == ChoiceStatus.OFFERED

    emails = session.exec(select(OutboxEmail).where(OutboxEmail.template == "placement_offer")
                          .order_by(OutboxEmail.id)).all()
    assert [e.to_address for e in emails] == [_user.email, "paper-form@mail.example.hk"]
    assert emails[0].language == "zh-Hant" and "數據分析實習生" in emails[0].subject, "in the reader's language"
    assert "陳嘉欣" in emails[0].body_text and "香港時間 2027年5月10日（星期一）23:59 前" in emails[0].body_text
    assert "於深圳舉辦" in emails[0].body_text and "Shenzhen" not in emails[0].body_text, "no English city name"
    assert emails[1].language == "en" and "Data analytics intern" in emails[1].subject
    assert "by 23:59 on Monday 10 May 2027 (Hong Kong time)" in emails[1].body_text and " in Shenzhen," in emails[1].body_text

    actions = session.exec(select(AuditEvent.action).where(col(AuditEvent.actor_id) == approver.id)).all()
    assert sorted(actions) == ["match.proposals_approved", "placement.offered", "placement.offered"]


def test_a_place_already_offered_or_taken_is_not_offered_again(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme, places=2)
    officer, approver = staff(session)
    hold(session, project, make_applicant(session)[0], PlacementStatus.OFFERED)  # from an earlier round
    run = make_run(session, scheme, officer)
    better, worse = make_applicant(session)[0], make_applicant(session)[0]
    propose(session, run, worse, project, score=60)
    propose(session, run, better, project, score=90)

    result = approve_proposals(session, approver, run, now=NOW)

    assert [p.applicant_id for p in result.placements] == [better.id], "the best fit gets the one place left"
    [skipped] = result.skipped
    assert (skipped.proposal.applicant_id, skipped.code) == (worse.id, "place_taken")
    assert "already offered or taken" in skipped.reason
    assert skipped.proposal.status == ProposalStatus.PROPOSED, "left for the approver to refuse or keep"


def test_a_proposal_the_remaining_budget_cannot_cover_is_not_approved(session):
    scheme = make_scheme(session, budget_hkd=80_000)
    project = make_project(session, scheme, places=5, subsidy=25_000)
    officer, approver = staff(session)
    hold(session, project, make_applicant(session)[0], subsidy=40_000)  # accepted earlier at a higher subsidy
    run = make_run(session, scheme, officer)
    first, second = make_applicant(session)[0], make_applicant(session)[0]
    propose(session, run, first, project, score=90)
    propose(session, run, second, project, score=80)

    result = approve_proposals(session, approver, run, now=NOW)

    assert [p.applicant_id for p in result.placements] == [first.id]
    assert [(s.proposal.applicant_id, s.code) for s in result.skipped] == [(second.id, "budget")]
    assert "HK$15,000 is left" in result.skipped[0].reason
    committed = sum(session.exec(select(Placement.subsidy_hkd).where(Placement.scheme_id == scheme.id)).all())
    assert committed == 65_000 <= scheme.budget_hkd


def test_a_regional_cap_already_reached_holds_back_that_region_only(session):
    scheme = make_scheme(session, caps={"Guangdong": 2})
    shenzhen = make_project(session, scheme, region="Guangdong", places=5)
    beijing = make_project(session, scheme, region="Beijing", city="Beijing", places=5)
    officer, approver = staff(session)
    hold(session, shenzhen, make_applicant(session)[0])
    run = make_run(session, scheme, officer)
    fits, over_cap, elsewhere = (make_applicant(session)[0] for _ in range(3))
    propose(session, run, fits, shenzhen, score=90)
    propose(session, run, over_cap, shenzhen, score=80)
    propose(session, run, elsewhere, beijing, score=70)

    result = approve_proposals(session, approver, run, now=NOW)

    assert sorted(p.applicant_id for p in result.placements) == sorted([fits.id, elsewhere.id])
    assert [(s.proposal.applicant_id, s.code) for s in result.skipped] == [(over_cap.id, "region_cap")]
    assert "Guangdong" in result.skipped[0].reason


def test_an_applicant_who_already_holds_an_offer_or_a_place_in_the_scheme_is_not_offered_another(session):
    scheme = make_scheme(session)
    first_project, second_project = make_project(session, scheme), make_project(session, scheme)
    officer, approver = staff(session)
    placed, declined_before = make_applicant(session)[0], make_applicant(session)[0]
    hold(session, first_project, placed, PlacementStatus.ACCEPTED)
    hold(session, first_project, declined_before, PlacementStatus.DECLINED)
    run = make_run(session, scheme, officer)
    propose(session, run, placed, second_project)
    propose(session, run, declined_before, second_project)

    result = approve_proposals(session, approver, run, now=NOW)

    assert [p.applicant_id for p in result.placements] == [declined_before.id], "a declined offer is no hold"
    assert [(s.proposal.applicant_id, s.code) for s in result.skipped] == [(placed.id, "applicant_placed")]


def test_the_officer_who_started_the_round_and_its_reviewer_cannot_approve_it(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    admin_like_starter = make_user(session, Role.APPROVER)  # an approver who also started the round
    reviewer = make_user(session, Role.APPROVER)
    run = make_run(session, scheme, admin_like_starter, reviewer)
    proposal = propose(session, run, make_applicant(session)[0], project)

    with pytest.raises(SegregationOfDutiesError, match="started this round"):
        approve_proposals(session, admin_like_starter, run, now=NOW)
    with pytest.raises(SegregationOfDutiesError, match="reviewed this round"):
        approve_proposals(session, reviewer, run, now=NOW)
    with pytest.raises(SegregationOfDutiesError):
        refuse_proposals(session, reviewer, run, [proposal.id], reason="Not suitable")
    with pytest.raises(Forbidden):
        approve_proposals(session, make_user(session, Role.OFFICER), run, now=NOW)

    assert proposal.status == ProposalStatus.PROPOSED
    assert session.exec(select(Placement).where(Placement.scheme_id == scheme.id)).all() == []


def test_only_a_finished_round_can_be_approved(session):
    scheme = make_scheme(session)
    officer, approver = staff(session)
    run = make_run(session, scheme, officer)
    run.status = MatchRunStatus.RUNNING
    with pytest.raises(InvalidTransition):
        approve_proposals(session, approver, run, now=NOW)


def test_approving_a_selection_leaves_the_rest_and_approving_twice_changes_nothing(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    officer, approver = staff(session)
    run = make_run(session, scheme, officer)
    chosen, later = (propose(session, run, make_applicant(session)[0], project) for _ in range(2))

    approve_proposals(session, approver, run, [chosen.id], now=NOW)
    again = approve_proposals(session, approver, run, [chosen.id], now=NOW)

    assert (chosen.status, later.status) == (ProposalStatus.APPROVED, ProposalStatus.PROPOSED)
    assert again.placements == [] and [s.code for s in again.skipped] == ["already_decided"]
    assert len(session.exec(select(Placement).where(Placement.applicant_id == chosen.applicant_id)).all()) == 1


def test_refused_proposals_are_kept_out_and_the_reason_is_recorded(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    officer, approver = staff(session)
    run = make_run(session, scheme, officer)
    refused, kept = (propose(session, run, make_applicant(session)[0], project) for _ in range(2))

    with pytest.raises(Conflict, match="reason"):
        refuse_proposals(session, approver, run, [refused.id], reason="  ")
    refuse_proposals(session, approver, run, [refused.id], reason="The NGO reported a clash of dates.")
    result = approve_proposals(session, approver, run, now=NOW)

    assert refused.status == ProposalStatus.REFUSED
    assert [p.proposal_id for p in result.placements] == [kept.id]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "match.proposals_refused")).one()
    assert event.after == {"refused": [refused.id], "reason": "The NGO reported a clash of dates."}
    with pytest.raises(InvalidTransition):
        refuse_proposals(session, approver, run, [kept.id], reason="Too late: it is an offer now.")


def test_offer_emails_are_written_in_the_approving_transaction_and_vanish_with_it(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    officer, approver = staff(session)
    run = make_run(session, scheme, officer)
    propose(session, run, make_applicant(session)[0], project)

    approving = session.begin_nested()
    approve_proposals(session, approver, run, now=NOW)
    assert len(session.exec(select(OutboxEmail)).all()) == 1
    approving.rollback()

    assert session.exec(select(OutboxEmail)).all() == []
    assert session.exec(select(Placement)).all() == []


@pytest.mark.skipif(not IS_POSTGRES, reason="concurrent approvals are tested on PostgreSQL (set DATABASE_URL); "
                                            "SQLite runs one writer at a time anyway")
def test_two_approvers_approving_overlapping_proposals_at_the_same_moment_never_overshoot():
    """Each approver's selection fits the budget alone; together, and overlapping, they would not."""
    with migrated_database("internmatch_approve_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = make_scheme(setup, budget_hkd=100_000, caps={"Guangdong": 10})
            project = make_project(setup, scheme, places=10, subsidy=25_000)
            officer = make_user(setup, Role.OFFICER)
            approvers = [make_user(setup, Role.APPROVER), make_user(setup, Role.APPROVER)]
            run = make_run(setup, scheme, officer)
            ids = [propose(setup, run, make_applicant(setup)[0], project, score=90 - i).id for i in range(6)]
            setup.commit()

        selections = [ids[:4], ids[2:]]  # overlap on two; four places' worth of budget each; 6 wanted in all
        barrier, approved_counts, errors = threading.Barrier(2), [], []

        def approve(index: int) -> None:
            try:
                with Session(engine, expire_on_commit=False) as db:
                    approver, own_run = db.get(User, approvers[index].id), db.get(MatchRun, run.id)
                    barrier.wait()
                    result = approve_proposals(db, approver, own_run, selections[index], now=NOW)
                    db.commit()
                    approved_counts.append(len(result.placements))
            except Exception as error:  # surfaced by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        assert sum(approved_counts) == 4, approved_counts
        with Session(engine) as check:
            placements = check.exec(select(Placement).where(Placement.scheme_id == scheme.id)).all()
            assert sum(p.subsidy_hkd for p in placements) == 100_000, "exactly the budget, never more"
            assert len({p.applicant_id for p in placements}) == len(placements) == 4, "nobody offered twice"
            approved = check.exec(select(MatchProposal).where(MatchProposal.status == ProposalStatus.APPROVED)).all()
            assert sorted(p.id for p in approved) == sorted(p.proposal_id for p in placements)


def test_an_approver_who_finds_nothing_left_to_approve_or_refuse_writes_no_audit_event(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    officer, approver = staff(session)
    second_approver = make_user(session, Role.APPROVER)
    run = make_run(session, scheme, officer)
    propose(session, run, make_applicant(session)[0], project)

    approve_proposals(session, approver, run, now=NOW)
    with pytest.raises(NothingToApprove) as nothing_left:
        approve_proposals(session, second_approver, run, now=NOW)
    refuse_proposals(session, second_approver, run, [], reason="Nothing selected.")

    assert nothing_left.value.message == (
        f"Round {run.id} has nothing left to approve: every one of its proposals has already been approved or "
        "refused, perhaps by another approver a moment ago. Nothing was changed.")
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_type == "match_run"))]
    assert actions.count("match.proposals_approved") == 1 and "match.proposals_refused" not in actions


def test_nine_approvers_approving_a_whole_round_at_once_approve_it_once_and_the_others_are_told():
    """The approvers queue on the scheme lock (PostgreSQL row lock; SQLite write lock): the first makes the
    offers and writes the one audit event; each of the others finds nothing left, is told so, and records nothing."""
    with migrated_database("internmatch_approve_nine") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = make_scheme(setup)
            project = make_project(setup, scheme, places=5)
            officer = make_user(setup, Role.OFFICER)
            approvers = [make_user(setup, Role.APPROVER) for _ in range(9)]
            run = make_run(setup, scheme, officer)
            proposal_ids = [propose(setup, run, make_applicant(setup)[0], project, score=90 - i).id
                            for i in range(5)]
            setup.commit()

        barrier, made, told, errors = threading.Barrier(9), [], [], []

        def approve(index: int) -> None:
            try:
                barrier.wait()
                # As a web request does: on SQLite the transaction takes the write lock when it begins.
                with Session(for_writing(engine), expire_on_commit=False) as db:
                    approver, own_run = db.get(User, approvers[index].id), db.get(MatchRun, run.id)
                    try:
                        result = approve_proposals(db, approver, own_run, now=NOW)
                    except NothingToApprove as refusal:
                        db.rollback()
                        told.append(refusal.message)
                        return
                    db.commit()
                    made.append(len(result.placements))
            except Exception as error:  # surfaced by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=approve, args=(i,)) for i in range(9)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        assert errors == []
        assert made == [5], "one approver made the offers"
        assert len(told) == 8 and all(f"Round {run.id} has nothing left to approve" in m for m in told)
        with Session(engine) as check:
            events = check.exec(select(AuditEvent).where(AuditEvent.action == "match.proposals_approved")).all()
            assert len(events) == 1 and sorted(events[0].after["approved"]) == sorted(proposal_ids)
            assert len(check.exec(select(Placement).where(Placement.scheme_id == scheme.id)).all()) == 5
            assert len(check.exec(select(OutboxEmail)).all()) == 5, "one offer e-mail each"
