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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import matching
from backend.market.inputs import RoundInputs
from matching import optimal
from matching.engine import prepare

BUDGET_STEP_HKD = 1_000_000
CAP_STEP_PLACES = 100
# More binding regions than this are reported as unknown, to keep a round's time bounded.
MAX_REGIONS_RESOLVED = 8
# From this many candidate pairs a re-solve starts its price search where the round's solve ended. Below it a
# full search takes well under a second, and its answer is exactly what matching the raised scheme gives; a
# warm start ends on another solution within the solver's proven tolerance (the same number placed, give or
# take the odd place, and a cost a few hundred dollars apart), which only pays at scale.
WARM_START_FROM_PAIRS = 200_000


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
        self.active, self.local = np.unique(self.problem.arc_app, return_inverse=True)
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
        net = optimal.Network(len(self.active), self.local.astype(np.int64), problem.arc_proj, problem.arc_value,
                              problem.subsidy, problem.places_left, problem.proj_region, cap_left, budget_left,
                              problem.arc_group, problem.group_most)
        warm = start is not None and len(problem.arc_proj) >= self.warm_from
        chosen, info = optimal.solve(net, progress=progress, start=start if warm else None)
        if region_caps is None and budget_hkd is None:
            self.price_bracket = info.get("price_bracket")
        placed = np.bincount(problem.arc_proj[np.flatnonzero(chosen)], minlength=len(self.inputs.projects))
        return Outcome(placed + self.pinned_per_project, len(self.inputs.applicants), info)


def what_binds(inputs: RoundInputs, *, pinned=(), excluded=(), base: matching.MatchResult | None = None,
               budget_step_hkd: int = BUDGET_STEP_HKD, cap_step: int = CAP_STEP_PLACES, seed: int = 2025,
               progress: Callable[[float], None] | None = None, warm_from: int = WARM_START_FROM_PAIRS) -> dict:
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
    if binds_budget:
        raised = resolver.solve(budget_hkd=inputs.scheme.budget_hkd + budget_step_hkd, progress=within,
                                start=resolver.price_bracket)
        figures["budget"].update(extra(raised))
        advance()
    for region in capped:
        binding = region in binding_caps
        # A binding cap beyond the re-solve allowance is reported as unknown (None), never as 0.
        entry = {"step": cap_step, "cap": inputs.scheme.region_caps[region], "binding": binding,
                 "re_solved": region in resolves, "extra_placements": None if binding else 0,
                 "extra_cost_hkd": None if binding else 0}
        if region in resolves:
            caps = dict(inputs.scheme.region_caps)
            caps[region] += cap_step
            entry.update(extra(resolver.solve(region_caps=caps, progress=within, start=resolver.price_bracket)))
            advance()
        figures["caps"][region] = entry
    return figures
