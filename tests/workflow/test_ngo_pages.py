"""NGO project pages: a draft is never lost, submitting says what to fix, and no one sees another's project."""

import html

import pytest
from sqlmodel import select

from backend.outbox.models import OutboxEmail
from backend.projects.models import Project, ProjectEvent, ProjectStatus
from tests.factories import make_project
from tests.workflow.helpers import build_world, valid_project_form, zh


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def _own_projects(session, world):
    return session.exec(select(Project).where(Project.organisation_id == world.organisation.id)).all()


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_a_draft_saved_with_mistakes_keeps_the_valid_fields_and_shows_the_errors(world, session, language):
    form = valid_project_form(city="Atlantis", places_requested="ten", action="save")

    response = world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}&lang={language}", form)

    assert response.status_code == 400
    page = html.unescape(response.text)
    [project] = _own_projects(session, world)
    assert project.status == ProjectStatus.DRAFT
    assert (project.title_en, project.title_zh, project.sector, project.cost_accommodation) == (
        "Data analytics intern", "數據分析實習生", "technology", 12_000)
    assert project.city == "" and project.places_requested == 0, "invalid fields are not saved"
    expected = {"en": ("Choose the city from the list.", "Enter the number of places as a whole number from 1 to 500."),
                "zh-Hant": (zh("Choose the city from the list."),
                            zh("Enter the number of places as a whole number from 1 to %(max)s.") % {"max": 500})}
    for message in expected[language]:
        assert message in page
    assert 'value="Data analytics intern"' in page and 'value="ten"' in page, "the form keeps what was typed"
    assert f'action="/ngo/projects/{project.id}/edit"' in page, "saving again updates the same draft"
    assert "HK$25,000" in page, "the subsidy asked is totalled on the server"


def test_saving_again_fixes_the_draft_then_submitting_tells_the_organisation(world, session):
    world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", valid_project_form(city="", action="save"))
    [project] = _own_projects(session, world)

    response = world.ngo.post(f"/ngo/projects/{project.id}/edit", valid_project_form(action="submit"))

    assert response.status_code == 303 and response.headers["location"] == f"/ngo/projects/{project.id}?done=submitted"
    session.refresh(project)
    assert project.status == ProjectStatus.SUBMITTED and project.region == "Guangdong"
    emails = session.exec(select(OutboxEmail).where(OutboxEmail.template == "project.submitted")).all()
    assert {e.to_address for e in emails} >= {world.ngo.user.email}
    page = world.ngo.client.get(f"/ngo/projects/{project.id}").text
    assert "submitted" in page and "Timeline" in page


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_submitting_an_incomplete_project_is_refused_field_by_field(world, session, language):
    form = valid_project_form(title_zh="", start_date="", cost_travel="", cost_accommodation="", cost_insurance="",
                              cost_allowance="", cost_other="", action="submit")

    response = world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}&lang={language}", form)

    assert response.status_code == 400
    [project] = _own_projects(session, world)
    assert project.status == ProjectStatus.DRAFT and project.title_en == "Data analytics intern"
    page = html.unescape(response.text)
    named_date = "Start date: enter the date." if language == "en" else f"{zh('Start date')}：{zh('Enter the date.')}"
    assert named_date in page, "the date error names its field"
    messages = ("Enter the project title in Chinese.",
                "Enter the cost per place: the breakdown adds up to nothing.")
    for message in messages:
        assert (message if language == "en" else zh(message)) in page
    assert 'href="#title_zh"' in page, "the error summary links to the field"


def test_a_cost_above_the_scheme_limit_is_refused_on_submit(world, session):
    response = world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}",
                              valid_project_form(cost_allowance="50000", action="submit"))
    assert response.status_code == 400
    assert "this scheme pays at most HK$40,000 per place" in html.unescape(response.text)


