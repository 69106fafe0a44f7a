"""What binds re-solves only the limits: the same answer as matching the whole round again with the limit raised."""

from __future__ import annotations

from dataclasses import replace

import pytest

import matching
from backend.market.inputs import RoundInputs
from backend.placements.sensitivity import what_binds
from matching.synthetic import generate


def _inputs() -> RoundInputs:
    projects, applicants, scheme = generate(30, 1500, seed=11, tight=True)
    return RoundInputs(projects, applicants, scheme, rankings={})


def _raised(inputs: RoundInputs, pinned, **limits) -> dict:
    scheme = replace(inputs.scheme, **limits)
    return matching.match(inputs.projects, inputs.applicants, scheme, pinned=pinned).report


def test_the_re_solves_give_what_matching_again_with_the_raised_limit_gives():
    inputs = _inputs()
    pinned = [(inputs.applicants[0].id, inputs.applicants[0].choices[0])]
    base = matching.match(inputs.projects, inputs.applicants, inputs.scheme, pinned=pinned)
    steps = {"budget_step_hkd": 500_000, "cap_step": 20}

    figures = what_binds(inputs, pinned=pinned, base=base, **steps)

    assert figures["budget"]["binding"] and figures["caps"]["Guangdong"]["binding"]
    budget = _raised(inputs, pinned, budget_hkd=inputs.scheme.budget_hkd + 500_000)
    cap = _raised(inputs, pinned, region_caps={"Guangdong": inputs.scheme.region_caps["Guangdong"] + 20})
    for entry, raised in ((figures["budget"], budget), (figures["caps"]["Guangdong"], cap)):
        assert entry["extra_placements"] == raised["placed"] - base.report["placed"]
        assert entry["extra_cost_hkd"] == raised["budget_used_hkd"] - base.report["budget_used_hkd"]
    # A stable round has no optimal result to start from: the same figures, its base solved here.
    assert what_binds(inputs, pinned=pinned, **steps) == figures


def test_at_scale_a_re_solve_starts_from_the_rounds_price_and_lands_within_the_proven_tolerance():
    """The warm start (used from WARM_START_FROM_PAIRS candidate pairs; forced here) gives a solution as good as
    a full search's, within the gap the solver proves (benchmarks/bench_round.py shows the flows it saves)."""
    from backend.placements import sensitivity

    inputs = _inputs()
    base = matching.match(inputs.projects, inputs.applicants, inputs.scheme)
    bracket = base.report["solver"]["price_bracket"]
    raised_budget = inputs.scheme.budget_hkd + 500_000
    caps = {"Guangdong": inputs.scheme.region_caps["Guangdong"] + 20}
    for limits in ({"budget_hkd": raised_budget}, {"region_caps": caps}):
        cold = sensitivity._Resolver(inputs, (), (), 2025, base.problem).solve(**limits)
        warm = sensitivity._Resolver(inputs, (), (), 2025, base.problem, warm_from=0).solve(**limits, start=bracket)
        # Both searches bound the same optimum from above, each within the tolerance it proves (their routes
        # to the price differ, so the bounds may differ in the last digits), and the warm start's solution is
        # no further below the full search's bound than twice the full search's gap.
        assert warm.solver["bound"] == pytest.approx(cold.solver["bound"], rel=1e-4)
        assert warm.solver["gap"] <= 1e-4 and cold.solver["gap"] <= 1e-4
        assert warm.solver["objective"] >= cold.solver["bound"] * (1 - 2 * max(cold.solver["gap"], 1e-4))
        # Within the raised limits: the warm start is a different route to the same problem, not a looser one.
        assert warm.spent(inputs.projects) <= limits.get("budget_hkd", inputs.scheme.budget_hkd)
        guangdong = [j for j, p in enumerate(inputs.projects) if p.region == "Guangdong"]
        assert warm.placed_per_project[guangdong].sum() <= limits.get("region_caps", inputs.scheme.region_caps)[
            "Guangdong"]

    figures_warm = what_binds(inputs, base=base, budget_step_hkd=500_000, cap_step=20, warm_from=0)
    figures_cold = what_binds(inputs, base=base, budget_step_hkd=500_000, cap_step=20)
    for warm, cold in ((figures_warm["budget"], figures_cold["budget"]),
                       (figures_warm["caps"]["Guangdong"], figures_cold["caps"]["Guangdong"])):
        assert warm["binding"] and abs(warm["extra_placements"] - cold["extra_placements"]) <= 1


def test_the_re_solves_keep_seats_per_origin_as_the_round_does():
    """Mixed cohorts: most projects' places split between the two sides, with few Guangdong applicants, so
    seats per origin bind. A re-solve that forgot them would place more than matching again does."""
    from matching import GUANGDONG, HONG_KONG

    inputs = _inputs()
    projects = [replace(p, origins=(HONG_KONG, GUANGDONG),
                        origin_seats={HONG_KONG: (0, p.places // 2), GUANGDONG: (0, p.places - p.places // 2)}
                        if k % 3 else {}) for k, p in enumerate(inputs.projects)]
    applicants = [replace(a, origin=GUANGDONG) if k % 10 == 0 else a for k, a in enumerate(inputs.applicants)]
    mixed = RoundInputs(projects, applicants, inputs.scheme, rankings={})
    base = matching.match(projects, applicants, inputs.scheme)
    unlimited = matching.match([replace(p, origin_seats={}) for p in projects], applicants, inputs.scheme)
    assert unlimited.report["placed"] > base.report["placed"], "the seats must bind for this test to mean anything"

    figures = what_binds(mixed, base=base, budget_step_hkd=500_000, cap_step=20)

    caps = {"Guangdong": inputs.scheme.region_caps["Guangdong"] + 20}
    raised = matching.match(projects, applicants, replace(inputs.scheme, region_caps=caps))
    entry = figures["caps"]["Guangdong"]
    assert entry["binding"] and entry["re_solved"]
    assert entry["extra_placements"] == raised.report["placed"] - base.report["placed"]
    assert entry["extra_cost_hkd"] == raised.report["budget_used_hkd"] - base.report["budget_used_hkd"]


def test_re_solves_run_in_forked_processes_give_the_same_figures_as_in_this_one():
    """At scale (FORK_FROM_PAIRS candidate pairs; forced here) the budget is re-solved here while the cap is
    re-solved in a forked copy of the worker: the figures are the same."""
    inputs = _inputs()
    base = matching.match(inputs.projects, inputs.applicants, inputs.scheme)
    steps = {"budget_step_hkd": 500_000, "cap_step": 20}
    here = what_binds(inputs, base=base, **steps, fork_from=10**12)
    forked = what_binds(inputs, base=base, **steps, fork_from=0)
    assert here["budget"]["re_solved"] and here["caps"]["Guangdong"]["re_solved"]
    assert forked.pop("forked")["processes"] == 1
    assert forked == here


def test_a_re_solve_that_fails_in_its_forked_process_fails_the_round_plainly():
    from backend.placements.sensitivity import _Child

    child = _Child(lambda: 1 // 0)
    try:
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            child.result()
    finally:
        child.close()


def test_a_forked_re_solve_killed_before_answering_fails_the_round_plainly():
    import os
    import signal

    from backend.placements.sensitivity import _Child

    child = _Child(lambda: os.kill(os.getpid(), signal.SIGKILL))
    try:
        with pytest.raises(RuntimeError, match="ended without an answer"):
            child.result()
    finally:
        child.close()
