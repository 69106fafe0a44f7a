"""The match worker: claims queued rounds, runs the matcher, stores the outcome all at once.

Crash safety rests on three habits:
- a claim is one atomic UPDATE (PostgreSQL: on a row picked with FOR UPDATE SKIP LOCKED), so two
  workers never run the same round;
- progress and heartbeats are written in their own short transactions, so pages see them live and a
  dead worker (no heartbeat for `stale_after_seconds`) is noticed and its round claimed again;
- a round's inputs are frozen as its first stage ("freeze": read in one consistent read-only pass, then
  stored with the round in one short transaction, only while this worker still owns it), so a worker killed
  while freezing leaves the round unfrozen and whoever resumes it freezes it afresh; once stored, a resumed
  or re-run round uses the stored inputs;
- proposals, unplaced reasons, figures and `succeeded` are written in ONE transaction, and only while
  this worker still owns the round, so a killed worker leaves nothing half-stored and a round's
  proposals are stored exactly once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

import matching
from backend.applicants import demand
from backend.audit import service as audit
from backend.core.bulk import insert_rows
from backend.core.db import for_writing, get_engine, utcnow
from backend.core.errors import DomainError
from backend.core.settings import Settings
from backend.market import inputs as round_inputs
from backend.market.inputs import RoundInputs
from backend.outbox.sender import run_sender_forever
from backend.placements import approval_jobs, round_status, rounds, sensitivity
from backend.placements.confirmations import ask_and_remind
from backend.placements.models import MatchProposal, MatchRun, MatchRunStatus, MatchUnplaced, Placement
from backend.placements.offers import expire_offers, overdue
from backend.projects.portfolio_jobs import analyse_portfolios_forever
from matching import tradeoff

log = logging.getLogger("internmatch.worker")

STALE_AFTER_SECONDS = 60
HEARTBEAT_SECONDS = 10
MAX_ATTEMPTS = 3
# Stage → share of the progress bar; the solve and the what-binds re-solves are the long parts.
STAGE_SPANS: dict[str, tuple[int, int]] = {
    "freeze": (0, 4), "load": (4, 6), "text": (6, 15), "rules": (15, 30), "solve": (30, 65), "explain": (65, 75),
    "done": (75, 75), "sensitivity": (75, 88), "tradeoff": (88, 95), "store": (95, 100),
}
# The largest round whose policy trade-off the worker works out (two extra solves; see run_round).
TRADEOFF_MAX_APPLICANTS = 30_000
STAGES = ("queued", "freeze", "load", "text", "rules", "solve", "explain", "sensitivity", "tradeoff", "store",
          "done")
_PROGRESS_INTERVAL_S = 0.5


class LostClaim(RuntimeError):
    """Another worker took the round over (this one was thought dead): stop without storing."""


class RoundInterrupted(RuntimeError):
    """The worker is shutting down: hand the round back to the queue."""


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:80]


def _claimable(stale_after_seconds: float):
    cutoff = utcnow() - timedelta(seconds=stale_after_seconds)
    return or_(col(MatchRun.status) == MatchRunStatus.QUEUED,
               and_(col(MatchRun.status) == MatchRunStatus.RUNNING, col(MatchRun.heartbeat_at) < cutoff))


def claim_next(session: Session, worker_id: str, *, stale_after_seconds: float = STALE_AFTER_SECONDS
               ) -> MatchRun | None:
    """Take the oldest queued round, or a running one whose worker stopped beating. Caller commits.

    One UPDATE whose target is chosen by a sub-select: on PostgreSQL the sub-select locks its row with
    SKIP LOCKED, so concurrent claimers pass over each other's rows; SQLite runs one writer at a time,
    and the condition is repeated on the row itself, so a round already taken is never taken again.
    """
    candidate = (select(MatchRun.id).where(_claimable(stale_after_seconds))
                 .order_by(col(MatchRun.created_at), col(MatchRun.id)).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    claimed = round_status.claim(session, candidate, _claimable(stale_after_seconds), worker_id, utcnow())
    if claimed is None:
        return None
    return session.get(MatchRun, claimed, populate_existing=True)


def _owned(run_id: int, worker_id: str):
    return and_(col(MatchRun.id) == run_id, col(MatchRun.worker_id) == worker_id,
                col(MatchRun.status) == MatchRunStatus.RUNNING)


class ProgressReporter:
    """Writes stage, percent and heartbeat in short transactions of its own, at most twice a second."""

    def __init__(self, engine: Engine, run_id: int, worker_id: str, stop: threading.Event | None = None):
        self.engine, self.run_id, self.worker_id, self.stop = engine, run_id, worker_id, stop
        self.stage, self.percent, self._written_at = "load", 0, 0.0
        self._lock = threading.Lock()

    def _write(self, **values: Any) -> None:
        with self._lock, self.engine.begin() as conn:
            result = conn.execute(update(MatchRun).where(_owned(self.run_id, self.worker_id))
                                  .values(heartbeat_at=utcnow(), **values))
        if result.rowcount == 0:
            raise LostClaim(f"round {self.run_id} is no longer held by {self.worker_id}")

    def report(self, stage: str, fraction: float) -> None:
        if self.stop is not None and self.stop.is_set():
            raise RoundInterrupted("worker stopping")
        low, high = STAGE_SPANS.get(stage, (self.percent, self.percent))
        percent = max(self.percent, int(low + (high - low) * min(max(fraction, 0.0), 1.0)))
        shown = self.stage if stage == "done" else stage
        now = time.monotonic()
        if shown == self.stage and percent == self.percent:
            return
        if shown == self.stage and now - self._written_at < _PROGRESS_INTERVAL_S:
            self.percent = percent
            return
        try:
            self._write(stage=shown, progress_percent=percent)
        except OperationalError:
            # SQLite: another writer held the lock past the busy timeout. A progress line is not worth failing a
            # round for; the next report writes it (ownership is still proven by the next write and the store).
            log.warning("progress of round %s not written (database busy); trying again at the next step",
                        self.run_id, exc_info=True)
            return
        self.stage, self.percent, self._written_at = shown, percent, now

    def beat(self) -> None:
        self._write()


def _heartbeat(reporter: ProgressReporter, every: float) -> tuple[threading.Event, threading.Thread]:
    """A beat even while the matcher is busy in one long step without calling back."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every):
            try:
                reporter.beat()
            except Exception:  # noqa: BLE001 - a missed beat is retried; a lost claim shows at the next stage
                log.debug("heartbeat for round %s failed", reporter.run_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{reporter.run_id}", daemon=True)
    thread.start()
    return done, thread


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


def own_rank(placement, parameters: dict) -> int | None:
    """The placement's choice rank as her own list numbers it (None: an officer's placement on a project she
    never chose; 0: a suggestion). The matcher numbers only the choices still open (`rounds.own_ranks`)."""
    pair = (placement.applicant_id, placement.project_id)
    if list(pair) in parameters.get("unchosen", []):
        return None
    if not placement.choice_rank:
        return placement.choice_rank
    return (parameters.get("choice_ranks") or {}).get(placement.applicant_id, {}).get(placement.project_id,
                                                                                     placement.choice_rank)


def round_figures(result: matching.MatchResult, parameters: dict, proposed: int) -> dict:
    r = result.report
    keys = ("applicants", "projects", "places_total", "placed", "budget_hkd", "budget_left_hkd",
            "first_choice_share", "choice_ranks", "first_timers_placed", "first_timers_total", "regions",
            "unplaced_reasons", "objective", "bound", "gap", "cap_rule", "blocking_pairs", "blocking_pairs_checked",
            "empty_seats")
    figures = {key: _jsonable(r.get(key)) for key in keys}
    unchosen = {tuple(pair) for pair in parameters.get("unchosen", [])}
    if unchosen or parameters.get("choice_ranks"):
        # Her own rank counts; an officer's placement on a project she never chose is no ranked choice: it is
        # counted apart.
        ranks = Counter(own_rank(p, parameters) or 0 for p in result.placements
                        if (p.applicant_id, p.project_id) not in unchosen)
        ranked = sum(ranks.values())
        figures["first_choice_share"] = round(ranks[1] / ranked, 4) if ranked else 0.0
        figures["choice_ranks"] = {("suggested" if k == 0 else str(k)): n for k, n in sorted(ranks.items())}
        if unchosen:
            figures["choice_ranks"]["officer"] = len(result.placements) - ranked
    figures.update(budget_committed_hkd=r["budget_used_hkd"], proposed=proposed, unplaced=len(result.unplaced),
                   held=len(parameters.get("held", [])), pinned=len(parameters.get("pins", [])),
                   excluded_pairs=len(parameters.get("excluded", [])), warnings=list(r.get("warnings", []))[:50])
    return figures


def _own_reason(reason, rank: int | None, pin_reason: str | None = None) -> dict:
    """A reason as stored: a choice with her own rank, a pin with the officer's reason."""
    params = reason.params
    if reason.code == "choice" and rank and isinstance(params, dict) and params.get("rank") != rank:
        params = {**params, "rank": rank}
    if reason.code == "pinned" and pin_reason:
        params = {**(params or {}), "reason": pin_reason}
    return {"code": reason.code, "params": params, "text": reason.text}


def chosen_per_project(loaded) -> dict[int, int]:
    """For each project of the round, how many of its applicants had it among their choices."""
    counts = Counter(project_id for applicant in loaded.applicants for project_id in applicant.choices)
    return {int(p.id): counts[p.id] for p in loaded.projects}


def _store(engine: Engine, run: MatchRun, worker_id: str, result: matching.MatchResult, what_binds: dict,
           timings: dict, chosen: dict[int, int], policy_tradeoff: list[dict] | None = None) -> None:
    """Everything the round produced, and `succeeded`, in one transaction: all of it or none.

    The rows go in with one bulk write per table (PostgreSQL: COPY), not one INSERT per row.
    """
    started = time.perf_counter()
    held = {(str(h["applicant_id"]), str(h["project_id"])) for h in run.parameters.get("held", [])}
    pins = {tuple(pair) for pair in run.parameters.get("pins", [])}
    unchosen = {tuple(pair) for pair in run.parameters.get("unchosen", [])}
    # Reason params go to the JSON column as they are: `insert_rows` encodes dates and numpy numbers.
    # A pin on a project she never chose carries no choice rank and no "your Nth choice" reason; a choice
    # carries her own rank, as her list numbers it.
    pin_reasons = run.parameters.get("pin_reasons") or {}

    def proposal(p, rank: int | None) -> dict:
        return dict(run_id=run.id, applicant_id=int(p.applicant_id), project_id=int(p.project_id), score=p.score,
                    choice_rank=rank, pinned=(p.applicant_id, p.project_id) in pins, status="proposed",
                    reasons=[_own_reason(r, rank, pin_reasons.get(p.applicant_id)) for r in p.reasons
                             if not (r.code == "choice" and (p.applicant_id, p.project_id) in unchosen)])

    proposals = [proposal(p, own_rank(p, run.parameters)) for p in result.placements
                 if (p.applicant_id, p.project_id) not in held]
    unplaced = [dict(run_id=run.id, applicant_id=int(u.applicant_id), reason_code=u.reason_code,
                     reason_params=u.params) for u in result.unplaced]
    figures = round_figures(result, run.parameters, len(proposals))
    figures["what_binds"] = what_binds
    figures["policy"] = rounds.policy_of_round(run).as_dict()
    figures["tradeoff"] = policy_tradeoff or []
    if policy_tradeoff is None:
        figures["tradeoff_skipped"] = {"applicants": int(result.report.get("applicants", 0)),
                                       "limit": TRADEOFF_MAX_APPLICANTS}
    with Session(engine) as session:
        # Taking the row first (SQLite: the write lock) proves the round is still ours before writing.
        mine = session.execute(update(MatchRun).where(_owned(run.id, worker_id))
                               .values(stage="store", progress_percent=STAGE_SPANS["store"][0])
                               .execution_options(synchronize_session=False))
        if mine.rowcount == 0:
            session.rollback()
            raise LostClaim(f"round {run.id} is no longer held by {worker_id}")
        insert_rows(session, MatchProposal.__table__, proposals)
        insert_rows(session, MatchUnplaced.__table__, unplaced)
        demand.record_round(session, run.id, chosen)
        timings["store"] = round(time.perf_counter() - started, 4)
        timings["total"] = round(sum(v for k, v in timings.items() if k != "total"), 4)
        round_status.succeed(session, run.id, worker_id, figures=figures, timings=timings,
                             proposed=len(proposals), unplaced=len(unplaced))
        session.commit()


def _freeze(engine: Engine, run: MatchRun, worker_id: str, timings: dict) -> RoundInputs:
    """The round's first stage: read its inputs as they are now and store them with it (`rounds.freeze_inputs`).

    Reading takes no lock (one read-only transaction: SQLite's WAL snapshot, PostgreSQL REPEATABLE READ), so
    the site keeps writing meanwhile; the snapshot is then stored in one short transaction, only while this
    worker still owns the round. Returns the inputs as read: the snapshot decodes to exactly these
    (`round_inputs.from_snapshot`), so the round runs on them without decoding what it has just encoded.
    """
    started = time.perf_counter()
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        loaded, parameters = rounds.read_inputs(session, run)
        session.rollback()
    snapshot = round_inputs.snapshot(loaded)
    with Session(for_writing(engine)) as session:
        mine = session.execute(update(MatchRun).where(_owned(run.id, worker_id))
                               .values(input_snapshot=snapshot, parameters=parameters, heartbeat_at=utcnow())
                               .execution_options(synchronize_session=False))
        if mine.rowcount == 0:
            session.rollback()
            raise LostClaim(f"round {run.id} is no longer held by {worker_id}")
        audit.record(session, None, "match.inputs_frozen", "match_run", run.id,
                     after={"inputs_read_at": parameters["inputs_read_at"], "applicants": len(snapshot["applicants"]),
                            "projects": len(snapshot["projects"]), "pinned": len(parameters["pinned"]),
                            "excluded": len(parameters["excluded"]), "worker": worker_id})
        session.commit()
    run.input_snapshot, run.parameters = snapshot, parameters
    timings["freeze"] = round(time.perf_counter() - started, 4)
    return loaded


def _fail(engine: Engine, run_id: int, worker_id: str, error: str) -> None:
    with Session(engine) as session:
        round_status.fail(session, run_id, worker_id, error, owned=[_owned(run_id, worker_id)])
        session.commit()


def _release(engine: Engine, run_id: int, worker_id: str) -> None:
    with engine.begin() as conn:
        round_status.release(conn, run_id, owned=[_owned(run_id, worker_id)])


def run_round(engine: Engine, run_id: int, worker_id: str, *, stop: threading.Event | None = None,
              heartbeat_seconds: float = HEARTBEAT_SECONDS,
              budget_step_hkd: int = sensitivity.BUDGET_STEP_HKD,
              cap_step: int = sensitivity.CAP_STEP_PLACES) -> MatchRunStatus | None:
    """Run a round this worker has claimed; returns its final status (None if it was taken over)."""
    read_from = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(MatchRun, run_id)
        if run is None or run.status != MatchRunStatus.RUNNING or run.worker_id != worker_id:
            return None
        session.expunge(run)
    if run.attempts > MAX_ATTEMPTS:
        _fail(engine, run_id, worker_id, f"gave up after {MAX_ATTEMPTS} attempts that did not finish")
        return MatchRunStatus.FAILED
    reporter = ProgressReporter(engine, run_id, worker_id, stop)
    beating, beater = _heartbeat(reporter, heartbeat_seconds)
    timings: dict[str, float] = {}
    try:
        fresh = None
        if not rounds.is_frozen(run):
            reporter.report("freeze", 0.0)
            fresh = _freeze(engine, run, worker_id, timings)
            reporter.report("freeze", 1.0)
            read_from = time.perf_counter()
        loaded, pinned, excluded = rounds.round_inputs_of(run, fresh)
        seed = int(run.parameters.get("seed", rounds.DEFAULT_SEED))
        decoded = time.perf_counter() - read_from  # reading the stored snapshot is part of loading
        policy = rounds.policy_of_round(run)
        result = matching.match(loaded.projects, loaded.applicants, loaded.scheme, rankings=loaded.rankings,
                                mode=run.mode, pinned=pinned, excluded=excluded, seed=seed,
                                progress=reporter.report, policy=policy)
        timings.update(result.report["timings_s"])
        timings.pop("total", None)
        timings["load"] = round(timings.get("load", 0.0) + decoded, 4)

        started = time.perf_counter()
        reporter.report("sensitivity", 0.0)
        what_binds = sensitivity.what_binds(
            loaded, pinned=pinned, excluded=excluded, base=result if run.mode == "optimal" else None,
            budget_step_hkd=budget_step_hkd, cap_step=cap_step, seed=seed,
            progress=lambda f: reporter.report("sensitivity", f))
        timings["sensitivity"] = round(time.perf_counter() - started, 4)
        # What the first-timer priority costs: the same inputs solved with a lighter priority and with none
        # (one optimal solve each on inputs prepared once; docs/matching.md gives the time it adds).
        # Beyond TRADEOFF_MAX_APPLICANTS the two re-solves would add about a minute to a national round (whose
        # target is half a minute end to end): the page says it was not worked out, and why.
        started = time.perf_counter()
        reporter.report("tradeoff", 0.0)
        policy_tradeoff = None
        if len(loaded.applicants) <= TRADEOFF_MAX_APPLICANTS:
            policy_tradeoff = [outcome.as_dict() for outcome in tradeoff.compare(
                loaded.projects, loaded.applicants, loaded.scheme, tradeoff.alternatives(policy), pinned=pinned,
                excluded=excluded, seed=seed, progress=lambda f: reporter.report("tradeoff", f),
                # An optimal round's own result is the first row: not solved again.
                solved={"scheme": result} if run.mode == "optimal" else None)]
        timings["tradeoff"] = round(time.perf_counter() - started, 4)
        reporter.report("store", 0.0)
        beating.set()
        _store(engine, run, worker_id, result, what_binds, timings, chosen_per_project(loaded), policy_tradeoff)
        return MatchRunStatus.SUCCEEDED
    except LostClaim:
        log.warning("round %s was taken over by another worker; dropping this attempt", run_id)
        return None
    except RoundInterrupted:
        _release(engine, run_id, worker_id)
        return MatchRunStatus.QUEUED
    except DomainError as error:  # the inputs cannot make a round (a pin the rules no longer allow): said plainly
        log.warning("round %s cannot run: %s", run_id, error.message)
        _fail(engine, run_id, worker_id, str(error.message))
        return MatchRunStatus.FAILED
    except Exception as error:  # noqa: BLE001 - any failure is the round's outcome, stated on it
        log.exception("round %s failed", run_id)
        _fail(engine, run_id, worker_id, f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}")
        return MatchRunStatus.FAILED
    finally:
        beating.set()
        beater.join(timeout=heartbeat_seconds + 5)


def _work_waiting(engine: Engine, stale_after_seconds: float) -> bool:
    """A read-only look first, so an idle worker never takes SQLite's write lock."""
    with engine.connect() as conn:
        return conn.execute(select(MatchRun.id).where(_claimable(stale_after_seconds)).limit(1)).first() is not None


def run_forever(stop_event: threading.Event, poll_seconds: float = 2.0, *, engine: Engine | None = None,
                worker_id: str | None = None, stale_after_seconds: float = STALE_AFTER_SECONDS,
                on_round: Callable[[int, MatchRunStatus | None], None] | None = None) -> None:
    """Claim and run rounds until `stop_event` is set; a round in progress then goes back to the queue."""
    if engine is None:
        engine = get_engine()
    worker_id = worker_id or default_worker_id()
    log.info("match worker %s started", worker_id)
    while not stop_event.is_set():
        try:
            run_id = None
            if _work_waiting(engine, stale_after_seconds):
                with Session(for_writing(engine)) as session:
                    run = claim_next(session, worker_id, stale_after_seconds=stale_after_seconds)
                    run_id = run.id if run else None
                    session.commit()
            if run_id is None:
                stop_event.wait(poll_seconds)
                continue
            log.info("round %s claimed by %s", run_id, worker_id)
            status = run_round(engine, run_id, worker_id, stop=stop_event)
            log.info("round %s finished: %s", run_id, status)
            if on_round:
                on_round(run_id, status)
        except Exception:  # noqa: BLE001 - the loop outlives a database hiccup
            log.exception("match worker loop error")
            stop_event.wait(poll_seconds)
    log.info("match worker %s stopped", worker_id)


def should_run_in_process(settings: Settings) -> bool:
    """`serve` on SQLite runs the worker in-process; tests opt in explicitly (their own rounds, own threads)."""
    if settings.run_worker_in_process is not None:
        return settings.run_worker_in_process
    return settings.worker_in_process and settings.environment != "test"


EXPIRE_EVERY_SECONDS = 60.0


def _offers_due(engine: Engine) -> bool:
    """A read-only look first, so an idle pass never takes SQLite's write lock."""
    with engine.connect() as conn:
        return conn.execute(select(Placement.id).where(overdue(utcnow())).limit(1)).first() is not None


def expire_offers_forever(stop_event: threading.Event, *, engine: Engine | None = None,
                          every_seconds: float = EXPIRE_EVERY_SECONDS) -> None:
    """Lapse offers past their deadline (freeing their places) once a minute until `stop_event` is set."""
    if engine is None:
        engine = get_engine()
    while not stop_event.is_set():
        try:
            if _offers_due(engine):
                # Reads, then writes: on SQLite the transaction must hold the write lock from its start.
                with Session(for_writing(engine)) as session:
                    expired = expire_offers(session)
                    session.commit()
                if expired:
                    log.info("%s offer(s) expired", len(expired))
        except Exception:  # noqa: BLE001 - the loop outlives a database hiccup
            log.exception("expiring offers failed")
        stop_event.wait(every_seconds)


CONFIRMATIONS_EVERY_SECONDS = 3600.0


def ask_confirmations_forever(stop_event: threading.Event, *, engine: Engine | None = None,
                              every_seconds: float = CONFIRMATIONS_EVERY_SECONDS) -> None:
    """Ask interns whose internship has ended to confirm what they received, and remind them, once an hour.

    Asking is idempotent (each intern is asked once and reminded at most `confirmation_reminders` times, days
    apart), so an hourly pass only finds work on the day an internship ends or a reminder falls due."""
    if engine is None:
        engine = get_engine()
    while not stop_event.is_set():
        try:
            with Session(for_writing(engine)) as session:
                stats = ask_and_remind(session)
                session.commit()
            if stats.asked or stats.reminded:
                log.info("asked %s intern(s) to confirm what they received; reminded %s", stats.asked,
                         stats.reminded)
        except Exception:  # noqa: BLE001 - the loop outlives a database hiccup
            log.exception("asking interns to confirm what they received failed")
        stop_event.wait(every_seconds)


def companion_threads(stop_event: threading.Event, engine: Engine | None = None, *,
                      settings: Settings | None = None, sender_idle_seconds: float = 5.0,
                      expire_every_seconds: float = EXPIRE_EVERY_SECONDS) -> list[threading.Thread]:
    """The other background work one worker process does besides rounds: e-mail delivery, offer expiry,
    asking interns to confirm what they received, working out funding portfolios and approving rounds."""
    return [threading.Thread(target=run_sender_forever, args=(stop_event,),
                             kwargs={"engine": engine, "settings": settings, "idle_seconds": sender_idle_seconds},
                             name="outbox-sender", daemon=True),
            threading.Thread(target=expire_offers_forever, args=(stop_event,),
                             kwargs={"engine": engine, "every_seconds": expire_every_seconds},
                             name="offer-expiry", daemon=True),
            threading.Thread(target=ask_confirmations_forever, args=(stop_event,), kwargs={"engine": engine},
                             name="intern-confirmations", daemon=True),
            threading.Thread(target=analyse_portfolios_forever, args=(stop_event,), kwargs={"engine": engine},
                             name="funding-portfolios", daemon=True),
            threading.Thread(target=approval_jobs.approve_rounds_forever, args=(stop_event,),
                             kwargs={"engine": engine}, name="round-approvals", daemon=True)]


class InProcessWorker:
    """The worker as daemon threads of the web process (SQLite: no separate process to run).

    Rounds, e-mail delivery, offer expiry and asking interns to confirm what they received: everything
    `internmatch worker` does.
    """

    def __init__(self, engine: Engine | None = None, poll_seconds: float = 2.0, *,
                 settings: Settings | None = None, sender_idle_seconds: float = 5.0,
                 expire_every_seconds: float = EXPIRE_EVERY_SECONDS):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=run_forever, args=(self.stop_event, poll_seconds),
                                       kwargs={"engine": engine}, name="match-worker", daemon=True)
        self.companions = companion_threads(self.stop_event, engine, settings=settings,
                                            sender_idle_seconds=sender_idle_seconds,
                                            expire_every_seconds=expire_every_seconds)

    def start(self) -> InProcessWorker:
        self.thread.start()
        for thread in self.companions:
            thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout)
        for thread in self.companions:
            thread.join(timeout)
