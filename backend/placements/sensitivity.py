"""What binds: how many more young people the budget or a regional cap is keeping out.

Answered by re-solving the round's own inputs with one limit raised by a stated step (optimal mode,
so the answer is "the most that could be placed", whatever mode the round used). A limit that does not
bind is reported as 0 without a re-solve, which keeps this to a few solves per round.

A raised budget or cap changes neither who is eligible where nor what each placement is worth, only the
limits: so the round's own prepared inputs (text fit, rules and candidate pairs, kept on its result) are
solved again with the limit raised. That gives what `matching.match` would give for the raised scheme,
without fitting, checking and explaining again (at national scale those are a third of a round). Each
re-solve starts its budget-price search from the price the round's own solve found (a limit raised by a
step moves that price a little), so it needs a few min-cost flows instead of a full search.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import matching
from backend.market.inputs import RoundInputs
from matching import optimal
from matching.engine import optimal_network, prepare

BUDGET_STEP_HKD = 1_000_000
CAP_STEP_PLACES = 100
# More binding regions than this are reported as unknown, to keep a round's time bounded.
MAX_REGIONS_RESOLVED = 8
# From this many candidate pairs a re-solve starts its price search where the round's solve ended. Below it a
# full search takes well under a second, and its answer is exactly what matching the raised scheme gives; a
# warm start ends on another solution within the solver's proven tolerance (the same number placed, give or
# take the odd place, and a cost a few hundred dollars apart), which only pays at scale.
WARM_START_FROM_PAIRS = 200_000
# From this many candidate pairs the re-solves after the first run at once in forked processes (a fork and the
# answer's trip back cost a few milliseconds; below this a re-solve takes well under a second anyway). At most
# MAX_FORKED at once besides this process.
FORK_FROM_PAIRS = 200_000
MAX_FORKED = 1


@dataclass
class Outcome:
    """What the limits care about in a solution: places taken per project (in `inputs.projects` order)."""

    placed_per_project: np.ndarray
    applicants: int
    solver: dict | None = None  # the re-solve's own figures (objective, bound, gap, flow solves), if re-solved

    @property
    def placed(self) -> int:
        return int(self.placed_per_project.sum())

    def spent(self, projects: list[matching.Project]) -> int:
        subsidy = np.array([p.subsidy_per_place for p in projects], np.int64)
        return int((self.placed_per_project * subsidy).sum())

    @classmethod
    def of(cls, result: matching.MatchResult, projects: list[matching.Project], applicants: int) -> Outcome:
        index = {p.id: j for j, p in enumerate(projects)}
        placed = np.zeros(len(projects), np.int64)
        for placement in result.placements:
            placed[index[placement.project_id]] += 1
        return cls(placed, applicants)


def budget_binds(inputs: RoundInputs, outcome: Outcome) -> bool:
    """Someone is unplaced and a project with a free place costs more than the budget left."""
    if outcome.placed >= outcome.applicants:
        return False
    left = inputs.scheme.budget_hkd - outcome.spent(inputs.projects)
    return any(p.places > int(n) and p.subsidy_per_place > left
               for p, n in zip(inputs.projects, outcome.placed_per_project, strict=True))


def cap_binds(inputs: RoundInputs, region: str, outcome: Outcome) -> bool:
    """Someone is unplaced, the region's cap is reached and the region still has free places."""
    cap = inputs.scheme.region_caps.get(region)
    if outcome.placed >= outcome.applicants or cap is None:
        return False
    in_region = [j for j, p in enumerate(inputs.projects) if p.region == region]
    placed = int(outcome.placed_per_project[in_region].sum())
    places = sum(inputs.projects[j].places for j in in_region)
    return placed >= cap and places > placed


