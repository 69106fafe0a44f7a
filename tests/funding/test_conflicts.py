"""Conflicts of interest: staff declare any conflict with an organisation before scoring its projects, and a
declared conflict bars them from its funding decisions, in the service whatever the page or API."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.projects import conflicts, funding
from backend.projects.models import AssessmentDecision, ConflictDeclaration, ProjectStatus
from tests.factories import make_organisation, make_project
from tests.workflow.helpers import build_world

SCORES = {"decision": "approve", "scores": {"learning": 4, "host": 4}, "comments": ""}


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def test_scoring_a_project_needs_a_declaration_for_its_organisation_first(session, world):
    newcomer = make_organisation(session)
    project = make_project(session, world.scheme, newcomer, status=ProjectStatus.SUBMITTED)
    session.commit()  # a refused request rolls back its own transaction, not what the test set up
    refused = world.officer.api("POST", f"/api/v1/projects/{project.id}/assessments", SCORES)
    assert refused.status_code == 422
    assert "Declare whether you have a conflict of interest with this organisation first." in refused.text
    page = world.officer.client.get(f"/staff/projects/{project.id}").text
    assert "Do you have a conflict of interest with" in page
    assert f'action="/staff/projects/{project.id}/assessments"' not in page

    declared = world.officer.api("PUT", f"/api/v1/projects/{project.id}/conflict-of-interest",
                                 {"conflict_of_interest": "none"})
    assert declared.status_code == 200 and declared.json()["has_conflict"] is False
    assert world.officer.api("POST", f"/api/v1/projects/{project.id}/assessments", SCORES).status_code == 201


def test_a_declared_conflict_bars_the_officer_from_the_organisations_projects_and_is_audited(session, world):
    newcomer = make_organisation(session)
    first = make_project(session, world.scheme, newcomer, status=ProjectStatus.SUBMITTED)
    second = make_project(session, world.scheme, newcomer, status=ProjectStatus.SUBMITTED)
    session.commit()
    response = world.officer.post(f"/staff/projects/{first.id}/conflict-of-interest",
                                  {"conflict_of_interest": "conflict", "conflict_description": "My sister runs it."})
    assert response.status_code == 303
    found = session.exec(select(ConflictDeclaration).where(ConflictDeclaration.user_id == world.officer.user.id,
                                                           ConflictDeclaration.organisation_id == newcomer.id)).one()
    assert (found.has_conflict, found.description) == (True, "My sister runs it.")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "conflict_of_interest.declared")).one()
    assert event.after == {"has_conflict": True} and event.object_id == str(newcomer.id)

    # every project of that organisation, through the page, the API and the service
    page = world.officer.client.get(f"/staff/projects/{second.id}").text
    assert "You have declared a conflict of interest with this organisation" in page
    refused = world.officer.api("POST", f"/api/v1/projects/{second.id}/assessments", SCORES)
    assert refused.status_code == 403 and "conflict of interest" in refused.text
    with pytest.raises(conflicts.ConflictOfInterest):
        funding.propose_decision(session, world.officer.user, second, decision=AssessmentDecision.APPROVE,
                                 scores={"learning": 4, "host": 4}, comments="")
    chinese = world.officer.api("POST", f"/api/v1/projects/{second.id}/assessments?lang=zh-Hant", SCORES)
    assert "利益衝突" in chinese.text


def test_an_approver_with_a_declared_conflict_cannot_confirm_the_organisations_funding(session, world):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED)
    proposal = funding.propose_decision(session, world.officer.user, project, decision=AssessmentDecision.APPROVE,
                                        scores={"learning": 4, "host": 4}, comments="")
    conflicts.declare(session, world.approver.user, world.organisation.id, has_conflict=True,
                      description="I was its treasurer until last year.")
    session.commit()
    with pytest.raises(conflicts.ConflictOfInterest):
        funding.confirm_decision(session, world.approver.user, proposal)
    response = world.approver.post(f"/staff/assessments/{proposal.id}/confirm")
    assert response.status_code == 403 and "conflict of interest" in response.text
    assert project.status == ProjectStatus.UNDER_ASSESSMENT


def test_a_conflict_must_say_what_it_is_and_an_answer_must_be_given(session, world):
    project = make_project(session, world.scheme, make_organisation(session), status=ProjectStatus.SUBMITTED)
    session.commit()
    blank = world.officer.post(f"/staff/projects/{project.id}/conflict-of-interest", {"conflict_of_interest": "conflict"})
    assert blank.status_code == 400 and "Say briefly what the conflict of interest is." in blank.text
    none = world.officer.post(f"/staff/projects/{project.id}/conflict-of-interest", {})
    assert none.status_code == 400 and "Say whether you have a conflict of interest with this organisation." in none.text
    assert session.exec(select(ConflictDeclaration).where(ConflictDeclaration.organisation_id == project.organisation_id)).first() is None