def test_an_ngo_cannot_see_or_change_another_organisations_project(world, session):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.DRAFT)
    session.commit()
    other = world.other_ngo
    assert other.client.get(f"/ngo/projects/{project.id}").status_code == 404
    assert other.client.get(f"/ngo/projects/{project.id}/edit").status_code == 404
    assert other.post(f"/ngo/projects/{project.id}/edit", valid_project_form(title_en="Hijacked")).status_code == 404
    assert other.post(f"/ngo/projects/{project.id}/submit").status_code == 404
    assert other.api("GET", f"/api/v1/ngo/projects/{project.id}").status_code == 404
    assert other.api("PATCH", f"/api/v1/ngo/projects/{project.id}", {"title_en": "Hijacked"}).status_code == 404
    session.refresh(project)
    assert project.title_en == "Data analytics intern"
    assert "Data analytics intern" not in other.client.get("/ngo/projects").text


def test_the_project_list_shows_own_projects_and_the_schemes_taking_projects(world, session):
    make_project(session, world.scheme, world.organisation, status=ProjectStatus.RETURNED, title_en="Heritage intern")
    session.commit()
    page = world.ngo.client.get("/ngo/projects").text
    assert "Heritage intern" in page and "returned for changes" in page
    assert f"/ngo/projects/new?scheme_id={world.scheme.id}" in page


def test_a_returned_project_shows_the_staff_comment_and_can_be_edited(world, session):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.RETURNED)
    session.add(ProjectEvent(project_id=project.id, from_status="under_assessment", to_status="returned",
                             actor_id=world.approver.user.id, comment="Add a learning plan for week 1."))
    session.commit()
    page = world.ngo.client.get(f"/ngo/projects/{project.id}").text
    assert "Add a learning plan for week 1." in page and f"/ngo/projects/{project.id}/edit" in page
    assert world.ngo.client.get(f"/ngo/projects/{project.id}/edit").status_code == 200


def test_a_new_project_needs_a_scheme_taking_projects(app, session):
    from datetime import date, timedelta

    world = build_world(app, session, ngo_window_closes=date.today() - timedelta(days=1))
    response = world.ngo.client.get(f"/ngo/projects/new?scheme_id={world.scheme.id}")
    assert response.status_code == 409
    assert world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", valid_project_form()).status_code == 409
    assert _own_projects(session, world) == []


def test_the_project_page_leads_to_the_outcomes_and_the_completion_report(world, session):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.CLOSED, places=4)
    session.commit()
    page = world.ngo.client.get(f"/ngo/projects/{project.id}").text
    assert f"/ngo/projects/{project.id}/outcomes" in page and f"/ngo/projects/{project.id}/report" in page
    # the internship has not ended: nothing to record or send yet, and nothing typed
    report = world.ngo.client.get(f"/ngo/projects/{project.id}/report").text
    assert "completed_count" not in report and 'value="send"' not in report



def test_the_fewest_viable_places_is_kept_between_one_and_the_places_requested(world, session):
    too_many = world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}",
                              valid_project_form(places_requested="10", min_places="12", action="submit"))
    assert too_many.status_code == 400
    assert ("Enter the fewest places the project can run with as a whole number from 1 to 10 (the places "
            "requested), or leave it empty.") in html.unescape(too_many.text)
    [draft] = _own_projects(session, world)
    assert draft.min_places is None, "a wrong number is never saved"

    world.ngo.post(f"/ngo/projects/{draft.id}/edit", valid_project_form(places_requested="10", min_places="6",
                                                                         action="submit"))
    session.refresh(draft)
    assert (draft.status, draft.min_places, draft.min_viable_places) == (ProjectStatus.SUBMITTED, 6, 6)
    assert '<dd class="govuk-summary-list__value" id="min-places">6</dd>' in world.officer.client.get(
        f"/staff/projects/{draft.id}").text, "the assessing officer sees it"


def test_left_empty_the_fewest_viable_places_is_every_place_requested(world, session):
    world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", valid_project_form(action="submit"))
    [project] = _own_projects(session, world)
    assert (project.min_places, project.min_viable_places) == (None, 10)
