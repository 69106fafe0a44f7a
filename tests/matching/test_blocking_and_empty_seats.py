"""The library's blocking-pair checker against brute-force oracles, the count stable mode reports, and why
empty places stayed empty (report["empty_seats"])."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from matching import match
from matching.engine import prepare, project_priorities
from matching.explain import EMPTY_SEAT_REASONS, build_result
from matching.model import MatchResult, Placement, Scheme
from matching.synthetic import generate, generate_rankings
from matching.verification import blocking_pairs
from tests.matching.matchkit import applicant, assert_valid, project, scheme
from tests.matching.test_stable import blocking_pairs as brute_blocking_pairs
from tests.matching.test_stable import preference_tables, random_tiny

BOTH = ("hong_kong", "guangdong")


def result_of(matching: dict[str, str]) -> MatchResult:
    """A hand-made result: only the placements matter to the checker."""
    return MatchResult([Placement(a, p, 0.0, None) for a, p in sorted(matching.items())], [], {})


def placed(result) -> dict[str, str]:
    return {p.applicant_id: p.project_id for p in result.placements}


def tight_scheme(seed: int) -> Scheme:
    rng = np.random.default_rng(seed)
    return scheme(budget=int(rng.integers(1, 6)) * 10_000, caps={"Guangdong": int(rng.integers(0, 3))})


# --- the library checker against the test's brute-force checker --------------------------------------


@pytest.mark.parametrize("mode", ["stable", "optimal"])
@pytest.mark.parametrize("seed", range(25))
def test_library_checker_agrees_with_the_brute_checker_on_solver_results(seed, mode):
    projects, people, rankings = random_tiny(seed + 300, n_projects=4, n_applicants=8)
    sch = tight_scheme(seed)
    result = match(projects, people, sch, mode=mode, rankings=rankings)
    prefers, rank_of = preference_tables(projects, people, sch, rankings)
    expected = sorted(brute_blocking_pairs(placed(result), prefers, rank_of, projects, sch))
    assert blocking_pairs(result, projects, people, sch, rankings=rankings) == expected


def test_library_checker_agrees_with_the_brute_checker_on_every_feasible_matching():
    # Arbitrary matchings, most of them unstable: the agreement covers envy and waste, funded or not.
    compared = found = 0
    for seed in range(12):
        projects, people, rankings = random_tiny(seed + 500, n_projects=3, n_applicants=4)
        sch = tight_scheme(seed)
        prefers, rank_of = preference_tables(projects, people, sch, rankings)
        for combo in itertools.product(*[[None] + prefers.get(a.id, []) for a in people]):
            m = {a.id: p for a, p in zip(people, combo, strict=True) if p is not None}
            if any(list(m.values()).count(p.id) > p.places for p in projects):
                continue
            expected = sorted(brute_blocking_pairs(m, prefers, rank_of, projects, sch))
            ours = blocking_pairs(result_of(m), projects, people, sch, rankings=rankings)
            assert ours == expected, (seed, m)
            compared, found = compared + 1, found + bool(expected)
    assert compared > 200 and found > 100  # the comparison is not vacuous


# --- a hand-made unstable result is caught ------------------------------------------------------------


def test_justified_envy_in_a_hand_made_result_is_found():
    projects = [project("X"), project("Y")]
    people = [applicant("a", choices=("X", "Y"), open_to_other=False),
              applicant("b", choices=("X", "Y"), open_to_other=False)]
    rankings = {"X": ["a", "b"], "Y": ["a", "b"]}
    swapped = result_of({"a": "Y", "b": "X"})  # X holds b although it ranks a first and a prefers X
    assert blocking_pairs(swapped, projects, people, scheme(), rankings=rankings) == [("a", "X")]
    assert blocking_pairs(result_of({"a": "X", "b": "Y"}), projects, people, scheme(), rankings=rankings) == []


def test_fundable_waste_blocks_only_when_the_budget_and_the_cap_can_fund_the_place():
    projects = [project("X", places=2)]
    people = [applicant("a", choices=("X",), open_to_other=False),
              applicant("b", choices=("X",), open_to_other=False)]
    half = result_of({"b": "X"})
    assert blocking_pairs(half, projects, people, scheme()) == [("a", "X")]
    assert blocking_pairs(half, projects, people, scheme(budget=39_999)) == []  # one place costs 20,000
    assert blocking_pairs(half, projects, people, scheme(caps={"Guangdong": 1})) == []


def test_a_pinned_placement_is_never_displaced_and_never_blocks():
    projects = [project("X")]
    people = [applicant("a", choices=("X",), open_to_other=False),
              applicant("b", choices=("X",), open_to_other=False)]
    result = match(projects, people, scheme(), mode="stable", rankings={"X": ["a", "b"]}, pinned=[("b", "X")])
    assert placed(result) == {"b": "X"} and result.report["blocking_pairs"] == 0
    assert blocking_pairs(result, projects, people, scheme(), rankings={"X": ["a", "b"]}, pinned=[("b", "X")]) == []
    # the same placement, not pinned, is envied
    assert blocking_pairs(result, projects, people, scheme(), rankings={"X": ["a", "b"]}) == [("a", "X")]


def test_a_free_seat_the_applicants_origin_may_not_take_is_not_waste():
    palace = project("PALACE", places=2, origins=BOTH, origin_seats={"guangdong": (1, 2)})
    people = [applicant("H1", choices=("PALACE",), open_to_other=False),
              applicant("H2", choices=("PALACE",), open_to_other=False)]
    first = {"PALACE": ["H1", "H2"]}
    one = result_of({"H1": "PALACE"})  # the other seat is kept for Guangdong
    assert blocking_pairs(one, [palace], people, scheme(), rankings=first) == []
    released = Scheme("released", 10**9, reserved_seats="release")
    assert blocking_pairs(one, [palace], people, released, rankings=first) == [("H2", "PALACE")]


# --- seats per origin and pinned placements: a swap-by-swap oracle -------------------------------------


def seat_limits(p, the_scheme):
    """Per origin (most, reserved): kept reserves are limits on the other side; released ones are priorities."""
    out = {}
    for o in BOTH:
        lo, hi = p.origin_seats.get(o, (0, p.places))
        if not p.origin_seats:
            out[o] = (p.places, 0)
        elif the_scheme.reserved_seats == "keep":
            out[o] = (p.most_seats(o), 0)
        else:
            out[o] = (min(hi, p.places), lo)
    return out


def brute_with_seats(m, prefers, rank_of, projects, people, the_scheme, pinned_ids):
    """(a, p) blocks when a prefers p and a single admissible change puts her there: a non-pinned holder
    ranked below her gives up the seat (the seats per origin still hold and no filled reserve is emptied),
    or a free place is funded on top of everything and her origin may take it."""
    by_id = {p.id: p for p in projects}
    origin = {a.id: a.origin for a in people}

    def admissible(holders, pid, before):
        limits = seat_limits(by_id[pid], the_scheme)
        for o, (most, lo) in limits.items():
            n = sum(1 for b in holders if origin[b] == o)
            if n > most or n < min(lo, before[o]):
                return False
        return True

    spent = sum(by_id[p].subsidy_per_place for p in m.values())
    found = []
    for a, lst in prefers.items():
        mine = lst.index(m[a]) if a in m else len(lst)
        for pid in lst[:mine]:
            holders = [b for b, q in m.items() if q == pid]
            before = {o: sum(1 for b in holders if origin[b] == o) for o in BOTH}
            envy = any(b not in pinned_ids and b in rank_of[pid] and rank_of[pid][a] < rank_of[pid][b]
                       and admissible([x for x in holders if x != b] + [a], pid, before) for b in holders)
            p = by_id[pid]
            region = sum(1 for q in m.values() if by_id[q].region == p.region)
            cap = the_scheme.region_caps.get(p.region)
            waste = (len(holders) < p.places and spent + p.subsidy_per_place <= the_scheme.budget_hkd
                     and (cap is None or region + 1 <= cap) and admissible(holders + [a], pid, before))
            if envy or waste:
                found.append((a, pid))
    return sorted(found)


def random_mixed(seed):
    rng = random.Random(seed)
    projects = []
    for k in range(3):
        places = rng.randint(1, 3)
        lo_h, lo_g = rng.randint(0, places), 0
        lo_g = rng.randint(0, places - lo_h)
        seats = rng.choice([{}, {"hong_kong": (lo_h, rng.randint(lo_h, places)),
                                 "guangdong": (lo_g, rng.randint(lo_g, places))},
                            {"hong_kong": (0, rng.randint(0, places))}])
        projects.append(project(f"P{k}", places=places, origins=BOTH, origin_seats=seats,
                                region=rng.choice(["Guangdong", "Beijing"]),
                                subsidy_per_place=rng.choice([10_000, 20_000])))
    people = [applicant(f"A{k}", origin=rng.choice(BOTH),
                        choices=tuple(rng.sample([p.id for p in projects], rng.randint(1, 3))),
                        open_to_other=False, statement=rng.choice(["finance", "museum"]))
              for k in range(6)]
    rankings = {p.id: rng.sample([a.id for a in people], rng.randint(0, 6)) for p in projects}
    budget = rng.choice([10**9, rng.randint(2, 8) * 10_000])
    sch = Scheme("mixed", budget, {"Guangdong": rng.randint(1, 5)} if rng.random() < 0.5 else {},
                 reserved_seats=rng.choice(["keep", "release"]))
    pinned = [(people[0].id, people[0].choices[0])] if rng.random() < 0.4 else []
    return projects, people, rankings, sch, pinned


def tables_with_pins(projects, people, the_scheme, rankings, pinned):
    problem = prepare(projects, people, the_scheme, pinned=pinned)
    priority = project_priorities(problem, rankings)
    prefers, rank_of = {}, {}
    for k in range(len(problem.arc_app)):
        a, p = people[problem.arc_app[k]].id, projects[problem.arc_proj[k]].id
        prefers.setdefault(a, []).append(p)
        rank_of.setdefault(p, {})[a] = int(priority[k])
    return prefers, rank_of


@pytest.mark.parametrize("seed", range(40))
def test_with_seats_per_origin_and_pins_the_checker_agrees_with_the_swap_oracle(seed):
    projects, people, rankings, sch, pinned = random_mixed(seed)
    try:
        result = match(projects, people, sch, mode="stable", rankings=rankings, pinned=pinned)
    except ValueError:  # a random pin that breaks a rule or overfills a project
        pytest.skip("infeasible pin")
    assert_valid(result, projects, people, sch)
    prefers, rank_of = tables_with_pins(projects, people, sch, rankings, pinned)
    pinned_ids = {a for a, _p in pinned}
    ours = blocking_pairs(result, projects, people, sch, rankings=rankings, pinned=pinned)
    assert ours == brute_with_seats(placed(result), prefers, rank_of, projects, people, sch, pinned_ids)
    assert result.report["blocking_pairs"] == len(ours)
    if result.report["solver"]["rationed"] is False:
        assert ours == []  # deferred acceptance with the seats' choice functions is stable
    # and on arbitrary matchings that respect the seats (most of them unstable)
    rng = random.Random(seed)
    for _ in range(15):
        m = {a: p for a, lst in prefers.items() if (p := rng.choice([None] + lst)) is not None}
        m.update(dict(pinned))
        guess = result_of(m)
        if any("at most" in x or "placements for" in x for x in _problems(guess, projects, people, sch)):
            continue
        assert (blocking_pairs(guess, projects, people, sch, rankings=rankings, pinned=pinned)
                == brute_with_seats(m, prefers, rank_of, projects, people, sch, pinned_ids))


def _problems(result, projects, people, sch):
    from matching import verify

    return verify(result, projects, people, sch)


# --- the count stable mode reports ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_stable_runs_with_binding_budget_and_cap_report_no_blocking_pair(seed):
    projects, people, sch = generate(n_projects=8, n_applicants=500, seed=seed, tight=True)
    rankings = generate_rankings(projects, people, seed=seed)
    result = match(projects, people, sch, mode="stable", rankings=rankings)
    assert result.report["solver"]["rationed"] is True
    assert result.report["blocking_pairs"] == 0 and result.report["blocking_pairs_checked"] is True
    assert blocking_pairs(result, projects, people, sch, rankings=rankings) == []
    optimal = match(projects, people, sch, mode="optimal")
    assert optimal.report["blocking_pairs"] is None and optimal.report["blocking_pairs_checked"] is False


@pytest.mark.parametrize("seed", range(20))
def test_tiny_stable_runs_with_binding_budget_and_caps_report_no_blocking_pair(seed):
    projects, people, rankings = random_tiny(seed + 100, n_projects=4, n_applicants=8)
    result = match(projects, people, tight_scheme(seed), mode="stable", rankings=rankings)
    assert result.report["blocking_pairs"] == 0


# --- empty seats -----------------------------------------------------------------------------------


def reasons(result) -> dict[str, tuple[str, int]]:
    return {row["project_id"]: (row["reason"], row["empty"]) for row in result.report["empty_seats"]}


def only(*choices, **kw):
    return dict(choices=choices, open_to_other=False, **kw)


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_nobody_listed_it_or_everyone_got_something_they_ranked_higher(mode):
    projects = [project("X"), project("Y", places=2), project("Z")]
    people = [applicant("a", **only("X", "Y")), applicant("b", **only("Y"))]
    result = match(projects, people, scheme(), mode=mode)
    assert reasons(result) == {"Y": ("all_placed_higher", 1), "Z": ("no_applicant", 1)}
    y = next(r for r in result.report["empty_seats"] if r["project_id"] == "Y")
    assert y == {"project_id": "Y", "empty": 1, "reason": "all_placed_higher", "places": 2, "placed": 1,
                 "eligible": 2}


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_the_budget_left_could_not_fund_another_place(mode):
    projects = [project("X", places=3)]
    people = [applicant(k, **only("X")) for k in "abc"]
    result = match(projects, people, scheme(budget=50_000), mode=mode)
    assert result.report["empty_seats"] == [{"project_id": "X", "empty": 1, "reason": "budget", "places": 3,
                                             "placed": 2, "budget_left_hkd": 10_000, "subsidy_per_place": 20_000}]


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_the_regions_cap_was_reached(mode):
    projects = [project("X", places=2), project("B", places=1, region="Beijing")]
    people = [applicant(k, **only("X")) for k in "ab"]
    result = match(projects, people, scheme(caps={"Guangdong": 1}), mode=mode)
    x = next(r for r in result.report["empty_seats"] if r["project_id"] == "X")
    assert (x["reason"], x["empty"], x["region"], x["cap"]) == ("regional_cap", 1, "Guangdong", 1)
    assert reasons(result)["B"] == ("no_applicant", 1)


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_seats_kept_for_an_origin_nobody_of_it_could_take(mode):
    palace = project("PALACE", places=4, origins=BOTH, origin_seats={"guangdong": (2, 4)})
    people = [applicant(f"H{k}", **only("PALACE")) for k in range(4)] + \
             [applicant("G0", origin="guangdong", **only("PALACE"))]
    result = match([palace], people, Scheme("keep", 10**9), mode=mode)
    assert result.report["empty_seats"] == [{"project_id": "PALACE", "empty": 1, "reason": "origin_seats",
                                             "places": 4, "placed": 3, "wanting": 2,
                                             "reserved_empty": {"guangdong": 1}}]


def forged(projects, people, sch, chosen: dict[str, str], *, mode: str, rationed: bool = False):
    """Explain a solver output given by hand (to reach the reasons a correct solver rarely leaves)."""
    problem = prepare(projects, people, sch)
    assigned = np.full(len(people), -1, np.int64)
    ids = [a.id for a in people]
    for k, (i, j) in enumerate(zip(problem.arc_app.tolist(), problem.arc_proj.tolist(), strict=True)):
        if chosen.get(ids[i]) == projects[j].id:
            assigned[i] = k
    info = {"rationed": rationed} if mode == "stable" else {}
    return build_result(problem, assigned, info, mode=mode, seed=1, top_k=15)


def test_rationed_placed_elsewhere_and_not_selected_name_what_is_left():
    projects = [project("X"), project("Y")]
    people = [applicant("a", **only("X", "Y"))]
    # a stable run that was rationed and left a place it could now fund
    assert reasons(forged(projects, people, scheme(), {}, mode="stable", rationed=True)) == {
        "X": ("rationed", 1), "Y": ("rationed", 1)}
    # optimal mode put a at her second choice: the first stays empty though she wanted it
    assert reasons(forged(projects, people, scheme(), {"a": "Y"}, mode="optimal")) == {"X": ("placed_elsewhere", 1)}
    # nobody holds the reason: a wanting applicant is unplaced and the place could be funded
    assert reasons(forged(projects, people, scheme(), {}, mode="optimal")) == {
        "X": ("not_selected", 1), "Y": ("not_selected", 1)}


@pytest.mark.parametrize("seed", range(30))
def test_empty_seats_add_up_and_stable_runs_leave_no_place_a_blocking_pair_could_fill(seed):
    projects, people, rankings = random_tiny(seed + 700, n_projects=4, n_applicants=8)
    sch = tight_scheme(seed) if seed % 2 else scheme()
    for mode in ("stable", "optimal"):
        result = match(projects, people, sch, mode=mode, rankings=rankings if mode == "stable" else None)
        rows = result.report["empty_seats"]
        assert sum(r["empty"] for r in rows) == result.report["places_total"] - result.report["placed"]
        assert all(r["empty"] > 0 and r["reason"] in EMPTY_SEAT_REASONS for r in rows)
        assert len({r["project_id"] for r in rows}) == len(rows)
        if mode == "stable":
            assert result.report["blocking_pairs"] == 0
            assert {r["reason"] for r in rows} <= {"no_applicant", "all_placed_higher", "origin_seats", "budget",
                                                   "regional_cap"}
