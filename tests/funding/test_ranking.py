"""Scores weighted by the scheme's criteria, and the ranked list of projects awaiting a funding decision."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.projects import funding
from backend.projects.models import AssessmentDecision, ProjectStatus
from backend.projects.scoring import project_scores, weighted_total
from backend.schemes.models import AssessmentCriterion
from tests.factories import make_organisation, make_project
from tests.workflow.helpers import build_world


@pytest.fixture
def world(app, session):
    world = build_world(app, session)
    # the learning plan counts twice as much as the host's quality
    for criterion in session.exec(select(AssessmentCriterion).where(AssessmentCriterion.scheme_id == world.scheme.id)):
        criterion.weight = 2 if criterion.code == "learning" else 1
    session.flush()
    return world


def score(session, world, project, learning: int, host: int):
    return funding.propose_decision(session, world.officer.user, project, decision=AssessmentDecision.APPROVE,
                                    scores={"learning": learning, "host": host}, comments="")


def test_each_criterion_counts_as_its_share_of_the_top_score_times_its_weight(session, world):
    criteria = list(session.exec(select(AssessmentCriterion).where(AssessmentCriterion.scheme_id == world.scheme.id)))
    assert weighted_total({"learning": 5, "host": 0}, criteria) == 66.7
    assert weighted_total({"learning": 0, "host": 5}, criteria) == 33.3
    assert weighted_total({"learning": 4, "host": 4}, criteria) == 80.0
    assert weighted_total({"learning": 4}, criteria) is None, "a criterion without a score gives no total"


def test_projects_awaiting_a_decision_are_ranked_best_score_first_and_unscored_last(session, world):
    other = make_organisation(session, name_en="Harbour Youth Link")
    make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED,
                 title_en="Submitted first, not scored", city="Chengdu", region="Sichuan")
    middling = make_project(session, world.scheme, other, status=ProjectStatus.SUBMITTED, title_en="Middling",
                            subsidy=30_000)
    best = make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED, title_en="Best")
    make_project(session, world.scheme, world.organisation, status=ProjectStatus.OPEN, title_en="Already funded")
    score(session, world, middling, learning=3, host=3)  # 60.0
    score(session, world, best, learning=5, host=2)  # 80.0
    assert project_scores(session, world.scheme.id) == {middling.id: 60.0, best.id: 80.0}

    ranked = world.officer.client.get(f"/api/v1/schemes/{world.scheme.id}/ranking").json()
    assert [(r["position"], r["title_en"], r["weighted_score"]) for r in ranked] == [
        (1, "Best", 80.0), (2, "Middling", 60.0), (None, "Submitted first, not scored", None)]
    assert ranked[1]["subsidy_per_place"] == middling.subsidy_requested_per_place
    assert (ranked[0]["greater_bay_area"], ranked[2]["greater_bay_area"]) == (True, False)

    page = world.officer.client.get(f"/staff/schemes/{world.scheme.id}/ranking").text
    assert page.index("Best") < page.index("Middling") < page.index("Submitted first, not scored")
    assert "80.0" in page and "Not scored yet" in page and "Already funded" not in page
    chinese = world.officer.client.get(f"/staff/schemes/{world.scheme.id}/ranking?lang=zh-Hant").text
    assert "按評分排列的項目" in chinese and "尚未評分" in chinese
    assert world.ngo.client.get(f"/staff/schemes/{world.scheme.id}/ranking").status_code == 403
    assert world.officer.client.get("/api/v1/schemes/2147483000/ranking").status_code == 404


def test_the_assessment_page_and_api_show_the_weighted_score(session, world):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED)
    answer = world.officer.api("POST", f"/api/v1/projects/{project.id}/assessments",
                               {"decision": "approve", "scores": {"learning": 5, "host": 2}, "comments": ""})
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["weighted_score"] == 80.0
    page = world.approver.client.get(f"/staff/projects/{project.id}").text
    assert "80.0 out of 100" in page
