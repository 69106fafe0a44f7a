"""Every route × every role: who may use it and who is refused, from one table.

A route that is not in MATRIX fails `test_every_route_is_in_the_matrix`. To add yours: add
`("METHOD", "/path/{param}"): <roles allowed>` below, and if the path has a parameter name not yet in
`path_values`, say there which row it should point at (use the `ngo` role's organisation for rows an
NGO owns, so `ngo_other` shows the tenancy refusal).

"Allowed" means the request got past authentication and authorisation: any answer except 401, 403,
404 or a redirect to sign in (a 400 or 422 for the empty form the test posts is still "allowed").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from backend.accounts.models import TokenPurpose
from backend.accounts.tokens import issue_one_time_token
from backend.identity.models import Role, User
from backend.identity.tokens import create_api_token
from backend.organisations.models import Organisation
from backend.projects.models import Assessment, AssessmentDecision, ProjectStatus
from tests.accounts.helpers import form_token, make_user, sign_in_as
from tests.factories import make_organisation, make_project, make_scheme

ROLES = ("anonymous", "applicant", "ngo", "ngo_other", "host", "officer", "approver", "admin", "guangdong_office")
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
# Organisations that offer places: two NGOs and a verified Guangdong host organisation (its own rows only).
NGOS = frozenset({"ngo", "ngo_other", "host"})
# Only NGOs bring applicants of their own (a CSV import); a Guangdong host does not.
IMPORTERS = frozenset({"ngo", "ngo_other"})
STAFF = frozenset({"officer", "approver", "admin"})
ADMIN = frozenset({"admin"})
VERIFIERS = frozenset({"officer", "admin"})
APPLICANT = frozenset({"applicant"})
OFFICER = frozenset({"officer"})
APPROVER = frozenset({"approver"})
SCHEME_MANAGERS = frozenset({"officer", "admin"})
OWNING_NGO = frozenset({"ngo"})
# The Guangdong coordinating office: a partner, not staff; {participant_id} is a Guangdong applicant awaiting it.
GUANGDONG_OFFICE = frozenset({"guangdong_office"})
# Accounts that must keep a second factor: staff and the Guangdong office.
ADMIN_MADE = STAFF | GUANGDONG_OFFICE

MATRIX: dict[tuple[str, str], frozenset[str]] = {
    # platform
    ("GET", "/"): EVERYONE,
    ("GET", "/api/v1/health"): EVERYONE,
    ("GET", "/api/v1/openapi.json"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
    # public project catalogue
    ("GET", "/projects"): EVERYONE,
    ("GET", "/projects/{project_id}"): EVERYONE,
    ("GET", "/api/v1/projects"): EVERYONE,
    ("GET", "/api/v1/projects/{project_id}"): EVERYONE,
    # getting in
    ("GET", "/sign-up"): EVERYONE,
    ("POST", "/sign-up"): EVERYONE,
    ("GET", "/sign-up/organisation"): EVERYONE,
    ("POST", "/sign-up/organisation"): EVERYONE,
    ("GET", "/sign-in"): EVERYONE,
    ("POST", "/sign-in"): EVERYONE,
    ("POST", "/sign-out"): EVERYONE,
    # the second step: a signed-in person is sent home from its page; only a half-signed-in session may post
    ("GET", "/sign-in/code"): SIGNED_IN,
    ("POST", "/sign-in/code"): frozenset(),
    ("GET", "/verify-email/{token}"): EVERYONE,
    ("POST", "/verify-email/{token}"): EVERYONE,
    ("GET", "/forgot-password"): EVERYONE,
    ("POST", "/forgot-password"): EVERYONE,
    ("GET", "/reset-password/{token}"): EVERYONE,
    ("POST", "/reset-password/{token}"): EVERYONE,
    ("GET", "/invitations/{token}"): EVERYONE,
    ("POST", "/invitations/{token}"): EVERYONE,
    # one's own account
    ("GET", "/account"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("POST", "/account/verification-email"): SIGNED_IN,
    ("POST", "/account/tokens"): SIGNED_IN,
    ("POST", "/account/tokens/{token_id}/revoke"): SIGNED_IN,
    ("GET", "/account/export"): SIGNED_IN,
    ("GET", "/account/two-factor/setup"): SIGNED_IN,
    ("POST", "/account/two-factor/setup"): SIGNED_IN,
    ("POST", "/account/two-factor/turn-off"): SIGNED_IN - ADMIN_MADE,
    ("GET", "/account/delete"): APPLICANT,
    ("POST", "/account/delete"): APPLICANT,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("GET", "/api/v1/me/tokens"): SIGNED_IN,
    ("POST", "/api/v1/me/tokens"): SIGNED_IN,
    ("DELETE", "/api/v1/me/tokens/{token_id}"): SIGNED_IN,
    ("GET", "/api/v1/me/export"): SIGNED_IN,
    # organisations
    ("GET", "/organisation"): NGOS,
    ("POST", "/organisation/invitations"): NGOS,
    ("GET", "/staff/organisations"): STAFF,
    ("POST", "/staff/organisations/{organisation_id}/verify"): VERIFIERS,
    ("GET", "/api/v1/organisations"): STAFF,
    ("POST", "/api/v1/organisations/{organisation_id}/verify"): VERIFIERS,
    # Guangdong host organisations are the Guangdong office's to verify; {host_id} is one awaiting it.
    ("POST", "/guangdong-office/nominations"): GUANGDONG_OFFICE,
    ("GET", "/api/v1/guangdong-office/nominations"): GUANGDONG_OFFICE,
    ("POST", "/api/v1/guangdong-office/nominations"): GUANGDONG_OFFICE,
    ("GET", "/guangdong-office/hosts"): GUANGDONG_OFFICE,
    ("POST", "/guangdong-office/hosts/{host_id}/verify"): GUANGDONG_OFFICE,
    ("GET", "/api/v1/guangdong-office/hosts"): GUANGDONG_OFFICE,
    ("POST", "/api/v1/guangdong-office/hosts/{host_id}/verify"): GUANGDONG_OFFICE,
    # staff
    ("GET", "/staff/accounts"): ADMIN,
    ("POST", "/staff/accounts"): ADMIN,
    ("POST", "/staff/accounts/{user_id}/two-factor/reset"): ADMIN,
    ("GET", "/staff/audit"): STAFF,
    ("GET", "/api/v1/audit"): STAFF,
    # schemes: every member of staff reads them, officers and admins manage them
    ("GET", "/staff/schemes"): STAFF,
    ("GET", "/staff/schemes/new"): SCHEME_MANAGERS,
    ("POST", "/staff/schemes/new"): SCHEME_MANAGERS,
    ("POST", "/staff/schemes/{scheme_id}/lottery-seed"): SCHEME_MANAGERS,
    ("GET", "/api/v1/schemes/{scheme_id}/lottery"): STAFF,
    ("POST", "/api/v1/schemes/{scheme_id}/lottery"): SCHEME_MANAGERS,
    ("GET", "/staff/schemes/{scheme_id}"): STAFF,
    ("GET", "/staff/schemes/{scheme_id}/edit"): SCHEME_MANAGERS,
    ("POST", "/staff/schemes/{scheme_id}/edit"): SCHEME_MANAGERS,
    ("GET", "/api/v1/schemes"): STAFF,
    ("POST", "/api/v1/schemes"): SCHEME_MANAGERS,
    ("GET", "/api/v1/schemes/{scheme_id}"): STAFF,
    ("PATCH", "/api/v1/schemes/{scheme_id}"): SCHEME_MANAGERS,
    ("GET", "/api/v1/schemes/{scheme_id}/dashboard"): STAFF,
    # an NGO's own projects: {project_id} belongs to the `ngo` role's organisation, so ngo_other gets a 404
    ("GET", "/ngo/projects"): NGOS,
    ("GET", "/ngo/projects/new"): NGOS,
    ("POST", "/ngo/projects/new"): NGOS,
    ("GET", "/ngo/projects/{project_id}"): OWNING_NGO,
    ("GET", "/ngo/projects/{project_id}/edit"): OWNING_NGO,
    ("POST", "/ngo/projects/{project_id}/edit"): OWNING_NGO,
    ("POST", "/ngo/projects/{project_id}/submit"): OWNING_NGO,
    ("GET", "/api/v1/ngo/projects"): NGOS,
    ("POST", "/api/v1/ngo/projects"): NGOS,
    ("GET", "/api/v1/ngo/projects/{project_id}"): OWNING_NGO,
    ("PATCH", "/api/v1/ngo/projects/{project_id}"): OWNING_NGO,
    ("POST", "/api/v1/ngo/projects/{project_id}/submit"): OWNING_NGO,
    # funding: officers assess and open/close, approvers (other people) confirm
    ("GET", "/staff/projects"): STAFF,
    ("GET", "/staff/projects/{project_id}"): STAFF,
    ("POST", "/staff/projects/{project_id}/assessments"): OFFICER,
    ("POST", "/staff/projects/{project_id}/open"): OFFICER,
    ("POST", "/staff/projects/{project_id}/close"): OFFICER,
    ("POST", "/staff/assessments/{assessment_id}/confirm"): APPROVER,
    ("POST", "/api/v1/projects/{project_id}/assessments"): OFFICER,
    ("POST", "/api/v1/projects/{project_id}/open"): OFFICER,
    ("POST", "/api/v1/projects/{project_id}/close"): OFFICER,
    ("POST", "/api/v1/assessments/{assessment_id}/confirm"): APPROVER,
    # the funding portfolio: staff read it, officers propose it, approvers (other people) confirm it
    ("GET", "/staff/schemes/{scheme_id}/portfolio"): STAFF,
    ("GET", "/staff/schemes/{scheme_id}/ranking"): STAFF,
    # a conflict-of-interest declaration: those who score or decide
    ("POST", "/staff/projects/{project_id}/conflict-of-interest"): OFFICER | APPROVER,
    ("PUT", "/api/v1/projects/{project_id}/conflict-of-interest"): OFFICER | APPROVER,
    # moderating two scores far apart: those who score or decide (the matrix's project needs none: 409)
    ("POST", "/staff/projects/{project_id}/moderation"): OFFICER | APPROVER,
    ("POST", "/api/v1/projects/{project_id}/moderation"): OFFICER | APPROVER,
    ("GET", "/api/v1/projects/{project_id}/scoring"): STAFF,
    ("GET", "/api/v1/schemes/{scheme_id}/ranking"): STAFF,
    ("POST", "/staff/schemes/{scheme_id}/portfolio/work-out"): STAFF,
    ("POST", "/api/v1/schemes/{scheme_id}/portfolio/analyses"): STAFF,
    ("POST", "/staff/schemes/{scheme_id}/portfolio/propose"): OFFICER,
    ("POST", "/staff/portfolio-proposals/{proposal_id}/confirm"): APPROVER,
    ("GET", "/api/v1/schemes/{scheme_id}/portfolio"): STAFF,
    ("POST", "/api/v1/schemes/{scheme_id}/portfolio/proposals"): OFFICER,
    ("POST", "/api/v1/portfolio-proposals/{proposal_id}/confirm"): APPROVER,
    # applicants: their own profile, CV, choices and status; {choice_id} is the applicant's choice of a
    # project of the `ngo` role's organisation, {applicant_id} that applicant's profile
    ("GET", "/profile"): APPLICANT,
    ("GET", "/profile/steps/{step}"): APPLICANT,
    ("POST", "/profile/steps/{step}"): APPLICANT,
    ("GET", "/profile/check-answers"): APPLICANT,
    ("POST", "/profile/check-answers"): APPLICANT,
    ("GET", "/profile/cv"): APPLICANT,
    ("POST", "/profile/cv"): APPLICANT,
    ("GET", "/profile/cv/download"): APPLICANT,
    ("POST", "/profile/cv/delete"): APPLICANT,
    ("GET", "/choices"): APPLICANT,
    ("POST", "/choices"): APPLICANT,
    ("POST", "/choices/{choice_id}/move"): APPLICANT,
    ("GET", "/choices/{choice_id}/withdraw"): APPLICANT,
    ("POST", "/choices/{choice_id}/withdraw"): APPLICANT,
    ("GET", "/status"): APPLICANT,
    ("GET", "/scramble"): APPLICANT,
    ("POST", "/scramble"): APPLICANT,
    ("POST", "/scramble/{choice_id}/withdraw"): APPLICANT,
    ("GET", "/api/v1/me/profile"): APPLICANT,
    ("PUT", "/api/v1/me/profile/steps/{step}"): APPLICANT,
    ("POST", "/api/v1/me/profile/submit"): APPLICANT,
    ("PUT", "/api/v1/me/cv"): APPLICANT,
    ("GET", "/api/v1/me/cv"): APPLICANT,
    ("DELETE", "/api/v1/me/cv"): APPLICANT,
    ("GET", "/api/v1/me/eligibility/{project_id}"): APPLICANT,
    ("GET", "/api/v1/me/choices"): APPLICANT,
    ("POST", "/api/v1/me/choices"): APPLICANT,
    ("POST", "/api/v1/me/choices/{choice_id}/move"): APPLICANT,
    ("DELETE", "/api/v1/me/choices/{choice_id}"): APPLICANT,
    ("GET", "/api/v1/me/scramble"): APPLICANT,
    ("POST", "/api/v1/me/scramble"): APPLICANT,
    ("DELETE", "/api/v1/me/scramble/{choice_id}"): APPLICANT,
    ("GET", "/api/v1/me/status"): APPLICANT,
    ("GET", "/api/v1/me/suggestions"): APPLICANT,
    # an NGO's applicants: only those who chose its projects
    ("GET", "/ngo/applicants"): NGOS,
    ("GET", "/ngo/applicants/{applicant_id}"): OWNING_NGO,
    ("GET", "/ngo/applicants/{applicant_id}/cv"): OWNING_NGO,
    ("POST", "/ngo/choices/{choice_id}/interview"): OWNING_NGO,
    ("POST", "/ngo/choices/{choice_id}/shortlist"): OWNING_NGO,
    ("POST", "/ngo/choices/{choice_id}/ranking"): OWNING_NGO,
    ("GET", "/ngo/rankings/{project_id}"): OWNING_NGO,
    ("POST", "/ngo/rankings/{project_id}/order"): OWNING_NGO,
    ("GET", "/api/v1/ngo/applicants"): NGOS,
    ("GET", "/api/v1/ngo/applicants/{applicant_id}"): OWNING_NGO,
    ("GET", "/api/v1/ngo/applicants/{applicant_id}/cv"): OWNING_NGO,
    ("POST", "/api/v1/ngo/choices/{choice_id}/shortlist"): OWNING_NGO,
    ("POST", "/api/v1/ngo/choices/{choice_id}/interview"): OWNING_NGO,
    ("GET", "/api/v1/ngo/projects/{project_id}/ranking"): OWNING_NGO,
    ("PUT", "/api/v1/ngo/projects/{project_id}/ranking"): OWNING_NGO,
    # importing applicants from paper forms (an NGO for its own projects), and claiming an imported profile
    ("GET", "/applicants/import"): IMPORTERS | OFFICER,
    ("POST", "/applicants/import"): IMPORTERS | OFFICER,
    ("POST", "/applicants/import/rejections.csv"): IMPORTERS | OFFICER,
    ("GET", "/applicants/import/template.csv"): IMPORTERS | OFFICER,
    ("POST", "/api/v1/applicants/import"): IMPORTERS | OFFICER,
    ("GET", "/claim-account/{token}"): EVERYONE,
    ("POST", "/claim-account/{token}"): EVERYONE,
    # match rounds: staff read them, officers start and adjust, approvers (other people) approve; {run_id} is
    # a finished round of the scheme, {adjustment_id} a pin in it, {placement_id} an offer to the applicant
    ("GET", "/staff/rounds"): STAFF,
    ("GET", "/staff/rounds/new"): OFFICER,
    ("POST", "/staff/rounds"): OFFICER,
    ("GET", "/staff/rounds/{run_id}"): STAFF,
    ("POST", "/staff/rounds/{run_id}/adjustments"): OFFICER,
    ("POST", "/staff/rounds/{run_id}/adjustments/{adjustment_id}/remove"): OFFICER,
    ("POST", "/staff/rounds/{run_id}/reviewed"): OFFICER,
    ("POST", "/staff/rounds/{run_id}/rerun"): OFFICER,
    ("POST", "/staff/rounds/{run_id}/cancel"): OFFICER,
    ("GET", "/staff/rounds/{run_id}/approval"): APPROVER,
    ("POST", "/staff/rounds/{run_id}/approve"): APPROVER,
    ("POST", "/staff/rounds/{run_id}/refuse"): APPROVER,
    ("POST", "/api/v1/rounds"): OFFICER,
    ("GET", "/api/v1/rounds"): STAFF,
    ("GET", "/api/v1/rounds/{run_id}"): STAFF,
    ("GET", "/api/v1/rounds/{run_id}/progress"): STAFF,
    ("GET", "/api/v1/rounds/{run_id}/approvals/{job_id}"): STAFF,
    ("GET", "/api/v1/rounds/{run_id}/proposals"): STAFF,
    ("GET", "/api/v1/rounds/{run_id}/unplaced"): STAFF,
    ("POST", "/api/v1/rounds/{run_id}/approve"): APPROVER,
    ("POST", "/api/v1/rounds/{run_id}/refuse"): APPROVER,
    ("POST", "/api/v1/rounds/{run_id}/pins"): OFFICER,
    ("POST", "/api/v1/rounds/{run_id}/exclusions"): OFFICER,
    ("GET", "/api/v1/schemes/{scheme_id}/adjustments"): OFFICER,
    ("DELETE", "/api/v1/schemes/{scheme_id}/adjustments/{adjustment_id}"): OFFICER,
    # offers: an applicant answers her own; an NGO sees its own interns
    ("GET", "/placements"): APPLICANT,
    ("GET", "/placements/{placement_id}"): APPLICANT,
    ("POST", "/placements/{placement_id}/accept"): APPLICANT,
    ("POST", "/placements/{placement_id}/decline"): APPLICANT,
    ("GET", "/api/v1/me/offers"): APPLICANT,
    ("POST", "/api/v1/me/offers/{placement_id}/accept"): APPLICANT,
    ("POST", "/api/v1/me/offers/{placement_id}/decline"): APPLICANT,
    ("GET", "/organisation/interns"): NGOS,
    # reports
    ("GET", "/staff/reports"): STAFF,
    ("GET", "/staff/reports/download.csv"): STAFF,
    ("GET", "/staff/reports/download.xlsx"): STAFF,
    ("GET", "/api/v1/reports"): STAFF,
    ("GET", "/api/v1/reports/csv"): STAFF,
    ("GET", "/api/v1/reports/xlsx"): STAFF,
    # complaints: an applicant raises and follows her own; {complaint_id} is the applicant's complaint about the
    # `ngo` role's organisation, shared with it, so ngo_other gets a 404; staff handle every case
    ("GET", "/complaints"): APPLICANT,
    ("GET", "/complaints/new"): APPLICANT,
    ("POST", "/complaints/new"): APPLICANT,
    ("GET", "/complaints/{complaint_id}"): APPLICANT | OWNING_NGO | STAFF,
    ("GET", "/ngo/complaints"): NGOS,
    ("GET", "/staff/complaints"): STAFF,
    ("GET", "/staff/complaints/{complaint_id}"): STAFF,
    ("POST", "/staff/complaints/{complaint_id}/acknowledge"): STAFF,
    ("POST", "/staff/complaints/{complaint_id}/investigate"): STAFF,
    ("POST", "/staff/complaints/{complaint_id}/decide"): STAFF,
    ("POST", "/staff/complaints/{complaint_id}/share"): STAFF,
    ("GET", "/api/v1/me/complaints"): APPLICANT,
    ("POST", "/api/v1/me/complaints"): APPLICANT,
    ("GET", "/api/v1/ngo/complaints"): NGOS,
    ("GET", "/api/v1/complaints"): STAFF,
    ("GET", "/api/v1/complaints/{complaint_id}"): APPLICANT | OWNING_NGO | STAFF,
    ("POST", "/api/v1/complaints/{complaint_id}/acknowledge"): STAFF,
    ("POST", "/api/v1/complaints/{complaint_id}/investigate"): STAFF,
    ("POST", "/api/v1/complaints/{complaint_id}/decide"): STAFF,
    ("POST", "/api/v1/complaints/{complaint_id}/share"): STAFF,
    # grant payments: staff read them, officers propose, approvers (other people) pay; {payment_id} is an
    # advance proposed by another officer
    ("GET", "/staff/schemes/{scheme_id}/payments"): STAFF,
    ("POST", "/staff/schemes/{scheme_id}/payments"): OFFICER,
    ("POST", "/staff/schemes/{scheme_id}/payment-terms"): SCHEME_MANAGERS,
    ("POST", "/staff/payments/{payment_id}/approve"): APPROVER,
    ("POST", "/staff/payments/{payment_id}/refuse"): APPROVER,
    ("GET", "/api/v1/schemes/{scheme_id}/payments"): STAFF,
    ("POST", "/api/v1/schemes/{scheme_id}/payments"): OFFICER,
    ("POST", "/api/v1/payments/{payment_id}/approve"): APPROVER,
    ("POST", "/api/v1/payments/{payment_id}/refuse"): APPROVER,
    # the staff to-do list (each domain registers what waits, backend/core/todo.py)
    ("GET", "/staff/todo"): STAFF,
    # the service's legal pages
    ("GET", "/personal-information-collection-statement"): EVERYONE,
    ("GET", "/privacy"): EVERYONE,
    ("GET", "/accessibility"): EVERYONE,
    ("GET", "/contact"): EVERYONE,
    ("GET", "/terms"): EVERYONE,
    # after the internship: the NGO records its interns' outcomes ({intern_id} is an intern of {project_id})
    # and sends the completion report; staff read it, officers accept or return it
    ("GET", "/ngo/projects/{project_id}/outcomes"): OWNING_NGO,
    ("GET", "/ngo/projects/{project_id}/outcomes/{intern_id}"): OWNING_NGO,
    ("POST", "/ngo/projects/{project_id}/outcomes/{intern_id}"): OWNING_NGO,
    ("GET", "/ngo/projects/{project_id}/report"): OWNING_NGO,
    ("POST", "/ngo/projects/{project_id}/report"): OWNING_NGO,
    ("GET", "/staff/projects/{project_id}/report"): STAFF,
    ("POST", "/staff/projects/{project_id}/report/accept"): OFFICER,
    ("POST", "/staff/projects/{project_id}/report/return"): OFFICER,
    ("GET", "/api/v1/projects/{project_id}/completion-report"): OWNING_NGO | STAFF,
    ("POST", "/api/v1/ngo/projects/{project_id}/interns/{intern_id}/outcome"): OWNING_NGO,
    ("POST", "/api/v1/ngo/projects/{project_id}/completion-report"): OWNING_NGO,
    ("POST", "/api/v1/projects/{project_id}/completion-report/accept"): OFFICER,
    ("POST", "/api/v1/projects/{project_id}/completion-report/return"): OFFICER,
    # interns confirm what they received ({internship_id}: the applicant's accepted place on an ended project);
    # staff read the mismatches and every organisation's track record
    ("GET", "/status/confirmations/{internship_id}"): APPLICANT,
    ("POST", "/status/confirmations/{internship_id}"): APPLICANT,
    ("GET", "/staff/confirmations"): STAFF,
    ("GET", "/staff/reports/track-record"): STAFF,
    ("GET", "/staff/reports/track-record.csv"): STAFF,
    ("GET", "/staff/reports/track-record.xlsx"): STAFF,
    ("GET", "/api/v1/reports/track-record"): STAFF,
    # the Guangdong coordinating office confirms (or refuses) Guangdong participants and reads the cohorts of
    # programmes admitting Guangdong youth; nobody else, staff included, holds these permissions
    ("GET", "/guangdong-office/participants"): GUANGDONG_OFFICE,
    ("POST", "/guangdong-office/participants/{participant_id}/confirm"): GUANGDONG_OFFICE,
    ("POST", "/guangdong-office/participants/{participant_id}/refuse"): GUANGDONG_OFFICE,
    ("GET", "/guangdong-office/cohorts"): GUANGDONG_OFFICE,
    ("GET", "/api/v1/guangdong-office/participants"): GUANGDONG_OFFICE,
    ("POST", "/api/v1/guangdong-office/participants/{participant_id}/confirm"): GUANGDONG_OFFICE,
    ("POST", "/api/v1/guangdong-office/participants/{participant_id}/refuse"): GUANGDONG_OFFICE,
    ("GET", "/api/v1/guangdong-office/cohorts"): GUANGDONG_OFFICE,
}
# Framework routes and static files need no row.
NOT_IN_MATRIX_METHODS = {"HEAD", "OPTIONS"}


@dataclass
class World:
    session: object
    users: dict[str, User] = field(default_factory=dict)
    organisation: Organisation | None = None
    unverified: Organisation | None = None
    project_id: int | None = None
    scheme_id: int | None = None
    assessment_id: int | None = None
    applicant_id: int | None = None
    choice_id: int | None = None


def build_world(session) -> World:
    world = World(session)
    world.organisation = make_organisation(session)
    other = make_organisation(session)
    world.unverified = make_organisation(session, verified=False)
    scheme = make_scheme(session)
    world.project_id = make_project(session, scheme, world.organisation).id
    world.scheme_id = scheme.id
    world.users = {
        "applicant": make_user(session, Role.APPLICANT),
        "ngo": make_user(session, Role.NGO, organisation=world.organisation),
        "ngo_other": make_user(session, Role.NGO, organisation=other),
        "host": make_user(session, Role.HOST, organisation=make_organisation(session, kind="guangdong_host")),
        "officer": make_user(session, Role.OFFICER),
        "approver": make_user(session, Role.APPROVER),
        "admin": make_user(session, Role.ADMIN),
        "guangdong_office": make_user(session, Role.GUANGDONG_OFFICE),
    }
    submitted = make_project(session, scheme, world.organisation, status=ProjectStatus.SUBMITTED)
    assessment = Assessment(project_id=submitted.id, officer_id=world.users["officer"].id,
                            proposed_decision=AssessmentDecision.APPROVE, proposed_places=submitted.places_requested,
                            proposed_subsidy_per_place=20_000)
    session.add(assessment)
    session.flush()
    world.assessment_id = assessment.id
    world.applicant_id, world.choice_id = _applicant_with_choice(session, world.users["applicant"], scheme,
                                                                 world.project_id)
    return world


def _applicant_with_choice(session, user: User, scheme, project_id: int) -> tuple[int, int]:
    """The applicant's profile (with a CV on disk) and their choice of the `ngo` organisation's project."""
    import secrets

    from backend.applicants.models import Choice
    from backend.core.db import utcnow
    from backend.core.settings import get_settings
    from tests.applicants.helpers import make_applicant

    name = secrets.token_hex(16) + ".pdf"
    get_settings().upload_dir.mkdir(parents=True, exist_ok=True)
    (get_settings().upload_dir / name).write_bytes(b"%PDF-1.4 matrix test file")
    _user, profile = make_applicant(session, user=False, user_id=user.id, contact_email=user.email,
                                    cv_stored_name=name, cv_size_bytes=25, cv_uploaded_at=utcnow())
    choice = Choice(applicant_id=profile.id, project_id=project_id, scheme_id=scheme.id, rank=1)
    session.add(choice)
    session.flush()
    return profile.id, choice.id


def path_values(world: World, role: str) -> dict[str, object]:
    """A value for every path parameter, fresh for each role so one role's request cannot spoil the next."""
    session = world.session
    own = world.users.get(role)
    applicant = world.users["applicant"]
    token_id = create_api_token(session, own, "matrix")[0].id if own else 1
    return {
        "project_id": world.project_id,
        "scheme_id": world.scheme_id,
        "assessment_id": world.assessment_id,
        "organisation_id": world.unverified.id,
        "applicant_id": world.applicant_id,
        "choice_id": world.choice_id,
        "step": "names",
        "claim_token": issue_one_time_token(session, TokenPurpose.CLAIM_ACCOUNT, email=f"claimer-{role}@example.hk",
                                            hours=24),
        "token_id": token_id,
        "user_id": make_user(session, "officer").id,
        # each link route reads the token of its own purpose; unused ones are harmless
        "verify_token": issue_one_time_token(session, TokenPurpose.VERIFY_EMAIL, user=applicant),
        "reset_token": issue_one_time_token(session, TokenPurpose.RESET_PASSWORD, user=applicant),
        "invitation_token": issue_one_time_token(session, TokenPurpose.JOIN_ORGANISATION,
                                                 email=f"invitee-{role}@example.hk",
                                                 organisation_id=world.organisation.id),
        **_round_values(world),
        **_complaint_and_payment(world),
        "intern_id": _intern(world),
        "proposal_id": _portfolio_proposal(world),
        **_ended_internship(world),
        "participant_id": _guangdong_participant(world),
        "host_id": make_organisation(session, verified=False, kind="guangdong_host").id,
    }


