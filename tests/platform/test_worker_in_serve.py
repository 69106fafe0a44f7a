"""`serve` on SQLite runs the whole worker in-process: rounds, e-mail delivery and offer expiry.

The e-mail sender and offer expiry commit often. On SQLite a request that has read and then writes after
another connection committed fails at once with "database is locked", unless its transaction took the
write lock when it began (backend.core.db.for_writing). These tests run the app's own in-process worker
next to many concurrent requests that read and then write, and check that nothing fails and all the
worker's work gets done.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from backend.core.db import utcnow
from backend.core.settings import get_settings
from backend.identity import sessions as security
from backend.outbox.models import EmailStatus, OutboxEmail
from backend.placements.models import Placement, PlacementStatus
from tests.accounts.helpers import csrf_from, make_user
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_project, make_scheme
from tests.live import live_server
from tests.placements.test_approvals import hold, make_applicant

CLIENTS = 6
ROUNDS_PER_CLIENT = 15
QUEUED_EMAILS = 300
OFFERS = 30


@pytest.fixture
def scratch_engine():
    """A database of this test's own: the app's real sessions commit, unlike the rolled-back fixture's."""
    with migrated_database("internmatch_serve") as (url, engine):
        yield url, engine


def _seed(engine) -> list[tuple[str, str]]:
    """Signed-in applicants (session token, CSRF token), a backlog of e-mails, offers lapsing one by one."""
    now = utcnow()
    signed_in = []
    with Session(engine, expire_on_commit=False) as db:
        for _ in range(CLIENTS):
            raw = security.start_session(db, make_user(db))
            signed_in.append((security.sign_session_token(raw), security._csrf_digest(raw)))
        db.add_all(OutboxEmail(to_address=f"backlog{n}@example.hk", subject="Backlog", body_text="Hello",
                               template="backlog") for n in range(QUEUED_EMAILS))
        project = make_project(db, make_scheme(db), places=OFFERS)
        for n in range(OFFERS):
            placement = hold(db, project, make_applicant(db)[0], PlacementStatus.OFFERED)
            # Deadlines spread over the first seconds of the test, so expiry keeps committing while it runs.
            placement.offer_deadline = now + timedelta(milliseconds=150 * n)
            db.add(placement)
        db.commit()
    return signed_in


def _counts(engine) -> tuple[int, int, int]:
    with Session(engine) as db:
        pending = db.exec(select(func.count()).select_from(OutboxEmail)
                          .where(OutboxEmail.status != EmailStatus.SENT)).one()
        sent = db.exec(select(func.count()).select_from(OutboxEmail)
                       .where(OutboxEmail.status == EmailStatus.SENT)).one()
        offered = db.exec(select(func.count()).select_from(Placement)
                          .where(Placement.status == PlacementStatus.OFFERED)).one()
    return pending, sent, offered


def _browse(app, session_cookie: str, csrf: str, outcomes: list, start: threading.Barrier) -> None:
    """Pages whose sign-in refresh writes, and a form that reads the account and then queues an e-mail."""
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=True)
    client.cookies.set(security.SESSION_COOKIE, session_cookie, domain="testserver.local")
    start.wait()
    for _ in range(ROUNDS_PER_CLIENT):
        for method, path in (("GET", "/account"), ("POST", "/account/verification-email"), ("GET", "/")):
            try:
                if method == "GET":
                    response = client.get(path)
                else:
                    response = client.post(path, data={security.CSRF_FIELD: csrf}, follow_redirects=False)
                outcomes.append((method, path, response.status_code, response.text[:300]))
            except Exception as error:  # noqa: BLE001 - every failure is an outcome the test reports
                outcomes.append((method, path, 0, repr(error)))


