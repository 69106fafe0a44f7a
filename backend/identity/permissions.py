"""Authorisation in one place: what each role may do, and which rows each actor may see.

Pages and the API both call `can`/`require`; templates get `can` so they hide what a user may not press.
A role grants a permission here; whether it applies to a particular object (tenancy) is decided by
`_in_scope`, which asks the domains' registrations in `backend.identity.scopes` which organisation a row
or a user belongs to. Reads outside an actor's scope are reported as "not found" (`require_visible`), so an NGO
cannot even learn that another organisation's row exists.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from backend.core.errors import Forbidden, NotFound
from backend.core.i18n import gettext as _
from backend.identity import scopes
from backend.identity.models import Role, User
from backend.identity.roles import acts_for_an_organisation, is_guangdong_office, is_staff
from backend.identity.scopes import Membership


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
    COMPLAINT_RAISE = "complaint.raise"
    COMPLAINT_VIEW_OWN = "complaint.view_own"
    COMPLAINT_VIEW_SHARED = "complaint.view_shared"
    COMPLAINT_HANDLE = "complaint.handle"
    PAYMENT_VIEW = "payment.view"
    PAYMENT_PROPOSE = "payment.propose"
    PAYMENT_APPROVE = "payment.approve"
    STAFF_TODO = "staff.todo"
    # The Guangdong coordinating office: confirm (or refuse) Guangdong participants' declarations, and read
    # the cohorts of programmes that admit Guangdong youth. Tenancy: Guangdong-side rows only.
    ORIGIN_CONFIRM = "applicant.confirm_origin"
    GUANGDONG_COHORTS_VIEW = "project.view_guangdong_cohorts"
    # The Guangdong coordinating office verifies Guangdong host organisations (Home Affairs staff verify NGOs).
    HOST_VERIFY = "organisation.verify_guangdong_host"


P = Permission
_EVERY_SIGNED_IN = {P.PROJECT_BROWSE, P.ACCOUNT_MANAGE_OWN, P.ACCOUNT_EXPORT, P.API_TOKENS}
_STAFF_READ = {P.PROJECT_VIEW_ALL, P.ORGANISATION_VIEW_ALL, P.APPLICANT_VIEW_ALL, P.REPORT_READ, P.AUDIT_READ,
               P.PAYMENT_VIEW, P.STAFF_TODO}
# What an organisation that offers places does with them (its own rows only: see _in_scope).
_OFFERS_PLACES = {P.PROJECT_CREATE, P.PROJECT_EDIT_OWN, P.PROJECT_SUBMIT, P.ORGANISATION_VIEW_OWN,
                  P.ORGANISATION_MANAGE_MEMBERS, P.APPLICANT_VIEW_FOR_OWN_PROJECTS,
                  P.COMPLAINT_VIEW_SHARED}  # only complaints staff have shared with its organisation
# Every member of staff may take a complaint through its steps (acknowledge, investigate, decide, share).
_STAFF_CASEWORK = {P.COMPLAINT_HANDLE}

# The one table of who may do what. Later issues use these names; add a permission here, never a role check
# in a handler.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.APPLICANT: frozenset(_EVERY_SIGNED_IN | {
        P.APPLICANT_VIEW_OWN, P.APPLICANT_EDIT_OWN, P.APPLICANT_CHOOSE_PROJECTS, P.PLACEMENT_RESPOND,
        P.ACCOUNT_DELETE, P.COMPLAINT_RAISE, P.COMPLAINT_VIEW_OWN,
    }),
    Role.NGO: frozenset(_EVERY_SIGNED_IN | _OFFERS_PLACES | {
        P.APPLICANT_IMPORT,  # csv_import limits an NGO to its own open projects
    }),
    # A Guangdong host organisation offers places and ranks who chose them; it brings no applicants of its own.
    Role.HOST: frozenset(_EVERY_SIGNED_IN | _OFFERS_PLACES),
    Role.OFFICER: frozenset(_EVERY_SIGNED_IN | _STAFF_READ | _STAFF_CASEWORK | {
        P.SCHEME_MANAGE, P.PROJECT_ASSESS, P.ORGANISATION_VERIFY, P.APPLICANT_IMPORT, P.MATCH_RUN,
        P.PAYMENT_PROPOSE,
    }),
    Role.APPROVER: frozenset(_EVERY_SIGNED_IN | _STAFF_READ | _STAFF_CASEWORK | {
        P.PROJECT_DECIDE, P.MATCH_APPROVE, P.PLACEMENT_APPROVE, P.PAYMENT_APPROVE,
    }),
    Role.ADMIN: frozenset(_EVERY_SIGNED_IN | _STAFF_READ | _STAFF_CASEWORK | {
        P.SCHEME_MANAGE, P.ORGANISATION_VERIFY, P.STAFF_MANAGE,
    }),
    # A partner: none of the staff reads; only the Guangdong side (see _in_scope).
    Role.GUANGDONG_OFFICE: frozenset(_EVERY_SIGNED_IN | {P.ORIGIN_CONFIRM, P.GUANGDONG_COHORTS_VIEW, P.HOST_VERIFY}),
}
# What someone who has not signed in may do.
PUBLIC_PERMISSIONS: frozenset[Permission] = frozenset({P.PROJECT_BROWSE})


class SegregationOfDutiesError(Forbidden):
    code = "segregation_of_duties"


def membership(user: User | None) -> Membership | None:
    """The organisation account's membership (one organisation per NGO or host user)."""
    if not acts_for_an_organisation(user):
        return None
    return scopes.acts_for(user)


