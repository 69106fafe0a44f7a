"""Staff funding pages: an officer proposes, a different approver confirms within the budget and caps."""

import html

import pytest
from sqlmodel import select

from backend.identity.models import Role
from backend.outbox.models import OutboxEmail
from backend.projects.models import Assessment, Project, ProjectStatus
from tests.factories import make_project
from tests.workflow.helpers import build_world

SCORES = {"score_learning": "4", "score_host": "3"}


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def _submitted(session, world, **kwargs) -> Project:
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED, **kwargs)
    session.commit()
    return project


def _propose(world, project, **form):
    data = {**SCORES, "decision": "approve", "comments": "Good plan", **form}
    return world.officer.post(f"/staff/projects/{project.id}/assessments", data)


def _proposal(session, project) -> Assessment:
    return session.exec(select(Assessment).where(Assessment.project_id == project.id)
                        .order_by(Assessment.id.desc())).first()


def test_the_queue_lists_submitted_projects_and_the_page_compares_costs(world, session):
    make_project(session, world.scheme, status=ProjectStatus.OPEN, subsidy=20_000, sector="technology")
    make_project(session, world.scheme, status=ProjectStatus.OPEN, subsidy=30_000, sector="technology")
    make_project(session, world.scheme, status=ProjectStatus.OPEN, subsidy=10_000, sector="finance")
    project = _submitted(session, world, title_en="Robotics intern", subsidy=26_000)

    queue = world.officer.client.get(f"/staff/projects?scheme_id={world.scheme.id}").text
    assert "Robotics intern" in queue and "Waiting for assessment" in queue
    page = html.unescape(world.officer.client.get(f"/staff/projects/{project.id}").text)
    assert "HK$26,000" in page and "HK$40,000" in page, "asked against the scheme's limit"
    assert "HK$25,000" in page and "median of 2 funded projects in the same sector and region" in page
    assert "Learning plan" in page and "Host quality" in page, "the scheme's criteria are scored"


def test_officer_proposes_less_than_asked_and_an_approver_confirms(world, session):
    project = _submitted(session, world, places=10, subsidy=25_000)

    response = _propose(world, project, places="8", subsidy_per_place="24,000")
    assert response.status_code == 303
    session.refresh(project)
    assert project.status == ProjectStatus.UNDER_ASSESSMENT
    proposal = _proposal(session, project)
    assert (proposal.proposed_places, proposal.proposed_subsidy_per_place, proposal.scores) == (
        8, 24_000, {"learning": 4, "host": 3})

    queue = world.approver.client.get(f"/staff/projects?scheme_id={world.scheme.id}").text
    assert "Proposals awaiting confirmation" in queue
    page = html.unescape(world.approver.client.get(f"/staff/projects/{project.id}").text)
    assert "Approve 8 places at HK$24,000 each (HK$192,000)" in page and "Budget remaining" in page
    confirmed = world.approver.post(f"/staff/assessments/{proposal.id}/confirm")

    assert confirmed.status_code == 303
    session.refresh(project)
    assert (project.status, project.places_granted, project.subsidy_granted_per_place) == (
        ProjectStatus.APPROVED, 8, 24_000)
    assert session.exec(select(OutboxEmail).where(OutboxEmail.template == "project.approved")).first()


def test_a_proposal_with_mistakes_is_shown_field_by_field(world, session):
    project = _submitted(session, world, places=10)
    response = world.officer.post(f"/staff/projects/{project.id}/assessments",
                                  {"score_learning": "9", "decision": "approve", "places": "12"})
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert "Give a score from 0 to 5." in page
    response = _propose(world, project, places="12")
    assert response.status_code == 400 and "Places granted must be between 1 and the 10 requested." in html.unescape(response.text)
    response = _propose(world, project, decision="reject", comments="")
    assert response.status_code == 400 and "Give the reasons for returning or rejecting the project." in response.text
    assert _proposal(session, project) is None


def test_returning_a_project_sends_the_comment_to_the_ngo(world, session):
    project = _submitted(session, world)
    _propose(world, project, decision="return", comments="Add a learning plan.")
    world.approver.post(f"/staff/assessments/{_proposal(session, project).id}/confirm")
    session.refresh(project)
    assert project.status == ProjectStatus.RETURNED
    email = session.exec(select(OutboxEmail).where(OutboxEmail.template == "project.returned")).first()
    assert email and "Add a learning plan." in email.body_text
    assert "Add a learning plan." in world.ngo.client.get(f"/ngo/projects/{project.id}").text


def test_a_confirmation_over_the_budget_is_refused_on_the_page(app, session):
    world = build_world(app, session, budget_hkd=300_000)
    make_project(session, world.scheme, status=ProjectStatus.APPROVED, places=4, subsidy=25_000)  # 100,000 granted
    project = _submitted(session, world, places=10, subsidy=25_000)
    _propose(world, project)

    response = world.approver.post(f"/staff/assessments/{_proposal(session, project).id}/confirm")

    assert response.status_code == 409
    page = html.unescape(response.text)
    assert "would exceed the scheme's budget: only HK$200,000 is left" in page
    session.refresh(project)
    assert project.status == ProjectStatus.UNDER_ASSESSMENT and project.places_granted is None


def test_a_confirmation_over_the_regional_cap_is_refused_on_the_page(app, session):
    world = build_world(app, session, caps={"Guangdong": 12})
    make_project(session, world.scheme, status=ProjectStatus.OPEN, places=5)
    project = _submitted(session, world, places=10)
    _propose(world, project)

    response = world.approver.post(f"/staff/assessments/{_proposal(session, project).id}/confirm")

    assert response.status_code == 409
    assert "would exceed the regional cap: only 7 places are left" in html.unescape(response.text)


def test_the_person_who_proposed_cannot_confirm_their_own_proposal(world, session):
    project = _submitted(session, world)
    _propose(world, project)
    world.officer.user.role = Role.APPROVER  # promoted since proposing
    session.commit()

    response = world.officer.post(f"/staff/assessments/{_proposal(session, project).id}/confirm")

    assert response.status_code == 403
    assert "A different person must approve what you proposed." in response.text
    session.refresh(project)
    assert project.status == ProjectStatus.UNDER_ASSESSMENT


def test_an_approved_project_is_opened_then_closed_for_applications(world, session):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.APPROVED)
    session.commit()
    assert "Open for applications" in world.officer.client.get(f"/staff/projects/{project.id}").text
    assert world.officer.post(f"/staff/projects/{project.id}/open").status_code == 303
    session.refresh(project)
    assert project.status == ProjectStatus.OPEN
    assert world.officer.post(f"/staff/projects/{project.id}/close").status_code == 303
    session.refresh(project)
    assert project.status == ProjectStatus.CLOSED
    templates = {e.template for e in session.exec(select(OutboxEmail))}
    assert {"project.open", "project.closed"} <= templates
    assert world.approver.post(f"/staff/projects/{project.id}/open").status_code == 403


def test_only_officers_propose_and_only_approvers_confirm(world, session):
    project = _submitted(session, world)
    assert world.approver.post(f"/staff/projects/{project.id}/assessments", {**SCORES, "decision": "approve"}).status_code == 403
    _propose(world, project)
    assert world.officer.post(f"/staff/assessments/{_proposal(session, project).id}/confirm").status_code == 403
    assert world.ngo.client.get(f"/staff/projects/{project.id}").status_code == 403
