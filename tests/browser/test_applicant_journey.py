"""A new applicant's journey on a 375 px phone in Traditional Chinese: sign up, complete the profile one
question page at a time, upload a CV, rank three projects and see them on the status page. Every page is
scanned with axe-core (0 serious or critical findings)."""

import re
import uuid

from tests.applicants.helpers import blank_pdf
from tests.browser.conftest import serious_accessibility_findings


def _submit(page, form_selector="main form"):
    page.locator(f"{form_selector} button[type=submit]").last.click()
    page.wait_for_load_state()


def _accessible(page):
    findings = serious_accessibility_findings(page)
    assert findings == [], f"{page.url}: {findings}"


def test_a_new_applicant_signs_up_completes_the_profile_uploads_a_cv_and_ranks_three_projects(browser, server_url):
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    try:
        page.goto(server_url + "/sign-up?lang=zh-Hant")
        _accessible(page)
        page.fill("#display_name", "陳小明")
        page.fill("#email", f"journey-{uuid.uuid4().hex[:8]}@example.hk")
        page.fill("#password", "a long journey pass phrase")
        _submit(page)
        assert "/account" in page.url

        page.get_by_role("link", name="我的個人資料").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "你的個人資料"
        _accessible(page)

        page.goto(server_url + "/profile/steps/names")
        assert "第 1 步" in page.locator(".govuk-caption-l").inner_text()
        _accessible(page)
        # A wrong date first: the error is shown in Chinese and the name typed is kept.
        page.fill("#name_en", "Chan Siu Ming")
        page.fill("#date_of_birth-day", "31")
        page.fill("#date_of_birth-month", "2")
        page.fill("#date_of_birth-year", "2004")
        _submit(page)
        assert "請輸入有效日期" in page.locator(".govuk-error-summary").inner_text()
        assert page.input_value("#name_en") == "Chan Siu Ming"
        _accessible(page)
        page.fill("#date_of_birth-day", "5")
        page.fill("#date_of_birth-month", "7")
        _submit(page)

        assert page.url.endswith("/profile/steps/residency")
        page.check("#origin")
        _accessible(page)
        _submit(page)
        _accessible(page)  # contact: the account's e-mail address is already there
        _submit(page)
        page.check("#education_level-bachelor")
        page.fill("#institution", "香港大學")
        _accessible(page)
        _submit(page)
        page.fill("#field_of_study", "數據科學 Data science")
        page.fill("#skills", "Python, data analysis, logistics, finance, media")
        _accessible(page)
        _submit(page)
        for language in ("cantonese", "putonghua", "english"):
            page.select_option(f"#{language}", "5")
        _accessible(page)
        _submit(page)
        for name, (day, month, year) in (("available_from", ("1", "1", "2027")),
                                         ("available_to", ("31", "12", "2028"))):
            page.fill(f"#{name}-day", day)
            page.fill(f"#{name}-month", month)
            page.fill(f"#{name}-year", year)
        _accessible(page)
        _submit(page)
        assert page.url.endswith("/profile/steps/regions")
        _accessible(page)
        _submit(page)
        page.check("#open_to_other")
        _accessible(page)
        _submit(page)
        page.check("#joined_before-no")
        _accessible(page)
        _submit(page)

        assert page.url.endswith("/profile/check-answers")
        assert page.locator("h1").inner_text() == "檢查你的答案"
        assert "2004年7月5日" in page.locator("main").inner_text()
        _accessible(page)
        _submit(page)
        assert "已提交你的個人資料" in page.locator("main").inner_text()

        page.goto(server_url + "/profile/cv")
        _accessible(page)
        page.set_input_files("#cv", files=[{"name": "cv.pdf", "mimeType": "application/pdf", "buffer": blank_pdf()}])
        _submit(page, "main form[action='/profile/cv']")
        assert "已上載你的履歷" in page.locator("main").inner_text()

        page.goto(server_url + "/projects")
        links = page.locator("main a[href^='/projects/']").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        chosen = []
        for href in dict.fromkeys(h for h in links if re.fullmatch(r"/projects/\d+", h)):
            page.goto(server_url + href)
            button = page.locator("main form[action='/choices'] button")
            if button.count():
                if not chosen:
                    assert "你可以申請嗎？" in page.locator("main").inner_text()
                    _accessible(page)
                button.click()
                page.wait_for_load_state()
                chosen.append(href)
            if len(chosen) == 3:
                break
        assert len(chosen) == 3, "three projects the new applicant is eligible for"
        assert page.url.split("?")[0].endswith("/choices")
        _accessible(page)
        # Move the third choice up: a plain form post, no JavaScript needed.
        page.locator("main #choices li").nth(2).locator("button", has_text="上移").click()
        page.wait_for_load_state()
        _accessible(page)

        page.get_by_role("link", name="狀態", exact=True).click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "你的申請狀態"
        cards = page.locator("main .im-card")
        assert cards.count() == 3
        assert "下一步" in page.locator("main").inner_text()
        _accessible(page)
    finally:
        context.close()
