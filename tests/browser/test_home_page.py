from tests.browser.conftest import serious_accessibility_findings


def test_home_page_renders_in_english_and_chinese_with_no_serious_accessibility_findings(page, server_url):
    page.goto(server_url + "/?lang=en")
    assert page.locator("h1").inner_text() == "Funded internships in the Mainland"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("body.govuk-frontend-supported").count() == 1, "the enhancement script ran"
    assert serious_accessibility_findings(page) == []

    page.get_by_role("link", name="繁體中文").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "內地資助實習"
    assert page.evaluate("document.documentElement.lang") == "zh-Hant"
    assert serious_accessibility_findings(page) == []

    page.goto(server_url + "/")
    assert page.locator("h1").inner_text() == "內地資助實習", "the choice is remembered"


def test_the_skip_link_moves_focus_to_the_main_content(page, server_url):
    page.goto(server_url + "/?lang=en")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"


def test_page_fits_a_375px_phone_without_sideways_scrolling(browser, server_url):
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    page.goto(server_url + "/?lang=zh-Hant")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
