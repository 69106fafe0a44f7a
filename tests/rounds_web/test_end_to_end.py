"""A whole matching season over HTTP on demo data: propose, approve, accept and decline, refill, and check rules."""

from __future__ import annotations

import re
from collections import Counter

from sqlmodel import Session, col, select

import matching
from backend.applicants.models import ApplicantProfile
from backend.identity.models import User
from backend.market import inputs as round_inputs
from backend.placements.models import MatchProposal, MatchRun, Placement, PlacementStatus
from backend.projects.models import Project
from backend.schemes.facts import HOLDING_STATUSES
from backend.schemes.models import Scheme, SchemeRegionCap
from tests.rounds_web.conftest import approve_through_worker, run_queued_round, signed_in


def _offers_of(engine, scheme_id: int) -> list[tuple[Placement, str]]:
    with Session(engine, expire_on_commit=False) as session:
        rows = session.exec(select(Placement, User.email)
                            .join(ApplicantProfile, col(ApplicantProfile.id) == Placement.applicant_id)
                            .join(User, col(User.id) == ApplicantProfile.user_id)
                            .where(Placement.scheme_id == scheme_id, Placement.status == PlacementStatus.OFFERED)
                            .order_by(Placement.id)).all()
        return [(placement, email) for placement, email in rows]


