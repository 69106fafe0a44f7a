"""The match worker: one owner per round, live progress, and nothing half-stored when a worker dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from backend.audit.models import AuditEvent
from backend.core.db import utcnow
from backend.identity.models import User
from backend.placements import rounds, worker
from backend.placements.confirmations import AskStats
from backend.placements.models import MatchProposal, MatchRun, MatchRunStatus, MatchUnplaced
from backend.projects.models import Project
from backend.schemes.models import Scheme
from tests.conftest import migrated_database
from tests.factories import make_scheme
from tests.placements import test_rounds
from tests.placements.test_rounds import finish_round, make_staff, small_scheme, start, stored_proposals

round_engine = test_rounds.round_engine  # the fixture: this module gets a scratch database of its own

ROOT = Path(__file__).resolve().parents[2]
PAST_LOAD = ("text", "rules", "solve", "explain", "sensitivity", "tradeoff")


def _queued_rounds(engine, n: int) -> list[int]:
    with Session(engine) as session:
        scheme = make_scheme(session)
        runs = [MatchRun(scheme_id=scheme.id, mode="optimal", parameters={}) for _ in range(n)]
        session.add_all(runs)
        session.commit()
        return [run.id for run in runs]


def _set_aside(engine, run_ids) -> None:
    """Rounds made only to be claimed are cancelled, so later tests' claims find their own rounds."""
    with Session(engine) as session:
        for run_id in run_ids:
            session.get(MatchRun, run_id).status = MatchRunStatus.CANCELLED
        session.commit()


def test_the_oldest_waiting_round_is_claimed_once_and_then_by_nobody_else(round_engine):
    first, second = _queued_rounds(round_engine, 2)
    try:
        with Session(round_engine) as one, Session(round_engine) as two, Session(round_engine) as three:
            a = worker.claim_next(one, "worker-a")
            one.commit()
            b = worker.claim_next(two, "worker-b")
            two.commit()
            c = worker.claim_next(three, "worker-c")
            three.commit()
            assert (a.id, b.id, c) == (first, second, None)
            assert a.status == MatchRunStatus.RUNNING and a.worker_id == "worker-a" and a.attempts == 1
    finally:
        _set_aside(round_engine, [first, second])


