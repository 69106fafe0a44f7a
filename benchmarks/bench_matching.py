"""Benchmarks for the matching engine; prints markdown tables.

    python benchmarks/bench_matching.py [--scale seed|national|mip|growth|all]

seed:      120 projects (~3,500 places), 10,000 applicants; CLI end to end as a
           subprocess (process start, parsing, matching, writing). Target < 3 s.
national:  2,000 projects (~60,000 places), 100,000 applicants, tight budget and a
           binding Guangdong cap; CLI as a subprocess. Targets < 60 s, < 4 GiB peak
           RSS, gap < 0.5%.
mip:       optimal mode vs one exact HiGHS MIP of the same objective on small instances.
growth:    how the in-process cost grows with size.
origins:   the national instance twice in one run, in-process: as generated (Hong Kong youth only), then with
           a quarter of the applicants from Guangdong, every project admitting both sides and every tenth
           project a thematic cohort with half its places reserved and capped for each side. Target: the
           second within 10% of the first.
policy:    what the first-timer priority costs: 120 projects (~3,500 places), 8,000 applicants who chose
           nothing (all open to other projects, so text fit alone decides), solved under the scheme's
           priority (300), a lighter one (75) and none; places filled, first-timers among those placed,
           placements in the applicant's own field and mean fit. Figures are printed, not asserted.
caps:      stable mode with a binding Guangdong cap and budget, under each cap rule (proportional rationing,
           flexible deferred acceptance), in-process, at seed and national scale: time, places filled,
           Guangdong placed against its cap, budget left.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching import match, verify  # noqa: E402
from matching.synthetic import generate, write_csv  # noqa: E402


def run_cli(n_projects: int, n_applicants: int, *, tight: bool, seed: int = 2025) -> dict:
    with tempfile.TemporaryDirectory() as d:
        projects, applicants, scheme = generate(n_projects, n_applicants, seed=seed, tight=tight)
        paths = write_csv(d, projects, applicants, scheme)
        cmd = [sys.executable, "-m", "matching.cli", "--projects", str(paths["projects"]),
               "--applicants", str(paths["applicants"]), "--scheme", str(paths["scheme"]),
               "--out", f"{d}/placements.csv", "--unplaced", f"{d}/unplaced.csv",
               "--report", f"{d}/report.json", "--quiet"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        start = time.perf_counter()
        child = subprocess.Popen(cmd, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"CLI failed with status {status}")
        report = json.loads(Path(d, "report.json").read_text(encoding="utf-8"))
    return {"wall_s": wall, "peak_rss_mib": usage.ru_maxrss / 1024, "report": report,
            "n_projects": n_projects, "n_applicants": n_applicants}


def cli_table(rows: list[dict]) -> str:
    out = ["| scale | projects | places | applicants | placed | CLI wall (s) | peak RSS (MiB) | "
           "gap | flows | load | text | rules | solve | explain |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows:
        rep, t = r["report"], r["report"]["timings_s"]
        gap = "n/a" if rep["gap"] is None else f"{100 * rep['gap']:.5f}%"
        out.append(f"| {name} | {r['n_projects']:,} | {rep['places_total']:,} | "
                   f"{r['n_applicants']:,} | {rep['placed']:,} | {r['wall_s']:.2f} | "
                   f"{r['peak_rss_mib']:.0f} | {gap} | {rep['solver'].get('flow_solves', '-')} | "
                   f"{t['load']:.2f} | {t['text']:.2f} | {t['rules']:.2f} | {t['solve']:.2f} | "
                   f"{t['explain']:.2f} |")
    return "\n".join(out)


def mip_comparison(sizes=(300, 1000, 2000)) -> str:
    out = ["| applicants | projects | arcs | optimal mode (s) | objective | bound | gap | "
           "HiGHS MIP (s) | MIP objective | MIP status |", "|---|---|---|---|---|---|---|---|---|---|"]
    for n in sizes:
        projects, applicants, scheme = generate(max(4, n // 60), n, seed=n, tight=True)
        t0 = time.perf_counter()
        fast = match(projects, applicants, scheme)
        t1 = time.perf_counter()
        exact = match(projects, applicants, scheme, mode="exact")
        t2 = time.perf_counter()
        assert not verify(fast, projects, applicants, scheme)
        assert not verify(exact, projects, applicants, scheme)
        f, e = fast.report, exact.report
        out.append(f"| {n:,} | {len(projects)} | {f['arcs']:,} | {t1 - t0:.2f} | {f['objective']:,} | "
                   f"{f['bound']:,.1f} | {100 * f['gap']:.4f}% | {t2 - t1:.2f} | "
                   f"{e['objective']:,.0f} | {e['solver']['status']} |")
    return "\n".join(out)


def growth(sizes=(10_000, 25_000, 50_000)) -> str:
    out = ["| applicants | projects | arcs | total (s) | text | rules | solve | explain | flows | gap |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for n in sizes:
        projects, applicants, scheme = generate(n // 50, n, seed=3, tight=True)
        result = match(projects, applicants, scheme)
        r, t = result.report, result.report["timings_s"]
        out.append(f"| {n:,} | {len(projects):,} | {r['arcs']:,} | {t['total']:.2f} | {t['text']:.2f} | "
                   f"{t['rules']:.2f} | {t['solve']:.2f} | {t['explain']:.2f} | "
                   f"{r['solver'].get('flow_solves', '-')} | {100 * r['gap']:.5f}% |")
    return "\n".join(out)


def with_two_origins(projects, applicants, scheme):
    """The same market, with both sides: every fourth applicant from Guangdong, every project admitting both,
    every tenth a mixed cohort (half its places for each side, at least and at most)."""
    from dataclasses import replace

    from matching import GUANGDONG, HONG_KONG
    mixed = []
    for k, project in enumerate(projects):
        seats = {}
        if k % 10 == 0 and project.places >= 2:
            half = project.places // 2
            seats = {HONG_KONG: (half, project.places - half), GUANGDONG: (project.places - half, project.places - half)}
        mixed.append(replace(project, origins=(HONG_KONG, GUANGDONG), origin_seats=seats))
    people = [replace(a, origin=GUANGDONG) if k % 4 == 0 else a for k, a in enumerate(applicants)]
    return mixed, people, scheme


def origins_comparison(n_projects: int = 2000, n_applicants: int = 100_000) -> str:
    projects, applicants, scheme = generate(n_projects, n_applicants, seed=2025, tight=True)
    out = ["| market | cohorts with seats per side | total (s) | solve (s) | placed | gap | violations |",
           "|---|---|---|---|---|---|---|"]
    times = []
    for name, (ps, aps, sc) in (("Hong Kong only", (projects, applicants, scheme)),
                                ("both sides", with_two_origins(projects, applicants, scheme))):
        start = time.perf_counter()
        result = match(ps, aps, sc)
        wall = time.perf_counter() - start
        times.append(wall)
        r = result.report
        cohorts = sum(1 for p in ps if p.origin_seats)
        out.append(f"| {name} | {cohorts:,} | {wall:.2f} | {r['timings_s']['solve']:.2f} | {r['placed']:,} | "
                   f"{100 * r['gap']:.5f}% | {len(verify(result, ps, aps, sc))} |")
    out.append(f"\nboth sides / Hong Kong only: {times[1] / times[0]:.2f}x (load average {os.getloadavg()[0]:.1f})")
    return "\n".join(out)


def policy_tradeoff(n_projects: int = 120, n_applicants: int = 8000) -> str:
    from dataclasses import replace

    from matching import Policy, tradeoff
    projects, applicants, scheme = generate(n_projects, n_applicants, seed=2025)
    # Nobody chose: every applicant is open to other projects, so the matcher proposes by text fit alone.
    applicants = [replace(a, choices=(), open_to_other=True) for a in applicants]
    policies = {"scheme (300)": Policy(), f"lighter ({tradeoff.LIGHTER_PRIORITY})":
                Policy(first_timer_priority=tradeoff.LIGHTER_PRIORITY), "off (0)": Policy(first_timer_priority=0)}
    start = time.perf_counter()
    outcomes = tradeoff.compare(projects, applicants, scheme, policies)
    wall = time.perf_counter() - start
    first = outcomes[0].first_timers
    out = [f"{len(applicants):,} applicants ({first:,} first-timers), {sum(p.places for p in projects):,} places",
           "", "| first-timer priority | placed | first-timers among placed | in own field | mean fit |",
           "|---|---|---|---|---|"]
    for o in outcomes:
        out.append(f"| {o.label} | {o.placed:,} | {o.first_timers_placed:,} ({100 * o.first_timer_share:.1f}%) | "
                   f"{o.own_field:,} ({100 * o.own_field_share:.1f}%) | {o.mean_fit:.3f} |")
    out.append(f"\nprepare once + {len(policies)} optimal solves: {wall:.2f} s "
               f"(load average {os.getloadavg()[0]:.1f})")
    return "\n".join(out)


def cap_rules(sizes=((120, 10_000), (2000, 100_000))) -> str:
    lines = ["| applicants | projects | cap rule | stable match (s) | placed | Guangdong placed / cap | budget left (HK$) |",
             "|---|---|---|---|---|---|---|"]
    for n_projects, n_applicants in sizes:
        projects, applicants, scheme = generate(n_projects, n_applicants, tight=True)
        for rule in ("proportional", "flexible"):
            started = time.perf_counter()
            result = match(projects, applicants, dataclasses.replace(scheme, cap_rule=rule), mode="stable")
            seconds = time.perf_counter() - started
            gd = result.report["regions"].get("Guangdong", {})
            lines.append(f"| {n_applicants:,} | {n_projects:,} | {rule} | {seconds:.2f} | {result.report['placed']:,} | "
                         f"{gd.get('placed'):,} / {gd.get('cap'):,} | {result.report['budget_left_hkd']:,} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=("seed", "national", "mip", "growth", "origins", "policy", "caps", "all"), default="seed")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}\n")
    rows = []
    if args.scale in ("seed", "all"):
        rows.append(("seed", run_cli(120, 10_000, tight=False)))
    if args.scale in ("national", "all"):
        rows.append(("national (tight)", run_cli(2000, 100_000, tight=True)))
    if rows:
        print(cli_table(rows) + "\n")
        for name, r in rows:
            regions = r["report"]["regions"]
            gd = regions.get("Guangdong", {})
            print(f"{name}: budget used HK${r['report']['budget_used_hkd']:,} of "
                  f"HK${r['report']['budget_hkd']:,}; Guangdong {gd.get('placed')} placed, "
                  f"cap {gd.get('cap')}")
        print()
    if args.scale in ("mip", "all"):
        print(mip_comparison() + "\n")
    if args.scale in ("growth", "all"):
        print(growth() + "\n")
    if args.scale in ("origins", "all"):
        print(origins_comparison() + "\n")
    if args.scale in ("policy", "all"):
        print(policy_tradeoff() + "\n")
    if args.scale in ("caps", "all"):
        print(cap_rules() + "\n")
    print(f"(peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
