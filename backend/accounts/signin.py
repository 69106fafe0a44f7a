"""Signing in, with an exponentially growing wait after repeated failures.

Failures are counted per account (someone guessing one person's password) and per client address
(someone trying many accounts). The address threshold is higher because a school or a library puts many
honest people behind one address.
"""

from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from backend.accounts.models import SignInThrottle
from backend.accounts.passwords import verify_password
from backend.accounts.service import find_by_email
from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import DomainError
from backend.core.i18n import gettext as _
from backend.identity.lockout import FIRST_DELAY, delay_after, minutes_to_wait
from backend.identity.models import User

ACCOUNT_THRESHOLD = 5
ADDRESS_THRESHOLD = 20
# A client address that stays quiet this long starts again from zero.
ADDRESS_MEMORY = timedelta(hours=24)


class SignInRefused(DomainError):
    status_code = 400
    code = "sign_in_refused"


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"

    def __init__(self, until: datetime):
        minutes = minutes_to_wait(until)
        super().__init__(_("Too many sign-in attempts. Wait %(minutes)s minutes, then try again.",
                           minutes=minutes))
        self.until = until


def _address_blocked_until(session: Session, key: str) -> datetime | None:
    # Columns, not the row: a loaded SignInThrottle would go stale when the counter moves in SQL below.
    return session.exec(select(SignInThrottle.blocked_until).where(SignInThrottle.key == key)).first()


def _count_attempt_against_account(session: Session, user: User, now: datetime) -> bool:
    """Counts this attempt as a failure before the password is checked; False if the account is locked.

    One conditional UPDATE both checks the lock and adds one, so parallel guesses queue on the row and the
    attempt that reaches the threshold locks it for all that come after: exactly ACCOUNT_THRESHOLD guesses
    reach the password check. A right password clears the count again.
    """
    counted = session.execute(
        update(User)
        .where(col(User.id) == user.id,
               or_(col(User.locked_until).is_(None), col(User.locked_until) <= now))
        .values(failed_sign_ins=col(User.failed_sign_ins) + 1)
        .returning(User.failed_sign_ins)
        .execution_options(synchronize_session="fetch")).scalar_one_or_none()
    if counted is None:
        return False
    account_delay = delay_after(counted, ACCOUNT_THRESHOLD)
    if account_delay:
        session.execute(update(User).where(col(User.id) == user.id, col(User.failed_sign_ins) == counted)
                        .values(locked_until=now + account_delay)
                        .execution_options(synchronize_session="fetch"))
    return True


def _count_address_failure(session: Session, key: str, now: datetime) -> None:
    """Adds one to the address's failures in one upsert, so a first failure racing another is no duplicate key."""
    table = SignInThrottle.__table__
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    forgotten = or_(table.c.last_failure_at.is_(None), table.c.last_failure_at < now - ADDRESS_MEMORY)
    failures = session.execute(
        insert(table).values(key=key, failures=1, last_failure_at=now)
        .on_conflict_do_update(index_elements=[table.c.key],
                               set_={"failures": case((forgotten, 1), else_=table.c.failures + 1),
                                     "last_failure_at": now})
        .returning(table.c.failures)).scalar_one()
    address_delay = delay_after(failures, ADDRESS_THRESHOLD)
    # Only the latest count sets the wait: a racing failure that counted further has set a longer one.
    session.execute(update(table).where(table.c.key == key, table.c.failures == failures)
                    .values(blocked_until=now + address_delay if address_delay else None))


def _release_connection(session: Session) -> None:
    """Ends the transaction before the password is hashed, which is slow on purpose.

    Holding a pooled connection (and on SQLite the write lock) through the hash is what made a burst of
    sign-ins time out waiting for the pool. What is written so far (the attempt's count) must be visible
    to parallel attempts anyway; the next statement opens a new transaction.
    """
    session.commit()


def sign_in(session: Session, *, email: str, password: str, client_address: str) -> User:
    """The user, or SignInRefused / TooManyAttempts. Failures are written before raising: commit them."""
    now = utcnow()
    address_key = f"address:{client_address}"[:100]
    blocked_until = _address_blocked_until(session, address_key)
    if blocked_until and blocked_until > now:
        raise TooManyAttempts(blocked_until)
    user = find_by_email(session, email) if email.strip() else None
    if user is not None and not _count_attempt_against_account(session, user, now):
        session.refresh(user, ["locked_until"])  # as locked by the attempt that got there first
        # That attempt may have been the right password and unlocked the account again since.
        raise TooManyAttempts(user.locked_until or now + FIRST_DELAY)
    stored_hash = user.password_hash if user else None
    _release_connection(session)
    matches, new_hash = verify_password(password, stored_hash)
    if not matches or user is None or not user.is_active:
        _count_address_failure(session, address_key, utcnow())
        audit.record(session, user, "sign_in.failed", "user", user.id if user else "",
                     client_address=client_address)
        session.flush()
        raise SignInRefused(_("The e-mail address or password is not right."))
    values = {"failed_sign_ins": 0, "locked_until": None, "last_sign_in_at": now}
    if new_hash:
        # The stored hash used older Argon2 parameters; replace it while we know the password.
        values["password_hash"] = new_hash
    session.execute(update(User).where(col(User.id) == user.id).values(**values)
                    .execution_options(synchronize_session="fetch"))
    audit.record(session, user, "sign_in", "user", user.id, client_address=client_address)
    session.flush()
    return user
