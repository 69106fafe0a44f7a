"""Tenancy: every route that takes the id of a row, tried with another party's ids as every role.

The scene has two of everything: organisations A and B (each with projects, B's in another scheme),
applicants A and B (each with a CV and a choice; A with a pin and an offer, B an intern of organisation B),
schemes A and B with a finished round each. Every id in a path points at party A's rows; each role is then
asked for them:

- a role that legitimately sees party A's row (listed in TENANCY with the reason) must get past the checks;
- a role the route is for (its row in the permission matrix) but that does not see the row must get a 404,
  never a 403: a refusal that differs from "not found" tells the caller the row exists;
- a role the route is not for at all is refused by role before any row is read, with the same answer a
  missing id gets;
- anonymous callers are sent to sign in (401 on the API);
- no refused answer contains a marker string of party A's rows (project titles, applicant name, ...).

Routes with two ids (a scheme's or a round's adjustment) are also tried with a parent of scheme B and a child
of scheme A: a 404 for everyone, staff included.

No answer to party A's roles (or to anonymous callers), on any route, shows party B's private strings.

Ids outside the path (query strings, JSON bodies, forms) are tried the same way from OUTSIDE_THE_PATH.

A route with a path parameter that TENANCY does not list fails `test_every_route_with_an_id_is_in_the_table`;
a query, body or form parameter naming a row (`..._id`, `..._ids`) that OUTSIDE_THE_PATH does not list fails
`test_every_id_outside_a_path_is_in_the_table`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel

from backend.accounts.models import TokenPurpose
from backend.accounts.tokens import issue_one_time_token
from backend.applicants.models import Choice
from backend.complaints.models import Complaint
from backend.core.db import utcnow
from backend.core.settings import get_settings
from backend.identity.models import Role, User
from backend.identity.tokens import create_api_token
from backend.organisations.models import Organisation
from backend.placements.models import (
    AdjustmentKind,
    ApprovalJob,
    MatchAdjustment,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    Placement,
    PlacementStatus,
)
from backend.projects.models import Assessment, AssessmentDecision, PortfolioProposal, Project, ProjectStatus
from backend.schemes.models import GrantPayment, PaymentTranche, Scheme
from tests.accounts.helpers import form_token, make_user, sign_in_as
from tests.applicants.helpers import make_applicant
from tests.authz.test_permission_matrix import MATRIX, app_routes, fill_path, refused
from tests.factories import make_organisation, make_project, make_scheme

ROLES = ("anonymous", "applicant", "applicant_other", "ngo", "ngo_other", "host", "officer", "approver", "admin",
         "guangdong_office")
NOBODY: frozenset[str] = frozenset()
EVERYONE = frozenset(ROLES)
STAFF = frozenset({"officer", "approver", "admin"})
APPLICANT = frozenset({"applicant"})
APPLICANTS = frozenset({"applicant", "applicant_other"})
OWNING_NGO = frozenset({"ngo"})
# The permission matrix's `ngo_other` stands for tenancy refusals; by role, both NGOs (and both applicants)
# may use the same routes, so here they are looked up as `ngo` (and `applicant`).
MATRIX_ROLE = {"applicant_other": "applicant", "ngo_other": "ngo"}

MISSING_ID = 2_000_000_000


@dataclass(frozen=True)
class Sees:
    """Who legitimately sees party A's row through this route, and why."""

    roles: frozenset[str]
    reason: str


STAFF_SEE_ALL = Sees(STAFF, "staff read every organisation's and applicant's rows; there is no staff scoping by "
                            "scheme, so staff see every scheme's rows too")
OWN_PROJECT = Sees(OWNING_NGO, "the project belongs to the ngo's organisation")
OWN_APPLICANT = Sees(OWNING_NGO, "applicant A has an active choice of the ngo's project")
OWN_CHOICE = Sees(OWNING_NGO, "the choice is of the ngo's project")
APPLICANTS_OWN = Sees(APPLICANT, "the row is applicant A's own")
LINK = Sees(EVERYONE, "the secret token in the link is the credential: whoever holds it may use it")
OWN_PROFILE_STEP = Sees(APPLICANTS, "{step} names a step of the caller's own profile, not another party's row")
OWN_TOKEN = Sees(APPLICANT, "the API token is applicant A's own")

# {participant_id} is applicant A, a Hong Kong resident: the office asks for her as if she awaited it.
HONG_KONG_APPLICANT = Sees(NOBODY, "applicant A is from Hong Kong: the Guangdong office never sees a Hong Kong "
                                   "applicant, and nobody else confirms Guangdong participants")

# {host_id} is organisation A awaiting verification: a Hong Kong NGO, which the Guangdong office never sees.
HONG_KONG_NGO = Sees(NOBODY, "organisation A is a Hong Kong NGO: the Guangdong office verifies only Guangdong host "
                             "organisations and never sees an NGO; staff verify NGOs on their own routes")

