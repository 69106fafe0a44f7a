"""The funding portfolio: the best projects and places within what the scheme has left, proposed by an officer
and confirmed by another person, never breaking the budget, a cap, an organisation limit or the GBA share."""

import html
import threading
import uuid

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.audit.models import AuditEvent
from backend.core.errors import Conflict, InvalidTransition
from backend.identity.models import Role, User
from backend.identity.permissions import SegregationOfDutiesError
from backend.projects import portfolio
from backend.projects.funding import (
    GbaShareBroken,
    OrganisationLimitExceeded,
    confirm_decision,
    propose_decision,
)
from backend.projects.models import (
    Assessment,
    AssessmentDecision,
    PortfolioAnalysis,
    PortfolioProposal,
    Project,
    ProjectStatus,
)
from backend.schemes.facts import lock_scheme
from backend.schemes.models import AssessmentCriterion
from matching import portfolio as optimiser
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_organisation, make_project, make_scheme
from tests.funding.test_funding_races import _wait_until_someone_waits_for_a_lock
from tests.workflow.helpers import build_world, zh


def _user(session, role: Role) -> User:
    user = User(email=f"{role}-{uuid.uuid4().hex[:6]}@hab.gov.hk", role=role, display_name=str(role))
    session.add(user)
    session.flush()
    return user


def _scheme(session, **kwargs):
    scheme = make_scheme(session, **kwargs)
    session.add(AssessmentCriterion(scheme_id=scheme.id, code="learning", name_en="Learning", name_zh="學習",
                                    weight=1, max_score=5))
    session.flush()
    return scheme


def _scored(session, scheme, score: int, *, officer=None, status=ProjectStatus.UNDER_ASSESSMENT, **kwargs) -> Project:
    """A project under assessment whose learning plan scored `score` of 5 (20 points of 100 per point)."""
    project = make_project(session, scheme, status=status, **kwargs)
    session.add(Assessment(project_id=project.id, officer_id=officer.id if officer else None,
                           scores={"learning": score, "host": score}, proposed_decision=AssessmentDecision.APPROVE))
    session.flush()
    return project


def _worked_out(session, scheme, staff=None):
    """The worker's job for the scheme, done in this session."""
    job = portfolio.queue_analysis(session, staff or _user(session, Role.OFFICER), scheme)
    portfolio.run_analysis(session, job)
    return job


def test_the_adapter_offers_scored_projects_within_what_the_scheme_has_left_and_lists_the_unscored(session):
    scheme = _scheme(session, budget_hkd=1_000_000, caps={"Guangdong": 30}, max_places_per_organisation=25)
    organisation = make_organisation(session)
    make_project(session, scheme, organisation, places=10, subsidy=20_000, status=ProjectStatus.APPROVED)
    scored = _scored(session, scheme, 4, organisation=organisation, places=12, subsidy=25_000, min_places=5)
    unscored = make_project(session, scheme, status=ProjectStatus.SUBMITTED)

    inputs = portfolio.inputs_for(session, scheme)

    (candidate,) = inputs.candidates
    assert (candidate.key, candidate.score, candidate.min_places, candidate.max_places) == (str(scored.id), 80.0, 5, 12)
    assert (candidate.subsidy_per_place, candidate.region, candidate.gba) == (25_000, "Guangdong", True)
    assert inputs.limits.budget == 1_000_000 - 10 * 20_000, "what funded projects were granted is spent"
    assert inputs.limits.region_caps == {"Guangdong": 20}
    assert inputs.limits.organisation_limits == {str(organisation.id): 15}
    assert inputs.unscored == [unscored]


def test_the_best_portfolio_is_worth_at_least_the_greedy_and_never_breaks_a_limit(session):
    scheme = _scheme(session, budget_hkd=500_000, caps={"Guangdong": 15})
    for score, places, region, city in ((5, 10, "Guangdong", "Shenzhen"), (4, 12, "Guangdong", "Guangzhou"),
                                        (3, 20, "Shanghai", "Shanghai"), (2, 8, "Beijing", "Beijing")):
        _scored(session, scheme, score, places=places, subsidy=25_000, region=region, city=city, min_places=4)

    analysis = portfolio.analyse(session, scheme)

    assert analysis.feasible
    assert optimiser.violations(analysis.inputs.candidates, analysis.inputs.limits, analysis.best.places) == []
    assert analysis.best.cost <= 500_000 and analysis.best.region_places.get("Guangdong", 0) <= 15
    assert analysis.best.value >= analysis.greedy.value
    assert analysis.value_difference == pytest.approx(analysis.best.value - analysis.greedy.value)
    assert all(line.value == line.score * line.places for line in analysis.lines), "value = score × places"
    assert {b.limit for b in analysis.binds} == {"budget", "region"}
    assert next(b for b in analysis.binds if b.limit == "budget").binds, "the budget holds projects back"


