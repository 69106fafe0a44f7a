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
library:   stable mode against the `matching` library's HospitalResident (PyPI `matching`, by daffidwilde) on the
           same hospital-resident market, in one run, at 10,000 x 120 and 2,000 x 100,000: the market as generated
           with no budget, no regional cap and no seats per origin, each applicant's list and each project's
           order being exactly the ones our stable mode computes (`engine.stable_inputs`). Times: our whole
           `match(..., mode="stable")`, our deferred acceptance alone on those lists, and the library's
           `create_from_dictionaries` + `solve(optimal="resident")`; the applicant-optimal stable matching is
           unique, so the two answers must agree exactly ("same answer"). Targets (issue #18): the library's
           time over our whole match() >= 10x at national scale, >= 3x at 10,000 x 120. The library's import
           name is also `matching`, so it is installed out of the way and run in its own interpreter:
               .venv/bin/pip install --target .bench-lib matching
           Without it our times are printed and the comparison is skipped. The national library run takes
           about 8 minutes (its recursion limit is raised: it deep-copies its players).
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching import match, stable, verify  # noqa: E402
from matching.engine import prepare, project_priorities, stable_inputs  # noqa: E402
from matching.synthetic import generate, write_csv  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from harness import machine_yardstick  # noqa: E402

LIBRARY_DIR = ROOT / ".bench-lib"
# The library's side, run by `python -I -S` from a scratch folder: its sys.path is that folder, the standard
# library and then .bench-lib, so `import matching` there is the PyPI library and never this repository's package.
LIBRARY_SCRIPT = """
import json, sys, threading, time, warnings
library, market_path, out_path = sys.argv[1:4]
sys.path.insert(0, library)
import matching
from matching.games import HospitalResident
outcome = {}

def run():
    with open(market_path) as f:
        market = json.load(f)
    residents = dict(enumerate(market["residents"]))
    hospitals = dict(enumerate(market["hospitals"]))
    capacities = dict(enumerate(market["capacities"]))
    # The game deep-copies its players, whose preference lists point at each other: deep recursion.
    sys.setrecursionlimit(10_000_000)
    warnings.simplefilter("ignore")  # it warns about every project nobody ranks
    t0, c0 = time.perf_counter(), time.thread_time()
    game = HospitalResident.create_from_dictionaries(residents, hospitals, capacities)
    t1, c1 = time.perf_counter(), time.thread_time()
    found = game.solve(optimal="resident")
    t2, c2 = time.perf_counter(), time.thread_time()
    chosen = [-1] * len(residents)
    for hospital, held in found.items():
        for resident in held:
            chosen[resident.name] = hospital.name
    outcome.update(create_s=t1 - t0, solve_s=t2 - t1, solve_cpu_s=c2 - c1, chosen=chosen, module=matching.__file__)

threading.stack_size(1 << 29)  # the recursion needs a deeper C stack than the main thread's
worker = threading.Thread(target=run)
worker.start()
worker.join()
if not outcome:
    sys.exit("the library's run failed")
with open(out_path, "w") as f:
    json.dump(outcome, f)
"""


def run_cli(n_projects: int, n_applicants: int, *, tight: bool, seed: int = 2025,
            against: str | None = None) -> list[dict]:
    """The CLI on one generated market: our tree, and with `against` (a git revision) that revision's `matching`
    too, on the same CSV files, one after the other."""
    with tempfile.TemporaryDirectory() as d:
        projects, applicants, scheme = generate(n_projects, n_applicants, seed=seed, tight=tight)
        paths = write_csv(d, projects, applicants, scheme)
        trees = [("", ROOT)]
        if against:
            old = Path(d, "against")
            old.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", against, "matching"], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            trees.append((f" at {against}", old))
        rows = []
        for label, tree in trees:
            cmd = [sys.executable, "-m", "matching.cli", "--projects", str(paths["projects"]),
                   "--applicants", str(paths["applicants"]), "--scheme", str(paths["scheme"]),
                   "--out", f"{d}/placements.csv", "--unplaced", f"{d}/unplaced.csv",
                   "--report", f"{d}/report.json", "--quiet"]
            env = {**os.environ, "PYTHONPATH": str(tree)}
            start = time.perf_counter()
            child = subprocess.Popen(cmd, env=env, cwd=d)
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            if status != 0:
                raise SystemExit(f"CLI{label} failed with status {status}")
            report = json.loads(Path(d, "report.json").read_text(encoding="utf-8"))
            rows.append({"label": label, "wall_s": wall, "peak_rss_mib": usage.ru_maxrss / 1024, "report": report,
                         "n_projects": n_projects, "n_applicants": n_applicants})
    return rows


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


def load_average() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def hr_market(n_projects: int, n_applicants: int):
    """A generated market our stable mode solves as a plain hospital-resident market: the budget pays for every
    place and no region is capped (generate() adds no seats per origin)."""
    projects, applicants, scheme = generate(n_projects, n_applicants, seed=2025)
    scheme = dataclasses.replace(scheme, budget_hkd=sum(p.places * p.subsidy_per_place for p in projects),
                                 region_caps={})
    return projects, applicants, scheme


def run_library(market: dict) -> dict:
    """The library's answer (project per resident) and times, from its own interpreter."""
    with tempfile.TemporaryDirectory() as d:
        Path(d, "market.json").write_text(json.dumps(market), encoding="utf-8")
        Path(d, "hr.py").write_text(LIBRARY_SCRIPT, encoding="utf-8")
        done = subprocess.run([sys.executable, "-I", "-S", "hr.py", str(LIBRARY_DIR), "market.json", "out.json"],
                              cwd=d, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the library's run failed:\n{done.stderr[-2000:]}")
        out = json.loads(Path(d, "out.json").read_text(encoding="utf-8"))
    if not out["module"].startswith(str(LIBRARY_DIR)):
        raise SystemExit(f"imported {out['module']}, not the library in {LIBRARY_DIR}")
    return out


def library_comparison(sizes=((120, 10_000), (2000, 100_000))) -> str:
    """Prints the table row by row (the national library run takes minutes); returns the note under it."""
    installed = (LIBRARY_DIR / "matching" / "games").is_dir()
    if not installed:
        print(f"The matching library is not installed in {LIBRARY_DIR}: only our times are shown. Install it with\n"
              f"    .venv/bin/pip install --target {LIBRARY_DIR} matching\n")
    lines = ["| applicants | projects | arcs | our match() (s) | our DA (s) | library create (s) | library solve (s) | "
             "library solve / our match() | library create + solve / our match() | library solve / our DA | "
             "CPU: our match() / library solve (s) | same answer | load average |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for n_projects, n_applicants in sizes:
        projects, applicants, scheme = hr_market(n_projects, n_applicants)
        load_before = load_average()
        started, cpu = time.perf_counter(), time.process_time()
        result = match(projects, applicants, scheme, mode="stable")
        match_s, match_cpu = time.perf_counter() - started, time.process_time() - cpu
        # The same lists match() solved, prepared again outside the clock.
        problem = prepare(projects, applicants, scheme)
        active, prefs, seats = stable_inputs(problem, project_priorities(problem, None))
        if len(seats.group_proj):
            raise SystemExit("seats per origin: not a hospital-resident market")
        started = time.perf_counter()
        chosen = stable.deferred_acceptance(prefs, problem.places_left)
        da_s = time.perf_counter() - started
        ours = np.where(chosen >= 0, prefs.arc_proj[np.maximum(chosen, 0)], -1)
        # Sanity: deferred acceptance on these lists is what match() placed.
        pid = {p.id: j for j, p in enumerate(projects)}
        placed = {pl.applicant_id: pid[pl.project_id] for pl in result.placements}
        whole = np.array([placed.get(applicants[i].id, -1) for i in active.tolist()])
        if not np.array_equal(whole, ours):
            raise SystemExit("match() and deferred acceptance on its prepared lists disagree")
        row = (f"| {n_applicants:,} | {n_projects:,} | {len(prefs.arc_app):,} | {match_s:.2f} | {da_s:.3f} | ")
        if not installed:
            print(row + f"- | - | - | - | - | {match_cpu:.2f} / - | - | {load_before} |", flush=True)
            continue
        # The library's lists: each applicant's projects best first (arcs are grouped by applicant in her
        # order), each project's applicants in its order, capacities = places.
        by_project = np.lexsort((prefs.priority, prefs.arc_proj))
        cut = np.searchsorted(prefs.arc_proj[by_project], np.arange(len(projects) + 1))
        app_of = prefs.arc_app[by_project]
        market = {"residents": [prefs.arc_proj[prefs.start[a]:prefs.start[a + 1]].tolist()
                                for a in range(prefs.n_applicants)],
                  "hospitals": [app_of[cut[p]:cut[p + 1]].tolist() for p in range(len(projects))],
                  "capacities": problem.places_left.tolist()}
        lib = run_library(market)
        lib_s = lib["create_s"] + lib["solve_s"]
        same = "yes" if lib["chosen"] == ours.tolist() else "no"
        print(row + f"{lib['create_s']:.1f} | {lib['solve_s']:.1f} | {lib['solve_s'] / match_s:.1f}x | "
                           f"{lib_s / match_s:.1f}x | {lib['solve_s'] / da_s:.0f}x | {match_cpu:.2f} / "
                           f"{lib['solve_cpu_s']:.1f} ({lib['solve_cpu_s'] / match_cpu:.1f}x) | {same} | "
                           f"{load_before} → {load_average()} |", flush=True)
    return ("\nThe targets are read on \"library solve / our match()\": the library's "
                                "solve(optimal=\"resident\") alone against our whole match(mode=\"stable\") (text fit, "
                                "rules, both sides' orders, deferred acceptance, explanations, blocking-pair check). "
                                "Building the library's game (create_from_dictionaries, a deep copy of every player) "
                                "is shown apart. Times are wall clock; on a shared machine the CPU seconds of "
                                "each side (our process, the library's solving thread) move less with the load. "
                                "Load average: 1 / 5 / 15 minutes before → after the row.")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=("seed", "national", "mip", "growth", "origins", "policy", "caps", "library", "all"),
                        default="seed")
    parser.add_argument("--against", metavar="REV", help="seed and national CLI rows: also run this git revision's "
                        "matching package on the same files (e.g. the commit before an optimisation), one after ours")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; {machine_yardstick()}\n")
    rows = []
    if args.scale in ("seed", "all"):
        rows += [("seed" + r["label"], r) for r in run_cli(120, 10_000, tight=False, against=args.against)]
    if args.scale in ("national", "all"):
        rows += [("national (tight)" + r["label"], r)
                 for r in run_cli(2000, 100_000, tight=True, against=args.against)]
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
    if args.scale in ("library", "all"):
        print(library_comparison() + "\n")
    print(f"(peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