TENANCY: dict[tuple[str, str], Sees] = {
    ("POST", "/guangdong-office/hosts/{host_id}/verify"): HONG_KONG_NGO,
    ("POST", "/api/v1/guangdong-office/hosts/{host_id}/verify"): HONG_KONG_NGO,
    # the Guangdong coordinating office
    ("POST", "/guangdong-office/participants/{participant_id}/confirm"): HONG_KONG_APPLICANT,
    ("POST", "/guangdong-office/participants/{participant_id}/refuse"): HONG_KONG_APPLICANT,
    ("POST", "/api/v1/guangdong-office/participants/{participant_id}/confirm"): HONG_KONG_APPLICANT,
    ("POST", "/api/v1/guangdong-office/participants/{participant_id}/refuse"): HONG_KONG_APPLICANT,
    # public catalogue: {project_id} is organisation A's draft, which nobody sees there (an open project is
    # public: test_an_open_project_is_public)
    ("GET", "/projects/{project_id}"): Sees(NOBODY, "a draft is not in the public catalogue"),
    ("GET", "/api/v1/projects/{project_id}"): Sees(NOBODY, "a draft is not in the public catalogue"),
    # links carrying a one-time token
    ("GET", "/verify-email/{token}"): LINK,
    ("POST", "/verify-email/{token}"): LINK,
    ("GET", "/reset-password/{token}"): LINK,
    ("POST", "/reset-password/{token}"): LINK,
    ("GET", "/invitations/{token}"): LINK,
    ("POST", "/invitations/{token}"): LINK,
    ("GET", "/claim-account/{token}"): LINK,
    ("POST", "/claim-account/{token}"): LINK,
    # API tokens: {token_id} is applicant A's
    ("POST", "/account/tokens/{token_id}/revoke"): OWN_TOKEN,
    ("DELETE", "/api/v1/me/tokens/{token_id}"): OWN_TOKEN,
    # accounts: {user_id} is applicant A's account
    ("POST", "/staff/accounts/{user_id}/two-factor/reset"): Sees(frozenset({"admin"}),
                                                                 "admins may reset any account's second factor"),
    # organisations, schemes, assessments, rounds: staff only
    ("POST", "/staff/organisations/{organisation_id}/verify"): STAFF_SEE_ALL,
    ("POST", "/api/v1/organisations/{organisation_id}/verify"): STAFF_SEE_ALL,
    ("GET", "/staff/schemes/{scheme_id}"): STAFF_SEE_ALL,
    ("POST", "/staff/schemes/{scheme_id}/lottery-seed"): STAFF_SEE_ALL,
    ("GET", "/api/v1/schemes/{scheme_id}/lottery"): STAFF_SEE_ALL,
    ("POST", "/api/v1/schemes/{scheme_id}/lottery"): STAFF_SEE_ALL,
    ("GET", "/staff/schemes/{scheme_id}/edit"): STAFF_SEE_ALL,
    ("POST", "/staff/schemes/{scheme_id}/edit"): STAFF_SEE_ALL,
    ("GET", "/api/v1/schemes/{scheme_id}"): STAFF_SEE_ALL,
    ("PATCH", "/api/v1/schemes/{scheme_id}"): STAFF_SEE_ALL,
    ("GET", "/api/v1/schemes/{scheme_id}/dashboard"): STAFF_SEE_ALL,
    ("GET", "/staff/projects/{project_id}"): STAFF_SEE_ALL,
    ("POST", "/staff/projects/{project_id}/assessments"): STAFF_SEE_ALL,
    ("POST", "/staff/projects/{project_id}/open"): STAFF_SEE_ALL,
    ("POST", "/staff/projects/{project_id}/close"): STAFF_SEE_ALL,
    ("POST", "/staff/assessments/{assessment_id}/confirm"): STAFF_SEE_ALL,
    ("POST", "/api/v1/projects/{project_id}/assessments"): STAFF_SEE_ALL,
    ("POST", "/api/v1/projects/{project_id}/open"): STAFF_SEE_ALL,
    ("POST", "/api/v1/projects/{project_id}/close"): STAFF_SEE_ALL,
    ("POST", "/api/v1/assessments/{assessment_id}/confirm"): STAFF_SEE_ALL,
    # the funding portfolio: staff only; {proposal_id} is an open portfolio of scheme A, proposed by the officer
    ("GET", "/staff/schemes/{scheme_id}/portfolio"): STAFF_SEE_ALL,
    ("GET", "/staff/schemes/{scheme_id}/ranking"): STAFF_SEE_ALL,
    ("POST", "/staff/projects/{project_id}/conflict-of-interest"): STAFF_SEE_ALL,
    ("PUT", "/api/v1/projects/{project_id}/conflict-of-interest"): STAFF_SEE_ALL,
    ("POST", "/staff/projects/{project_id}/moderation"): STAFF_SEE_ALL,
    ("POST", "/api/v1/projects/{project_id}/moderation"): STAFF_SEE_ALL,
    ("GET", "/api/v1/projects/{project_id}/scoring"): STAFF_SEE_ALL,
    ("GET", "/api/v1/schemes/{scheme_id}/ranking"): STAFF_SEE_ALL,
    ("POST", "/staff/schemes/{scheme_id}/portfolio/work-out"): STAFF_SEE_ALL,
    ("POST", "/staff/schemes/{scheme_id}/portfolio/propose"): STAFF_SEE_ALL,
    ("POST", "/staff/portfolio-proposals/{proposal_id}/confirm"): STAFF_SEE_ALL,
    ("GET", "/api/v1/schemes/{scheme_id}/portfolio"): STAFF_SEE_ALL,
    ("POST", "/api/v1/schemes/{scheme_id}/portfolio/analyses"): STAFF_SEE_ALL,
    ("POST", "/api/v1/schemes/{scheme_id}/portfolio/proposals"): STAFF_SEE_ALL,
    ("POST", "/api/v1/portfolio-proposals/{proposal_id}/confirm"): STAFF_SEE_ALL,
    ("GET", "/staff/rounds/{run_id}"): STAFF_SEE_ALL,
    ("POST", "/staff/rounds/{run_id}/adjustments"): STAFF_SEE_ALL,
    ("POST", "/staff/rounds/{run_id}/adjustments/{adjustment_id}/remove"): STAFF_SEE_ALL,
    ("POST", "/staff/rounds/{run_id}/reviewed"): STAFF_SEE_ALL,
    ("POST", "/staff/rounds/{run_id}/rerun"): STAFF_SEE_ALL,
    ("POST", "/staff/rounds/{run_id}/cancel"): STAFF_SEE_ALL,
    ("GET", "/staff/rounds/{run_id}/approval"): STAFF_SEE_ALL,
    ("POST", "/staff/rounds/{run_id}/approve"): STAFF_SEE_ALL,
    ("POST", "/staff/rounds/{run_id}/refuse"): STAFF_SEE_ALL,
    ("GET", "/api/v1/rounds/{run_id}"): STAFF_SEE_ALL,
    ("GET", "/api/v1/rounds/{run_id}/progress"): STAFF_SEE_ALL,
    ("GET", "/api/v1/rounds/{run_id}/approvals/{job_id}"): STAFF_SEE_ALL,
    ("GET", "/api/v1/rounds/{run_id}/proposals"): STAFF_SEE_ALL,
    ("GET", "/api/v1/rounds/{run_id}/unplaced"): STAFF_SEE_ALL,
    ("POST", "/api/v1/rounds/{run_id}/approve"): STAFF_SEE_ALL,
    ("POST", "/api/v1/rounds/{run_id}/refuse"): STAFF_SEE_ALL,
    ("POST", "/api/v1/rounds/{run_id}/pins"): STAFF_SEE_ALL,
    ("POST", "/api/v1/rounds/{run_id}/exclusions"): STAFF_SEE_ALL,
    ("GET", "/api/v1/schemes/{scheme_id}/adjustments"): STAFF_SEE_ALL,
    ("DELETE", "/api/v1/schemes/{scheme_id}/adjustments/{adjustment_id}"): STAFF_SEE_ALL,
    # an NGO's own projects: {project_id} is organisation A's open project
    ("GET", "/ngo/projects/{project_id}"): OWN_PROJECT,
    ("GET", "/ngo/projects/{project_id}/edit"): OWN_PROJECT,
    ("POST", "/ngo/projects/{project_id}/edit"): OWN_PROJECT,
    ("POST", "/ngo/projects/{project_id}/submit"): OWN_PROJECT,
    ("GET", "/api/v1/ngo/projects/{project_id}"): OWN_PROJECT,
    ("PATCH", "/api/v1/ngo/projects/{project_id}"): OWN_PROJECT,
    ("POST", "/api/v1/ngo/projects/{project_id}/submit"): OWN_PROJECT,
    ("GET", "/ngo/rankings/{project_id}"): OWN_PROJECT,
    ("POST", "/ngo/rankings/{project_id}/order"): OWN_PROJECT,
    ("GET", "/api/v1/ngo/projects/{project_id}/ranking"): OWN_PROJECT,
    ("PUT", "/api/v1/ngo/projects/{project_id}/ranking"): OWN_PROJECT,
    # an NGO's applicants and their choices: applicant A chose organisation A's open project
    ("GET", "/ngo/applicants/{applicant_id}"): OWN_APPLICANT,
    ("GET", "/ngo/applicants/{applicant_id}/cv"): OWN_APPLICANT,
    ("GET", "/api/v1/ngo/applicants/{applicant_id}"): OWN_APPLICANT,
    ("GET", "/api/v1/ngo/applicants/{applicant_id}/cv"): OWN_APPLICANT,
    ("POST", "/ngo/choices/{choice_id}/interview"): OWN_CHOICE,
    ("POST", "/ngo/choices/{choice_id}/shortlist"): OWN_CHOICE,
    ("POST", "/ngo/choices/{choice_id}/ranking"): OWN_CHOICE,
    ("POST", "/api/v1/ngo/choices/{choice_id}/shortlist"): OWN_CHOICE,
    ("POST", "/api/v1/ngo/choices/{choice_id}/interview"): OWN_CHOICE,
    # an applicant's own rows
    ("GET", "/profile/steps/{step}"): OWN_PROFILE_STEP,
    ("POST", "/profile/steps/{step}"): OWN_PROFILE_STEP,
    ("PUT", "/api/v1/me/profile/steps/{step}"): OWN_PROFILE_STEP,
    ("POST", "/choices/{choice_id}/move"): APPLICANTS_OWN,
    ("GET", "/choices/{choice_id}/withdraw"): APPLICANTS_OWN,
    ("POST", "/choices/{choice_id}/withdraw"): APPLICANTS_OWN,
    ("POST", "/api/v1/me/choices/{choice_id}/move"): APPLICANTS_OWN,
    ("DELETE", "/api/v1/me/choices/{choice_id}"): APPLICANTS_OWN,
    ("POST", "/scramble/{choice_id}/withdraw"): APPLICANTS_OWN,
    ("DELETE", "/api/v1/me/scramble/{choice_id}"): APPLICANTS_OWN,
    ("GET", "/api/v1/me/eligibility/{project_id}"): Sees(NOBODY, "{project_id} is organisation A's draft, which "
                                                                 "no applicant may choose"),
    ("GET", "/placements/{placement_id}"): APPLICANTS_OWN,
    ("POST", "/placements/{placement_id}/accept"): APPLICANTS_OWN,
    ("POST", "/placements/{placement_id}/decline"): APPLICANTS_OWN,
    ("POST", "/api/v1/me/offers/{placement_id}/accept"): APPLICANTS_OWN,
    ("POST", "/api/v1/me/offers/{placement_id}/decline"): APPLICANTS_OWN,
    # complaints: {complaint_id} is applicant A's complaint about organisation A, which staff shared with it
    ("GET", "/complaints/{complaint_id}"): Sees(APPLICANT | OWNING_NGO | STAFF,
                                                "applicant A raised it; staff shared it with organisation A; staff "
                                                "handle every case"),
    ("GET", "/api/v1/complaints/{complaint_id}"): Sees(APPLICANT | OWNING_NGO | STAFF,
                                                       "applicant A raised it; staff shared it with organisation A; "
                                                       "staff handle every case"),
    ("GET", "/staff/complaints/{complaint_id}"): STAFF_SEE_ALL,
    ("POST", "/staff/complaints/{complaint_id}/acknowledge"): STAFF_SEE_ALL,
    ("POST", "/staff/complaints/{complaint_id}/investigate"): STAFF_SEE_ALL,
    ("POST", "/staff/complaints/{complaint_id}/decide"): STAFF_SEE_ALL,
    ("POST", "/staff/complaints/{complaint_id}/share"): STAFF_SEE_ALL,
    ("POST", "/api/v1/complaints/{complaint_id}/acknowledge"): STAFF_SEE_ALL,
    ("POST", "/api/v1/complaints/{complaint_id}/investigate"): STAFF_SEE_ALL,
    ("POST", "/api/v1/complaints/{complaint_id}/decide"): STAFF_SEE_ALL,
    ("POST", "/api/v1/complaints/{complaint_id}/share"): STAFF_SEE_ALL,
    # grant payments: staff only; {payment_id} is an advance to organisation A, proposed by another officer
    ("GET", "/staff/schemes/{scheme_id}/payments"): STAFF_SEE_ALL,
    ("POST", "/staff/schemes/{scheme_id}/payments"): STAFF_SEE_ALL,
    ("POST", "/staff/schemes/{scheme_id}/payment-terms"): STAFF_SEE_ALL,
    ("GET", "/api/v1/schemes/{scheme_id}/payments"): STAFF_SEE_ALL,
    ("POST", "/api/v1/schemes/{scheme_id}/payments"): STAFF_SEE_ALL,
    ("POST", "/staff/payments/{payment_id}/approve"): STAFF_SEE_ALL,
    ("POST", "/staff/payments/{payment_id}/refuse"): STAFF_SEE_ALL,
    ("POST", "/api/v1/payments/{payment_id}/approve"): STAFF_SEE_ALL,
    ("POST", "/api/v1/payments/{payment_id}/refuse"): STAFF_SEE_ALL,
    # after the internship: {project_id} is organisation A's project, {intern_id} an intern of it (applicant A)
    ("GET", "/ngo/projects/{project_id}/outcomes"): OWN_PROJECT,
    ("GET", "/ngo/projects/{project_id}/outcomes/{intern_id}"): OWN_PROJECT,
    ("POST", "/ngo/projects/{project_id}/outcomes/{intern_id}"): OWN_PROJECT,
    ("GET", "/ngo/projects/{project_id}/report"): OWN_PROJECT,
    ("POST", "/ngo/projects/{project_id}/report"): OWN_PROJECT,
    ("GET", "/staff/projects/{project_id}/report"): STAFF_SEE_ALL,
    ("POST", "/staff/projects/{project_id}/report/accept"): STAFF_SEE_ALL,
    ("POST", "/staff/projects/{project_id}/report/return"): STAFF_SEE_ALL,
    ("GET", "/api/v1/projects/{project_id}/completion-report"): Sees(
        OWNING_NGO | STAFF, "the project's own organisation, and staff, who read every project"),
    ("POST", "/api/v1/ngo/projects/{project_id}/interns/{intern_id}/outcome"): OWN_PROJECT,
    ("POST", "/api/v1/ngo/projects/{project_id}/completion-report"): OWN_PROJECT,
    ("POST", "/api/v1/projects/{project_id}/completion-report/accept"): STAFF_SEE_ALL,
    ("POST", "/api/v1/projects/{project_id}/completion-report/return"): STAFF_SEE_ALL,
    # interns' confirmations: {internship_id} is applicant A's accepted place on organisation A's ended project
    ("GET", "/status/confirmations/{internship_id}"): APPLICANTS_OWN,
    ("POST", "/status/confirmations/{internship_id}"): APPLICANTS_OWN,
}
# What a request sends besides the CSRF token, so that it gets past the form's checks to the row: a route that
# checks its form first would answer 422 whoever owns the row, and the row check would go untried.
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/choices/{choice_id}/move"): {"direction": "up"},
    ("POST", "/api/v1/me/choices/{choice_id}/move"): {"direction": "up"},
    ("DELETE", "/api/v1/schemes/{scheme_id}/adjustments/{adjustment_id}"): {"reason": "tenancy"},
    ("POST", "/guangdong-office/participants/{participant_id}/refuse"): {"reason": "tenancy"},
    ("POST", "/api/v1/guangdong-office/participants/{participant_id}/refuse"): {"reason": "tenancy"},
    ("POST", "/api/v1/ngo/projects/{project_id}/interns/{intern_id}/outcome"): {"outcome": "completed"},
    ("POST", "/api/v1/ngo/projects/{project_id}/completion-report"): {"evaluation": "tenancy"},
    ("POST", "/api/v1/projects/{project_id}/completion-report/return"): {"comments": "tenancy"},
}
# Routes whose {project_id} is organisation A's draft rather than its open project.
DRAFT_PROJECT_ROUTES = {"/projects/{project_id}", "/api/v1/projects/{project_id}",
                        "/api/v1/me/eligibility/{project_id}"}
