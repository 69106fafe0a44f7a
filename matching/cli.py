"""``match`` command line: read interchange files, match, write results atomically.

Exit codes: 0 success, 2 invalid input (every row error is printed with file,
line and column), 1 unexpected failure. Warnings (such as a choice of an unknown
project, which is ignored) do not stop the run, but are printed the same way, so
a console that says "placed 0 of 1" also says why. Outputs are written to temporary files
next to their destination and moved into place only when all are complete.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from . import io
from .model import POLICY_BOUNDS, Policy

MAX_PRINTED_ERRORS = 50


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="match", description="Match applicants to internship places.")
    p.add_argument("--projects", required=True, help="projects.csv")
    p.add_argument("--applicants", required=True, help="applicants.csv")
    p.add_argument("--scheme", required=True, help="scheme.json (budget and regional caps)")
    p.add_argument("--rankings", help="rankings.csv: project_id,applicant_id,rank (stable mode)")
    p.add_argument("--mode", choices=("optimal", "stable"), default="optimal")
    p.add_argument("--out", required=True, help="placements.csv to write")
    p.add_argument("--unplaced", help="unplaced.csv to write")
    p.add_argument("--report", help="report.json to write")
    p.add_argument("--seed", type=int, default=None, help="tie-break seed (stable mode)")
    p.add_argument("--top-k", type=int, default=None,
                   help="projects suggested per open-to-other applicant")
    defaults = Policy()
    p.add_argument("--first-timer-priority", type=_bounded("first_timer_priority"),
                   default=defaults.first_timer_priority,
                   help="objective units added to a first-time participant's placement (a score point is 10; "
                        "%(default)s by default, 0 to treat everyone alike)")
    p.add_argument("--choice-weight", type=_bounded("choice_weight"), default=defaults.choice_weight,
                   help="percent of the choice-rank points (%(default)s by default)")
    p.add_argument("--fit-weight", type=_bounded("fit_weight"), default=defaults.fit_weight,
                   help="score points for a perfect text fit (%(default)s by default)")
    p.add_argument("--quiet", action="store_true")
    return p


def _bounded(name: str):
    """An argparse type: a whole number within the policy weight's bounds (exit 2 with the range otherwise)."""
    low, high = POLICY_BOUNDS[name]

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low} to {high}")
        return value

    parse.__name__ = name
    return parse


def _print_rows(rows: list[io.RowError], what: str, prefix: str = "") -> None:
    for row in rows[:MAX_PRINTED_ERRORS]:
        print(f"{prefix}{row}", file=sys.stderr)
    if len(rows) > MAX_PRINTED_ERRORS:
        print(f"... and {len(rows) - MAX_PRINTED_ERRORS} more {what}", file=sys.stderr)


def write_atomically(outputs: dict[str, str]) -> None:
    """Write all files or none: temp files in the same directory, then os.replace."""
    temps: list[tuple[str, str]] = []
    try:
        for path, text in outputs.items():
            directory = os.path.dirname(os.path.abspath(path))
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
            temps.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        projects, applicants, scheme, rankings, warnings = io.load_all(
            args.projects, args.applicants, args.scheme, args.rankings)
    except io.InputError as e:
        _print_rows(e.errors, "errors")
        return 2
    for out in (args.out, args.unplaced, args.report):
        if out and not Path(out).resolve().parent.is_dir():
            print(f"{out}: the output directory does not exist", file=sys.stderr)
            return 2

    # Before matching, which may take a while: the user learns at once what was ignored and where.
    _print_rows(warnings, "warnings", prefix="warning: ")

    # After the inputs are checked: --help and input errors answer at once, without numpy and scipy.
    from .engine import DEFAULT_SEED, DEFAULT_TOP_K, MatchError, match  # noqa: PLC0415

    seed = DEFAULT_SEED if args.seed is None else args.seed
    try:
        result = match(projects, applicants, scheme, rankings=rankings or None, mode=args.mode,
                       top_k=DEFAULT_TOP_K if args.top_k is None else args.top_k, seed=seed,
                       policy=Policy(args.first_timer_priority, args.choice_weight, args.fit_weight))
    except MatchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result.report["input_warnings"] = [str(w) for w in warnings[:MAX_PRINTED_ERRORS]]
    result.report["input_warning_count"] = len(warnings)
    outputs = {args.out: io.format_placements(result)}
    if args.unplaced:
        outputs[args.unplaced] = io.format_unplaced(result)
    if args.report:
        outputs[args.report] = io.format_report(result.report)
    write_atomically(outputs)
    if not args.quiet:
        r = result.report
        gap = "" if r.get("gap") is None else f", gap {100 * r['gap']:.4f}%"
        print(f"{r['mode']}: placed {r['placed']} of {r['applicants']} applicants in "
              f"{r['places_total']} places, HK${r['budget_used_hkd']:,} of "
              f"HK${r['budget_hkd']:,}{gap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