def _guangdong_participant(world: World) -> int:
    """A Guangdong applicant awaiting the office's confirmation: a fresh one for each role (confirming uses it up)."""
    from tests.applicants.helpers import make_applicant

    _user, profile = make_applicant(world.session, origin="guangdong", guangdong_city="Shenzhen")
    return profile.id


def _portfolio_proposal(world: World) -> int:
    """An open (empty) portfolio proposal of the scheme, by the officer: a fresh one for each role."""
    from backend.projects.models import PortfolioProposal

    proposal = PortfolioProposal(scheme_id=world.scheme_id, officer_id=world.users["officer"].id)
    world.session.add(proposal)
    world.session.flush()
    return proposal.id


def _intern(world: World) -> int:
    """An intern of the `ngo` role's project (its outcome already recorded): a placement of its own each time."""
    from datetime import timedelta

    from backend.core.db import utcnow
    from backend.placements.models import Placement, PlacementStatus

    placement = Placement(scheme_id=world.scheme_id, project_id=world.project_id, applicant_id=world.applicant_id,
                          status=PlacementStatus.COMPLETED, subsidy_hkd=25_000,
                          offer_deadline=utcnow() + timedelta(days=7))
    world.session.add(placement)
    world.session.flush()
    return placement.id


def _ended_internship(world: World) -> dict[str, object]:
    """The applicant's accepted place on a project of the `ngo` organisation that ended last week (own scheme:
    one accepted place per scheme)."""
    from datetime import timedelta

    from backend.core.db import utcnow
    from backend.placements.models import Placement, PlacementStatus

    session = world.session
    ended = utcnow().date() - timedelta(days=7)
    project = make_project(session, make_scheme(session), world.organisation, status=ProjectStatus.CLOSED,
                           start_date=ended - timedelta(days=30), end_date=ended)
    placement = Placement(scheme_id=project.scheme_id, project_id=project.id, applicant_id=world.applicant_id,
                          subsidy_hkd=25_000, status=PlacementStatus.ACCEPTED, offer_deadline=utcnow())
    session.add(placement)
    session.flush()
    return {"internship_id": placement.id}