# Parent and child ids: the child (an adjustment of scheme A) tried under a parent of scheme B.
CROSS_SCHEME_ROUTES = {
    ("POST", "/staff/rounds/{run_id}/adjustments/{adjustment_id}/remove"): "run_id",
    ("DELETE", "/api/v1/schemes/{scheme_id}/adjustments/{adjustment_id}"): "scheme_id",
    ("GET", "/api/v1/rounds/{run_id}/approvals/{job_id}"): "run_id",
}


@dataclass
class Scene:
    session: object
    users: dict[str, User] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)
    # party B's private strings: no answer to party A's roles (or to anonymous callers) may show them
    b_markers: list[str] = field(default_factory=list)


def _marker(label: str) -> str:
    return f"{label}-{secrets.token_hex(4)}"


def _project(session, scheme, organisation, status, marker):
    return make_project(session, scheme, organisation, status=status, title_en=marker, title_zh=marker,
                        host_organisation_en=marker + "-host")


def _applicant(session, user, marker, scheme, project):
    name = secrets.token_hex(16) + ".pdf"
    get_settings().upload_dir.mkdir(parents=True, exist_ok=True)
    (get_settings().upload_dir / name).write_bytes(b"%PDF-1.4 " + marker.encode() + b" tenancy test file")
    _user, profile = make_applicant(session, user=False, user_id=user.id, contact_email=user.email, name_en=marker,
                                    name_zh=marker, statement=marker + " statement", cv_stored_name=name,
                                    cv_size_bytes=40, cv_uploaded_at=utcnow())
    choice = Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=1)
    session.add(choice)
    session.flush()
    return profile, choice