def test_an_officer_proposes_and_a_different_person_confirms_funding_every_line(session):
    scheme = _scheme(session, budget_hkd=1_000_000)
    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)
    a = _scored(session, scheme, 5, places=10, subsidy=25_000, min_places=5)
    b = _scored(session, scheme, 3, places=30, subsidy=25_000, min_places=20)
    _worked_out(session, scheme, officer)
    first = portfolio.propose(session, officer, scheme)
    proposal = portfolio.propose(session, officer, scheme, comments="Best value")

    assert first.superseded and not proposal.superseded, "a new proposal replaces the open one"
    lines = {line.project_id: line.places for line in portfolio.lines_of(session, proposal)}
    assert lines == {a.id: 10, b.id: 30}
    officer.role = Role.APPROVER  # even after becoming an approver, never the one who proposed
    with pytest.raises(SegregationOfDutiesError):
        portfolio.confirm(session, officer, proposal)
    officer.role = Role.OFFICER

    portfolio.confirm(session, approver, proposal)

    for project, places in ((a, 10), (b, 30)):
        session.refresh(project)
        assert (project.status, project.places_granted, project.subsidy_granted_per_place) == (
            ProjectStatus.APPROVED, places, 25_000)
    assert proposal.confirmed_by_id == approver.id
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_type == "scheme",
                                                                         AuditEvent.object_id == str(scheme.id)))]
    assert actions.count("portfolio.proposed") == 2 and actions[-1] == "portfolio.confirmed"
    with pytest.raises(InvalidTransition):
        portfolio.confirm(session, _user(session, Role.APPROVER), proposal)


def test_a_portfolio_replaced_after_the_approver_opened_it_is_refused(session):
    scheme = _scheme(session, budget_hkd=1_000_000)
    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)
    project = _scored(session, scheme, 4, places=10, subsidy=25_000)
    _worked_out(session, scheme, officer)
    proposal = portfolio.propose(session, officer, scheme)
    session.execute(update(PortfolioProposal).where(col(PortfolioProposal.id) == proposal.id)
                    .values(superseded=True).execution_options(synchronize_session=False))
    assert proposal.superseded is False, "this session still holds the proposal as it first read it"

    with pytest.raises(InvalidTransition, match="already been confirmed or replaced"):
        portfolio.confirm(session, approver, proposal)
    session.refresh(project)
    assert (project.status, project.places_granted) == (ProjectStatus.UNDER_ASSESSMENT, None)


