"""Optimal mode: hard constraints, agreement with an exact MIP, priorities, pins."""

from __future__ import annotations

import gc
import random

import pytest

from matching import match
from matching.engine import MatchError
from matching.rules import RULES, check_all
from matching.synthetic import generate
from tests.matching.matchkit import applicant, assert_valid, project, random_instance, scheme


def small_tight(seed: int, n_projects: int = 5, n_applicants: int = 260):
    return generate(n_projects=n_projects, n_applicants=n_applicants, seed=seed, tight=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_budget_places_and_regional_cap_are_never_exceeded_when_binding(seed):
    projects, applicants, sch = generate(n_projects=12, n_applicants=900, seed=seed, tight=True)
    result = match(projects, applicants, sch)
    assert_valid(result, projects, applicants, sch)
    report = result.report
    assert report["budget_used_hkd"] <= sch.budget_hkd
    assert report["regions"]["Guangdong"]["placed"] <= sch.region_caps["Guangdong"]
    assert report["solver"]["budget_binding"]
    assert report["gap"] < 0.01


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_optimal_matches_an_exact_mip_within_the_reported_gap(seed):
    projects, applicants, sch = small_tight(seed)
    fast = match(projects, applicants, sch, top_k=5)
    exact = match(projects, applicants, sch, top_k=5, mode="exact")
    assert_valid(fast, projects, applicants, sch)
    assert_valid(exact, projects, applicants, sch)
    assert exact.report["solver"]["status"] == "Optimal"
    mip = exact.report["objective"]
    assert mip <= fast.report["bound"] + 1e-6  # the dual bound really bounds the optimum
    assert fast.report["objective"] >= mip * (1 - fast.report["gap"]) - 1e-6
    assert fast.report["objective"] <= mip + 1e-6


def test_optimal_is_exact_when_budget_does_not_bind():
    projects, applicants, sch = generate(n_projects=5, n_applicants=260, seed=5)
    fast = match(projects, applicants, sch, top_k=5)
    exact = match(projects, applicants, sch, top_k=5, mode="exact")
    assert fast.report["gap"] == 0.0
    assert fast.report["objective"] == pytest.approx(exact.report["objective"])


@pytest.mark.parametrize("seed", [21, 22, 23])
@pytest.mark.parametrize("tight", [False, True])
def test_optimal_places_at_least_as_many_applicants_as_stable(seed, tight):
    projects, applicants, sch = generate(n_projects=8, n_applicants=600, seed=seed, tight=tight)
    opt = match(projects, applicants, sch)
    stab = match(projects, applicants, sch, mode="stable")
    assert_valid(opt, projects, applicants, sch)
    assert_valid(stab, projects, applicants, sch)
    assert opt.report["placed"] >= stab.report["placed"]


def test_higher_ranked_choice_is_honoured_when_both_have_room():
    projects = [project("P1", places=1), project("P2", places=1)]
    people = [applicant("A1", choices=("P2", "P1"), open_to_other=False)]
    result = match(projects, people, scheme())
    assert [(p.project_id, p.choice_rank) for p in result.placements] == [("P2", 1)]
    assert result.placements[0].reasons[0].text == "your 1st choice"


@pytest.mark.parametrize("mode", ["optimal", "stable"])
def test_choice_rank_counts_where_the_project_first_comes_in_her_choices(mode):
    # Unknown ids still take a position, a repeated project counts where it first comes; a suggestion has none.
    projects = [project("X"), project("Y"), project("Z")]
    people = [applicant("A", choices=("NOPE", "Y", "NOPE", "Y"), open_to_other=False),
              applicant("B", open_to_other=True),
              applicant("C", choices=("NOPE", "Y", "Z"), open_to_other=False)]
    result = match(projects, people, scheme(), mode=mode, pinned=[("C", "Z")])
    got = {p.applicant_id: (p.project_id, p.choice_rank, [r.text for r in p.reasons if r.code == "choice"])
           for p in result.placements}
    assert got == {"A": ("Y", 2, ["your 2nd choice"]), "B": ("X", None, []), "C": ("Z", 3, ["your 3rd choice"])}


@pytest.mark.parametrize("enabled", [True, False])
def test_matching_leaves_the_garbage_collector_as_it_found_it(enabled):
    # match pauses the collector while it works (matching.collector); it must not leave it off,
    # nor turn it on for a caller that had it off.
    projects, people = [project("X")], [applicant("A", choices=("X",), open_to_other=False)]
    try:
        gc.enable() if enabled else gc.disable()
        match(projects, people, scheme())
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_two_results_explained_at_once_in_two_threads_leave_the_collector_on():
    # The first pause ends while the second is still going: the collector must stay off until the second
    # ends, then be on again (a per-call "as it was" would leave it off for good: the second saw it off).
    import threading

    from matching.collector import collector_paused

    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with collector_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with collector_paused():
            second_in.set()
            first_out.wait(5)
            seen["while the second still runs"] = gc.isenabled()

    gc.enable()
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"while the second still runs": False}
    assert gc.isenabled()


def test_first_timer_gets_the_last_place_over_a_returning_participant():
    projects = [project("P1", places=1)]
    people = [applicant("A1", choices=("P1",), first_timer=False),
              applicant("A2", choices=("P1",), first_timer=True)]
    result = match(projects, people, scheme())
    assert [p.applicant_id for p in result.placements] == ["A2"]
    assert result.unplaced[0].reason_code == "outcompeted"


def test_budget_limits_placements_and_unplaced_reason_says_so():
    projects = [project("P1", places=3, subsidy_per_place=20_000)]
    people = [applicant(f"A{k}", choices=("P1",)) for k in range(3)]
    sch = scheme(budget=45_000)
    result = match(projects, people, sch)
    assert_valid(result, projects, people, sch)
    assert len(result.placements) == 2
    (left,) = result.unplaced
    assert left.reason_code == "budget_exhausted"
    assert left.params["budget_left"] == 5_000 and "budget" in left.text


