"""The round page reports, for a stable round, the blocking pairs an independent checker found (none), and for
every round each place left empty with why, in the reader's language."""

from __future__ import annotations

import html

import pytest
from sqlmodel import Session

from backend.identity.models import Role
from tests.accounts.helpers import make_user, sign_in_as
from tests.conftest import migrated_database
from tests.factories import make_project, make_scheme
from tests.placements.test_rounds import finish_round, make_applicant, make_staff, start
from tests.rounds_web.test_round_pages import FIGURES, finished_round
from tests.workflow.helpers import zh


@pytest.fixture(scope="module")
def engine():
    with migrated_database("internmatch_empty_places") as (_url, engine):
        yield engine


def test_a_stable_round_stores_its_blocking_pairs_and_why_each_empty_place_stayed_empty(engine):
    with Session(engine) as session:
        scheme = make_scheme(session, budget_hkd=10_000_000)
        wanted = make_project(session, scheme, places=1, title_en="Palace Museum conservation")
        nobody = make_project(session, scheme, places=2, title_en="Wolong night patrol")
        for _ in range(3):
            make_applicant(session, scheme, [wanted])
        officer = make_staff(session)
        session.commit()
        ids = scheme.id, officer.id, wanted.id, nobody.id
    scheme_id, officer_id, wanted_id, nobody_id = ids

    run = finish_round(engine, start(engine, scheme_id, officer_id, mode="stable"))

    assert run.figures["blocking_pairs_checked"] is True and run.figures["blocking_pairs"] == 0
    [empty] = run.figures["empty_seats"]
    assert (int(empty["project_id"]), empty["empty"], empty["reason"]) == (nobody_id, 2, "no_applicant")
    assert wanted_id not in {int(row["project_id"]) for row in run.figures["empty_seats"]}


def test_an_optimal_round_makes_no_stability_claim(engine):
    with Session(engine) as session:
        scheme = make_scheme(session, budget_hkd=10_000_000)
        project = make_project(session, scheme, places=1)
        make_applicant(session, scheme, [project])
        officer = make_staff(session)
        session.commit()
        scheme_id, officer_id = scheme.id, officer.id
    run = finish_round(engine, start(engine, scheme_id, officer_id))
    assert run.figures["blocking_pairs"] is None and run.figures["blocking_pairs_checked"] is False


BUDGET_ROW = {"reason": "budget", "empty": 3, "places": 10, "placed": 7, "budget_left_hkd": 12_000,
              "subsidy_per_place": 25_000}


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_the_page_says_blocking_pairs_none_and_lists_each_empty_place_with_why(client, session, language):
    scheme, project, run, _people, _organisation = finished_round(session)
    quiet = make_project(session, scheme, places=4, title_en="Wolong night patrol", title_zh="臥龍夜間巡邏")
    run.figures = {**FIGURES, "blocking_pairs": 0, "blocking_pairs_checked": True, "places_total": 14, "placed": 7,
                   "empty_seats": [{**BUDGET_ROW, "project_id": str(project.id)},
                                   {"project_id": str(quiet.id), "empty": 4, "places": 4, "placed": 0,
                                    "reason": "no_applicant"}]}
    session.add(run)
    session.flush()
    sign_in_as(client, session, make_user(session, Role.OFFICER))

    page = html.unescape(client.get(f"/staff/rounds/{run.id}?lang={language}").text)
    empty = html.unescape(client.get(f"/staff/rounds/{run.id}?view=empty&lang={language}").text)
    only_budget = html.unescape(client.get(f"/staff/rounds/{run.id}?view=empty&reason=budget&lang={language}").text)

    words = (lambda text: text) if language == "en" else zh
    assert 'id="blocking-pairs"' in page and words(
        "Blocking pairs: none. An independent checker found no applicant and project that would both rather be "
        "matched together than as proposed, within the places, budget and caps.") in page
    assert f'id="empty-{project.id}"' in empty and f'id="empty-{quiet.id}"' in empty
    assert f'id="empty-{quiet.id}"' not in only_budget
    if language == "en":
        assert "The budget left, HK$12,000, cannot pay for another place at HK$25,000." in empty
        assert "No applicant who meets its requirements had it among her choices or suggestions." in empty
        assert "7 places left empty" in page
    else:
        assert "臥龍夜間巡邏" in empty and "HK$12,000" in empty
        assert "The budget left" not in empty and "Blocking pairs" not in page


def test_a_round_with_a_blocking_pair_is_flagged_for_a_check(client, session):
    _scheme, _project, run, _people, _organisation = finished_round(session)
    run.figures = {**FIGURES, "blocking_pairs": 2, "blocking_pairs_checked": True}
    session.add(run)
    session.flush()
    sign_in_as(client, session, make_user(session, Role.OFFICER))
    page = html.unescape(client.get(f"/staff/rounds/{run.id}?lang=en").text)
    assert "Check needed" in page and "Blocking pairs: 2." in page
