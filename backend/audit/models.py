from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """Append-only record of every state change and sign-in.

    actor_id is deliberately not a foreign key: deleting an account must not rewrite history.
    """

    __tablename__ = "audit_event"
    # SQLite only auto-numbers an INTEGER primary key.
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, index=True)
    actor_role: str = Field(default="", sa_type=String(16))
    action: str = Field(sa_type=String(60), index=True)
    object_type: str = Field(sa_type=String(40), index=True)
    object_id: str = Field(default="", sa_type=String(40))
    before: dict | None = Field(default=None, sa_type=JSON)
    after: dict | None = Field(default=None, sa_type=JSON)
    client_address: str = Field(default="", sa_type=String(64))
