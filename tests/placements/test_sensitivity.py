"""What binds: re-solving with a raised budget or cap says how many more could be placed, and at what cost."""

from __future__ import annotations

from backend.market.inputs import load_round_inputs
from backend.placements.sensitivity import what_binds
from tests.factories import make_project, make_scheme
from tests.placements.test_rounds import make_applicant


def test_a_binding_budget_reports_how_many_more_a_raised_budget_would_place_and_what_it_costs(session):
    # Twenty eligible people, twenty places at HK$20,000, money for five.
    scheme = make_scheme(session, budget_hkd=100_000, caps={"Guangdong": 50})
    shenzhen = make_project(session, scheme, places=10, subsidy=20_000)
    beijing = make_project(session, scheme, places=10, subsidy=20_000, region="Beijing", city="Beijing")
    for _ in range(20):
        make_applicant(session, scheme, [shenzhen, beijing])

    figures = what_binds(load_round_inputs(session, scheme), budget_step_hkd=100_000)

    assert figures["budget"] == {"step_hkd": 100_000, "budget_hkd": 100_000, "binding": True, "re_solved": True,
                                 "extra_placements": 5, "extra_cost_hkd": 100_000}
    guangdong = figures["caps"]["Guangdong"]
    assert not guangdong["binding"] and not guangdong["re_solved"]
    assert (guangdong["extra_placements"], guangdong["extra_cost_hkd"]) == (0, 0)


def test_a_binding_cap_reports_the_places_a_raised_cap_would_fill_and_an_ample_budget_reports_none(session):
    scheme = make_scheme(session, budget_hkd=10_000_000, caps={"Guangdong": 3, "Beijing": 40})
    shenzhen = make_project(session, scheme, places=10, subsidy=20_000)
    make_project(session, scheme, places=10, subsidy=30_000, region="Beijing", city="Beijing")
    for _ in range(8):
        make_applicant(session, scheme, [shenzhen])

    figures = what_binds(load_round_inputs(session, scheme), cap_step=4)

    assert figures["caps"]["Guangdong"] == {"step": 4, "cap": 3, "binding": True, "re_solved": True,
                                            "extra_placements": 4, "extra_cost_hkd": 80_000}
    assert figures["caps"]["Beijing"]["extra_placements"] == 0 and not figures["caps"]["Beijing"]["binding"]
    assert figures["budget"]["extra_placements"] == 0 and not figures["budget"]["binding"]


def test_nothing_binds_when_everyone_is_placed(session):
    scheme = make_scheme(session, budget_hkd=20_000, caps={"Guangdong": 1})
    project = make_project(session, scheme, places=1, subsidy=20_000)
    make_applicant(session, scheme, [project])

    figures = what_binds(load_round_inputs(session, scheme))

    assert not figures["budget"]["binding"] and not figures["caps"]["Guangdong"]["binding"]


def test_a_round_whose_budget_and_caps_cannot_bind_says_so_and_where_to_look():
    from backend.placements.round_routes import what_binds_lines

    unbound = {"what_binds": {"budget": {"binding": False, "re_solved": False, "step_hkd": 1_000_000},
                              "caps": {"Guangdong": {"binding": False, "step": 100}}}}
    [line] = what_binds_lines(unbound)
    assert "spent when projects are funded" in line and "funding portfolio" in line

    bound = {"what_binds": {"budget": {"binding": True, "re_solved": True, "step_hkd": 1_000_000,
                                       "extra_placements": 3, "extra_cost_hkd": 75_000}, "caps": {}}}
    lines = what_binds_lines(bound)
    assert lines[0].endswith("+3 placements (HK$75,000)"), "a round's own figures stay where its limits bind"
