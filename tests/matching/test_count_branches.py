"""Optimal mode's proven gap on small markets with a tight budget: the LP relaxation there can place a fraction of
one more person, so the matcher branches on how many are placed; and an overspend smaller than one place is saved
by moving someone to a cheaper project rather than leaving her out."""

from __future__ import annotations

import numpy as np
import pytest

from matching import match, optimal
from matching.engine import optimal_network, prepare
from matching.synthetic import generate


def network_of(projects, applicants, sch, top_k=5) -> optimal.Network:
    return optimal_network(prepare(projects, applicants, sch, top_k=top_k))


def test_branching_on_the_count_bounds_every_whole_solution_more_tightly_than_the_lp():
    below_lp = 0
    for seed in (11, 13, 14, 17):
        net = network_of(*generate(n_projects=5, n_applicants=260, seed=seed, tight=True))
        lp = optimal.solve_mip(net, relax=True)[1]["objective"]
        exact = optimal.solve_mip(net)
        assert exact[1]["status"] == "Optimal"
        chosen, info = optimal.solve(net, tolerance=0.0)  # no tolerance: search and branch to the end
        assert info["bound"] >= exact[1]["objective"] - 1e-6, seed  # still a bound on the optimum
        assert info["objective"] == int(net.value[chosen].sum()) <= exact[1]["objective"] + 1e-6
        assert int(net.arc_subsidy[chosen].sum()) <= net.budget
        assert info["count_branches"] is not None
        below_lp += info["bound"] < lp - 1.0
    assert below_lp == 4  # the LP alone could not prove these gaps


def test_the_proven_gap_on_a_seed_scale_market_with_a_tight_budget_is_within_a_hundredth_of_a_percent():
    projects, applicants, sch = generate(120, 10_000, seed=2025, tight=True)
    result = match(projects, applicants, sch)
    solver = result.report["solver"]
    assert result.report["gap"] <= 1e-4
    assert result.report["budget_used_hkd"] <= sch.budget_hkd
    # Here whole solutions placing one or two more than the best found had to be bounded too.
    assert any(b["placed"] == "exactly" for b in solver["count_branches"]["branches"])


def _two_people(cheaper_places: int) -> optimal.Network:
    # Projects A and B cost HK$10 a place, C HK$6. Ann can only go to A; Ben prefers B, C is his second choice.
    # The budget, HK$17, pays for A and B less HK$3, or for A and C.
    return optimal.Network(
        n_applicants=2, arc_app=np.array([0, 1, 1]), arc_proj=np.array([0, 1, 2]),
        value=np.array([100, 120, 115]), subsidy=np.array([10, 10, 6]),
        capacity=np.array([1, 1, cheaper_places]), proj_region=np.zeros(3, np.int64),
        region_cap=np.array([-1]), budget=17)


@pytest.mark.parametrize("cheaper_places, placed", [(1, {0: 0, 1: 2}), (0, {1: 1})])
def test_an_overspend_smaller_than_a_place_moves_someone_to_a_cheaper_project_where_it_has_room(cheaper_places,
                                                                                                 placed):
    net = _two_people(cheaper_places)
    repaired = optimal.repair_and_fill(net, np.array([True, True, False]))
    assert {int(net.arc_app[a]): int(net.arc_proj[a]) for a in np.flatnonzero(repaired)} == placed
    assert int(net.arc_subsidy[repaired].sum()) <= net.budget
