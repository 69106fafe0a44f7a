"""What every page costs: one database session per request, and the template helpers that run on every page."""

import re
from datetime import date

import pytest

from backend.core import i18n
from backend.core.db import get_session
from backend.core.formatting import hkd, long_date, number
from backend.core.templating import static_url
from tests.factories import make_project


@pytest.fixture
def counted_sessions(app):
    """How many times a request asked for a database session (each is a pooled connection in production)."""
    opened = []
    shared = app.dependency_overrides[get_session]

    def _counting_session():
        opened.append(1)
        yield from shared()

    app.dependency_overrides[get_session] = _counting_session
    return opened


@pytest.mark.parametrize("path", ["/", "/projects", "/projects/{id}", "/api/v1/projects", "/api/v1/projects/{id}",
                                  "/api/v1/health"])
def test_a_public_request_opens_one_database_session(client, counted_sessions, scheme, session, path):
    project = make_project(session, scheme, status="open")
    response = client.get(path.format(id=project.id))
    assert response.status_code == 200
    assert len(counted_sessions) == 1, "the route and the sign-in check must share the request's session"


def test_money_numbers_and_dates_read_the_same_in_both_languages():
    assert hkd(91_000_000) == "HK$91,000,000"
    assert hkd(0) == "HK$0" and hkd(None) == "–"
    assert number(3500) == "3,500" and number(0.25) == "0.25"
    i18n.set_language("en")
    assert long_date(date(2027, 7, 1)) == "1 July 2027"
    assert long_date(date(2027, 12, 31)) == "31 December 2027"
    i18n.set_language("zh-Hant")
    try:
        assert long_date(date(2027, 7, 1)) == "2027年7月1日"
    finally:
        i18n.set_language("en")


def test_pages_link_static_files_by_a_fingerprint_of_their_content(client):
    page = client.get("/?lang=en").text
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)
    assert href == static_url("css/internmatch.css")
    path, _sep, fingerprint = href.partition("?v=")
    assert len(fingerprint) == 12
    served = client.get(href)
    assert served.status_code == 200 and served.content == client.get(path).content
