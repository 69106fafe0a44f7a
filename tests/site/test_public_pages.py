"""Public pages for young people: a project invites a visitor to choose it, search shows results before its
filters, and the pages every Hong Kong e-service has (collection statement, privacy, accessibility, contact, terms)."""

from __future__ import annotations

import html
import re

import pytest

from tests.accounts.helpers import make_user, sign_in_as
from tests.factories import make_project, make_scheme

LEGAL = {"/personal-information-collection-statement": ("Personal Information Collection Statement", "收集個人資料聲明"),
         "/privacy": ("Privacy policy", "私隱政策"), "/accessibility": ("Accessibility statement", "無障礙聲明"),
         "/contact": ("Contact us", "聯絡我們"), "/terms": ("Terms of use", "使用條款")}


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def test_a_project_page_invites_a_signed_out_visitor_to_sign_in_or_create_an_account(client, session):
    project = make_project(session, make_scheme(session))
    page = client.get(f"/projects/{project.id}?lang=en")
    assert 'id="choose-this-project"' in page.text
    assert f'href="/sign-in?next=/projects/{project.id}"' in page.text and 'href="/sign-up"' in page.text
    text = _text(page)
    assert "Allowance HK$8,000" in text and "Accommodation HK$12,000" in text, "what this project pays an intern"
    assert "想參加這個實習？" in client.get(f"/projects/{project.id}?lang=zh-Hant").text

    sign_in_as(client, session, make_user(session))
    assert 'id="choose-this-project"' not in client.get(f"/projects/{project.id}").text


def test_search_shows_results_before_the_filters_which_sit_behind_a_filter_disclosure(client, session):
    scheme = make_scheme(session)
    make_project(session, scheme)
    page = client.get("/projects?lang=en").text
    assert '<details class="govuk-details" id="filters">' in page, "closed: a phone sees the results first"
    assert page.index('id="q"') < page.index('id="filters"') < page.index('id="results-heading"')
    assert page.index('id="region"') > page.index("<summary"), "the filters are inside the disclosure"

    filtered = client.get("/projects?lang=en&region=Guangdong&sector=technology").text
    assert "Filter (2 in use)" in filtered and '<details class="govuk-details" id="filters">' in filtered
    wrong = client.get("/projects?lang=en&region=Atlantis")
    assert '<details class="govuk-details" id="filters" open>' in wrong.text, "an error opens the filters"


@pytest.mark.parametrize("path", sorted(LEGAL))
def test_the_legal_pages_are_real_in_both_languages_and_linked_from_every_footer(client, path):
    english, chinese = LEGAL[path]
    page = client.get(path + "?lang=en")
    assert page.status_code == 200 and f"<h1 class=\"govuk-heading-l\">{english}</h1>" in page.text
    assert "Home Affairs Department" in page.text
    assert f"<h1 class=\"govuk-heading-l\">{chinese}</h1>" in client.get(path + "?lang=zh-Hant").text
    assert f'class="govuk-footer__link" href="{path}"' in client.get("/").text


def test_the_collection_statement_says_what_why_who_how_long_and_how_to_see_or_correct(client):
    text = _text(client.get("/personal-information-collection-statement?lang=en"))
    assert "Personal Data (Privacy) Ordinance (Cap. 486)" in text
    assert "erased 365 days after the applications of your latest scheme close" in text
    assert "The text of a complaint is erased 730 days after it is decided" in text
    assert "sections 18 and 22" in text and "We reply within 40 days" in text
    assert "enquiries@internmatch.example.hk" in text
    assert "identity card number" in text


@pytest.mark.parametrize("path", ["/sign-up", "/sign-up/organisation", "/profile/steps/names", "/complaints/new",
                                  "/profile/cv"])
def test_every_sign_up_and_form_collecting_personal_data_shows_the_collection_statement(client, session, path):
    if path.startswith(("/profile", "/complaints")):
        sign_in_as(client, session, make_user(session))
    page = client.get(path + "?lang=en").text
    assert 'id="pics-notice"' in page and 'href="/personal-information-collection-statement"' in page, path
    main = page[page.index('id="main-content"'):]
    assert main.index('id="pics-notice"') < main.index('<form method="post"'), "told before the form"
