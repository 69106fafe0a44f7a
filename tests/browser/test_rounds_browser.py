"""Match rounds in a real browser: an officer starts a round and follows it live, reviews it, an approver (another
person) approves it, and staff read the reports - in English and Traditional Chinese, at desktop and phone width,
with an axe-core scan of every page on the way."""

import os
import re

import pytest

from tests.browser.conftest import serious_accessibility_findings, sign_in_as

DEMO_SCHEME_ID = "1"  # the live server's demo data is loaded first into an empty database
SHOTS = os.environ.get("INTERNMATCH_SCREENSHOTS")  # a folder: save the main pages as PNGs to look at


def _checked(page, name: str, language: str) -> None:
    assert serious_accessibility_findings(page) == [], page.url
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        width = page.viewport_size["width"]
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{language}-{width}.png"), full_page=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{language}-{width}-top.png"))


def _submit(page, action_suffix: str) -> None:
    page.locator(f"main form[action$='{action_suffix}'] button[type=submit]").first.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_a_round_is_started_followed_reviewed_and_approved_by_another_person(page, server_url, language):
    sign_in_as(page, server_url, "officer", language)
    page.goto(server_url + "/staff/rounds")
    _checked(page, "rounds", language)
    page.goto(server_url + "/staff/rounds/new")
    _checked(page, "round-new", language)
    page.select_option("#scheme_id", DEMO_SCHEME_ID)
    page.check("#mode")
    _submit(page, "/staff/rounds")
    assert re.search(r"/staff/rounds/\d+$", page.url)
    round_url = page.url

    # The page follows the worker by itself (round-progress.js) and shows the outcome when it is done.
    page.wait_for_selector("#placed", timeout=180_000)
    assert page.locator("[data-round-progress]").count() == 0
    assert page.locator("#what-binds li").count() >= 1
    _checked(page, "round", language)
    _submit(page, "/reviewed")
    assert page.locator("#reviewed-by").inner_text() != "–"
    page.goto(round_url + "?view=unplaced")
    _checked(page, "round-unplaced", language)

    # The officer cannot approve; the approver can.
    assert page.locator(f"a[href='{round_url.removeprefix(server_url)}/approval']").count() == 0
    sign_in_as(page, server_url, "approver", language)
    page.goto(round_url + "/approval")
    _checked(page, "approval", language)
    _submit(page, "/approve")
    # Approving the whole round first says how many offers and e-mails it makes, and acts only when confirmed.
    assert page.locator("#what-will-happen li").count() >= 3
    _checked(page, "approve-confirmation", language)
    _submit(page, "/approve")
    # The approval is queued: the round page follows the worker (round-progress.js) until the offers are made,
    # or (when an earlier test's round already took the places) each skip is explained.
    assert re.search(r"/staff/rounds/\d+#approval$", page.url)
    page.wait_for_selector("#approval-result", timeout=120_000)
    assert page.locator("[data-round-progress]").count() == 0
    _checked(page, "approved", language)

    # Reports: each table gets its chart, drawn from the table.
    page.goto(server_url + f"/staff/reports?scheme={DEMO_SCHEME_ID}")
    page.wait_for_selector(".im-chart canvas")
    assert page.locator(".im-chart canvas").count() == page.locator("table[data-chart]").count()
    _checked(page, "reports", language)
