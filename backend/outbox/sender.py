"""Delivering the outbox: claim, send, mark - at most once, in batches that keep their place.

A batch (`deliver_pending`, up to `limit` e-mails) goes through one SMTP connection, a few e-mails at a time:

1. Claim a chunk: a SELECT picks up to CHUNK_SIZE due e-mails and an UPDATE ... RETURNING sets their
   `claimed_until` and returns them; the claim is committed before any of them is sent. On PostgreSQL the
   rows are picked FOR UPDATE SKIP LOCKED, so two senders take different rows without waiting; on SQLite
   both statements run under the database write lock. Only unclaimed rows (`claimed_until IS NULL`) are taken.
2. Send each through SMTP (or, with no SMTP_HOST, write it as an .eml file for developers).
3. Record the chunk's outcomes in one transaction, which also claims the next chunk: sent; or a temporary
   failure, which releases the claim and schedules a retry with exponential backoff, until MAX_ATTEMPTS make
   it failed; or a permanent refusal (5xx for the recipient or the message), failed at once.

So the database holds the batch's progress at every chunk: e-mails sent are recorded as sent, e-mails not
yet reached are not even claimed, and a sender that stops (killed, or the machine restarted) leaves at most
one chunk's claims behind; a restarted sender goes on at once with the next e-mail in order.

A claim that outlives its lease while the row is still pending means a sender stopped between claiming
and recording: the e-mail may or may not have gone. We choose at-most-once - such a row is marked failed
with an explanation for an officer to check, never re-sent blindly - because a duplicate offer or
reminder confuses applicants more than a missing one an officer can re-send. Claiming a chunk at a time,
not the whole batch, keeps such e-mails to at most CHUNK_SIZE per stopped sender.

On SQLite the sender shares the database with the web process (`serve` runs it in-process): read-only
looks come first, so an idle sender never takes the write lock, and every transaction that writes begins
with the lock taken (`for_writing`), so it neither fails on nor makes a web request fail on a stale read.
One such transaction per chunk, not per e-mail, keeps the sender's share of the lock small.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from sqlalchemy import Connection, Engine, bindparam, select, update

from backend.core.db import for_writing, get_engine, utcnow
from backend.core.settings import Settings, get_settings
from backend.outbox.models import EmailStatus, OutboxEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# E-mails one batch sends through one SMTP connection (the worker loop's default).
BATCH_SIZE = 500
# E-mails claimed, and their outcomes recorded, in one transaction: a stopped sender leaves at most this
# many e-mails whose outcome is unknown; larger means fewer commits.
CHUNK_SIZE = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
SMTP_TIMEOUT_SECONDS = 30
# The lease must outlast a whole chunk sent one by one, or a slow but live sender would be taken for dead.
MIN_LEASE = timedelta(minutes=15)
UNKNOWN_OUTCOME = ("Delivery outcome unknown: a sender claimed this e-mail (lease until {until} UTC) "
                   "and stopped before recording the result. It is not retried automatically so that it is "
                   "never sent twice; check with the recipient and queue it again if it did not arrive.")

_table = OutboxEmail.__table__


@dataclass
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    abandoned: int = 0


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after the 1st, 2nd, 3rd ... failure, at most six hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def lease_for(limit: int) -> timedelta:
    return max(MIN_LEASE, timedelta(seconds=2 * SMTP_TIMEOUT_SECONDS * (limit + 1)))


def build_message(email: OutboxEmail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "internmatch.invalid"
    # Stable per row, so a recipient's mail system can tell a (theoretical) duplicate for what it is.
    message["Message-ID"] = f"<outbox.{email.id}.{int(email.created_at.timestamp())}@{domain}>"
    message["Content-Language"] = email.language
    # base64 keeps Chinese intact through servers without 8BITMIME.
    message.set_content(email.body_text, charset="utf-8", cte="base64")
    return message


class _Transport:
    """One SMTP connection per batch, opened on first use and reopened after any failure."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def send(self, email: OutboxEmail) -> None:
        try:
            message = build_message(email, self.settings)
        except (ValueError, TypeError) as error:  # e.g. a line break in a header: never deliverable
            raise PermanentFailure(f"cannot build the message: {error}") from error
        if not self.settings.smtp_host:
            self._write_file(email, message)
            return
        try:
            if self.smtp is None:
                self.smtp = self._connect()
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            codes = [code for code, _text in error.recipients.values()]
            detail = f"recipient refused: {error.recipients}"
            raise (PermanentFailure if all(code >= 500 for code in codes) else TemporaryFailure)(detail) from error
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
            self.close()
            detail = f"{error.smtp_code} {error.smtp_error!r}"
            raise (PermanentFailure if error.smtp_code >= 500 else TemporaryFailure)(detail) from error
        except (smtplib.SMTPException, OSError) as error:
            # Connection, TLS and sign-in problems are the server's or our settings', not the message's.
            self.close()
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from error

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            if self.settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.settings.smtp_username:
                smtp.login(self.settings.smtp_username, self.settings.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _write_file(self, email: OutboxEmail, message: EmailMessage) -> None:
        folder = Path(self.settings.mail_folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{email.id:08d}-{email.template or 'email'}.eml"
            with path.open("xb") as file:  # "x": an existing file means it was written before; never again
                file.write(message.as_bytes())
        except OSError as error:
            raise TemporaryFailure(f"cannot write the e-mail file: {error}") from error

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def _abandon_stale_claims(engine: Engine, now: datetime) -> int:
    with engine.connect() as conn:
        stale = conn.execute(select(_table.c.id, _table.c.claimed_until).where(
            _table.c.status == EmailStatus.PENDING, _table.c.claimed_until.is_not(None),
            _table.c.claimed_until < now)).all()
    if not stale:
        return 0
    # Each UPDATE repeats its conditions, so a row marked or released since the look above is left alone.
    with for_writing(engine).begin() as conn:
        for email_id, until in stale:
            conn.execute(update(_table).where(_table.c.id == email_id, _table.c.claimed_until == until,
                                              _table.c.status == EmailStatus.PENDING)
                         .values(status=EmailStatus.FAILED,
                                 last_error=UNKNOWN_OUTCOME.format(until=until.isoformat(timespec="seconds"))))
    return len(stale)


def _due(now: datetime, limit: int):
    return (select(_table.c.id)
            .where(_table.c.status == EmailStatus.PENDING, _table.c.claimed_until.is_(None),
                   _table.c.next_attempt_at <= now)
            .order_by(_table.c.next_attempt_at, _table.c.id).limit(limit))


def _claim_in(conn: Connection, *, now: datetime, limit: int) -> tuple[datetime, list[OutboxEmail]]:
    """Claim up to `limit` due e-mails in `conn`'s transaction; the claim's expiry doubles as its token."""
    until = now + lease_for(limit)
    if limit <= 0:
        return until, []
    due = _due(now, limit)
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # Two statements, not `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`: PostgreSQL may
    # run such a subquery again for each row it updates, and each run skips the rows already claimed and
    # takes the next n, so one claim could take far more than n. The rows picked stay locked (PostgreSQL) or
    # the write lock is held (SQLite) until the claim commits.
    ids = conn.execute(due).scalars().all()
    if not ids:
        return until, []
    rows = conn.execute(update(_table)
                        .where(_table.c.id.in_(ids), _table.c.status == EmailStatus.PENDING,
                               _table.c.claimed_until.is_(None))
                        .values(claimed_until=until).returning(*_table.c)).mappings().all()
    return until, sorted((OutboxEmail(**row) for row in rows), key=lambda email: email.id)


def _claim_emails(engine: Engine, *, now: datetime, limit: int) -> tuple[datetime, list[OutboxEmail]]:
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn:  # SQLite: a read-only look first, so an idle sender takes no write lock
            if conn.execute(_due(now, 1)).first() is None:
                return now + lease_for(limit), []
    with for_writing(engine).begin() as conn:
        return _claim_in(conn, now=now, limit=limit)


def claim(engine: Engine, *, now: datetime, limit: int) -> tuple[datetime, list[int]]:
    """Claim up to `limit` due e-mails and commit the claim; the claim's expiry doubles as its token."""
    until, emails = _claim_emails(engine, now=now, limit=limit)
    return until, [email.id for email in emails]


_record_outcome = (update(_table)
                   .where(_table.c.id == bindparam("b_id"), _table.c.claimed_until == bindparam("b_until"))
                   .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"),
                           last_error=bindparam("b_last_error"), sent_at=bindparam("b_sent_at"),
                           next_attempt_at=bindparam("b_next_attempt_at"),
                           claimed_until=bindparam("b_claimed_until")))


def _record(conn: Connection, outcomes: list[dict], unattempted: list[int], until: datetime | None) -> None:
    """Write outcomes (one statement for the lot) and release e-mails claimed but never handed over."""
    if outcomes:
        conn.execute(_record_outcome, outcomes)
    if unattempted:
        # Never handed to SMTP, so releasing them cannot cause a second delivery.
        conn.execute(update(_table).where(_table.c.id.in_(unattempted), _table.c.claimed_until == until)
                     .values(claimed_until=None))


def _attempt(transport: _Transport, email: OutboxEmail, until: datetime, *, now: datetime, max_attempts: int,
             stats: DeliveryStats) -> dict:
    """Hand one e-mail over; what to record about it (the parameters of `_record_outcome`)."""
    attempts = email.attempts + 1
    outcome = {"b_id": email.id, "b_until": until, "b_attempts": attempts, "b_sent_at": None,
               "b_next_attempt_at": email.next_attempt_at, "b_claimed_until": None}
    try:
        transport.send(email)
    except TemporaryFailure as error:
        gives_up = attempts >= max_attempts
        outcome.update(b_status=EmailStatus.FAILED if gives_up else EmailStatus.PENDING,
                       b_last_error=str(error)[:2000])
        if gives_up:
            stats.failed += 1
            logger.error("e-mail %s failed after %s attempts: %s", email.id, attempts, error)
        else:
            outcome["b_next_attempt_at"] = now + backoff(attempts)
            stats.retried += 1
        return outcome
    except PermanentFailure as error:
        outcome.update(b_status=EmailStatus.FAILED, b_last_error=str(error)[:2000])
        stats.failed += 1
        logger.error("e-mail %s refused for good: %s", email.id, error)
        return outcome
    stats.sent += 1
    # A sent e-mail keeps its claim: nothing pending is left to release.
    return {**outcome, "b_status": EmailStatus.SENT, "b_last_error": None, "b_sent_at": utcnow(),
            "b_claimed_until": until}


def deliver_pending(engine: Engine, settings: Settings, limit: int = BATCH_SIZE, *, now: datetime | None = None,
                    max_attempts: int = MAX_ATTEMPTS, chunk_size: int = CHUNK_SIZE,
                    stop: threading.Event | None = None) -> DeliveryStats:
    """Send up to `limit` due e-mails through one SMTP connection, claiming and recording `chunk_size` at a time.

    `now` is the moment the batch starts (the tests move it); later chunks add the time since. Once `stop` is
    set, no further chunk is claimed.
    """
    started = utcnow()
    now = now or started
    stats = DeliveryStats(abandoned=_abandon_stale_claims(engine, now))
    until, emails = _claim_emails(engine, now=now, limit=min(chunk_size, limit))
    transport = _Transport(settings)
    outcomes: list[dict] = []
    unattempted: list[int] = []
    try:
        while emails:
            stats.claimed += len(emails)
            for index, email in enumerate(emails):
                unattempted = [e.id for e in emails[index + 1:]]
                outcomes.append(_attempt(transport, email, until, now=now, max_attempts=max_attempts, stats=stats))
            # The chunk's outcomes and the next chunk's claim: one transaction.
            with for_writing(engine).begin() as conn:
                _record(conn, outcomes, [], until)
                more = 0 if stop is not None and stop.is_set() else min(chunk_size, limit - stats.claimed)
                until, emails = _claim_in(conn, now=now + (utcnow() - started), limit=more)
            outcomes = []
    finally:
        transport.close()
        if outcomes or unattempted:  # stopped by an error part-way through a chunk: keep what is known
            try:
                with for_writing(engine).begin() as conn:
                    _record(conn, outcomes, unattempted, until)
            except Exception:  # the claims stay; after their lease they are reported, never re-sent
                logger.exception("recording the outcome of e-mails failed")
    return stats


def run_sender_forever(stop_event: threading.Event, *, engine: Engine | None = None,
                       settings: Settings | None = None, limit: int = BATCH_SIZE, idle_seconds: float = 5.0,
                       chunk_size: int = CHUNK_SIZE) -> None:
    """The worker process's delivery loop: drain the outbox, then wait, until `stop_event` is set.

    Asked to stop part-way through a batch, it finishes the chunk in hand, records it and stops: nothing is
    left claimed, and the next start goes on from the next e-mail.
    """
    engine = engine or get_engine()
    settings = settings or get_settings()
    while not stop_event.is_set():
        try:
            stats = deliver_pending(engine, settings, limit=limit, chunk_size=chunk_size, stop=stop_event)
        except Exception:  # a database hiccup must not end the worker; the next round tries again
            logger.exception("delivering e-mails failed")
            stats = None
        if stats is None or stats.claimed < limit:
            stop_event.wait(idle_seconds)
