"""Proposal reasons in the reader's language, superseded rounds, and removing a pin or exclusion through the API."""

from __future__ import annotations

import re

from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.identity.models import Role
from backend.placements.models import MatchAdjustment, MatchProposal, MatchRun, MatchRunStatus, Placement
from tests.accounts.helpers import make_user, sign_in_as
from tests.approval_helpers import approve_queued
from tests.rounds_web.test_round_pages import FIGURES, finished_round

REASONS = [{"code": "choice", "params": {"rank": 1}, "text": "your 1st choice"},
           {"code": "shared_terms", "params": {"terms": ["robotics", "data"]}, "text": "shared interests: robotics, data"},
           {"code": "rules_passed", "params": {"rules": ["residency", "age"]}, "text": "meets all 2 requirements"}]


def with_matcher_reasons(session, run):
    """The proposals of `run` with reasons as the worker stores them (the matcher's English text included)."""
    proposals = session.exec(select(MatchProposal).where(MatchProposal.run_id == run.id)
                             .order_by(MatchProposal.id)).all()
    proposals[0].reasons = [dict(r) for r in REASONS]
    session.add(proposals[0])
    session.flush()
    return proposals


def newer_round(session, run, officer=None) -> MatchRun:
    """A later finished round of the same scheme, proposing the same people."""
    newer = MatchRun(scheme_id=run.scheme_id, mode="optimal", status=MatchRunStatus.SUCCEEDED, stage="done",
                     progress_percent=100, figures=FIGURES, parameters={},
                     started_by_id=officer.id if officer else None)
    session.add(newer)
    session.flush()
    for old in session.exec(select(MatchProposal).where(MatchProposal.run_id == run.id)).all():
        session.add(MatchProposal(run_id=newer.id, applicant_id=old.applicant_id, project_id=old.project_id,
                                  score=old.score, choice_rank=old.choice_rank, reasons=old.reasons))
    session.flush()
    return newer


def awaiting_section(html: str) -> str:
    match = re.search(r'id="awaiting">.*?</ul>', html, re.S)
    return match.group(0) if match else ""


# --- reasons --------------------------------------------------------------------------------------------


def test_the_round_page_in_traditional_chinese_shows_the_reasons_in_chinese(client, session):
    officer = make_user(session, Role.OFFICER)
    _scheme, _project, run, _people, _org = finished_round(session, started_by=officer)
    with_matcher_reasons(session, run)
    sign_in_as(client, session, officer)
    zh = client.get(f"/staff/rounds/{run.id}?view=applicants&lang=zh-Hant").text
    assert "申請人的第一志願；共同興趣：robotics、data" in zh
    assert "your 1st choice" not in zh and "shared interests" not in zh
    # A code this version does not know shows the text the matcher stored.
    assert "their first choice" in zh
    en = client.get(f"/staff/rounds/{run.id}?view=applicants&lang=en").text
    assert "Their first choice; Shared interests: robotics, data" in en and "申請人" not in en


def test_the_api_keeps_code_and_params_and_words_the_reasons_in_the_requests_language(client, session):
    officer = make_user(session, Role.OFFICER)
    _scheme, _project, run, _people, _org = finished_round(session, started_by=officer)
    first, _second = with_matcher_reasons(session, run)
    sign_in_as(client, session, officer)
    zh = client.get(f"/api/v1/rounds/{run.id}/proposals", headers={"Accept-Language": "zh-HK,zh;q=0.9"}).json()
    reasons = next(p for p in zh["proposals"] if p["id"] == first.id)["reasons"]
    assert reasons == [{"code": "choice", "params": {"rank": 1}, "text": "申請人的第一志願"},
                       {"code": "shared_terms", "params": {"terms": ["robotics", "data"]}, "text": "共同興趣：robotics、data"},
                       {"code": "rules_passed", "params": {"rules": ["residency", "age"]}, "text": "符合全部 2 項要求"}]
    en = client.get(f"/api/v1/rounds/{run.id}/proposals?lang=en").json()
    texts = [r["text"] for r in next(p for p in en["proposals"] if p["id"] == first.id)["reasons"]]
    assert texts == ["Their first choice", "Shared interests: robotics, data", "Meets all 2 requirements"]
    other = next(p for p in en["proposals"] if p["id"] != first.id)["reasons"]
    assert other == [{"code": "first_choice", "params": {}, "text": "their first choice"}]


