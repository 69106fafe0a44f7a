from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow


class Scheme(SQLModel, table=True):
    """A funding scheme: a budget, windows for NGOs and applicants, and the rules projects must meet."""

    __table_args__ = (
        CheckConstraint("budget_hkd >= 0", name="budget_not_negative"),
        CheckConstraint("min_age <= max_age", name="age_range"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name_en: str = Field(sa_type=String(200))
    name_zh: str = Field(sa_type=String(200))
    budget_hkd: int = Field(sa_type=BigInteger)
    ngo_window_opens: date
    ngo_window_closes: date
    applicant_window_opens: date
    applicant_window_closes: date
    min_age: int = 18
    max_age: int = 29
    max_subsidy_per_place: int = Field(sa_type=BigInteger)
    max_choices: int = 5
    gba_min_share_percent: int | None = None
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SchemeRegionCap(SQLModel, table=True):
    """At most `max_places` places granted (and placed) in one region under a scheme."""

    __tablename__ = "scheme_region_cap"
    __table_args__ = (UniqueConstraint("scheme_id", "region"),)
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True, ondelete="CASCADE")
    region: str = Field(sa_type=String(50))
    max_places: int


class SchemeSubsidyLimit(SQLModel, table=True):
    """A tighter subsidy ceiling for a region and/or a duration band than the scheme's general one."""

    __tablename__ = "scheme_subsidy_limit"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True, ondelete="CASCADE")
    region: str | None = Field(default=None, sa_type=String(50))
    min_weeks: int | None = None
    max_weeks: int | None = None
    max_subsidy_per_place: int = Field(sa_type=BigInteger)


class AssessmentCriterion(SQLModel, table=True):
    __tablename__ = "assessment_criterion"
    __table_args__ = (UniqueConstraint("scheme_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True, ondelete="CASCADE")
    code: str = Field(sa_type=String(40))
    name_en: str = Field(sa_type=String(200))
    name_zh: str = Field(sa_type=String(200))
    weight: int = 1
    max_score: int = 5
