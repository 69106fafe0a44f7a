"""Flexible deferred acceptance (Kamada and Kojima 2015) cross-checked: by hand, against a second
implementation written from the definition (the region's choice seat by seat, generalised DA in rounds),
for stability with respect to the region's choice function and for waste under the cap, and for caps,
places, seats per origin and budget by the independent checker. (Strategy-proofness by brute force, the
default and the scheme file: tests/matching/test_flexible_caps.py.)"""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from matching import match, verify
from matching.model import MatchError, Scheme
from matching.synthetic import generate, generate_rankings
from tests.matching.matchkit import applicant, assert_valid, project
from tests.matching.test_stable import preference_tables


def pairs(result):
    return {(p.applicant_id, p.project_id) for p in result.placements}


def flexible(budget=10**9, caps=None, **kw):
    return Scheme("flexible scheme", budget, caps or {}, cap_rule="flexible", **kw)


# --- by hand -----------------------------------------------------------------------------------------


def hand_case():
    # Guangdong is capped at 2. X has 3 places, Y 1: targets 2 (1.5 rounded down, plus the seat left over,
    # which goes to the first project) and 0. a wants X; b wants X, then Y; c wants Y. Y ranks b first.
    projects = [project("X", places=3), project("Y", places=1)]
    people = [applicant("a", choices=("X",), open_to_other=False),
              applicant("b", choices=("X", "Y"), open_to_other=False),
              applicant("c", choices=("Y",), open_to_other=False)]
    rankings = {"X": ["a", "b", "c"], "Y": ["b", "c", "a"]}
    return projects, people, rankings


def test_proportional_leaves_a_wanted_seat_empty_that_flexible_fills():
    projects, people, rankings = hand_case()
    caps = {"Guangdong": 2}
    # Proportional: DA fills X with a, b and Y with c (3 > 2); X is cut to 1 and Y to 0, the spare seat goes to
    # the least-filled project Y, and b, turned away by X, takes it. X keeps two empty places although b wants
    # X more than Y, and moving her there would leave the region at its cap.
    shared = Scheme("s", 10**9, caps)
    proportional = match(projects, people, shared, mode="stable", rankings=rankings)
    assert proportional.report["cap_rule"] == "proportional"
    assert pairs(proportional) == {("a", "X"), ("b", "Y")}
    assert_valid(proportional, projects, people, shared)
    # Flexible: X takes its best two up to its target; b gets her first choice, nobody is worse off.
    result = match(projects, people, flexible(caps=caps), mode="stable", rankings=rankings)
    assert result.report["cap_rule"] == "flexible"
    assert pairs(result) == {("a", "X"), ("b", "X")}
    assert result.report["regions"]["Guangdong"] == {"places": 4, "placed": 2, "cap": 2}
    assert result.report["solver"]["rationed"] is False
    assert_valid(result, projects, people, flexible(caps=caps))


def test_a_popular_project_takes_seats_an_unpopular_one_leaves_in_the_region():
    # Cap 4 over X (4 places) and Y (4 places): targets 2 and 2. Only one applicant wants Y, so X takes 3.
    projects = [project("X", places=4), project("Y", places=4), project("Z", places=1, region="Beijing")]
    people = ([applicant(f"x{k}", choices=("X",), open_to_other=False) for k in range(5)]
              + [applicant("y0", choices=("Y",), open_to_other=False)])
    result = match(projects, people, flexible(caps={"Guangdong": 4}), mode="stable",
                   rankings={"X": [f"x{k}" for k in range(5)]})
    assert pairs(result) == {("x0", "X"), ("x1", "X"), ("x2", "X"), ("y0", "Y")}


def test_a_cap_of_zero_places_nobody_in_the_region():
    projects = [project("X", places=2), project("B", places=1, region="Beijing")]
    people = [applicant("a", choices=("X", "B"), open_to_other=False), applicant("b", choices=("X",), open_to_other=False)]
    result = match(projects, people, flexible(caps={"Guangdong": 0}), mode="stable")
    assert pairs(result) == {("a", "B")}


# --- an independent, round-based flexible DA -------------------------------------------------------------


def targets_of(projects, caps):
    """Targets written out again: each project's share of its region's cap, rounded down, the seats left
    over one each to the region's projects in listed order (regions with places to spare: the places)."""
    target = {p.id: p.places for p in projects}
    for region, cap in caps.items():
        members = [p for p in projects if p.region == region]
        total = sum(p.places for p in members)
        if cap >= total:
            continue
        for p in members:
            target[p.id] = p.places * cap // total
        rest = cap - sum(target[p.id] for p in members)
        for p in members:
            if rest > 0 and target[p.id] < p.places:
                target[p.id] += 1
                rest -= 1
    return target


