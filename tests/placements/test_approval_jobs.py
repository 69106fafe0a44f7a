"""Approving a round as a job: the request only queues it, the worker makes the offers batch by batch, exactly once."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.audit.models import AuditEvent
from backend.core.db import for_writing, utcnow
from backend.core.errors import Conflict
from backend.identity.models import Role, User
from backend.identity.permissions import SegregationOfDutiesError
from backend.placements import approval_jobs, approvals
from backend.placements.models import (
    ApprovalJob,
    ApprovalJobStatus,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    Placement,
    ProposalStatus,
)
from tests.accounts.helpers import sign_in_as
from tests.conftest import migrated_database
from tests.factories import make_project, make_scheme
from tests.placements.test_approvals import NOW, hold, make_applicant, make_run, make_user, propose, staff


def _audit_events(session, run_id: int) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == "match.proposals_approved",
                                                      AuditEvent.object_id == str(run_id))))


def _round_of(session, n: int, *, places: int = 10, budget_hkd: int = 91_000_000):
    scheme = make_scheme(session, budget_hkd=budget_hkd)
    project = make_project(session, scheme, places=places, subsidy=25_000)
    officer, approver = staff(session)
    run = make_run(session, scheme, officer)
    proposals = [propose(session, run, make_applicant(session)[0], project, score=90 - i) for i in range(n)]
    return scheme, project, approver, run, proposals


def test_the_request_makes_no_offer_and_the_job_makes_them_rechecking_limits_with_one_audit_event(session):
    _scheme, project, approver, run, proposals = _round_of(session, 4, places=4)

    job = approval_jobs.queue_approval(session, approver, run, now=NOW)

    assert job.status == ApprovalJobStatus.QUEUED and session.exec(select(Placement)).first() is None
    assert {p.status for p in proposals} == {ProposalStatus.PROPOSED}
    # While the job waits, somebody else takes one of the project's four places: the job sees it.
    hold(session, project, make_applicant(session)[0])

    done = approval_jobs.work_through(session, job.id, batch_size=1, now=NOW)

    assert (done.status, done.progress_percent, done.position, done.total) == (ApprovalJobStatus.SUCCEEDED, 100, 4, 4)
    made = session.exec(select(Placement).where(col(Placement.proposal_id).is_not(None))).all()
    assert sorted(p.proposal_id for p in made) == sorted(p.id for p in proposals[:3]), "the best three, pinned first"
    assert done.approved == [p.id for p in proposals[:3]]
    assert done.skipped == {str(proposals[3].id): ["place_taken", {}]}
    [event] = _audit_events(session, run.id)
    assert event.actor_id == approver.id
    assert event.after["approved"] == done.approved and event.after["skipped"] == {str(proposals[3].id): "place_taken"}
    assert event.after["job"] == job.id
    assert [s.reason for s in approval_jobs.skipped_of(session, done)] == [
        "Every place on this project is already offered or taken."]


def test_what_can_be_checked_at_once_is_refused_in_the_request(session):
    scheme, _project, approver, run, _proposals = _round_of(session, 2)
    with pytest.raises(SegregationOfDutiesError):
        approval_jobs.queue_approval(session, approver, make_run(session, make_scheme(session), approver), now=NOW)
    with pytest.raises(Conflict):
        approval_jobs.queue_approval(session, approver, run, offer_days=0, now=NOW)
    approval_jobs.queue_approval(session, approver, run, now=NOW)
    with pytest.raises(approval_jobs.ApprovalUnderway) as underway:
        approval_jobs.queue_approval(session, make_user(session, Role.APPROVER), run, now=NOW)
    assert underway.value.status_code == 409 and f"Round {run.id} is already being approved" in underway.value.message
    approval_jobs.work_through(session, approval_jobs.active_job(session, run.id).id, now=NOW)
    with pytest.raises(approvals.NothingToApprove):
        approval_jobs.queue_approval(session, approver, run, now=NOW)

    propose(session, run, make_applicant(session)[0], _project)
    make_run(session, scheme, session.get(User, run.started_by_id))
    with pytest.raises(approvals.RoundSuperseded):
        approval_jobs.queue_approval(session, approver, run, now=NOW)


def test_a_round_superseded_while_the_job_waits_fails_the_job_plainly_and_makes_no_offer(session):
    scheme, _project, approver, run, _proposals = _round_of(session, 2)
    job = approval_jobs.queue_approval(session, approver, run, now=NOW)
    newer = make_run(session, scheme, session.get(User, run.started_by_id))

    done = approval_jobs.work_through(session, job.id, now=NOW)

    assert (done.status, done.error_code) == (ApprovalJobStatus.FAILED, "round_superseded")
    assert approval_jobs.failure_message(session, done, run).startswith(
        f"Round {run.id} has been superseded by round {newer.id}")
    assert session.exec(select(Placement)).first() is None and _audit_events(session, run.id) == []


def _committed_round(engine, n: int):
    with Session(engine, expire_on_commit=False) as setup:
        _scheme, _project, approver, run, proposals = _round_of(setup, n)
        setup.commit()
        return approver.id, run.id, [p.id for p in proposals]


def _queue(engine, approver_id: int, run_id: int) -> int:
    with Session(for_writing(engine), expire_on_commit=False) as db:
        job = approval_jobs.queue_approval(db, db.get(User, approver_id), db.get(MatchRun, run_id), now=NOW)
        db.commit()
        return job.id


def test_a_worker_killed_mid_job_leaves_whole_batches_and_the_job_taken_over_makes_each_offer_once():
    with migrated_database("internmatch_approval_crash") as (_url, engine):
        approver_id, run_id, proposal_ids = _committed_round(engine, 5)
        job_id = _queue(engine, approver_id, run_id)

        # Worker A plans the job and commits one batch of two, then is killed inside its second batch.
        assert approval_jobs.run_next(engine, "worker-a", batch_size=2, max_steps=2)
        with Session(for_writing(engine)) as dying:
            approval_jobs.step(dying, job_id, "worker-a", batch_size=2)
            dying.flush()  # offers written, never committed: the process dies here
        with Session(engine) as look:
            job = look.get(ApprovalJob, job_id)
            assert (job.status, job.position, job.progress_percent) == (ApprovalJobStatus.RUNNING, 2, 40)
            assert len(look.exec(select(Placement)).all()) == 2

        # While its heartbeat is fresh nobody takes the job; once stale, worker B does and finishes it.
        assert approval_jobs.run_next(engine, "worker-b", batch_size=2) is False
        with Session(engine) as stale:
            stale.execute(update(ApprovalJob).where(col(ApprovalJob.id) == job_id)
                          .values(heartbeat_at=utcnow() - timedelta(hours=1)))
            stale.commit()
        assert approval_jobs.run_next(engine, "worker-b", batch_size=2)

        # Worker A comes back to life: its claim is gone, it writes nothing.
        assert approval_jobs.run_job(engine, job_id, "worker-a", batch_size=2) is None
        with Session(engine) as check:
            job = check.get(ApprovalJob, job_id)
            assert (job.status, job.worker_id, job.attempts) == (ApprovalJobStatus.SUCCEEDED, "worker-b", 2)
            placements = check.exec(select(Placement)).all()
            assert sorted(p.proposal_id for p in placements) == sorted(proposal_ids), "each offer exactly once"
            assert sorted(job.approved) == sorted(proposal_ids)
            statuses = set(check.exec(select(MatchProposal.status).where(MatchProposal.run_id == run_id)))
            assert statuses == {ProposalStatus.APPROVED}
            [event] = _audit_events(check, run_id)
            assert sorted(event.after["approved"]) == sorted(proposal_ids) and event.after["skipped"] == {}


def test_an_unexpected_error_fails_the_job_keeping_committed_batches_and_approving_again_goes_on(monkeypatch):
    with migrated_database("internmatch_approval_fail") as (_url, engine):
        approver_id, run_id, proposal_ids = _committed_round(engine, 4)
        job_id = _queue(engine, approver_id, run_id)
        real = approvals.approve_batch
        calls = []

        def breaks_on_the_second_batch(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("disk full")
            return real(*args, **kwargs)

        monkeypatch.setattr(approvals, "approve_batch", breaks_on_the_second_batch)
        assert approval_jobs.run_next(engine, "worker-a", batch_size=2)
        with Session(engine) as look:
            job = look.get(ApprovalJob, job_id)
            assert (job.status, job.error_code, len(job.approved)) == (ApprovalJobStatus.FAILED, "error", 2)
            assert "disk full" in job.error and _audit_events(look, run_id) == []
        monkeypatch.setattr(approvals, "approve_batch", real)

        again = _queue(engine, approver_id, run_id)
        assert approval_jobs.run_next(engine, "worker-a", batch_size=2)
        with Session(engine) as check:
            assert check.get(ApprovalJob, again).status == ApprovalJobStatus.SUCCEEDED
            assert sorted(p.proposal_id for p in check.exec(select(Placement))) == sorted(proposal_ids)
            assert [sorted(e.after["approved"]) for e in _audit_events(check, run_id)] == [sorted(proposal_ids[2:])]


def test_two_approvers_pressing_approve_at_once_get_one_approval_and_one_audit_event():
    with migrated_database("internmatch_approval_race") as (_url, engine):
        approver_id, run_id, proposal_ids = _committed_round(engine, 3)
        with Session(engine) as setup:
            second = make_user(setup, Role.APPROVER)
            setup.commit()
            approvers = [approver_id, second.id]
        barrier, outcomes = threading.Barrier(2), []

        def press(index: int) -> None:
            try:
                barrier.wait()
                outcomes.append(("queued", _queue(engine, approvers[index], run_id)))
            except approval_jobs.ApprovalUnderway as error:
                outcomes.append(("told", error.message))
            except Exception as error:  # surfaced by the assertion below
                outcomes.append(("error", repr(error)))

        threads = [threading.Thread(target=press, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert sorted(kind for kind, _detail in outcomes) == ["queued", "told"], outcomes
        while approval_jobs.run_next(engine, "worker"):
            pass
        with Session(engine) as check:
            assert len(check.exec(select(ApprovalJob)).all()) == 1
            assert sorted(p.proposal_id for p in check.exec(select(Placement))) == sorted(proposal_ids)
            assert len(_audit_events(check, run_id)) == 1


def test_the_round_page_and_the_api_show_the_approval_queued_running_and_done(client, session):
    _scheme, _project, approver, run, proposals = _round_of(session, 3)
    csrf = sign_in_as(client, session, approver)

    queued = client.post(f"/api/v1/rounds/{run.id}/approve", json={}, headers={"X-CSRF-Token": csrf})

    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    status_url = queued.json()["status_url"]
    assert status_url == f"/api/v1/rounds/{run.id}/approvals/{queued.json()['id']}"
    assert session.exec(select(Placement)).first() is None
    page = client.get(f"/staff/rounds/{run.id}").text
    assert "Waiting for the worker" in page and f'data-url="{status_url}"' in page
    assert "Approve or refuse proposals" not in page
    approval = client.get(f"/staff/rounds/{run.id}/approval").text
    assert f"Round {run.id} is already being approved" in approval and "Approve the whole round" not in approval

    job_id = queued.json()["id"]
    assert approval_jobs.claim(session, job_id, "worker")
    approval_jobs.step(session, job_id, "worker", batch_size=1)  # the plan
    approval_jobs.step(session, job_id, "worker", batch_size=1)  # one batch of one
    session.flush()
    running = client.get(status_url).json()
    assert (running["status"], running["percent"], running["finished"], running["proposals_done"]) == (
        "running", 33, False, 1)
    page = client.get(f"/staff/rounds/{run.id}").text
    assert "Making offers: 1 of 3 proposals checked" in page and 'value="33"' in page

    while approval_jobs.step(session, job_id, "worker", batch_size=1):
        pass
    session.flush()
    done = client.get(status_url).json()
    assert done["status"] == "succeeded" and done["finished"] and len(done["placement_ids"]) == 3
    page = client.get(f"/staff/rounds/{run.id}").text
    assert "3 offers were made." in page
    assert "完成" in client.get(f"/staff/rounds/{run.id}?lang=zh-Hant").text


def test_a_failed_approval_says_why_on_the_round_page_and_can_be_approved_again(client, session):
    _scheme, _project, approver, run, proposals = _round_of(session, 2)
    csrf = sign_in_as(client, session, approver)
    job = approval_jobs.queue_approval(session, approver, run, now=NOW)
    assert approval_jobs.claim(session, job.id, "worker")
    approval_jobs.fail(session, job.id, "worker", "error", "RuntimeError: disk full")
    session.flush()

    page = client.get(f"/staff/rounds/{run.id}").text
    assert "The approval failed." in page and "disk full" in page and "Approve again" in page
    api = client.get(f"/api/v1/rounds/{run.id}/approvals/{job.id}").json()
    assert api["status"] == "failed" and "approve again" in api["error"]

    again = client.post(f"/staff/rounds/{run.id}/approve",
                        data={"csrf_token": csrf, "scope": "all", "confirmed": "yes"}, follow_redirects=False)
    assert again.status_code == 303
    assert approval_jobs.active_job(session, run.id).id != job.id
    assert approval_jobs.work_through(session, approval_jobs.active_job(session, run.id).id).status == \
        ApprovalJobStatus.SUCCEEDED
    assert len(session.exec(select(Placement)).all()) == 2
    assert run.status == MatchRunStatus.SUCCEEDED
