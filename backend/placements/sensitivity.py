"""What binds: how many more young people the budget or a regional cap is keeping out.

Answered by re-solving the round's own inputs with one limit raised by a stated step (optimal mode,
so the answer is "the most that could be placed", whatever mode the round used). A limit that does not
bind is reported as 0 without a re-solve, which keeps this to a few solves per round.
"""

from __future__ import annotations

from collections.abc import Callable

import matching
from backend.placements.inputs import RoundInputs
from backend.placements.rounds import with_limits

BUDGET_STEP_HKD = 1_000_000
CAP_STEP_PLACES = 100
# More binding regions than this are reported as unknown, to keep a round's time bounded.
MAX_REGIONS_RESOLVED = 8


def budget_binds(report: dict, projects: list[matching.Project], result: matching.MatchResult) -> bool:
    """Someone is unplaced and a project with a free place costs more than the budget left."""
    if not result.unplaced:
        return False
    left = report["budget_left_hkd"]
    placed_at: dict[str, int] = {}
    for placement in result.placements:
        placed_at[placement.project_id] = placed_at.get(placement.project_id, 0) + 1
    return any(p.places > placed_at.get(p.id, 0) and p.subsidy_per_place > left for p in projects)


def cap_binds(report: dict, region: str, result: matching.MatchResult) -> bool:
    figures = report["regions"].get(region)
    if not result.unplaced or figures is None or figures["cap"] is None:
        return False
    return figures["placed"] >= figures["cap"] and figures["places"] > figures["placed"]


def what_binds(inputs: RoundInputs, *, pinned=(), excluded=(), base: matching.MatchResult | None = None,
               budget_step_hkd: int = BUDGET_STEP_HKD, cap_step: int = CAP_STEP_PLACES, seed: int = 2025,
               progress: Callable[[float], None] | None = None) -> dict:
    """{"budget": {...}, "caps": {region: {...}}}: extra placements and their cost per raised limit.

    `base` is the optimal-mode result on these inputs when the caller already has it.
    """
    def solve(scheme: matching.Scheme) -> matching.MatchResult:
        return matching.match(inputs.projects, inputs.applicants, scheme, rankings=inputs.rankings,
                              mode="optimal", pinned=pinned, excluded=excluded, seed=seed)

    if base is None:
        base = solve(inputs.scheme)
    report = base.report
    capped = sorted(inputs.scheme.region_caps)
    binding_caps = [r for r in capped if cap_binds(report, r, base)]
    resolves = binding_caps[:MAX_REGIONS_RESOLVED]
    binds_budget = budget_binds(report, inputs.projects, base)
    total = len(resolves) + (1 if binds_budget else 0)
    done = 0

    def extra(raised: matching.MatchResult) -> dict:
        return {"extra_placements": raised.report["placed"] - report["placed"],
                "extra_cost_hkd": raised.report["budget_used_hkd"] - report["budget_used_hkd"]}

    def advance() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done / total)

    figures: dict = {"budget": {"step_hkd": budget_step_hkd, "budget_hkd": inputs.scheme.budget_hkd,
                                "binding": binds_budget, "re_solved": binds_budget,
                                "extra_placements": 0, "extra_cost_hkd": 0},
                     "caps": {}}
    if binds_budget:
        raised = solve(with_limits(inputs.scheme, budget_hkd=inputs.scheme.budget_hkd + budget_step_hkd))
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
            entry.update(extra(solve(with_limits(inputs.scheme, region_caps=caps))))
            advance()
        figures["caps"][region] = entry
    return figures
