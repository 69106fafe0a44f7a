"""An NGO's interview notes survive a change of outcome, and are shown again in the form."""

from __future__ import annotations

import html

import pytest

from backend.applicants import ngo_view
from backend.applicants.models import Choice
from tests.accounts.helpers import sign_in_as
from tests.applicants.helpers import make_applicant, make_ngo
from tests.applicants.test_routes import post
from tests.factories import make_project


@pytest.fixture
def two_ngos(session, scheme):
    ngo, organisation = make_ngo(session)
    mine = make_project(session, scheme, organisation, title_en="Our project")
    chose_mine = make_applicant(session, name_en="Lee Mei")[1]
    c1 = Choice(applicant_id=chose_mine.id, project_id=mine.id, scheme_id=scheme.id, rank=1)
    session.add(c1)
    session.flush()
    return dict(ngo=ngo, mine=mine, chose_mine=chose_mine, c1=c1)


def test_changing_the_outcome_on_the_page_keeps_the_notes_and_shows_them_in_the_form(session, client, two_ngos):
    w = two_ngos
    csrf = sign_in_as(client, session, w["ngo"])
    url = f"/ngo/choices/{w['c1'].id}/interview"
    assert post(client, url, csrf, {"outcome": "reserve", "notes": "Strong Putonghua & good questions"}).status_code == 303

    page = html.unescape(client.get(f"/ngo/applicants/{w['chose_mine'].id}").text)
    assert "Strong Putonghua & good questions</textarea>" in page, "the saved notes are in the form"
    # The form sends the notes back as shown, so saving a new outcome keeps them.
    assert post(client, url, csrf, {"outcome": "recommended", "notes": "Strong Putonghua & good questions"}
                ).status_code == 303
    session.refresh(w["c1"])
    assert (w["c1"].interview_outcome, w["c1"].interview_notes) == ("recommended", "Strong Putonghua & good questions")

    assert post(client, url, csrf, {"outcome": "recommended", "notes": ""}).status_code == 303
    session.refresh(w["c1"])
    assert w["c1"].interview_notes == "", "clearing the box clears the notes"


def test_an_outcome_sent_without_notes_keeps_the_saved_ones_in_the_service_and_the_api(session, client, two_ngos):
    w = two_ngos
    ngo_view.record_interview(session, w["ngo"], w["c1"].id, "reserve", "Ask about August")
    ngo_view.record_interview(session, w["ngo"], w["c1"].id, "recommended")
    assert w["c1"].interview_notes == "Ask about August"
    session.commit()

    csrf = sign_in_as(client, session, w["ngo"])
    answer = client.post(f"/api/v1/ngo/choices/{w['c1'].id}/interview", json={"outcome": "reserve"},
                         headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200, answer.text
    assert answer.json()["interview_notes"] == "Ask about August"
    session.refresh(w["c1"])
    assert (w["c1"].interview_outcome, w["c1"].interview_notes) == ("reserve", "Ask about August")


def test_notes_stay_visible_once_matching_has_moved_the_application_on(session, client, two_ngos):
    w = two_ngos
    ngo_view.record_interview(session, w["ngo"], w["c1"].id, "recommended", "Ask about August")
    w["c1"].status = "offered"
    session.add(w["c1"])
    session.commit()
    sign_in_as(client, session, w["ngo"])

    page = client.get(f"/ngo/applicants/{w['chose_mine'].id}").text

    assert "Interview notes: Ask about August" in page and "<textarea" not in page