@pytest.mark.skipif(not IS_POSTGRES, reason="waiting on a row lock held by another connection needs PostgreSQL")
def test_a_confirmation_waiting_for_the_scheme_lock_while_the_officer_proposes_again_is_refused():
    with migrated_database("internmatch_portfolio_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = _scheme(setup, budget_hkd=1_000_000)
            project = _scored(setup, scheme, 4, places=10, subsidy=25_000)
            officer, approver = _user(setup, Role.OFFICER), _user(setup, Role.APPROVER)
            _worked_out(setup, scheme, officer)
            proposal = portfolio.propose(setup, officer, scheme)
            setup.commit()
        outcome = {}

        def confirm() -> None:
            with Session(engine, expire_on_commit=False) as db:
                try:
                    portfolio.confirm(db, db.get(User, approver.id), db.get(PortfolioProposal, proposal.id))
                    db.commit()
                    outcome["approver"] = "confirmed"
                except InvalidTransition as refusal:
                    db.rollback()
                    outcome["approver"] = refusal

        with Session(engine, expire_on_commit=False) as officer_db:
            lock_scheme(officer_db, scheme.id)
            thread = threading.Thread(target=confirm)
            thread.start()
            _wait_until_someone_waits_for_a_lock(officer_db)
            portfolio.propose(officer_db, officer_db.get(User, officer.id), officer_db.get(type(scheme), scheme.id))
            officer_db.commit()
        thread.join(timeout=30)

        assert isinstance(outcome.get("approver"), InvalidTransition), outcome
        with Session(engine) as check:
            assert (check.get(Project, project.id).status, check.get(Project, project.id).places_granted) == (
                ProjectStatus.UNDER_ASSESSMENT, None)
            assert check.get(PortfolioProposal, proposal.id).confirmed_at is None


def test_a_single_confirmation_that_would_break_the_gba_share_is_refused_in_plain_words(session):
    scheme = _scheme(session, budget_hkd=10_000_000, gba_min_share_percent=50)
    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)
    shanghai = make_project(session, scheme, status=ProjectStatus.SUBMITTED, region="Shanghai", city="Shanghai")
    shenzhen = make_project(session, scheme, status=ProjectStatus.SUBMITTED, places=10)
    decide = {p.id: propose_decision(session, officer, p, decision=AssessmentDecision.APPROVE, scores={},
                                     comments="") for p in (shanghai, shenzhen)}

    with pytest.raises(GbaShareBroken, match="below its minimum of 50%"):
        confirm_decision(session, approver, decide[shanghai.id])
    confirm_decision(session, approver, decide[shenzhen.id])
    confirm_decision(session, approver, decide[shanghai.id])  # 10 of 20 places in the GBA: the share holds

    assert shanghai.status == shenzhen.status == ProjectStatus.APPROVED


def test_an_organisation_limit_is_kept_at_a_single_confirmation(session):
    scheme = _scheme(session, max_places_per_organisation=15)
    organisation = make_organisation(session)
    make_project(session, scheme, organisation, places=10, status=ProjectStatus.APPROVED)
    project = make_project(session, scheme, organisation, places=10, status=ProjectStatus.SUBMITTED)
    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)
    proposal = propose_decision(session, officer, project, decision=AssessmentDecision.APPROVE, scores={}, comments="")

    with pytest.raises(OrganisationLimitExceeded, match="at most 15"):
        confirm_decision(session, approver, proposal)


def test_a_share_no_portfolio_can_hold_is_explained_and_nothing_is_proposed(session):
    scheme = _scheme(session, budget_hkd=1_000_000, gba_min_share_percent=40)
    _scored(session, scheme, 5, region="Shanghai", city="Shanghai")
    officer = _user(session, Role.OFFICER)

    analysis = portfolio.analyse(session, scheme)

    assert not analysis.lines and not analysis.best.places
    assert "no scored project is in the Greater Bay Area" in portfolio.reason_in_words(analysis)
    _worked_out(session, scheme, officer)
    with pytest.raises(Conflict, match="There is no portfolio to propose"):
        portfolio.propose(session, officer, scheme)


@pytest.fixture
def world(app, session):
    return build_world(app, session, budget_hkd=1_000_000)


def test_staff_see_the_portfolio_page_propose_and_confirm_it(world, session):
    scheme = world.scheme
    project = _scored(session, scheme, 4, places=10, subsidy=25_000, min_places=6)
    unscored = make_project(session, scheme, status=ProjectStatus.SUBMITTED, title_en="Harbour survey")
    session.commit()
    before = html.unescape(world.officer.client.get(f"/staff/schemes/{scheme.id}/portfolio").text)
    assert "The portfolio has not been worked out yet." in before, "the page never solves: the worker does"
    assert world.officer.post(f"/staff/schemes/{scheme.id}/portfolio/work-out").status_code == 303
    job = portfolio.latest_analysis(session, scheme.id)
    waiting = html.unescape(world.officer.client.get(f"/staff/schemes/{scheme.id}/portfolio").text)
    assert "Waiting for the worker to start." in waiting and job.finished_at is None
    portfolio.run_analysis(session, job)
    session.commit()

    page = world.officer.client.get(f"/staff/schemes/{scheme.id}/portfolio")
    text = html.unescape(page.text)
    assert page.status_code == 200
    assert "Proven gap" in text and "Greedy by score" in text and "What binds" in text
    assert "Harbour survey" in text and "Not scored, not considered" in text
    dashboard = world.officer.client.get(f"/staff/schemes/{scheme.id}")
    assert f"/staff/schemes/{scheme.id}/portfolio" in dashboard.text and 'id="portfolio-binds"' in dashboard.text

    assert world.officer.post(f"/staff/schemes/{scheme.id}/portfolio/propose").status_code == 303
    proposal = portfolio.open_proposal(session, scheme.id)
    refused = world.officer.post(f"/staff/portfolio-proposals/{proposal.id}/confirm")
    assert refused.status_code == 403, "an officer cannot confirm"
    assert world.approver.post(f"/staff/portfolio-proposals/{proposal.id}/confirm").status_code == 303
    session.refresh(project)
    assert (project.status, project.places_granted) == (ProjectStatus.APPROVED, 10)
    assert unscored.status == ProjectStatus.SUBMITTED

    chinese = world.officer.client.get(f"/staff/schemes/{scheme.id}/portfolio", headers={"Accept-Language": "zh-Hant"})
    assert zh("Funding portfolio") in html.unescape(chinese.text)


