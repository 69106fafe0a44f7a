"""A real internmatch process on a free local port, on its own scratch database, for HTTP and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import create_scratch_database, drop_scratch_database

ROOT = Path(__file__).resolve().parents[1]
INTERNMATCH = [sys.executable, "-m", "backend.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(*, demo_projects: int = 12, demo_applicants: int = 150) -> Iterator[str]:
    """The address of a running internmatch with the demo data."""
    with live_deployment(demo_projects=demo_projects, demo_applicants=demo_applicants) as (base_url, _database):
        yield base_url


@contextmanager
def live_deployment(*, demo_projects: int = 12, demo_applicants: int = 150) -> Iterator[tuple[str, str]]:
    """A running internmatch with the demo data: (its address, its database URL, for setting up a scene)."""
    name = f"internmatch_live_{uuid.uuid4().hex[:8]}"
    url = create_scratch_database(name)
    # The worker runs in the server process on either database, so rounds started in browser tests finish.
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "development", "RUN_WORKER_IN_PROCESS": "true"}
    port = free_port()
    process = None
    try:
        subprocess.run([*INTERNMATCH, "demo", "--projects", str(demo_projects), "--applicants",
                        str(demo_applicants)], env=env, cwd=ROOT, check=True, capture_output=True)
        process = subprocess.Popen([*INTERNMATCH, "serve", "--port", str(port), "--no-migrate",
                                    "--log-level", "warning"], env=env, cwd=ROOT)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base_url + "/api/v1/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("internmatch did not start") from None
                time.sleep(0.2)
        yield base_url, url
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        drop_scratch_database(name)