class _Resolver:
    """The round's inputs prepared once; `solve` answers for any budget and caps (optimal mode)."""

    def __init__(self, inputs: RoundInputs, pinned, excluded, seed: int, problem=None,
                 warm_from: int = WARM_START_FROM_PAIRS):
        self.inputs, self.warm_from = inputs, warm_from
        self.problem = problem if problem is not None else prepare(
            inputs.projects, inputs.applicants, inputs.scheme, pinned=pinned, excluded=excluded, seed=seed)
        # Where the round's own solve left the budget's price: the re-solves start there (at scale).
        self.price_bracket = None
        # As `matching.engine` numbers them for its solver: applicants with a candidate pair, 0..n-1.
        self.local = np.unique(self.problem.arc_app, return_inverse=True)[1]
        self.pinned_per_project = np.bincount(np.fromiter(self.problem.pinned.values(), np.int64),
                                              minlength=len(inputs.projects))

    def solve(self, *, budget_hkd: int | None = None, region_caps: dict[str, int] | None = None,
              progress: Callable[[float], None] | None = None, start=None) -> Outcome:
        problem, scheme = self.problem, self.inputs.scheme
        # `prepare` takes pinned placements off the limits; a raised limit raises what is left by as much.
        budget_left = problem.budget_left + ((budget_hkd if budget_hkd is not None else scheme.budget_hkd)
                                             - scheme.budget_hkd)
        cap_left = problem.region_cap_left.copy()
        for region, cap in (region_caps or {}).items():
            k = problem.region_names.index(region)
            cap_left[k] += cap - scheme.region_caps[region]
        # Seats per origin stay what they are: the round's own solve kept them (`matching.engine._solve`).
        net = optimal_network(problem, self.local, budget_left=budget_left, region_cap_left=cap_left)
        warm = start is not None and len(problem.arc_proj) >= self.warm_from
        chosen, info = optimal.solve(net, progress=progress, start=start if warm else None)
        if region_caps is None and budget_hkd is None:
            self.price_bracket = info.get("price_bracket")
        placed = np.bincount(problem.arc_proj[np.flatnonzero(chosen)], minlength=len(self.inputs.projects))
        return Outcome(placed + self.pinned_per_project, len(self.inputs.applicants), info)


def what_binds(inputs: RoundInputs, *, pinned=(), excluded=(), base: matching.MatchResult | None = None,
               budget_step_hkd: int = BUDGET_STEP_HKD, cap_step: int = CAP_STEP_PLACES, seed: int = 2025,
               progress: Callable[[float], None] | None = None, warm_from: int = WARM_START_FROM_PAIRS,
               fork_from: int = FORK_FROM_PAIRS) -> dict:
    """{"budget": {...}, "caps": {region: {...}}}: extra placements and their cost per raised limit.

    `base` is the round's result on these inputs when the caller already has it: its prepared inputs are
    reused whatever its mode, and an optimal-mode result is the outcome the raised limits are compared with.
    """
    problem = getattr(base, "problem", None)
    resolver = None
    if base is None or base.report.get("mode") != "optimal":
        resolver = _Resolver(inputs, pinned, excluded, seed, problem, warm_from)
        base_outcome = resolver.solve()
    else:
        base_outcome = Outcome.of(base, inputs.projects, len(inputs.applicants))
    capped = sorted(inputs.scheme.region_caps)
    binding_caps = [r for r in capped if cap_binds(inputs, r, base_outcome)]
    resolves = binding_caps[:MAX_REGIONS_RESOLVED]
    binds_budget = budget_binds(inputs, base_outcome)
    total = len(resolves) + (1 if binds_budget else 0)
    done = 0
    if total and resolver is None:
        resolver = _Resolver(inputs, pinned, excluded, seed, problem, warm_from)
        resolver.price_bracket = (base.report.get("solver") or {}).get("price_bracket")
    base_placed, base_spent = base_outcome.placed, base_outcome.spent(inputs.projects)

    def extra(raised: Outcome) -> dict:
        return {"extra_placements": raised.placed - base_placed,
                "extra_cost_hkd": raised.spent(inputs.projects) - base_spent}

    def within(f: float) -> None:
        if progress:
            progress((done + f) / total)

    def advance() -> None:
        nonlocal done
        done += 1
        within(0.0)

    figures: dict = {"budget": {"step_hkd": budget_step_hkd, "budget_hkd": inputs.scheme.budget_hkd,
                                "binding": binds_budget, "re_solved": binds_budget,
                                "extra_placements": 0, "extra_cost_hkd": 0},
                     "caps": {}}
    # Each re-solve raises one limit: (where its figures go, the raised limits).
    jobs: list[tuple[str | None, dict]] = []
    if binds_budget:
        jobs.append((None, {"budget_hkd": inputs.scheme.budget_hkd + budget_step_hkd}))
    for region in resolves:
        caps = dict(inputs.scheme.region_caps)
        caps[region] += cap_step
        jobs.append((region, {"region_caps": caps}))
    # The re-solves are independent and OR-Tools holds the GIL: at scale all but the first run in forked copies
    # of this process on the other cores while this one solves the first.
    forked = {}
    if len(jobs) > 1 and _may_fork(len(resolver.problem.arc_proj), fork_from):
        forked = {k: _Child(lambda raised=raised: resolver.solve(**raised, start=resolver.price_bracket))
                  for k, (_, raised) in enumerate(jobs[1:MAX_FORKED + 1], 1)}
    outcomes: dict[str | None, Outcome] = {}
    try:
        for k, (region, raised) in enumerate(jobs):
            outcomes[region] = forked[k].result() if k in forked else resolver.solve(
                **raised, progress=within, start=resolver.price_bracket)
            advance()
    finally:
        for child in forked.values():
            child.close()
    if forked:
        # How much memory the forked re-solves added at their peak, beside this process's own (for benchmarks).
        figures["forked"] = {"processes": len(forked), "peak_extra_mib": round(max(
            (c.peak_extra_mib or 0.0 for c in forked.values()), default=0.0), 1)}
    if binds_budget:
        figures["budget"].update(extra(outcomes[None]))
    for region in capped:
        binding = region in binding_caps
        # A binding cap beyond the re-solve allowance is reported as unknown (None), never as 0.
        entry = {"step": cap_step, "cap": inputs.scheme.region_caps[region], "binding": binding,
                 "re_solved": region in resolves, "extra_placements": None if binding else 0,
                 "extra_cost_hkd": None if binding else 0}
        if region in resolves:
            entry.update(extra(outcomes[region]))
        figures["caps"][region] = entry
    return figures


