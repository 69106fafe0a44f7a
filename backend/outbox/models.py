from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow


class EmailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxEmail(SQLModel, table=True):
    """An e-mail written in the same transaction as the change that causes it; a sender delivers it."""

    __tablename__ = "outbox_email"
    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(sa_type=String(254))
    subject: str = Field(sa_type=String(300))
    body_text: str = Field(sa_type=Text)
    language: str = Field(default="en", sa_type=String(8))
    template: str = Field(default="", sa_type=String(60))
    status: EmailStatus = Field(default=EmailStatus.PENDING, sa_type=String(10), index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
