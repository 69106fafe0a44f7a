"""A new staff member sets up an authenticator app at their first sign-in, then signs in with a code."""

import uuid

from tests.accounts.helpers import fresh_code
from tests.browser.conftest import DEMO_PASSWORD, serious_accessibility_findings, sign_in


def test_a_new_officer_enrols_at_first_sign_in_and_then_signs_in_with_a_code(page, server_url):
    email = f"officer-{uuid.uuid4().hex[:8]}@had.example.hk"
    password = "officer first secret"  # noqa: S105 - a test account's password
    sign_in(page, server_url, "admin@demo.internmatch.hk")
    page.goto(server_url + "/staff/accounts?lang=en")
    page.get_by_label("Full name").fill("Ho Wing Sze")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Role").select_option("officer")
    page.get_by_label("First password").fill(password)
    page.get_by_role("button", name="Create staff account").click()
    page.wait_for_load_state()
    page.context.clear_cookies()

    page.goto(server_url + "/sign-in?lang=zh-Hant")
    page.get_by_label("電郵地址").fill(email)
    page.get_by_label("密碼").fill(password)
    page.get_by_role("button", name="登入").click()
    page.wait_for_load_state()
    assert "/account/two-factor/setup" in page.url
    assert page.locator("h1").inner_text() == "設定你的驗證應用程式"
    assert serious_accessibility_findings(page) == []
    page.goto(server_url + "/staff/organisations")
    assert "/account/two-factor/setup" in page.url, "half signed in: the second step comes first"

    page.goto(server_url + "/account/two-factor/setup?lang=en")
    secret = page.locator("#totp-secret").inner_text().strip()
    assert page.locator("#totp-uri").get_attribute("href").startswith("otpauth://totp/")
    page.get_by_label("Code", exact=True).fill("12345")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.title().startswith("Error:") and serious_accessibility_findings(page) == []
    page.get_by_label("Code", exact=True).fill(fresh_code(email, secret))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Your recovery codes"
    assert page.locator("#recovery-codes li").count() == 10
    assert serious_accessibility_findings(page) == []
    page.get_by_role("link", name="I have saved my recovery codes").click()
    page.wait_for_load_state()
    assert page.url.endswith("/staff/todo")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    page.goto(server_url + "/sign-in?lang=en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/sign-in/code" in page.url
    assert page.locator("h1").inner_text() == "Enter your code"
    assert serious_accessibility_findings(page) == []
    page.get_by_label("Code", exact=True).fill(fresh_code(email, secret))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.url.endswith("/staff/todo")
    assert DEMO_PASSWORD  # the admin signed in with the published demo password and key
