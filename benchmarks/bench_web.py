"""Web latency under load: `internmatch serve --workers 2` on a scratch PostgreSQL database with the full demo
(120 projects, 6,000 applicants), and 50 concurrent signed-in users from this process on 127.0.0.1.

Pages: the public project list, a project page, an applicant's suggestions page (/choices, where
"Suggested for you" lives) and status page; each virtual user is a different demo applicant
(applicant1..applicant50@demo.internmatch.hk) with her own session and keep-alive connection, and goes
round the four pages in turn.

Three phases, each printed as a markdown table (p50/p95/p99 and requests/s per page):
- **paced** (the target's case): each user reads a page before opening the next, pausing 0.5-1.5 s
  (1 s on average; people take longer), as load-testing tools model users (locust's `wait_time`).
  50 such users ask for ~50 pages a second.
- **saturation**: the same 50 users with no pause at all, i.e. 50 requests always in flight. Latency
  then is just queueing (50 / throughput), so this phase measures how many pages a second the two
  workers can serve; it is the headroom over the paced load.
- **against a baseline**: the project list and a project page each alone, saturated, then (same run, same
  database, same 50 users, same uvicorn and worker count) `baseline_app.py`, a minimal FastAPI + Jinja2 page that
  reads one project row. Each page's throughput is reported as a share of the baseline's: what internmatch's own
  work costs, read on a scale that moves with the machine's load.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/bench_web.py [--seconds 30]

The load generator is a small HTTP/1.1 client over asyncio streams (an httpx client cost more CPU per
request than the server did, and it shares the server's 2 cores). Figures are printed, never asserted.
The scratch database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import time
import urllib.request
from urllib.parse import urlencode

from harness import PASSWORD, internmatch, postgres_url, running_server, scratch_database

COMPARED_PAGES = ("project list", "project page")
BASELINE = "baseline (one row, Jinja2)"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


class Browser:
    """One user's keep-alive HTTP/1.1 connection and cookies; just enough HTTP for our own pages."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        reused = self.writer is not None
        try:
            return await self._request(method, path, body)
        except (asyncio.IncompleteReadError, ConnectionResetError) as error:
            # The server closes a keep-alive connection after 5 idle seconds; a browser then simply reconnects.
            if not reused or (isinstance(error, asyncio.IncompleteReadError) and error.partial):
                raise
            await self.close()
            return await self._request(method, path, body)

    async def _request(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Accept-Language: en"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        length, chunked, closing = 0, False, False
        for line in header_lines:
            name, _sep, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value.lower() == "close":
                closing = True
            elif name == "set-cookie":
                key, _eq, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        if chunked:
            parts = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size + 2))
            await self.reader.readline()
            content = b"".join(part[:-2] for part in parts)
        else:
            content = await self.reader.readexactly(length)
        if closing:
            await self.close()
        return status, content

    async def sign_in(self, email: str) -> None:
        _status, page = await self.request("GET", "/sign-in")
        token = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', page).group(1).decode()
        body = urlencode({"email": email, "password": PASSWORD, "csrf_token": token}).encode()
        status, _content = await self.request("POST", "/sign-in", body)
        if status != 303 or "im_session" not in self.cookies:
            raise RuntimeError(f"sign-in failed for {email}: {status}")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def _phase(browsers: list[Browser], pages: dict[str, str], seconds: float, think: tuple[float, float],
                 seed: int) -> tuple[dict, float]:
    timings: dict[str, list[float]] = {name: [] for name in pages}
    errors: dict[str, int] = {name: 0 for name in pages}
    names = list(pages)
    deadline = time.perf_counter() + seconds
    randomness = random.Random(seed)

    async def user(browser: Browser, offset: int):
        k = offset
        if think[1]:  # users arrive spread over one pause, not all in the same instant
            await asyncio.sleep(randomness.uniform(0, think[1]))
        while time.perf_counter() < deadline:
            name = names[k % len(names)]
            k += 1
            t0 = time.perf_counter()
            try:
                status, _content = await browser.request("GET", pages[name])
            except (OSError, asyncio.IncompleteReadError):
                errors[name] += 1
                await browser.close()
                continue
            timings[name].append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors[name] += 1
            if think[1]:
                await asyncio.sleep(randomness.uniform(*think))

    began = time.perf_counter()
    await asyncio.gather(*(user(b, n) for n, b in enumerate(browsers)))
    return {name: (timings[name], errors[name]) for name in pages}, time.perf_counter() - began


