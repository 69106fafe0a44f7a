"""Regional caps in stable mode: proportional rationing (the default) or Kamada and Kojima's flexible deferred
acceptance, which the officer may choose. Flexible keeps every limit, leaves no admissible blocking pair, wastes
no seat under a cap, and no applicant gains by misreporting her list; proportional rationing can be gamed."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random

import numpy as np
import pytest

from matching import match
from matching.io import parse_scheme
from matching.model import Scheme
from matching.stable import flexible_targets
from matching.synthetic import generate, generate_rankings
from tests.matching.matchkit import applicant, assert_valid, project, scheme
from tests.matching.test_stable import blocking_pairs, preference_tables, textbook_da


def placed(projects, people, sch, rankings, rule) -> dict[str, str]:
    result = match(projects, people, dataclasses.replace(sch, cap_rule=rule), mode="stable", rankings=rankings)
    return {p.applicant_id: p.project_id for p in result.placements}


def gains_by_misreporting(projects, people, sch, rankings, rule):
    """The first applicant who gets a project she truly prefers by submitting another list, or None."""
    truth = placed(projects, people, sch, rankings, rule)
    ids = [p.id for p in projects]
    for i, person in enumerate(people):
        true_list = list(person.choices)

        def rank(pid, true_list=true_list):
            return true_list.index(pid) if pid in true_list else len(true_list)

        for n in range(len(ids) + 1):
            for other_list in itertools.permutations(ids, n):
                lying = [*people[:i], dataclasses.replace(person, choices=other_list), *people[i + 1:]]
                if rank(placed(projects, lying, sch, rankings, rule).get(person.id)) < rank(truth.get(person.id)):
                    return person.id, other_list
    return None


def museum_market():
    """Two Guangdong projects sharing a cap of one place, one Beijing project; everyone ranked by every project."""
    projects = [project("Museum", places=2), project("Archive", places=2),
                project("Panda", places=2, region="Beijing", city="Beijing")]
    people = [applicant("Ann", choices=("Panda", "Museum", "Archive"), open_to_other=False),
              applicant("Bo", choices=("Archive", "Museum", "Panda"), open_to_other=False),
              applicant("Cy", choices=("Archive", "Museum"), open_to_other=False),
              applicant("Di", choices=("Panda",), open_to_other=False)]
    rankings = {"Museum": ["Ann", "Cy", "Bo", "Di"], "Archive": ["Bo", "Cy", "Ann", "Di"],
                "Panda": ["Ann", "Di", "Cy", "Bo"]}
    return projects, people, scheme(caps={"Guangdong": 1}), rankings


def test_proportional_rationing_can_be_gamed_and_flexible_deferred_acceptance_cannot():
    projects, people, sch, rankings = museum_market()

    # Truthful, Cy is left out under proportional rationing; leaving out her first choice wins her the Museum.
    assert "Cy" not in placed(projects, people, sch, rankings, "proportional")
    assert gains_by_misreporting(projects, people, sch, rankings, "proportional") == ("Cy", ("Museum",))
    # Under flexible deferred acceptance no one gains by any list she could submit.
    assert gains_by_misreporting(projects, people, sch, rankings, "flexible") is None


def test_flexible_targets_share_the_cap_in_proportion_and_give_the_rest_in_order():
    places = np.array([4, 2, 2, 5])
    region = np.array([0, 0, 0, 1])
    assert flexible_targets(places, region, np.array([5, -1])).tolist() == [3, 1, 1, 5]
    assert flexible_targets(places, region, np.array([8, 3])).tolist() == [4, 2, 2, 3]  # 8 fits: not binding


def test_a_region_under_its_cap_takes_a_popular_projects_extra_applicants_instead_of_leaving_seats_empty():
    """Two projects in a region capped at 3: proportional targets give each one or two, but only the first is
    wanted, so the region fills its cap from the first project's applicants."""
    projects = [project("Popular", places=3), project("Quiet", places=3)]
    people = [applicant(f"A{k}", choices=("Popular",), open_to_other=False) for k in range(4)]
    sch = scheme(caps={"Guangdong": 3})
    result = match(projects, people, dataclasses.replace(sch, cap_rule="flexible"), mode="stable")
    assert_valid(result, projects, people, sch)
    assert len(result.placements) == 3 and {p.project_id for p in result.placements} == {"Popular"}
    assert result.report["cap_rule"] == "flexible"


