"""Approving a round as a job: the request queues it, the worker makes the offers batch by batch.

A national round has ~58,000 proposals; making their offers takes longer than a request should, and a second
approver would wait on the scheme lock meanwhile. So the request checks at once what it can (who may approve,
four eyes, superseded, what-if, the offer deadline, nothing left to approve) and queues an `ApprovalJob`; the
worker claims it with a conditional UPDATE and works through the proposals in batches. Each batch is one short
write transaction under the scheme lock: every limit recounted from the placements (`approvals.approve_batch`,
the same rules as approving at once), its offers made, its proposals' status changed, the job's position and
tally moved on, all committed together. So:
- a worker killed mid-batch leaves nothing of that batch; the job, reclaimed once its heartbeat is stale, goes
  on from the last committed position, and a proposal approved before is skipped because its status changed:
  each offer is made exactly once;
- a worker that was thought dead and taken over finds the job's position or owner changed at its next batch
  and stops without writing (`LostClaim`);
- one audit event "match.proposals_approved" covers the whole approval: written with the job's tally in the
  transaction that marks it succeeded;
- two approvers at once get one job: a partial unique index allows one waiting or running job per round, and
  the second is told the round is already being approved.

This module is the one owner of `ApprovalJob.status`: queued → running → succeeded | failed; running → running
is a takeover, running → queued hands a job back when its worker shuts down. A failed job stays failed;
approving again queues a new one, which goes on from whatever the failed one committed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from backend.core import clock, states
from backend.core.db import for_writing, get_engine, utcnow
from backend.core.errors import DomainError, InvalidTransition
from backend.core.i18n import gettext as _
from backend.identity.models import User
from backend.placements import approvals
from backend.placements.models import (
    ApprovalJob,
    ApprovalJobStatus,
    MatchProposal,
    MatchRun,
    Placement,
    ProposalStatus,
)
from backend.schemes.facts import lock_scheme
from backend.schemes.models import Scheme

log = logging.getLogger("internmatch.worker")
J = ApprovalJobStatus
TRANSITIONS: states.Transitions = {
    J.QUEUED: frozenset({J.RUNNING}),
    J.RUNNING: frozenset({J.RUNNING, J.SUCCEEDED, J.FAILED, J.QUEUED}),
    J.SUCCEEDED: frozenset(),
    J.FAILED: frozenset(),
}
ACTIVE = (J.QUEUED, J.RUNNING)
# Big enough that the per-batch recount of the scheme's limits is a small share of the work, small enough that
# a batch holds the scheme lock for a second or two and the progress bar moves.
BATCH_SIZE = 2000
# A batch writes the heartbeat; no batch takes anywhere near this long.
STALE_AFTER_SECONDS = 120
EVERY_SECONDS = 1.0


class ApprovalUnderway(InvalidTransition):
    code = "approval_underway"


class LostClaim(RuntimeError):
    """Another worker took the job over (this one was thought dead): stop without writing."""


def underway_message(run: MatchRun) -> str:
    return _("Round %(id)s is already being approved: the worker is making the offers of an approval queued a "
             "moment ago. Nothing more was queued; follow its progress on the round page.", id=run.id)


# --- the request's side ----------------------------------------------------------------------------------

# The job's lists, read only when used: a national approval's run to 50,000 ids each, and pages poll the job.
LISTS = (defer(ApprovalJob.planned), defer(ApprovalJob.approved), defer(ApprovalJob.skipped))


def active_job(session: Session, run_id: int) -> ApprovalJob | None:
    return session.exec(select(ApprovalJob).where(ApprovalJob.run_id == run_id, col(ApprovalJob.status).in_(ACTIVE))
                        .options(*LISTS).execution_options(populate_existing=True)).first()


def latest_job(session: Session, run_id: int) -> ApprovalJob | None:
    return session.exec(select(ApprovalJob).where(ApprovalJob.run_id == run_id)
                        .order_by(col(ApprovalJob.id).desc()).limit(1)
                        .options(*LISTS).execution_options(populate_existing=True)).first()


def queue_approval(session: Session, actor: User, run: MatchRun, proposal_ids=None, *,
                   offer_days: int = approvals.DEFAULT_OFFER_DAYS, now: datetime | None = None) -> ApprovalJob:
    """Check at once what can be checked, then queue the approval for the worker (the caller commits).

    The limits (places, budget, caps, seats per side, barred pairs) are the worker's: they can change while the
    job waits, so it recounts them for every batch under the scheme lock.
    """
    approvals.check_can_decide(session, actor, run)
    now = now or clock.now()
    scheme = session.get(Scheme, run.scheme_id)
    deadline = approvals.approval_deadline(session, scheme, run, offer_days, now)
    if active_job(session, run.id) is not None:
        raise ApprovalUnderway(underway_message(run))
    if proposal_ids is None:
        waiting = session.exec(select(MatchProposal.id).where(
            MatchProposal.run_id == run.id, MatchProposal.status == ProposalStatus.PROPOSED).limit(1)).first()
        if waiting is None:
            raise approvals.NothingToApprove(approvals.nothing_to_approve_message(run))
    job = ApprovalJob(run_id=run.id, requested_by_id=actor.id, offer_deadline=deadline,
                      proposal_ids=sorted(set(proposal_ids)) if proposal_ids is not None else None)
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        # Another approver's job was inserted between the look above and this one: one job per round.
        raise ApprovalUnderway(underway_message(run)) from None
    return job


# --- what a page shows of a job -------------------------------------------------------------------------

def stage_words(job: ApprovalJob) -> str:
    if job.status == J.QUEUED:
        return _("Waiting for the worker")
    if job.status == J.RUNNING and not job.total and not job.position:
        return _("Listing the proposals to approve")
    if job.status == J.RUNNING:
        return _("Making offers: %(done)s of %(total)s proposals checked", done=f"{job.position:,}",
                 total=f"{job.total:,}")
    if job.status == J.SUCCEEDED:
        return _("Finished")
    return _("Failed")


def placement_ids(session: Session, job: ApprovalJob) -> list[int]:
    """The offers the job made (read by the round: a national approval's ids are too many for one IN list)."""
    approved = set(job.approved)
    rows = session.exec(select(Placement.id, Placement.proposal_id)
                        .join(MatchProposal, col(MatchProposal.id) == Placement.proposal_id)
                        .where(MatchProposal.run_id == job.run_id).order_by(Placement.id)).all()
    return [pid for pid, proposal_id in rows if proposal_id in approved]


@dataclass
class Skipped:
    proposal_id: int
    applicant_id: int | None
    project_id: int | None
    code: str
    reason: str


def skipped_of(session: Session, job: ApprovalJob, limit: int | None = None) -> list[Skipped]:
    """The proposals the job could not approve, with their reasons in the reader's language."""
    items = sorted(job.skipped.items(), key=lambda kv: int(kv[0]))
    if limit is not None:
        items = items[:limit]
    ids = [int(k) for k, _v in items]
    pairs = {pid: (a, p) for pid, a, p in session.exec(
        select(MatchProposal.id, MatchProposal.applicant_id, MatchProposal.project_id)
        .where(col(MatchProposal.id).in_(ids))).all()} if ids else {}
    return [Skipped(int(k), *pairs.get(int(k), (None, None)), code, approvals.skip_reason(code, params))
            for k, (code, params) in items]


def failure_message(session: Session, job: ApprovalJob, run: MatchRun) -> str:
    """Why a failed job stopped, in the reader's language."""
    if job.error_code == approvals.RoundSuperseded.code:
        newer = approvals.superseded_by(session, run)
        if newer is not None:
            return approvals.superseded_message(run, newer)
    if job.error_code == approvals.OfferDeadlinePassed.code:
        scheme = session.get(Scheme, run.scheme_id)
        try:
            approvals.still_offerable(scheme, run, job.offer_deadline, clock.now())
        except approvals.OfferDeadlinePassed as error:
            return error.message
    if job.error_code == approvals.WhatIfRound.code:
        return approvals.what_if_message(session.get(Scheme, run.scheme_id), run)
    if job.error_code in ("approver_gone", "forbidden", "segregation_of_duties"):
        return _("The approver who asked for this approval may no longer approve this round. Another approver "
                 "can approve it again.")
    return _("The approval stopped because of an error. The offers made before it stopped stand; approve again "
             "to make the rest. If it fails again, tell the technical team.")


# --- the worker's side ------------------------------------------------------------------------------------

def claimable(stale_before: datetime):
    """Queued, or running under a worker that has not written a batch since `stale_before`."""
    return or_(col(ApprovalJob.status) == J.QUEUED,
               and_(col(ApprovalJob.status) == J.RUNNING, col(ApprovalJob.heartbeat_at) < stale_before))


def _owned(job_id: int, worker_id: str):
    return and_(col(ApprovalJob.id) == job_id, col(ApprovalJob.worker_id) == worker_id,
                col(ApprovalJob.status) == J.RUNNING)


def claim(session: Session, job_id: int, worker_id: str, *, stale_before: datetime | None = None) -> bool:
    """Queued (or abandoned) → running for `worker_id`: one conditional UPDATE, so one claimer wins."""
    stale_before = stale_before or utcnow() - timedelta(seconds=STALE_AFTER_SECONDS)
    now = utcnow()
    return states.move_if(session, ApprovalJob, job_id, TRANSITIONS, J.RUNNING, where=[claimable(stale_before)],
                          worker_id=worker_id, claimed_at=now, heartbeat_at=now,
                          attempts=ApprovalJob.attempts + 1)


def _fresh(session: Session, job_id: int) -> ApprovalJob:
    return session.exec(select(ApprovalJob).where(ApprovalJob.id == job_id)
                        .execution_options(populate_existing=True)).one()


def _plan(session: Session, job: ApprovalJob, run: MatchRun) -> list[int]:
    """Which proposals, in which order (pinned first, then best-scored), fixed once for every attempt."""
    query = select(MatchProposal.id).where(MatchProposal.run_id == run.id)
    if job.proposal_ids is None:
        query = query.where(MatchProposal.status == ProposalStatus.PROPOSED)
    else:
        query = query.where(col(MatchProposal.id).in_(job.proposal_ids))
    return [int(i) for i in session.exec(query.order_by(col(MatchProposal.pinned).desc(),
                                                        col(MatchProposal.score).desc(), MatchProposal.id))]


def step(session: Session, job_id: int, worker_id: str, *, batch_size: int = BATCH_SIZE,
         now: datetime | None = None) -> bool:
    """One short write transaction's worth of the job (the caller commits): plan it, approve one batch, or finish.

    Returns True while there is more to do. Raises `LostClaim` when the job is no longer this worker's, and a
    `DomainError` when the round can no longer be approved at all (the caller fails the job).
    """
    job = _fresh(session, job_id)
    # Not the round's frozen inputs or figures (tens of MB in a national round), read again for every batch.
    run = session.get(MatchRun, job.run_id, options=[defer(MatchRun.input_snapshot), defer(MatchRun.figures),
                                                     defer(MatchRun.timings)])
    scheme = lock_scheme(session, run.scheme_id)
    now = now or clock.now()
    # Ownership proven under the lock, on the position this worker read: a takeover moves one or the other.
    mine = session.execute(update(ApprovalJob).where(_owned(job_id, worker_id), ApprovalJob.position == job.position)
                           .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not mine:
        raise LostClaim(f"approval job {job_id} is no longer held by {worker_id}")
    if job.planned is None:
        planned = _plan(session, job, run)
        session.execute(update(ApprovalJob).where(col(ApprovalJob.id) == job_id)
                        .values(planned=planned, total=len(planned), progress_percent=1 if planned else 100)
                        .execution_options(synchronize_session=False))
        return True
    actor = session.get(User, job.requested_by_id) if job.requested_by_id else None
    if job.position >= job.total:
        _succeed(session, job, run, actor)
        return False
    # Everything the request checked can have changed while the job waited or between batches.
    if actor is None:
        raise _ApproverGone("the approver's account was deleted")
    approvals.check_can_decide(session, actor, run)
    deadline = approvals.still_offerable(scheme, run, job.offer_deadline, now)
    batch_ids = job.planned[job.position: job.position + batch_size]
    by_id = {p.id: p for p in session.exec(
        select(MatchProposal).where(col(MatchProposal.id).in_(batch_ids)).options(defer(MatchProposal.reasons))
        .execution_options(populate_existing=True))}
    proposals = [by_id[i] for i in batch_ids if i in by_id]  # one deleted since (its applicant erased) is passed
    result = approvals.approve_batch(session, actor, scheme, proposals, now=now, deadline=deadline,
                                     load_offers=False)
    position = job.position + len(batch_ids)
    skipped = dict(job.skipped)
    skipped.update({str(s.proposal.id): [s.code, s.params] for s in result.skipped})
    session.execute(update(ApprovalJob).where(col(ApprovalJob.id) == job_id).values(
        position=position, approved=[*job.approved, *result.approved], skipped=skipped,
        approved_count=job.approved_count + len(result.approved),
        progress_percent=min(99, 100 * position // max(job.total, 1)), heartbeat_at=utcnow(),
    ).execution_options(synchronize_session=False))
    return True


class _ApproverGone(DomainError):
    code = "approver_gone"


def _succeed(session: Session, job: ApprovalJob, run: MatchRun, actor: User | None) -> None:
    moved = states.move_if(session, ApprovalJob, job.id, TRANSITIONS, J.SUCCEEDED,
                           where=[col(ApprovalJob.worker_id) == job.worker_id],
                           progress_percent=100, finished_at=utcnow(), heartbeat_at=utcnow())
    if moved:
        approvals.record_approval(session, actor, run, list(job.approved),
                                  {k: v[0] for k, v in job.skipped.items()}, job.offer_deadline, job=job.id)


def fail(session: Session, job_id: int, worker_id: str, code: str, error: str) -> bool:
    """Running → failed, only while this worker holds it. What was committed before stands."""
    return states.move_if(session, ApprovalJob, job_id, TRANSITIONS, J.FAILED, where=[_owned(job_id, worker_id)],
                          error_code=code[:30], error=error[-4000:], finished_at=utcnow())


def release(session: Session, job_id: int, worker_id: str) -> bool:
    """Running → queued: a worker shutting down hands its job back (the next one goes on where it stopped)."""
    return states.move_if(session, ApprovalJob, job_id, TRANSITIONS, J.QUEUED, where=[_owned(job_id, worker_id)],
                          worker_id=None, heartbeat_at=None)


def work_through(session: Session, job_id: int, worker_id: str = "in-session", *, batch_size: int = BATCH_SIZE,
                 now: datetime | None = None) -> ApprovalJob:
    """Claim and finish a job inside the caller's transaction: for tests and callers that want it done now."""
    if not claim(session, job_id, worker_id):
        raise InvalidTransition(_("That could not be done"))
    try:
        while step(session, job_id, worker_id, batch_size=batch_size, now=now):
            session.flush()
    except DomainError as error:
        fail(session, job_id, worker_id, error.code, str(error.message))
    session.flush()
    return _fresh(session, job_id)


def run_job(engine: Engine, job_id: int, worker_id: str, *, batch_size: int = BATCH_SIZE,
            stop: threading.Event | None = None, max_steps: int | None = None) -> ApprovalJobStatus | None:
    """Work a claimed job to its end, one transaction per step; None if it was taken over or handed back.

    `max_steps` stops early without handing the job back, as a worker killed between two batches would.
    """
    steps = 0
    while True:
        if stop is not None and stop.is_set():
            with Session(for_writing(engine)) as db:
                release(db, job_id, worker_id)
                db.commit()
            return None
        if max_steps is not None and steps >= max_steps:
            return None
        steps += 1
        try:
            with Session(for_writing(engine)) as db:
                more = step(db, job_id, worker_id, batch_size=batch_size)
                db.commit()
        except LostClaim:
            log.warning("approval job %s was taken over by another worker; dropping this attempt", job_id)
            return None
        except DomainError as error:  # the round can no longer be approved: said plainly on the job
            log.warning("approval job %s cannot go on: %s", job_id, error.message)
            return _fail_apart(engine, job_id, worker_id, error.code, str(error.message))
        except Exception as error:  # noqa: BLE001 - the job fails, the worker goes on
            log.exception("approval job %s failed", job_id)
            return _fail_apart(engine, job_id, worker_id, "error",
                               f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}")
        if not more:
            return J.SUCCEEDED


def _fail_apart(engine: Engine, job_id: int, worker_id: str, code: str, error: str) -> ApprovalJobStatus:
    with Session(for_writing(engine)) as db:
        fail(db, job_id, worker_id, code, error)
        db.commit()
    return J.FAILED


def run_next(engine: Engine, worker_id: str = "approvals", *, batch_size: int = BATCH_SIZE,
             stop: threading.Event | None = None, max_steps: int | None = None) -> bool:
    """Work the oldest claimable approval job; False when there was none."""
    stale_before = utcnow() - timedelta(seconds=STALE_AFTER_SECONDS)
    with engine.connect() as conn:  # a read-only look first keeps an idle loop off the write lock
        found = conn.execute(select(ApprovalJob.id).where(claimable(stale_before))
                             .order_by(col(ApprovalJob.id)).limit(1)).first()
    if found is None:
        return False
    with Session(for_writing(engine)) as db:
        claimed = claim(db, found[0], worker_id, stale_before=stale_before)
        db.commit()
    if claimed:
        status = run_job(engine, found[0], worker_id, batch_size=batch_size, stop=stop, max_steps=max_steps)
        log.info("approval job %s: %s", found[0], status)
    return True


def approve_rounds_forever(stop_event: threading.Event, *, engine: Engine | None = None,
                           worker_id: str | None = None, every_seconds: float = EVERY_SECONDS) -> None:
    if engine is None:
        engine = get_engine()
    worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:approvals"[:80]
    while not stop_event.is_set():
        try:
            while run_next(engine, worker_id, stop=stop_event) and not stop_event.is_set():
                pass
        except Exception:  # noqa: BLE001 - the loop outlives a database hiccup
            log.exception("approving rounds failed")
        stop_event.wait(every_seconds)
