"""Match rounds end to end: queued by an officer, run by the worker, stored, reproducible.

Rounds are run by the worker in its own transactions, so these tests use a scratch database of their
own (committed rows), not the rolled-back `session`. The helpers here are shared by the other round
test modules.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

import matching
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.audit.models import AuditEvent
from backend.core.db import utcnow
from backend.core.errors import Forbidden, InvalidTransition
from backend.identity.models import Role, User
from backend.market.inputs import from_snapshot
from backend.placements import rounds, worker
from backend.placements.models import (
    AdjustmentKind,
    MatchAdjustment,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    MatchUnplaced,
    Placement,
    PlacementStatus,
)
from backend.projects.models import Project
from tests.conftest import migrated_database
from tests.factories import make_project, make_scheme

# --- shared helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def round_engine():
    """A migrated database of the module's own, whose rows are committed (the worker reads them)."""
    with migrated_database("internmatch_rounds") as (_url, engine):
        yield engine


def make_staff(session: Session, role: Role = Role.OFFICER) -> User:
    n = uuid.uuid4().hex[:8]
    user = User(email=f"{role.value}-{n}@example.hk", role=role, display_name=f"{role.value} {n}")
    session.add(user)
    session.flush()
    return user


def make_applicant(session: Session, scheme, choices: list[Project], *, joined_before: bool = False,
                   **overrides) -> ApplicantProfile:
    values = dict(name_en="Chan Ka Yan", date_of_birth=date(2004, 3, 1), origin="hong_kong",
                  education_level="bachelor", field_of_study="Data Science", skills="Python",
                  languages={"cantonese": 5, "putonghua": 3}, available_from=date(2027, 6, 1),
                  available_to=date(2027, 8, 31), joined_before=joined_before)
    values.update(overrides)
    profile = ApplicantProfile(**values)
    session.add(profile)
    session.flush()
    for rank, project in enumerate(choices, start=1):
        session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=rank))
    session.flush()
    return profile


def finish_round(engine, run_id: int, worker_id: str = "test-worker", **options) -> MatchRun:
    """What the worker loop does for one round: claim it, run it; returns the stored round."""
    with Session(engine) as session:
        claimed = worker.claim_next(session, worker_id)
        session.commit()
        assert claimed is not None and claimed.id == run_id, "the round under test is the oldest waiting"
    worker.run_round(engine, run_id, worker_id, **options)
    with Session(engine, expire_on_commit=False) as session:
        return session.get(MatchRun, run_id)


def stored_proposals(engine, run_id: int) -> dict[int, MatchProposal]:
    with Session(engine) as session:
        return {p.applicant_id: p for p in session.exec(select(MatchProposal).where(MatchProposal.run_id == run_id))}


def stored_unplaced(engine, run_id: int) -> dict[int, MatchUnplaced]:
    with Session(engine) as session:
        return {u.applicant_id: u for u in session.exec(select(MatchUnplaced).where(MatchUnplaced.run_id == run_id))}


def start(engine, scheme_id: int, officer_id: int, **options) -> int:
    with Session(engine) as session:
        run = rounds.start_round(session, session.get(User, officer_id), session.get(rounds.Scheme, scheme_id),
                                 **options)
        session.commit()
        return run.id


def small_scheme(session: Session, *, budget_hkd: int = 10_000_000, gd_cap: int = 100):
    """Three projects (two in Guangdong, one in Beijing), 3 places each, 12 applicants wanting them."""
    scheme = make_scheme(session, budget_hkd=budget_hkd, caps={"Guangdong": gd_cap})
    shenzhen = make_project(session, scheme, places=3, subsidy=20_000)
    guangzhou = make_project(session, scheme, places=3, subsidy=25_000, city="Guangzhou")
    beijing = make_project(session, scheme, places=3, subsidy=30_000, region="Beijing", city="Beijing")
    projects = [shenzhen, guangzhou, beijing]
    applicants = [make_applicant(session, scheme, [projects[i % 3], projects[(i + 1) % 3]],
                                 joined_before=i % 4 == 0) for i in range(12)]
    return scheme, projects, applicants


