"""Browsing the project catalogue in a real browser, in both languages, at desktop and phone widths."""

from urllib.parse import parse_qs, urlparse

from tests.browser.conftest import serious_accessibility_findings


def test_browse_filter_and_open_a_project_in_english(page, server_url):
    page.goto(server_url + "/?lang=en")
    page.get_by_role("button", name="Browse internships").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Browse internships"
    assert page.get_by_role("heading", name="projects found").count() == 1
    assert serious_accessibility_findings(page) == []

    page.locator("#filters summary").click()  # the filters wait behind a "Filter" disclosure
    page.get_by_label("Region").select_option("Guangdong")
    page.get_by_label("Greater Bay Area only").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    query = parse_qs(urlparse(page.url).query)
    assert query["region"] == ["Guangdong"] and query["gba"] == ["1"], "the filters are in the address to share"
    assert page.get_by_label("Greater Bay Area only").is_checked()
    cards = page.locator(".im-card")
    for i in range(cards.count()):
        assert "Greater Bay Area" in cards.nth(i).inner_text()
    assert serious_accessibility_findings(page) == []

    if cards.count():
        cards.first.get_by_role("link").click()
        page.wait_for_load_state()
        assert page.get_by_text("Cost per place covered by the scheme").count() == 1
        assert page.locator("dd", has_text="HK$").count() >= 1
        assert page.locator("[lang='zh-Hant'] h3").count() == 1, "the Chinese text is offered, marked as Chinese"
        assert serious_accessibility_findings(page) == []


def test_catalogue_and_a_project_in_traditional_chinese(page, server_url):
    page.goto(server_url + "/projects?lang=zh-Hant")
    assert page.locator("h1").inner_text() == "瀏覽實習項目"
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"
    assert serious_accessibility_findings(page) == []

    page.locator("#filters summary").click()
    page.get_by_label("排列方式").select_option("places")
    page.get_by_role("button", name="套用篩選").click()
    page.wait_for_load_state()
    assert "sort=places" in page.url
    page.locator(".im-card").first.get_by_role("link").click()
    page.wait_for_load_state()
    assert page.get_by_text("計劃資助每個名額的費用").count() == 1
    assert page.locator("[lang='en'] h3").count() == 1, "the English text is offered, marked as English"
    assert serious_accessibility_findings(page) == []


def test_a_bad_date_in_the_address_is_explained_not_an_error_page(page, server_url):
    page.goto(server_url + "/projects?lang=en&starts_from=2027-02-30")
    summary = page.locator(".govuk-error-summary")
    assert "Enter the earliest start date as a real date" in summary.inner_text()
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "starts_from-day"
    assert serious_accessibility_findings(page) == []


def test_the_catalogue_fits_a_375px_phone_without_sideways_scrolling(browser, server_url):
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    for path in ("/projects?lang=zh-Hant", "/projects?lang=en", "/projects/1?lang=en"):
        page.goto(server_url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    context.close()
