"""Tenancy reaches the domains only by registration (the layering itself: tests/platform/test_layering.py)."""

import pytest

from backend.identity import permissions as authz
from backend.identity import scopes
from backend.identity.models import Role
from tests.accounts.helpers import make_user
from tests.factories import make_organisation


def test_a_type_no_domain_registered_is_a_clear_error_not_a_quiet_no(session):
    class Unregistered:
        organisation_id = 1

    ngo = make_user(session, Role.NGO, organisation=make_organisation(session))
    with pytest.raises(scopes.ScopeNotRegistered, match="Unregistered"):
        authz.can(ngo, authz.Permission.PROJECT_EDIT_OWN, Unregistered())
