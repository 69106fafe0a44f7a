"""Authorisation in one place: what each role may do, and which rows each actor may see.

Pages and the API both call `can`/`require`; templates get `can` so they hide what a user may not press.
A role grants a permission here; whether it applies to a particular object (tenancy) is decided by
`_in_scope`. Reads outside an actor's scope are reported as "not found" (`require_visible`), so an NGO
cannot even learn that another organisation's row exists.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.orm import object_session
from sqlmodel import select

from backend.applicants.models import ApplicantProfile, Choice
from backend.core.errors import Forbidden, NotFound
from backend.core.i18n import gettext as _
from backend.identity.models import Role, User
from backend.organisations.models import Organisation, OrganisationMember
from backend.projects.models import Project


class Permission(StrEnum):
    SCHEME_MANAGE = "scheme.manage"
    PROJECT_BROWSE = "project.browse"
    PROJECT_CREATE = "project.create"
    PROJECT_EDIT_OWN = "project.edit_own"
    PROJECT_SUBMIT = "project.submit"
    PROJECT_VIEW_ALL = "project.view_all"
    PROJECT_ASSESS = "project.assess"
    PROJECT_DECIDE = "project.decide"
    ORGANISATION_VIEW_ALL = "organisation.view_all"
    ORGANISATION_VERIFY = "organisation.verify"
    ORGANISATION_VIEW_OWN = "organisation.view_own"
    ORGANISATION_MANAGE_MEMBERS = "organisation.manage_members"
    APPLICANT_VIEW_OWN = "applicant.view_own"
    APPLICANT_EDIT_OWN = "applicant.edit_own"
    APPLICANT_CHOOSE_PROJECTS = "applicant.choose_projects"
    APPLICANT_VIEW_FOR_OWN_PROJECTS = "applicant.view_for_own_projects"
    APPLICANT_VIEW_ALL = "applicant.view_all"
    APPLICANT_IMPORT = "applicant.import"
    MATCH_RUN = "match.run"
    MATCH_APPROVE = "match.approve"
    PLACEMENT_APPROVE = "placement.approve"
    PLACEMENT_RESPOND = "placement.respond"
    REPORT_READ = "report.read"
    AUDIT_READ = "audit.read"
    STAFF_MANAGE = "staff.manage"
    ACCOUNT_MANAGE_OWN = "account.manage_own"
    ACCOUNT_EXPORT = "account.export"
    ACCOUNT_DELETE = "account.delete"
    API_TOKENS = "account.api_tokens"


P = Permission
_EVERY_SIGNED_IN = {P.PROJECT_BROWSE, P.ACCOUNT_MANAGE_OWN, P.ACCOUNT_EXPORT, P.API_TOKENS}
_STAFF_READ = {P.PROJECT_VIEW_ALL, P.ORGANISATION_VIEW_ALL, P.APPLICANT_VIEW_ALL, P.REPORT_READ, P.AUDIT_READ}

# The one table of who may do what. Later issues use these names; add a permission here, never a role check
# in a handler.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.APPLICANT: frozenset(_EVERY_SIGNED_IN | {
        P.APPLICANT_VIEW_OWN, P.APPLICANT_EDIT_OWN, P.APPLICANT_CHOOSE_PROJECTS, P.PLACEMENT_RESPOND,
        P.ACCOUNT_DELETE,
    }),
    Role.NGO: frozenset(_EVERY_SIGNED_IN | {
        P.PROJECT_CREATE, P.PROJECT_EDIT_OWN, P.PROJECT_SUBMIT, P.ORGANISATION_VIEW_OWN,
        P.ORGANISATION_MANAGE_MEMBERS, P.APPLICANT_VIEW_FOR_OWN_PROJECTS,
        P.APPLICANT_IMPORT,  # csv_import limits an NGO to its own open projects
    }),
    Role.OFFICER: frozenset(_EVERY_SIGNED_IN | _STAFF_READ | {
        P.SCHEME_MANAGE, P.PROJECT_ASSESS, P.ORGANISATION_VERIFY, P.APPLICANT_IMPORT, P.MATCH_RUN,
    }),
    Role.APPROVER: frozenset(_EVERY_SIGNED_IN | _STAFF_READ | {
        P.PROJECT_DECIDE, P.MATCH_APPROVE, P.PLACEMENT_APPROVE,
    }),
    Role.ADMIN: frozenset(_EVERY_SIGNED_IN | _STAFF_READ | {
        P.SCHEME_MANAGE, P.ORGANISATION_VERIFY, P.STAFF_MANAGE,
    }),
}
# What someone who has not signed in may do.
PUBLIC_PERMISSIONS: frozenset[Permission] = frozenset({P.PROJECT_BROWSE})


class SegregationOfDutiesError(Forbidden):
    code = "segregation_of_duties"


def membership(user: User | None):
    """The NGO user's organisation membership (one organisation per NGO user)."""
    if user is None or user.role != Role.NGO:
        return None
    db = object_session(user)
    if db is None:
        return None
    return db.exec(select(OrganisationMember).where(OrganisationMember.user_id == user.id)).first()