def _complaint_and_payment(world: World) -> dict[str, object]:
    """The applicant's complaint about the `ngo` organisation, shared with it; an advance another officer proposed
    (for a project of its own: one row per project and tranche)."""
    from backend.complaints.models import Complaint
    from backend.core.db import utcnow
    from backend.schemes.models import GrantPayment, PaymentTranche, Scheme

    session = world.session
    paid_project = make_project(session, session.get(Scheme, world.scheme_id), world.organisation)
    complaint = Complaint(user_id=world.users["applicant"].id, organisation_id=world.organisation.id,
                          project_id=world.project_id, subject="Matrix complaint", details="matrix",
                          acknowledge_by=utcnow().date(), shared_at=utcnow())
    payment = GrantPayment(scheme_id=world.scheme_id, project_id=paid_project.id,
                           organisation_id=world.organisation.id, tranche=PaymentTranche.ADVANCE, amount_hkd=1_000,
                           proposed_by_id=make_user(session, "officer").id)
    session.add_all([complaint, payment])
    session.flush()
    return {"complaint_id": complaint.id, "payment_id": payment.id}


def _round_values(world: World) -> dict[str, object]:
    """A finished round of the scheme, a pin in it, an offer to the applicant and an approval job of the round
    (fresh for each role)."""
    from datetime import timedelta

    from backend.core.db import utcnow
    from backend.placements.models import (
        AdjustmentKind,
        ApprovalJob,
        MatchAdjustment,
        MatchRun,
        MatchRunStatus,
        Placement,
    )

    session = world.session
    run = MatchRun(scheme_id=world.scheme_id, mode="optimal", status=MatchRunStatus.SUCCEEDED, stage="done",
                   progress_percent=100, figures={})
    adjustment = MatchAdjustment(scheme_id=world.scheme_id, applicant_id=world.applicant_id,
                                 project_id=world.project_id, kind=AdjustmentKind.PIN, reason="matrix")
    placement = Placement(scheme_id=world.scheme_id, project_id=world.project_id, applicant_id=world.applicant_id,
                          subsidy_hkd=25_000, offer_deadline=utcnow() + timedelta(days=7))
    session.add_all([run, adjustment, placement])
    session.flush()
    job = ApprovalJob(run_id=run.id, offer_deadline=utcnow() + timedelta(days=7))
    session.add(job)
    session.flush()
    return {"run_id": run.id, "adjustment_id": adjustment.id, "placement_id": placement.id, "job_id": job.id}


