"""Who people are to the platform: accounts, their roles, signed-in sessions and personal API tokens."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow


class Role(StrEnum):
    APPLICANT = "applicant"
    NGO = "ngo"
    # A member of a Guangdong host organisation: offers places in its own words and ranks who chose them, like an
    # NGO, in the programmes that take places from Guangdong hosts.
    HOST = "host"
    OFFICER = "officer"
    APPROVER = "approver"
    ADMIN = "admin"
    # A partner, not Hong Kong staff: the Guangdong coordinating office confirms Guangdong participants and sees
    # the cohorts of programmes that admit Guangdong youth, never Hong Kong applicants.
    GUANGDONG_OFFICE = "guangdong_office"


STAFF_ROLES = frozenset({Role.OFFICER, Role.APPROVER, Role.ADMIN})
# Partner accounts: made by an admin like staff accounts (never by sign-up), but seeing only their own side.
PARTNER_ROLES = frozenset({Role.GUANGDONG_OFFICE})
# Every role an admin creates an account for; each must sign in with a second factor.
ADMIN_MADE_ROLES = STAFF_ROLES | PARTNER_ROLES


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(254), unique=True, index=True)
    password_hash: str | None = Field(default=None, sa_type=String(255))
    role: Role = Field(sa_type=String(16), index=True)
    display_name: str = Field(default="", sa_type=String(200))
    preferred_language: str = Field(default="en", sa_type=String(8))
    is_active: bool = True
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_sign_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_sign_ins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """Server-side record behind the signed session cookie, so sign-out and expiry are real."""

    __tablename__ = "user_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=String(64), unique=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Password accepted, one-time code not yet: such a session reaches only the second-step pages.
    second_factor_pending: bool = False


class ApiToken(SQLModel, table=True):
    """Personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    name: str = Field(sa_type=String(100))
    token_hash: str = Field(sa_type=String(64), unique=True)
    prefix: str = Field(sa_type=String(12))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SecondFactor(SQLModel, table=True):
    """A person's authenticator app (TOTP, RFC 6238): the shared secret, encrypted with a key derived from
    SECRET_KEY (backend.identity.second_factor), and what stops a code being guessed or used twice."""

    __tablename__ = "second_factor"
    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    secret_encrypted: str = Field(sa_type=String(200))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # None while enrolment waits for its first code; the secret is never shown after this is set.
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last accepted 30-second time step: a code for it, or an earlier one, is refused (no replay).
    last_time_step: int | None = Field(default=None, sa_type=BigInteger)
    failed_codes: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RecoveryCode(SQLModel, table=True):
    """Single-use codes for a lost authenticator; only their SHA-256 is stored."""

    __tablename__ = "recovery_code"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(sa_type=String(64))
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
