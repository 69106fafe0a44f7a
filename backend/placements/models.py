from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow


class MatchRunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class MatchRun(SQLModel, table=True):
    """A match round as a job: what went in, who started it, how far it got, what came out."""

    __tablename__ = "match_run"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True)
    mode: str = Field(sa_type=String(10))
    is_refill: bool = False
    previous_run_id: int | None = Field(default=None, foreign_key="match_run.id", ondelete="SET NULL")
    status: MatchRunStatus = Field(default=MatchRunStatus.QUEUED, sa_type=String(12), index=True)
    stage: str = Field(default="", sa_type=String(20))
    progress_percent: int = 0
    parameters: dict = Field(default_factory=dict, sa_type=JSON)
    input_snapshot: dict | None = Field(default=None, sa_type=JSON)
    figures: dict | None = Field(default=None, sa_type=JSON)
    timings: dict | None = Field(default=None, sa_type=JSON)
    error: str | None = Field(default=None, sa_type=Text)
    started_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    reviewed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    worker_id: str | None = Field(default=None, sa_type=String(80))
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REFUSED = "refused"


class MatchProposal(SQLModel, table=True):
    __tablename__ = "match_proposal"
    __table_args__ = (UniqueConstraint("run_id", "applicant_id"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="match_run.id", index=True, ondelete="CASCADE")
    applicant_id: int = Field(foreign_key="applicant_profile.id", index=True, ondelete="CASCADE")
    project_id: int = Field(foreign_key="project.id", index=True)
    score: float
    choice_rank: int | None = None
    reasons: list = Field(default_factory=list, sa_type=JSON)
    pinned: bool = False
    status: ProposalStatus = Field(default=ProposalStatus.PROPOSED, sa_type=String(10))


class ApprovalJobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# A round has at most one approval waiting or under way: two approvers pressing at once get one job.
ACTIVE_APPROVAL_SQL = "status IN ('queued', 'running')"


class ApprovalJob(SQLModel, table=True):
    """An approver's "approve" of a round's proposals, turned into offers by the worker in batches.

    `planned` fixes, at the first claim, which proposals in which order (pinned, then best-scored); `position`
    is how many of them are done. Each batch's offers, its proposals' new status, `position` and the tally
    (`approved`, `skipped`) commit together, so a job taken over after its worker died goes on where the last
    commit left it and no proposal becomes two offers (placements/approval_jobs.py owns the status)."""

    __tablename__ = "approval_job"
    __table_args__ = (
        Index("uq_approval_job_one_active_per_run", "run_id", unique=True,
              sqlite_where=text(ACTIVE_APPROVAL_SQL), postgresql_where=text(ACTIVE_APPROVAL_SQL)),
    )
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="match_run.id", index=True, ondelete="CASCADE")
    requested_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    proposal_ids: list | None = Field(default=None, sa_type=JSON)  # None: every proposal still proposed
    offer_deadline: datetime = Field(sa_type=UTCDateTime)
    status: ApprovalJobStatus = Field(default=ApprovalJobStatus.QUEUED, sa_type=String(12), index=True)
    planned: list | None = Field(default=None, sa_type=JSON)
    position: int = 0
    total: int = 0
    progress_percent: int = 0
    approved: list = Field(default_factory=list, sa_type=JSON)
    # len(approved), so the progress the round page polls never reads the lists (50,000 ids in a national round)
    approved_count: int = 0
    skipped: dict = Field(default_factory=dict, sa_type=JSON)  # proposal id → [code, params]
    error_code: str = Field(default="", sa_type=String(30))
    error: str = Field(default="", sa_type=Text)
    worker_id: str | None = Field(default=None, sa_type=String(80))
    attempts: int = 0
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MatchUnplaced(SQLModel, table=True):
    __tablename__ = "match_unplaced"
    __table_args__ = (UniqueConstraint("run_id", "applicant_id"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="match_run.id", index=True, ondelete="CASCADE")
    applicant_id: int = Field(foreign_key="applicant_profile.id", index=True, ondelete="CASCADE")
    reason_code: str = Field(sa_type=String(30))
    reason_params: dict = Field(default_factory=dict, sa_type=JSON)


class AdjustmentKind(StrEnum):
    PIN = "pin"
    EXCLUDE = "exclude"


class MatchAdjustment(SQLModel, table=True):
    """An officer's pinned placement or excluded pair, kept across re-runs of a scheme's rounds."""

    __tablename__ = "match_adjustment"
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True)
    applicant_id: int = Field(foreign_key="applicant_profile.id", ondelete="CASCADE")
    project_id: int = Field(foreign_key="project.id", ondelete="CASCADE")
    kind: AdjustmentKind = Field(sa_type=String(10))
    reason: str = Field(sa_type=Text)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Received(StrEnum):
    """What an intern says they received of one amount the project promised."""
    FULL = "full"
    PART = "part"
    NONE = "none"


class InternConfirmation(SQLModel, table=True):
    """After the internship: the intern's word on each amount the project promised, and a short survey.

    `promised` is what the project stated (HKD per place, only the items it stated) when the intern was
    asked; `answers` holds, once submitted, each item's `received` (full / part / none) and `amount`;
    `draft` keeps the form exactly as last typed, so nothing is lost between visits or on a field error.
    """

    __tablename__ = "intern_confirmation"
    __table_args__ = (
        UniqueConstraint("placement_id"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_one_to_five"),
    )
    id: int | None = Field(default=None, primary_key=True)
    placement_id: int = Field(foreign_key="placement.id", ondelete="CASCADE")
    project_id: int = Field(foreign_key="project.id", index=True)
    applicant_id: int = Field(foreign_key="applicant_profile.id", index=True, ondelete="CASCADE")
    promised: dict = Field(default_factory=dict, sa_type=JSON)
    answers: dict = Field(default_factory=dict, sa_type=JSON)
    draft: dict = Field(default_factory=dict, sa_type=JSON)
    rating: int | None = None
    comments: str = Field(default="", sa_type=Text)
    mismatch: bool = Field(default=False, index=True)
    asked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminders_sent: int = 0
    last_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PlacementStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"
    LEFT_EARLY = "left_early"
    NO_SHOW = "no_show"


# What the NGO records for each accepted intern once the internship has ended (placements/offers.py).
OUTCOME_STATUSES = (PlacementStatus.COMPLETED, PlacementStatus.LEFT_EARLY, PlacementStatus.NO_SHOW)


class Placement(SQLModel, table=True):
    """An approved proposal turned offer, then (if accepted) an intern's place on a project."""

    __table_args__ = (
        # An applicant holds at most one accepted placement per scheme, whatever the race.
        Index(
            "uq_placement_one_accepted_per_scheme",
            "scheme_id",
            "applicant_id",
            unique=True,
            sqlite_where=text("status = 'accepted'"),
            postgresql_where=text("status = 'accepted'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    applicant_id: int = Field(foreign_key="applicant_profile.id", index=True, ondelete="CASCADE")
    proposal_id: int | None = Field(default=None, foreign_key="match_proposal.id", ondelete="SET NULL")
    status: PlacementStatus = Field(default=PlacementStatus.OFFERED, sa_type=String(10), index=True)
    subsidy_hkd: int = Field(sa_type=BigInteger)
    approved_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    offered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    offer_deadline: datetime = Field(sa_type=UTCDateTime)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The intern's outcome (status completed, left_early or no_show): the day a left-early intern left, and why.
    left_on: date | None = None
    outcome_reason: str | None = Field(default=None, sa_type=Text)
