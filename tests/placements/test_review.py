"""Reviewing rounds: pins and exclusions with reasons, views of a round, and what changed between rounds."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.core.errors import Conflict, Forbidden, InvalidTransition
from backend.identity.models import Role
from backend.placements import review, rounds
from backend.placements.models import MatchProposal, MatchRun, MatchRunStatus, MatchUnplaced
from tests.factories import make_project, make_scheme
from tests.placements.test_rounds import make_applicant, make_staff


def _actions(session, object_id) -> list[str]:
    return list(session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "match_adjustment",
                                                             AuditEvent.object_id == str(object_id))
                             .order_by(AuditEvent.id)))


def test_a_pin_needs_an_officer_a_reason_and_an_applicant_who_meets_the_requirements(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    applicant = make_applicant(session, scheme, [project])
    too_young = make_applicant(session, scheme, [project], date_of_birth=date(2012, 1, 1))
    officer, approver = make_staff(session), make_staff(session, Role.APPROVER)

    with pytest.raises(Forbidden):
        review.pin(session, approver, scheme, applicant.id, project.id, "Family reasons")
    with pytest.raises(Conflict) as blank:
        review.pin(session, officer, scheme, applicant.id, project.id, "   ")
    assert blank.value.details["field"] == "reason"
    with pytest.raises(Conflict, match="age"):
        review.pin(session, officer, scheme, too_young.id, project.id, "Asked by the NGO")

    pin = review.pin(session, officer, scheme, applicant.id, project.id, "Asked by the NGO after interview")

    assert pin.kind == "pin" and pin.created_by_id == officer.id
    assert _actions(session, pin.id) == ["match.pin"]
    run = rounds.start_round(session, officer, scheme, mode="optimal")
    assert run.status == MatchRunStatus.QUEUED and not rounds.is_frozen(run)
    snapshot, parameters = rounds.freeze_inputs(session, run)  # what the worker does first
    assert parameters["pins"] == [[str(applicant.id), str(project.id)]] and snapshot["applicants"]


def test_one_pin_per_applicant_until_it_is_removed_with_a_reason(session):
    scheme = make_scheme(session)
    first, second = make_project(session, scheme), make_project(session, scheme, city="Guangzhou")
    applicant = make_applicant(session, scheme, [first, second])
    officer = make_staff(session)
    pin = review.pin(session, officer, scheme, applicant.id, first.id, "Needs to stay in Shenzhen")

    with pytest.raises(Conflict):
        review.pin(session, officer, scheme, applicant.id, second.id, "Changed my mind")
    with pytest.raises(Conflict):
        review.exclude(session, officer, scheme, applicant.id, first.id, "Contradicts the pin")
    with pytest.raises(Conflict):
        review.remove_adjustment(session, officer, pin, "")
    review.remove_adjustment(session, officer, pin, "The applicant moved to Guangzhou")
    moved = review.pin(session, officer, scheme, applicant.id, second.id, "The applicant moved to Guangzhou")
    excluded = review.exclude(session, officer, scheme, applicant.id, first.id, "Related to the host's director")

    assert pin.removed_at is not None
    with pytest.raises(InvalidTransition):
        review.remove_adjustment(session, officer, pin, "Again")
    assert [(a.kind, a.project_id) for a in review.adjustments(session, scheme)] == [
        ("pin", second.id), ("exclude", first.id)]
    assert _actions(session, pin.id) == ["match.pin", "match.pin_removed"]
    assert _actions(session, moved.id) == ["match.pin"] and _actions(session, excluded.id) == ["match.exclude"]


def _finished_run(session, scheme, placed: dict, unplaced: dict | None = None) -> MatchRun:
    run = MatchRun(scheme_id=scheme.id, mode="optimal", status=MatchRunStatus.SUCCEEDED, parameters={})
    session.add(run)
    session.flush()
    for applicant_id, (project_id, score) in placed.items():
        session.add(MatchProposal(run_id=run.id, applicant_id=applicant_id, project_id=project_id, score=score,
                                  choice_rank=1, reasons=[{"code": "choice", "params": {"rank": 1},
                                                           "text": "your 1st choice"}]))
    for applicant_id, (code, params) in (unplaced or {}).items():
        session.add(MatchUnplaced(run_id=run.id, applicant_id=applicant_id, reason_code=code, reason_params=params))
    session.flush()
    return run


def test_compare_tells_who_is_newly_placed_no_longer_placed_moved_or_unchanged(session):
    scheme = make_scheme(session)
    p1, p2 = make_project(session, scheme), make_project(session, scheme, city="Guangzhou")
    a, b, c, d, e = (make_applicant(session, scheme, [p1, p2]).id for _ in range(5))
    before = _finished_run(session, scheme, {a: (p1.id, 70), b: (p1.id, 60), c: (p2.id, 50), d: (p1.id, 40)})
    after = _finished_run(session, scheme, {a: (p1.id, 70), b: (p2.id, 55), d: (p1.id, 40), e: (p2.id, 65)})

    changes = review.compare(session, after, before)

    assert changes.newly_placed == {e: p2.id}
    assert changes.no_longer_placed == {c: p2.id}
    assert changes.moved == [review.Move(b, p1.id, p2.id)]
    assert changes.unchanged == 2 and changes.changed == 3


def test_a_round_is_shown_by_project_by_applicant_and_with_reasons_for_the_unplaced(session):
    scheme = make_scheme(session)
    p1, p2 = make_project(session, scheme), make_project(session, scheme, city="Guangzhou")
    a, b, c, d = (make_applicant(session, scheme, [p1, p2]).id for _ in range(4))
    run = _finished_run(session, scheme, {a: (p1.id, 50), b: (p1.id, 80), c: (p2.id, 60)},
                        {d: ("regional_cap_exhausted", {"region": "Guangdong", "cap": 3, "project_id": str(p1.id)})})

    by_project = review.proposals_by_project(session, run)
    by_applicant = review.proposals_by_applicant(session, run)
    unplaced = review.unplaced_with_reasons(session, run)

    assert [(g.project.id, [v.applicant.id for v in g.proposals]) for g in by_project] == [(p1.id, [b, a]),
                                                                                          (p2.id, [c])]
    assert [(x.applicant.id, x.project.id) for x in by_applicant] == [(a, p1.id), (b, p1.id), (c, p2.id)]
    assert [(u.applicant.id, u.reason_code) for u in unplaced] == [(d, "regional_cap_exhausted")]
    assert "Guangdong" in unplaced[0].text and "3" in unplaced[0].text
    waiting = MatchRun(scheme_id=scheme.id, mode="optimal", parameters={})
    session.add(waiting)
    session.flush()
    with pytest.raises(InvalidTransition):
        review.proposals_by_project(session, waiting)


def test_an_officer_marks_a_finished_round_as_reviewed(session):
    scheme = make_scheme(session)
    officer, approver = make_staff(session), make_staff(session, Role.APPROVER)
    run = _finished_run(session, scheme, {})

    with pytest.raises(Forbidden):
        review.mark_reviewed(session, approver, run)
    review.mark_reviewed(session, officer, run)

    assert run.reviewed_by_id == officer.id
