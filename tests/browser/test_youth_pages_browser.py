"""Pages a young person meets first, and the staff to-do list, in a real browser: both languages, desktop and
375 px, axe-core clean. Search on a phone shows results first and opens its filters without JavaScript.

Set INTERNMATCH_SCREENSHOTS to a folder to save each page as a PNG to look at."""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import serious_accessibility_findings, sign_in

SHOTS = os.environ.get("INTERNMATCH_SCREENSHOTS")


def _checked(page, name: str, language: str) -> None:
    assert page.get_attribute("html", "lang") == language
    assert serious_accessibility_findings(page) == [], page.url
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        width = page.viewport_size["width"]
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{language}-{width}.png"), full_page=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{language}-{width}-top.png"))


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_home_project_and_search_for_a_visitor(page, server_url, language):
    page.goto(f"{server_url}/?lang={language}")
    for section in ("how-it-works", "key-dates", "what-you-receive", "search"):
        assert page.locator(f"#{section}").count() == 1, section
    _checked(page, "home", language)

    page.goto(f"{server_url}/projects?lang={language}")
    _checked(page, "search", language)
    first = page.locator("ul.im-card-list a").first.get_attribute("href")
    page.goto(f"{server_url}{first}?lang={language}")
    assert page.locator("#choose-this-project a[href^='/sign-in?next=/projects/']").count() == 1
    _checked(page, "project", language)

    page.goto(f"{server_url}/personal-information-collection-statement?lang={language}")
    _checked(page, "pics", language)


def test_search_on_a_phone_shows_results_first_and_its_filters_open_without_javascript(browser, server_url):
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{server_url}/projects?lang=en")
        assert page.locator("#results-heading").bounding_box()["y"] < 812, "the results start on the first screen"
        assert not page.locator("#region").is_visible()
        page.locator("#filters summary").click()
        assert page.locator("#region").is_visible(), "the Filter disclosure opens without JavaScript"
        page.select_option("#region", "Guangdong")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_load_state()
        assert "region=Guangdong" in page.url and "Filter (1 in use)" in page.locator("#filters summary").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_an_approver_lands_on_the_to_do_list(page, server_url, language):
    page.context.clear_cookies()
    sign_in(page, server_url, "approver@demo.internmatch.hk")
    assert page.url.split("?")[0].endswith("/staff/todo")
    page.goto(f"{server_url}/staff/todo?lang={language}")
    _checked(page, "todo", language)