# --- tests ------------------------------------------------------------------------------------------


def test_a_round_proposes_placements_that_pass_the_checker_and_respect_places_budget_and_caps(round_engine):
    with Session(round_engine) as session:
        # Budget for 6 places at most; Guangdong may take 4 of its 6 places.
        scheme, projects, applicants = small_scheme(session, budget_hkd=150_000, gd_cap=4)
        officer = make_staff(session)
        session.commit()
        scheme_id, officer_id = scheme.id, officer.id
        subsidy = {p.id: p.subsidy_granted_per_place for p in projects}
        region = {p.id: p.region for p in projects}

    run = finish_round(round_engine, start(round_engine, scheme_id, officer_id))

    assert run.status == MatchRunStatus.SUCCEEDED and run.progress_percent == 100, run.error
    proposals, unplaced = stored_proposals(round_engine, run.id), stored_unplaced(round_engine, run.id)
    inputs = from_snapshot(run.input_snapshot)
    result = matching.MatchResult(
        placements=[matching.Placement(str(p.applicant_id), str(p.project_id), p.score, p.choice_rank)
                    for p in proposals.values()],
        unplaced=[matching.Unplaced(str(u.applicant_id), u.reason_code, u.reason_params, "")
                  for u in unplaced.values()],
        report={})
    assert matching.verify(result, inputs.projects, inputs.applicants, inputs.scheme) == []
    assert len(proposals) + len(unplaced) == 12
    assert sum(subsidy[p.project_id] for p in proposals.values()) <= 150_000
    assert sum(1 for p in proposals.values() if region[p.project_id] == "Guangdong") <= 4
    assert all(n <= 3 for n in Counter(p.project_id for p in proposals.values()).values())
    assert all(p.reasons and {"code", "params", "text"} <= set(p.reasons[0]) for p in proposals.values())
    figures = run.figures
    assert figures["placed"] == len(proposals) == figures["proposed"]
    assert figures["budget_committed_hkd"] == sum(subsidy[p.project_id] for p in proposals.values())
    assert figures["regions"]["Guangdong"]["cap"] == 4 and "what_binds" in figures
    assert {"load", "text", "rules", "solve", "explain", "sensitivity", "store"} <= set(run.timings)
    with Session(round_engine) as session:
        actions = set(session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "match_run",
                                                                   AuditEvent.object_id == str(run.id))))
    assert {"match.round_started", "match.round_succeeded"} <= actions


def test_only_officers_start_rounds_and_one_round_at_a_time_per_scheme(round_engine):
    with Session(round_engine) as session:
        scheme, _projects, _applicants = small_scheme(session)
        approver, officer = make_staff(session, Role.APPROVER), make_staff(session)
        with pytest.raises(Forbidden):
            rounds.start_round(session, approver, scheme, mode="optimal")
        first = rounds.start_round(session, officer, scheme, mode="stable")
        with pytest.raises(InvalidTransition):
            rounds.start_round(session, officer, scheme, mode="optimal")
        rounds.cancel_round(session, officer, first)
        assert first.status == MatchRunStatus.CANCELLED
        session.commit()


def test_a_rerun_from_the_snapshot_reproduces_the_proposals_although_the_data_changed(round_engine):
    with Session(round_engine) as session:
        scheme, projects, _applicants = small_scheme(session, budget_hkd=200_000, gd_cap=5)
        officer = make_staff(session)
        session.commit()
        scheme_id, officer_id, project_id = scheme.id, officer.id, projects[0].id
    first = finish_round(round_engine, start(round_engine, scheme_id, officer_id, mode="stable"))
    with Session(round_engine) as session:
        # After the round: more places, and a newcomer, none of which the snapshot knows about.
        session.get(Project, project_id).places_granted = 9
        make_applicant(session, session.get(rounds.Scheme, scheme_id), [session.get(Project, project_id)])
        again = rounds.rerun_round(session, session.get(User, officer_id), session.get(MatchRun, first.id))
        session.commit()
        again_id = again.id

    second = finish_round(round_engine, again_id)

    def placed(run_id):
        return {a: (p.project_id, p.score) for a, p in stored_proposals(round_engine, run_id).items()}

    assert second.status == MatchRunStatus.SUCCEEDED
    assert placed(second.id) == placed(first.id) and placed(first.id)
    assert second.input_snapshot == first.input_snapshot and second.parameters["seed"] == first.parameters["seed"]


