"""The round pages and API by role: start, follow, adjust with reasons, approve by another person, answer offers."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from backend.applicants.models import Choice
from backend.audit.models import AuditEvent
from backend.core.clock import HONG_KONG
from backend.core.db import utcnow
from backend.identity.models import Role
from backend.placements import approvals, rounds
from backend.placements.models import (
    MatchAdjustment,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    MatchUnplaced,
    Placement,
    PlacementStatus,
    ProposalStatus,
)
from tests.accounts.helpers import make_user, sign_in_as
from tests.applicants.helpers import make_applicant
from tests.approval_helpers import approve_queued
from tests.factories import make_organisation, make_project, make_scheme

FIGURES = {"placed": 2, "places_total": 10, "budget_committed_hkd": 50_000, "budget_left_hkd": 950_000,
           "first_choice_share": 0.5, "first_timers_placed": 1, "first_timers_total": 2, "gap": 0.0, "proposed": 2,
           "held": 0, "unplaced": 1, "unplaced_reasons": {"budget_exhausted": 1},
           "regions": {"Guangdong": {"places": 10, "placed": 2, "cap": 5}},
           "what_binds": {"budget": {"step_hkd": 1_000_000, "binding": True, "re_solved": True,
                                     "extra_placements": 28, "extra_cost_hkd": 1_001_800},
                          "caps": {"Guangdong": {"step": 100, "cap": 5, "binding": True, "re_solved": True,
                                                 "extra_placements": 30, "extra_cost_hkd": 750_000}}}}


def finished_round(session, *, started_by=None, reviewed_by=None):
    """A finished round with two proposals and one applicant not placed, made directly."""
    scheme = make_scheme(session, budget_hkd=1_000_000, caps={"Guangdong": 5})
    organisation = make_organisation(session)
    project = make_project(session, scheme, organisation, places=10)
    run = MatchRun(scheme_id=scheme.id, mode="optimal", status=MatchRunStatus.SUCCEEDED, stage="done",
                   progress_percent=100, figures=FIGURES, parameters={},
                   started_by_id=started_by.id if started_by else None,
                   reviewed_by_id=reviewed_by.id if reviewed_by else None)
    session.add(run)
    session.flush()
    people = []
    for name in ("Chan Ka Yan", "Wong Siu Ming"):
        user, profile = make_applicant(session, name_en=name)
        session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=1))
        session.add(MatchProposal(run_id=run.id, applicant_id=profile.id, project_id=project.id, score=80.0,
                                  choice_rank=1, reasons=[{"code": "first_choice", "params": {},
                                                           "text": "their first choice"}]))
        people.append((user, profile))
    _user, left_out = make_applicant(session, name_en="Lee Mei")
    session.add(MatchUnplaced(run_id=run.id, applicant_id=left_out.id, reason_code="budget_exhausted",
                              reason_params={"budget_left": 0}))
    session.flush()
    return scheme, project, run, people, organisation


def test_an_officer_starts_a_round_which_is_queued_and_shows_its_progress(client, session):
    scheme = make_scheme(session)
    officer = make_user(session, Role.OFFICER)
    csrf = sign_in_as(client, session, officer)
    form = client.get("/staff/rounds/new").text
    assert "deferred acceptance" in form.lower() and "first-timers" in form
    response = client.post("/staff/rounds", data={"csrf_token": csrf, "scheme_id": scheme.id, "mode": "stable"},
                           follow_redirects=False)
    assert response.status_code == 303
    run = session.exec(select(MatchRun).where(MatchRun.scheme_id == scheme.id)).one()
    assert run.status == MatchRunStatus.QUEUED and run.mode == "stable" and run.started_by_id == officer.id
    page = client.get(response.headers["location"]).text
    assert 'aria-live="polite"' in page and "<noscript>" in page and "round-progress.js" in page
    progress = client.get(f"/api/v1/rounds/{run.id}/progress").json()
    assert progress == {"id": run.id, "status": "queued", "stage": "queued", "stage_name": "Waiting for the worker",
                        "percent": 0, "finished": False, "worker_note": None}
    # A second round for the same scheme waits for the first.
    again = client.post("/staff/rounds", data={"csrf_token": csrf, "scheme_id": scheme.id, "mode": "optimal"})
    assert again.status_code == 409 and "already waiting or running" in again.text


def test_a_round_without_a_mode_is_refused_with_a_field_error(client, session):
    scheme = make_scheme(session)
    csrf = sign_in_as(client, session, make_user(session, Role.OFFICER))
    response = client.post("/staff/rounds", data={"csrf_token": csrf, "scheme_id": scheme.id})
    assert response.status_code == 400 and "Choose how to match" in response.text


def test_the_round_page_shows_figures_what_binds_and_pages_of_proposals(client, session):
    officer = make_user(session, Role.OFFICER)
    _scheme, _project, run, people, _org = finished_round(session, started_by=officer)
    sign_in_as(client, session, officer)
    page = client.get(f"/staff/rounds/{run.id}").text
    assert "+HK$1,000,000 budget → +28 placements (HK$1,001,800)" in page
    assert "Guangdong cap +100 → +30 placements" in page
    assert "Chan Ka Yan" in page and "Wong Siu Ming" in page
    filtered = client.get(f"/staff/rounds/{run.id}?view=applicants&q=wong").text
    assert "Wong Siu Ming" in filtered and "Chan Ka Yan" not in filtered
    unplaced = client.get(f"/staff/rounds/{run.id}?view=unplaced&reason=budget_exhausted").text
    assert "Lee Mei" in unplaced and "budget left" in unplaced
    zh = client.get(f"/staff/rounds/{run.id}?lang=zh-Hant")
    assert zh.status_code == 200 and 'lang="zh-Hant"' in zh.text


def test_pins_and_exclusions_need_a_reason_and_are_audited(client, session):
    officer = make_user(session, Role.OFFICER)
    scheme, project, run, people, _org = finished_round(session, started_by=officer)
    csrf = sign_in_as(client, session, officer)
    applicant = people[0][1]
    data = {"csrf_token": csrf, "kind": "exclude", "applicant_id": applicant.id, "project_id": project.id}
    refused = client.post(f"/staff/rounds/{run.id}/adjustments", data={**data, "reason": " "})
    assert refused.status_code == 400 and "Give a reason" in refused.text
    done = client.post(f"/staff/rounds/{run.id}/adjustments", data={**data, "reason": "Conflict of interest"},
                       follow_redirects=False)
    assert done.status_code == 303
    adjustment = session.exec(select(MatchAdjustment).where(MatchAdjustment.scheme_id == scheme.id)).one()
    assert adjustment.kind == "exclude" and adjustment.reason == "Conflict of interest"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "match.exclude")).first() is not None
    removed = client.post(f"/staff/rounds/{run.id}/adjustments/{adjustment.id}/remove",
                          data={"csrf_token": csrf, "reason": "Cleared"}, follow_redirects=False)
    assert removed.status_code == 303
    session.refresh(adjustment)
    assert adjustment.removed_at is not None


def test_whoever_started_or_reviewed_a_round_cannot_approve_it(client, session):
    approver = make_user(session, Role.APPROVER)
    _scheme, _project, run, _people, _org = finished_round(session, reviewed_by=approver)
    csrf = sign_in_as(client, session, approver)
    page = client.get(f"/staff/rounds/{run.id}/approval").text
    assert "You reviewed this round, so a different person must approve it." in page
    refused = client.post(f"/staff/rounds/{run.id}/approve", data={"csrf_token": csrf, "scope": "all"})
    assert refused.status_code == 403 and "different person" in refused.text
    api = client.post(f"/api/v1/rounds/{run.id}/approve", json={}, headers={"X-CSRF-Token": csrf})
    assert api.status_code == 403 and api.json()["error"] == "segregation_of_duties"
    assert session.exec(select(Placement)).first() is None


def test_an_approver_approves_selected_proposals_and_refuses_others_with_a_reason(client, session):
    officer, approver = make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)
    _scheme, _project, run, _people, _org = finished_round(session, started_by=officer, reviewed_by=officer)
    csrf = sign_in_as(client, session, approver)
    first, second = session.exec(select(MatchProposal).where(MatchProposal.run_id == run.id)
                                 .order_by(MatchProposal.id)).all()
    nothing = client.post(f"/staff/rounds/{run.id}/approve", data={"csrf_token": csrf})
    assert nothing.status_code == 400 and "Select the proposals" in nothing.text
    approved = client.post(f"/staff/rounds/{run.id}/approve", data={"csrf_token": csrf, "proposal_ids": [first.id]},
                           follow_redirects=False)
    assert approved.status_code == 303 and session.exec(select(Placement)).first() is None
    queued = client.get(f"/staff/rounds/{run.id}").text
    assert "Waiting for the worker" in queued and f'data-url="/api/v1/rounds/{run.id}/approvals/' in queued
    approve_queued(session, run.id)
    assert "1 offer was made." in client.get(f"/staff/rounds/{run.id}").text
    no_reason = client.post(f"/staff/rounds/{run.id}/refuse", data={"csrf_token": csrf, "proposal_ids": [second.id]})
    assert no_reason.status_code == 400 and "Give the reason" in no_reason.text
    refused = client.post(f"/staff/rounds/{run.id}/refuse",
                          data={"csrf_token": csrf, "proposal_ids": [second.id], "reason": "Duplicate application"})
    assert refused.status_code == 200 and "1 proposal has been refused." in refused.text
    session.refresh(first)
    session.refresh(second)
    assert (first.status, second.status) == (ProposalStatus.APPROVED, ProposalStatus.REFUSED)
    # Approving it again skips it with its reason, and makes no second offer.
    again = client.post(f"/staff/rounds/{run.id}/approve", data={"csrf_token": csrf, "proposal_ids": [first.id]})
    assert again.status_code == 200
    approve_queued(session, run.id)
    assert "already been approved or refused" in client.get(f"/staff/rounds/{run.id}").text
    assert len(session.exec(select(Placement)).all()) == 1


def test_an_approver_who_finds_the_round_already_approved_is_told_so_and_nothing_is_recorded(client, session):
    officer, first, second = (make_user(session, role) for role in (Role.OFFICER, Role.APPROVER, Role.APPROVER))
    _scheme, _project, run, _people, _org = finished_round(session, started_by=officer)
    assert len(approvals.approve_proposals(session, first, run).placements) == 2
    csrf = sign_in_as(client, session, second)
    told = (f"Round {run.id} has nothing left to approve: every one of its proposals has already been approved or "
            "refused, perhaps by another approver a moment ago. Nothing was changed.")

    confirming = client.post(f"/staff/rounds/{run.id}/approve", data={"csrf_token": csrf, "scope": "all"})
    approving = client.post(f"/staff/rounds/{run.id}/approve",
                            data={"csrf_token": csrf, "scope": "all", "confirmed": "yes"})
    api = client.post(f"/api/v1/rounds/{run.id}/approve", json={}, headers={"X-CSRF-Token": csrf})

    assert confirming.status_code == 409 and told in confirming.text
    assert approving.status_code == 409 and told in approving.text
    assert api.status_code == 409 and api.json()["error"] == "nothing_to_approve" and api.json()["message"] == told
    assert len(session.exec(select(Placement)).all()) == 2
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "match.proposals_approved")).all()
    assert [e.actor_id for e in events] == [first.id]


def test_an_applicant_accepts_once_even_when_pressing_twice_and_the_ngo_sees_the_intern(client, session):
    officer, approver = make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)
    _scheme, project, run, people, organisation = finished_round(session, started_by=officer)
    (user, profile), (other_user, other_profile) = people
    for who in (profile, other_profile):
        session.add(Placement(scheme_id=project.scheme_id, project_id=project.id, applicant_id=who.id,
                              subsidy_hkd=25_000, offer_deadline=utcnow() + timedelta(days=7),
                              approved_by_id=approver.id))
    session.flush()
    placement = session.exec(select(Placement).where(Placement.applicant_id == profile.id)).one()
    csrf = sign_in_as(client, session, user)
    assert "Accept this offer" in client.get("/placements").text
    for _ in range(2):
        response = client.post(f"/placements/{placement.id}/accept", data={"csrf_token": csrf},
                               follow_redirects=False)
        assert response.status_code == 303
    assert len(session.exec(select(Placement).where(Placement.applicant_id == profile.id,
                                                    Placement.status == PlacementStatus.ACCEPTED)).all()) == 1
    declined_too_late = client.post(f"/placements/{placement.id}/decline", data={"csrf_token": csrf})
    assert declined_too_late.status_code == 409 and "already accepted" in declined_too_late.text
    # Someone else's offer looks like a missing one.
    other = session.exec(select(Placement).where(Placement.applicant_id == other_profile.id)).one()
    assert client.post(f"/placements/{other.id}/accept", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/api/v1/me/offers/{placement.id}/accept", headers={"X-CSRF-Token": csrf}).json()[
        "status"] == "accepted"

    ngo = make_user(session, Role.NGO, organisation=organisation)
    sign_in_as(client, session, ngo)
    page = client.get("/organisation/interns").text
    assert profile.name_en in page and other_profile.name_en not in page
    outsider = make_user(session, Role.NGO, organisation=make_organisation(session))
    sign_in_as(client, session, outsider)
    assert profile.name_en not in client.get("/organisation/interns").text


def test_the_api_starts_a_round_and_lists_proposals_and_unplaced(client, session):
    officer = make_user(session, Role.OFFICER)
    scheme, _project, run, _people, _org = finished_round(session, started_by=officer)
    csrf = sign_in_as(client, session, officer)
    proposals = client.get(f"/api/v1/rounds/{run.id}/proposals?limit=1").json()
    assert proposals["total"] == 2 and len(proposals["proposals"]) == 1
    unplaced = client.get(f"/api/v1/rounds/{run.id}/unplaced").json()
    assert unplaced["unplaced"][0]["reason_code"] == "budget_exhausted"
    body = client.get(f"/api/v1/rounds/{run.id}").json()
    assert "+HK$1,000,000 budget → +28 placements (HK$1,001,800)" in body["what_binds"]
    started = client.post("/api/v1/rounds", json={"scheme_id": scheme.id, "mode": "optimal"},
                          headers={"X-CSRF-Token": csrf})
    assert started.status_code == 202 and started.json()["status"] == "queued"
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/rounds/{run_id}/progress" in schema["paths"] and "/api/v1/reports/xlsx" in schema["paths"]


def test_searching_a_round_finds_applicants_by_number_or_either_name_and_projects_by_number_or_title(
        client, session):
    officer = make_user(session, Role.OFFICER)
    _scheme, project, run, people, _org = finished_round(session, started_by=officer)
    (_chan_user, chan), (_wong_user, wong) = people
    wong.name_zh = "黃小明"
    session.add(wong)
    session.flush()
    sign_in_as(client, session, officer)

    def shown(view: str, q: str) -> set[str]:
        page = client.get(f"/staff/rounds/{run.id}", params={"view": view, "q": q}).text
        return {name for name in ("Chan Ka Yan", "Wong Siu Ming", "Lee Mei") if name in page}

    assert shown("applicants", "黃小明") == {"Wong Siu Ming"}
    assert shown("applicants", str(project.id)) == {"Chan Ka Yan", "Wong Siu Ming"}, "the project's number"
    left_out = session.exec(select(MatchUnplaced.applicant_id).where(MatchUnplaced.run_id == run.id)).one()
    assert shown("unplaced", f"#{left_out}") == {"Lee Mei"} and shown("unplaced", f"#{chan.id}") == set()
    assert shown("applicants", "KA YAN") == {"Chan Ka Yan"}
    assert shown("applicants", "analytics") == {"Chan Ka Yan", "Wong Siu Ming"}, "the project's title matches"
    assert shown("applicants", "%") == set(), "a % in the search is a character, not a wildcard"
    assert shown("unplaced", "lee") == {"Lee Mei"} and shown("unplaced", "chan") == set()
    assert shown("projects", "數據分析") == {"Chan Ka Yan", "Wong Siu Ming"}
    assert shown("projects", str(project.id + 1000)) == set()

    approver = make_user(session, Role.APPROVER)
    sign_in_as(client, session, approver)
    approval = client.get(f"/staff/rounds/{run.id}/approval", params={"q": "wong"}).text
    assert "Wong Siu Ming" in approval and "Chan Ka Yan" not in approval


def test_a_started_round_has_no_inputs_until_the_worker_freezes_them_and_the_page_says_so(client, session):
    scheme = make_scheme(session)
    officer = make_user(session, Role.OFFICER)
    csrf = sign_in_as(client, session, officer)
    response = client.post("/staff/rounds", data={"csrf_token": csrf, "scheme_id": scheme.id, "mode": "optimal"},
                           follow_redirects=False)
    assert response.status_code == 303
    run = session.exec(select(MatchRun).where(MatchRun.scheme_id == scheme.id)).one()
    assert run.input_snapshot is None and "inputs_read_at" not in run.parameters, "the request froze nothing"
    assert "Inputs not frozen yet" in client.get(response.headers["location"]).text
    # The worker has claimed it and is freezing: the page and the progress API say so from the first moment.
    run.status, run.stage, run.heartbeat_at = MatchRunStatus.RUNNING, "freeze", utcnow()
    session.add(run)
    session.flush()
    progress = client.get(f"/api/v1/rounds/{run.id}/progress").json()
    assert progress["stage"] == "freeze" and progress["stage_name"].startswith("Freezing the inputs")
    assert "Freezing the inputs" in client.get(f"/staff/rounds/{run.id}").text
    snapshot, parameters = rounds.freeze_inputs(session, run)
    run.input_snapshot, run.parameters = snapshot, parameters
    session.add(run)
    session.flush()
    shown = rounds.inputs_read_at(run).astimezone(HONG_KONG).strftime("%Y-%m-%d %H:%M")
    assert f"Inputs as at {shown} (Hong Kong time)" in client.get(f"/staff/rounds/{run.id}").text
