"""The policy: the weights that decide between applicants (first-timer priority, choice rank, text fit)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matching import Policy, match
from matching.cli import main
from matching.engine import PLACEMENT_VALUE, prepare
from matching.fields import sector_of_field, sector_of_project
from matching.scoring import choice_points
from matching.synthetic import generate, write_csv
from matching.tradeoff import LIGHTER_PRIORITY, alternatives, compare
from tests.matching.matchkit import applicant, assert_valid, project, scheme

MUSEUM = "museum exhibition curation archaeology art history"


def one_place_two_people():
    """One place; a first-timer who fits it a little, and someone who took part before and fits it well."""
    projects = [project("P1", description=MUSEUM)]
    applicants = [applicant("A1", skills="museum", first_timer=True),
                  applicant("A2", skills=MUSEUM, first_timer=False)]
    return projects, applicants, scheme()


def placed(result) -> dict[str, str]:
    return {p.applicant_id: p.project_id for p in result.placements}


def test_the_default_policy_is_the_weights_rounds_always_used():
    assert Policy() == Policy(first_timer_priority=300, choice_weight=100, fit_weight=40)
    projects, applicants, sch = generate(n_projects=12, n_applicants=600, seed=5)
    problem = prepare(projects, applicants, sch)
    first = np.array([a.first_timer for a in applicants])[problem.arc_app]
    # Today's value of a pair: a placement, 300 for a first-timer, ten units per point of
    # (choice points + 40 x fit).
    expected = (PLACEMENT_VALUE + 300 * first
                + np.rint(10 * (choice_points(problem.arc_rank) + 40 * problem.arc_fit))).astype(np.int64)
    assert np.array_equal(problem.arc_value, expected)
    for mode in ("optimal", "stable"):
        default, explicit = match(projects, applicants, sch, mode=mode), match(projects, applicants, sch, mode=mode,
                                                                              policy=Policy(300, 100, 40))
        assert default.placements == explicit.placements
        assert default.report["objective"] == explicit.report["objective"]
        assert default.report["policy"] == {"first_timer_priority": 300, "choice_weight": 100, "fit_weight": 40}


def test_first_timer_priority_places_the_first_timer_and_without_it_the_better_fit_wins():
    projects, applicants, sch = one_place_two_people()
    assert placed(match(projects, applicants, sch)) == {"A1": "P1"}
    without = match(projects, applicants, sch, policy=Policy(first_timer_priority=0))
    assert placed(without) == {"A2": "P1"}
    assert_valid(without, projects, applicants, sch)


def test_without_first_timer_priority_no_placement_gives_it_as_a_reason():
    projects, applicants, sch = one_place_two_people()
    with_it = match(projects, applicants, sch).placements[0]
    assert "first_timer" in {r.code for r in with_it.reasons}
    applicants = [applicants[0]]
    without = match(projects, applicants, sch, policy=Policy(first_timer_priority=0)).placements[0]
    assert "first_timer" not in {r.code for r in without.reasons}


def chooser():
    """She ranks P2 first and P1 second, but her profile fits P1."""
    projects = [project("P1", description=MUSEUM), project("P2", description="fintech investment risk excel")]
    applicants = [applicant("A1", skills="museum exhibition curation archaeology", choices=("P2", "P1"),
                            open_to_other=False)]
    return projects, applicants, scheme()


def test_weighting_choice_rank_more_places_her_at_her_first_choice():
    projects, applicants, sch = chooser()
    assert placed(match(projects, applicants, sch)) == {"A1": "P1"}  # fit outweighs one rank by default
    doubled = match(projects, applicants, sch, policy=Policy(choice_weight=200))
    assert placed(doubled) == {"A1": "P2"}
    assert doubled.placements[0].score == 120.0  # twice the 60 points of a first choice, no fit


def test_without_weight_on_fit_the_choice_rank_alone_decides():
    projects, applicants, sch = chooser()
    result = match(projects, applicants, sch, policy=Policy(fit_weight=0))
    assert placed(result) == {"A1": "P2"}
    assert result.placements[0].score == 60.0


@pytest.mark.parametrize("weights", [dict(first_timer_priority=-1), dict(first_timer_priority=5001),
                                     dict(choice_weight=201), dict(fit_weight=101), dict(fit_weight=2.5)])
def test_a_weight_outside_its_bounds_is_refused(weights):
    with pytest.raises(ValueError):
        Policy(**weights)


def test_a_stored_policy_reads_back_and_missing_weights_keep_their_defaults():
    assert Policy.from_dict({"first_timer_priority": 75}) == Policy(75, 100, 40)
    assert Policy.from_dict(None) == Policy()
    assert Policy.from_dict(Policy(0, 50, 60).as_dict()) == Policy(0, 50, 60)


def test_the_command_line_takes_the_weights_and_refuses_one_out_of_bounds(tmp_path, capsys):
    projects, applicants, sch = one_place_two_people()
    paths = write_csv(tmp_path, projects, applicants, sch)

    def run(*extra):
        return main(["--projects", str(paths["projects"]), "--applicants", str(paths["applicants"]),
                     "--scheme", str(paths["scheme"]), "--out", str(tmp_path / "out.csv"),
                     "--report", str(tmp_path / "report.json"), "--quiet", *extra])

    assert run() == 0
    assert "A1,P1" in (tmp_path / "out.csv").read_text()
    assert run("--first-timer-priority", "0") == 0
    assert "A2,P1" in (tmp_path / "out.csv").read_text()
    assert json.loads((tmp_path / "report.json").read_text())["policy"]["first_timer_priority"] == 0
    with pytest.raises(SystemExit) as stopped:
        run("--first-timer-priority", "9000")
    assert stopped.value.code == 2
    assert "outside 0 to 5000" in capsys.readouterr().err


def test_own_field_reads_fields_of_study_in_either_language():
    assert sector_of_field("Computer Science") == "technology"
    assert sector_of_field("會計學") == "finance"
    assert sector_of_field("Political Science 政治學") == "law"
    assert sector_of_field("Astrology") is None
    assert sector_of_project("Technology 科技") == "technology"
    assert sector_of_project("heritage and museums") == "heritage"
    assert sector_of_project("") is None


def test_the_trade_off_shows_what_the_priority_costs_in_fit_and_own_field():
    sch = scheme()
    projects = [project("P1", description=MUSEUM, sector="heritage and museums")]
    applicants = [applicant("A1", skills="museum", field_of_study="Accounting", first_timer=True),
                  applicant("A2", skills=MUSEUM, field_of_study="History", first_timer=False)]
    scheme_, lighter, off = compare(projects, applicants, sch, alternatives(Policy()))
    assert (scheme_.label, lighter.label, off.label) == ("scheme", "lighter", "off")
    assert lighter.policy.first_timer_priority == LIGHTER_PRIORITY
    assert scheme_.placed == off.placed == 1
    assert (scheme_.first_timers_placed, scheme_.own_field) == (1, 0)  # the accountant, at a museum
    assert (off.first_timers_placed, off.own_field) == (0, 1)  # the historian
    assert off.mean_fit > scheme_.mean_fit
    assert off.as_dict()["first_timer_share"] == 0.0 and scheme_.as_dict()["own_field_share"] == 0.0


def test_a_policy_without_first_timer_priority_is_compared_with_nothing_lighter():
    assert list(alternatives(Policy(first_timer_priority=0))) == ["scheme"]
    assert list(alternatives(Policy(first_timer_priority=50))) == ["scheme", "off"]


def test_a_result_already_solved_gives_the_same_row_as_solving_it_again():
    projects, applicants, sch = generate(n_projects=12, n_applicants=900, seed=8)
    policies = alternatives(Policy())
    own = match(projects, applicants, sch)
    solved = compare(projects, applicants, sch, policies)
    reused = compare(projects, applicants, sch, policies, solved={"scheme": own})
    assert [o.as_dict() for o in reused] == [o.as_dict() for o in solved]
    assert solved[0].placed == own.report["placed"]
