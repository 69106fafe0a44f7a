from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow


class Role(StrEnum):
    APPLICANT = "applicant"
    NGO = "ngo"
    OFFICER = "officer"
    APPROVER = "approver"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.OFFICER, Role.APPROVER, Role.ADMIN})


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


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose label, not a secret
    CLAIM_ACCOUNT = "claim_account"
    JOIN_ORGANISATION = "join_organisation"


class OneTimeToken(SQLModel, table=True):
    """Single-use, expiring link tokens (e-mail verification, password reset, invitations)."""

    __tablename__ = "one_time_token"
    id: int | None = Field(default=None, primary_key=True)
    purpose: TokenPurpose = Field(sa_type=String(24))
    token_hash: str = Field(sa_type=String(64), unique=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="CASCADE")
    email: str = Field(default="", sa_type=String(254))
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", ondelete="CASCADE")
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins per client address, for exponential delay independent of the account tried."""

    __tablename__ = "sign_in_throttle"
    key: str = Field(sa_type=String(100), primary_key=True)
    failures: int = 0
    last_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
