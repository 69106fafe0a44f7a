"""Seats per origin: a mixed cohort of Hong Kong and Guangdong youth holds the seats each side is given,
in both modes, and says what happens to reserved seats one side leaves empty."""

from __future__ import annotations

from collections import Counter

import pytest

from matching import match, verify
from matching.model import Scheme
from tests.matching.matchkit import applicant, assert_valid, project

BOTH = ("hong_kong", "guangdong")
HALF_AND_HALF = {"hong_kong": (20, 20), "guangdong": (20, 20)}
# Twenty seats reserved for each side, and no other limit.
RESERVED = {"hong_kong": (20, 40), "guangdong": (20, 40)}


def cohort(n_hong_kong: int, n_guangdong: int, **seats):
    palace = project("PALACE", places=40, origins=BOTH, origin_seats=seats or HALF_AND_HALF)
    people = ([applicant(f"H{k:02d}", choices=("PALACE",), open_to_other=False) for k in range(n_hong_kong)]
              + [applicant(f"G{k:02d}", origin="guangdong", choices=("PALACE",), open_to_other=False)
                 for k in range(n_guangdong)])
    return [palace], people


def by_origin(result, people) -> Counter:
    origin = {a.id: a.origin for a in people}
    return Counter(origin[p.applicant_id] for p in result.placements)


@pytest.mark.parametrize("mode", ["optimal", "stable", "exact"])
def test_a_half_and_half_cohort_takes_twenty_from_each_side_however_many_apply(mode):
    projects, people = cohort(30, 30)
    result = match(projects, people, Scheme("mixed", 10**9), mode=mode)
    assert by_origin(result, people) == {"hong_kong": 20, "guangdong": 20}
    assert_valid(result, projects, people, Scheme("mixed", 10**9))


@pytest.mark.parametrize("mode", ["optimal", "stable"])
def test_reserved_seats_left_empty_stay_empty_when_the_officer_keeps_them(mode):
    projects, people = cohort(30, 8, **RESERVED)
    result = match(projects, people, Scheme("mixed", 10**9, reserved_seats="keep"), mode=mode)
    assert by_origin(result, people) == {"hong_kong": 20, "guangdong": 8}
    reasons = {u.applicant_id: u for u in result.unplaced}
    assert len(reasons) == 10
    assert {u.reason_code for u in reasons.values()} == {"origin_seats_full"}
    assert reasons["H29"].params == {"project_id": "PALACE", "origin": "hong_kong", "seats": 20}


def test_reserved_seats_left_empty_go_to_the_other_side_when_the_officer_releases_them():
    projects, people = cohort(30, 8, **RESERVED)
    released = Scheme("mixed", 10**9, reserved_seats="release")
    result = match(projects, people, released, mode="stable")
    assert by_origin(result, people) == {"hong_kong": 30, "guangdong": 8}
    assert_valid(result, projects, people, released)
    # the same result is a breach where reserved seats are kept
    assert any("at most 20 allowed" in p for p in verify(result, projects, people, Scheme("kept", 10**9)))


def test_released_seats_still_go_first_to_the_origin_they_were_reserved_for():
    projects, people = cohort(60, 25, **RESERVED)
    result = match(projects, people, Scheme("mixed", 10**9, reserved_seats="release"), mode="stable")
    # 20 seats for each side first; the Guangdong side's reserve is full, so nobody crosses over
    assert by_origin(result, people) == {"hong_kong": 20, "guangdong": 20}


def test_at_most_a_share_from_one_side_and_the_projects_ranking_decides_within_it():
    palace = project("PALACE", places=10, origins=BOTH, origin_seats={"hong_kong": (0, 6)})
    people = [applicant(f"H{k}", choices=("PALACE",), open_to_other=False) for k in range(8)] + \
             [applicant(f"G{k}", origin="guangdong", choices=("PALACE",), open_to_other=False) for k in range(2)]
    ranking = {"PALACE": [f"H{k}" for k in range(7, -1, -1)] + ["G0", "G1"]}
    result = match([palace], people, Scheme("share", 10**9), mode="stable", rankings=ranking)
    placed = {p.applicant_id for p in result.placements}
    assert by_origin(result, people) == {"hong_kong": 6, "guangdong": 2}
    assert placed >= {"H7", "H6", "H5", "H4", "H3", "H2"} and not placed & {"H0", "H1"}


def test_seats_that_cannot_add_up_are_refused():
    with pytest.raises(ValueError, match="add up to more than the places"):
        project("P", places=10, origins=BOTH, origin_seats={"hong_kong": (6, 10), "guangdong": (6, 10)})
    with pytest.raises(ValueError, match="fewest <= most"):
        project("P", places=10, origins=BOTH, origin_seats={"hong_kong": (5, 3)})
    with pytest.raises(ValueError, match="reserved_seats"):
        Scheme("x", 1, reserved_seats="share")


def test_the_files_carry_seats_per_origin_and_the_rule_for_reserved_seats_checked_line_by_line():
    from matching.io import format_projects, format_scheme, parse_projects, parse_scheme

    text = format_projects([project("PALACE", places=40, origins=BOTH, origin_seats=RESERVED), project("P2")])
    rows, errors = parse_projects(text)
    assert errors == [] and rows[0].origin_seats == RESERVED and rows[1].origin_seats == {}
    broken = text.replace("guangdong=20-40", "guangdong=30-40").replace("hong_kong=20-40", "hong_kong=5-2")
    _rows, errors = parse_projects(broken)
    assert [(e.line, e.column, e.code) for e in errors] == [(2, "origin_seats", "invalid_origin_seats")]
    over = text.replace("guangdong=20-40", "guangdong=30-40")
    _rows, errors = parse_projects(over)
    assert [(e.line, e.column, e.code) for e in errors] == [(2, "origin_seats", "origin_seats_over_places")]

    released = Scheme("mixed", 5_000_000, {}, "release")
    assert parse_scheme(format_scheme(released)) == (released, [])
    scheme, errors = parse_scheme('{"name": "x", "budget_hkd": 1, "reserved_seats": "share"}')
    assert scheme is None and [e.code for e in errors] == ["invalid_reserved_seats"]