def _start(officer, csrf: str, scheme_id: int, *, refill: bool) -> int:
    data = {"csrf_token": csrf, "scheme_id": str(scheme_id), "mode": "optimal"}
    if refill:
        data["refill"] = "yes"
    response = officer.post("/staff/rounds", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[:800]
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_a_season_from_round_to_refill_keeps_every_rule_and_limit(demo_app, demo_engine):
    with Session(demo_engine, expire_on_commit=False) as session:
        scheme = session.exec(select(Scheme).where(Scheme.kind == "funding_scheme")).one()
    officer, officer_csrf = signed_in(demo_app, "officer@demo.internmatch.hk")
    approver, approver_csrf = signed_in(demo_app, "approver@demo.internmatch.hk")

    # The officer starts a round: it is queued, the page shows its progress and a Refresh link.
    assert "Optimal" in officer.get("/staff/rounds/new").text
    first_id = _start(officer, officer_csrf, scheme.id, refill=False)
    page = officer.get(f"/staff/rounds/{first_id}")
    assert "data-round-progress" in page.text and "Refresh" in page.text
    progress = officer.get(f"/api/v1/rounds/{first_id}/progress").json()
    assert progress["status"] == "queued" and progress["finished"] is False

    # The worker runs it; the page then shows the outcome and what binds.
    first = run_queued_round(demo_engine, first_id)
    assert first.figures["proposed"] > 0 and first.figures["unplaced"] > 0
    assert officer.get(f"/api/v1/rounds/{first_id}/progress").json()["finished"] is True
    page = officer.get(f"/staff/rounds/{first_id}")
    assert "What binds" in page.text and "budget" in page.text
    assert officer.get(f"/staff/rounds/{first_id}?view=unplaced").status_code == 200
    assert officer.post(f"/staff/rounds/{first_id}/reviewed", data={"csrf_token": officer_csrf},
                        follow_redirects=False).status_code == 303
    # An officer may not approve.
    assert officer.post(f"/staff/rounds/{first_id}/approve", data={"csrf_token": officer_csrf, "scope": "all"},
                        follow_redirects=False).status_code == 403

    # A second member of staff, the approver, approves the whole round: offers are made.
    page = approver.get(f"/staff/rounds/{first_id}/approval")
    assert "Approve the whole round" in page.text
    page = approve_through_worker(approver, approver_csrf, demo_engine, first_id)
    assert "offers were made" in page
    offers = _offers_of(demo_engine, scheme.id)
    assert len(offers) == first.figures["proposed"]

    # Applicants answer through the web: some accept (one of them twice, a double submit), some decline.
    accepted, declined = [], []
    for index, (placement, email) in enumerate(offers[:12]):
        client, csrf = signed_in(demo_app, email)
        assert f"/placements/{placement.id}/accept" in client.get("/placements").text
        if index % 3 == 0:
            response = client.post(f"/placements/{placement.id}/decline", data={"csrf_token": csrf, "confirmed": "yes"},
                                   follow_redirects=False)
            declined.append(placement.id)
        else:
            response = client.post(f"/placements/{placement.id}/accept", data={"csrf_token": csrf},
                                   follow_redirects=False)
            if index == 1:  # the same button pressed again
                again = client.post(f"/placements/{placement.id}/accept", data={"csrf_token": csrf},
                                    follow_redirects=False)
                assert again.status_code == 303
            accepted.append(placement.id)
        assert response.status_code == 303
    with Session(demo_engine) as session:
        statuses = Counter(session.exec(select(Placement.status).where(
            col(Placement.id).in_(accepted + declined))).all())
        assert statuses == {PlacementStatus.ACCEPTED: len(accepted), PlacementStatus.DECLINED: len(declined)}
        doubled = session.exec(select(Placement).where(Placement.id == accepted[0])).one()
        assert len(session.exec(select(Placement).where(
            Placement.applicant_id == doubled.applicant_id, Placement.status == PlacementStatus.ACCEPTED)).all()) == 1

    # The NGO sees its accepted interns only.
    ngo, _ngo_csrf = signed_in(demo_app, "ngo@demo.internmatch.hk")
    assert ngo.get("/organisation/interns").status_code == 200

    # Declines freed places and money: a refill round offers them to applicants still waiting.
    refill_id = _start(officer, officer_csrf, scheme.id, refill=True)
    refill = run_queued_round(demo_engine, refill_id)
    assert refill.is_refill and refill.figures["proposed"] > 0
    with Session(demo_engine) as session:
        held = {p.applicant_id for p in session.exec(select(Placement).where(
            Placement.scheme_id == scheme.id, col(Placement.status).in_(HOLDING_STATUSES)))}
        refill_applicants = set(session.exec(select(MatchProposal.applicant_id)
                                             .where(MatchProposal.run_id == refill_id)).all())
    assert not (refill_applicants & held), "nobody holding an offer or a place is matched again"
    page = approve_through_worker(approver, approver_csrf, demo_engine, refill_id)
    made = int(re.search(r"(\d+) offers? w(?:as|ere) made", page).group(1))
    assert made > 0

    # Whatever happened, the placements holding a place keep every rule, place, budget and cap.
    with Session(demo_engine) as session:
        scheme = session.get(Scheme, scheme.id)
        holding = session.exec(select(Placement).where(Placement.scheme_id == scheme.id,
                                                       col(Placement.status).in_(HOLDING_STATUSES))).all()
        first_run = session.get(MatchRun, first_id)
        loaded = round_inputs.from_snapshot(first_run.input_snapshot)
        placed_keys = {round_inputs.applicant_key(p.applicant_id) for p in holding}
        result = matching.MatchResult(
            placements=[matching.Placement(round_inputs.applicant_key(p.applicant_id),
                                           round_inputs.project_key(p.project_id), 0.0, None) for p in holding],
            unplaced=[matching.Unplaced(a.id, "not_selected", {}, "not placed") for a in loaded.applicants
                      if a.id not in placed_keys], report={})
        assert matching.verify(result, loaded.projects, loaded.applicants, loaded.scheme) == []

        assert sum(p.subsidy_hkd for p in holding) <= scheme.budget_hkd
        per_project = Counter(p.project_id for p in holding)
        projects = {p.id: p for p in session.exec(select(Project).where(Project.scheme_id == scheme.id))}
        assert all(n <= (projects[pid].places_granted or 0) for pid, n in per_project.items())
        caps = {c.region: c.max_places for c in session.exec(
            select(SchemeRegionCap).where(SchemeRegionCap.scheme_id == scheme.id))}
        per_region = Counter(projects[p.project_id].region for p in holding)
        assert all(per_region[region] <= cap for region, cap in caps.items())
        assert max(Counter(p.applicant_id for p in holding).values()) == 1

    # The reports reflect it, as a page and as downloads.
    report = officer.get(f"/staff/reports?scheme={scheme.id}")
    assert report.status_code == 200 and "Fill rate by region" in report.text
    csv = officer.get(f"/staff/reports/download.csv?scheme={scheme.id}&table=budget")
    assert csv.content.startswith("\ufeff".encode())