# --- superseded rounds -------------------------------------------------------------------------------------


def test_an_older_round_is_listed_as_superseded_not_as_awaiting_approval(client, session):
    officer, approver = make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)
    _scheme, _project, old, _people, _org = finished_round(session, started_by=officer)
    new = newer_round(session, old, officer)
    sign_in_as(client, session, approver)
    page = client.get("/staff/rounds").text
    awaiting = awaiting_section(page)
    assert f"/staff/rounds/{new.id}/approval" in awaiting and f"/staff/rounds/{old.id}/approval" not in awaiting
    assert f'href="/staff/rounds/{new.id}" data-superseded-by="{new.id}">Superseded by round {new.id}</a>' in page
    zh = client.get("/staff/rounds?lang=zh-Hant").text
    assert f"已被第 {new.id} 輪取代" in zh

    round_page = client.get(f"/staff/rounds/{old.id}?lang=en").text
    assert 'id="superseded"' in round_page and f"superseded by round {new.id}" in round_page
    assert f"/staff/rounds/{old.id}/approval" not in round_page
    newest_page = client.get(f"/staff/rounds/{new.id}").text
    assert 'id="superseded"' not in newest_page and f"/staff/rounds/{new.id}/approval" in newest_page

    old_api = client.get(f"/api/v1/rounds/{old.id}").json()
    assert (old_api["superseded_by_run_id"], old_api["awaiting_approval"], old_api["proposals_to_decide"]) == \
        (new.id, False, 2)
    new_api = client.get(f"/api/v1/rounds/{new.id}").json()
    assert (new_api["superseded_by_run_id"], new_api["awaiting_approval"]) == (None, True)
    listed = client.get("/api/v1/rounds?awaiting_approval=true").json()
    assert [r["id"] for r in listed] == [new.id]
    everything = {r["id"]: r for r in client.get(f"/api/v1/rounds?scheme_id={old.scheme_id}").json()}
    assert set(everything) == {old.id, new.id} and everything[old.id]["superseded_by_run_id"] == new.id
    not_awaiting = client.get(f"/api/v1/rounds?scheme_id={old.scheme_id}&awaiting_approval=false").json()
    assert [r["id"] for r in not_awaiting] == [old.id]


