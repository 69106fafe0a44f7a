"""A round follows the scheme's match policy as it was when the round started, and shows what its
first-timer priority cost: the same round solved with a lighter priority and with none."""

from __future__ import annotations

import html

import pytest
from sqlmodel import Session

from backend.placements import worker
from backend.placements.models import MatchRun, MatchRunStatus
from backend.schemes.models import Scheme
from tests.accounts.helpers import make_user, sign_in_as
from tests.conftest import migrated_database
from tests.factories import make_project, make_scheme
from tests.placements.test_rounds import finish_round, make_applicant, make_staff, start, stored_proposals


@pytest.fixture(scope="module")
def policy_engine():
    with migrated_database("internmatch_round_policy") as (_url, engine):
        yield engine


def one_place(session: Session, **policy):
    """One place at a data-analytics project; a first-timer who studies accounting and fits it a little, and
    someone who took part before, studies data science and fits it well."""
    scheme = make_scheme(session, **policy)
    project = make_project(session, scheme, places=1, subsidy=20_000)
    newcomer = make_applicant(session, scheme, [project], field_of_study="Accounting", skills="Excel")
    returning = make_applicant(session, scheme, [project], joined_before=True, field_of_study="Data Science",
                               skills="data analytics, logistics data, Shenzhen start-up")
    officer = make_staff(session)
    session.commit()
    return scheme.id, officer.id, newcomer.id, returning.id


def test_a_round_keeps_the_policy_it_started_with_and_places_by_it(policy_engine):
    with Session(policy_engine) as session:
        scheme_id, officer_id, newcomer, returning = one_place(session, first_timer_priority=0)
    run_id = start(policy_engine, scheme_id, officer_id)
    with Session(policy_engine) as session:  # changed after the round started: this round is not affected
        session.get(Scheme, scheme_id).first_timer_priority = 300
        session.commit()

    run = finish_round(policy_engine, run_id)

    assert run.status == MatchRunStatus.SUCCEEDED, run.error
    assert run.parameters["policy"] == {"first_timer_priority": 0, "choice_weight": 100, "fit_weight": 40}
    assert set(stored_proposals(policy_engine, run.id)) == {returning}, "without priority the better fit wins"
    assert run.figures["policy"]["first_timer_priority"] == 0

    again = finish_round(policy_engine, start(policy_engine, scheme_id, officer_id))
    assert again.parameters["policy"]["first_timer_priority"] == 300
    assert set(stored_proposals(policy_engine, again.id)) == {newcomer}, "with the priority the first-timer wins"


def test_the_worker_stores_what_the_priority_costs_against_a_lighter_one_and_none(policy_engine):
    with Session(policy_engine) as session:
        scheme_id, officer_id, _newcomer, _returning = one_place(session)

    run = finish_round(policy_engine, start(policy_engine, scheme_id, officer_id))

    rows = {row["label"]: row for row in run.figures["tradeoff"]}
    assert list(rows) == ["scheme", "lighter", "off"]
    assert [rows[k]["policy"]["first_timer_priority"] for k in rows] == [300, 75, 0]
    scheme_row, off = rows["scheme"], rows["off"]
    assert (scheme_row["placed"], scheme_row["first_timers_placed"], scheme_row["own_field"]) == (1, 1, 0)
    assert (off["placed"], off["first_timers_placed"], off["own_field"]) == (1, 0, 1)
    assert off["first_timer_share"] == 0.0 and off["own_field_share"] == 1.0
    assert off["mean_fit"] > scheme_row["mean_fit"]
    assert "tradeoff" in run.timings


def test_a_round_too_large_for_the_trade_off_says_so_instead_of_adding_a_minute(policy_engine, monkeypatch):
    monkeypatch.setattr(worker, "TRADEOFF_MAX_APPLICANTS", 1)
    with Session(policy_engine) as session:
        scheme_id, officer_id, _newcomer, _returning = one_place(session)

    run = finish_round(policy_engine, start(policy_engine, scheme_id, officer_id))

    assert run.status == MatchRunStatus.SUCCEEDED and run.figures["tradeoff"] == []
    assert run.figures["tradeoff_skipped"] == {"applicants": 2, "limit": 1}


def test_the_round_page_shows_the_policy_and_one_sentence_per_priority(client, session):
    officer = make_user(session, role="officer")
    scheme = make_scheme(session)
    figures = {"placed": 1, "places_total": 1, "tradeoff": [
        {"label": "scheme", "policy": {"first_timer_priority": 300, "choice_weight": 100, "fit_weight": 40},
         "placed": 3500, "first_timers_placed": 3500, "first_timer_share": 1.0, "own_field": 3226,
         "own_field_share": 0.9217, "mean_fit": 0.282, "applicants": 8000, "first_timers": 5598},
        {"label": "off", "policy": {"first_timer_priority": 0, "choice_weight": 100, "fit_weight": 40},
         "placed": 3500, "first_timers_placed": 2474, "first_timer_share": 0.7069, "own_field": 3401,
         "own_field_share": 0.9717, "mean_fit": 0.319, "applicants": 8000, "first_timers": 5598}]}
    run = MatchRun(scheme_id=scheme.id, mode="optimal", status=MatchRunStatus.SUCCEEDED, stage="done",
                   progress_percent=100, figures=figures, parameters={"policy": figures["tradeoff"][0]["policy"]})
    session.add(run)
    session.flush()
    sign_in_as(client, session, officer)

    page = html.unescape(client.get(f"/staff/rounds/{run.id}").text)

    assert "First-time participants' priority 300, choice rank weighed at 100%, text fit at 40 points" in page
    assert "This round's priority (300)" in page and "No priority (0)" in page
    assert ("3,500 places filled; 100.0% of them go to first-time participants and 92.2% are in the "
            "applicant's own field, with a mean fit of 0.28.") in page
    assert "70.7% of them go to first-time participants and 97.2% are in the applicant's own field" in page
    zh = client.get(f"/staff/rounds/{run.id}?lang=zh-Hant").text
    assert "首次參加者優先的代價" in zh and "不設優先（0）" in zh


def test_a_round_run_before_policies_shows_the_weights_it_used_and_says_the_cost_was_not_worked_out(client, session):
    officer = make_user(session, role="officer")
    scheme = make_scheme(session)
    run = MatchRun(scheme_id=scheme.id, mode="optimal", status=MatchRunStatus.SUCCEEDED, stage="done",
                   progress_percent=100, figures={"placed": 0}, parameters={})
    session.add(run)
    session.flush()
    sign_in_as(client, session, officer)

    page = html.unescape(client.get(f"/staff/rounds/{run.id}").text)

    assert "priority 300, choice rank weighed at 100%, text fit at 40 points" in page
    assert "This round was run before the cost of the first-timer priority was worked out." in page
