from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, Session, SQLModel, select

from backend.core.db import UTCDateTime, utcnow
from backend.identity import scopes


class OrganisationKind(StrEnum):
    """A Hong Kong NGO, verified by Home Affairs staff; or a Guangdong host organisation offering places,
    verified by the Guangdong coordinating office. Which programmes each may post in: `schemes.kinds`."""

    NGO = "ngo"
    GUANGDONG_HOST = "guangdong_host"


class Organisation(SQLModel, table=True):
    """An NGO or a Guangdong host organisation. It may post projects only once it has been verified."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default=OrganisationKind.NGO, sa_type=String(20))
    name_en: str = Field(sa_type=String(200))
    name_zh: str = Field(sa_type=String(200))
    registration_number: str = Field(sa_type=String(50), unique=True)
    contact_name: str = Field(sa_type=String(200))
    contact_email: str = Field(sa_type=String(254))
    contact_phone: str = Field(default="", sa_type=String(30))
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def is_guangdong_host(self) -> bool:
        return self.kind == OrganisationKind.GUANGDONG_HOST


class OrganisationMember(SQLModel, table=True):
    __tablename__ = "organisation_member"
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    # One organisation per NGO user keeps tenancy checks unambiguous.
    user_id: int = Field(foreign_key="user.id", unique=True, ondelete="CASCADE")
    is_admin: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _membership_of(db: Session, user) -> OrganisationMember | None:
    """An NGO user acts for the one organisation they are a member of."""
    return db.exec(select(OrganisationMember).where(OrganisationMember.user_id == user.id)).first()


# NGO tenancy (backend.identity.permissions): only a verified organisation may post projects.
scopes.register_organisation_type(Organisation, may_post_projects=lambda organisation: organisation.is_verified)
scopes.register_organisation_of(OrganisationMember, lambda member: member.organisation_id)
# The Guangdong coordinating office sees (and verifies) Guangdong host organisations, never Hong Kong NGOs.
scopes.register_guangdong_side(Organisation, lambda organisation: organisation.is_guangdong_host)
scopes.register_acts_for(_membership_of)