def fill_path(path: str, values: dict[str, object]) -> str:
    token_kind = {"/verify-email/": "verify_token", "/reset-password/": "reset_token",
                  "/invitations/": "invitation_token", "/claim-account/": "claim_token"}
    for prefix, name in token_kind.items():
        if path.startswith(prefix):
            path = path.replace("{token}", str(values[name]))
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    assert "{" not in path, f"add a value for the parameter in {path} to path_values()"
    return path


def app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in iter_route_contexts(app.routes):
        for method in route.methods or ():
            if method not in NOT_IN_MATRIX_METHODS:
                found.add((method, route.path))
    return found


def refused(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("location", "")
    return response.status_code in (302, 303, 307) and (location == "/sign-in" or location.startswith("/sign-in?next="))


def request_as(app, world: World, role: str, method: str, path: str):
    client = TestClient(app)
    if role == "anonymous":
        csrf = form_token(client, "/sign-in")
    else:
        csrf = sign_in_as(client, world.session, world.users[role])
    url = fill_path(path, path_values(world, role))
    world.session.commit()  # a refused request rolls back; the world must survive it
    if method == "GET":
        return client.get(url, follow_redirects=False)
    if path.startswith("/api/"):
        return client.request(method, url, json={}, headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    return client.request(method, url, data={"csrf_token": csrf}, follow_redirects=False)


def test_every_route_is_in_the_matrix_and_every_row_is_a_route(app):
    routes = app_routes(app)
    missing = sorted(routes - set(MATRIX))
    assert missing == [], f"routes without a row in MATRIX (tests/authz/test_permission_matrix.py): {missing}"
    stale = sorted(set(MATRIX) - routes)
    assert stale == [], f"MATRIX rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)])
def test_each_role_is_allowed_or_refused_as_the_matrix_says(app, session, method, path):
    world = build_world(session)
    session.commit()
    wrong = []
    for role in ROLES:
        response = request_as(app, world, role, method, path)
        expected_allowed = role in MATRIX[(method, path)]
        if refused(response) == expected_allowed:
            wrong.append(f"{role}: {'expected allowed' if expected_allowed else 'expected refused'}, got "
                         f"{response.status_code} {response.headers.get('location', '')}")
    assert wrong == []