def test_workers_claiming_at_the_same_moment_never_get_the_same_round(round_engine):
    run_ids = _queued_rounds(round_engine, 4)
    workers = 7
    barrier = threading.Barrier(workers)
    claimed: list[int | None] = []
    errors: list[BaseException] = []

    def claim(name: str) -> None:
        try:
            with Session(round_engine) as session:
                barrier.wait(timeout=30)
                run = worker.claim_next(session, name)
                session.commit()
                claimed.append(run.id if run else None)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(f"worker-{i}",)) for i in range(workers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        taken = [run_id for run_id in claimed if run_id is not None]
        assert len(taken) == len(set(taken)), f"a round was handed to two workers: {claimed}"
        assert set(taken) <= set(run_ids) and len(claimed) == workers
        with Session(round_engine) as session:
            owners = {r.id: r.worker_id for r in session.exec(select(MatchRun).where(
                MatchRun.id.in_(run_ids), MatchRun.status == MatchRunStatus.RUNNING))}
        assert set(owners) == set(taken)
    finally:
        _set_aside(round_engine, run_ids)


def test_a_running_round_whose_worker_stopped_beating_is_claimed_again(round_engine):
    (run_id,) = _queued_rounds(round_engine, 1)
    try:
        with Session(round_engine) as session:
            worker.claim_next(session, "worker-that-dies")
            session.commit()
        with Session(round_engine) as session:
            assert worker.claim_next(session, "worker-b") is None, "a beating worker keeps its round"
            session.rollback()
        with Session(round_engine) as session:
            again = worker.claim_next(session, "worker-b", stale_after_seconds=0)
            session.commit()
            assert again.id == run_id and again.worker_id == "worker-b" and again.attempts == 2
        # The first worker, should it wake up, may no longer write to the round.
        with pytest.raises(worker.LostClaim):
            worker.ProgressReporter(round_engine, run_id, "worker-that-dies").report("solve", 0.5)
    finally:
        _set_aside(round_engine, [run_id])


def test_a_progress_line_that_finds_the_database_busy_is_skipped_not_the_round(round_engine):
    (run_id,) = _queued_rounds(round_engine, 1)
    try:
        with Session(round_engine) as session:
            worker.claim_next(session, "worker-a")
            session.commit()
        reporter = worker.ProgressReporter(round_engine, run_id, "worker-a")
        real_write, calls = reporter._write, []

        def busy_once(**values):
            calls.append(values)
            if len(calls) == 1:
                raise OperationalError("UPDATE match_run", {}, Exception("database is locked"))
            real_write(**values)

        reporter._write = busy_once
        reporter.report("text", 0.5)  # busy: skipped, no exception
        with Session(round_engine) as session:
            assert session.get(MatchRun, run_id).stage == "load"
        reporter.report("text", 0.5)  # the same line is written at the next report
        with Session(round_engine) as session:
            run = session.get(MatchRun, run_id)
            assert (run.status, run.stage) == (MatchRunStatus.RUNNING, "text") and len(calls) == 2
    finally:
        _set_aside(round_engine, [run_id])


def test_progress_is_visible_from_another_session_while_the_round_runs(round_engine, monkeypatch):
    with Session(round_engine) as session:
        scheme, _projects, _applicants = small_scheme(session, budget_hkd=100_000, gd_cap=2)
        officer = make_staff(session)
        session.commit()
        run_id = start(round_engine, scheme.id, officer.id)
    in_sensitivity, carry_on = threading.Event(), threading.Event()
    real_what_binds = worker.sensitivity.what_binds

    def held_what_binds(*args, **kwargs):
        in_sensitivity.set()
        carry_on.wait(30)
        return real_what_binds(*args, **kwargs)

    monkeypatch.setattr(worker.sensitivity, "what_binds", held_what_binds)
    runner = threading.Thread(target=finish_round, args=(round_engine, run_id))
    runner.start()
    try:
        assert in_sensitivity.wait(60)
        with Session(round_engine) as observer:
            seen = observer.get(MatchRun, run_id)
            assert (seen.status, seen.stage) == (MatchRunStatus.RUNNING, "sensitivity")
            assert 75 <= seen.progress_percent < 100 and seen.heartbeat_at is not None
            proposals = observer.exec(select(func.count()).where(MatchProposal.run_id == run_id)).one()
            assert proposals == 0, "nothing is stored before the round has finished"
    finally:
        carry_on.set()
        runner.join(60)
    assert stored_proposals(round_engine, run_id)


def test_a_round_that_cannot_be_matched_fails_with_its_reason_and_stores_nothing(round_engine):
    with Session(round_engine) as session:
        scheme, _projects, _applicants = small_scheme(session)
        officer = make_staff(session)
        session.commit()
        scheme_id, officer_id = scheme.id, officer.id
    run_id = start(round_engine, scheme_id, officer_id)
    with Session(round_engine) as session:
        # As if the stored parameters named someone who is not in the frozen snapshot.
        run = session.get(MatchRun, run_id)
        snapshot, parameters = rounds.freeze_inputs(session, run)
        run.input_snapshot, run.parameters = snapshot, {**parameters, "pinned": [["999999", "1"]]}
        session.commit()

    run = finish_round(round_engine, run_id)

    assert run.status == MatchRunStatus.FAILED and "unknown applicant" in run.error
    assert not stored_proposals(round_engine, run_id)


def _wait_for(engine, run_id, predicate, process=None, timeout=180.0, log: Path | None = None) -> MatchRun:
    """Polls the round until `predicate` holds; a round that ends first, or a worker that exits, fails at once
    with the round's state and the worker's log, so a failure says what happened instead of timing out."""
    deadline = time.monotonic() + timeout
    run = None
    while time.monotonic() < deadline:
        with Session(engine, expire_on_commit=False) as session:
            run = session.get(MatchRun, run_id)
            if predicate(run):
                return run
        state = f"round {run_id}: {run.status}/{run.stage} {run.progress_percent}% error={run.error!r}"
        worker_log = log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else ""
        if run.status not in (MatchRunStatus.QUEUED, MatchRunStatus.RUNNING):
            raise AssertionError(f"the round ended before it got there: {state}\n{worker_log}")
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the worker exited early with {process.returncode}: {state}\n{worker_log}")
        time.sleep(0.02)
    raise AssertionError(f"the round did not get there in {timeout:.0f} s: {state}\n{worker_log}")


def _counts(engine, run_id) -> tuple[int, int, int]:
    with Session(engine) as session:
        proposals = session.exec(select(func.count()).where(MatchProposal.run_id == run_id)).one()
        applicants = session.exec(select(func.count(MatchProposal.applicant_id.distinct()))
                                  .where(MatchProposal.run_id == run_id)).one()
        unplaced = session.exec(select(func.count()).where(MatchUnplaced.run_id == run_id)).one()
        return proposals, applicants, unplaced


@pytest.fixture
def demo_database():
    """A real deployment's shape: its own database with the demo data, for worker processes to use."""
    from backend.demo import load_demo

    with migrated_database("internmatch_worker") as (url, engine):
        with Session(engine) as session:
            load_demo(n_projects=60, n_applicants=6000, seed=2026, session=session)
            # A tight budget: the price search and the what-binds re-solve make the round last a while.
            scheme = session.exec(select(Scheme).where(Scheme.kind == "funding_scheme")).one()
            cost = sum(p.places_granted * p.subsidy_granted_per_place for p in session.exec(select(Project)))
            scheme.budget_hkd = cost * 7 // 10
            session.commit()
        yield url, engine


def _worker_process(url: str, log: Path, *options: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "backend.cli", "worker", "--poll-seconds", "0.1", *options],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def test_a_worker_killed_mid_round_leaves_nothing_stored_and_the_round_is_finished_exactly_once(
        demo_database, tmp_path):
    url, engine = demo_database
    with Session(engine) as session:
        officer = session.exec(select(User).where(User.email == "officer@demo.internmatch.hk")).one()
        scheme = session.exec(select(Scheme).where(Scheme.kind == "funding_scheme")).one()
        run_id = start(engine, scheme.id, officer.id)
    log = tmp_path / "worker.log"

    process = _worker_process(url, log)
    try:
        _wait_for(engine, run_id, lambda r: r.status == MatchRunStatus.RUNNING and r.stage in PAST_LOAD, process,
                  log=log)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    killed = _wait_for(engine, run_id, lambda r: True)
    assert killed.status == MatchRunStatus.RUNNING, log.read_text()
    assert _counts(engine, run_id) == (0, 0, 0), "a killed worker leaves no partial proposals"

    # A new worker notices the silence, takes the round over; asked to stop, it hands the round back.
    process = _worker_process(url, log, "--stale-after", "0.5")
    try:
        _wait_for(engine, run_id, lambda r: r.worker_id != killed.worker_id and r.stage in PAST_LOAD, process,
                  log=log)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    handed_back = _wait_for(engine, run_id, lambda r: True)
    assert handed_back.status == MatchRunStatus.QUEUED and handed_back.worker_id is None, log.read_text()
    assert _counts(engine, run_id)[0] == 0

    with Session(engine) as session:
        assert worker.claim_next(session, "in-process").id == run_id
        session.commit()
    assert worker.run_round(engine, run_id, "in-process") == MatchRunStatus.SUCCEEDED
    with Session(engine) as session:
        done = session.get(MatchRun, run_id)
        proposals, applicants, unplaced = _counts(engine, run_id)
        assert done.status == MatchRunStatus.SUCCEEDED and done.finished_at <= utcnow()
        assert proposals == applicants == done.figures["proposed"] > 0, "each proposal stored exactly once"
        assert unplaced == done.figures["unplaced"]
        assert done.figures["what_binds"]["budget"]["binding"]


def test_the_in_process_worker_runs_queued_rounds_and_stops_when_asked(round_engine):
    from backend.core.settings import Settings

    assert worker.should_run_in_process(Settings(database_url="sqlite:///x.db", environment="development"))
    assert not worker.should_run_in_process(Settings(database_url="postgresql://h/db", environment="development"))
    assert not worker.should_run_in_process(Settings(database_url="sqlite:///x.db", environment="test"))
    with Session(round_engine) as session:
        scheme, _projects, _applicants = small_scheme(session)
        officer = make_staff(session)
        session.commit()
        scheme_id, officer_id = scheme.id, officer.id
    run_id = start(round_engine, scheme_id, officer_id)

    in_process = worker.InProcessWorker(round_engine, poll_seconds=0.05).start()
    try:
        finished = _wait_for(round_engine, run_id, lambda r: r.status not in ("queued", "running"), timeout=60)
    finally:
        in_process.stop()
    assert finished.status == MatchRunStatus.SUCCEEDED and not in_process.thread.is_alive()


def test_the_worker_asks_ended_internships_for_confirmations_in_a_thread_of_its_own(round_engine, monkeypatch):
    passes = []

    def ask_and_remind(session):
        passes.append(session.get_bind() is not None)
        return AskStats(asked=1, reminded=0)

    monkeypatch.setattr(worker, "ask_and_remind", ask_and_remind)
    stop = threading.Event()
    names = [t.name for t in worker.companion_threads(stop, round_engine)]
    assert "intern-confirmations" in names
    thread = threading.Thread(target=worker.ask_confirmations_forever, args=(stop,),
                              kwargs={"engine": round_engine, "every_seconds": 0.01})
    thread.start()
    deadline = time.monotonic() + 30
    while len(passes) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(10)
    assert len(passes) >= 2 and not thread.is_alive(), "it asks again each pass and stops when told"


def test_starting_a_round_only_queues_it_and_the_worker_freezes_the_inputs_as_they_are_then(round_engine,
                                                                                             monkeypatch):
    with Session(round_engine) as session:
        scheme, projects, applicants = small_scheme(session, budget_hkd=200_000, gd_cap=5)
        officer = make_staff(session)
        session.commit()
        scheme_id, officer_id, project_id = scheme.id, officer.id, projects[0].id
        known = {str(a.id) for a in applicants}
    run_id = start(round_engine, scheme_id, officer_id)
    with Session(round_engine) as session:
        queued = session.get(MatchRun, run_id)
        assert queued.status == MatchRunStatus.QUEUED and queued.input_snapshot is None
        assert "inputs_read_at" not in queued.parameters and "pinned" not in queued.parameters
        # Someone applies after the officer pressed start but before the worker picks the round up.
        newcomer = test_rounds.make_applicant(session, session.get(Scheme, scheme_id),
                                              [session.get(Project, project_id)])
        session.commit()
        newcomer_id = str(newcomer.id)

    freezing, carry_on = threading.Event(), threading.Event()
    real_freeze = rounds.read_inputs

    def held_freeze(*args, **kwargs):
        freezing.set()
        carry_on.wait(30)
        return real_freeze(*args, **kwargs)

    monkeypatch.setattr(rounds, "read_inputs", held_freeze)
    runner = threading.Thread(target=finish_round, args=(round_engine, run_id))
    runner.start()
    try:
        assert freezing.wait(60)
        with Session(round_engine) as observer:
            seen = observer.get(MatchRun, run_id)
            assert (seen.status, seen.stage) == (MatchRunStatus.RUNNING, "freeze") and seen.input_snapshot is None
    finally:
        carry_on.set()
        runner.join(60)
    with Session(round_engine) as session:
        run = session.get(MatchRun, run_id)
        frozen_ids = {a["id"] for a in run.input_snapshot["applicants"]}
        actions = list(session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "match_run",
                                                                    AuditEvent.object_id == str(run_id))))
    assert run.status == MatchRunStatus.SUCCEEDED, run.error
    assert known | {newcomer_id} <= frozen_ids, "the inputs are those at the moment the worker froze them"
    assert run.parameters["inputs_read_at"] and "freeze" in run.timings
    assert actions.count("match.inputs_frozen") == 1