async def _load(port: int, users: int, seconds: float, project_id: int, think: tuple[float, float]) -> dict:
    pages = {"project list": "/projects", "project page": f"/projects/{project_id}",
             "suggestions (/choices)": "/choices", "status": "/status"}
    browsers = [Browser(port) for _ in range(users)]
    try:
        # Sign in a few at a time: password hashing is deliberately slow.
        for start in range(0, users, 4):
            await asyncio.gather(*(b.sign_in(f"applicant{n + 1}@demo.internmatch.hk")
                                   for n, b in enumerate(browsers[start:start + 4], start)))
        # Warm up each worker's caches (the suggestion model is fitted once per process).
        for browser in browsers[:8]:
            for path in pages.values():
                await browser.request("GET", path)
        single: dict[str, list[float]] = {name: [] for name in pages}
        for name, path in pages.items():  # unloaded: one user, one request at a time
            for _ in range(30):
                t0 = time.perf_counter()
                await browsers[0].request("GET", path)
                single[name].append((time.perf_counter() - t0) * 1000)
        paced = await _phase(browsers, pages, seconds, think, seed=1)
        saturated = await _phase(browsers, pages, seconds, (0.0, 0.0), seed=2)
        alone = {name: await _phase(browsers, {name: pages[name]}, seconds / 2, (0.0, 0.0), seed=3)
                 for name in COMPARED_PAGES}
    finally:
        await asyncio.gather(*(b.close() for b in browsers))
    return {"single": single, "paced": paced, "saturation": saturated, "alone": alone}


async def _baseline_load(port: int, users: int, seconds: float, project_id: int) -> tuple[dict, float]:
    """The baseline page, saturated by as many (anonymous) users as internmatch's pages were."""
    browsers = [Browser(port) for _ in range(users)]
    try:
        for browser in browsers[:8]:
            await browser.request("GET", f"/baseline/projects/{project_id}")
        return await _phase(browsers, {BASELINE: f"/baseline/projects/{project_id}"}, seconds / 2, (0.0, 0.0),
                            seed=4)
    finally:
        await asyncio.gather(*(b.close() for b in browsers))


def _throughput(phase: tuple[dict, float]) -> float:
    results, duration = phase
    return sum(len(values) for values, _errors in results.values()) / duration


def _ratio_table(alone: dict, baseline: tuple[dict, float], setting: str) -> None:
    floor = _throughput(baseline)
    print(f"\nAgainst a minimal FastAPI + Jinja2 page reading one row: {setting}, each page alone with no pause\n")
    print("| page | requests/s | p50 ms | share of the baseline's throughput |")
    print("|---|---:|---:|---:|")
    for name, phase in [*alone.items(), (BASELINE, baseline)]:
        values = phase[0][name][0]
        print(f"| {name} | {_throughput(phase):.0f} | {_percentile(values, 0.5):.0f} "
              f"| {_throughput(phase) / floor:.2f} |")


def _table(title: str, results: dict, duration: float, single: dict | None = None) -> None:
    print(f"\n{title}, {duration:.0f} s\n")
    print("| page | requests | errors | p50 ms | p95 ms | p99 ms | mean ms | requests/s |"
          + (" unloaded p50 ms |" if single else ""))
    print("|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if single else ""))
    total = 0
    for page, (values, errors) in results.items():
        total += len(values)
        print(f"| {page} | {len(values)} | {errors} | {_percentile(values, 0.5):.0f} "
              f"| {_percentile(values, 0.95):.0f} | {_percentile(values, 0.99):.0f} "
              f"| {statistics.fmean(values) if values else 0:.0f} | {len(values) / duration:.0f} |"
              + (f" {_percentile(single[page], 0.5):.0f} |" if single else ""))
    every = [v for values, _errors in results.values() for v in values]
    print(f"| **all** | {total} | {sum(e for _v, e in results.values())} | {_percentile(every, 0.5):.0f} "
          f"| {_percentile(every, 0.95):.0f} | {_percentile(every, 0.99):.0f} "
          f"| {statistics.fmean(every) if every else 0:.0f} | {total / duration:.0f} |" + (" |" if single else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 1.5), metavar=("MIN", "MAX"),
                        help="seconds a paced user pauses between pages (uniform between MIN and MAX)")
    args = parser.parse_args()
    base = postgres_url("bench_web")
    if base is None:
        return 2
    with scratch_database(base) as (_url, env, _scratch):
        t0 = time.perf_counter()
        internmatch(env, "migrate")
        internmatch(env, "demo")
        print(f"demo data loaded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        with running_server(env, args.workers) as (port, _server):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/projects") as response:  # noqa: S310
                project_id = json.load(response)["results"][0]["id"]
            results = asyncio.run(_load(port, args.users, args.seconds, project_id, tuple(args.think)))
        with running_server(env, args.workers, app="benchmarks.baseline_app:app") as (port, _server):
            baseline = asyncio.run(_baseline_load(port, args.users, args.seconds, project_id))

    setting = (f"`serve --workers {args.workers}`, PostgreSQL, full demo (120 projects, 6,000 applicants), "
               f"{args.users} signed-in users")
    paced, paced_seconds = results["paced"]
    _table(f"Paced: {setting} pausing {args.think[0]:g}-{args.think[1]:g} s between pages", paced, paced_seconds,
           results["single"])
    saturated, saturated_seconds = results["saturation"]
    _table(f"Saturation: {setting} with no pause ({args.users} requests always in flight)", saturated, saturated_seconds)
    _ratio_table(results["alone"], baseline, setting)
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
