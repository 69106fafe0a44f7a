"""The one form layer: parsers that collect a message per field, in the user's language, into one FormInvalid."""

import html
from datetime import date

import pytest
from sqlmodel import select

from backend.applicants import cv
from backend.core.errors import UploadTooLarge
from backend.core.forms import MONEY_MAX, BadValue, Fields, FormInvalid, day_boxes, parse_money
from backend.core.i18n import set_language, translations_for
from backend.projects.models import AssessmentDecision, Project
from backend.projects.staff_routes import read_proposal
from backend.schemes.models import Scheme
from tests.schemes.test_scheme_pages import scheme_form
from tests.workflow.helpers import build_world, valid_project_form


@pytest.fixture
def world(app, session):
    return build_world(app, session)


@pytest.fixture(params=["en", "zh-Hant"])
def language(request):
    set_language(request.param)
    yield request.param
    set_language("en")


def said(language: str, message: str, **params) -> str:
    text = translations_for(language).gettext(message)
    return text % params if params else text


# --- parsers -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, amount", [
    ("12000", 12_000), ("12,000", 12_000), ("HK$ 91,000,000", 91_000_000), ("$5", 5), ("0", 0),
    ("1,234,567,890", 1_234_567_890), ("91,000,000,000,000", 91_000_000_000_000), (40_000, 40_000),
])
def test_money_of_any_size_in_whole_dollars(typed, amount):
    assert parse_money(typed) == amount


@pytest.mark.parametrize("typed", ["12.50", "-5", "twelve", "1e6", "", "12 000.00", True])
def test_money_refuses_decimals_signs_and_words(typed, language):
    with pytest.raises(BadValue) as refused:
        parse_money(typed)
    assert refused.value.message == said(language, "Enter an amount in whole Hong Kong dollars, for example 12000.")


def test_money_past_the_column_bound_is_refused_with_the_bound(language):
    assert parse_money(str(MONEY_MAX)) == MONEY_MAX
    with pytest.raises(BadValue) as refused:
        parse_money(str(MONEY_MAX + 1))
    assert refused.value.message == said(language, "Enter an amount of HK$%(max)s or less.", max=f"{MONEY_MAX:,}")


def test_whole_numbers_keep_to_their_bounds(language):
    fields = Fields({"places": "12", "age": "40", "weeks": "three", "empty": ""})
    assert fields.whole("places", 1, 500) == 12
    assert fields.whole("age", 15, 35) is None
    assert fields.whole("weeks", 1, 26) is None
    assert fields.whole("empty", 1, 5, default=3) == 3
    assert fields.whole("missing", 1, 5, required="Enter it.") is None
    assert fields.errors == {"age": said(language, "Enter a whole number from %(min)s to %(max)s.", min=15, max=35),
                             "weeks": said(language, "Enter a whole number from %(min)s to %(max)s.", min=1, max=26),
                             "missing": "Enter it."}


@pytest.mark.parametrize("raw", [
    {"start-day": "31", "start-month": "2", "start-year": "2027"},
    {"start-day": "29", "start-month": "2", "start-year": "2027"},
    {"start-day": "5", "start-month": "13", "start-year": "2027"},
    {"start-day": "5", "start-month": "July", "start-year": "2027"},
    {"start-day": "5", "start-month": "", "start-year": "2027"},
    {"start": "2027-02-31"},
    {"start": "5 July 2027"},
])
def test_dates_that_do_not_exist_are_refused(raw, language):
    fields = Fields(raw)
    assert fields.date("start") is None
    assert fields.errors == {"start": said(language, "Enter a real date with a day, month and year, for example 5 7 2027.")}


def test_the_three_box_widget_and_iso_for_the_api_read_the_same_day():
    assert Fields({"start-day": "29", "start-month": "02", "start-year": "2028"}).date("start") == date(2028, 2, 29)
    assert Fields({"start": " 2028-02-29 "}).date("start") == date(2028, 2, 29)
    fields = Fields({"start-day": "", "start-month": "", "start-year": ""})
    assert fields.date("start") is None and fields.errors == {}
    fields.date("start", required="Enter the date.")
    assert fields.errors == {"start": "Enter the date."}


def test_an_unknown_choice_gets_a_message_naming_the_list(language):
    fields = Fields({"decision": "maybe", "city": "Atlantis", "other": "approve"})
    assert fields.choice("decision", AssessmentDecision) is None
    assert fields.choice("city", {"Shenzhen": 1}, message="Choose the city from the list.") is None
    assert fields.choice("other", AssessmentDecision) == "approve"
    assert fields.errors == {"decision": said(language, "Choose one of the options in the list."),
                             "city": "Choose the city from the list."}


def test_text_bilingual_text_and_checkboxes(language):
    fields = Fields({"title_en": "  Data   analytics\tintern ", "title_zh": "", "note": "x" * 41, "agree": "yes"})
    assert fields.bilingual("title", required_en="Enter it in English.", required_zh="Enter it in Chinese.") == {
        "title_en": "Data analytics intern", "title_zh": ""}
    assert fields.text("note", max_length=40) is None
    assert fields.checkbox("agree") and not fields.checkbox("newsletter")
    assert fields.errors == {"title_zh": "Enter it in Chinese.",
                             "note": said(language, "Use %(limit)s characters or fewer.", limit=40)}


