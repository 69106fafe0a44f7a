"""Questions about a user's role, answered in one place so no domain compares roles itself.

What a role may do belongs in the permission table (backend.identity.permissions); these helpers are for
the few places that need to know what kind of account someone has rather than whether they may act.
"""

from __future__ import annotations

from backend.identity.models import ADMIN_MADE_ROLES, STAFF_ROLES, Role, User


def is_staff(user: User | None) -> bool:
    """Officers, approvers and admins: the scheme's own people, who see every organisation's rows."""
    return user is not None and user.role in STAFF_ROLES


def acts_for_an_organisation(user: User | None) -> bool:
    """An NGO or host organisation account, which acts for (at most) one organisation and sees only that
    organisation's rows."""
    return user is not None and user.role in (Role.NGO, Role.HOST)


def is_staff_role(role: str) -> bool:
    """Whether a role, as given when creating an account, is one of the staff roles."""
    return role in {r.value for r in STAFF_ROLES}


def is_guangdong_office(user: User | None) -> bool:
    """The Guangdong coordinating office: a partner that sees only the Guangdong side's applicants and cohorts."""
    return user is not None and user.role == Role.GUANGDONG_OFFICE


def is_admin_made_role(role: str) -> bool:
    """Whether a role, as given when an admin creates an account, is staff or a partner office."""
    return role in {r.value for r in ADMIN_MADE_ROLES}


def is_admin_made(user: User | None) -> bool:
    """Staff and partner offices: accounts an admin made, that see other people's data, so they need a
    second factor."""
    return user is not None and user.role in ADMIN_MADE_ROLES
