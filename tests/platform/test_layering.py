"""The layering is a build rule: import contracts (pyproject's [tool.importlinter]) hold for the real tree,
and each one fails when a copy of the tree is given the import it forbids."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {BIN}: `python3 dev.py test` installs the dev extras")
    return str(path)


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool("lint-imports"), "--no-cache", str(tree / "pyproject.toml")],
                          cwd=tree, capture_output=True, text=True, timeout=300)


def test_the_real_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    for package in ("backend", "matching"):
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_an_unchanged_copy_keeps_every_contract(tree_copy):
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout


BREAKAGES = {
    "matching imports the backend": ("matching/rules.py", "import backend.core.db", "pure-matching"),
    "matching imports a database library": ("matching/rules.py", "import sqlalchemy", "pure-matching"),
    "core imports a domain": ("backend/core/db.py", "import backend.projects.models", "core-is-plumbing"),
    "core imports identity": ("backend/core/forms.py", "import backend.identity.models", "core-is-plumbing"),
    "identity imports a domain": ("backend/identity/permissions.py", "import backend.applicants.models",
                                  "layers"),
    "a domain imports the app": ("backend/projects/lifecycle.py", "import backend.app", "layers"),
    "the adapter imports a domain service": ("backend/market/inputs.py", "import backend.projects.lifecycle",
                                             "layers"),
    "a table module imports a service": ("backend/projects/models.py", "import backend.schemes.service",
                                         "models-are-tables"),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES), ids=list(BREAKAGES))
def test_each_forbidden_import_breaks_the_build(tree_copy, breakage):
    relative, statement, contract = BREAKAGES[breakage]
    target = tree_copy / relative
    original = target.read_text()
    try:
        # At the end of the module, after its docstring and imports: an import is an import wherever it sits.
        target.write_text(original + f"\n{statement}  # noqa\n")
        result = lint_imports(tree_copy)
    finally:
        target.write_text(original)
    assert result.returncode != 0, f"{breakage!r} was not caught:\n{result.stdout}"
    assert "BROKEN" in result.stdout
    names = {line.split(" BROKEN")[0].strip() for line in result.stdout.splitlines() if line.endswith("BROKEN")
             or " BROKEN (" in line}
    assert names, result.stdout
    expected_name = _contract_name(contract)
    assert any(name == expected_name for name in names), (expected_name, names)


def _contract_name(contract_id: str) -> str:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return next(c["name"] for c in config["tool"]["importlinter"]["contracts"] if c["id"] == contract_id)


INNER_IMPORT = 'def read():\n    from backend.core import db\n\n    return db\n'


@pytest.mark.parametrize("path", ["backend/projects/new_module.py", "matching/new_module.py"])
def test_an_import_inside_a_function_fails_the_lint(path):
    result = subprocess.run([_tool("ruff"), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
                             "--stdin-filename", path, "-"], input=INNER_IMPORT, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "PLC0415" in result.stdout, result.stdout


def test_a_heavy_library_may_stay_inside_when_marked():
    marked = 'def read():\n    import pypdf  # noqa: PLC0415 - only when a CV is uploaded\n\n    return pypdf\n'
    result = subprocess.run([_tool("ruff"), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
                             "--stdin-filename", "backend/applicants/new_module.py", "-"], input=marked,
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