def test_pins_and_accepted_placements_stay_fixed_and_count_against_places_budget_and_caps(round_engine):
    with Session(round_engine) as session:
        scheme = make_scheme(session, budget_hkd=10_000_000, caps={"Guangdong": 2})
        officer = make_staff(session)
        shenzhen = make_project(session, scheme, places=1, subsidy=20_000)
        guangzhou = make_project(session, scheme, places=5, subsidy=25_000, city="Guangzhou")
        beijing = make_project(session, scheme, places=5, subsidy=30_000, region="Beijing", city="Beijing")
        accepted = make_applicant(session, scheme, [shenzhen])
        pinned = make_applicant(session, scheme, [beijing, guangzhou])
        eager = [make_applicant(session, scheme, [shenzhen, guangzhou]) for _ in range(4)]
        # Her choice became "accepted" with the offer, so it is no longer an active choice.
        session.exec(select(Choice).where(Choice.applicant_id == accepted.id)).one().status = ChoiceStatus.ACCEPTED
        session.add(Placement(scheme_id=scheme.id, project_id=shenzhen.id, applicant_id=accepted.id,
                              status=PlacementStatus.ACCEPTED, subsidy_hkd=20_000,
                              offer_deadline=utcnow() + timedelta(days=7)))
        session.add(MatchAdjustment(scheme_id=scheme.id, applicant_id=pinned.id, project_id=guangzhou.id,
                                    kind=AdjustmentKind.PIN, reason="Needs to be near family in Guangzhou"))
        session.commit()
        ids = dict(scheme=scheme.id, officer=officer.id, shenzhen=shenzhen.id, guangzhou=guangzhou.id,
                   accepted=accepted.id, pinned=pinned.id, eager=[a.id for a in eager])

    run = finish_round(round_engine, start(round_engine, ids["scheme"], ids["officer"]))

    proposals = stored_proposals(round_engine, run.id)
    assert run.status == MatchRunStatus.SUCCEEDED, run.error
    assert ids["accepted"] not in proposals, "an accepted placement is not proposed again"
    assert proposals[ids["pinned"]].project_id == ids["guangzhou"] and proposals[ids["pinned"]].pinned
    # Shenzhen's one place is taken by the accepted intern, and the two Guangdong slots by her and the pin.
    assert not [p for p in proposals.values() if p.project_id in (ids["shenzhen"], ids["guangzhou"])
                and p.applicant_id != ids["pinned"]]
    assert all(a not in proposals for a in ids["eager"])
    figures = run.figures
    assert figures["held"] == 1 and figures["pinned"] == 1
    assert figures["regions"]["Guangdong"]["placed"] == 2
    assert figures["budget_committed_hkd"] == 20_000 + 25_000
    assert {u.reason_code for u in stored_unplaced(round_engine, run.id).values()} == {"regional_cap_exhausted"}


def test_excluded_pairs_are_never_proposed(round_engine):
    with Session(round_engine) as session:
        scheme = make_scheme(session, budget_hkd=10_000_000)
        officer = make_staff(session)
        project = make_project(session, scheme, places=10)
        kept_out = make_applicant(session, scheme, [project])
        others = [make_applicant(session, scheme, [project]) for _ in range(3)]
        session.add(MatchAdjustment(scheme_id=scheme.id, applicant_id=kept_out.id, project_id=project.id,
                                    kind=AdjustmentKind.EXCLUDE, reason="Conflict of interest with the host"))
        session.commit()
        scheme_id, officer_id, kept_out_id, project_id = scheme.id, officer.id, kept_out.id, project.id
        others_ids = {a.id for a in others}

    run = finish_round(round_engine, start(round_engine, scheme_id, officer_id))

    assert set(stored_proposals(round_engine, run.id)) == others_ids
    assert stored_unplaced(round_engine, run.id)[kept_out_id].reason_code == "excluded"
    assert run.parameters["excluded"] == [[str(kept_out_id), str(project_id)]]


