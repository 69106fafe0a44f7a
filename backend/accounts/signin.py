"""Signing in, with an exponentially growing wait after repeated failures.

Failures are counted per account (someone guessing one person's password) and per client address
(someone trying many accounts). The address threshold is higher because a school or a library puts many
honest people behind one address.
"""

from datetime import datetime, timedelta

from sqlmodel import Session

from backend.accounts.models import SignInThrottle
from backend.accounts.passwords import verify_password
from backend.accounts.service import find_by_email
from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import DomainError
from backend.core.i18n import gettext as _
from backend.identity.models import User

ACCOUNT_THRESHOLD = 5
ADDRESS_THRESHOLD = 20
FIRST_DELAY = timedelta(minutes=1)
LONGEST_DELAY = timedelta(hours=1)
# A client address that stays quiet this long starts again from zero.
ADDRESS_MEMORY = timedelta(hours=24)


class SignInRefused(DomainError):
    status_code = 400
    code = "sign_in_refused"


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"

    def __init__(self, until: datetime):
        minutes = max(1, int((until - utcnow()).total_seconds() + 59) // 60)
        super().__init__(_("Too many sign-in attempts. Wait %(minutes)s minutes, then try again.",
                           minutes=minutes))
        self.until = until


def delay_after(failures: int, threshold: int) -> timedelta | None:
    """None below the threshold; then 1, 2, 4 ... minutes, never more than an hour."""
    if failures < threshold:
        return None
    return min(FIRST_DELAY * (2 ** (failures - threshold)), LONGEST_DELAY)


def _address_throttle(session: Session, client_address: str) -> SignInThrottle:
    key = f"address:{client_address}"[:100]
    throttle = session.get(SignInThrottle, key)
    if throttle is None:
        throttle = SignInThrottle(key=key)
    return throttle


def _record_failure(session: Session, throttle: SignInThrottle, user: User | None, client_address: str) -> None:
    now = utcnow()
    if throttle.last_failure_at and now - throttle.last_failure_at > ADDRESS_MEMORY:
        throttle.failures = 0
    throttle.failures += 1
    throttle.last_failure_at = now
    address_delay = delay_after(throttle.failures, ADDRESS_THRESHOLD)
    throttle.blocked_until = now + address_delay if address_delay else None
    session.add(throttle)
    if user is not None:
        user.failed_sign_ins += 1
        account_delay = delay_after(user.failed_sign_ins, ACCOUNT_THRESHOLD)
        user.locked_until = now + account_delay if account_delay else None
        session.add(user)
    audit.record(session, user, "sign_in.failed", "user", user.id if user else "",
                 client_address=client_address)
    session.flush()


def sign_in(session: Session, *, email: str, password: str, client_address: str) -> User:
    """The user, or SignInRefused / TooManyAttempts. Failures are written before raising: commit them."""
    now = utcnow()
    throttle = _address_throttle(session, client_address)
    if throttle.blocked_until and throttle.blocked_until > now:
        raise TooManyAttempts(throttle.blocked_until)
    user = find_by_email(session, email) if email.strip() else None
    if user is not None and user.locked_until and user.locked_until > now:
        raise TooManyAttempts(user.locked_until)
    matches, new_hash = verify_password(password, user.password_hash if user else None)
    if not matches or user is None or not user.is_active:
        _record_failure(session, throttle, user, client_address)
        raise SignInRefused(_("The e-mail address or password is not right."))
    if new_hash:
        # The stored hash used older Argon2 parameters; replace it while we know the password.
        user.password_hash = new_hash
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = now
    session.add(user)
    audit.record(session, user, "sign_in", "user", user.id, client_address=client_address)
    session.flush()
    return user
