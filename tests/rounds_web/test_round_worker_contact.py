"""A running round says when its worker last reported, and that it stopped once it has gone silent."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from backend.core.db import utcnow
from backend.identity.models import Role
from backend.placements.models import MatchRun, MatchRunStatus
from tests.accounts.helpers import make_user, sign_in_as
from tests.factories import make_scheme


def running_round(session, *, silent_for: timedelta) -> MatchRun:
    now = utcnow()
    run = MatchRun(scheme_id=make_scheme(session).id, mode="optimal", status=MatchRunStatus.RUNNING, stage="store",
                   progress_percent=95, parameters={}, worker_id="host:123:worker", attempts=1,
                   claimed_at=now - silent_for - timedelta(minutes=1), heartbeat_at=now - silent_for)
    session.add(run)
    session.flush()
    return run


def seconds_said(pattern: str, page: str, *, at_least: int, since: float) -> bool:
    """The page's "N seconds ago" is the silence set up, plus however long the test took since (a loaded
    machine may take several seconds to sign in and render)."""
    found = re.search(pattern, page)
    return found is not None and at_least <= int(found.group(1)) <= at_least + int(time.monotonic() - since) + 1


def test_a_round_whose_worker_stopped_reporting_says_so_on_the_page_and_in_the_api(client, session):
    since = time.monotonic()
    run = running_round(session, silent_for=timedelta(seconds=45))
    sign_in_as(client, session, make_user(session, Role.OFFICER))

    page = client.get(f"/staff/rounds/{run.id}").text
    assert seconds_said(r"Last heard from the worker (\d+) seconds ago\.", page, at_least=45, since=since)
    assert "The worker stopped; the round will resume when a worker picks it up." in page
    zh = client.get(f"/staff/rounds/{run.id}?lang=zh-Hant").text
    assert "後台程序已停止" in zh
    assert seconds_said(r"後台程序最後一次回報是 (\d+) 秒前", zh, at_least=45, since=since)
    progress = client.get(f"/api/v1/rounds/{run.id}/progress?lang=en").json()
    assert progress["worker_note"].startswith("The worker stopped;")
    body = client.get(f"/api/v1/rounds/{run.id}").json()
    assert body["worker_stopped"] is True and body["heartbeat_at"] is not None


def test_a_round_whose_worker_reports_shows_how_recently_and_no_warning(client, session):
    since = time.monotonic()
    run = running_round(session, silent_for=timedelta(seconds=3))
    sign_in_as(client, session, make_user(session, Role.OFFICER))

    page = client.get(f"/staff/rounds/{run.id}").text
    assert seconds_said(r"Last heard from the worker (\d+) seconds ago\.", page, at_least=3, since=since)
    assert "The worker stopped" not in page
    assert client.get(f"/api/v1/rounds/{run.id}").json()["worker_stopped"] is False
