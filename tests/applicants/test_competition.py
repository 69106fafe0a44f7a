"""How competitive a project is: a plain band from applicants per place, on project pages, choices and
suggestions; after a round, how competitive it was in that round; suggestions that keep a safe choice."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from backend.applicants import choices, suggestions
from backend.applicants.demand import Band, band_of, demand_of
from backend.applicants.models import ProjectDemand
from tests.accounts.helpers import sign_in_as
from tests.applicants.helpers import TODAY, make_applicant
from tests.factories import make_project, make_scheme
from tests.placements.test_rounds import finish_round, make_staff, round_engine, small_scheme, start  # noqa: F401

DATA_TEXT = dict(title_zh="數據科學實習生", description_en="Python and SQL for logistics data.",
                 description_zh="分析物流數據。")


@pytest.fixture(autouse=True)
def fresh_catalogue():
    suggestions.clear_cache()
    yield
    suggestions.clear_cache()


def _chosen_by(session, project, n: int) -> None:
    session.add(ProjectDemand(project_id=project.id, applicants=n))
    session.flush()


@pytest.mark.parametrize(("applicants", "band"), [
    (0, Band.OPEN), (5, Band.OPEN), (6, Band.SOME), (15, Band.SOME), (16, Band.COMPETITIVE), (30, Band.COMPETITIVE),
    (31, Band.VERY_COMPETITIVE)])
def test_a_band_reads_applicants_per_place_at_round_edges(applicants, band):
    assert band_of(applicants, 5) is band


def test_when_every_good_fit_is_very_competitive_the_last_suggestion_is_a_safe_choice(session, scheme):
    crowded = [make_project(session, scheme, places=2, title_en=f"Data science intern {n}", **DATA_TEXT)
               for n in range(6)]
    for project in crowded:
        _chosen_by(session, project, 40)
    safe = make_project(session, scheme, places=4, title_en="Logistics assistant",
                        description_en="Logistics data in a warehouse.", description_zh="物流。")
    user, _profile = make_applicant(session, field_of_study="Data Science 數據科學", skills="Python, SQL",
                                    interests="logistics 物流", statement="")

    found = suggestions.suggest(session, user, today=TODAY)

    assert len(found) == 5
    assert [s.project_id for s in found[:4]] == [p.id for p in crowded[:4]]
    assert found[-1].project_id == safe.id and found[-1].safe and found[-1].band is Band.OPEN
    assert not any(s.safe for s in found[:4]) and found[0].band is Band.VERY_COMPETITIVE


def test_an_applicant_who_already_holds_a_safe_choice_gets_the_best_fits(session, scheme):
    crowded = [make_project(session, scheme, places=2, title_en=f"Data science intern {n}", **DATA_TEXT)
               for n in range(6)]
    for project in crowded:
        _chosen_by(session, project, 40)
    already = make_project(session, scheme, places=4, title_en="Logistics clerk", description_en="Logistics.")
    make_project(session, scheme, places=4, title_en="Logistics assistant", description_en="Logistics data.")
    user, _profile = make_applicant(session, field_of_study="Data Science 數據科學", skills="Python, SQL",
                                    interests="logistics 物流", statement="")
    choices.add_choice(session, user, already.id, today=TODAY)

    found = suggestions.suggest(session, user, today=TODAY)

    assert [s.project_id for s in found] == [p.id for p in crowded[:5]]


def test_a_real_chance_outweighs_an_equal_fit(session, scheme):
    crowded = make_project(session, scheme, places=2, title_en="Data science intern", **DATA_TEXT)
    _chosen_by(session, crowded, 20)
    open_one = make_project(session, scheme, places=2, title_en="Data science intern", **DATA_TEXT)
    user, _profile = make_applicant(session, field_of_study="Data Science 數據科學", skills="Python, SQL",
                                    interests="logistics 物流", statement="")

    found = suggestions.suggest(session, user, today=TODAY)

    assert [s.project_id for s in found] == [open_one.id, crowded.id]
    assert found[0].fit == found[1].fit


def test_choices_and_project_pages_say_how_competitive_a_project_is_in_each_language(client, session, scheme):
    crowded = make_project(session, scheme, places=2, title_en="Data science intern", **DATA_TEXT)
    _chosen_by(session, crowded, 20)
    user, _profile = make_applicant(session)
    choices.add_choice(session, user, crowded.id, today=TODAY)
    sign_in_as(client, session, user)

    page = client.get(f"/projects/{crowded.id}").text
    assert "How competitive" in page and "Very competitive (more than 6 applicants per place)" in page
    assert "極具競爭" in client.get(f"/projects/{crowded.id}?lang=zh-Hant").text
    assert "极具竞争" in client.get(f"/projects/{crowded.id}?lang=zh-Hans").text
    mine = client.get("/choices?lang=en").text
    assert "10.5 applicants per place so far: Very competitive" in mine


def test_a_round_records_how_competitive_each_project_was(round_engine):  # noqa: F811
    with Session(round_engine) as session:
        scheme, projects, _applicants = small_scheme(session)  # 12 applicants choose two of three projects
        officer = make_staff(session)
        session.commit()
        scheme_id, officer_id, ids = scheme.id, officer.id, [p.id for p in projects]

    run = finish_round(round_engine, start(round_engine, scheme_id, officer_id))

    with Session(round_engine) as session:
        seen = [demand_of(session, session.get(type(projects[0]), pid)) for pid in ids]
        assert [d.round_applicants for d in seen] == [8, 8, 8]
        assert [session.get(ProjectDemand, pid).round_id for pid in ids] == [run.id] * 3
        assert [d.round_band for d in seen] == [Band.SOME] * 3


def test_choices_in_two_programmes_are_listed_under_each_programme_with_its_own_ranks(client, session, scheme):
    other = make_scheme(session, name_en="Palace Museum programme", name_zh="故宮博物院實習計劃")
    mine = make_project(session, scheme, title_en="Data science intern")
    cohort = make_project(session, other, title_en="Cohort 1")
    user, _profile = make_applicant(session)
    choices.add_choice(session, user, mine.id, today=TODAY)
    choices.add_choice(session, user, cohort.id, today=TODAY)
    sign_in_as(client, session, user)

    page = client.get("/choices?lang=en").text

    headings = re.findall(r'<h2 class="govuk-heading-m[^"]*">([^<]+)</h2>', page)
    assert headings[:2] == [scheme.name_en, "Palace Museum programme"]
    assert page.index(scheme.name_en) < page.index("Data science intern") < page.index("Palace Museum programme") \
        < page.index("Cohort 1")


def test_a_round_records_projects_that_had_no_demand_row_yet(round_engine):  # noqa: F811
    """Projects whose choices were loaded in bulk (no counter row yet) get their row with the round's figures, in
    one statement beside the ones that had a row."""
    from sqlalchemy import delete

    with Session(round_engine) as session:
        scheme, projects, _applicants = small_scheme(session)
        officer = make_staff(session)
        session.commit()
        scheme_id, officer_id, ids = scheme.id, officer.id, [p.id for p in projects]
        session.execute(delete(ProjectDemand).where(ProjectDemand.project_id.in_(ids[:2])))
        session.commit()

    run = finish_round(round_engine, start(round_engine, scheme_id, officer_id))

    with Session(round_engine) as session:
        rows = [session.get(ProjectDemand, pid) for pid in ids]
        assert [(r.round_applicants, r.round_id) for r in rows] == [(8, run.id)] * 3
