"""An officer's placement on a project she never chose is the officer's, with the officer's reason: never one of
her ranked choices, never a suggestion, in the staff report's choice figures as in the applicant's JSON API
(which shows every offer, as her status page does)."""

from __future__ import annotations

from backend.applicants.models import Choice, ChoiceStatus
from backend.identity.models import Role
from backend.placements.models import (
    AdjustmentKind,
    MatchAdjustment,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    PlacementStatus,
)
from backend.reports import service as reports
from tests.accounts.helpers import sign_in_as
from tests.applicants.helpers import make_applicant
from tests.factories import make_project, make_scheme
from tests.placements.test_approvals import hold
from tests.placements.test_rounds import make_staff

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
