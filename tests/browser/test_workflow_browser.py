"""The funding workflow in a real browser: staff open a scheme, an NGO drafts and submits a project, an officer
proposes approval and an approver confirms it - in English and Traditional Chinese, at desktop and phone width,
with an axe-core scan of every page on the way."""

import re
import uuid
from datetime import date, timedelta

import pytest

from tests.browser.conftest import serious_accessibility_findings, sign_in_as

WORDS = {
    "en": {"submitted": "Your project has been submitted.", "confirmed": "The decision has been confirmed",
           "problem": "There is a problem", "title_zh_error": "Enter the project title in Chinese."},
    "zh-Hant": {"submitted": "你的項目已提交", "confirmed": "決定已確認", "problem": None,
                "title_zh_error": None},
}


def _date_boxes(name: str, day: date) -> dict[str, str]:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}

def _scanned(page) -> None:
    assert serious_accessibility_findings(page) == [], page.url


def _submit_main_form(page, action_suffix: str, value: str | None = None) -> None:
    form = page.locator(f"main form[action*='{action_suffix}']")
    button = form.locator(f"button[value='{value}']") if value else form.locator("button[type=submit]").last
    button.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_an_ngo_project_goes_from_draft_to_funded(page, server_url, language):
    today = date.today()
    name = f"Browser scheme {uuid.uuid4().hex[:6]}"

    # An officer opens a scheme that takes projects today.
    sign_in_as(page, server_url, "officer", language)
    page.goto(server_url + "/staff/schemes/new")
    _scanned(page)
    fields = {"name_en": name, "name_zh": "瀏覽器測試計劃", "budget_hkd": "91,000,000",
              **_date_boxes("ngo_window_opens", today - timedelta(days=1)),
              **_date_boxes("ngo_window_closes", today + timedelta(days=30)),
              **_date_boxes("applicant_window_opens", today + timedelta(days=31)),
              **_date_boxes("applicant_window_closes", today + timedelta(days=120)),
              "max_subsidy_per_place": "40,000", "cap_GD": "500", "criterion_code_0": "learning",
              "criterion_name_en_0": "Learning plan", "criterion_name_zh_0": "學習計劃"}
    for field, value in fields.items():
        page.fill(f"#{field}", value)
    _submit_main_form(page, "/staff/schemes/new")
    match = re.search(r"/staff/schemes/(\d+)\?done=created", page.url)
    assert match, page.locator("main").inner_text()
    scheme_id = match.group(1)
    _scanned(page)

    # The NGO drafts a project, is told what is missing, completes and submits it.
    sign_in_as(page, server_url, "ngo", language)
    page.goto(server_url + "/ngo/projects")
    _scanned(page)
    page.locator(f"a[href='/ngo/projects/new?scheme_id={scheme_id}']").click()
    page.wait_for_load_state()
    _scanned(page)
    start = date(today.year + 1, 7, 5)
    page.fill("#title_en", "Browser robotics intern")
    page.fill("#cost_accommodation", "12,000")
    page.select_option("#city", "Shenzhen")
    _submit_main_form(page, "/ngo/projects/", "submit")
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    if WORDS[language]["title_zh_error"]:
        assert WORDS[language]["title_zh_error"] in summary.inner_text()
    assert page.input_value("#title_en") == "Browser robotics intern", "the draft keeps what was typed"
    assert "HK$12,000" in page.locator("#cost-total").inner_text(), "the total is worked out on the server"
    _scanned(page)
    for field, value in {"title_zh": "機械人實習生", "description_en": "Build robots.", "description_zh": "製作機械人。",
                         "host_organisation_en": "Shenzhen Robotics", "host_organisation_zh": "深圳機械人公司",
                         **_date_boxes("start_date", start), **_date_boxes("end_date", start + timedelta(days=41)),
                         "places_requested": "6", "cost_travel": "3000", "cost_allowance": "8000"}.items():
        page.fill(f"#{field}", value)
    page.select_option("#sector", "technology")
    page.select_option("#language_putonghua", "3")
    _submit_main_form(page, "/ngo/projects/", "submit")
    match = re.search(r"/ngo/projects/(\d+)\?done=submitted", page.url)
    assert match, page.locator("main").inner_text()
    project_id = match.group(1)
    assert WORDS[language]["submitted"] in page.locator("main").inner_text()
    _scanned(page)

    # An officer assesses it and proposes approval of fewer places than asked.
    sign_in_as(page, server_url, "officer", language)
    page.goto(server_url + f"/staff/projects?scheme_id={scheme_id}")
    _scanned(page)
    page.locator(f"main a[href='/staff/projects/{project_id}']").first.click()
    page.wait_for_load_state()
    _scanned(page)
    # Before scoring, the officer declares she has no conflict of interest with the organisation.
    page.check("#conflict_of_interest")
    _submit_main_form(page, "/conflict-of-interest")
    assert "done=declared" in page.url, page.locator("main").inner_text()
    _scanned(page)
    page.fill("#score_learning", "4")
    page.check("#decision")
    page.fill("#places", "5")
    _submit_main_form(page, "/assessments")
    assert "done=proposed" in page.url, page.locator("main").inner_text()
    _scanned(page)

    # An approver - a different person - confirms it within the budget and the cap.
    sign_in_as(page, server_url, "approver", language)
    page.goto(server_url + f"/staff/projects/{project_id}")
    _scanned(page)
    _submit_main_form(page, "/confirm")
    assert "done=confirmed" in page.url, page.locator("main").inner_text()
    assert WORDS[language]["confirmed"] in page.locator("main").inner_text()
    _scanned(page)

    # The NGO sees its project funded, and the scheme's dashboard counts the places.
    sign_in_as(page, server_url, "ngo", language)
    page.goto(server_url + f"/ngo/projects/{project_id}")
    assert "HK$23,000" in page.locator("main").inner_text(), "granted: 5 places at the HK$23,000 asked"
    _scanned(page)
    sign_in_as(page, server_url, "approver", language)
    page.goto(server_url + f"/staff/schemes/{scheme_id}")
    assert page.locator("#places").inner_text() == "5"
    _scanned(page)
