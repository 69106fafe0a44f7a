"""Running a queued approval job at once, inside the test's own (rolled-back) session."""

from __future__ import annotations

from backend.placements import approval_jobs
from backend.placements.models import ApprovalJob


def approve_queued(session, run_id: int, **kwargs) -> ApprovalJob:
    """What the worker does with the round's waiting approval, done now in the test's transaction."""
    job = approval_jobs.active_job(session, run_id)
    assert job is not None, "no approval was queued"
    return approval_jobs.work_through(session, job.id, **kwargs)