def region_choice(offers, members, places, target, cap, rank_of):
    """Kamada and Kojima's choice of a region from `offers` {project: applicants}, seat by seat."""
    pools = {p: sorted(offers.get(p, ()), key=lambda a: rank_of[p][a]) for p in members}
    chosen = {p: pools[p][:min(target[p], places[p])] for p in members}
    left = cap - sum(len(c) for c in chosen.values())
    while left > 0:
        took = False
        for p in members:
            if left > 0 and len(chosen[p]) < min(places[p], len(pools[p])):
                chosen[p].append(pools[p][len(chosen[p])])
                left -= 1
                took = True
        if not took:
            break
    return chosen


def choose(offers, projects, caps, target, rank_of):
    """Every project's choice from `offers`: by region where the cap is below the places, else its best."""
    places = {p.id: p.places for p in projects}
    chosen = {}
    for region in {p.region for p in projects}:
        members = [p.id for p in projects if p.region == region]
        cap = caps.get(region)
        if cap is not None and cap < sum(places[p] for p in members):
            chosen.update(region_choice(offers, members, places, target, cap, rank_of))
        else:
            for p in members:
                chosen[p] = sorted(offers.get(p, ()), key=lambda a: rank_of[p][a])[:places[p]]
    return chosen


def textbook_flexible_da(prefers, rank_of, projects, caps):
    """Round-based generalised DA: every free applicant proposes to her next project, each region chooses
    from everything it holds and everything new."""
    target = targets_of(projects, caps)
    nxt = dict.fromkeys(prefers, 0)
    held = {p.id: [] for p in projects}
    while True:
        placed = {a for h in held.values() for a in h}
        offers = {p: list(h) for p, h in held.items()}
        new = False
        for a, lst in prefers.items():
            if a not in placed and nxt[a] < len(lst):
                offers[lst[nxt[a]]].append(a)
                nxt[a] += 1
                new = True
        if not new:
            return {a: p for p, h in held.items() for a in h}
        held = choose(offers, projects, caps, target, rank_of)


def flexible_blocking_pairs(matching, prefers, rank_of, projects, caps):
    """Pairs (a, p), a preferring p to her placement, that p's region (or p) would choose from what it holds
    plus a at p: blocking with respect to the region's choice function."""
    target = targets_of(projects, caps)
    holding = {p.id: [a for a, q in matching.items() if q == p.id] for p in projects}
    found = []
    for a, lst in prefers.items():
        mine = lst.index(matching[a]) if a in matching else len(lst)
        for p in lst[:mine]:
            offers = {q: list(h) for q, h in holding.items()}
            offers[p] = offers[p] + [a]
            if a in choose(offers, projects, caps, target, rank_of)[p]:
                found.append((a, p))
    return found


def wasted_seats(matching, prefers, projects, caps):
    """Seats in a region under its cap (or uncapped) left empty while an applicant wants them more."""
    count = {p.id: 0 for p in projects}
    for p in matching.values():
        count[p] += 1
    by_id = {p.id: p for p in projects}
    in_region = {}
    for p in matching.values():
        in_region[by_id[p].region] = in_region.get(by_id[p].region, 0) + 1
    found = []
    for a, lst in prefers.items():
        mine = lst.index(matching[a]) if a in matching else len(lst)
        for p in lst[:mine]:
            cap = caps.get(by_id[p].region)
            if count[p] < by_id[p].places and (cap is None or in_region.get(by_id[p].region, 0) < cap):
                found.append((a, p))
    return found


def random_instance(seed, n_projects=5, n_applicants=9):
    rng = random.Random(seed)
    projects = [project(f"P{k}", places=rng.randint(0, 3), region=rng.choice(["Guangdong", "Guangdong", "Beijing"]))
                for k in range(n_projects)]
    people = [applicant(f"A{k}", choices=tuple(rng.sample([p.id for p in projects], rng.randint(0, n_projects))),
                        open_to_other=rng.random() < 0.3, statement=rng.choice(["finance", "museum", "law"]))
              for k in range(n_applicants)]
    rankings = {p.id: rng.sample([a.id for a in people], rng.randint(0, n_applicants))
                for p in projects if rng.random() < 0.7}
    gd = sum(p.places for p in projects if p.region == "Guangdong")
    caps = {"Guangdong": rng.randint(0, max(0, gd))}
    if rng.random() < 0.5:
        caps["Beijing"] = rng.randint(0, 3)
    return projects, people, rankings, caps


