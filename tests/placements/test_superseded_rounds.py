"""Once a newer round of a scheme has finished, an older round's undecided proposals are out of date."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.placements import approvals
from backend.placements.approvals import RoundSuperseded, approve_proposals, refuse_proposals
from backend.placements.models import MatchRun, MatchRunStatus, Placement, ProposalStatus
from tests.factories import make_project, make_scheme
from tests.placements.test_approvals import NOW, make_applicant, make_run, propose, staff


def two_rounds(session):
    """Round `old` and a newer round `new` of the same scheme, both finished, each proposing two applicants."""
    officer, approver = staff(session)
    scheme = make_scheme(session, budget_hkd=1_000_000)
    project = make_project(session, scheme, places=5, subsidy=20_000)
    people = [make_applicant(session, name_en=name)[0] for name in ("Chan Ka Yan", "Wong Siu Ming")]
    old = make_run(session, scheme, officer)
    old_proposals = [propose(session, old, p, project) for p in people]
    new = make_run(session, scheme, officer)
    new_proposals = [propose(session, new, p, project) for p in people]
    return approver, scheme, project, old, old_proposals, new, new_proposals


def awaiting_ids(session) -> list[int]:
    return [run.id for run, _n in approvals.rounds_awaiting_approval(session)]


def test_only_the_newest_finished_round_of_a_scheme_awaits_approval(session):
    _approver, scheme, _project, old, _old_p, new, _new_p = two_rounds(session)
    assert old.id not in awaiting_ids(session) and new.id in awaiting_ids(session)
    states = approvals.approval_states(session, [old, new])
    assert (states[old.id].to_decide, states[old.id].superseded_by) == (2, new.id)
    assert not states[old.id].awaiting_approval and states[old.id].shown_as_superseded
    assert states[new.id].awaiting_approval and states[new.id].superseded_by is None
    assert approvals.superseded_by(session, old) == new.id and approvals.superseded_by(session, new) is None


def test_a_newer_round_that_has_not_finished_or_failed_or_belongs_to_another_scheme_supersedes_nothing(session):
    _approver, scheme, project, old, _old_p, new, _new_p = two_rounds(session)
    for status in (MatchRunStatus.QUEUED, MatchRunStatus.RUNNING, MatchRunStatus.FAILED, MatchRunStatus.CANCELLED):
        session.add(MatchRun(scheme_id=scheme.id, mode="optimal", status=status))
    other_scheme = make_scheme(session, name_en="Another scheme")
    session.add(MatchRun(scheme_id=other_scheme.id, mode="optimal", status=MatchRunStatus.SUCCEEDED))
    session.flush()
    assert approvals.superseded_by(session, new) is None
    assert new.id in awaiting_ids(session) and approvals.superseded_by(session, old) == new.id


def test_an_old_rounds_proposals_can_be_neither_approved_nor_refused_and_the_message_names_the_newer_round(session):
    approver, _scheme, _project, old, old_proposals, new, _new_p = two_rounds(session)
    with pytest.raises(RoundSuperseded) as refused:
        approve_proposals(session, approver, old, now=NOW)
    assert refused.value.status_code == 409 and refused.value.code == "round_superseded"
    assert refused.value.details == {"superseded_by": new.id}
    assert (f"Round {old.id} has been superseded by round {new.id}" in refused.value.message
            and f"Decide the proposals of round {new.id} instead." in refused.value.message)
    with pytest.raises(RoundSuperseded):
        approve_proposals(session, approver, old, [old_proposals[0].id], now=NOW)
    with pytest.raises(RoundSuperseded):
        refuse_proposals(session, approver, old, [old_proposals[0].id], reason="Out of date")
    assert session.exec(select(Placement)).first() is None
    for proposal in old_proposals:
        session.refresh(proposal)
        assert proposal.status == ProposalStatus.PROPOSED
    # The newer round is approved as usual.
    assert len(approve_proposals(session, approver, new, now=NOW).placements) == 2


def test_what_an_older_round_left_undecided_stops_awaiting_approval_once_a_newer_round_finishes(session):
    officer, approver = staff(session)
    scheme = make_scheme(session, budget_hkd=1_000_000)
    project = make_project(session, scheme, places=5, subsidy=20_000)
    first, second = (make_applicant(session, name_en=n)[0] for n in ("Chan Ka Yan", "Wong Siu Ming"))
    old = make_run(session, scheme, officer)
    approved, left = propose(session, old, first, project), propose(session, old, second, project)
    approve_proposals(session, approver, old, [approved.id], now=NOW)
    assert old.id in awaiting_ids(session)  # one proposal still to decide
    refill = make_run(session, scheme, officer)
    propose(session, refill, second, project)
    assert old.id not in awaiting_ids(session) and refill.id in awaiting_ids(session)
    state = approvals.approval_states(session, [old])[old.id]
    assert state.to_decide == 1 and state.superseded_by == refill.id and state.shown_as_superseded
    with pytest.raises(RoundSuperseded):
        approve_proposals(session, approver, old, [left.id], now=NOW)


def test_a_round_that_never_finished_is_not_shown_as_superseded(session):
    _approver, scheme, _project, _old, _old_p, new, _new_p = two_rounds(session)
    failed = MatchRun(scheme_id=scheme.id, mode="optimal", status=MatchRunStatus.FAILED)
    session.add(failed)
    session.flush()
    state = approvals.approval_states(session, [failed])[failed.id]
    assert state == approvals.ApprovalState(0, None) and not state.shown_as_superseded