def test_requests_that_read_then_write_never_fail_while_the_in_process_worker_commits(
        scratch_engine, tmp_path, monkeypatch, caplog):
    from backend import app as app_module
    from backend.core import db as db_module
    from backend.outbox import sender
    from backend.placements import approval_jobs, worker
    from backend.projects import portfolio_jobs

    url, engine = scratch_engine
    signed_in = _seed(engine)
    # The app's sessions and the worker's loops use this database (they ask `get_engine` when they start).
    for module in (db_module, worker, sender, portfolio_jobs, approval_jobs):
        monkeypatch.setattr(module, "get_engine", lambda: engine)
    # Every page view refreshes the sign-in's last_seen_at: each request reads, then writes.
    monkeypatch.setattr(security, "TOUCH_INTERVAL", timedelta(0))
    # The worker `serve` starts, polling often so that it commits all the time the requests run.
    monkeypatch.setattr(app_module, "InProcessWorker", functools.partial(
        worker.InProcessWorker, poll_seconds=0.05, sender_idle_seconds=0.02, expire_every_seconds=0.02))
    mail = tmp_path / "mail"
    settings = get_settings().model_copy(update={
        "database_url": url, "environment": "development", "mail_folder": mail,
        # SQLite: `serve`'s default (the worker runs in-process). PostgreSQL: asked for, as tests/live.py does.
        "run_worker_in_process": True if IS_POSTGRES else None})
    assert worker.should_run_in_process(settings)
    app = app_module.create_app(settings)

    caplog.set_level(logging.WARNING)
    outcomes: list = []
    start = threading.Barrier(CLIENTS)
    with TestClient(app, base_url="http://testserver"):  # runs the lifespan: the in-process worker
        clients = [threading.Thread(target=_browse, args=(app, cookie, csrf, outcomes, start))
                   for cookie, csrf in signed_in]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=300)
        failures = [outcome for outcome in outcomes if outcome[2] not in (200, 303)]
        assert len(outcomes) == CLIENTS * ROUNDS_PER_CLIENT * 3
        assert not failures, f"{len(failures)} of {len(outcomes)} requests failed, e.g. {failures[:3]}"
        deadline = time.monotonic() + 60
        while _counts(engine)[0] or _counts(engine)[2]:
            assert time.monotonic() < deadline, f"the worker did not finish: pending, sent, offered = {_counts(engine)}"
            time.sleep(0.1)

    problems = [record.getMessage() + (record.exc_text or "") for record in caplog.records
                if record.levelno >= logging.ERROR or "locked" in record.getMessage()]
    assert not problems, problems[:3]
    pending, sent, offered = _counts(engine)
    assert (pending, offered) == (0, 0), "every e-mail was sent and every lapsed offer expired"
    # The backlog, one e-mail per form post and one per lapsed offer, written as .eml files by the sender.
    assert sent == QUEUED_EMAILS + CLIENTS * ROUNDS_PER_CLIENT + OFFERS
    assert len(list(mail.glob("*.eml"))) == sent


def test_serve_delivers_an_outbox_email_without_a_separate_worker(monkeypatch, tmp_path):
    """The real `internmatch serve` (development, no SMTP_HOST): a reset link arrives as an .eml file."""
    mail = tmp_path / "mail"
    monkeypatch.setenv("MAIL_FOLDER", str(mail))
    monkeypatch.delenv("SMTP_HOST", raising=False)
    with live_server(demo_projects=2, demo_applicants=10) as base_url:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(base_url + "/forgot-password", timeout=10) as response:
            token = csrf_from(response.read().decode("utf-8"))
        form = urllib.parse.urlencode({security.CSRF_FIELD: token, "email": "officer@demo.internmatch.hk"})
        with opener.open(base_url + "/forgot-password", data=form.encode(), timeout=10) as response:
            assert response.status == 200
        deadline = time.monotonic() + 30
        while not list(mail.glob("*-reset_password.eml")):
            assert time.monotonic() < deadline, "no e-mail was delivered by the server's own worker"
            time.sleep(0.2)
    [eml] = mail.glob("*-reset_password.eml")
    message = eml.read_text()
    assert "To: officer@demo.internmatch.hk" in message
