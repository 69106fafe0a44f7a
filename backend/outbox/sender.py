"""Delivering the outbox: claim, send, mark - at most once.

1. Claim: one UPDATE ... RETURNING sets `claimed_until` on up to `limit` due e-mails and is committed
   before anything is sent. On PostgreSQL the candidate rows are picked FOR UPDATE SKIP LOCKED, so two
   senders take different rows without waiting; on SQLite the same statement is a conditional UPDATE
   under the database write lock. Only unclaimed rows (`claimed_until IS NULL`) are taken.
2. Send each through SMTP (or, with no SMTP_HOST, write it as an .eml file for developers).
3. Mark each outcome in its own commit straight away: sent; or a temporary failure, which releases the
   claim and schedules a retry with exponential backoff, until MAX_ATTEMPTS make it failed; or a
   permanent refusal (5xx for the recipient or the message), failed at once.

A claim that outlives its lease while the row is still pending means a sender stopped between claiming
and marking: the e-mail may or may not have gone. We choose at-most-once - such a row is marked failed
with an explanation for an officer to check, never re-sent blindly - because a duplicate offer or
reminder confuses applicants more than a missing one an officer can re-send.

On SQLite the sender shares the database with the web process (`serve` runs it in-process): read-only
looks come first, so an idle sender never takes the write lock, and every transaction that writes begins
with the lock taken (`for_writing`), so it neither fails on nor makes a web request fail on a stale read.
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

from sqlalchemy import Engine, select, update

from backend.core.db import for_writing, get_engine, utcnow
from backend.core.settings import Settings, get_settings
from backend.outbox.models import EmailStatus, OutboxEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
SMTP_TIMEOUT_SECONDS = 30
# The lease must outlast a whole batch sent one by one, or a slow but live sender would be taken for dead.
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


def claim(engine: Engine, *, now: datetime, limit: int) -> tuple[datetime, list[int]]:
    """Claim up to `limit` due e-mails and commit the claim; the claim's expiry doubles as its token."""
    until = now + lease_for(limit)
    due = (select(_table.c.id)
           .where(_table.c.status == EmailStatus.PENDING, _table.c.claimed_until.is_(None),
                  _table.c.next_attempt_at <= now)
           .order_by(_table.c.next_attempt_at, _table.c.id).limit(limit))
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    else:
        with engine.connect() as conn:  # SQLite: a read-only look first, so an idle sender takes no write lock
            if conn.execute(due.limit(1)).first() is None:
                return until, []
    with for_writing(engine).begin() as conn:
        ids = conn.execute(update(_table)
                           .where(_table.c.id.in_(due.scalar_subquery()), _table.c.status == EmailStatus.PENDING,
                                  _table.c.claimed_until.is_(None))
                           .values(claimed_until=until).returning(_table.c.id)).scalars().all()
    return until, sorted(ids)


def _load(engine: Engine, ids: list[int]) -> list[OutboxEmail]:
    with engine.connect() as conn:
        rows = conn.execute(select(_table).where(_table.c.id.in_(ids)).order_by(_table.c.id)).mappings().all()
    return [OutboxEmail(**row) for row in rows]


def _mark(engine: Engine, email_id: int, until: datetime, **values) -> None:
    with for_writing(engine).begin() as conn:
        conn.execute(update(_table).where(_table.c.id == email_id, _table.c.claimed_until == until)
                     .values(**values))


def deliver_pending(engine: Engine, settings: Settings, limit: int = 50, *, now: datetime | None = None,
                    max_attempts: int = MAX_ATTEMPTS) -> DeliveryStats:
    now = now or utcnow()
    stats = DeliveryStats(abandoned=_abandon_stale_claims(engine, now))
    until, ids = claim(engine, now=now, limit=limit)
    stats.claimed = len(ids)
    if not ids:
        return stats
    transport = _Transport(settings)
    unattempted = set(ids)
    try:
        for email in _load(engine, ids):
            unattempted.discard(email.id)
            attempts = email.attempts + 1
            try:
                transport.send(email)
            except TemporaryFailure as error:
                gives_up = attempts >= max_attempts
                later = {} if gives_up else {"next_attempt_at": now + backoff(attempts)}
                _mark(engine, email.id, until, attempts=attempts, last_error=str(error)[:2000],
                      claimed_until=None, status=EmailStatus.FAILED if gives_up else EmailStatus.PENDING, **later)
                if gives_up:
                    stats.failed += 1
                    logger.error("e-mail %s failed after %s attempts: %s", email.id, attempts, error)
                else:
                    stats.retried += 1
                continue
            except PermanentFailure as error:
                _mark(engine, email.id, until, attempts=attempts, last_error=str(error)[:2000],
                      claimed_until=None, status=EmailStatus.FAILED)
                stats.failed += 1
                logger.error("e-mail %s refused for good: %s", email.id, error)
                continue
            _mark(engine, email.id, until, attempts=attempts, status=EmailStatus.SENT, sent_at=utcnow(),
                  last_error=None)
            stats.sent += 1
    finally:
        transport.close()
        if unattempted:
            # Never handed to SMTP, so releasing them cannot cause a second delivery.
            with for_writing(engine).begin() as conn:
                conn.execute(update(_table).where(_table.c.id.in_(sorted(unattempted)),
                                                  _table.c.claimed_until == until).values(claimed_until=None))
    return stats


def run_sender_forever(stop_event: threading.Event, *, engine: Engine | None = None,
                       settings: Settings | None = None, limit: int = 50, idle_seconds: float = 5.0) -> None:
    """The worker process's delivery loop: drain the outbox, then wait, until `stop_event` is set."""
    engine = engine or get_engine()
    settings = settings or get_settings()
    while not stop_event.is_set():
        try:
            stats = deliver_pending(engine, settings, limit=limit)
        except Exception:  # a database hiccup must not end the worker; the next round tries again
            logger.exception("delivering e-mails failed")
            stats = None
        if stats is None or stats.claimed < limit:
            stop_event.wait(idle_seconds)
