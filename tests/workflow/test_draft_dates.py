"""A draft whose end date comes before its start date is refused field by field and kept, never a 500."""

import html

import pytest
from sqlmodel import select

from backend.projects.models import Project, ProjectStatus
from tests.workflow.helpers import build_world, valid_project_form


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def _own_projects(session, world):
    return session.exec(select(Project).where(Project.organisation_id == world.organisation.id)).all()


def test_a_draft_page_with_the_end_before_the_start_keeps_the_draft_and_shows_the_field_error(world, session):
    form = valid_project_form(start_date="2027-08-31", end_date="2027-06-01", action="save")

    response = world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", form)

    assert response.status_code == 400
    page = html.unescape(response.text)
    assert "The end date must be on or after the start date." in page
    assert 'href="#end_date-day"' in page, "the error summary links to the end date"
    assert 'name="end_date-year" type="text" inputmode="numeric" value="2027"' in page, "the form keeps what was typed"
    [project] = _own_projects(session, world)
    assert project.status == ProjectStatus.DRAFT and project.title_en == "Data analytics intern"
    assert project.end_date is None or project.start_date is None or project.start_date <= project.end_date


def test_editing_only_the_end_date_to_before_the_saved_start_is_refused_on_the_page(world, session):
    world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", valid_project_form(action="save"))
    [project] = _own_projects(session, world)
    saved = (project.start_date, project.end_date)

    form = valid_project_form(start_date="", end_date="2000-01-01", action="save")
    response = world.ngo.post(f"/ngo/projects/{project.id}/edit", form)

    assert response.status_code == 400
    assert "The end date must be on or after the start date." in html.unescape(response.text)
    session.refresh(project)
    assert (project.start_date, project.end_date) == saved


def test_the_api_refuses_an_end_before_the_start_as_a_field_error_and_keeps_the_draft(world, session):
    body = {k: v for k, v in valid_project_form(start_date="2027-08-31", end_date="2027-06-01").items()
            if not k.startswith("language_")}
    created = world.ngo.api("POST", "/api/v1/ngo/projects", {"scheme_id": world.scheme.id, **body})

    assert created.status_code == 201, created.text
    assert created.json()["errors"] == {"end_date": "The end date must be on or after the start date."}
    project_id = created.json()["project"]["id"]
    patched = world.ngo.api("PATCH", f"/api/v1/ngo/projects/{project_id}", {"end_date": "2027-01-01"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["errors"] == {"end_date": "The end date must be on or after the start date."}
