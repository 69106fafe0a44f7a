"""The NGO's tools in a real browser at both widths and in both languages: the applicants list (a page of
the database, never wider than the screen), dragging in the ranking (which sends the "move to" form), and the
import page's column help, which never widens a 375 px page."""

import os
import re

import pytest

from tests.browser.conftest import serious_accessibility_findings, sign_in

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("INTERNMATCH_SCREENSHOTS")  # a folder: the list is saved there for a person to look at


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_the_applicants_list_is_a_page_that_fits_the_screen(page, server_url, language):
    sign_in(page, server_url, "ngo@demo.internmatch.hk")
    page.goto(f"{server_url}/ngo/applicants?lang={language}")
    width = page.viewport_size["width"]
    rows = page.locator("table.govuk-table tbody tr").count()
    assert 0 < rows <= 50
    assert page.locator("#q").is_visible() and page.locator("#shortlisted").count() == 1
    assert page.locator("a[href*='export=csv']").count() == 1 and page.locator("a[href*='export=xlsx']").count() == 1
    assert _page_width(page) <= width, "the page itself never scrolls sideways; the table scrolls in its box"
    assert serious_accessibility_findings(page) == []
    if SHOTS:
        page.wait_for_timeout(800)  # the fallback Chinese font is picked up after the first paint
        page.screenshot(path=os.path.join(SHOTS, f"ngo-applicants-{language}-{width}.png"), full_page=True)
    # A column heading sorts by that column, keeping to the first page.
    page.locator("thead a[href*='sort=name']").click()
    page.wait_for_load_state()
    assert "sort=name" in page.url and page.locator("th[aria-sort=ascending]").count() == 1


def test_dragging_an_applicant_in_the_ranking_sends_the_move_form(browser, server_url):
    context = browser.new_context(viewport={"width": 1280, "height": 2400})  # the whole ranking on screen
    page = context.new_page()
    sign_in(page, server_url, "ngo@demo.internmatch.hk")
    page.goto(server_url + "/ngo/applicants?lang=en")
    href = page.locator("tbody a[href^='/ngo/rankings/']").first.get_attribute("href")
    page.goto(server_url + href)
    for _ in range(3):
        if page.locator("ol[data-im-ranking] > li").count() >= 3:
            break
        add = page.get_by_role("button", name=re.compile("^Add to the ranking"))
        if add.count() == 0:
            break
        add.first.click()
        page.wait_for_load_state()
    page.goto(server_url + href)
    cards = page.locator("ol[data-im-ranking] > li")
    if cards.count() < 2:
        pytest.skip("the demo project has fewer than two applicants who can be ranked")
    assert page.locator(".im-drag-hint").is_visible(), "the hint shows only with JavaScript"
    last = cards.nth(cards.count() - 1)
    moving = last.get_attribute("data-choice")
    start, target = last.bounding_box(), cards.first.bounding_box()
    with page.expect_navigation():
        # A person's drag: press on the card's edge (not its form), move a little, then onto the first card.
        page.mouse.move(start["x"] + 20, start["y"] + 8)
        page.mouse.down()
        page.mouse.move(start["x"] + 25, start["y"] + 20, steps=5)
        page.mouse.move(target["x"] + 20, target["y"] + 10, steps=10)
        page.mouse.up()
    page.wait_for_load_state()
    assert page.locator("ol[data-im-ranking] > li").first.get_attribute("data-choice") == moving
    context.close()


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_the_import_column_help_never_widens_a_phone_page(browser, server_url, language):
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    sign_in(page, server_url, "ngo@demo.internmatch.hk")
    page.goto(f"{server_url}/applicants/import?lang={language}")
    page.locator("#column-help summary").click()
    assert page.locator("#column-help dl").is_visible()
    assert _page_width(page) <= 375
    assert serious_accessibility_findings(page) == []
    context.close()
