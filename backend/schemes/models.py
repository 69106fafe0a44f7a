from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.core.db import UTCDateTime, utcnow
from backend.identity import scopes


class Scheme(SQLModel, table=True):
    """A funding scheme: a budget, windows for NGOs and applicants, and the rules projects must meet."""

    __table_args__ = (
        CheckConstraint("budget_hkd >= 0", name="budget_not_negative"),
        CheckConstraint("min_age <= max_age", name="age_range"),
        # The match policy's bounds (matching.model.POLICY_BOUNDS).
        CheckConstraint("first_timer_priority BETWEEN 0 AND 5000", name="first_timer_priority_range"),
        CheckConstraint("choice_weight BETWEEN 0 AND 200", name="choice_weight_range"),
        CheckConstraint("fit_weight BETWEEN 0 AND 100", name="fit_weight_range"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name_en: str = Field(sa_type=String(200))
    name_zh: str = Field(sa_type=String(200))
    budget_hkd: int = Field(sa_type=BigInteger)
    # Which programme this is (schemes/kinds.py holds each kind's rules); a thematic programme names its
    # Mainland host institution.
    kind: str = Field(default="funding_scheme", sa_type=String(24))
    host_institution_en: str = Field(default="", sa_type=String(200))
    host_institution_zh: str = Field(default="", sa_type=String(200))
    ngo_window_opens: date
    ngo_window_closes: date
    applicant_window_opens: date
    applicant_window_closes: date
    # The match timetable (Hong Kong days; each optional, enforced once set): NGOs rank applicants until
    # the ranking deadline; the main round is run on match day; its offers must be answered by the offer
    # deadline; then unplaced applicants may apply to unfilled places in the scramble window.
    ranking_deadline: date | None = None
    match_day: date | None = None
    offer_deadline: date | None = None
    scramble_opens: date | None = None
    scramble_closes: date | None = None
    # The stable-mode tie-break seed, drawn once before match day (`schemes.lottery`): its SHA-256 is published
    # at once, the seed itself on match day, so anyone can check the main round used the seed drawn in advance.
    lottery_seed: int | None = Field(default=None, sa_type=BigInteger)
    lottery_seed_drawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    min_age: int = 18
    max_age: int = 29
    max_subsidy_per_place: int = Field(sa_type=BigInteger)
    max_choices: int = 5
    gba_min_share_percent: int | None = None
    # Where participants may come from: the Funding Scheme admits Hong Kong youth; thematic programmes
    # co-organised with Guangdong admit both.
    admitted_origins: list[str] = Field(default_factory=lambda: ["hong_kong"], sa_type=JSON)
    # Seats reserved for one side that it leaves empty: "keep" them empty, or "release" them to the other
    # side (stable rounds; matching.model.RESERVED_SEATS).
    reserved_seats: str = Field(default="keep", sa_type=String(8))
    # How a stable round keeps a regional cap that binds: "proportional" rationing or "flexible" deferred
    # acceptance (matching.model.CAP_RULES; docs/matching.md says what each guarantees).
    cap_rule: str = Field(default="proportional", sa_type=String(12),
                          sa_column_kwargs={"server_default": "proportional"})
    # Independent double scoring: two officers score each project without seeing the other's score; when
    # their weighted totals differ by more than the threshold (points out of 100), a moderation note with
    # the agreed score is needed before the project is ranked or decided (projects/scoring.py).
    double_scoring: bool = False
    moderation_threshold: int = 15
    # The match policy (matching.Policy; bounds in matching.model.POLICY_BOUNDS): how the matcher weighs a
    # first-time participant (objective units; a score point is 10), the applicant's choice rank (percent of
    # the rank points) and text fit (points for a perfect fit). Frozen into a round's parameters when it starts.
    first_timer_priority: int = 300
    choice_weight: int = 100
    fit_weight: int = 40
    # At most this many places granted to any one organisation's projects (None: no limit).
    max_places_per_organisation: int | None = None
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


class PaymentTranche(StrEnum):
    ADVANCE = "advance"    # a share of the grant when the project is approved
    BALANCE = "balance"    # the rest, pro rata to interns who completed, once the completion report is accepted
    RECOVERY = "recovery"  # money the organisation pays back: the advance beyond what completed interns earned


class PaymentStatus(StrEnum):
    PROPOSED = "proposed"
    PAID = "paid"
    REFUSED = "refused"


class SchemePaymentTerms(SQLModel, table=True):
    """How a scheme pays its grants: the advance on approval as a share of the grant (the rest on completion)."""

    __tablename__ = "scheme_payment_terms"
    __table_args__ = (CheckConstraint("advance_percent BETWEEN 0 AND 100", name="advance_percent_range"),)
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", unique=True, ondelete="CASCADE")
    advance_percent: int = 50


class GrantPayment(SQLModel, table=True):
    """One tranche of a project's grant: proposed by an officer, paid when another person approves it.

    One row per project and tranche, whatever the race (the unique constraint): a retry or a second officer
    finds the row already there, and approving is a conditional UPDATE, so a tranche is paid once.
    """

    __tablename__ = "grant_payment"
    __table_args__ = (
        UniqueConstraint("project_id", "tranche", name="uq_grant_payment_one_per_tranche"),
        CheckConstraint("amount_hkd > 0", name="amount_positive"),
    )
    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    tranche: PaymentTranche = Field(sa_type=String(10))
    amount_hkd: int = Field(sa_type=BigInteger)
    basis: str = Field(default="", sa_type=String(300))
    note: str = Field(default="", sa_type=String(500))
    status: PaymentStatus = Field(default=PaymentStatus.PROPOSED, sa_type=String(10), index=True)
    proposed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    proposed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# A payment belongs to the organisation whose project it pays (only staff reach payments today).
scopes.register_organisation_of(GrantPayment, lambda payment: payment.organisation_id)
