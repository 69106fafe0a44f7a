#!/usr/bin/env python3
"""Set-up and run tasks that need nothing but Python 3.11+: `python3 dev.py run` / `python3 dev.py test`.

Each task makes (or refreshes) the local virtual environment in .venv first, so a fresh clone just works.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def _stamp(extras: str) -> Path:
    return VENV / f".installed-{extras or 'base'}"


def ensure_environment(extras: str = "") -> None:
    if sys.version_info < (3, 11):
        sys.exit("internmatch needs Python 3.11 or newer.")
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = _stamp(extras)
    if stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extras}]" if extras else "."
    print(f"Installing internmatch{'[' + extras + ']' if extras else ''} and its dependencies ...", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", target], check=True, cwd=ROOT)
    stamp.write_text(digest)


def run_platform(args: list[str]) -> int:
    ensure_environment()
    internmatch = str(BIN / "internmatch")
    subprocess.run([internmatch, "demo", "--if-empty"], check=True, cwd=ROOT)
    return subprocess.call([internmatch, "serve", *args], cwd=ROOT)


# pytest, then straight out once it has reported: after a full suite, the interpreter's own teardown spent
# minutes collecting the objects the tests left behind (several GiB) before the exit code reached CI.
PYTEST_THEN_EXIT = ("import os, sys, pytest; code = int(pytest.main(sys.argv[1:])); "
                    "sys.stdout.flush(); sys.stderr.flush(); os._exit(code)")


# Each test worker has its own database (tests/conftest.py), so the suite runs on every core: on the 2-core CI
# machine the SQLite run took 19 minutes on two workers against 28 in one process. Past four workers the
# browser tests (a server and a Chromium each) start to crowd the machine.
MOST_TEST_WORKERS = 4


def _parallel(args: list[str]) -> list[str]:
    """The pytest options, with one worker per core unless the caller chose (-n, or -p no:xdist)."""
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) or a.endswith("no:xdist") for a in args)
    workers = min(os.cpu_count() or 1, MOST_TEST_WORKERS)
    return args if chosen or workers < 2 else ["-n", str(workers), *args]


def run_tests(args: list[str]) -> int:
    ensure_environment("dev")
    lint = subprocess.call([str(BIN / "ruff"), "check", "backend", "matching", "frontend", "tests",
                            "benchmarks", "alembic/env.py", "dev.py"], cwd=ROOT)
    if lint != 0:
        print("ruff found problems (above).", file=sys.stderr)
        return lint
    layering = subprocess.call([str(BIN / "lint-imports"), "--no-cache"], cwd=ROOT)
    if layering != 0:
        print("An import breaks the layering contracts in pyproject.toml (above).", file=sys.stderr)
        return layering
    code = subprocess.call([str(PYTHON), "-c", PYTEST_THEN_EXIT, *_parallel(args)], cwd=ROOT)
    if code == 5:
        print("pytest collected no tests: that is a failure, not a pass.", file=sys.stderr)
        return 1
    return code


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test", "setup"}:
        print(__doc__)
        print("usage: python3 dev.py run [serve options] | test [pytest options] | setup")
        return 2
    task, rest = sys.argv[1], sys.argv[2:]
    if task == "setup":
        ensure_environment("dev")
        return 0
    return run_platform(rest) if task == "run" else run_tests(rest)


if __name__ == "__main__":
    sys.exit(main())
