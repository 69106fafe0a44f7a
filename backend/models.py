"""Every table, imported in one place so Alembic and the app see the whole schema."""

from backend.accounts.models import OneTimeToken, SignInThrottle
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.audit.models import AuditEvent
from backend.complaints.models import Complaint, ComplaintStatus
from backend.core.db import metadata
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
