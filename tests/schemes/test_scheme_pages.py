"""Funding schemes: staff create and edit them field by field, never below what is already granted."""

import html

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.schemes.models import AssessmentCriterion, Scheme, SchemeRegionCap, SchemeSubsidyLimit
from tests.factories import make_project
from tests.workflow.helpers import build_world, zh


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def scheme_form(**overrides) -> dict[str, str]:
    form = dict(name_en="Youth Internship Scheme 2028", name_zh="青年實習計劃 2028", budget_hkd="91,000,000",
                ngo_window_opens="2027-09-01", ngo_window_closes="2027-10-31", applicant_window_opens="2027-11-01",
                applicant_window_closes="2028-03-31", min_age="18", max_age="29", max_subsidy_per_place="40,000",
                gba_min_share_percent="60", max_choices="5", admits_hong_kong="on", cap_GD="1200", cap_BJ="",
                limit_region_0="Beijing", limit_min_weeks_0="", limit_max_weeks_0="4", limit_amount_0="20,000",
                limit_region_1="", limit_min_weeks_1="", limit_max_weeks_1="", limit_amount_1="",
                criterion_code_0="learning", criterion_name_en_0="Learning plan", criterion_name_zh_0="學習計劃",
                criterion_weight_0="2", criterion_max_score_0="5",
                criterion_code_1="", criterion_name_en_1="", criterion_name_zh_1="", criterion_weight_1="1",
                criterion_max_score_1="5")
    form.update(overrides)
    return form


def test_staff_create_a_scheme_with_caps_limits_and_criteria(world, session):
    response = world.officer.post("/staff/schemes/new", scheme_form())

    assert response.status_code == 303
    scheme = session.exec(select(Scheme).where(Scheme.name_en == "Youth Internship Scheme 2028")).one()
    assert (scheme.budget_hkd, scheme.max_subsidy_per_place, scheme.gba_min_share_percent) == (91_000_000, 40_000, 60)
    caps = session.exec(select(SchemeRegionCap).where(SchemeRegionCap.scheme_id == scheme.id)).all()
    assert [(c.region, c.max_places) for c in caps] == [("Guangdong", 1200)]
    [limit] = session.exec(select(SchemeSubsidyLimit).where(SchemeSubsidyLimit.scheme_id == scheme.id)).all()
    assert (limit.region, limit.min_weeks, limit.max_weeks, limit.max_subsidy_per_place) == ("Beijing", None, 4, 20_000)
    [criterion] = session.exec(select(AssessmentCriterion).where(AssessmentCriterion.scheme_id == scheme.id)).all()
    assert (criterion.code, criterion.weight) == ("learning", 2)
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "scheme.created")).one()
    assert audit.object_id == str(scheme.id)
    assert world.officer.client.get(response.headers["location"]).status_code == 200


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_a_scheme_with_mistakes_is_shown_field_by_field_in_the_users_language(world, session, language):
    form = scheme_form(name_zh="", budget_hkd="lots", ngo_window_closes="2027-08-01", cap_GD="many",
                       criterion_code_0="Learning Plan")
    response = world.admin.post(f"/staff/schemes/new?lang={language}", form)

    assert response.status_code == 400
    page = html.unescape(response.text)
    messages = ["Enter the scheme's name in Chinese.",
                "Enter the budget in whole Hong Kong dollars, for example 91,000,000.",
                "The window must close on or after the day it opens.",
                "Enter a whole number of places, or leave it empty for no cap.",
                "Use lower-case letters, digits and underscores for the code, for example learning_plan."]
    for message in messages:
        assert (message if language == "en" else zh(message)) in page
    assert 'value="lots"' in page and 'value="Youth Internship Scheme 2028"' in page
    assert session.exec(select(Scheme).where(Scheme.name_en == "Youth Internship Scheme 2028")).first() is None


def test_the_budget_cannot_be_cut_below_what_is_granted_nor_a_cap_below_its_places(world, session):
    scheme = world.scheme
    session.add(SchemeRegionCap(scheme_id=scheme.id, region="Guangdong", max_places=100))
    make_project(session, scheme, status="approved", places=10, subsidy=25_000)  # 250,000 and 10 places
    session.commit()
    form = world.officer.client.get(f"/staff/schemes/{scheme.id}/edit").text
    assert 'value="91,000,000"' in form and 'value="100"' in form

    response = world.officer.post(f"/staff/schemes/{scheme.id}/edit",
                                  scheme_form(name_en=scheme.name_en, budget_hkd="200,000", cap_GD="9"))

    assert response.status_code == 400
    page = html.unescape(response.text)
    assert "The budget cannot be less than the HK$250,000 already granted." in page
    assert "The cap cannot be less than the 10 places already granted in this region." in page
    session.refresh(scheme)
    assert scheme.budget_hkd == 91_000_000

    response = world.officer.post(f"/staff/schemes/{scheme.id}/edit", scheme_form(budget_hkd="250,000", cap_GD="10"))
    assert response.status_code == 303
    session.refresh(scheme)
    assert scheme.budget_hkd == 250_000 and scheme.name_en == "Youth Internship Scheme 2028"
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "scheme.edited")).one()
    assert audit.before["budget_hkd"] == 91_000_000 and audit.after["budget_hkd"] == 250_000