def build_scene(session) -> Scene:
    scene = Scene(session)
    scheme_a = make_scheme(session, name_en=_marker("SchemeA"))
    scheme_b = make_scheme(session, name_en=_marker("SchemeB"))
    org_a = make_organisation(session, name_en=_marker("OrgA"))
    org_b = make_organisation(session, name_en=_marker("OrgB"))
    unverified_a = make_organisation(session, verified=False, name_en=_marker("OrgAUnverified"))
    scene.users = {
        "applicant": make_user(session, Role.APPLICANT),
        "applicant_other": make_user(session, Role.APPLICANT),
        "ngo": make_user(session, Role.NGO, organisation=org_a),
        "ngo_other": make_user(session, Role.NGO, organisation=org_b),
        # a verified Guangdong host organisation of its own: it sees none of party A's rows
        "host": make_user(session, Role.HOST, organisation=make_organisation(session, kind="guangdong_host")),
        "officer": make_user(session, Role.OFFICER),
        "approver": make_user(session, Role.APPROVER),
        "admin": make_user(session, Role.ADMIN),
        "guangdong_office": make_user(session, Role.GUANGDONG_OFFICE),
    }
    open_a = _project(session, scheme_a, org_a, ProjectStatus.OPEN, _marker("ProjectAOpen"))
    draft_a = _project(session, scheme_a, org_a, ProjectStatus.DRAFT, _marker("ProjectADraft"))
    submitted_a = _project(session, scheme_a, org_a, ProjectStatus.SUBMITTED, _marker("ProjectASubmitted"))
    open_b = _project(session, scheme_b, org_b, ProjectStatus.OPEN, _marker("ProjectBOpen"))
    draft_b = _project(session, scheme_b, org_b, ProjectStatus.DRAFT, _marker("ProjectBDraft"))
    assessment = Assessment(project_id=submitted_a.id, officer_id=scene.users["officer"].id,
                            proposed_decision=AssessmentDecision.APPROVE,
                            proposed_places=submitted_a.places_requested, proposed_subsidy_per_place=20_000)
    session.add(assessment)
    profile_a, choice_a = _applicant(session, scene.users["applicant"], _marker("ApplicantA"), scheme_a, open_a)
    profile_b, choice_b = _applicant(session, scene.users["applicant_other"], _marker("ApplicantB"), scheme_b,
                                      open_b)
    run_b = MatchRun(scheme_id=scheme_b.id, mode="optimal", status=MatchRunStatus.SUCCEEDED, stage="done",
                     progress_percent=100, figures={})
    session.add(run_b)
    session.flush()
    proposal_b = MatchProposal(run_id=run_b.id, applicant_id=profile_b.id, project_id=open_b.id, score=1.0)
    # applicant B is organisation B's intern: organisation A's lists of interns must not show her
    intern_b = Placement(scheme_id=scheme_b.id, project_id=open_b.id, applicant_id=profile_b.id, subsidy_hkd=25_000,
                         status=PlacementStatus.ACCEPTED, offer_deadline=utcnow() + timedelta(days=7))
    # each applicant's complaint about her own side's organisation, shared with it
    complaint_a = Complaint(user_id=scene.users["applicant"].id, organisation_id=org_a.id, project_id=open_a.id,
                            subject=_marker("ComplaintA"), details=_marker("ComplaintADetails"),
                            acknowledge_by=utcnow().date(), shared_at=utcnow())
    complaint_b = Complaint(user_id=scene.users["applicant_other"].id, organisation_id=org_b.id,
                            subject=_marker("ComplaintB"), details=_marker("ComplaintBDetails"),
                            acknowledge_by=utcnow().date(), shared_at=utcnow())
    session.add_all([proposal_b, intern_b, complaint_a, complaint_b])
    session.flush()
    scene.ids = {
        "project_id": open_a.id, "draft_project_id": draft_a.id, "scheme_id": scheme_a.id,
        "other_scheme_id": scheme_b.id, "assessment_id": assessment.id, "organisation_id": unverified_a.id, "host_id": unverified_a.id,
        "applicant_id": profile_a.id, "participant_id": profile_a.id, "choice_id": choice_a.id,
        "applicant_b_id": profile_b.id, "organisation_a_id": org_a.id,
        "project_b_id": open_b.id, "choice_b_id": choice_b.id, "proposal_b_id": proposal_b.id,
        "complaint_id": complaint_a.id, "internship_id": _ended_internship(session, org_a, profile_a).id,
    }
    # Only what is not public: the open project and its organisation are in the catalogue for everyone.
    scene.markers = [draft_a.title_en, submitted_a.title_en, profile_a.name_en, profile_a.statement,
                     unverified_a.name_en, complaint_a.subject, complaint_a.details]
    scene.b_markers = [draft_b.title_en, profile_b.name_en, profile_b.statement, complaint_b.subject,
                       complaint_b.details]
    return scene


