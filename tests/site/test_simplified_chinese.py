"""Guangdong readers: every page, e-mail and API message in Simplified Chinese, and one word whichever
script it is written in (故宫 = 故宮)."""

from __future__ import annotations

import re

from sqlmodel import select

from backend.accounts.service import sign_up_applicant
from backend.core.i18n import negotiate_language
from backend.outbox.models import OutboxEmail
from matching.chinese import to_simplified
from tests.factories import make_project

HAN = re.compile(r"[\u4e00-\u9fff]")


def chinese_text(html: str) -> str:
    return "".join(HAN.findall(re.sub(r"<[^>]+>", " ", html)))


def test_browsers_asking_for_simplified_chinese_get_it_and_other_chinese_reads_traditional():
    assert negotiate_language(None, None, "zh-CN,zh;q=0.9,en;q=0.5") == "zh-Hans"
    assert negotiate_language(None, None, "zh-Hans-CN") == "zh-Hans"
    assert negotiate_language(None, None, "zh-HK,en;q=0.5") == "zh-Hant"
    assert negotiate_language(None, None, "zh") == "zh-Hant"
    assert negotiate_language("zh-Hans", None, "en") == "zh-Hans"


def test_a_page_in_simplified_chinese_is_in_simplified_characters_and_offers_the_other_languages(client):
    page = client.get("/?lang=zh-Hans")
    assert page.status_code == 200
    assert '<html lang="zh-Hans"' in page.text
    words = chinese_text(page.text.split("im-language-switch", 1)[1])
    assert words and to_simplified(words.replace("繁體中文", "")) == words.replace("繁體中文", "")
    assert 'hreflang="zh-Hant"' in page.text and 'hreflang="en"' in page.text
    # the choice is remembered
    assert client.get("/").text.count('<html lang="zh-Hans"') == 1


def test_a_projects_chinese_text_is_shown_to_a_simplified_reader_converted(client, session, scheme):
    project = make_project(session, scheme, title_zh="故宮博物院文物修復實習", host_organisation_zh="故宮博物院",
                           description_zh="協助修復館藏書畫。")
    page = client.get(f"/projects/{project.id}?lang=zh-Hans").text
    assert "故宫博物院文物修复实习" in page and "协助修复馆藏书画。" in page
    assert "故宮博物院文物修復實習" not in page
    traditional = client.get(f"/projects/{project.id}?lang=zh-Hant").text
    assert "故宮博物院文物修復實習" in traditional  # as the organisation wrote it


def test_a_search_in_either_script_finds_the_project_written_in_the_other(client, session, scheme):
    palace = make_project(session, scheme, title_en="Conservation intern", title_zh="故宮文物修復實習")
    guangdong = make_project(session, scheme, title_en="Panda keeper", title_zh="大熊猫饲养员")
    for query, found in (("故宫", palace), ("故宮", palace), ("熊貓", guangdong), ("熊猫", guangdong)):
        page = client.get("/projects", params={"q": query, "lang": "zh-Hans"}).text
        assert f'href="/projects/{found.id}"' in page, query


def test_an_applicant_who_signed_up_in_simplified_chinese_gets_her_e_mail_in_it(session):
    user = sign_up_applicant(session, display_name="李小红", email="xiaohong@example.cn",
                             password="a-long-enough-passphrase", language="zh-Hans")
    assert user.preferred_language == "zh-Hans"
    email = session.exec(select(OutboxEmail).where(OutboxEmail.to_address == "xiaohong@example.cn")).one()
    words = chinese_text(email.subject + email.body_text)
    assert words and to_simplified(words) == words
    assert "电子邮件" in email.subject + email.body_text or "邮箱" in email.subject + email.body_text


def test_api_messages_follow_the_callers_language(client):
    answer = client.get("/api/v1/projects/2147483000", headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 404
    text = str(answer.json())
    assert HAN.search(text) and to_simplified(text) == text
