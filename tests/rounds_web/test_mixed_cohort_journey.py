"""A Guangdong student, reading Simplified Chinese, and a Hong Kong student join the same Palace Museum cohort:
the Guangdong office has confirmed her, the round fills each side's seats, both accept through the web, and
the programme's report shows the cohort mixed."""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, col, select

from backend.applicants.models import ApplicantProfile
from backend.identity.models import User
from backend.placements.models import Placement, PlacementStatus
from backend.projects.models import Project
from backend.schemes.models import Scheme
from tests.rounds_web.conftest import approve_through_worker, run_queued_round, signed_in


def _offers(engine, scheme_id: int) -> list[tuple[Placement, str, str]]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(
            select(Placement, User.email, ApplicantProfile.origin)
            .join(ApplicantProfile, col(ApplicantProfile.id) == Placement.applicant_id)
            .join(User, col(User.id) == ApplicantProfile.user_id)
            .where(Placement.scheme_id == scheme_id, Placement.status == PlacementStatus.OFFERED)
            .order_by(Placement.id)).all())


def test_a_guangdong_and_a_hong_kong_student_join_the_same_palace_museum_cohort(demo_app, demo_engine):
    with Session(demo_engine, expire_on_commit=False) as session:
        scheme = session.exec(select(Scheme).where(Scheme.host_institution_en == "the Palace Museum")).one()
        cohorts = {p.id: p for p in session.exec(select(Project).where(Project.scheme_id == scheme.id))}
    officer, officer_csrf = signed_in(demo_app, "officer@demo.internmatch.hk")
    approver, approver_csrf = signed_in(demo_app, "approver@demo.internmatch.hk")

    response = officer.post("/staff/rounds", data={"csrf_token": officer_csrf, "scheme_id": str(scheme.id),
                                                   "mode": "stable"}, follow_redirects=False)
    assert response.status_code == 303, response.text[:800]
    run = run_queued_round(demo_engine, int(response.headers["location"].rsplit("/", 1)[1]))
    assert run.figures["proposed"] > 0
    page = approve_through_worker(approver, approver_csrf, demo_engine, run.id)
    assert "offers were made" in page

    offers = _offers(demo_engine, scheme.id)
    by_side = Counter((placement.project_id, origin) for placement, _email, origin in offers)
    for (project_id, origin), n in by_side.items():
        assert n <= cohorts[project_id].origin_seats[origin][1], "never more than a side's seats"
    mixed = next(pid for pid in cohorts if by_side[(pid, "hong_kong")] and by_side[(pid, "guangdong")])
    guangdong = next((p, e) for p, e, o in offers if p.project_id == mixed and o == "guangdong")
    hong_kong = next((p, e) for p, e, o in offers if p.project_id == mixed and o == "hong_kong")

    # She reads her offer in Simplified Chinese, and accepts it; he accepts his in English.
    student, csrf = signed_in(demo_app, guangdong[1])
    offer_page = student.get("/placements?lang=zh-Hans").text
    assert '<html lang="zh-Hans"' in offer_page and "故宫博物院" in offer_page and "故宮" not in offer_page
    assert student.post(f"/placements/{guangdong[0].id}/accept", data={"csrf_token": csrf},
                        follow_redirects=False).status_code == 303
    other, other_csrf = signed_in(demo_app, hong_kong[1])
    assert other.post(f"/placements/{hong_kong[0].id}/accept", data={"csrf_token": other_csrf},
                      follow_redirects=False).status_code == 303

    with Session(demo_engine) as session:
        together = session.exec(select(ApplicantProfile.origin).join(
            Placement, col(Placement.applicant_id) == ApplicantProfile.id).where(
            Placement.project_id == mixed, Placement.status == PlacementStatus.ACCEPTED)).all()
    assert sorted(together) == ["guangdong", "hong_kong"]
    report = officer.get(f"/api/v1/reports?scheme_id={scheme.id}").json()
    cohort_rows = {row["project"]: row for t in report["tables"] if t["key"] == "cohorts" for row in t["rows"]}
    row = next(r for label, r in cohort_rows.items() if label.startswith(f"#{mixed} "))
    assert row["mixed"] == "Yes" and row["hong_kong_placed"] >= 1 and row["guangdong_placed"] >= 1
