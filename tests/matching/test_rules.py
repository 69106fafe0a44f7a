"""Eligibility rules: boundaries, structured results, and scalar/vector agreement."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import pytest

from matching.model import Education
from matching.rules import RULES, RuleArrays, age_on, check_all, check_rule, describe, is_eligible
from tests.matching.matchkit import START, applicant, project, random_instance


def rule(checks, name):
    return next(c for c in checks if c.rule == name)


def test_checking_one_rule_gives_what_checking_all_gives_for_it():
    # An applicant failing several rules at once, so that a rule answered by another rule's check shows.
    a = applicant(date_of_birth=date(2012, 1, 1), origin="guangdong", education=Education.SECONDARY,
                  languages={}, available_from=date(2025, 7, 15), regions=("Beijing",), choices=("Q",),
                  open_to_other=False)
    p = project(origins=("hong_kong",), min_education=Education.BACHELOR, languages={"english": 3})
    checks = check_all(a, p)
    assert [check_rule(r, a, p) for r in RULES] == checks
    assert not any(c.passed for c in checks)


def test_age_counts_completed_years_and_birthday_on_the_day():
    assert age_on(date(2007, 7, 1), date(2025, 7, 1)) == 18
    assert age_on(date(2007, 7, 2), date(2025, 7, 1)) == 17


def test_leap_day_birthday_turns_older_on_first_of_march_in_common_years():
    born = date(2004, 2, 29)
    assert age_on(born, date(2022, 2, 28)) == 17
    assert age_on(born, date(2022, 3, 1)) == 18
    assert age_on(born, date(2024, 2, 29)) == 20


def test_applicant_turning_18_on_the_start_date_is_old_enough():
    a = applicant(date_of_birth=START.replace(year=START.year - 18))
    assert rule(check_all(a, project()), "age").passed


def test_applicant_turning_18_the_day_after_start_is_too_young_with_facts():
    a = applicant(date_of_birth=START.replace(year=START.year - 18) + timedelta(days=1))
    check = rule(check_all(a, project()), "age")
    assert not check.passed and check.code == "too_young"
    assert check.params["age"] == 17 and check.params["min_age"] == 18
    assert "below the minimum age 18" in describe(check)


def test_maximum_age_is_inclusive():
    p = project(max_age=29)  # starts 2025-07-01
    assert is_eligible(applicant(date_of_birth=date(1995, 7, 2)), p)  # still 29
    check = rule(check_all(applicant(date_of_birth=date(1995, 7, 1)), p), "age")  # turns 30
    assert (check.passed, check.code, check.params["age"]) == (False, "too_old", 30)


def test_someone_who_has_not_declared_where_they_are_from_is_admitted_nowhere():
    check = rule(check_all(applicant(origin=""), project(origins=("hong_kong", "guangdong"))), "origin")
    assert (check.passed, check.code) == (False, "origin_not_declared")


def test_a_programme_admits_the_origins_it_names_and_no_other():
    from_guangdong = applicant(origin="guangdong")
    hong_kong_only, mixed_cohort = project(), project(origins=("hong_kong", "guangdong"))
    check = rule(check_all(from_guangdong, hong_kong_only), "origin")
    assert (check.passed, check.code, check.params["admitted"]) == (False, "origin_not_admitted", ["hong_kong"])
    assert is_eligible(from_guangdong, mixed_cohort)
    assert is_eligible(applicant(origin="hong_kong"), mixed_cohort)
    with pytest.raises(ValueError, match="unknown origin"):
        project(origins=("macao",))


def test_education_must_reach_the_minimum():
    p = project(min_education=Education.BACHELOR)
    assert is_eligible(applicant(education=Education.BACHELOR), p)
    check = rule(check_all(applicant(education=Education.ASSOCIATE), p), "education")
    assert not check.passed
    assert check.params == {"education": "associate", "min_education": "bachelor"}


def test_language_shortfall_reports_language_required_and_actual():
    p = project(languages={"putonghua": 3, "english": 2})
    a = applicant(languages={"putonghua": 2, "english": 4})
    check = rule(check_all(a, p), "languages")
    assert not check.passed
    assert (check.params["language"], check.params["required"], check.params["actual"]) == (
        "putonghua", 3, 2)


def test_missing_language_counts_as_level_zero():
    check = rule(check_all(applicant(languages={}), project(languages={"english": 1})), "languages")
    assert not check.passed and check.params["actual"] == 0


def test_applicant_must_be_available_for_the_whole_internship():
    p = project()
    assert is_eligible(applicant(available_from=p.start_date, available_to=p.end_date), p)
    late = rule(check_all(applicant(available_from=p.start_date + timedelta(days=1)), p), "dates")
    short = rule(check_all(applicant(available_to=p.end_date - timedelta(days=1)), p), "dates")
    assert (late.passed, late.code) == (False, "available_too_late")
    assert (short.passed, short.code) == (False, "available_too_short")


def test_regions_empty_means_any_region():
    p = project(region="Beijing")
    assert is_eligible(applicant(), p)
    assert is_eligible(applicant(regions=("Beijing",)), p)
    assert not is_eligible(applicant(regions=("Guangdong",)), p)


def test_project_must_be_chosen_unless_open_to_other():
    p = project("P9")
    assert not is_eligible(applicant(choices=("P1",), open_to_other=False), p)
    assert is_eligible(applicant(choices=("P1", "P9"), open_to_other=False), p)
    check = rule(check_all(applicant(choices=("P1", "P9"), open_to_other=False), p), "choices")
    assert check.params["rank"] == 2
    assert is_eligible(applicant(open_to_other=True), p)


def test_check_all_returns_every_rule_in_order_even_when_failing():
    checks = check_all(applicant(origin=""), project())
    assert [c.rule for c in checks] == list(RULES)
    assert all(describe(c) for c in checks)


@pytest.mark.parametrize("seed", range(8))
def test_vectorised_rules_agree_with_scalar_rules(seed):
    projects, applicants = random_instance(random.Random(seed))
    arrays = RuleArrays(projects, applicants)
    matrix = arrays.matrix(np.arange(len(applicants)))
    per_rule = arrays.rule_matrices(np.arange(len(applicants)))
    ai, pj = np.meshgrid(np.arange(len(applicants)), np.arange(len(projects)), indexing="ij")
    pairs = arrays.pairs(ai.ravel(), pj.ravel()).reshape(matrix.shape)
    pair_rules = {rule: passed.reshape(matrix.shape) for rule, passed in arrays.pair_rules(ai.ravel(), pj.ravel()).items()}
    for i, a in enumerate(applicants):
        for j, p in enumerate(projects):
            checks = check_all(a, p)
            assert matrix[i, j] == is_eligible(a, p)
            assert pairs[i, j] == all(c.passed for c in checks if c.rule != "choices")
            for c in checks[:-1]:
                assert per_rule[c.rule][i, j] == c.passed, (c, a, p)
                assert pair_rules[c.rule][i, j] == c.passed, (c, a, p)
