"""Web latency under load: `internmatch serve --workers 2` on a scratch PostgreSQL database with the full demo
(120 projects, 6,000 applicants), and 50 concurrent signed-in users from this process on 127.0.0.1 for ~30 s.

Pages: the public project list, a project page, an applicant's suggestions page (/choices, where
"Suggested for you" lives) and status page; each virtual user is a different demo applicant
(applicant1..applicant50@demo.internmatch.hk). Prints p50/p95/p99 and requests/s per page as a markdown table.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/bench_web.py [--seconds 30]

Figures are printed, never asserted. The scratch database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "internmatch-demo-2026"  # noqa: S105 - the published demo password


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin(url: str):
    from sqlalchemy import create_engine

    from backend.core.db import normalise_url

    return create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")


def _scratch_url(base: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    from backend.core.db import normalise_url

    return make_url(normalise_url(base)).set(database=name).render_as_string(hide_password=False)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


async def _sign_in(client, email: str) -> None:
    page = await client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
    response = await client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed for {email}: {response.status_code}")


async def _load(base_url: str, users: int, seconds: float, project_id: int) -> tuple[dict, float]:
    import httpx

    pages = {"project list": "/projects", "project page": f"/projects/{project_id}",
             "suggestions (/choices)": "/choices", "status": "/status"}
    timings: dict[str, list[float]] = {name: [] for name in pages}
    errors: dict[str, int] = {name: 0 for name in pages}
    single: dict[str, list[float]] = {name: [] for name in pages}
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    clients = [httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) for _ in range(users)]
    try:
        # Sign in a few at a time: password hashing is deliberately slow.
        for start in range(0, users, 10):
            await asyncio.gather(*(_sign_in(c, f"applicant{n + 1}@demo.internmatch.hk")
                                   for n, c in enumerate(clients[start:start + 10], start)))
        # Warm up each worker's caches (the suggestion model is fitted once per process).
        for client in clients[:8]:
            for path in pages.values():
                await client.get(path)
        # Unloaded latency: one user, one request at a time.
        for name, path in pages.items():
            for _ in range(20):
                t0 = time.perf_counter()
                await clients[0].get(path)
                single[name].append((time.perf_counter() - t0) * 1000)
        deadline = time.perf_counter() + seconds
        began = time.perf_counter()

        async def user(client, offset: int):
            names = list(pages)
            k = offset
            while time.perf_counter() < deadline:
                name = names[k % len(names)]
                k += 1
                t0 = time.perf_counter()
                try:
                    response = await client.get(pages[name])
                except httpx.TransportError:  # e.g. a keep-alive connection the server had just closed
                    errors[name] += 1
                    continue
                elapsed = time.perf_counter() - t0
                if response.status_code != 200:
                    errors[name] += 1
                timings[name].append(elapsed * 1000)

        await asyncio.gather(*(user(c, n) for n, c in enumerate(clients)))
        duration = time.perf_counter() - began
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return {name: (timings[name], errors[name], single[name]) for name in pages}, duration


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    if not base.startswith("postgres"):
        print("bench_web needs a PostgreSQL DATABASE_URL", file=sys.stderr)
        return 2
    name = f"internmatch_bench_{uuid.uuid4().hex[:8]}"
    from sqlalchemy import text

    engine = _admin(base)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _scratch_url(base, name)
    scratch = Path(tempfile.mkdtemp(prefix=name))
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "development",
           "UPLOAD_DIR": str(scratch / "uploads"), "MAIL_FOLDER": str(scratch / "mail")}
    port = _free_port()
    server = None
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "backend.cli", "demo"], env=env, cwd=ROOT, check=True,
                       capture_output=True)
        print(f"demo data loaded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        server = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port",
                                   str(port), "--workers", str(args.workers), "--no-migrate", "--log-level",
                                   "warning"], env=env, cwd=ROOT)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base_url + "/api/v1/health", timeout=2):  # noqa: S310 - localhost
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("internmatch did not start") from None
                time.sleep(0.3)
        import json

        with urllib.request.urlopen(base_url + "/api/v1/projects") as response:  # noqa: S310 - localhost
            listing = json.load(response)
        project_id = listing["results"][0]["id"]
        results, duration = asyncio.run(_load(base_url, args.users, args.seconds, project_id))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    print(f"\n{args.users} concurrent users, {duration:.0f} s, `serve --workers {args.workers}`, PostgreSQL, "
          f"full demo (120 projects, 6,000 applicants)\n")
    print("| page | requests | errors | p50 ms | p95 ms | p99 ms | mean ms | requests/s | unloaded p50 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    total = 0
    for page, (values, errors, single) in results.items():
        total += len(values)
        print(f"| {page} | {len(values)} | {errors} | {_percentile(values, 0.5):.0f} | {_percentile(values, 0.95):.0f} "
              f"| {_percentile(values, 0.99):.0f} | {statistics.fmean(values) if values else 0:.0f} "
              f"| {len(values) / duration:.0f} | {_percentile(single, 0.5):.0f} |")
    print(f"| **all** | {total} | | | | | | {total / duration:.0f} | |")
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
