"""What binds re-solves only the limits: the same answer as matching the whole round again with the limit raised."""

from __future__ import annotations

from dataclasses import replace

import matching
from backend.market.inputs import RoundInputs
from backend.placements.sensitivity import what_binds
from matching.synthetic import generate


def _inputs() -> RoundInputs:
    projects, applicants, scheme = generate(30, 1500, seed=11, tight=True)
    return RoundInputs(projects, applicants, scheme, rankings={})


def _raised(inputs: RoundInputs, pinned, **limits) -> dict:
    scheme = replace(inputs.scheme, **limits)
    return matching.match(inputs.projects, inputs.applicants, scheme, pinned=pinned).report


def test_the_re_solves_give_what_matching_again_with_the_raised_limit_gives():
    inputs = _inputs()
    pinned = [(inputs.applicants[0].id, inputs.applicants[0].choices[0])]
    base = matching.match(inputs.projects, inputs.applicants, inputs.scheme, pinned=pinned)
    steps = {"budget_step_hkd": 500_000, "cap_step": 20}

    figures = what_binds(inputs, pinned=pinned, base=base, **steps)

    assert figures["budget"]["binding"] and figures["caps"]["Guangdong"]["binding"]
    budget = _raised(inputs, pinned, budget_hkd=inputs.scheme.budget_hkd + 500_000)
    cap = _raised(inputs, pinned, region_caps={"Guangdong": inputs.scheme.region_caps["Guangdong"] + 20})
    for entry, raised in ((figures["budget"], budget), (figures["caps"]["Guangdong"], cap)):
        assert entry["extra_placements"] == raised["placed"] - base.report["placed"]
        assert entry["extra_cost_hkd"] == raised["budget_used_hkd"] - base.report["budget_used_hkd"]
    # A stable round has no optimal result to start from: the same figures, its base solved here.
    assert what_binds(inputs, pinned=pinned, **steps) == figures