def test_regional_cap_limits_placements_and_unplaced_reason_says_so():
    projects = [project("P1", places=3, region="Guangdong")]
    people = [applicant(f"A{k}", choices=("P1",)) for k in range(3)]
    sch = scheme(caps={"Guangdong": 1})
    result = match(projects, people, sch)
    assert_valid(result, projects, people, sch)
    assert len(result.placements) == 1
    assert {u.reason_code for u in result.unplaced} == {"regional_cap_exhausted"}


def test_ineligible_applicant_gets_the_most_common_failing_rule():
    projects = [project("P1", min_age=18), project("P2", min_age=18, languages={"english": 5})]
    young = applicant("A1", date_of_birth=project().start_date.replace(year=2010),
                      choices=("P1", "P2"), open_to_other=False)
    result = match(projects, [young], scheme())
    (u,) = result.unplaced
    assert (u.reason_code, u.params["rule"], u.params["failed"]) == ("ineligible", "age", 2)
    assert "below the minimum age" in u.text


@pytest.mark.parametrize("seed", range(4))
def test_each_applicant_eligible_nowhere_is_told_the_rule_most_of_her_projects_fail_and_the_first_it_fails_at(seed):
    # Checked one pair at a time against the plain rules: her choices are considered, or every project
    # when she is open to others; the most failed rule wins (ties: the earlier rule), with the first
    # project, in the scheme's order, where it fails.
    projects, people = random_instance(random.Random(seed), n_projects=15, n_applicants=150)
    result = match(projects, people, scheme(), mode=("optimal", "stable")[seed % 2])
    told = {u.applicant_id: u for u in result.unplaced if u.reason_code in ("ineligible", "no_choices")}
    eligible_somewhere = set()
    seen_open, seen_closed = 0, 0
    for a in people:
        considered = [p for p in projects if a.open_to_other or p.id in a.choices]
        failing = {p.id: [c.rule for c in check_all(a, p)[:-1] if not c.passed] for p in considered}
        if any(not rules for rules in failing.values()):
            eligible_somewhere.add(a.id)
            continue
        u = told.pop(a.id)
        if not considered:
            assert u.reason_code == "no_choices"
            continue
        counts = {rule: sum(rule in rules for rules in failing.values()) for rule in RULES[:-1]}
        worst = max(counts, key=lambda rule: (counts[rule], -RULES.index(rule)))
        example = next(pid for pid, rules in failing.items() if worst in rules)
        assert (u.reason_code, u.params["rule"], u.params["failed"], u.params["considered"],
                u.params["example_project"]) == ("ineligible", worst, counts[worst], len(considered), example)
        seen_open += a.open_to_other
        seen_closed += not a.open_to_other
    assert told == {}  # nobody eligible somewhere was told otherwise
    assert seen_open and seen_closed


def test_pinned_placement_is_kept_and_counts_against_places():
    projects = [project("P1", places=1), project("P2", places=1)]
    people = [applicant("A1", choices=("P1",), open_to_other=False),
              applicant("A2", choices=("P1", "P2"), open_to_other=False)]
    result = match(projects, people, scheme(), pinned=[("A2", "P1")])
    assert_valid(result, projects, people, scheme())
    assert {(p.applicant_id, p.project_id) for p in result.placements} == {("A2", "P1")}
    assert result.report["pinned"] == 1
    assert result.placements[0].reasons[0].code == "pinned"


def test_pinning_an_ineligible_pair_is_a_clear_error():
    people = [applicant("A1", origin="")]
    with pytest.raises(MatchError, match="origin"):
        match([project("P1")], people, scheme(), pinned=[("A1", "P1")])


def test_excluded_pair_is_never_proposed():
    projects = [project("P1"), project("P2")]
    people = [applicant("A1", choices=("P1", "P2"))]
    result = match(projects, people, scheme(), excluded=[("A1", "P1")])
    assert_valid(result, projects, people, scheme(), excluded=[("A1", "P1")])
    assert [p.project_id for p in result.placements] == ["P2"]


@pytest.mark.parametrize("mode", ["optimal", "stable"])
def test_edge_cases_do_not_crash(mode):
    empty = match([project("P1")], [], scheme(), mode=mode)
    assert empty.placements == [] and empty.report["placed"] == 0
    no_projects = match([], [applicant("A1")], scheme(), mode=mode)
    assert no_projects.unplaced[0].reason_code == "no_choices"
    zero = [project("P0", places=0), project("P1", places=5)]
    few = [applicant("A1", choices=("P0", "P1")), applicant("A2", choices=("P0",),
                                                             open_to_other=False)]
    result = match(zero, few, scheme(), mode=mode,
                   rankings={"P1": ["A2", "ghost"], "P0": [], "NOPE": ["A1"]})
    assert_valid(result, zero, few, scheme())
    assert [p.project_id for p in result.placements] == ["P1"]
    assert result.unplaced[0].applicant_id == "A2"
    if mode == "stable":
        assert any("rankings" in w for w in result.report["warnings"])


def test_progress_reports_every_stage_and_timings():
    seen = []
    projects, applicants, sch = generate(n_projects=5, n_applicants=200, seed=3)
    result = match(projects, applicants, sch, progress=lambda s, f: seen.append((s, f)))
    stages = [s for s, f in seen if f == 0.0]
    assert stages[:5] == ["load", "text", "rules", "solve", "explain"]
    assert set(result.report["timings_s"]) >= {"load", "text", "rules", "solve", "explain"}
