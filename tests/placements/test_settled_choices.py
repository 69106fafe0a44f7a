"""What an answered offer settles: accepting closes her other choices, a declined or lapsed (or excluded)
pair is never offered again, and an officer's placement is labelled as the officer's, never as her choice."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from backend.applicants import choices as choice_service
from backend.applicants.models import Choice, ChoiceStatus
from backend.core.errors import Conflict
from backend.identity.models import Role
from backend.placements import review
from backend.placements.approvals import approve_proposals
from backend.placements.models import (
    AdjustmentKind,
    MatchAdjustment,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    Placement,
    PlacementStatus,
)
from backend.placements.offers import accept_offer
from tests.accounts.helpers import sign_in_as
from tests.applicants.helpers import TODAY
from tests.applicants.helpers import make_applicant as make_full_applicant
from tests.conftest import migrated_database
from tests.factories import make_project, make_scheme
from tests.placements.test_approvals import NOW, choice_of, hold, make_applicant, make_run, propose, staff
from tests.placements.test_offers import BEFORE_DEADLINE, offer
from tests.placements.test_rounds import finish_round, make_staff, start, stored_proposals
from tests.placements.test_rounds import make_applicant as make_round_applicant

# --- (a) accepting a place closes the other choices -------------------------------------------------


def test_accepting_an_offer_closes_her_other_choices_and_they_no_longer_invite_reordering(session):
    scheme = make_scheme(session)
    taken, other, third = (make_project(session, scheme) for _ in range(3))
    profile, applicant = make_applicant(session)
    placement = offer(session, taken, profile)
    for rank, project in ((2, other), (3, third)):
        session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=rank))
    session.flush()

    accept_offer(session, applicant, placement.id, now=BEFORE_DEADLINE)

    assert [choice_of(session, profile, p).status for p in (taken, other, third)] == [
        ChoiceStatus.ACCEPTED, ChoiceStatus.CLOSED, ChoiceStatus.CLOSED]
    overview = choice_service.status_overview(session, applicant, today=TODAY)
    closed = [c for c in overview.choices if c.status == "closed"]
    assert len(closed) == 2
    assert all("change the order" not in c.next_step and "closed" in c.next_step for c in closed)
    assert not any(item.movable for item in choice_service.list_choices(session, applicant))
    with pytest.raises(Conflict, match="accepted a place"):
        choice_service.move_choice(session, applicant, choice_of(session, profile, third).id, "up", today=TODAY)


# --- (b) a declined, lapsed or excluded pair is never offered again ---------------------------------


@pytest.mark.parametrize("case", ["declined", "expired", "excluded"])
def test_approval_never_offers_a_pair_declined_lapsed_or_excluded_since_the_round(session, case):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    profile, _user = make_applicant(session)
    officer, approver = staff(session)
    run = make_run(session, scheme, officer)
    proposal = propose(session, run, profile, project)
    choice = choice_of(session, profile, project)
    if case == "excluded":
        review.exclude(session, officer, scheme, profile.id, project.id, "Conflict of interest at the host")
    else:
        hold(session, project, profile, PlacementStatus.DECLINED if case == "declined" else PlacementStatus.EXPIRED)
        choice.status = ChoiceStatus.DECLINED if case == "declined" else ChoiceStatus.NOT_PLACED
        session.add(choice)
        session.flush()

    result = approve_proposals(session, approver, run, now=NOW)

    assert result.placements == []
    assert [(s.proposal.id, s.code) for s in result.skipped] == [(proposal.id, "pair_barred")]


@pytest.fixture(scope="module")
def settled_engine():
    with migrated_database("internmatch_settled") as (_url, engine):
        yield engine


def test_a_refill_round_never_suggests_back_a_project_she_declined(settled_engine):
    """She was open to other projects: declining dropped the choice, but the suggestion must not bring it back."""
    with Session(settled_engine) as session:
        scheme = make_scheme(session)
        declined = make_project(session, scheme, places=1)
        full = make_project(session, scheme, places=1)
        holder = make_round_applicant(session, scheme, [full])
        hold(session, full, holder)
        applicant = make_round_applicant(session, scheme, [declined, full], open_to_other=True)
        hold(session, declined, applicant, PlacementStatus.DECLINED)
        choice = choice_of(session, applicant, declined)
        choice.status = ChoiceStatus.DECLINED
        session.add(choice)
        officer = make_staff(session)
        session.commit()
        ids = (scheme.id, officer.id, applicant.id, declined.id)
    scheme_id, officer_id, applicant_id, declined_id = ids

    run_id = start(settled_engine, scheme_id, officer_id, refill=True)
    run = finish_round(settled_engine, run_id)

    assert run.status == MatchRunStatus.SUCCEEDED
    assert applicant_id not in stored_proposals(settled_engine, run_id), "the declined place is not offered back"
    assert [applicant_id, declined_id] in [[int(a), int(p)] for a, p in run.parameters["excluded"]]


# --- (c) an officer's placement is the officer's, not "your Nth choice" -----------------------------


def test_a_pin_on_a_project_she_never_chose_is_no_ranked_choice_and_not_a_first_choice(settled_engine):
    with Session(settled_engine) as session:
        scheme = make_scheme(session)
        chosen = make_project(session, scheme, places=1)
        pinned_to = make_project(session, scheme, places=1)
        first = make_round_applicant(session, scheme, [chosen])
        # She chose nothing at all: before, the pin became her "1st choice" and counted as one.
        nothing_chosen = make_round_applicant(session, scheme, [])
        officer = make_staff(session)
        review.pin(session, officer, scheme, nothing_chosen.id, pinned_to.id, "Asked by the NGO after interview")
        session.commit()
        ids = (scheme.id, officer.id, first.id, nothing_chosen.id)
    scheme_id, officer_id, first_id, pinned_id = ids

    run = finish_round(settled_engine, start(settled_engine, scheme_id, officer_id))

    proposals = stored_proposals(settled_engine, run.id)
    pinned = proposals[pinned_id]
    assert pinned.pinned and pinned.choice_rank is None
    assert "choice" not in [r["code"] for r in pinned.reasons]
    assert proposals[first_id].choice_rank == 1
    assert run.figures["first_choice_share"] == 1.0, "only her ranked choices count in first-choice figures"
    assert run.figures["choice_ranks"] == {"1": 1, "officer": 1}


def test_her_status_page_shows_every_offer_and_an_officers_placement_with_the_officers_reason(client, session):
    scheme = make_scheme(session)
    chosen = make_project(session, scheme, title_en="Harbour data lab")
    placed_on = make_project(session, scheme, title_en="Greater Bay logistics desk")
    user, profile = make_full_applicant(session)
    session.add(Choice(applicant_id=profile.id, project_id=chosen.id, scheme_id=scheme.id, rank=1))
    officer = make_staff(session, Role.OFFICER)
    session.add(MatchAdjustment(scheme_id=scheme.id, applicant_id=profile.id, project_id=placed_on.id,
                                kind=AdjustmentKind.PIN, reason="Asked by the NGO after interview",
                                created_by_id=officer.id))
    run = MatchRun(scheme_id=scheme.id, mode="optimal", status=MatchRunStatus.SUCCEEDED, started_by_id=officer.id)
    session.add(run)
    session.flush()
    proposal = MatchProposal(run_id=run.id, applicant_id=profile.id, project_id=placed_on.id, score=50.0,
                             choice_rank=None, pinned=True, status="approved")
    session.add(proposal)
    session.flush()
    hold(session, placed_on, profile, PlacementStatus.OFFERED).proposal_id = proposal.id
    session.flush()
    sign_in_as(client, session, user)

    page = client.get("/status").text

    assert "Greater Bay logistics desk" in page, "the offer shows on her status page"
    assert "Placed by an officer: Asked by the NGO after interview" in page
    assert "Harbour data lab" in page
    offers_page = client.get("/placements").text
    assert "Placed by an officer: Asked by the NGO after interview" in offers_page
    assert session.exec(select(Placement).where(Placement.applicant_id == profile.id)).one().status == "offered"