def _may_fork(pairs: int, fork_from: int) -> bool:
    return pairs >= fork_from and hasattr(os, "fork") and (os.cpu_count() or 1) > 1


class _Child:
    """`work()` run in a forked copy of this process, its answer sent back pickled through a pipe.

    The copy shares the round's prepared inputs with the parent (copy on write) instead of receiving them, and
    leaves with os._exit: it never runs the parent's threads, handlers or database connections."""

    def __init__(self, work: Callable[[], object]):
        read, write = os.pipe()
        at_fork = _memory_mib("VmRSS")
        self.pid = os.fork()
        if self.pid == 0:  # the copy
            os.close(read)
            try:
                answer = (True, work())
            except BaseException as error:  # noqa: BLE001 - whatever failed is the parent's to raise
                answer = (False, f"{type(error).__name__}: {error}")
            # What the copy added to the machine's memory at its peak: pages it allocated or copied on write.
            grew = max(0.0, _memory_mib("VmHWM") - at_fork) if at_fork is not None else None
            with os.fdopen(write, "wb") as pipe:
                pipe.write(pickle.dumps((*answer, grew)))
            os._exit(0)
        os.close(write)
        self.pipe = os.fdopen(read, "rb")
        self.peak_extra_mib: float | None = None

    def result(self):
        data = self.pipe.read()
        if not data:  # killed, or crashed in native code, before it could answer
            _pid, status = os.waitpid(self.pid, 0)
            self.pid = 0
            raise RuntimeError(f"a what-binds re-solve's process ended without an answer (wait status {status})")
        # The bytes come from our own forked copy through a pipe only the two hold.
        ok, answer, self.peak_extra_mib = pickle.loads(data)  # noqa: S301
        if not ok:
            raise RuntimeError(f"a what-binds re-solve failed: {answer}")
        return answer

    def close(self) -> None:
        self.pipe.close()
        if self.pid:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = 0


def _memory_mib(field: str) -> float | None:
    """This process's VmRSS or VmHWM from /proc (Linux), in MiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