def test_the_api_reads_proposes_and_confirms_a_portfolio(world, session):
    scheme = world.scheme
    project = _scored(session, scheme, 5, places=8, subsidy=25_000)
    session.commit()
    assert world.officer.api("GET", f"/api/v1/schemes/{scheme.id}/portfolio").json()["worked_out"] is False
    queued = world.officer.api("POST", f"/api/v1/schemes/{scheme.id}/portfolio/analyses")
    assert queued.status_code == 202 and queued.json()["state"] == "queued"
    portfolio.run_analysis(session, portfolio.latest_analysis(session, scheme.id))
    session.commit()

    read = world.officer.api("GET", f"/api/v1/schemes/{scheme.id}/portfolio")
    assert read.status_code == 200
    body = read.json()
    assert body["current"] and body["job"]["state"] == "done"
    assert body["feasible"] and body["best"]["lines"][0] == {"project_id": project.id, "score": 100.0, "places": 8,
                                                              "value": 800.0, "cost_hkd": 200_000}
    proposed = world.officer.api("POST", f"/api/v1/schemes/{scheme.id}/portfolio/proposals", {"comments": ""})
    assert proposed.status_code == 201 and proposed.json()["lines"] == {str(project.id): 8}
    pid = proposed.json()["id"]
    assert world.officer.api("POST", f"/api/v1/portfolio-proposals/{pid}/confirm").status_code == 403
    confirmed = world.approver.api("POST", f"/api/v1/portfolio-proposals/{pid}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_by_id"] == world.approver.user.id
    assert world.approver.api("POST", f"/api/v1/portfolio-proposals/{pid}/confirm").status_code == 409


def test_a_portfolio_worked_out_before_the_projects_changed_cannot_be_proposed(session):
    scheme = _scheme(session, budget_hkd=1_000_000)
    officer = _user(session, Role.OFFICER)
    _scored(session, scheme, 4, places=10, subsidy=25_000)
    _worked_out(session, scheme, officer)
    _scored(session, scheme, 5, places=10, subsidy=25_000)  # scored after the working-out

    assert not portfolio.shown(session, scheme).current
    with pytest.raises(Conflict, match="work it out again"):
        portfolio.propose(session, officer, scheme)


def test_the_worker_claims_a_queued_job_and_stores_the_answer_with_its_progress():
    from backend.projects import portfolio_jobs

    with migrated_database("internmatch_portfolio_job") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = _scheme(setup, budget_hkd=1_000_000, caps={"Guangdong": 5})
            _scored(setup, scheme, 4, places=10, subsidy=25_000, min_places=2)
            job = portfolio.queue_analysis(setup, _user(setup, Role.OFFICER), scheme)
            setup.commit()

        assert portfolio_jobs.run_next(engine) is True
        assert portfolio_jobs.run_next(engine) is False, "nothing left to claim"
        with Session(engine) as check:
            stored = check.get(PortfolioAnalysis, job.id)
            assert stored.started_at and stored.finished_at and not stored.error and stored.progress_percent == 100
            seen = portfolio.shown(check, check.get(type(scheme), scheme.id))
            assert seen.current and seen.analysis.best.total_places == 5, "the Guangdong cap holds"
            cap = next(b for b in seen.analysis.binds if b.limit == "region")
            assert cap.binds and cap.places_gain == 5
