"""The one writer of `MatchRun.status`: queued → running → succeeded | failed, or cancelled before it starts.

Every move is a conditional UPDATE, so a worker that lost its claim (it was thought dead and another
took the round) stores nothing, and an officer cancelling a round a worker has just claimed is told so.
The worker's own conditions (this worker, still running) narrow the moves it makes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from backend.audit import service as audit
from backend.core import states
from backend.core.db import utcnow
from backend.core.errors import InvalidTransition
from backend.core.i18n import gettext as _
from backend.core.i18n import ngettext
from backend.identity.models import User
from backend.placements.models import MatchRun, MatchRunStatus

R = MatchRunStatus
# Running → running is a takeover: a round whose worker stopped beating is claimed again.
# Running → queued hands a round back to the queue when its worker shuts down.
TRANSITIONS: states.Transitions = {
    R.QUEUED: frozenset({R.RUNNING, R.CANCELLED}),
    R.RUNNING: frozenset({R.RUNNING, R.SUCCEEDED, R.FAILED, R.QUEUED}),
    R.SUCCEEDED: frozenset(),
    R.FAILED: frozenset(),
    R.CANCELLED: frozenset(),
}

# A working worker beats every 10 seconds (worker.HEARTBEAT_SECONDS); three missed beats mean it has
# stopped, well before the 60 seconds after which another worker takes the round over.
WORKER_SILENT_AFTER_SECONDS = 30


@dataclass(frozen=True)
class WorkerContact:
    """When the worker running a round last reported, so a dead worker is not shown as progress."""

    heartbeat_at: datetime
    seconds_ago: int
    stopped: bool

    def words(self) -> str:
        heard = ngettext("Last heard from the worker %(num)s second ago.",
                         "Last heard from the worker %(num)s seconds ago.", self.seconds_ago, num=self.seconds_ago)
        if not self.stopped:
            return heard
        return " ".join((_("The worker stopped; the round will resume when a worker picks it up."), heard))


def worker_contact(run: MatchRun, now: datetime | None = None) -> WorkerContact | None:
    """For a running round, how long its worker has been silent; None for any other round."""
    if run.status != R.RUNNING or run.heartbeat_at is None:
        return None
    seconds = max(0, int(((now or utcnow()) - run.heartbeat_at).total_seconds()))
    return WorkerContact(run.heartbeat_at, seconds, seconds > WORKER_SILENT_AFTER_SECONDS)


def claim(session: Session, candidate: Select, claimable: ColumnElement[bool], worker_id: str, now: datetime
          ) -> int | None:
    """Queued (or abandoned) → running for `worker_id`; the id of the round claimed, if any."""
    return session.execute(
        update(MatchRun)
        .where(col(MatchRun.id) == candidate.scalar_subquery(), claimable,
               col(MatchRun.status).in_(sorted(states.sources(TRANSITIONS, R.RUNNING))))
        .values(status=R.RUNNING, worker_id=worker_id, claimed_at=now, heartbeat_at=now,
                attempts=MatchRun.attempts + 1, stage="load", progress_percent=0, error=None)
        .returning(MatchRun.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()


def succeed(session: Session, run_id: int, worker_id: str, *, figures: dict, timings: dict, proposed: int,
            unplaced: int) -> bool:
    """Running → succeeded, with the round's figures, in the transaction that stores its proposals."""
    now = utcnow()
    moved = states.move_if(session, MatchRun, run_id, TRANSITIONS, R.SUCCEEDED, stage="done", progress_percent=100,
                           figures=figures, timings=timings, finished_at=now, heartbeat_at=now, error=None)
    if moved:
        audit.record(session, None, "match.round_succeeded", "match_run", run_id,
                     after={"placed": figures["placed"], "proposed": proposed, "unplaced": unplaced,
                            "worker": worker_id})
    return moved


def fail(session: Session, run_id: int, worker_id: str, error: str, *, owned: Iterable[ColumnElement[bool]]
         ) -> bool:
    """Running → failed, only while `owned` still holds (this worker's claim)."""
    moved = states.move_if(session, MatchRun, run_id, TRANSITIONS, R.FAILED, where=owned, error=error[:4000],
                           finished_at=utcnow())
    if moved:
        audit.record(session, None, "match.round_failed", "match_run", run_id,
                     after={"error": error[:500], "worker": worker_id})
    return moved


def release(connection: Connection, run_id: int, *, owned: Iterable[ColumnElement[bool]]) -> bool:
    """Running → queued: a worker shutting down hands its round back, with its attempt given back too."""
    return states.move_if(connection, MatchRun, run_id, TRANSITIONS, R.QUEUED, where=owned, worker_id=None,
                          stage="queued", progress_percent=0, heartbeat_at=None, attempts=MatchRun.attempts - 1)


def cancel(session: Session, actor: User, run: MatchRun) -> MatchRun:
    """Queued → cancelled; a round a worker has already claimed can no longer be cancelled."""
    message = _("Only a round that has not started yet can be cancelled.")
    session.refresh(run)
    states.check(TRANSITIONS, run.status, R.CANCELLED, message)
    moved = states.move_if(session, MatchRun, run.id, TRANSITIONS, R.CANCELLED,
                           where=[col(MatchRun.status) == run.status], finished_at=utcnow(), stage="cancelled")
    session.refresh(run)
    if not moved:
        raise InvalidTransition(message)
    audit.record(session, actor, "match.round_cancelled", "match_run", run.id)
    return run
