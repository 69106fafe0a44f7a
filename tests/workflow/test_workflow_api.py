"""The workflow API: the same services as the pages, answers as JSON with per-field details."""

import pytest
from sqlmodel import select

from backend.outbox.models import OutboxEmail
from backend.projects.models import ProjectStatus
from tests.factories import make_project
from tests.workflow.helpers import build_world, valid_project_form, zh


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def _body(**overrides):
    form = {k: v for k, v in valid_project_form(**overrides).items() if not k.startswith("language_")}
    return {**form, "languages": {"putonghua": 3}}


def test_an_ngo_drafts_fixes_and_submits_through_the_api(world, session):
    created = world.ngo.api("POST", "/api/v1/ngo/projects",
                            {"scheme_id": world.scheme.id, **_body(city="Atlantis", places_requested=12)})
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["errors"] == {"city": "Choose the city from the list."}
    project_id = data["project"]["id"]
    assert data["project"]["places_requested"] == 12 and data["project"]["subsidy_requested_per_place"] == 25_000

    refused = world.ngo.api("POST", f"/api/v1/ngo/projects/{project_id}/submit")
    assert refused.status_code == 422
    assert refused.json()["details"]["fields"] == {"city": "Choose the city from the list."}

    patched = world.ngo.api("PATCH", f"/api/v1/ngo/projects/{project_id}", {"city": "Zhuhai"})
    assert patched.json()["errors"] == {} and patched.json()["project"]["region"] == "Guangdong"
    assert patched.json()["project"]["places_requested"] == 12, "PATCH keeps the other fields"

    submitted = world.ngo.api("POST", f"/api/v1/ngo/projects/{project_id}/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert [e["to_status"] for e in submitted.json()["timeline"]] == ["draft", "submitted"]
    assert [p["id"] for p in world.ngo.api("GET", "/api/v1/ngo/projects").json()] == [project_id]
    assert world.other_ngo.api("GET", "/api/v1/ngo/projects").json() == []
    assert world.other_ngo.api("POST", f"/api/v1/ngo/projects/{project_id}/submit").status_code == 404


def test_errors_come_in_the_request_language(world, session):
    response = world.ngo.client.post("/api/v1/ngo/projects?lang=zh-Hant",
                                     json={"scheme_id": world.scheme.id, "city": "Atlantis"},
                                     headers={"X-CSRF-Token": world.ngo.csrf})
    assert response.json()["errors"]["city"] == zh("Choose the city from the list.") != "Choose the city from the list."


def test_staff_propose_and_confirm_through_the_api(world, session):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED, places=10)
    session.commit()

    proposed = world.officer.api("POST", f"/api/v1/projects/{project.id}/assessments",
                                 {"decision": "approve", "scores": {"learning": 5, "host": 4}, "places": 6})
    assert proposed.status_code == 201, proposed.text
    assessment = proposed.json()
    assert (assessment["proposed_places"], assessment["proposed_subsidy_per_place"]) == (6, 25_000)

    assert world.officer.api("POST", f"/api/v1/assessments/{assessment['id']}/confirm").status_code == 403
    confirmed = world.approver.api("POST", f"/api/v1/assessments/{assessment['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "approved"
    assert confirmed.json()["places_granted"] == 6

    opened = world.officer.api("POST", f"/api/v1/projects/{project.id}/open")
    assert opened.json()["status"] == "open"
    closed = world.officer.api("POST", f"/api/v1/projects/{project.id}/close")
    assert closed.json()["status"] == "closed"
    assert world.officer.api("POST", f"/api/v1/projects/{project.id}/close").status_code == 409
    templates = [e.template for e in session.exec(select(OutboxEmail).order_by(OutboxEmail.id))]
    assert {"project.approved", "project.open", "project.closed"} <= set(templates)


def test_the_api_refuses_over_budget_with_its_code(app, session):
    world = build_world(app, session, budget_hkd=100_000)
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED, places=10)
    session.commit()
    assessment = world.officer.api("POST", f"/api/v1/projects/{project.id}/assessments",
                                   {"decision": "approve", "scores": {"learning": 5, "host": 4}}).json()
    refused = world.approver.api("POST", f"/api/v1/assessments/{assessment['id']}/confirm")
    assert refused.status_code == 409 and refused.json()["error"] == "budget_exceeded"


def test_a_proposal_missing_scores_is_refused_per_field(world, session):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED)
    session.commit()
    refused = world.officer.api("POST", f"/api/v1/projects/{project.id}/assessments", {"decision": "approve"})
    assert refused.status_code == 422
    assert set(refused.json()["details"]["fields"]) == {"score_learning", "score_host"}


def test_the_workflow_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/schemes", "/api/v1/schemes/{scheme_id}", "/api/v1/schemes/{scheme_id}/dashboard",
                 "/api/v1/ngo/projects", "/api/v1/ngo/projects/{project_id}", "/api/v1/ngo/projects/{project_id}/submit",
                 "/api/v1/projects/{project_id}/assessments", "/api/v1/assessments/{assessment_id}/confirm",
                 "/api/v1/projects/{project_id}/open", "/api/v1/projects/{project_id}/close"):
        assert path in paths
