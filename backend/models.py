"""Every table, imported in one place so Alembic and the app see the whole schema."""

from backend.accounts.models import OneTimeToken, SignInThrottle
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.audit.models import AuditEvent
from backend.complaints.models import Complaint, ComplaintStatus
from backend.core.db import metadata
from backend.identity import scopes
from backend.identity.models import ApiToken, Role, User, UserSession
from backend.organisations.models import Organisation, OrganisationMember
from backend.outbox.models import EmailStatus, OutboxEmail
from backend.placements.models import (
    InternConfirmation,
    MatchAdjustment,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    MatchUnplaced,
    Placement,
    PlacementStatus,
)
from backend.projects.models import Assessment, Project, ProjectEvent, ProjectStatus
from backend.schemes.models import (
    AssessmentCriterion,
    GrantPayment,
    Scheme,
    SchemePaymentTerms,
    SchemeRegionCap,
    SchemeSubsidyLimit,
)

__all__ = [
    "ApiToken", "ApplicantProfile", "Assessment", "AssessmentCriterion", "AuditEvent", "Choice",
    "ChoiceStatus", "Complaint", "InternConfirmation", "ComplaintStatus", "EmailStatus", "GrantPayment", "MatchAdjustment",
    "MatchProposal", "MatchRun", "MatchRunStatus",
    "MatchUnplaced", "OneTimeToken", "Organisation", "OrganisationMember", "OutboxEmail", "Placement",
    "PlacementStatus", "Project", "ProjectEvent", "ProjectStatus", "Role", "Scheme", "SchemeRegionCap",
    "SchemePaymentTerms", "SchemeSubsidyLimit", "SignInThrottle", "User", "UserSession", "metadata",
]


def _cohort_on_guangdong_side(project: Project) -> bool:
    """A project (a cohort) is on the Guangdong side when its scheme admits Guangdong youth. Registered here, above
    the domains, because it reads two of them."""
    from sqlalchemy.orm import object_session  # noqa: PLC0415

    db = object_session(project)
    scheme = db.get(Scheme, project.scheme_id) if db is not None else None
    return scheme is not None and "guangdong" in (scheme.admitted_origins or [])


scopes.register_guangdong_side(Project, _cohort_on_guangdong_side)