def _ended_internship(session, organisation, profile) -> Placement:
    """The applicant's accepted place on a project of the organisation that ended last week (its own scheme)."""
    ended = utcnow().date() - timedelta(days=7)
    project = make_project(session, make_scheme(session), organisation, status=ProjectStatus.CLOSED,
                           start_date=ended - timedelta(days=30), end_date=ended)
    placement = Placement(scheme_id=project.scheme_id, project_id=project.id, applicant_id=profile.id,
                          subsidy_hkd=25_000, status=PlacementStatus.ACCEPTED, offer_deadline=utcnow())
    session.add(placement)
    session.flush()
    return placement


def _fresh_rows(scene: Scene) -> dict[str, object]:
    """Rows a request may use up (rounds, pins, offers, tokens): made again before each request."""
    session = scene.session
    ids = scene.ids
    applicant = scene.users["applicant"]
    run_a, run_b = (MatchRun(scheme_id=scheme_id, mode="optimal", status=MatchRunStatus.SUCCEEDED, stage="done",
                             progress_percent=100, figures={})
                    for scheme_id in (ids["scheme_id"], ids["other_scheme_id"]))
    adjustment = MatchAdjustment(scheme_id=ids["scheme_id"], applicant_id=ids["applicant_id"],
                                 project_id=ids["project_id"], kind=AdjustmentKind.PIN, reason="tenancy")
    placement = Placement(scheme_id=ids["scheme_id"], project_id=ids["project_id"], applicant_id=ids["applicant_id"],
                          subsidy_hkd=25_000, offer_deadline=utcnow() + timedelta(days=7))
    # a payment is one per project and tranche, and approving uses it up: a project of its own each time
    paid_project = make_project(session, session.get(Scheme, ids["scheme_id"]),
                                session.get(Organisation, ids["organisation_a_id"]))
    payment = GrantPayment(scheme_id=ids["scheme_id"], project_id=paid_project.id,
                           organisation_id=ids["organisation_a_id"], tranche=PaymentTranche.ADVANCE, amount_hkd=1_000,
                           proposed_by_id=make_user(session, Role.OFFICER).id)
    # confirming uses a portfolio proposal up: an open (empty) one of scheme A each time
    portfolio_proposal = PortfolioProposal(scheme_id=ids["scheme_id"], officer_id=scene.users["officer"].id)
    session.add_all([run_a, run_b, adjustment, placement, payment, portfolio_proposal])
    session.flush()
    approval = ApprovalJob(run_id=run_a.id, offer_deadline=utcnow() + timedelta(days=7))
    session.add(approval)
    session.flush()
    token_name = _marker("TokenA")
    if token_name not in scene.markers:
        scene.markers.append(token_name)
    return {
        "run_id": run_a.id, "other_run_id": run_b.id, "adjustment_id": adjustment.id, "job_id": approval.id,
        "placement_id": placement.id, "user_id": applicant.id, "payment_id": payment.id,
        "proposal_id": portfolio_proposal.id,
        "token_id": create_api_token(session, applicant, token_name)[0].id,
        "verify_token": issue_one_time_token(session, TokenPurpose.VERIFY_EMAIL, user=applicant),
        "reset_token": issue_one_time_token(session, TokenPurpose.RESET_PASSWORD, user=applicant),
        "invitation_token": issue_one_time_token(session, TokenPurpose.JOIN_ORGANISATION,
                                                 email=f"invitee-{secrets.token_hex(3)}@example.hk",
                                                 organisation_id=scene.ids["organisation_a_id"]),
        "claim_token": issue_one_time_token(session, TokenPurpose.CLAIM_ACCOUNT,
                                            email=f"claimer-{secrets.token_hex(3)}@example.hk", hours=24),
        "step": "names",
        "intern_id": _intern_of_project_a(scene),
    }


def _intern_of_project_a(scene: Scene) -> int:
    """Applicant A as an intern of organisation A's project, the outcome recorded: a placement of its own each time."""
    placement = Placement(scheme_id=scene.ids["scheme_id"], project_id=scene.ids["project_id"],
                          applicant_id=scene.ids["applicant_id"], status=PlacementStatus.COMPLETED, subsidy_hkd=25_000,
                          offer_deadline=utcnow() + timedelta(days=7))
    scene.session.add(placement)
    scene.session.flush()
    return placement.id


def _project_row(scene: Scene) -> Project:
    return scene.session.get(Project, scene.ids["project_id"])


def values_for(scene: Scene, path: str, *, cross_scheme_parent: str | None = None,
               missing: bool = False) -> dict[str, object]:
    values: dict[str, object] = {**scene.ids, **_fresh_rows(scene)}
    if path in DRAFT_PROJECT_ROUTES:
        values["project_id"] = scene.ids["draft_project_id"]
    if cross_scheme_parent == "run_id":
        values["run_id"] = values["other_run_id"]
    elif cross_scheme_parent == "scheme_id":
        values["scheme_id"] = scene.ids["other_scheme_id"]
    if missing:
        for name in re.findall(r"{(\w+)}", path):
            if name.endswith("_id"):
                values[name] = MISSING_ID
    return values


