from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow


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
