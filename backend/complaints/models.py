from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow
from backend.identity import scopes


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    UPHELD = "upheld"
    NOT_UPHELD = "not_upheld"


class Complaint(SQLModel, table=True):
    """A complaint about an organisation (and perhaps one of its projects), handled by staff as a case.

    `user_id` is the complainant (the applicant scope of identity reads it); the organisation sees the
    complaint only once staff have shared it (`shared_at`). Erasing the complainant empties the text and
    unlinks them; the case's status stays, since it counts towards the organisation's track record.
    """

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True, ondelete="SET NULL")
    status: ComplaintStatus = Field(default=ComplaintStatus.RECEIVED, sa_type=String(16), index=True)
    language: str = Field(default="en", sa_type=String(10))
    subject: str = Field(default="", sa_type=String(200))
    details: str = Field(default="", sa_type=Text)
    reply: str = Field(default="", sa_type=Text)
    acknowledge_by: date
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    investigating_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handled_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    shared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# The organisation complained about sees the complaint only once staff have shared it with them.
scopes.register_organisation_of(Complaint, lambda complaint: complaint.organisation_id
                                if complaint.shared_at is not None else None)
