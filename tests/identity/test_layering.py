"""Identity sits just above core and below every domain; tenancy reaches the domains only by registration."""

import ast
from pathlib import Path

import pytest

from backend.identity import permissions as authz
from backend.identity import scopes
from backend.identity.models import Role
from tests.accounts.helpers import make_user
from tests.factories import make_organisation

BACKEND = Path(__file__).resolve().parents[2] / "backend"


def _backend_imports(package: str) -> dict[str, set[str]]:
    found = {}
    for path in sorted((BACKEND / package).glob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("backend"):
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names if alias.name.startswith("backend"))
        found[path.name] = names
    return found


def test_identity_imports_only_core_and_itself():
    for name, modules in _backend_imports("identity").items():
        outside = {m for m in modules if not m.startswith(("backend.core", "backend.identity"))}
        assert not outside, f"backend/identity/{name} imports {sorted(outside)}"


def test_core_imports_nothing_above_it():
    for name, modules in _backend_imports("core").items():
        outside = {m for m in modules if not m.startswith("backend.core")}
        assert not outside, f"backend/core/{name} imports {sorted(outside)}"


def test_a_type_no_domain_registered_is_a_clear_error_not_a_quiet_no(session):
    class Unregistered:
        organisation_id = 1

    ngo = make_user(session, Role.NGO, organisation=make_organisation(session))
    with pytest.raises(scopes.ScopeNotRegistered, match="Unregistered"):
        authz.can(ngo, authz.Permission.PROJECT_EDIT_OWN, Unregistered())
