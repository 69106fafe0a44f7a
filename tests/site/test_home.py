"""The home page and the base layout every page shares."""

import re
from datetime import date

from tests.factories import make_project, make_scheme


def test_home_page_is_for_young_people_how_it_works_key_dates_what_an_intern_receives_then_search(client, session):
    scheme = make_scheme(session, caps={"Guangdong": 1500})
    make_project(session, scheme, region="Guangdong", places=30, subsidy=26_000)
    make_project(session, scheme, region="Beijing", city="Beijing", places=60, subsidy=30_000, cost_travel=4_500)

    page = client.get("/?lang=en")

    assert page.status_code == 200
    html = page.text
    assert '<html lang="en"' in html
    order = [html.index(f'id="{section}"') for section in ("how-it-works", "key-dates", "what-you-receive", "search")]
    assert order == sorted(order), "how it works, key dates, what an intern receives, then search"
    assert "Funding Scheme for Youth Internship in the Mainland 2027" in html
    assert "1 November 2026" in html and "31 March 2027" in html, "when applications open and close"
    assert "90 places" in html
    assert "HK$9,000 to HK$13,000" in html, "the allowance as the open projects state it"
    assert "HK$3,000 to HK$4,500" in html and "HK$12,000" in html and "HK$1,000" in html
    assert 'action="/projects"' in html
    assert "Regional cap" not in html and "HK$91,000,000" not in html, "the scheme's figures are for staff pages"


def test_home_page_speaks_of_the_scheme_with_projects_open_not_a_newer_one_still_empty(client, session):
    open_now = make_scheme(session, name_en="Open Scheme 2027")
    make_project(session, open_now, places=25)
    make_scheme(session, name_en="Next Scheme 2028", applicant_window_opens=date(2027, 11, 1),
                applicant_window_closes=date(2028, 3, 31))

    html = client.get("/?lang=en").text

    assert "Open Scheme 2027" in html and "Next Scheme 2028" not in html
    assert 'id="what-you-receive"' in html and "25 places" in html


def test_home_page_in_traditional_chinese(client, session):
    scheme = make_scheme(session, caps={"Guangdong": 1500})
    make_project(session, scheme, region="Guangdong", places=30)

    html = client.get("/?lang=zh-Hant").text

    assert '<html lang="zh-Hant"' in html
    assert "內地資助實習" in html
    assert "青年內地實習資助計劃 2027" in html
    assert "運作方式" in html and "重要日期" in html and "實習生可獲甚麼" in html
    assert "跳至主要內容" in html
    assert "Funded internships in the Mainland" not in html


def test_language_choice_is_remembered_in_a_cookie(client):
    first = client.get("/?lang=zh-Hant")
    assert "lang=zh-Hant" in first.headers["set-cookie"]
    assert "SameSite=Lax" in first.headers["set-cookie"]
    again = client.get("/")
    assert '<html lang="zh-Hant"' in again.text


def test_first_visit_follows_the_browsers_accept_language(client):
    client.cookies.clear()
    assert '<html lang="zh-Hant"' in client.get("/", headers={"Accept-Language": "zh-HK,zh;q=0.9,en;q=0.8"}).text
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.1"}).text
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "fr-FR"}).text


def test_an_unknown_language_code_falls_back_to_english_without_setting_a_cookie(client):
    page = client.get("/?lang=klingon")
    assert '<html lang="en"' in page.text
    assert "set-cookie" not in page.headers


def test_every_page_has_a_skip_link_a_main_landmark_and_a_language_switch(client):
    html = client.get("/?lang=en").text
    assert 'href="#main-content" class="govuk-skip-link"' in html
    assert '<main class="govuk-main-wrapper" id="main-content"' in html
    assert 'hreflang="zh-Hant"' in html and "繁體中文" in html
    assert 'role="contentinfo"' in html


def test_the_language_switch_keeps_the_other_query_parameters(client):
    html = client.get("/?lang=en&page=2").text
    assert 'href="/?page=2&amp;lang=zh-Hant"' in html


def test_security_headers_forbid_inline_script_and_framing(client):
    headers = client.get("/").headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_script(client, session):
    make_scheme(session)
    html = client.get("/").text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def test_an_unknown_address_gets_a_page_not_found_in_the_users_language(client):
    page = client.get("/no-such-page?lang=zh-Hant")
    assert page.status_code == 404
    assert "找不到網頁" in page.text


def test_home_page_without_any_scheme_says_so(client):
    html = client.get("/?lang=en").text
    assert "No funding scheme has been set up yet." in html
