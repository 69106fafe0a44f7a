"""A cohort's seats per side hold when offers are made, not only in the matcher: approving proposals never
offers a side more than its most seats, one approver at a time or two at the same moment (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from backend.identity.models import Role, User
from backend.placements.approvals import approve_proposals
from backend.placements.models import MatchRun, Placement
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_project, make_scheme
from tests.placements.test_approvals import hold, make_applicant, make_run, make_user, propose

NOW = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
SEATS = {"hong_kong": [0, 2], "guangdong": [0, 2]}


def _cohort(session):
    scheme = make_scheme(session, admitted_origins=["hong_kong", "guangdong"], kind="thematic_programme",
                         host_institution_en="the Palace Museum", host_institution_zh="故宮博物院")
    return scheme, make_project(session, scheme, places=4, origin_seats=SEATS)


def _applicant(session, origin: str):
    profile, _user = make_applicant(session)
    profile.origin = origin
    session.add(profile)
    session.flush()
    return profile


def test_approval_skips_a_proposal_whose_side_has_no_seat_left_and_says_why(session):
    scheme, cohort = _cohort(session)
    hold(session, cohort, _applicant(session, "hong_kong"))  # one Hong Kong seat already taken
    run = make_run(session, scheme, make_user(session, Role.OFFICER))
    hk = [propose(session, run, _applicant(session, "hong_kong"), cohort, score=90 - i) for i in range(2)]
    gd = propose(session, run, _applicant(session, "guangdong"), cohort, score=50)
    result = approve_proposals(session, make_user(session, Role.APPROVER), run, now=NOW)
    assert sorted(p.proposal_id for p in result.placements) == sorted([hk[0].id, gd.id])
    [skipped] = result.skipped
    assert (skipped.proposal.id, skipped.code) == (hk[1].id, "origin_seats_full")
    assert "The 2 places on this project for youth from Hong Kong are already offered or taken." in skipped.reason


@pytest.mark.skipif(not IS_POSTGRES, reason="two approvers at the same moment need PostgreSQL (set DATABASE_URL); "
                                            "SQLite runs one writer at a time anyway")
def test_two_approvers_at_the_same_moment_never_give_a_side_more_than_its_seats():
    with migrated_database("internmatch_origin_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme, cohort = _cohort(setup)
            officer = make_user(setup, Role.OFFICER)
            approvers = [make_user(setup, Role.APPROVER), make_user(setup, Role.APPROVER)]
            run = make_run(setup, scheme, officer)
            ids = [propose(setup, run, _applicant(setup, "hong_kong"), cohort, score=90 - i).id for i in range(4)]
            setup.commit()
        selections = [ids[:2], ids[2:]]  # each alone fits: two Hong Kong youth for two Hong Kong seats

        barrier, errors = threading.Barrier(2), []

        def approve(index: int) -> None:
            try:
                with Session(engine, expire_on_commit=False) as db:
                    approver, own_run = db.get(User, approvers[index].id), db.get(MatchRun, run.id)
                    barrier.wait()
                    approve_proposals(db, approver, own_run, selections[index], now=NOW)
                    db.commit()
            except Exception as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        with Session(engine) as check:
            offered = check.exec(select(Placement).where(Placement.project_id == cohort.id)).all()
            assert len(offered) == 2, "two Hong Kong seats, two offers, whichever approver came first"