def test_the_dashboard_shows_budget_places_by_region_and_sector_and_projects_by_status(world, session):
    scheme = world.scheme
    session.add(SchemeRegionCap(scheme_id=scheme.id, region="Beijing", max_places=50))
    make_project(session, scheme, status="open", places=10, subsidy=25_000, sector="technology")
    make_project(session, scheme, status="approved", places=5, subsidy=20_000, sector="finance",
                 city="Beijing", region="Beijing")
    make_project(session, scheme, status="submitted", places=7)
    session.commit()

    page = html.unescape(world.approver.client.get(f"/staff/schemes/{scheme.id}").text)

    assert 'id="granted">HK$350,000<' in page and 'id="remaining">HK$90,650,000<' in page
    assert 'id="places">15<' in page
    assert "Greater Bay Area: 67% of places funded." in page, "10 of 15 places are in Shenzhen"

    data = world.approver.api("GET", f"/api/v1/schemes/{scheme.id}/dashboard").json()
    assert data["funding_granted"] == 350_000 and data["budget_remaining"] == 90_650_000
    assert {(r["region"], r["places"], r["cap"]) for r in data["by_region"]} == {("Guangdong", 10, None),
                                                                               ("Beijing", 5, 50)}
    assert {(s["sector"], s["places"]) for s in data["by_sector"]} == {("technology", 10), ("finance", 5)}
    assert data["by_status"]["submitted"] == 1 and data["by_status"]["open"] == 1


def test_only_scheme_managers_create_and_edit(world, session):
    assert world.approver.client.get("/staff/schemes/new").status_code == 403
    assert world.approver.post(f"/staff/schemes/{world.scheme.id}/edit", scheme_form()).status_code == 403
    assert world.ngo.client.get("/staff/schemes").status_code == 403
    assert world.approver.client.get("/staff/schemes").status_code == 200


def test_the_scheme_api_creates_reads_edits_and_refuses_a_budget_below_granted(world, session):
    body = dict(name_en="API scheme", name_zh="API 計劃", budget_hkd="5,000,000", ngo_window_opens="2027-09-01",
                ngo_window_closes="2027-10-31", applicant_window_opens="2027-11-01",
                applicant_window_closes="2028-03-31", min_age=18, max_age=29, max_subsidy_per_place=40_000,
                region_caps={"Guangdong": 100},
                criteria=[{"code": "learning", "name_en": "Learning", "name_zh": "學習"}])
    created = world.officer.api("POST", "/api/v1/schemes", body)
    assert created.status_code == 201, created.text
    scheme = created.json()
    assert scheme["budget_hkd"] == 5_000_000 and scheme["region_caps"] == {"Guangdong": 100}
    assert scheme["max_choices"] == 5 and scheme["criteria"][0]["code"] == "learning"

    assert any(s["id"] == scheme["id"] for s in world.approver.api("GET", "/api/v1/schemes").json())
    patched = world.officer.api("PATCH", f"/api/v1/schemes/{scheme['id']}", {"budget_hkd": 6_000_000})
    assert patched.status_code == 200 and patched.json()["budget_hkd"] == 6_000_000
    assert patched.json()["region_caps"] == {"Guangdong": 100}, "PATCH keeps what it was not given"

    make_project(session, session.get(Scheme, scheme["id"]), status="approved", places=10, subsidy=25_000)
    session.commit()
    refused = world.officer.api("PATCH", f"/api/v1/schemes/{scheme['id']}", {"budget_hkd": 100_000})
    assert refused.status_code == 422
    assert refused.json()["details"]["fields"]["budget_hkd"] == "The budget cannot be less than the HK$250,000 already granted."

    invalid = world.officer.api("POST", "/api/v1/schemes", {"name_en": "Half a scheme"})
    assert invalid.status_code == 422 and "name_zh" in invalid.json()["details"]["fields"]
    assert world.approver.api("POST", "/api/v1/schemes", body).status_code == 403


def test_a_scheme_may_limit_the_places_one_organisation_is_granted(world, session):
    refused = world.officer.post("/staff/schemes/new", scheme_form(max_places_per_organisation="none"))
    assert refused.status_code == 400
    assert "Enter the most places one organisation may be granted" in html.unescape(refused.text)

    assert world.officer.post("/staff/schemes/new", scheme_form(max_places_per_organisation="1,200")).status_code == 303
    scheme = session.exec(select(Scheme).where(Scheme.name_en == "Youth Internship Scheme 2028")).one()
    assert scheme.max_places_per_organisation == 1200
    edit = world.officer.client.get(f"/staff/schemes/{scheme.id}/edit")
    assert 'value="1200"' in edit.text

    api = world.officer.api("PATCH", f"/api/v1/schemes/{scheme.id}", {"max_places_per_organisation": None})
    assert api.status_code == 200 and api.json()["max_places_per_organisation"] is None