def test_a_refill_keeps_accepted_placements_and_fills_freed_places_from_waiting_applicants(round_engine):
    with Session(round_engine) as session:
        scheme = make_scheme(session, budget_hkd=10_000_000)
        officer = make_staff(session)
        project = make_project(session, scheme, places=3, subsidy=20_000)
        accepted, offered, declined = (make_applicant(session, scheme, [project]) for _ in range(3))
        waiting = [make_applicant(session, scheme, [project]) for _ in range(2)]
        deadline = utcnow() + timedelta(days=7)
        for person, status, choice_status in ((accepted, PlacementStatus.ACCEPTED, ChoiceStatus.ACCEPTED),
                                              (offered, PlacementStatus.OFFERED, ChoiceStatus.OFFERED),
                                              (declined, PlacementStatus.DECLINED, ChoiceStatus.DECLINED)):
            session.add(Placement(scheme_id=scheme.id, project_id=project.id, applicant_id=person.id,
                                  status=status, subsidy_hkd=20_000, offer_deadline=deadline))
            session.exec(select(Choice).where(Choice.applicant_id == person.id)).one().status = choice_status
        session.commit()
        scheme_id, officer_id = scheme.id, officer.id
        accepted_id, offered_id, waiting_ids = accepted.id, offered.id, {a.id for a in waiting}

    run = finish_round(round_engine, start(round_engine, scheme_id, officer_id, refill=True))

    proposals = stored_proposals(round_engine, run.id)
    assert run.status == MatchRunStatus.SUCCEEDED and run.is_refill, run.error
    assert accepted_id not in proposals and offered_id not in proposals
    assert len(proposals) == 1 and set(proposals) <= waiting_ids, "one place was freed by the declined offer"
    assert {h["applicant_id"] for h in run.parameters["held"]} == {accepted_id, offered_id}
    assert run.figures["placed"] == 3 and run.figures["proposed"] == 1
    with Session(round_engine) as session:
        statuses = {p.applicant_id: p.status for p in session.exec(select(Placement).where(
            Placement.scheme_id == scheme_id))}
    assert statuses[accepted_id] == PlacementStatus.ACCEPTED, "the round never touches placements"


def test_an_accepted_placement_the_rules_no_longer_allow_still_holds_its_place_budget_and_cap(round_engine):
    with Session(round_engine) as session:
        scheme = make_scheme(session, budget_hkd=45_000, caps={"Guangdong": 2})
        officer = make_staff(session)
        project = make_project(session, scheme, places=2, subsidy=20_000)
        # She accepted, then shortened her availability: she no longer fits the dates, but keeps her place.
        accepted = make_applicant(session, scheme, [project], available_to=date(2027, 7, 1))
        waiting = [make_applicant(session, scheme, [project]) for _ in range(3)]
        session.add(Placement(scheme_id=scheme.id, project_id=project.id, applicant_id=accepted.id,
                              status=PlacementStatus.ACCEPTED, subsidy_hkd=20_000,
                              offer_deadline=utcnow() + timedelta(days=7)))
        session.commit()
        scheme_id, officer_id, accepted_id = scheme.id, officer.id, accepted.id
        waiting_ids = {a.id for a in waiting}

    run = finish_round(round_engine, start(round_engine, scheme_id, officer_id))

    proposals = stored_proposals(round_engine, run.id)
    assert run.status == MatchRunStatus.SUCCEEDED, run.error
    assert len(proposals) == 1 and set(proposals) <= waiting_ids, "one place of two is still hers"
    assert run.parameters["held"][0]["applicant_id"] == accepted_id and not run.parameters["held"][0]["pinned"]
    assert run.input_snapshot["scheme"]["budget_hkd"] == 25_000
    assert run.input_snapshot["scheme"]["region_caps"] == {"Guangdong": 1}
