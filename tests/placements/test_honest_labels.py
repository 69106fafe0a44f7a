"""An officer's placement on a project she never chose is the officer's, with the officer's reason: never one of
her ranked choices, never a suggestion, in the staff report's choice figures as in the applicant's JSON API
(which shows every offer, as her status page does)."""

from __future__ import annotations

import html

import pytest
from sqlmodel import Session, select

from backend.applicants.models import Choice, ChoiceStatus
from backend.identity.models import Role
from backend.placements import review
from backend.placements.models import (
    AdjustmentKind,
    MatchAdjustment,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    MatchUnplaced,
    PlacementStatus,
    ProposalStatus,
)
from backend.reports import service as reports
from tests.accounts.helpers import sign_in_as
from tests.applicants.helpers import make_applicant
from tests.conftest import migrated_database
from tests.factories import make_project, make_scheme
from tests.placements.test_approvals import hold
from tests.placements.test_rounds import finish_round, make_staff, start, stored_proposals
from tests.placements.test_rounds import make_applicant as make_round_applicant
from tests.rounds_web.test_round_pages import finished_round

REASON = "Asked by the NGO after interview"


def _placed(session, run, project, profile, status, *, pinned=False, rank=None, reason=REASON):
    """A placement as approving `run` makes it: from a proposal (pinned, or on her ranked choice, or neither)."""
    if pinned:
        session.add(MatchAdjustment(scheme_id=project.scheme_id, applicant_id=profile.id, project_id=project.id,
                                    kind=AdjustmentKind.PIN, reason=reason, created_by_id=run.started_by_id))
    proposal = MatchProposal(run_id=run.id, applicant_id=profile.id, project_id=project.id, score=50.0,
                             choice_rank=rank, pinned=pinned, status="approved")
    session.add(proposal)
    session.flush()
    placement = hold(session, project, profile, status)
    placement.proposal_id = proposal.id
    session.add(placement)
    session.flush()
    return placement


def _scene(session):
    scheme = make_scheme(session)
    chosen = make_project(session, scheme, title_en="Harbour data lab")
    placed_on = make_project(session, scheme, title_en="Greater Bay logistics desk")
    officer = make_staff(session, Role.OFFICER)
    run = MatchRun(scheme_id=scheme.id, mode="optimal", status=MatchRunStatus.SUCCEEDED, started_by_id=officer.id)
    session.add(run)
    session.flush()
    return scheme, chosen, placed_on, run


def test_the_report_counts_an_officers_placement_apart_from_choices_and_suggestions(session):
    scheme, chosen, placed_on, run = _scene(session)
    _u, on_choice = make_applicant(session)
    session.add(Choice(applicant_id=on_choice.id, project_id=chosen.id, scheme_id=scheme.id, rank=1,
                       status=ChoiceStatus.ACCEPTED))
    _placed(session, run, chosen, on_choice, PlacementStatus.ACCEPTED, rank=1)
    _u, pinned = make_applicant(session)
    session.add(Choice(applicant_id=pinned.id, project_id=chosen.id, scheme_id=scheme.id, rank=1,
                       status=ChoiceStatus.CLOSED))
    _placed(session, run, placed_on, pinned, PlacementStatus.ACCEPTED, pinned=True)
    _u, suggested = make_applicant(session, open_to_other=True)
    _placed(session, run, placed_on, suggested, PlacementStatus.ACCEPTED)

    table = reports.build(session, scheme).table("choices")

    assert {row[0]: row[1] for row in table.rows} == {
        "Choice 1": 1, "Placed by an officer (not among their choices)": 1, "Suggested (not among their choices)": 1}


def test_her_offers_in_the_api_say_how_each_came_about_and_her_status_lists_every_offer(client, session):
    scheme, chosen, placed_on, run = _scene(session)
    user, profile = make_applicant(session)
    session.add(Choice(applicant_id=profile.id, project_id=chosen.id, scheme_id=scheme.id, rank=1))
    pinned = _placed(session, run, placed_on, profile, PlacementStatus.OFFERED, pinned=True)
    sign_in_as(client, session, user)

    [offer] = client.get("/api/v1/me/offers").json()
    assert offer["id"] == pinned.id
    assert offer["origin"] == "officer" and offer["officer_reason"] == REASON
    assert offer["origin_text"] == f"Placed by an officer: {REASON}"
    status = client.get("/api/v1/me/status").json()
    assert [o["id"] for o in status["offers"]] == [pinned.id], "every offer shows with her status"
    assert status["offers"][0]["origin"] == "officer"
    assert [c["project_id"] for c in status["choices"]] == [chosen.id]