def organisation_id_of(user: User | None) -> int | None:
    member = membership(user)
    return member.organisation_id if member else None


def _in_scope(user: User, permission: Permission, obj: Any) -> bool:
    """Tenancy: staff see everything; an NGO its own organisation's rows; an applicant their own rows."""
    if user.role in (Role.OFFICER, Role.APPROVER, Role.ADMIN):
        return True
    if user.role == Role.NGO:
        member = membership(user)
        if member is None:
            return False
        if isinstance(obj, Organisation):
            if permission == P.ORGANISATION_MANAGE_MEMBERS and not member.is_admin:
                return False
            if permission == P.PROJECT_CREATE and not obj.is_verified:
                return False
            return obj.id == member.organisation_id
        owner_org = getattr(obj, "organisation_id", None)
        if owner_org is not None:
            return owner_org == member.organisation_id
        if isinstance(obj, ApplicantProfile):
            return _chose_a_project_of(obj, member.organisation_id)
        return False
    # Applicants: rows that carry their user id.
    owner = getattr(obj, "user_id", None)
    if isinstance(obj, User):
        owner = obj.id
    return owner is not None and owner == user.id


def _chose_a_project_of(profile, organisation_id: int) -> bool:
    """An NGO sees an applicant only once the applicant has chosen one of its projects."""
    db = object_session(profile)
    if db is None or profile.id is None:
        return False
    return db.exec(select(Choice.id).join(Project, Project.id == Choice.project_id).where(
        Choice.applicant_id == profile.id, Project.organisation_id == organisation_id).limit(1)).first() is not None


def can(user: User | None, permission: Permission | str, obj: Any = None) -> bool:
    permission = Permission(permission)
    if user is None or not user.is_active:
        return permission in PUBLIC_PERMISSIONS
    if permission not in ROLE_PERMISSIONS.get(Role(user.role), frozenset()):
        return False
    if obj is None:
        return True
    return _in_scope(user, permission, obj)


def require(user: User | None, permission: Permission | str, obj: Any = None) -> None:
    """For actions: a refusal is a 403 the user can understand."""
    if not can(user, permission, obj):
        raise Forbidden(_("You do not have permission to do that."))


def require_visible(user: User | None, permission: Permission | str, obj: Any) -> Any:
    """For reads by id: a row outside the actor's scope looks exactly like a missing one."""
    if obj is None or not can(user, permission, obj):
        raise NotFound(_("We could not find that."))
    return obj


def require_different_person(proposer_id: int | None, actor: User) -> None:
    """Four eyes: whoever proposed a decision (funding, a placement) may not also approve it."""
    if proposer_id is not None and proposer_id == actor.id:
        raise SegregationOfDutiesError(_("A different person must approve what you proposed."))
