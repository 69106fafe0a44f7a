from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, Session, SQLModel, col, select

from backend.core.db import UTCDateTime, utcnow
from backend.identity import scopes
from backend.projects.models import Project


class ApplicantProfile(SQLModel, table=True):
    """What matching and the scheme need about a young applicant, and no more (no HKID number)."""

    __tablename__ = "applicant_profile"
    id: int | None = Field(default=None, primary_key=True)
    # Null until someone imported from a paper form claims the account.
    user_id: int | None = Field(default=None, foreign_key="user.id", unique=True, ondelete="SET NULL")
    # The id a CSV import gave, so importing the same file twice creates no duplicate.
    external_ref: str | None = Field(default=None, sa_type=String(64), unique=True)
    name_en: str = Field(default="", sa_type=String(200))
    name_zh: str = Field(default="", sa_type=String(100))
    date_of_birth: date | None = None
    # Where the applicant has declared she is from: "hong_kong" (a Hong Kong resident) or "guangdong"
    # (with the city), or "" (neither: admitted by no programme). No identity-card number is kept.
    origin: str = Field(default="", sa_type=String(12))
    guangdong_city: str = Field(default="", sa_type=String(40))
    origin_declared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A Guangdong declaration is not enough to be matched: the Guangdong coordinating office confirms it (or
    # refuses it, with a reason the applicant reads). Declaring again, or changing the origin, clears these
    # (backend/applicants/origin_confirmation.py owns the transitions).
    origin_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    origin_confirmed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    origin_refused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    origin_refusal_reason: str = Field(default="", sa_type=Text)
    contact_email: str = Field(default="", sa_type=String(254))
    phone: str = Field(default="", sa_type=String(30))
    education_level: str = Field(default="", sa_type=String(20))
    institution: str = Field(default="", sa_type=String(200))
    programme: str = Field(default="", sa_type=String(200))
    study_year: str = Field(default="", sa_type=String(40))
    field_of_study: str = Field(default="", sa_type=String(200))
    skills: str = Field(default="", sa_type=Text)
    interests: str = Field(default="", sa_type=Text)
    statement: str = Field(default="", sa_type=Text)
    # Levels 1-5 by language, e.g. {"cantonese": 5, "putonghua": 3}.
    languages: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    available_from: date | None = None
    available_to: date | None = None
    # Regions accepted; empty means any.
    regions: list[str] = Field(default_factory=list, sa_type=JSON)
    open_to_other: bool = False
    joined_before: bool = False
    cv_stored_name: str | None = Field(default=None, sa_type=String(80))
    cv_size_bytes: int | None = None
    cv_uploaded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The profile steps the applicant has saved at least once: a step whose empty answer is valid (regions, the
    # yes/no questions) shows as completed only once it has been seen and saved, never on a new empty profile.
    steps_saved: list[str] = Field(default_factory=list, sa_type=JSON,
                                   sa_column_kwargs={"server_default": text("'[]'")})

    @property
    def first_timer(self) -> bool:
        return not self.joined_before


class ChoiceStatus(StrEnum):
    SUBMITTED = "submitted"
    SHORTLISTED = "shortlisted"
    INTERVIEWED = "interviewed"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NOT_PLACED = "not_placed"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"  # the applicant accepted a place elsewhere in the scheme


class Choice(SQLModel, table=True):
    """A project an applicant ranked, with the NGO's own ranking of that applicant after interview."""

    __table_args__ = (
        UniqueConstraint("applicant_id", "project_id"),
        # One active choice per rank and scheme, whatever the race: two parallel "add" requests cannot
        # both take the next rank. Withdrawn choices keep rank 0 and are outside the index.
        Index(
            "uq_choice_active_rank",
            "applicant_id",
            "scheme_id",
            "rank",
            unique=True,
            sqlite_where=text("status <> 'withdrawn' AND rank > 0"),
            postgresql_where=text("status <> 'withdrawn' AND rank > 0"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    applicant_id: int = Field(foreign_key="applicant_profile.id", index=True, ondelete="CASCADE")
    project_id: int = Field(foreign_key="project.id", index=True, ondelete="CASCADE")
    scheme_id: int = Field(foreign_key="scheme.id", index=True)
    rank: int
    status: ChoiceStatus = Field(default=ChoiceStatus.SUBMITTED, sa_type=String(16))
    ngo_rank: int | None = None
    interview_outcome: str | None = Field(default=None, sa_type=String(20))
    interview_notes: str = Field(default="", sa_type=Text)
    # Made in the scramble (`applicants/scramble.py`): an application for an unfilled place after match day,
    # ranked after her earlier choices; the organisation sees it so marked.
    in_scramble: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProjectDemand(SQLModel, table=True):
    """How many applicants have chosen a project so far (active, not withdrawn choices): a counter kept
    by the choice writers (`applicants/demand.py`), so a project page reads one row instead of counting."""

    __tablename__ = "project_demand"
    project_id: int = Field(foreign_key="project.id", primary_key=True, ondelete="CASCADE")
    applicants: int = 0
    # How many applicants had it among their choices in the latest round on its scheme (the worker writes
    # it with the round's results), so "how competitive it was" is read, not recounted, per page view.
    round_applicants: int | None = None
    round_id: int | None = None


class ParticipantNomination(SQLModel, table=True):
    """A Guangdong participant the Guangdong coordinating office nominates before she signs up: when she declares
    she is from Guangdong, with the account of this e-mail address, she is confirmed at once
    (`origin_confirmation.confirm_if_nominated`). Only the address and city: nothing else is kept about her."""

    __tablename__ = "participant_nomination"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_type=String(254), unique=True)  # lower-cased
    guangdong_city: str = Field(sa_type=String(40))
    nominated_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The profile it confirmed, once she declared; a nomination confirms one person once.
    used_by_profile_id: int | None = Field(default=None, foreign_key="applicant_profile.id", ondelete="SET NULL")


def chose_projects_of(db: Session, profile: ApplicantProfile, organisation_id: int) -> bool:
    """Whether the applicant has an active choice of one of the organisation's projects (NGO tenancy).

    A withdrawn choice does not count: once the applicant takes it back, the NGO no longer sees them.
    """
    return db.exec(
        select(Choice.id).join(Project, col(Project.id) == col(Choice.project_id))
        .where(Choice.applicant_id == profile.id, Project.organisation_id == organisation_id,
               Choice.status != ChoiceStatus.WITHDRAWN).limit(1)).first() is not None


scopes.register_applicant_type(ApplicantProfile, chose_projects_of)
# The Guangdong coordinating office sees an applicant only while she declares she is from Guangdong.
scopes.register_guangdong_side(ApplicantProfile, lambda profile: profile.origin == "guangdong")
