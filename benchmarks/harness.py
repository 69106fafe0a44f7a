"""What the benchmarks that drive the real app share: a scratch PostgreSQL database and a running `serve`.

Imported by the benchmark scripts (`python benchmarks/bench_web.py` puts this folder on the path).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "internmatch-demo-2026"  # noqa: S105 - the published demo password

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def postgres_url(script: str) -> str | None:
    """DATABASE_URL (PostgreSQL's local default if unset); None, with a message, when it is not PostgreSQL."""
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    if not base.startswith("postgres"):
        print(f"{script} needs a PostgreSQL DATABASE_URL", file=sys.stderr)
        return None
    return base


def machine_yardstick() -> str:
    """How fast this machine runs plain Python right now: the figures of two runs on different machines (or the
    same one under load) compare only after this. One million-step loop, the best of three."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return f"a million-step Python loop takes {1000 * best:.0f} ms here"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def high_water_mib(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@contextmanager
def scratch_database(base: str) -> Iterator[tuple[str, dict, Path]]:
    """A new, empty database beside `base` and the environment for internmatch commands using it.

    Yields (its URL, the environment, a scratch folder for uploads, mail and logs); all are removed afterwards.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from backend.core.db import normalise_url

    name = f"internmatch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(base)).set(database=name).render_as_string(hide_password=False)
    scratch = Path(tempfile.mkdtemp(prefix=name))
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "development", "PYTHONPATH": str(ROOT),
           "UPLOAD_DIR": str(scratch / "uploads"), "MAIL_FOLDER": str(scratch / "mail")}
    try:
        yield url, env, scratch
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(scratch, ignore_errors=True)


def internmatch(env: dict, *args: str) -> None:
    """Run an `internmatch` command to completion (its output is kept only if it fails)."""
    done = subprocess.run([sys.executable, "-m", "backend.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"internmatch {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def running_server(env: dict, workers: int, *, app: str | None = None) -> Iterator[tuple[int, subprocess.Popen]]:
    """`internmatch serve --workers N` (or uvicorn serving another `app`, e.g. the web benchmark's baseline)
    on a free local port, once it answers; stopped afterwards."""
    port = free_port()
    address = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    command = ([sys.executable, "-m", "uvicorn", app, *address] if app else
               [sys.executable, "-m", "backend.cli", "serve", *address, "--no-migrate"])
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):  # noqa: S310
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("internmatch did not start") from None
                time.sleep(0.3)
        yield port, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
