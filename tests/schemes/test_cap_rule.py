"""Staff choose, per scheme, how stable rounds keep a binding regional cap: proportional rationing or flexible
deferred acceptance. The choice is on the form, the dashboard and the API, frozen with each round and named on its
page."""

from __future__ import annotations

import html

import pytest
from sqlmodel import Session, select

from backend.market import inputs
from backend.placements.models import MatchProposal
from backend.schemes.models import Scheme
from tests.conftest import migrated_database
from tests.placements.test_rounds import finish_round, make_staff, small_scheme, start
from tests.schemes.test_scheme_pages import scheme_form
from tests.workflow.helpers import build_world, zh


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def test_staff_choose_the_cap_rule_and_see_it_in_both_languages(world, session):
    response = world.officer.post("/staff/schemes/new", scheme_form(cap_rule="flexible"))
    assert response.status_code == 303
    scheme = session.exec(select(Scheme).where(Scheme.name_en == "Youth Internship Scheme 2028")).one()
    assert scheme.cap_rule == "flexible"
    assert inputs.to_matching_scheme(session, scheme).cap_rule == "flexible"
    page = html.unescape(world.officer.client.get(response.headers["location"]).text)
    assert "The region's projects share the cap by turns (flexible deferred acceptance)" in page
    location = response.headers["location"]
    chinese = html.unescape(world.officer.client.get(location + ("&" if "?" in location else "?") + "lang=zh-Hant").text)
    assert zh("The region's projects share the cap by turns (flexible deferred acceptance)") in chinese

    refused = world.officer.post("/staff/schemes/new", scheme_form(name_en="Other", cap_rule="lottery"))
    assert refused.status_code == 400
    # She reads the refusal in the language she chose last (Traditional Chinese).
    assert zh("Choose how a regional cap is kept when rounds follow the organisations' rankings.") in \
        html.unescape(refused.text)


def test_the_api_reads_and_changes_the_cap_rule_and_refuses_an_unknown_one(world, session):
    created = world.officer.post("/staff/schemes/new", scheme_form())
    scheme = session.exec(select(Scheme).where(Scheme.name_en == "Youth Internship Scheme 2028")).one()
    assert created.status_code == 303 and scheme.cap_rule == "proportional"
    assert world.officer.api("GET", f"/api/v1/schemes/{scheme.id}").json()["cap_rule"] == "proportional"
    patched = world.officer.api("PATCH", f"/api/v1/schemes/{scheme.id}", {"cap_rule": "flexible"})
    assert patched.status_code == 200 and patched.json()["cap_rule"] == "flexible"
    wrong = world.officer.api("PATCH", f"/api/v1/schemes/{scheme.id}", {"cap_rule": "lottery"})
    assert wrong.status_code == 422


@pytest.fixture(scope="module")
def cap_engine():
    with migrated_database("internmatch_cap_rule") as (_url, engine):
        yield engine


def test_a_stable_round_keeps_the_cap_with_the_rule_frozen_when_it_started(cap_engine):
    with Session(cap_engine) as session:
        scheme, projects, _applicants = small_scheme(session, gd_cap=4)
        scheme.cap_rule = "flexible"
        officer = make_staff(session)
        session.commit()
        scheme_id, officer_id = scheme.id, officer.id
        guangdong = {p.id for p in projects if p.region == "Guangdong"}

    run = finish_round(cap_engine, start(cap_engine, scheme_id, officer_id, mode="stable"))

    assert run.input_snapshot["scheme"]["cap_rule"] == "flexible"
    assert run.figures["cap_rule"] == "flexible"
    with Session(cap_engine) as session:
        proposals = session.exec(select(MatchProposal).where(MatchProposal.run_id == run.id)).all()
        assert sum(p.project_id in guangdong for p in proposals) == 4, "the region fills its cap, and no more"
