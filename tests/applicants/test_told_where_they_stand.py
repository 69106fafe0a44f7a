"""Applicants are told where they stand: not placed (and why, in their language), choices they are not eligible
for (with the answer that would change it), "Not met" unlike "Met", and no unopened step shown as completed."""

from __future__ import annotations

import html

from sqlmodel import select

from backend.applicants.models import Choice
from backend.placements.models import MatchProposal, MatchUnplaced, ProposalStatus
from tests.accounts.helpers import make_user, sign_in_as
from tests.applicants.helpers import make_applicant
from tests.applicants.test_routes import post
from tests.factories import make_project
from tests.rounds_web.test_round_pages import finished_round


def _text(response) -> str:
    return " ".join(html.unescape(response.text).split())


def test_an_applicant_left_out_of_a_decided_round_reads_not_placed_and_why(client, session):
    scheme, project, run, people, _organisation = finished_round(session)
    left_out_user, left_out = make_applicant(session, name_en="Ho Wing")
    session.add(MatchUnplaced(run_id=run.id, applicant_id=left_out.id, reason_code="regional_cap_exhausted",
                              reason_params={"region": "Guangdong", "cap": 5}))
    session.add(Choice(applicant_id=left_out.id, project_id=project.id, scheme_id=scheme.id, rank=1))
    session.flush()
    sign_in_as(client, session, left_out_user)

    before = _text(client.get("/status?lang=en"))
    assert "Not placed" not in before, "nobody is told before an approver has decided the round"

    first = session.exec(select(MatchProposal).where(MatchProposal.run_id == run.id)).first()
    first.status = ProposalStatus.APPROVED
    session.add(first)
    session.flush()

    page = _text(client.get("/status?lang=en"))
    assert 'id="not-placed"' in client.get("/status").text
    assert "did not place you on any of your choices" in page
    assert "the scheme's limit on places in Guangdong was reached" in page
    assert "reviews applications after the window closes" not in page, "the stale 'submitted' text is gone"
    assert "You were not placed on this project in this year's matching." in page
    zh = _text(client.get("/status?lang=zh-Hant"))
    assert "未獲配對" in zh and "廣東" in zh


def test_a_choice_the_applicant_is_not_eligible_for_is_flagged_with_the_answer_to_change(client, session, scheme):
    user, profile = make_applicant(session)  # born 2004: 23 in July 2027
    project = make_project(session, scheme, min_age=25, max_age=29, title_en="Senior analyst")
    fine = make_project(session, scheme, title_en="Junior analyst")
    session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=1))
    session.add(Choice(applicant_id=profile.id, project_id=fine.id, scheme_id=scheme.id, rank=2))
    session.flush()
    sign_in_as(client, session, user)

    for path in ("/choices", "/status"):
        response = client.get(path + "?lang=en")
        page = _text(response)
        assert page.count("Not eligible: the matcher will not place you on this project.") == 1, path
        assert 'href="/profile/steps/names"' in response.text, path
        assert "Change your answer: Your name and date of birth" in page, path
    assert "不符合資格" in client.get("/choices?lang=zh-Hant").text

    detail = client.get(f"/projects/{project.id}?lang=en")
    assert "✗" in detail.text and "Not met:" in detail.text and 'href="/profile/steps/names"' in detail.text
    assert "✓" in detail.text, "met requirements carry their own mark, not only a colour"


def test_a_new_applicants_empty_profile_shows_no_step_as_completed(client, session):
    user = make_user(session)
    csrf = sign_in_as(client, session, user)
    page = client.get("/profile?lang=en").text
    assert "Completed" not in page and page.count("Not started") == 10

    assert post(client, "/profile/steps/regions", csrf, {}).status_code == 303
    page = client.get("/profile?lang=en").text
    status = page.split('id="status-regions"')[1].split("</div>")[0]
    assert "Completed" in status and page.count("Not started") == 9


def test_the_status_page_an_applicant_lands_on_gives_the_key_dates(client, session, scheme):
    user, _profile = make_applicant(session)
    sign_in_as(client, session, user)
    page = _text(client.get("/status?lang=en"))
    assert "Key dates" in page and "1 November 2026" in page and "31 March 2027" in page