def request_as(app, scene: Scene, role: str, method: str, path: str, values: dict[str, object]):
    client = TestClient(app)
    if role == "anonymous":
        csrf = form_token(client, "/sign-in")
    else:
        csrf = sign_in_as(client, scene.session, scene.users[role])
    url = fill_path(path, values)
    scene.session.commit()  # a refused request rolls back; the scene must survive it
    body = BODIES.get((method, path), {})
    if method == "GET":
        return client.get(url, follow_redirects=False)
    if path.startswith("/api/"):
        return client.request(method, url, json=body, headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    return client.request(method, url, data={"csrf_token": csrf, **body}, follow_redirects=False)


def routes_with_an_id(app) -> set[tuple[str, str]]:
    return {(method, path) for method, path in app_routes(app) if "{" in path}


def may_use_route(role: str, method: str, path: str) -> bool:
    return MATRIX_ROLE.get(role, role) in MATRIX[(method, path)]


def leaked_markers(scene: Scene, response) -> list[str]:
    return [marker for marker in scene.markers if marker in response.text]


PARTY_A_AND_OUTSIDERS = ("anonymous", "applicant", "ngo")


def b_leaks(scene: Scene, role: str, response) -> str | None:
    shown = [marker for marker in scene.b_markers if marker in response.text]
    return f"{role}: the answer ({describe(response)}) shows party B's {shown}" if shown else None


def describe(response) -> str:
    return f"{response.status_code} {response.headers.get('location', '')}".strip()


def check_refusal(app, scene: Scene, role: str, method: str, path: str, response) -> str | None:
    """Why this refusal of party A's row is wrong, or None if it is right."""
    if leaked_markers(scene, response):
        return f"{role}: the answer ({describe(response)}) shows {leaked_markers(scene, response)}"
    if may_use_route(role, method, path):
        return None if response.status_code == 404 else f"{role}: expected 404, got {describe(response)}"
    if role == "anonymous":
        return None if refused(response) and response.status_code not in (403, 404) else \
            f"anonymous: expected the sign-in redirect or 401, got {describe(response)}"
    missing = request_as(app, scene, role, method, path, values_for(scene, path, missing=True))
    if not refused(response):
        return f"{role}: expected a refusal, got {describe(response)}"
    if response.status_code != missing.status_code:
        return (f"{role}: answered {describe(response)} for party A's row but {describe(missing)} for a missing "
                f"one")
    return None


def test_every_route_with_an_id_is_in_the_table(app):
    routes = routes_with_an_id(app)
    missing = sorted(routes - set(TENANCY))
    assert missing == [], f"routes with an id but no row in TENANCY (tests/authz/test_tenancy.py): {missing}"
    stale = sorted(set(TENANCY) - routes)
    assert stale == [], f"TENANCY rows for routes that no longer exist: {stale}"
    for route, sees in TENANCY.items():
        assert sees.reason, route


@pytest.mark.parametrize(("method", "path"), sorted(TENANCY), ids=[f"{m} {p}" for m, p in sorted(TENANCY)])
def test_another_partys_row_is_not_found(app, session, method, path):
    scene = build_scene(session)
    session.commit()
    sees = TENANCY[(method, path)]
    wrong = []
    strangers = [role for role in ROLES if role not in sees.roles]
    for role in strangers:
        response = request_as(app, scene, role, method, path, values_for(scene, path))
        problem = check_refusal(app, scene, role, method, path, response)
        if problem:
            wrong.append(problem)
        if role in PARTY_A_AND_OUTSIDERS and (leak := b_leaks(scene, role, response)):
            wrong.append(leak)
    # The owners last: their actions may use up the row. This proves the ids point at real, reachable rows.
    for role in sorted(sees.roles & {r for r in ROLES if may_use_route(r, method, path)}):
        response = request_as(app, scene, role, method, path, values_for(scene, path))
        if refused(response):
            wrong.append(f"{role} ({sees.reason}): expected to be let through, got {describe(response)}")
        if role in PARTY_A_AND_OUTSIDERS and (leak := b_leaks(scene, role, response)):
            wrong.append(leak)
    assert wrong == []


@pytest.mark.parametrize(("method", "path"), sorted(CROSS_SCHEME_ROUTES),
                         ids=[f"{m} {p}" for m, p in sorted(CROSS_SCHEME_ROUTES)])
def test_a_row_of_another_scheme_is_not_found_under_this_one(app, session, method, path):
    scene = build_scene(session)
    session.commit()
    wrong = []
    for role in sorted(STAFF):
        if not may_use_route(role, method, path):
            continue
        values = values_for(scene, path, cross_scheme_parent=CROSS_SCHEME_ROUTES[(method, path)])
        response = request_as(app, scene, role, method, path, values)
        if response.status_code != 404:
            wrong.append(f"{role}: expected 404 for scheme A's adjustment under scheme B, got {describe(response)}")
    assert wrong == []


@pytest.mark.parametrize("path", ["/projects/{project_id}", "/api/v1/projects/{project_id}"])
def test_an_open_project_is_public(app, session, path):
    scene = build_scene(session)
    session.commit()
    title = _project_row(scene).title_en
    for role in ROLES:
        response = request_as(app, scene, role, "GET", path, {"project_id": scene.ids["project_id"]})
        assert response.status_code == 200 and title in response.text, role


# --- ids outside the path: query strings, JSON bodies and forms ---------------------------------------------

@dataclass(frozen=True)
class Outside:
    """How a route that takes a row's id outside its path is tried with another party's id.

    `role` sends `other` (a scene id) as the parameter, with `send` besides and `own` for the path: its own
    rows, so only the parameter is foreign. `not_found`: the answer must be 404; otherwise (a list of ids the
    route filters by its own parent) it must be what a missing id gets. No `role`: allowed, for `reason`.
    """

    role: str = ""
    other: str = ""
    send: dict = field(default_factory=dict)
    own: dict = field(default_factory=dict)
    not_found: bool = True
    reason: str = ""


SCHEMES_ARE_SHARED = Outside(reason="every scheme is open to every organisation and to staff")
STAFF_FILTER = Outside(reason="staff only, and staff see every scheme's and organisation's rows")
APPLICANTS_ARE_NOT_PER_SCHEME = Outside(reason="a profile belongs to no scheme, and a pin may place any applicant "
                                              "(the pin stands for her choice): staff see every applicant")
PIN = {"reason": "tenancy", "kind": "pin"}

OUTSIDE_THE_PATH: dict[tuple[str, str, str], Outside] = {
    ("GET", "/api/v1/audit", "actor_id"): STAFF_FILTER,
    ("POST", "/api/v1/ngo/projects", "scheme_id"): SCHEMES_ARE_SHARED,
    ("PATCH", "/api/v1/ngo/projects/{project_id}", "scheme_id"): SCHEMES_ARE_SHARED,
    ("GET", "/ngo/projects/new", "scheme_id"): SCHEMES_ARE_SHARED,
    ("POST", "/ngo/projects/new", "scheme_id"): SCHEMES_ARE_SHARED,
    ("POST", "/api/v1/rounds", "scheme_id"): STAFF_FILTER,
    ("POST", "/staff/rounds", "scheme_id"): STAFF_FILTER,
    ("GET", "/api/v1/rounds", "scheme_id"): STAFF_FILTER,
    ("GET", "/api/v1/rounds/{run_id}/proposals", "project_id"): STAFF_FILTER,
    ("GET", "/staff/rounds/{run_id}", "applicant_id"): STAFF_FILTER,
    ("GET", "/staff/rounds/{run_id}", "project_id"): STAFF_FILTER,
    ("GET", "/staff/projects", "scheme_id"): STAFF_FILTER,
    ("GET", "/api/v1/reports", "scheme_id"): STAFF_FILTER,
    ("GET", "/api/v1/reports/csv", "scheme_id"): STAFF_FILTER,
    ("GET", "/api/v1/reports/xlsx", "scheme_id"): STAFF_FILTER,
    # an applicant choosing organisation A's draft
    ("POST", "/api/v1/me/choices", "project_id"): Outside("applicant_other", "draft_project_id"),
    ("POST", "/choices", "project_id"): Outside("applicant_other", "draft_project_id"),
    ("POST", "/api/v1/me/scramble", "project_id"): Outside("applicant_other", "draft_project_id"),
    ("POST", "/scramble", "project_id"): Outside("applicant_other", "draft_project_id"),
    # organisation B filtering its applicants by organisation A's project
    ("GET", "/api/v1/ngo/applicants", "project_id"): Outside("ngo_other", "project_id"),
    # (the page is a filter form: a project not its own is a field error on its own list, as a missing one is)
    ("GET", "/ngo/applicants", "project_id"): Outside("ngo_other", "project_id", not_found=False),
    # organisation B ranking applicant A's choice (of organisation A's project) for its own project
    ("PUT", "/api/v1/ngo/projects/{project_id}/ranking", "choice_ids"): Outside(
        "ngo_other", "choice_id", own={"project_id": "project_b_id"}, not_found=False),
    # pins and exclusions in scheme A's round naming scheme B's project (the page re-renders its form with the
    # field error, as for a missing project)
    ("POST", "/api/v1/rounds/{run_id}/pins", "project_id"): Outside(
        "officer", "project_b_id", send={"applicant_id": "applicant_id", **PIN}),
    ("POST", "/api/v1/rounds/{run_id}/exclusions", "project_id"): Outside(
        "officer", "project_b_id", send={"applicant_id": "applicant_id", **PIN}),
    ("POST", "/staff/rounds/{run_id}/adjustments", "project_id"): Outside(
        "officer", "project_b_id", send={"applicant_id": "applicant_id", **PIN}, not_found=False),
    ("POST", "/api/v1/rounds/{run_id}/pins", "applicant_id"): APPLICANTS_ARE_NOT_PER_SCHEME,
    ("POST", "/api/v1/rounds/{run_id}/exclusions", "applicant_id"): APPLICANTS_ARE_NOT_PER_SCHEME,
    ("POST", "/staff/rounds/{run_id}/adjustments", "applicant_id"): APPLICANTS_ARE_NOT_PER_SCHEME,
    # approving or refusing scheme B's proposals through scheme A's round: they are not in it
    ("POST", "/api/v1/rounds/{run_id}/approve", "proposal_ids"): Outside(
        "approver", "proposal_b_id", not_found=False),
    ("POST", "/api/v1/rounds/{run_id}/refuse", "proposal_ids"): Outside(
        "approver", "proposal_b_id", send={"reason": "tenancy"}, not_found=False),
    ("POST", "/staff/rounds/{run_id}/approve", "proposal_ids"): Outside(
        "approver", "proposal_b_id", not_found=False),
    ("POST", "/staff/rounds/{run_id}/refuse", "proposal_ids"): Outside(
        "approver", "proposal_b_id", send={"reason": "tenancy"}, not_found=False),
    # complaining about a project one never chose (organisation A's, by applicant B): a field error, as for a
    # missing project; any verified organisation may be complained about (its name is public)
    ("POST", "/api/v1/me/complaints", "project_id"): Outside(
        "applicant_other", "project_id", send={"subject": "tenancy", "details": "tenancy"}, not_found=False),
    ("POST", "/api/v1/me/complaints", "organisation_id"): Outside(
        reason="anyone may complain about any verified organisation; its name is in the public catalogue"),
    # paying scheme B's project out of scheme A: a field error, as for a missing project
    ("POST", "/api/v1/schemes/{scheme_id}/payments", "project_id"): Outside(
        "officer", "project_b_id", send={"tranche": "advance"}, not_found=False),
    ("POST", "/staff/schemes/{scheme_id}/payments", "project_id"): Outside(
        "officer", "project_b_id", send={"tranche": "advance"}, not_found=False),
}
# Page forms read as raw form data, whose fields the route's signature does not show.
FORM_FIELDS_NAMING_ROWS = {
    ("POST", "/staff/rounds", "scheme_id"), ("POST", "/staff/rounds/{run_id}/adjustments", "applicant_id"),
    ("POST", "/staff/rounds/{run_id}/adjustments", "project_id"), ("POST", "/staff/rounds/{run_id}/approve",
                                                                     "proposal_ids"),
    ("POST", "/staff/rounds/{run_id}/refuse", "proposal_ids"),
    ("POST", "/staff/schemes/{scheme_id}/payments", "project_id"),
}


def _declared_parameters(dependant) -> list[str]:
    names = [param.name for param in dependant.query_params]
    for param in dependant.body_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += list(annotation.model_fields)
        else:
            names.append(param.name)
    for sub in dependant.dependencies:
        names += _declared_parameters(sub)
    return names


def ids_outside_the_path(app) -> set[tuple[str, str, str]]:
    found = set(FORM_FIELDS_NAMING_ROWS)
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context.route, "dependant", None)
        if dependant is None:
            continue
        for name in _declared_parameters(dependant):
            if name.endswith(("_id", "_ids")):
                found |= {(method, context.path, name) for method in context.methods or ()}
    return found