@pytest.mark.parametrize("seed", range(60))
def test_flexible_da_equals_the_round_based_one_is_stable_for_the_region_and_wastes_no_seat(seed):
    projects, people, rankings, caps = random_instance(seed)
    sch = flexible(caps=caps)
    result = match(projects, people, sch, mode="stable", rankings=rankings)
    assert_valid(result, projects, people, sch)
    prefers, rank_of = preference_tables(projects, people, sch, rankings)
    ours = {p.applicant_id: p.project_id for p in result.placements}
    assert ours == textbook_flexible_da(prefers, rank_of, projects, caps)
    assert flexible_blocking_pairs(ours, prefers, rank_of, projects, caps) == []
    assert wasted_seats(ours, prefers, projects, caps) == []


@pytest.mark.parametrize("seed", range(3))
def test_flexible_da_equals_the_round_based_one_on_a_synthetic_market(seed):
    projects, people, sch = generate(n_projects=10, n_applicants=400, seed=seed)
    gd = sum(p.places for p in projects if p.region == "Guangdong")
    caps = {"Guangdong": gd // 2}
    sch = dataclasses.replace(sch, region_caps=caps, cap_rule="flexible")
    rankings = generate_rankings(projects, people, seed=seed)
    result = match(projects, people, sch, mode="stable", rankings=rankings)
    assert_valid(result, projects, people, sch)
    assert result.report["regions"]["Guangdong"]["placed"] == caps["Guangdong"]
    prefers, rank_of = preference_tables(projects, people, sch, rankings)
    ours = {p.applicant_id: p.project_id for p in result.placements}
    assert ours == textbook_flexible_da(prefers, rank_of, projects, caps)


# --- never over a cap or a place (independent recount) -------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("tight", [False, True])
def test_flexible_never_exceeds_a_cap_a_place_or_the_budget(seed, tight):
    projects, people, sch = generate(n_projects=14, n_applicants=700, seed=seed)
    if tight:  # a budget for about a third of the places, below what the caps allow
        sch = dataclasses.replace(sch, budget_hkd=sum(p.places * p.subsidy_per_place for p in projects) // 3)
    rng = np.random.default_rng(seed)
    regions = sorted({p.region for p in projects})
    caps = {r: int(sum(p.places for p in projects if p.region == r) * rng.uniform(0.2, 0.9)) for r in regions[:3]}
    sch = dataclasses.replace(sch, region_caps=caps, cap_rule="flexible")
    result = match(projects, people, sch, mode="stable", rankings=generate_rankings(projects, people, seed=seed))
    assert verify(result, projects, people, sch) == []
    assert result.report["cap_rule"] == "flexible"
    if tight:  # the budget binds too: rationed for the budget on top, and said so
        assert result.report["solver"]["rationed_for"] == "budget"
        assert any("budget still bound" in w for w in result.report["warnings"])


@pytest.mark.parametrize("reserved", ["keep", "release"])
@pytest.mark.parametrize("seed", range(8))
def test_seats_per_origin_inside_a_capped_region_hold_under_flexible(seed, reserved):
    rng = random.Random(seed)
    both = ("hong_kong", "guangdong")
    projects = [project(f"P{k}", places=4, origins=both, region="Guangdong",
                        origin_seats={"hong_kong": (1, 3), "guangdong": (1, 3)} if k % 2 == 0 else {})
                for k in range(4)] + [project("B", places=3, origins=both, region="Beijing")]
    people = [applicant(f"A{k}", origin=rng.choice(both), choices=tuple(rng.sample([p.id for p in projects], 3)),
                        open_to_other=False) for k in range(24)]
    rankings = {p.id: rng.sample([a.id for a in people], 24) for p in projects}
    sch = flexible(caps={"Guangdong": rng.randint(3, 12)}, reserved_seats=reserved)
    result = match(projects, people, sch, mode="stable", rankings=rankings)
    assert verify(result, projects, people, sch) == []


# --- the setting -----------------------------------------------------------------------------------------


def test_a_cap_rule_other_than_the_two_is_a_match_error_naming_the_key_and_value():
    with pytest.raises(MatchError, match="cap_rule must be one of proportional, flexible, got 'fair'"):
        Scheme("x", 1, cap_rule="fair")
    from matching.engine import MatchError as EngineMatchError

    assert EngineMatchError is MatchError  # the engine's error, as the CLI and the backend catch it