@pytest.fixture(scope="module")
def ranks_engine():
    with migrated_database("internmatch_honest_ranks") as (_url, engine):
        yield engine


def test_a_refill_reports_her_own_rank_not_the_place_left_after_a_declined_choice(ranks_engine):
    """She ranked A first and B second, and declined A's offer: B is still her second choice, on the round
    page, in its first-choice figure and in the reasons, as on her own list and in the report."""
    with Session(ranks_engine) as session:
        scheme = make_scheme(session)
        first, second = make_project(session, scheme, places=1), make_project(session, scheme, places=1)
        applicant = make_round_applicant(session, scheme, [first, second])
        hold(session, first, applicant, PlacementStatus.DECLINED)
        declined = session.exec(select(Choice).where(Choice.applicant_id == applicant.id,
                                                     Choice.project_id == first.id)).one()
        declined.status = ChoiceStatus.DECLINED
        session.add(declined)
        officer = make_staff(session)
        session.commit()
        scheme_id, officer_id, applicant_id, second_id = scheme.id, officer.id, applicant.id, second.id

    run = finish_round(ranks_engine, start(ranks_engine, scheme_id, officer_id, refill=True))

    proposal = stored_proposals(ranks_engine, run.id)[applicant_id]
    assert proposal.project_id == second_id
    assert proposal.choice_rank == 2, "her second choice, as her list says"
    assert [r["params"]["rank"] for r in proposal.reasons if r["code"] == "choice"] == [2]
    assert run.figures["first_choice_share"] == 0.0
    assert run.figures["choice_ranks"] == {"2": 1}


def test_her_status_in_the_api_says_not_placed_with_why_as_her_status_page_does(client, session):
    scheme, project, run, _people, _organisation = finished_round(session)
    user, left_out = make_applicant(session, name_en="Ho Wing")
    session.add(MatchUnplaced(run_id=run.id, applicant_id=left_out.id, reason_code="regional_cap_exhausted",
                              reason_params={"region": "Guangdong", "cap": 5}))
    session.add(Choice(applicant_id=left_out.id, project_id=project.id, scheme_id=scheme.id, rank=1))
    first = session.exec(select(MatchProposal).where(MatchProposal.run_id == run.id)).first()
    first.status = ProposalStatus.APPROVED
    session.add(first)
    session.flush()
    sign_in_as(client, session, user)

    assert "You were not placed on this project in this year's matching." in html.unescape(
        client.get("/status?lang=en").text)
    status = client.get("/api/v1/me/status").json()
    [choice] = status["choices"]
    assert choice["status"] == "not_placed"
    assert choice["next_step"] == "You were not placed on this project in this year's matching."
    [outcome] = status["not_placed"]
    assert outcome["scheme_id"] == scheme.id and "Guangdong" in outcome["reason"]


def test_the_round_gives_an_officers_placement_with_the_officers_reason(ranks_engine):
    with Session(ranks_engine) as session:
        scheme = make_scheme(session)
        chosen, placed_on = make_project(session, scheme, places=1), make_project(session, scheme, places=1)
        applicant = make_round_applicant(session, scheme, [chosen])
        officer = make_staff(session)
        review.pin(session, officer, scheme, applicant.id, placed_on.id, REASON)
        session.commit()
        scheme_id, officer_id, applicant_id = scheme.id, officer.id, applicant.id

    run = finish_round(ranks_engine, start(ranks_engine, scheme_id, officer_id))

    proposal = stored_proposals(ranks_engine, run.id)[applicant_id]
    assert proposal.pinned and proposal.choice_rank is None
    assert [r["text"] for r in review.proposal_reasons(proposal) if r["code"] == "pinned"] == [
        f"Pinned by an officer: {REASON}"]
