"""The funding portfolio optimiser (matching/portfolio.py) at 200 and 2,000 submitted projects.

Data: `matching.portfolio.synthetic(n, seed, tight=True)`: scores 40-95, 5-60 places asked (minimum viable
30-80% of that), HK$8k-60k a place, five regions; the budget is 45% of the cost of every place asked, the
Guangdong and Overseas caps 30% and 40% of their places, a 60% Greater Bay Area minimum share, and a
90-place limit on every seventh organisation, so every kind of limit can bind.

Printed per scale: the MIP's solve time, status and proven relative gap (HiGHS, mip_rel_gap 1e-4, one
thread), value and places against a greedy by score that respects the same limits, the greedy's time,
and "what binds": the time for all re-solves (each limit moved one step: +HK$1M, +50 places of cap,
-5 points of share, +10 places per organisation limit), how many re-solves ran and how many limits bind.

    .venv/bin/python benchmarks/bench_portfolio.py [--sizes 200 2000] [--seed 1]

Figures are printed, never asserted; the machine is shared, so the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching.portfolio import greedy, optimise, synthetic, violations, what_binds  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'projects':>8} {'solve s':>8} {'status':>8} {'gap':>9} {'value':>11} {'greedy':>11} {'+value':>7} "
          f"{'places':>6} {'greedy':>6} {'greedy s':>8} {'binds s':>8} {'re-solves':>9} {'binding':>7}")
    for n in args.sizes:
        cands, limits = synthetic(n, seed=args.seed)
        best = optimise(cands, limits, time_limit=args.time_limit)
        t0 = time.perf_counter()
        base = greedy(cands, limits)
        greedy_s = time.perf_counter() - t0
        assert not violations(cands, limits, best.places) and not violations(cands, limits, base.places)
        t0 = time.perf_counter()
        binds = what_binds(cands, limits, best)
        binds_s = time.perf_counter() - t0
        resolves = sum(1 for b in binds if b.seconds > 0)
        print(f"{n:>8} {best.seconds:>8.2f} {best.status:>8} {best.gap:>9.2e} {best.value:>11,.0f} "
              f"{base.value:>11,.0f} {100 * (best.value / base.value - 1):>6.1f}% {best.total_places:>6} "
              f"{base.total_places:>6} {greedy_s:>8.3f} {binds_s:>8.2f} {resolves:>9} "
              f"{sum(b.binds for b in binds):>7}")
        for b in binds:
            if b.binds and b.limit != "organisation":
                print(f"{'':>8} {b.limit} {b.name}: step {b.step:,.0f} buys {b.value_gain:,.0f} value, "
                      f"{b.places_gain:+} places ({b.seconds:.2f} s)")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