def request_with(app, scene: Scene, role: str, method: str, path: str, path_values: dict[str, object],
                 params: dict[str, object]):
    client = TestClient(app)
    csrf = sign_in_as(client, scene.session, scene.users[role])
    url = fill_path(path, path_values)
    scene.session.commit()
    if method == "GET":
        return client.get(url, params=params, follow_redirects=False)
    if path.startswith("/api/"):
        return client.request(method, url, json=params, headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    return client.request(method, url, data={"csrf_token": csrf, **params}, follow_redirects=False)


def test_every_id_outside_a_path_is_in_the_table(app):
    found = ids_outside_the_path(app)
    missing = sorted(found - set(OUTSIDE_THE_PATH))
    assert missing == [], f"ids outside the path with no row in OUTSIDE_THE_PATH: {missing}"
    stale = sorted(set(OUTSIDE_THE_PATH) - found)
    assert stale == [], f"OUTSIDE_THE_PATH rows for parameters that no longer exist: {stale}"
    for key, outside in OUTSIDE_THE_PATH.items():
        assert outside.role or outside.reason, key


TRIED_OUTSIDE = sorted(key for key, outside in OUTSIDE_THE_PATH.items() if outside.role)


@pytest.mark.parametrize(("method", "path", "name"), TRIED_OUTSIDE, ids=[" ".join(key) for key in TRIED_OUTSIDE])
def test_another_partys_id_outside_the_path_is_not_found(app, session, method, path, name):
    scene = build_scene(session)
    session.commit()
    outside = OUTSIDE_THE_PATH[(method, path, name)]

    def attempt(value: object):
        path_values = {**values_for(scene, path), **{k: scene.ids[v] for k, v in outside.own.items()}}
        params = {k: scene.ids.get(v, v) if isinstance(v, str) else v for k, v in outside.send.items()}
        params[name] = [value] if name.endswith("_ids") else value
        return request_with(app, scene, outside.role, method, path, path_values, params)

    response = attempt(scene.ids[outside.other])
    if outside.role not in STAFF:
        assert leaked_markers(scene, response) == [], describe(response)
    if outside.not_found:
        assert response.status_code == 404, describe(response)
    else:
        missing = attempt(MISSING_ID)
        assert describe(response) == describe(missing)
    proposal = session.get(MatchProposal, scene.ids["proposal_b_id"])
    session.refresh(proposal)
    assert proposal.status == "proposed", "another round's proposal was decided"


# --- an applicant both organisations share ----------------------------------------------------------------

SHARED_APPLICANT_VIEWS = ("/ngo/applicants/{applicant_id}", "/api/v1/ngo/applicants/{applicant_id}",
                          "/ngo/applicants", "/api/v1/ngo/applicants")


@pytest.mark.parametrize("path", SHARED_APPLICANT_VIEWS)
def test_an_applicant_who_chose_both_organisations_shows_each_only_its_own_choices(app, session, path):
    """Organisation A sees the applicant, but not that she also chose organisation B's project."""
    scene = build_scene(session)
    user = make_user(session, Role.APPLICANT)
    project_a = _project_row(scene)
    project_b = session.get(Project, scene.ids["project_b_id"])
    name = _marker("SharedApplicant")
    profile, _choice = _applicant(session, user, name, session.get(Scheme, project_a.scheme_id), project_a)
    session.add(Choice(applicant_id=profile.id, project_id=project_b.id, scheme_id=project_b.scheme_id, rank=1))
    session.commit()
    response = request_as(app, scene, "ngo", "GET", path, {"applicant_id": profile.id})
    assert response.status_code == 200 and name in response.text, describe(response)
    assert project_b.title_en not in response.text


# --- pages and API routes without an id: nothing of party B for party A's roles ----------------------------


def test_routes_without_an_id_show_party_a_nothing_of_party_b(app, session):
    """Lists, dashboards and exports: what party A's roles (and anonymous callers) get holds nothing of B's."""
    scene = build_scene(session)
    session.commit()
    wrong = []
    routes = sorted((method, path) for method, path in app_routes(app) if method == "GET" and "{" not in path)
    for method, path in routes:
        for role in PARTY_A_AND_OUTSIDERS:
            if role != "anonymous" and not may_use_route(role, method, path):
                continue
            response = request_as(app, scene, role, method, path, {})
            if leak := b_leaks(scene, role, response):
                wrong.append(f"{path} {leak}")
    assert wrong == []
    # The markers do reach the pages of party B's own organisation, so their absence above means something.
    for path in ("/ngo/applicants", "/api/v1/ngo/applicants", "/organisation/interns"):
        assert b_leaks(scene, "ngo_other", request_as(app, scene, "ngo_other", "GET", path, {})), path


# --- the Guangdong coordinating office: Guangdong applicants and cohorts only ---------------------------------


def test_the_guangdong_office_never_sees_a_hong_kong_applicant(app, session):
    """Every page and API route the office may use (lists, its own pages) shows nothing of Hong Kong applicants A
    and B, nor of scheme A's and B's cohorts (both admit only Hong Kong youth); a Guangdong applicant awaiting it
    and a cohort of a programme admitting Guangdong are shown, so the absence means something."""
    from backend.applicants.models import ApplicantProfile

    scene = build_scene(session)
    hong_kong = [session.get(ApplicantProfile, scene.ids[key]) for key in ("applicant_id", "applicant_b_id")]
    assert {p.origin for p in hong_kong} == {"hong_kong"}
    guangdong_name = _marker("GuangdongApplicant")
    make_applicant(session, name_en=guangdong_name, name_zh=guangdong_name, origin="guangdong",
                   guangdong_city="Guangzhou", institution="Sun Yat-sen University")
    both = make_scheme(session, name_en=_marker("BothSides"), admitted_origins=["hong_kong", "guangdong"])
    cohort = _project(session, both, session.get(Organisation, scene.ids["organisation_a_id"]), ProjectStatus.OPEN,
                      _marker("PalaceMuseumCohort"))
    session.commit()
    hong_kong_markers = [text for p in hong_kong for text in (p.name_en, p.statement, p.contact_email)]
    hong_kong_markers += [session.get(Project, scene.ids["project_id"]).title_en,
                          session.get(Project, scene.ids["project_b_id"]).title_en]
    wrong = []
    seen: dict[str, str] = {}
    for method, path in sorted(app_routes(app)):
        if method != "GET" or "{" in path or not may_use_route("guangdong_office", method, path) \
                or path in ("/", "/projects", "/api/v1/projects", "/api/v1/openapi.json", "/docs"):
            continue  # the public catalogue shows open projects to everyone, the office included
        response = request_as(app, scene, "guangdong_office", method, path, {})
        seen[path] = response.text
        shown = [marker for marker in hong_kong_markers if marker in response.text]
        if shown:
            wrong.append(f"{path}: shows {shown}")
    assert wrong == []
    assert guangdong_name in seen["/guangdong-office/participants"]
    assert guangdong_name in seen["/api/v1/guangdong-office/participants"]
    assert cohort.title_en in seen["/guangdong-office/cohorts"]
    assert cohort.title_en in seen["/api/v1/guangdong-office/cohorts"]
