"""Programme kinds: a funding scheme, a thematic programme with a Mainland host institution whose cohorts mix
youth from both sides, and a summer programme where Guangdong hosts offer places that may cost Hong Kong
nothing. Each kind's rules hold in the scheme set-up and in a project's submission and funding."""

from __future__ import annotations

import pytest

from backend.core.errors import Conflict
from backend.projects import funding
from backend.projects.models import AssessmentDecision, Project, ProjectStatus
from backend.schemes.models import Scheme
from tests.workflow.helpers import build_world, valid_project_form

PROGRAMME = dict(name_en="Youth Internship Programme at the Palace Museum", name_zh="故宮博物院青年實習計劃",
                 budget_hkd="3,000,000", ngo_window_opens="2027-01-04", ngo_window_closes="2027-02-26",
                 applicant_window_opens="2027-03-01", applicant_window_closes="2027-04-30", min_age=18, max_age=29,
                 max_subsidy_per_place=30_000, criteria=[{"code": "learning", "name_en": "Learning", "name_zh": "學習"}])


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def test_a_thematic_programme_names_its_host_institution_and_admits_both_sides(world, session):
    no_host = world.officer.api("POST", "/api/v1/schemes", {**PROGRAMME, "kind": "thematic_programme",
                                                            "admitted_origins": ["hong_kong", "guangdong"]})
    assert no_host.status_code == 422
    assert no_host.json()["details"]["fields"]["host_institution_en"] == (
        "Enter the host institution's name in English: a thematic programme has one.")
    one_side = world.officer.api("POST", "/api/v1/schemes", {
        **PROGRAMME, "kind": "thematic_programme", "host_institution_en": "the Palace Museum",
        "host_institution_zh": "故宮博物院", "admitted_origins": ["hong_kong"]})
    assert one_side.status_code == 422
    assert "mix youth from Hong Kong and from Guangdong: tick both" in one_side.text

    created = world.officer.api("POST", "/api/v1/schemes", {
        **PROGRAMME, "kind": "thematic_programme", "host_institution_en": "the Palace Museum",
        "host_institution_zh": "故宮博物院", "admitted_origins": ["hong_kong", "guangdong"]})
    assert created.status_code == 201, created.text
    scheme = created.json()
    assert (scheme["kind"], scheme["host_institution_zh"]) == ("thematic_programme", "故宮博物院")
    page = world.officer.client.get(f"/staff/schemes/{scheme['id']}").text
    assert "Thematic internship programme: the Palace Museum" in page
    chinese = world.officer.client.get(f"/staff/schemes/{scheme['id']}?lang=zh-Hant").text
    assert "故宮博物院" in chinese and "Thematic internship programme" not in chinese


def test_the_scheme_form_offers_every_kind_and_keeps_what_was_typed(world):
    form = world.officer.client.get("/staff/schemes/new").text
    for kind in ("funding_scheme", "thematic_programme", "summer_programme"):
        assert f'value="{kind}"' in form
    refused = world.officer.post("/staff/schemes/new", {"kind": "thematic_programme", "name_en": "Wolong",
                                                        "host_institution_zh": "臥龍國家級自然保護區"})
    assert refused.status_code == 400
    assert "Enter the host institution&#39;s name in English" in refused.text
    assert "臥龍國家級自然保護區" in refused.text, "what was typed is kept"


def _summer(session, world) -> Scheme:
    """The world's scheme becomes a summer programme, and its organisation a Guangdong host offering places."""
    scheme = world.scheme
    scheme.kind = "summer_programme"
    world.organisation.kind = "guangdong_host"
    world.ngo.user.role = "host"
    session.add_all([scheme, world.organisation, world.ngo.user])
    session.commit()
    return scheme


def test_a_summer_programme_place_may_ask_hong_kong_for_nothing_if_the_host_says_what_it_provides(world, session):
    _summer(session, world)
    free = {k: v for k, v in valid_project_form(cost_travel="0", cost_accommodation="0", cost_insurance="0",
                                                cost_allowance="0", cost_other="0").items()
            if not k.startswith("language_")}
    created = world.ngo.api("POST", "/api/v1/ngo/projects", {"scheme_id": world.scheme.id, **free})
    project_id = created.json()["project"]["id"]
    refused = world.ngo.api("POST", f"/api/v1/ngo/projects/{project_id}/submit")
    assert refused.status_code in (409, 422)
    assert "Say in English what the host provides each intern" in refused.text
    assert "the breakdown adds up to nothing" not in refused.text

    world.ngo.api("PATCH", f"/api/v1/ngo/projects/{project_id}", {
        "host_provides_en": "A monthly allowance of RMB 3,000 and a room in the staff dormitory.",
        "host_provides_zh": "每月津貼人民幣 3,000 元，並提供員工宿舍。"})
    submitted = world.ngo.api("POST", f"/api/v1/ngo/projects/{project_id}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted" and submitted.json()["subsidy_requested_per_place"] == 0

    # funded with no Hong Kong money: places granted, nothing spent (and never less than nothing)
    project = session.get(Project, project_id)
    with pytest.raises(Conflict):
        funding.propose_decision(session, world.officer.user, project, decision=AssessmentDecision.APPROVE,
                                 scores={"learning": 4, "host": 4}, comments="", subsidy_per_place=-1)
    proposal = funding.propose_decision(session, world.officer.user, project, decision=AssessmentDecision.APPROVE,
                                        scores={"learning": 4, "host": 4}, comments="")
    funding.confirm_decision(session, world.approver.user, proposal)
    assert (project.status, project.places_granted, project.subsidy_granted_per_place) == (
        ProjectStatus.APPROVED, 10, 0)


def test_a_funding_scheme_still_refuses_a_place_that_costs_nothing(world, session):
    free = {k: v for k, v in valid_project_form(cost_travel="0", cost_accommodation="0", cost_insurance="0",
                                                cost_allowance="0", cost_other="0").items()
            if not k.startswith("language_")}
    created = world.ngo.api("POST", "/api/v1/ngo/projects", {"scheme_id": world.scheme.id, **free})
    refused = world.ngo.api("POST", f"/api/v1/ngo/projects/{created.json()['project']['id']}/submit")
    assert refused.status_code in (409, 422) and "the breakdown adds up to nothing" in refused.text
    assert "what the host provides" not in world.ngo.client.get("/ngo/projects/new?scheme_id="
                                                               f"{world.scheme.id}").text


def test_the_public_page_of_a_summer_place_says_what_the_host_provides(world, session, app):
    from fastapi.testclient import TestClient

    from tests.factories import make_project

    _summer(session, world)
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.OPEN, cost_travel=0,
                           cost_accommodation=0, cost_insurance=0, cost_allowance=0, cost_other=0,
                           subsidy_granted_per_place=0,
                           host_provides_en="Lunch every working day and a dormitory room.",
                           host_provides_zh="每個工作日提供午膳及宿舍房間。")
    session.commit()
    public = TestClient(app)
    page = public.get(f"/projects/{project.id}").text
    assert "What the host provides" in page and "Lunch every working day" in page
    assert 'id="what-you-receive"' not in page, "nothing paid by Hong Kong: no table of amounts"
    simplified = public.get(f"/projects/{project.id}?lang=zh-Hans").text
    assert "每个工作日提供午膳及宿舍房间" in simplified
