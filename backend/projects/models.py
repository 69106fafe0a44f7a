from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow
from backend.identity import scopes


class ProjectStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_ASSESSMENT = "under_assessment"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    OPEN = "open"
    CLOSED = "closed"
    COMPLETED = "completed"


class Project(SQLModel, table=True):
    """An NGO's internship project under a scheme: what is asked, and what is granted."""

    __table_args__ = (
        CheckConstraint("start_date <= end_date", name="dates_in_order"),
        CheckConstraint("places_requested >= 0", name="places_requested_not_negative"),
        CheckConstraint("places_granted IS NULL OR places_granted >= 0", name="places_granted_not_negative"),
        CheckConstraint("min_age <= max_age", name="age_range"),
    )
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    status: ProjectStatus = Field(default=ProjectStatus.DRAFT, sa_type=String(20), index=True)

    title_en: str = Field(default="", sa_type=String(200))
    title_zh: str = Field(default="", sa_type=String(200))
    description_en: str = Field(default="", sa_type=Text)
    description_zh: str = Field(default="", sa_type=Text)
    host_organisation_en: str = Field(default="", sa_type=String(200))
    host_organisation_zh: str = Field(default="", sa_type=String(200))
    # In a programme where the host bears the cost: what it provides (allowance, accommodation), in its words.
    host_provides_en: str = Field(default="", sa_type=Text)
    host_provides_zh: str = Field(default="", sa_type=Text)
    sector: str = Field(default="", sa_type=String(40), index=True)
    city: str = Field(default="", sa_type=String(60))
    region: str = Field(default="", sa_type=String(50), index=True)
    # Empty while a draft; required to submit (projects/validation.py).
    start_date: date | None = None
    end_date: date | None = None

    places_requested: int = 0
    # The fewest places the project can run with (the funding portfolio never grants fewer); None: all asked.
    min_places: int | None = None
    places_granted: int | None = None
    # The cost breakdown per place, in HKD; its total is the subsidy asked per place.
    cost_travel: int = Field(default=0, sa_type=BigInteger)
    cost_accommodation: int = Field(default=0, sa_type=BigInteger)
    cost_insurance: int = Field(default=0, sa_type=BigInteger)
    cost_allowance: int = Field(default=0, sa_type=BigInteger)
    cost_other: int = Field(default=0, sa_type=BigInteger)
    subsidy_granted_per_place: int | None = Field(default=None, sa_type=BigInteger)

    # Minimum levels 1-5 by language, e.g. {"putonghua": 3}.
    languages: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    # In a programme that admits both sides, the seats per origin: {"guangdong": [20, 20]} means at least
    # and at most 20 places for youth from Guangdong (matching.Project.origin_seats). Empty: no rule.
    origin_seats: dict[str, list[int]] = Field(default_factory=dict, sa_type=JSON)
    min_education: str = Field(default="secondary", sa_type=String(20))
    min_age: int = 18
    max_age: int = 29

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def subsidy_requested_per_place(self) -> int:
        return (self.cost_travel + self.cost_accommodation + self.cost_insurance
                + self.cost_allowance + self.cost_other)

    @property
    def min_viable_places(self) -> int:
        return self.places_requested if self.min_places is None else min(self.min_places, self.places_requested)

    @property
    def funding_granted(self) -> int:
        return (self.places_granted or 0) * (self.subsidy_granted_per_place or 0)


class ProjectEvent(SQLModel, table=True):
    """The status timeline of a project, with the comment given at each step."""

    __tablename__ = "project_event"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True, ondelete="CASCADE")
    from_status: str | None = Field(default=None, sa_type=String(20))
    to_status: str = Field(sa_type=String(20))
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    comment: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AssessmentDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"


class ConflictDeclaration(SQLModel, table=True):
    """A staff member's declaration, before scoring or deciding, of any conflict of interest with an
    organisation. A declared conflict bars them from its projects' funding decisions (projects/conflicts.py)."""

    __tablename__ = "conflict_declaration"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    has_conflict: bool
    description: str = Field(default="", sa_type=Text)
    declared_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Assessment(SQLModel, table=True):
    """An officer's scores and proposed decision; an approver (another person) confirms it."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True, ondelete="CASCADE")
    officer_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    scores: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    comments: str = Field(default="", sa_type=Text)
    proposed_decision: AssessmentDecision = Field(sa_type=String(10))
    proposed_places: int | None = None
    proposed_subsidy_per_place: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    superseded: bool = False


class ScoreModeration(SQLModel, table=True):
    """The agreed score of a project whose two independent scores differ by more than the scheme's threshold,
    with the note saying why (projects/scoring.py). It answers the two assessments it was written about."""

    __tablename__ = "score_moderation"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True, ondelete="CASCADE")
    moderator_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    first_assessment_id: int = Field(foreign_key="assessment.id", ondelete="CASCADE")
    second_assessment_id: int = Field(foreign_key="assessment.id", ondelete="CASCADE")
    agreed_score: int
    note: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PortfolioProposal(SQLModel, table=True):
    """An officer's proposed funding portfolio for a scheme; another person confirms it (funding each line).

    Proposing a new one supersedes any earlier open one of the scheme."""

    __tablename__ = "portfolio_proposal"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True, ondelete="CASCADE")
    officer_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    value: float = 0.0
    comments: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    superseded: bool = False
    confirmed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PortfolioLine(SQLModel, table=True):
    """One project of a proposed portfolio and the places (and subsidy per place) it would be granted."""

    __tablename__ = "portfolio_line"
    __table_args__ = (CheckConstraint("places > 0", name="places_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="portfolio_proposal.id", index=True, ondelete="CASCADE")
    project_id: int = Field(foreign_key="project.id", index=True, ondelete="CASCADE")
    places: int
    subsidy_per_place: int = Field(sa_type=BigInteger)


class PortfolioAnalysis(SQLModel, table=True):
    """One working-out of a scheme's best portfolio, greedy and what binds, queued by staff and done by the worker.

    Queued while `started_at` is empty, running until `finished_at` is set; `error` says why it failed. The
    `fingerprint` names the projects, scores and limits it was worked out on, so a page can tell whether it is
    still today's answer."""

    __tablename__ = "portfolio_analysis"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True, ondelete="CASCADE")
    requested_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    progress_percent: int = 0
    fingerprint: str = Field(default="", sa_type=String(64))
    result: dict | None = Field(default=None, sa_type=JSON)
    error: str = Field(default="", sa_type=Text)


class CompletionReportStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    RETURNED = "returned"
    ACCEPTED = "accepted"


class CompletionReport(SQLModel, table=True):
    """The NGO's report once a project's internship has ended: its evaluation in words, and staff's review.

    Its figures are never typed: they are counted from the interns' outcomes (projects/completion.py owns
    the status and the counts)."""

    __tablename__ = "completion_report"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", unique=True, ondelete="CASCADE")
    status: CompletionReportStatus = Field(default=CompletionReportStatus.DRAFT, sa_type=String(10), index=True)
    evaluation: str = Field(default="", sa_type=Text)
    staff_comments: str = Field(default="", sa_type=Text)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# A project belongs to the organisation that posted it (NGO tenancy, backend.identity.permissions).
scopes.register_organisation_of(Project, lambda project: project.organisation_id)
