"""The second factor: a time-based one-time code (TOTP, RFC 6238) from an authenticator app, and recovery codes.

Staff move public money, so officers, approvers and admins must have one; applicants and NGOs may opt in.

The shared secret is kept encrypted. `cryptography` is not a dependency here, so the encryption is built from
HMAC-SHA256 alone, encrypt-then-MAC: a keystream from HMAC in counter mode (the NIST SP 800-108 counter-mode
construction) under a random 16-byte nonce, XORed with the secret, then an HMAC-SHA256 tag over version, nonce
and ciphertext. Both keys are derived from SECRET_KEY by HMAC with distinct labels, so rotating SECRET_KEY makes
every enrolment unreadable (staff then re-enrol after an admin resets them).

Every check that could race is a conditional UPDATE: accepting a code moves `last_time_step` forward only if it
is still behind (no replay, even by two requests at once), a recovery code is used only while `used_at` is
empty, and a wrong code adds one to `failed_codes` in the database rather than in Python.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from backend.core.db import utcnow
from backend.core.errors import DomainError
from backend.core.i18n import gettext as _
from backend.core.settings import get_settings
from backend.identity.lockout import delay_after, minutes_to_wait
from backend.identity.models import RecoveryCode, SecondFactor, User
from backend.identity.roles import is_admin_made

ISSUER = "internmatch"
RECOVERY_CODES = 10
# A code from the step before or after the current one is accepted, for clocks a little out.
WINDOW = 1
LOCK_THRESHOLD = 5
_VERSION = b"v1"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class CodeRefused(DomainError):
    status_code = 400
    code = "second_factor_refused"


class TooManyCodes(DomainError):
    status_code = 429
    code = "too_many_codes"

    def __init__(self, until: datetime):
        minutes = minutes_to_wait(until)
        super().__init__(_("Too many wrong codes. Wait %(minutes)s minutes, then try again.", minutes=minutes))
        self.until = until


# --- the secret at rest ----------------------------------------------------------------------------

def _key(label: str) -> bytes:
    return hmac.new(get_settings().secret_key.encode(), b"internmatch second factor: " + label.encode(),
                    hashlib.sha256).digest()


def _keystream(nonce: bytes, length: int) -> bytes:
    key, blocks = _key("encryption"), []
    for counter in range((length + 31) // 32):
        blocks.append(hmac.new(key, counter.to_bytes(4, "big") + nonce, hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def encrypt_secret(secret: str) -> str:
    nonce = secrets.token_bytes(16)
    plain = secret.encode()
    cipher = bytes(a ^ b for a, b in zip(plain, _keystream(nonce, len(plain)), strict=True))
    tag = hmac.new(_key("authentication"), _VERSION + nonce + cipher, hashlib.sha256).digest()
    return _VERSION.decode() + "." + base64.urlsafe_b64encode(nonce + cipher + tag).decode()


def decrypt_secret(stored: str) -> str:
    version, _dot, body = stored.partition(".")
    raw = base64.urlsafe_b64decode(body.encode())
    nonce, cipher, tag = raw[:16], raw[16:-32], raw[-32:]
    expected = hmac.new(_key("authentication"), version.encode() + nonce + cipher, hashlib.sha256).digest()
    if version.encode() != _VERSION or not hmac.compare_digest(tag, expected):
        raise ValueError("the second factor's secret was encrypted with another key")
    return bytes(a ^ b for a, b in zip(cipher, _keystream(nonce, len(cipher)), strict=True)).decode()


# --- who needs one, who has one --------------------------------------------------------------------

def required(user: User) -> bool:
    """Staff and partner offices (the Guangdong office sees Guangdong applicants' data) must sign in with a
    second factor; everyone else may choose to."""
    return is_admin_made(user)


def find(session: Session, user_id: int) -> SecondFactor | None:
    return session.get(SecondFactor, user_id)


def is_enrolled(session: Session, user: User) -> bool:
    factor = find(session, user.id)
    return factor is not None and factor.confirmed_at is not None


def needs_second_step(session: Session, user: User) -> bool:
    """After a correct password: whether the session waits for a code (or for enrolment) before it counts."""
    return required(user) or is_enrolled(session, user)


def provisioning_uri(secret: str, user: User) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def start_enrolment(session: Session, user: User) -> str:
    """The secret to show while enrolment waits for its first code: the same one on every visit until then."""
    factor = find(session, user.id)
    if factor is not None and factor.confirmed_at is not None:
        raise CodeRefused(_("You already have an authenticator app set up."))
    if factor is not None:
        return decrypt_secret(factor.secret_encrypted)
    secret = pyotp.random_base32()
    session.add(SecondFactor(user_id=user.id, secret_encrypted=encrypt_secret(secret)))
    session.flush()
    return secret


def enrol_with_secret(session: Session, user: User, secret: str) -> list[str]:
    """Enrols `user` with a given secret, confirmed at once (demo data); returns fresh recovery codes."""
    remove(session, user.id)
    session.add(SecondFactor(user_id=user.id, secret_encrypted=encrypt_secret(secret), confirmed_at=utcnow()))
    session.flush()
    return _new_recovery_codes(session, user.id)


# --- checking a code -------------------------------------------------------------------------------

def _normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _recovery_hash(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{_normalise(code)}".encode()).hexdigest()


def _new_recovery_codes(session: Session, user_id: int) -> list[str]:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    codes = []
    for _n in range(RECOVERY_CODES):
        letters = "".join(secrets.choice(_RECOVERY_ALPHABET) for _i in range(10))
        code = f"{letters[:5]}-{letters[5:]}"
        codes.append(code)
        session.add(RecoveryCode(user_id=user_id, code_hash=_recovery_hash(user_id, code)))
    session.flush()
    return codes


def _count_failure(session: Session, user_id: int) -> datetime | None:
    """One more wrong code, counted by the database; the time the account is locked until, if it now is."""
    failures = session.execute(
        update(SecondFactor).where(col(SecondFactor.user_id) == user_id)
        .values(failed_codes=col(SecondFactor.failed_codes) + 1).returning(col(SecondFactor.failed_codes))
    ).scalar_one()
    delay = delay_after(failures, LOCK_THRESHOLD)
    if delay is None:
        return None
    until = utcnow() + delay
    session.execute(update(SecondFactor).where(col(SecondFactor.user_id) == user_id).values(locked_until=until))
    return until


def _accept_time_step(session: Session, factor: SecondFactor, code: str) -> bool:
    """Whether `code` is right for a step not used before; if so that step is taken, once, by the database."""
    totp = pyotp.TOTP(decrypt_secret(factor.secret_encrypted))
    now_step = totp.timecode(utcnow())
    for step in range(now_step - WINDOW, now_step + WINDOW + 1):
        if factor.last_time_step is not None and step <= factor.last_time_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            taken = session.execute(
                update(SecondFactor).where(col(SecondFactor.user_id) == factor.user_id,
                                           col(SecondFactor.last_time_step).is_(None)
                                           | (col(SecondFactor.last_time_step) < step))
                .values(last_time_step=step, failed_codes=0, locked_until=None))
            return taken.rowcount == 1
    return False


def _use_recovery_code(session: Session, user_id: int, code: str) -> bool:
    used = session.execute(
        update(RecoveryCode).where(col(RecoveryCode.user_id) == user_id,
                                   col(RecoveryCode.code_hash) == _recovery_hash(user_id, code),
                                   col(RecoveryCode.used_at).is_(None))
        .values(used_at=utcnow()))
    if used.rowcount != 1:
        return False
    session.execute(update(SecondFactor).where(col(SecondFactor.user_id) == user_id)
                    .values(failed_codes=0, locked_until=None))
    return True


class Outcome:
    """What a checked code was: `kind` is "code" or "recovery_code"; `locked_until` is set when a failure locked."""

    def __init__(self, kind: str | None, locked_until: datetime | None = None):
        self.kind = kind
        self.locked_until = locked_until


def check(session: Session, user: User, code: str, *, allow_recovery: bool = True,
          confirming: bool = False) -> Outcome:
    """Checks a code (or a recovery code) for `user`; a wrong one is counted. Raises TooManyCodes while locked.

    Returns Outcome(None) for a wrong code, so the caller can record it and then refuse.
    """
    factor = find(session, user.id)
    if factor is None or (factor.confirmed_at is None) != confirming:
        raise CodeRefused(_("Set up your authenticator app first."))
    if factor.locked_until is not None and factor.locked_until > utcnow():
        raise TooManyCodes(factor.locked_until)
    entered = "".join(code.split())
    if entered.isdigit() and len(entered) == 6:
        if _accept_time_step(session, factor, entered):
            return Outcome("code")
    elif allow_recovery and entered and _use_recovery_code(session, user.id, entered):
        return Outcome("recovery_code")
    return Outcome(None, _count_failure(session, user.id))


def confirm_enrolment(session: Session, user: User) -> list[str]:
    """Marks the waiting enrolment confirmed (only once) and returns its recovery codes, to show once."""
    confirmed = session.execute(update(SecondFactor).where(col(SecondFactor.user_id) == user.id,
                                                           col(SecondFactor.confirmed_at).is_(None))
                                .values(confirmed_at=utcnow()))
    if confirmed.rowcount != 1:
        raise CodeRefused(_("You already have an authenticator app set up."))
    return _new_recovery_codes(session, user.id)


def recovery_codes_left(session: Session, user: User) -> int:
    return len(session.exec(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                          col(RecoveryCode.used_at).is_(None))).all())


def remove(session: Session, user_id: int) -> bool:
    """Removes someone's second factor and recovery codes; False if they had none."""
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    removed = session.execute(delete(SecondFactor).where(col(SecondFactor.user_id) == user_id))
    return removed.rowcount == 1


def enrolled_user_ids(session: Session) -> set[int]:
    return set(session.exec(select(SecondFactor.user_id).where(col(SecondFactor.confirmed_at).is_not(None))).all())
