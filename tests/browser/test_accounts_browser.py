"""Account pages in a real browser, in both languages, at desktop and phone width, checked with axe-core."""

from tests.browser.conftest import serious_accessibility_findings, sign_in


def test_the_sign_up_pages_in_english_and_chinese_including_their_errors(page, server_url):
    page.goto(server_url + "/sign-up?lang=en")
    assert page.locator("h1").inner_text() == "Create an applicant account"
    assert serious_accessibility_findings(page) == []

    page.get_by_label("E-mail address").fill("not-an-address")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible() and "Enter your full name." in summary.inner_text()
    assert page.get_by_label("E-mail address").input_value() == "not-an-address", "what was typed is kept"
    assert page.title().startswith("Error:")
    assert serious_accessibility_findings(page) == []

    page.goto(server_url + "/sign-up?lang=zh-Hant")
    assert page.locator("h1").inner_text() == "建立申請人帳戶"
    assert serious_accessibility_findings(page) == []

    page.goto(server_url + "/sign-up/organisation?lang=zh-Hant")
    assert page.locator("h1").inner_text() == "登記你的機構"
    assert serious_accessibility_findings(page) == []


def test_an_applicant_signs_in_sees_their_account_in_both_languages_and_signs_out(page, server_url):
    page.goto(server_url + "/sign-in?lang=zh-Hant")
    assert page.locator("h1").inner_text() == "登入"
    assert serious_accessibility_findings(page) == []

    sign_in(page, server_url, "applicant@demo.internmatch.hk")
    assert page.url.endswith("/status"), "an applicant lands on their status: what to do next"
    assert serious_accessibility_findings(page) == []
    page.goto(server_url + "/account")
    assert page.locator("h1").inner_text() == "Your account"
    assert serious_accessibility_findings(page) == []

    page.get_by_role("link", name="繁體中文").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "你的帳戶"
    assert serious_accessibility_findings(page) == []

    page.get_by_role("button", name="登出").click()
    page.wait_for_load_state()
    assert "/sign-in" in page.url and "你已登出。" in page.locator("main").inner_text()
    page.goto(server_url + "/account")
    assert "/sign-in" in page.url, "signed out for real"


def test_a_wrong_password_shows_an_error_linked_to_the_field(page, server_url):
    page.goto(server_url + "/sign-in?lang=en")
    page.get_by_label("E-mail address").fill("applicant@demo.internmatch.hk")
    page.get_by_label("Password").fill("not the right password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary a[href='#email']").inner_text() == \
        "The e-mail address or password is not right."
    assert serious_accessibility_findings(page) == []


def test_staff_and_ngo_pages_have_no_serious_accessibility_findings(page, server_url):
    sign_in(page, server_url, "admin@demo.internmatch.hk")
    for path, heading in (("/staff/organisations", "Organisations"), ("/staff/accounts", "Staff accounts"),
                          ("/staff/audit", "Audit log")):
        page.goto(server_url + path + "?lang=en")
        assert page.locator("h1").inner_text() == heading
        assert serious_accessibility_findings(page) == [], path
    page.goto(server_url + "/staff/audit?lang=zh-Hant")
    assert page.locator("h1").inner_text() == "審計記錄"

    page.context.clear_cookies()
    sign_in(page, server_url, "ngo@demo.internmatch.hk")
    assert page.url.endswith("/ngo/projects"), "an NGO lands on its projects"
    page.goto(server_url + "/organisation")
    assert page.get_by_role("heading", name="Invite a colleague").is_visible()
    assert serious_accessibility_findings(page) == []
