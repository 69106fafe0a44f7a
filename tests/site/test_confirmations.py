"""Irreversible or mass actions ask first, in numbers, and act only on a second post with confirmed=yes."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlmodel import select

from backend.core.db import utcnow
from backend.identity.models import Role
from backend.placements.models import Placement, PlacementStatus
from tests.accounts.helpers import make_user, sign_in_as
from tests.approval_helpers import approve_queued
from tests.factories import make_organisation
from tests.rounds_web.test_round_pages import finished_round


def _text(response) -> str:
    return " ".join(html.unescape(response.text).split())


def test_declining_an_offer_shows_what_is_given_up_and_declines_only_when_confirmed(client, session):
    approver = make_user(session, Role.APPROVER)
    _scheme, project, _run, people, _organisation = finished_round(session)
    (user, profile), _other = people
    placement = Placement(scheme_id=project.scheme_id, project_id=project.id, applicant_id=profile.id,
                          subsidy_hkd=25_000, offer_deadline=utcnow() + timedelta(days=7), approved_by_id=approver.id)
    session.add(placement)
    session.flush()
    csrf = sign_in_as(client, session, user)

    asked = client.post(f"/placements/{placement.id}/decline", data={"csrf_token": csrf}, follow_redirects=False)
    assert asked.status_code == 200
    page = _text(asked)
    assert "Decline this offer?" in page and project.title_en in page
    assert "You have no other offer waiting for your answer." in page
    assert 'name="confirmed" value="yes"' in asked.text
    session.refresh(placement)
    assert placement.status == PlacementStatus.OFFERED, "nothing happens before the confirmation"

    zh = client.post(f"/placements/{placement.id}/decline?lang=zh-Hant", data={"csrf_token": csrf})
    assert "拒絕這個錄取？" in zh.text

    done = client.post(f"/placements/{placement.id}/decline", data={"csrf_token": csrf, "confirmed": "yes"},
                       follow_redirects=False)
    assert done.status_code == 303
    session.refresh(placement)
    assert placement.status == PlacementStatus.DECLINED


def test_approving_a_whole_round_says_how_many_offers_and_e_mails_first(client, session):
    officer, approver = make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)
    _scheme, _project, run, _people, _organisation = finished_round(session, started_by=officer)
    csrf = sign_in_as(client, session, approver)

    asked = client.post(f"/staff/rounds/{run.id}/approve", data={"csrf_token": csrf, "scope": "all"})
    assert asked.status_code == 200
    page = _text(asked)
    assert "Approve the whole round?" in page
    assert "2 offers will be made, to 2 applicants." in page
    assert "2 e-mails will be sent at once" in page and "Yes, make 2 offers" in page
    assert session.exec(select(Placement)).first() is None, "no offer before the confirmation"

    done = client.post(f"/staff/rounds/{run.id}/approve",
                       data={"csrf_token": csrf, "scope": "all", "confirmed": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and session.exec(select(Placement)).first() is None, "the worker makes them"
    approve_queued(session, run.id)
    assert len(session.exec(select(Placement)).all()) == 2


def test_verifying_an_organisation_asks_first(client, session):
    organisation = make_organisation(session, verified=False)
    officer = make_user(session, Role.OFFICER)
    csrf = sign_in_as(client, session, officer)

    asked = client.post(f"/staff/organisations/{organisation.id}/verify", data={"csrf_token": csrf},
                        follow_redirects=False)
    assert asked.status_code == 200
    page = _text(asked)
    assert "Verify this organisation?" in page and organisation.registration_number in page
    session.refresh(organisation)
    assert organisation.verified_at is None

    done = client.post(f"/staff/organisations/{organisation.id}/verify",
                       data={"csrf_token": csrf, "confirmed": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    session.refresh(organisation)
    assert organisation.verified_at is not None
