"""The open lottery: a scheme's tie-break seed is drawn once before match day, its SHA-256 published at once and
the seed itself on match day; the main round uses it, and a round with another seed is a what-if that cannot be
approved."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.core import clock
from backend.core.errors import Conflict, InvalidTransition
from backend.identity.models import Role
from backend.placements import approvals, rounds
from backend.placements.models import MatchRun, MatchRunStatus
from backend.projects.models import ProjectStatus
from backend.schemes import lottery
from tests.accounts.helpers import make_user, sign_in_as
from tests.factories import make_organisation, make_project, make_scheme

MATCH_DAY = date(2027, 4, 1)


@pytest.fixture(autouse=True)
def before_match_day():
    clock.set_today(date(2027, 3, 1))
    yield
    clock.reset()


@pytest.fixture
def scheme(session):
    return make_scheme(session, match_day=MATCH_DAY, ranking_deadline=date(2027, 3, 20))


def test_the_seed_is_drawn_once_and_only_its_commitment_is_published_until_match_day(client, session, scheme):
    officer = make_user(session, Role.OFFICER)
    project = make_project(session, scheme, make_organisation(session), status=ProjectStatus.OPEN)

    published = lottery.draw(session, officer, scheme)

    seed = scheme.lottery_seed
    assert 0 <= seed < 2 ** 63 and published.seed is None
    assert published.commitment == hashlib.sha256(str(seed).encode()).hexdigest()
    page = client.get(f"/projects/{project.id}?lang=en").text
    assert published.commitment in page and str(seed) not in page
    assert "revealed on match day" in page
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "scheme.lottery_seed_drawn")).one()
    assert str(seed) not in str(event.after) and event.after["commitment"] == published.commitment
    with pytest.raises(Conflict, match="cannot be drawn again"):
        lottery.draw(session, officer, scheme)

    clock.set_today(MATCH_DAY)
    page = client.get(f"/projects/{project.id}?lang=en").text
    assert f"<code>{seed}</code>" in page and published.commitment in page
    assert lottery.published(scheme).seed == seed


def test_a_seed_needs_a_match_day_ahead(session):
    officer = make_user(session, Role.OFFICER)
    with pytest.raises(Conflict, match="Set the scheme's match day first"):
        lottery.draw(session, officer, make_scheme(session))
    passed = make_scheme(session, match_day=date(2027, 2, 1))
    with pytest.raises(Conflict, match="before match day"):
        lottery.draw(session, officer, passed)
    assert passed.lottery_seed is None


def test_staff_draw_it_from_the_scheme_page_and_nobody_else_may(client, session, scheme):
    approver = make_user(session, Role.APPROVER)
    csrf = sign_in_as(client, session, approver)
    assert client.post(f"/api/v1/schemes/{scheme.id}/lottery", headers={"X-CSRF-Token": csrf}).status_code == 403
    officer = make_user(session, Role.OFFICER)
    csrf = sign_in_as(client, session, officer)
    assert "Draw the lottery seed" in client.get(f"/staff/schemes/{scheme.id}?lang=en").text
    done = client.post(f"/staff/schemes/{scheme.id}/lottery-seed", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    shown = client.get(f"/api/v1/schemes/{scheme.id}/lottery").json()
    assert shown["drawn"] is True
    assert shown["seed"] is None and shown["commitment"] == lottery.commitment_of(scheme.lottery_seed)
    again = client.post(f"/api/v1/schemes/{scheme.id}/lottery", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409


def test_a_round_breaks_ties_with_the_lottery_seed_and_another_seed_makes_a_what_if(session, scheme):
    officer = make_user(session, Role.OFFICER)
    approver = make_user(session, Role.APPROVER)
    lottery.draw(session, officer, scheme)
    clock.set_today(date(2027, 3, 25))  # rankings are final, match day is ahead

    main = rounds.start_round(session, officer, scheme, mode="stable")
    assert main.parameters["seed"] == scheme.lottery_seed and not rounds.is_what_if(session, main)
    started = session.exec(select(AuditEvent).where(AuditEvent.action == "match.round_started",
                                                    AuditEvent.object_id == str(main.id))).one()
    assert started.after["seed"] == "lottery", "the seed stays out of the log until it is revealed"
    main.status = MatchRunStatus.CANCELLED
    session.flush()

    other = rounds.start_round(session, officer, scheme, mode="stable", seed=12345)
    assert other.parameters["seed"] == 12345 and rounds.is_what_if(session, other)
    other.status = MatchRunStatus.SUCCEEDED
    session.flush()
    with pytest.raises(InvalidTransition, match="seed other than the scheme's published lottery seed"):
        approvals.check_can_decide(session, approver, other)
    assert "chosen for this what-if, 12345" in lottery.round_seed_words(scheme, other.parameters)


def test_the_api_takes_a_what_if_seed_within_bounds(client, session, scheme):
    officer = make_user(session, Role.OFFICER)
    csrf = sign_in_as(client, session, officer)
    too_big = client.post("/api/v1/rounds", headers={"X-CSRF-Token": csrf},
                          json={"scheme_id": scheme.id, "mode": "stable", "seed": 2 ** 63})
    assert too_big.status_code == 422
    started = client.post("/api/v1/rounds", headers={"X-CSRF-Token": csrf},
                          json={"scheme_id": scheme.id, "mode": "stable", "seed": 7})
    assert started.status_code in (200, 201, 202)
    run = session.get(MatchRun, started.json()["id"])
    assert run.parameters["seed"] == 7