def test_one_form_invalid_carries_every_field_and_the_api_shape():
    fields = Fields({"places": "ten", "budget": "lots", "title": "ok"})
    fields.whole("places", 1, 500, message="Enter the places.")
    fields.money("budget", message="Enter the budget.")
    assert fields.text("title") == "ok"
    with pytest.raises(FormInvalid) as refused:
        fields.raise_if_invalid("Fix the fields shown.")
    assert refused.value.errors == {"places": "Enter the places.", "budget": "Enter the budget."}
    assert refused.value.message == "Fix the fields shown."
    assert refused.value.details == {"fields": refused.value.errors}
    Fields({"title": "ok"}).raise_if_invalid()


def test_a_date_message_on_a_page_leads_to_the_day_box():
    assert list(day_boxes({"title": "a", "start_date": "b"}, "start_date")) == ["title", "start_date-day"]


def test_a_too_large_cv_is_its_own_error_with_its_status():
    too_large = cv._too_large()
    assert isinstance(too_large, UploadTooLarge) and isinstance(too_large, cv.CvRejected)
    assert (too_large.status_code, too_large.code) == (413, "cv_rejected")
    assert cv.CvRejected("not a PDF").status_code == 400


# --- pages and the API ---------------------------------------------------------------------------------------

def test_a_bad_date_keeps_everything_else_the_ngo_typed(world, session):
    form = {k: v for k, v in valid_project_form(action="save").items() if k != "end_date"}
    form.update({"end_date-day": "31", "end_date-month": "2", "end_date-year": "2028", "cost_other": "1.5"})

    response = world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", form)

    assert response.status_code == 400
    page = html.unescape(response.text)
    assert 'href="#end_date-day"' in page and 'id="end_date-day-error"' in page
    assert "End date: enter a real date with a day, month and year, for example 5 7 2027." in page
    assert 'name="end_date-day" type="text" inputmode="numeric" value="31"' in page
    assert 'value="Data analytics intern"' in page and 'value="1.5"' in page and 'value="3,000"' in page
    [project] = session.exec(select(Project).where(Project.organisation_id == world.organisation.id)).all()
    assert project.end_date is None and project.start_date is not None and project.cost_travel == 3_000


def test_a_saved_draft_shows_its_dates_in_the_three_boxes(world, session):
    world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", valid_project_form(action="save"))
    project = session.exec(select(Project).where(Project.organisation_id == world.organisation.id)).one()

    page = world.ngo.client.get(f"/ngo/projects/{project.id}/edit").text

    assert f'id="start_date-day" name="start_date-day" type="text" inputmode="numeric" value="{project.start_date.day}"' in page
    assert f'name="start_date-year" type="text" inputmode="numeric" value="{project.start_date.year}"' in page


def test_a_budget_over_nine_digits_is_accepted_and_past_the_bound_refused_clearly(world, session):
    response = world.admin.post("/staff/schemes/new", scheme_form(budget_hkd="12,345,678,901"))
    assert response.status_code == 303, response.text
    scheme = session.exec(select(Scheme).where(Scheme.name_en == "Youth Internship Scheme 2028")).one()
    assert scheme.budget_hkd == 12_345_678_901

    refused = world.admin.post("/staff/schemes/new", scheme_form(name_en="Too big", budget_hkd="9" * 16,
                                                                 ngo_window_opens="2027-02-31"))
    assert refused.status_code == 400
    page = html.unescape(refused.text)
    assert f"Enter an amount of HK${MONEY_MAX:,} or less." in page
    assert 'href="#ngo_window_opens-day"' in page
    assert 'value="Too big"' in page and 'value="91,000,000"' not in page


def test_a_scheme_typed_in_the_three_boxes_is_saved(world, session):
    form = scheme_form()
    for name in ("ngo_window_opens", "ngo_window_closes", "applicant_window_opens", "applicant_window_closes"):
        year, month, day = form.pop(name).split("-")
        form.update({f"{name}-day": day, f"{name}-month": month, f"{name}-year": year})
    assert world.admin.post("/staff/schemes/new", form).status_code == 303
    scheme = session.exec(select(Scheme).where(Scheme.name_en == "Youth Internship Scheme 2028")).one()
    assert scheme.ngo_window_opens == date(2027, 9, 1) and scheme.applicant_window_closes == date(2028, 3, 31)


def test_a_subsidy_over_nine_digits_is_read_as_an_amount():
    proposal = read_proposal([], {"decision": "approve", "subsidy_per_place": "1,000,000,000"})
    assert proposal["subsidy_per_place"] == 1_000_000_000


def test_an_unknown_decision_on_the_staff_page_is_a_message_not_an_error_page(world, session):
    world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", valid_project_form(action="submit"))
    project = session.exec(select(Project).where(Project.organisation_id == world.organisation.id)).one()

    response = world.officer.post(f"/staff/projects/{project.id}/assessments",
                                  {"decision": "maybe", "score_learning": "3", "score_host": "3"})

    assert response.status_code == 400
    assert "Choose a proposed decision." in html.unescape(response.text)


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_an_unknown_language_through_the_api_gets_its_own_message(world, session, language):
    body = {"scheme_id": world.scheme.id, "title_en": "Draft", "languages": {"klingon": 2, "english": 3}}

    created = world.ngo.client.post(f"/api/v1/ngo/projects?lang={language}", json=body,
                                    headers={"X-CSRF-Token": world.ngo.csrf, "Accept-Language": language})

    assert created.status_code == 201, created.text
    assert created.json()["errors"] == {"language_klingon": said(
        language, "Ask for Putonghua, English or Cantonese: other languages are not in the list.")}
    assert created.json()["project"]["languages"] == {"english": 3}