def test_approving_or_refusing_a_superseded_round_is_refused_with_a_clear_message(client, session):
    officer, approver = make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)
    _scheme, _project, old, _people, _org = finished_round(session, started_by=officer)
    new = newer_round(session, old, officer)
    proposal = session.exec(select(MatchProposal).where(MatchProposal.run_id == old.id)).first()
    csrf = sign_in_as(client, session, approver)
    message = f"Round {old.id} has been superseded by round {new.id}"

    page = client.get(f"/staff/rounds/{old.id}/approval").text
    assert message in page and f'action="/staff/rounds/{old.id}/approve"' not in page
    assert f'href="/staff/rounds/{new.id}/approval"' in page
    approve = client.post(f"/staff/rounds/{old.id}/approve", data={"csrf_token": csrf, "scope": "all"})
    assert approve.status_code == 409 and message in approve.text and 'href="#blocked"' in approve.text
    refuse = client.post(f"/staff/rounds/{old.id}/refuse",
                         data={"csrf_token": csrf, "proposal_ids": [proposal.id], "reason": "Out of date"})
    assert refuse.status_code == 409 and message in refuse.text
    zh = client.get(f"/staff/rounds/{old.id}/approval?lang=zh-Hant").text  # remembered in a cookie from now on
    assert f"第 {old.id} 輪已被第 {new.id} 輪取代" in zh

    api = client.post(f"/api/v1/rounds/{old.id}/approve?lang=en", json={}, headers={"X-CSRF-Token": csrf})
    assert api.status_code == 409
    assert api.json()["error"] == "round_superseded" and api.json()["details"] == {"superseded_by": new.id}
    assert message in api.json()["message"]
    api_refuse = client.post(f"/api/v1/rounds/{old.id}/refuse", json={"proposal_ids": [proposal.id],
                                                                       "reason": "Out of date"},
                             headers={"X-CSRF-Token": csrf})
    assert api_refuse.status_code == 409 and api_refuse.json()["error"] == "round_superseded"
    assert session.exec(select(Placement)).first() is None
    # The newest round is approved as before.
    done = client.post(f"/api/v1/rounds/{new.id}/approve", json={}, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 202 and done.json()["status"] == "queued"
    approve_queued(session, new.id)
    finished = client.get(done.json()["status_url"]).json()
    assert finished["status"] == "succeeded" and len(finished["placement_ids"]) == 2


# --- removing a pin or exclusion through the API -------------------------------------------------------------


def test_an_officer_removes_an_exclusion_through_the_api_with_a_reason_and_it_is_audited(client, session):
    officer = make_user(session, Role.OFFICER)
    scheme, project, run, people, _org = finished_round(session, started_by=officer)
    csrf = sign_in_as(client, session, officer)
    headers = {"X-CSRF-Token": csrf}
    added = client.post(f"/api/v1/rounds/{run.id}/exclusions", headers=headers,
                        json={"applicant_id": people[0][1].id, "project_id": project.id, "reason": "Conflict"})
    assert added.status_code == 201
    adjustment_id = added.json()["id"]
    assert added.json()["scheme_id"] == scheme.id and added.json()["removed_at"] is None
    listed = client.get(f"/api/v1/schemes/{scheme.id}/adjustments").json()
    assert [(a["id"], a["kind"], a["reason"]) for a in listed] == [(adjustment_id, "exclude", "Conflict")]

    url = f"/api/v1/schemes/{scheme.id}/adjustments/{adjustment_id}"
    assert client.request("DELETE", url, headers=headers, json={}).status_code == 422
    blank = client.request("DELETE", url, headers=headers, json={"reason": "  "})
    assert blank.status_code == 409 and blank.json()["details"] == {"field": "reason"}
    other_scheme = finished_round(session)[0]
    elsewhere = client.request("DELETE", f"/api/v1/schemes/{other_scheme.id}/adjustments/{adjustment_id}",
                               headers=headers, json={"reason": "Cleared"})
    assert elsewhere.status_code == 404
    assert client.request("DELETE", f"/api/v1/schemes/{scheme.id}/adjustments/999999", headers=headers,
                          json={"reason": "Cleared"}).status_code == 404

    removed = client.request("DELETE", url, headers=headers, json={"reason": "Cleared by the NGO"})
    assert removed.status_code == 200 and removed.json()["id"] == adjustment_id
    assert removed.json()["removed_at"] is not None
    assert client.get(f"/api/v1/schemes/{scheme.id}/adjustments").json() == []
    adjustment = session.get(MatchAdjustment, adjustment_id)
    session.refresh(adjustment)
    assert adjustment.removed_at is not None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "match.exclude_removed",
                                                  AuditEvent.object_id == str(adjustment_id))).one()
    assert event.actor_id == officer.id and event.after == {"removal_reason": "Cleared by the NGO"}
    assert event.before["reason"] == "Conflict"
    again = client.request("DELETE", url, headers=headers, json={"reason": "Twice"})
    assert again.status_code == 409 and again.json()["error"] == "invalid_transition"


def test_only_officers_remove_pins_and_the_route_is_documented(client, session):
    officer, approver = make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)
    scheme, project, _run, people, _org = finished_round(session, started_by=officer)
    adjustment = MatchAdjustment(scheme_id=scheme.id, applicant_id=people[0][1].id, project_id=project.id,
                                 kind="pin", reason="Family reasons", created_by_id=officer.id)
    session.add(adjustment)
    session.flush()
    csrf = sign_in_as(client, session, approver)
    url = f"/api/v1/schemes/{scheme.id}/adjustments/{adjustment.id}"
    assert client.request("DELETE", url, headers={"X-CSRF-Token": csrf}, json={"reason": "x"}).status_code == 403
    session.refresh(adjustment)
    assert adjustment.removed_at is None

    operation = client.get("/api/v1/openapi.json").json()["paths"][
        "/api/v1/schemes/{scheme_id}/adjustments/{adjustment_id}"]["delete"]
    assert operation["requestBody"]["required"] is True
    assert {"200", "404", "409", "422"} <= set(operation["responses"])
    assert "audit log" in operation["description"]
