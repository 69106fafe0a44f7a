"""The funding portfolio optimiser: limits always hold, the MIP is exact on small cases, what binds."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.portfolio import (
    Candidate,
    Limits,
    greedy,
    optimise,
    synthetic,
    violations,
    what_binds,
)

REGIONS = ("HK", "GD", "SH")


@st.composite
def problems(draw, max_projects=7):
    n = draw(st.integers(0, max_projects))
    cands = []
    for i in range(n):
        lo = draw(st.integers(1, 6))
        hi = draw(st.integers(lo, 8))
        region = draw(st.sampled_from(REGIONS))
        cands.append(Candidate(
            key=f"p{i}", score=draw(st.integers(0, 100)) / 2, min_places=lo, max_places=hi,
            subsidy_per_place=draw(st.integers(0, 5)) * 1000, region=region, gba=region != "SH",
            organisation=draw(st.sampled_from(["a", "b", "c"])),
        ))
    caps = {r: draw(st.integers(0, 20)) for r in REGIONS if draw(st.booleans())}
    orgs = {o: draw(st.integers(0, 15)) for o in "ab" if draw(st.booleans())}
    limits = Limits(budget=draw(st.integers(0, 60)) * 1000, region_caps=caps,
                    gba_min_share_pct=draw(st.sampled_from([0, 30, 50, 80, 100])), organisation_limits=orgs)
    return cands, limits


def brute_force(cands, limits):
    best = 0.0
    for combo in itertools.product(*[[0, *range(c.min_places, c.max_places + 1)] for c in cands]):
        places = {c.key: x for c, x in zip(cands, combo, strict=True) if x}
        if not violations(cands, limits, places):
            best = max(best, sum(c.score * x for c, x in zip(cands, combo, strict=True)))
    return best


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_no_portfolio_ever_breaks_the_budget_caps_share_or_organisation_limits(problem):
    cands, limits = problem
    for p in (optimise(cands, limits), greedy(cands, limits)):
        assert violations(cands, limits, p.places) == []
        assert p.cost <= limits.budget
        for r, cap in limits.region_caps.items():
            assert p.region_places.get(r, 0) <= cap
        assert 100 * p.gba_places >= limits.gba_min_share_pct * p.total_places


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_projects=4))
def test_the_mip_is_exact_and_never_worse_than_greedy(problem):
    cands, limits = problem
    best = optimise(cands, limits, rel_gap=1e-9)
    assert best.value == pytest.approx(brute_force(cands, limits), abs=1e-6)
    assert best.value >= greedy(cands, limits).value - 1e-6


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_projects=5))
def test_what_binds_re_solves_stay_within_the_moved_limits_and_never_lose_value(problem):
    cands, limits = problem
    best = optimise(cands, limits)
    for b in what_binds(cands, limits, best):
        assert b.value_gain >= 0
        assert b.binds == (b.value_gain > 0)


def test_places_are_between_the_minimum_viable_number_and_what_was_asked():
    cands, limits = synthetic(60, seed=3)
    p = optimise(cands, limits)
    by_key = {c.key: c for c in cands}
    assert p.places and all(by_key[k].min_places <= x <= by_key[k].max_places for k, x in p.places.items())
    assert p.status == "optimal" and p.gap is not None and p.gap <= 1e-4


def test_the_optimum_beats_greedy_by_score_when_limits_bind():
    cands, limits = synthetic(200, seed=1)
    best, base = optimise(cands, limits), greedy(cands, limits)
    assert best.value > base.value
    assert not violations(cands, limits, base.places)


def test_budget_binding_is_reported_with_what_a_step_buys():
    cands = [Candidate("a", 10, 1, 10, 1000, "HK", True), Candidate("b", 5, 1, 10, 1000, "HK", True)]
    limits = Limits(budget=12_000, region_caps={"HK": 100})
    best = optimise(cands, limits)
    assert best.places == {"a": 10, "b": 2} and best.value == 110
    binds = {(b.limit, b.name): b for b in what_binds(cands, limits, best)}
    budget = binds[("budget", "")]
    assert budget.binds and budget.value_gain == 40 and budget.places_gain == 8  # b fills to 10
    assert not binds[("region", "HK")].binds


def test_a_share_that_cannot_be_met_is_explained_not_crashed():
    cands = [Candidate("a", 10, 1, 10, 1000, "SH", False)]
    p = optimise(cands, Limits(budget=100_000, gba_min_share_pct=50))
    assert p.places == {} and p.value == 0
    assert "Greater Bay Area" in p.reason


def test_share_moves_in_what_binds():
    cands = [Candidate("gba", 1, 1, 5, 1000, "HK", True), Candidate("far", 10, 1, 20, 1000, "SH", False)]
    limits = Limits(budget=100_000, gba_min_share_pct=50)
    best = optimise(cands, limits)
    assert best.places == {"gba": 5, "far": 5}
    share = next(b for b in what_binds(cands, limits, best) if b.limit == "gba_share")
    assert share.binds and share.places_gain > 0  # 45%: 5 GBA places carry 6 others


@pytest.mark.parametrize("bad", [
    Candidate("x", 1, 0, 3, 1000, "HK", True),
    Candidate("x", 1, 4, 3, 1000, "HK", True),
    Candidate("x", -1, 1, 3, 1000, "HK", True),
    Candidate("x", float("nan"), 1, 3, 1000, "HK", True),
    Candidate("x", 1, 1, 3, -5, "HK", True),
])
def test_bad_projects_are_refused(bad):
    with pytest.raises(ValueError):
        optimise([bad], Limits(budget=1))


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        optimise([], Limits(budget=1, gba_min_share_pct=120))
    with pytest.raises(ValueError):
        greedy([], Limits(budget=-1))


def test_greedy_is_the_fallback_without_highs(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_highs(name, *a, **k):
        if name == "highspy":
            raise ImportError(name)
        return real(name, *a, **k)

    cands, limits = synthetic(40, seed=2)
    monkeypatch.setattr(builtins, "__import__", no_highs)
    p = optimise(cands, limits)
    assert p.method == "greedy" and "HiGHS" in p.status and not violations(cands, limits, p.places)
    assert all(b.value_gain >= 0 for b in what_binds(cands, limits, p))


def test_the_weighted_score_of_an_assessment():
    from matching.portfolio import weighted_score

    criteria = {"impact": (3, 5), "cost": (1, 10)}
    assert weighted_score({"impact": 5, "cost": 10}, criteria) == 100
    assert weighted_score({"impact": 0, "cost": 10}, criteria) == 25
    assert weighted_score({"impact": 4, "cost": 5}, criteria) == pytest.approx(100 * (3 * 0.8 + 0.5) / 4)
    for bad_criteria, bad_scores in [({"impact": (-1, 5)}, {"impact": 3}), ({"impact": (None, 5)}, {"impact": 3}),
                                     ({"impact": (1, 5)}, {}), ({"impact": (1, 5)}, {"impact": 6}), ({}, {})]:
        with pytest.raises(ValueError):
            weighted_score(bad_scores, bad_criteria)


def test_what_binds_reports_the_value_a_fresh_solve_of_the_moved_limit_finds():
    # Guangdong capped at 15 places and money for 20: another HK$1M funds Shanghai and Beijing too.
    from matching.portfolio import Candidate, Limits, optimise, what_binds

    candidates = [Candidate("a", 100, 4, 10, 25_000, "Guangdong", True), Candidate("b", 80, 4, 12, 25_000, "Guangdong", True),
                  Candidate("c", 60, 4, 20, 25_000, "Shanghai", False), Candidate("d", 40, 4, 8, 25_000, "Beijing", False)]
    limits = Limits(budget=500_000, region_caps={"Guangdong": 15})
    best = optimise(candidates, limits)
    raised = optimise(candidates, Limits(budget=1_500_000, region_caps={"Guangdong": 15}))

    budget = next(b for b in what_binds(candidates, limits, best) if b.limit == "budget")

    assert budget.binds and budget.value_gain == raised.value - best.value == 1_220
    assert budget.places_gain == raised.total_places - best.total_places == 23
