"""Parallel starts of a round for one scheme: exactly one is queued, the others are told plainly."""

import threading

import pytest
from sqlmodel import Session, col, select

from backend.core.errors import InvalidTransition
from backend.identity.models import User
from backend.placements import rounds
from backend.placements.models import MatchRun, MatchRunStatus
from backend.schemes.models import Scheme
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_project, make_scheme
from tests.placements.test_rounds import make_applicant, make_staff


@pytest.mark.skipif(not IS_POSTGRES, reason="a real race needs parallel connections writing at once: PostgreSQL "
                                            "only (set DATABASE_URL); SQLite serialises writers, so nothing can race")
def test_ten_parallel_starts_for_one_scheme_queue_exactly_one_round():
    with migrated_database("internmatch_round_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = make_scheme(setup)
            projects = [make_project(setup, scheme) for _ in range(3)]
            for _ in range(5):
                make_applicant(setup, scheme, projects)
            officer = make_staff(setup)
            setup.commit()

        barrier, outcomes = threading.Barrier(10), {}

        def start(n: int) -> None:
            with Session(engine, expire_on_commit=False) as db:
                actor, row = db.get(User, officer.id), db.get(Scheme, scheme.id)
                barrier.wait()
                try:
                    rounds.start_round(db, actor, row)
                    db.commit()
                    outcomes[n] = "started"
                except InvalidTransition as refusal:
                    db.rollback()
                    outcomes[n] = refusal

        threads = [threading.Thread(target=start, args=(n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert len(outcomes) == 10, outcomes
        assert sum(1 for o in outcomes.values() if o == "started") == 1, outcomes
        refusals = [o for o in outcomes.values() if o != "started"]
        assert all(r.status_code == 409 and r.message == "A round for this scheme is already waiting or running."
                   for r in refusals), refusals
        with Session(engine) as check:
            queued = check.exec(select(MatchRun).where(
                MatchRun.scheme_id == scheme.id,
                col(MatchRun.status).in_([MatchRunStatus.QUEUED, MatchRunStatus.RUNNING]))).all()
            assert len(queued) == 1
