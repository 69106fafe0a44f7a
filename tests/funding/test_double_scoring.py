"""Independent double scoring: in a scheme that asks for it, two officers score each project without seeing
each other's score; a difference above the scheme's threshold needs a moderation note with the agreed score
before the project is ranked, put in a portfolio or decided."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.identity.models import Role
from backend.projects import scoring
from backend.projects.models import ConflictDeclaration, ProjectStatus
from tests.accounts.helpers import make_user
from tests.factories import make_project
from tests.workflow.helpers import build_world, signed_in


@pytest.fixture
def world(app, session):
    world = build_world(app, session, double_scoring=True, moderation_threshold=15)
    second = make_user(session, Role.OFFICER)
    session.add(ConflictDeclaration(user_id=second.id, organisation_id=world.organisation.id, has_conflict=False))
    session.commit()
    world.second_officer = signed_in(app, session, second)
    return world


@pytest.fixture
def project(session, world):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED,
                           title_en="Palace archive interns")
    session.commit()
    return project


def give_score(actor, project, learning: int, host: int, decision: str = "approve", comments: str = ""):
    response = actor.api("POST", f"/api/v1/projects/{project.id}/assessments",
                         {"decision": decision, "scores": {"learning": learning, "host": host}, "comments": comments})
    assert response.status_code == 201, response.text
    return response.json()


def ranked(world):
    return world.officer.client.get(f"/api/v1/schemes/{world.scheme.id}/ranking").json()


def test_the_second_officer_scores_without_seeing_the_first_score_and_the_mean_ranks_the_project(world, project):
    give_score(world.officer, project, 4, 4)  # 80.0
    assert [(r["position"], r["weighted_score"], r["scoring"]) for r in ranked(world)] == [
        (None, None, "second_score_missing")]
    ranking_page = world.officer.client.get(f"/staff/schemes/{world.scheme.id}/ranking").text
    assert "Second score missing" in ranking_page and "80.0" not in ranking_page

    # the second officer sees that a score exists, not what it is: not on the page, not through the API
    page = world.second_officer.client.get(f"/staff/projects/{project.id}").text
    assert "Hidden until you give your own score" in page and "80.0 out of 100" not in page
    assert "Give your independent score" in page
    hidden = world.second_officer.client.get(f"/api/v1/projects/{project.id}/scoring").json()
    assert (hidden["status"], hidden["scores"], hidden["score"]) == ("second_score_missing", [], None)
    # the approver, who does not score, sees it
    seen = world.approver.client.get(f"/api/v1/projects/{project.id}/scoring").json()
    assert [s["weighted_score"] for s in seen["scores"]] == [80.0]

    give_score(world.second_officer, project, 4, 3)  # 70.0: 10 points apart, within the threshold of 15
    after = world.second_officer.client.get(f"/api/v1/projects/{project.id}/scoring").json()
    assert (after["status"], after["score"], after["difference"]) == ("scored", 75.0, 10.0)
    assert [s["weighted_score"] for s in after["scores"]] == [70.0, 80.0]
    assert [(r["position"], r["weighted_score"], r["scoring"]) for r in ranked(world)] == [(1, 75.0, "scored")]
    assert "75.0 out of 100" in world.second_officer.client.get(f"/staff/projects/{project.id}").text


def test_scores_far_apart_need_an_audited_moderation_note_before_the_funding_decision(session, world, project):
    give_score(world.officer, project, 5, 5)  # 100.0
    proposal = give_score(world.second_officer, project, 2, 2)  # 40.0: 60 points apart
    assert [(r["position"], r["scoring"]) for r in ranked(world)] == [(None, "needs_moderation")]
    assert scoring.project_scores(session, world.scheme.id) == {}, "an unmoderated pair puts nothing in a portfolio"

    refused = world.approver.post(f"/staff/assessments/{proposal['id']}/confirm")
    assert refused.status_code == 409
    assert "The two scores differ by 60.0 points, more than the scheme&#39;s 15" in refused.text
    in_chinese = world.approver.api("POST", f"/api/v1/assessments/{proposal['id']}/confirm?lang=zh-Hant")
    assert in_chinese.status_code == 409 and "60.0" in in_chinese.text and "The two scores differ" not in in_chinese.text

    # bad input is named field by field and nothing is saved
    bad = world.approver.post(f"/staff/projects/{project.id}/moderation?lang=en", {"agreed_score": "120", "moderation_note": ""})
    assert bad.status_code == 400
    assert "Give the agreed score as a whole number from 0 to 100." in bad.text
    assert "Say why the agreed score is what it is." in bad.text
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "project.scores_moderated")).first() is None

    done = world.approver.post(f"/staff/projects/{project.id}/moderation",
                               {"agreed_score": "65", "moderation_note": "The host letter was missed by one scorer."})
    assert done.status_code == 303
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "project.scores_moderated")).one()
    assert event.before == {"scores": [40.0, 100.0]} and event.after == {"agreed_score": 65}
    assert event.actor_id == world.approver.user.id
    assert [(r["position"], r["weighted_score"], r["scoring"]) for r in ranked(world)] == [(1, 65.0, "moderated")]
    page = world.officer.client.get(f"/staff/projects/{project.id}").text
    assert "The host letter was missed by one scorer." in page and "65 out of 100" in page

    confirmed = world.approver.api("POST", f"/api/v1/assessments/{proposal['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "approved"


def test_a_moderation_answers_only_the_two_scores_it_was_written_about(session, world, project):
    give_score(world.officer, project, 5, 5)
    give_score(world.second_officer, project, 2, 2)
    moderated = world.officer.api("POST", f"/api/v1/projects/{project.id}/moderation",
                                  {"agreed_score": 70, "moderation_note": "Agreed after discussion."})
    assert moderated.status_code == 201 and moderated.json()["status"] == "moderated"
    give_score(world.officer, project, 5, 4)  # 90.0 against 40.0: a new pair, judged afresh
    assert world.officer.client.get(f"/api/v1/projects/{project.id}/scoring").json()["status"] == "needs_moderation"


def test_the_second_score_is_needed_to_approve_or_reject_but_not_to_return_for_changes(session, world, project):
    approve = give_score(world.officer, project, 4, 4)
    refused = world.approver.api("POST", f"/api/v1/assessments/{approve['id']}/confirm")
    assert refused.status_code == 409 and "the second score is missing" in refused.text
    back = give_score(world.officer, project, 4, 4, decision="return", comments="Add the host's letter.")
    returned = world.approver.api("POST", f"/api/v1/assessments/{back['id']}/confirm")
    assert returned.status_code == 200 and returned.json()["status"] == "returned"


def test_moderation_is_refused_where_it_is_not_needed_or_the_moderator_is_conflicted(session, world, project):
    give_score(world.officer, project, 4, 4)
    give_score(world.second_officer, project, 4, 3)
    needless = world.approver.api("POST", f"/api/v1/projects/{project.id}/moderation",
                                  {"agreed_score": 70, "moderation_note": "Why not."})
    assert needless.status_code == 409 and "do not need moderation" in needless.text
    ngo = world.ngo.api("POST", f"/api/v1/projects/{project.id}/moderation",
                        {"agreed_score": 70, "moderation_note": "Ours is best."})
    assert ngo.status_code == 403

    far = make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED)
    session.commit()
    give_score(world.officer, far, 5, 5)
    give_score(world.second_officer, far, 1, 1)
    world.approver.api("PUT", f"/api/v1/projects/{far.id}/conflict-of-interest",
                       {"conflict_of_interest": "conflict", "conflict_description": "My cousin is its director."})
    conflicted = world.approver.api("POST", f"/api/v1/projects/{far.id}/moderation",
                                    {"agreed_score": 70, "moderation_note": "Fine."})
    assert conflicted.status_code == 403 and "conflict of interest" in conflicted.text


def test_a_scheme_sets_double_scoring_and_its_threshold_and_shows_it(session, world):
    scheme_id = world.scheme.id
    single = world.admin.api("PATCH", f"/api/v1/schemes/{scheme_id}", {"double_scoring": False})
    assert single.status_code == 200 and single.json()["double_scoring"] is False
    bad = world.admin.api("PATCH", f"/api/v1/schemes/{scheme_id}", {"double_scoring": True, "moderation_threshold": 0})
    assert bad.status_code == 422
    assert "a whole number of points from 1 to 100" in bad.text
    good = world.admin.api("PATCH", f"/api/v1/schemes/{scheme_id}", {"double_scoring": True, "moderation_threshold": 10})
    assert (good.json()["double_scoring"], good.json()["moderation_threshold"]) == (True, 10)
    dashboard = world.officer.client.get(f"/staff/schemes/{scheme_id}").text
    assert "a difference of more than 10 points needs a moderation note" in dashboard
    form = world.admin.client.get(f"/staff/schemes/{scheme_id}/edit").text
    assert 'name="double_scoring"' in form and 'value="10"' in form