def test_a_worker_that_lost_its_round_while_freezing_stores_no_inputs_and_the_next_one_freezes_them(round_engine):
    with Session(round_engine) as session:
        scheme, _projects, _applicants = small_scheme(session)
        officer = make_staff(session)
        session.commit()
        run_id = start(round_engine, scheme.id, officer.id)
    with Session(round_engine) as session:
        worker.claim_next(session, "worker-a")
        session.commit()
    with Session(round_engine, expire_on_commit=False) as session:
        run = session.get(MatchRun, run_id)
        session.expunge(run)
    with Session(round_engine) as session:  # worker-a was thought dead: worker-b took the round over
        session.get(MatchRun, run_id).worker_id = "worker-b"
        session.commit()
    with pytest.raises(worker.LostClaim):
        worker._freeze(round_engine, run, "worker-a", {})
    with Session(round_engine) as session:
        assert session.get(MatchRun, run_id).input_snapshot is None
    assert worker.run_round(round_engine, run_id, "worker-b") == MatchRunStatus.SUCCEEDED
    with Session(round_engine) as session:
        assert session.get(MatchRun, run_id).input_snapshot["applicants"]


def test_a_freshly_frozen_round_runs_on_exactly_what_it_stores(demo_database):
    """The worker runs a round it has just frozen on the inputs it read, not on a decoding of the snapshot it
    stored: so those must be the same thing, field for field, for every kind of programme in the demo (mixed
    cohorts with seats per origin, Guangdong applicants, languages, NGO rankings)."""
    import json

    from backend.market import inputs as round_inputs

    _url, engine = demo_database
    with Session(engine) as session:
        schemes = session.exec(select(Scheme)).all()
        assert len({s.kind for s in schemes}) >= 3
        for scheme in schemes:
            loaded, _parameters = rounds.read_inputs(session, MatchRun(scheme_id=scheme.id, mode="optimal"))
            stored = json.loads(json.dumps(round_inputs.snapshot(loaded)))  # as the JSON column keeps it
            assert loaded.applicants or scheme.kind != "funding_scheme"
            assert round_inputs.from_snapshot(stored) == loaded