def random_market(seed: int):
    rng = random.Random(seed)
    projects = [project(f"P{k}", places=rng.randint(0, 2), region=rng.choice(["Guangdong", "Guangdong", "Beijing"]),
                        subsidy_per_place=rng.choice([10_000, 20_000])) for k in range(4)]
    people = [applicant(f"A{k}", choices=tuple(rng.sample([p.id for p in projects], rng.randint(0, 4))),
                        open_to_other=rng.random() < 0.3, first_timer=rng.random() < 0.5)
              for k in range(7)]
    rankings = {p.id: rng.sample([a.id for a in people], rng.randint(0, 7)) for p in projects}
    return projects, people, rankings, rng


@pytest.mark.parametrize("seed", range(25))
def test_flexible_keeps_every_limit_and_leaves_no_admissible_blocking_pair(seed):
    projects, people, rankings, rng = random_market(seed)
    sch = Scheme("test scheme", rng.randint(2, 12) * 10_000, {"Guangdong": rng.randint(0, 3)}, cap_rule="flexible")
    result = match(projects, people, sch, mode="stable", rankings=rankings)
    assert_valid(result, projects, people, sch)
    prefers, rank_of = preference_tables(projects, people, sch, rankings)
    ours = {p.applicant_id: p.project_id for p in result.placements}
    assert blocking_pairs(ours, prefers, rank_of, projects, sch) == []


@pytest.mark.parametrize("seed", range(3))
def test_flexible_at_scale_keeps_every_limit_and_leaves_no_admissible_blocking_pair(seed):
    projects, people, sch = generate(n_projects=10, n_applicants=600, seed=seed, tight=True)
    rankings = generate_rankings(projects, people, seed=seed)
    flexible = match(projects, people, dataclasses.replace(sch, cap_rule="flexible"), mode="stable",
                     rankings=rankings)
    assert_valid(flexible, projects, people, sch)
    prefers, rank_of = preference_tables(projects, people, sch, rankings)
    ours = {p.applicant_id: p.project_id for p in flexible.placements}
    assert blocking_pairs(ours, prefers, rank_of, projects, sch) == []


@pytest.mark.parametrize("seed", range(12))
def test_no_applicant_gains_by_misreporting_under_flexible_caps(seed):
    rng = random.Random(seed)
    projects = [project(f"P{k}", places=rng.randint(1, 2), region="Guangdong" if k < 2 else "Beijing")
                for k in range(3)]
    people = [applicant(f"A{k}", choices=tuple(rng.sample([p.id for p in projects], rng.randint(1, 3))),
                        open_to_other=False) for k in range(4)]
    rankings = {p.id: rng.sample([a.id for a in people], len(people)) for p in projects}
    sch = scheme(caps={"Guangdong": rng.randint(1, 2)})
    assert gains_by_misreporting(projects, people, sch, rankings, "flexible") is None


@pytest.mark.parametrize("seed", range(4))
def test_without_a_binding_cap_both_rules_are_plain_deferred_acceptance(seed):
    projects, people, sch = generate(n_projects=6, n_applicants=300, seed=seed)
    rankings = generate_rankings(projects, people, seed=seed)
    prefers, rank_of = preference_tables(projects, people, sch, rankings)
    expected = textbook_da(prefers, rank_of, {p.id: p.places for p in projects})
    assert placed(projects, people, sch, rankings, "flexible") == expected
    assert placed(projects, people, sch, rankings, "proportional") == expected


def test_proportional_is_the_default_and_reported():
    projects, people, sch, rankings = museum_market()
    assert sch.cap_rule == "proportional"
    default = match(projects, people, sch, mode="stable", rankings=rankings)
    assert default.report["cap_rule"] == "proportional"
    assert {(p.applicant_id, p.project_id) for p in default.placements} == set(
        placed(projects, people, sch, rankings, "proportional").items())
    assert match(projects, people, sch, mode="optimal").report["cap_rule"] is None
    with pytest.raises(ValueError, match="cap_rule must be one of proportional, flexible"):
        Scheme("s", 1, {}, cap_rule="random")


def test_the_scheme_file_takes_the_cap_rule_and_names_the_key_when_it_is_wrong(tmp_path):
    good = tmp_path / "scheme.json"
    good.write_text(json.dumps({"name": "s", "budget_hkd": 100, "region_caps": {"Guangdong": 1},
                                "cap_rule": "flexible"}))
    loaded, errors = parse_scheme(good)
    assert errors == [] and loaded.cap_rule == "flexible"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "s", "budget_hkd": 100, "cap_rule": "lottery"}))
    loaded, [error] = parse_scheme(bad)
    assert loaded is None and error.column == "cap_rule" and "proportional, flexible" in error.text