def organisation_id_of(user: User | None) -> int | None:
    member = membership(user)
    return member.organisation_id if member else None


def _in_scope(user: User, permission: Permission, obj: Any) -> bool:
    """Tenancy: staff see everything; an NGO its own organisation's rows; an applicant their own rows."""
    if is_staff(user):
        return True
    if is_guangdong_office(user):
        # Only the Guangdong side: an applicant who declared Guangdong, a project of a scheme admitting it.
        return scopes.is_guangdong_side(obj)
    if acts_for_an_organisation(user):
        member = membership(user)
        if member is None:
            return False
        if scopes.is_applicant(obj):
            return scopes.applicant_chose_projects_of(obj, member.organisation_id)
        if scopes.is_organisation(obj):
            if permission == P.ORGANISATION_MANAGE_MEMBERS and not member.is_admin:
                return False
            if permission == P.PROJECT_CREATE and not scopes.may_post_projects(obj):
                return False
        return scopes.organisation_of(obj) == member.organisation_id
    # Applicants: rows that carry their user id.
    owner = getattr(obj, "user_id", None)
    if isinstance(obj, User):
        owner = obj.id
    return owner is not None and owner == user.id


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


def may_see_applicant(user: User | None, applicant: Any) -> bool:
    """The one answer to "may this actor see this applicant", for every page, API route and file download.

    The applicant themself and staff may; an NGO only while the applicant has an active choice of one of its
    projects (a withdrawn choice no longer counts).
    """
    if applicant is None:
        return False
    return any(can(user, permission, applicant) for permission in (
        P.APPLICANT_VIEW_OWN, P.APPLICANT_VIEW_ALL, P.APPLICANT_VIEW_FOR_OWN_PROJECTS))


def require_applicant_visible(user: User | None, applicant: Any) -> Any:
    """For reads of an applicant: one the actor may not see looks exactly like a missing one."""
    if not may_see_applicant(user, applicant):
        raise NotFound(_("We could not find that."))
    return applicant


def require_visible(user: User | None, permission: Permission | str, obj: Any) -> Any:
    """For reads by id: a row outside the actor's scope looks exactly like a missing one."""
    if obj is None or not can(user, permission, obj):
        raise NotFound(_("We could not find that."))
    return obj


def require_different_person(proposer_id: int | None, actor: User) -> None:
    """Four eyes: whoever proposed a decision (funding, a placement) may not also approve it."""
    if proposer_id is not None and proposer_id == actor.id:
        raise SegregationOfDutiesError(_("A different person must approve what you proposed."))
