"""Delivering the outbox through a real SMTP server on loopback: intact Chinese, exactly once, retries."""

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import delete, event
from sqlmodel import Session, select

from backend.core.db import utcnow
from backend.core.settings import Settings
from backend.outbox.models import EmailStatus, OutboxEmail
from backend.outbox.sender import (
    CHUNK_SIZE,
    FIRST_RETRY,
    MAX_ATTEMPTS,
    claim,
    deliver_pending,
    lease_for,
    run_sender_forever,
)
from tests.conftest import migrated_database

ROOT = Path(__file__).resolve().parents[2]

SUBJECT = "實習錄取通知：數據分析實習生"
BODY = "陳嘉欣你好：\n\n你獲得深圳「數據分析實習生」實習名額。請於 2027-05-10 17:00（香港時間）前回覆。\n"


@pytest.fixture(scope="module")
def outbox_engine():
    """A database of its own: the sender commits, and other tests' rolled-back rows must not leak in."""
    with migrated_database("internmatch_outbox") as (_url, engine):
        yield engine


@pytest.fixture
def engine(outbox_engine):
    with outbox_engine.begin() as conn:
        conn.execute(delete(OutboxEmail))
    return outbox_engine


class Mailbox:
    """An SMTP handler that keeps what it accepts, and answers with scripted refusals first."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.peers: list[tuple] = []  # the client's address and port: one per SMTP connection
        self.refusals: list[str] = []
        self.refuse_always: str | None = None
        self.arrived = threading.Event()
        self.after_each = None  # called after each e-mail is accepted

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_always:
            return self.refuse_always
        if self.refusals:
            return self.refusals.pop(0)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.peers.append(tuple(session.peer))
        self.arrived.set()
        if self.after_each is not None:
            self.after_each()
        return "250 2.0.0 Accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


def smtp_settings(mailbox, tmp_path, **overrides) -> Settings:
    values = dict(smtp_host="127.0.0.1", smtp_port=mailbox.port, mail_from="internmatch <no-reply@internmatch.example.hk>",
                  mail_folder=tmp_path / "mail")
    values.update(overrides)
    return Settings(**values)


def queue(engine, count: int = 1, *, subject: str = SUBJECT, body: str = BODY) -> list[int]:
    with Session(engine, expire_on_commit=False) as db:
        rows = [OutboxEmail(to_address=f"applicant{i}@mail.example.hk", subject=subject if count == 1 else f"{subject} {i}",
                            body_text=body, language="zh-Hant", template="placement_offer") for i in range(count)]
        db.add_all(rows)
        db.commit()
        return [row.id for row in rows]


def row(engine, email_id: int) -> OutboxEmail:
    with Session(engine) as db:
        return db.exec(select(OutboxEmail).where(OutboxEmail.id == email_id)).one()


def test_chinese_subject_and_body_arrive_intact_and_the_email_is_marked_sent(engine, mailbox, tmp_path):
    [email_id] = queue(engine)

    stats = deliver_pending(engine, smtp_settings(mailbox, tmp_path))

    assert (stats.claimed, stats.sent, stats.retried, stats.failed) == (1, 1, 0, 0)
    [message] = mailbox.messages
    assert message["Subject"] == SUBJECT
    assert message.get_content() == BODY
    assert message["From"] == "internmatch <no-reply@internmatch.example.hk>"
    assert message["To"] == "applicant0@mail.example.hk"
    sent = row(engine, email_id)
    assert (sent.status, sent.attempts, sent.last_error) == (EmailStatus.SENT, 1, None) and sent.sent_at is not None


def test_running_the_sender_again_sends_nothing_twice(engine, mailbox, tmp_path):
    queue(engine)
    settings = smtp_settings(mailbox, tmp_path)
    deliver_pending(engine, settings)
    again = deliver_pending(engine, settings, now=utcnow() + timedelta(days=1))
    assert (again.claimed, again.sent) == (0, 0)
    assert len(mailbox.messages) == 1


def test_two_senders_at_the_same_moment_deliver_each_email_exactly_once(engine, mailbox, tmp_path):
    ids = queue(engine, 30)
    settings, barrier, totals = smtp_settings(mailbox, tmp_path), threading.Barrier(2), []

    def sender() -> None:
        barrier.wait()
        totals.append(deliver_pending(engine, settings, limit=10))
        totals.append(deliver_pending(engine, settings, limit=10))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    subjects = sorted(m["Subject"] for m in mailbox.messages)
    assert subjects == sorted(f"{SUBJECT} {i}" for i in range(30)), "every e-mail once, none twice"
    assert sum(t.sent for t in totals) == 30
    assert {row(engine, i).status for i in ids} == {EmailStatus.SENT}


def test_a_claim_takes_at_most_its_limit(engine):
    """On PostgreSQL `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` took every due row."""
    ids = queue(engine, 30)
    now = utcnow()
    _until, first = claim(engine, now=now, limit=10)
    _until, second = claim(engine, now=now, limit=10)
    assert (first, second) == (ids[:10], ids[10:20])


def test_a_temporary_refusal_is_retried_after_a_backoff(engine, mailbox, tmp_path):
    [email_id] = queue(engine)
    mailbox.refusals = ["451 4.3.0 Mailbox busy, try again later"]
    settings, now = smtp_settings(mailbox, tmp_path), utcnow()

    first = deliver_pending(engine, settings, now=now)
    waiting = row(engine, email_id)
    assert (first.retried, waiting.status, waiting.attempts) == (1, EmailStatus.PENDING, 1)
    assert "451" in waiting.last_error and waiting.claimed_until is None
    assert waiting.next_attempt_at == now + FIRST_RETRY

    assert deliver_pending(engine, settings, now=now).claimed == 0, "not before the backoff is over"
    second = deliver_pending(engine, settings, now=now + FIRST_RETRY)

    assert second.sent == 1 and len(mailbox.messages) == 1
    assert (row(engine, email_id).status, row(engine, email_id).attempts) == (EmailStatus.SENT, 2)


def test_the_backoff_doubles_and_the_sender_gives_up_after_the_last_attempt(engine, mailbox, tmp_path):
    [email_id] = queue(engine)
    mailbox.refuse_always = "421 4.3.2 Service shutting down"
    settings, now, waits = smtp_settings(mailbox, tmp_path), utcnow(), []

    for _attempt in range(MAX_ATTEMPTS):
        deliver_pending(engine, settings, now=now)
        current = row(engine, email_id)
        if current.status == EmailStatus.PENDING:
            waits.append(current.next_attempt_at - now)
            now = current.next_attempt_at

    given_up = row(engine, email_id)
    assert (given_up.status, given_up.attempts) == (EmailStatus.FAILED, MAX_ATTEMPTS)
    assert waits == [FIRST_RETRY * 2 ** i for i in range(MAX_ATTEMPTS - 1)]
    assert deliver_pending(engine, settings, now=now + timedelta(days=30)).claimed == 0
    assert mailbox.messages == []


def test_a_permanent_refusal_fails_at_once(engine, mailbox, tmp_path):
    [email_id] = queue(engine)
    mailbox.refuse_always = "554 5.6.0 Message refused"
    stats = deliver_pending(engine, smtp_settings(mailbox, tmp_path))
    refused = row(engine, email_id)
    assert (stats.failed, refused.status, refused.attempts) == (1, EmailStatus.FAILED, 1) and "554" in refused.last_error


def test_an_email_whose_sender_stopped_after_claiming_it_is_never_resent(engine, mailbox, tmp_path):
    """At most once: the claim is committed before sending, so a dead sender's e-mail may have gone."""
    [email_id] = queue(engine)
    settings, now = smtp_settings(mailbox, tmp_path), utcnow()
    claim(engine, now=now, limit=50)  # ... and the process died before recording the outcome

    still_claimed = deliver_pending(engine, settings, now=now + timedelta(minutes=1))
    assert (still_claimed.claimed, still_claimed.abandoned) == (0, 0), "a live sender's claim is respected"

    later = deliver_pending(engine, settings, now=now + lease_for(50) + timedelta(seconds=1))

    assert (later.claimed, later.abandoned) == (0, 1)
    unknown = row(engine, email_id)
    assert unknown.status == EmailStatus.FAILED and "outcome unknown" in unknown.last_error
    assert mailbox.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_signs_in_when_a_username_is_set(engine, tmp_path):
    box, seen = Mailbox(), []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"correct horse")

    controller = Controller(box, hostname="127.0.0.1", port=_free_port(), authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        queue(engine)
        box.port = controller.port
        stats = deliver_pending(engine, smtp_settings(box, tmp_path, smtp_username="mailer",
                                                      smtp_password="correct horse"))
    finally:
        controller.stop()
    assert stats.sent == 1 and len(box.messages) == 1 and seen[0][0] == b"mailer"


def test_without_an_smtp_host_emails_are_written_as_eml_files(engine, tmp_path):
    [email_id] = queue(engine)
    settings = Settings(smtp_host="", mail_folder=tmp_path / "mail")

    stats = deliver_pending(engine, settings)

    [path] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert stats.sent == 1 and path.name == f"{email_id:08d}-placement_offer.eml"
    assert (message["Subject"], message.get_content()) == (SUBJECT, BODY)
    assert row(engine, email_id).status == EmailStatus.SENT


def test_the_worker_loop_delivers_until_it_is_told_to_stop(engine, mailbox, tmp_path):
    queue(engine)
    stop = threading.Event()
    loop = threading.Thread(target=run_sender_forever, args=(stop,),
                            kwargs={"engine": engine, "settings": smtp_settings(mailbox, tmp_path),
                                    "idle_seconds": 0.05})
    loop.start()
    try:
        assert mailbox.arrived.wait(timeout=30), "the loop delivered the queued e-mail"
    finally:
        stop.set()
        loop.join(timeout=30)
    assert not loop.is_alive() and len(mailbox.messages) == 1


def message_ids(mailbox) -> Counter:
    return Counter(message["Message-ID"] for message in mailbox.messages)


def test_a_batch_of_300_goes_through_one_connection_each_email_once_with_a_commit_per_chunk(engine, mailbox,
                                                                                             tmp_path):
    ids = queue(engine, 300)
    commits = []

    def count(_conn) -> None:
        commits.append(1)

    event.listen(engine, "commit", count)
    try:
        stats = deliver_pending(engine, smtp_settings(mailbox, tmp_path))
    finally:
        event.remove(engine, "commit", count)

    assert (stats.claimed, stats.sent, stats.failed) == (300, 300, 0)
    assert sorted(m["Subject"] for m in mailbox.messages) == sorted(f"{SUBJECT} {i}" for i in range(300))
    assert set(message_ids(mailbox).values()) == {1} and len(message_ids(mailbox)) == 300
    assert len(set(mailbox.peers)) == 1, "one SMTP connection for the batch"
    # The first claim, then one transaction per chunk recording it and claiming the next: not one per e-mail.
    assert len(commits) <= 300 // CHUNK_SIZE + 2, len(commits)
    assert {row(engine, i).status for i in ids} == {EmailStatus.SENT}


def test_a_sender_asked_to_stop_finishes_its_chunk_and_leaves_nothing_claimed(engine, mailbox, tmp_path):
    ids = queue(engine, 3 * CHUNK_SIZE)
    stop = threading.Event()
    settings = smtp_settings(mailbox, tmp_path)
    mailbox.after_each = lambda: len(mailbox.messages) == 2 and stop.set()
    first = deliver_pending(engine, settings, stop=stop)

    assert (first.claimed, first.sent) == (CHUNK_SIZE, CHUNK_SIZE)
    assert all(row(engine, i).claimed_until is None for i in ids[CHUNK_SIZE:]), "nothing left claimed"
    rest = deliver_pending(engine, settings)
    assert rest.sent == 2 * CHUNK_SIZE and set(message_ids(mailbox).values()) == {1}
    assert len(message_ids(mailbox)) == 3 * CHUNK_SIZE


class HoldingMailbox(Mailbox):
    """Accepts e-mails until the `hold_at`-th, which it keeps (it has arrived) but does not answer for now."""

    def __init__(self, hold_at: int):
        super().__init__()
        self.hold_at = hold_at
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        return answer


SENDER = """
import sys
from backend.core.db import make_engine
from backend.core.settings import Settings
from backend.outbox.sender import deliver_pending

url, port, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
deliver_pending(make_engine(url), Settings(smtp_host="127.0.0.1", smtp_port=port, mail_folder=folder,
                                           mail_from="internmatch <no-reply@internmatch.example.hk>"), limit=1000)
"""


def test_a_sender_killed_mid_batch_never_resends_and_its_restart_goes_on_where_it_stopped(engine, tmp_path):
    """A real process, killed (SIGKILL) while the server holds an e-mail it has received but not yet answered."""
    total, hold_at = 12 * CHUNK_SIZE, 4 * CHUNK_SIZE + CHUNK_SIZE // 2 + 1
    ids = queue(engine, total)
    box = HoldingMailbox(hold_at)
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.port = controller.port
    try:
        child = subprocess.Popen([sys.executable, "-c", SENDER, engine.url.render_as_string(hide_password=False),
                                  str(box.port), str(tmp_path / "mail")], cwd=ROOT, env=os.environ.copy())
        try:
            assert box.holding.wait(timeout=60), "the sender reached the e-mail the server holds"
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
            box.release.set()
        assert child.returncode == -signal.SIGKILL

        dead_chunk = set(ids[4 * CHUNK_SIZE:5 * CHUNK_SIZE])  # claimed, part sent, none of it recorded
        recorded = {i for i in ids if row(engine, i).status == EmailStatus.SENT}
        assert recorded == set(ids[:4 * CHUNK_SIZE]), "every finished chunk was recorded as it went"

        settings, now = smtp_settings(box, tmp_path), utcnow()
        restarted = deliver_pending(engine, settings, limit=1000, now=now)

        assert (restarted.claimed, restarted.sent) == (total - 5 * CHUNK_SIZE, total - 5 * CHUNK_SIZE), \
            "the restart goes on at once with the e-mails the dead sender had not reached"
        later = deliver_pending(engine, settings, limit=1000, now=now + lease_for(CHUNK_SIZE) + timedelta(seconds=1))
    finally:
        controller.stop()

    assert (later.claimed, later.abandoned) == (0, CHUNK_SIZE)
    arrived = message_ids(box)
    assert set(arrived.values()) == {1}, "no e-mail arrived twice"
    assert len(arrived) == total - CHUNK_SIZE + CHUNK_SIZE // 2 + 1  # the dead chunk's first ones arrived once
    statuses = {i: row(engine, i) for i in ids}
    assert {i for i, r in statuses.items() if r.status == EmailStatus.FAILED} == dead_chunk
    assert all("outcome unknown" in statuses[i].last_error for i in dead_chunk)
    assert {i for i, r in statuses.items() if r.status == EmailStatus.SENT} == set(ids) - dead_chunk
