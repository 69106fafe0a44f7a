"""Demand per place on a project page: applicants so far, kept as a counter by the choice writers."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session

from backend.applicants import choices
from backend.applicants.demand import demand_of
from backend.applicants.models import ProjectDemand
from backend.identity.models import User
from tests.applicants.helpers import TODAY, make_applicant
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_project, make_scheme


def test_choosing_withdrawing_and_choosing_again_keep_the_count_of_applicants_so_far(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme, places=4)
    first, _ = make_applicant(session)
    second, _ = make_applicant(session)
    assert demand_of(session, project).applicants == 0

    [mine] = choices.add_choice(session, first, project.id, today=TODAY)
    choices.add_choice(session, second, project.id, today=TODAY)
    session.expire_all()
    assert (demand_of(session, project).applicants, demand_of(session, project).per_place) == (2, 0.5)

    choices.withdraw_choice(session, first, mine.id, today=TODAY)
    session.expire_all()
    assert demand_of(session, project).applicants == 1
    choices.add_choice(session, first, project.id, today=TODAY)  # the withdrawn choice comes back
    session.expire_all()
    assert demand_of(session, project).applicants == 2


def test_the_project_page_reads_the_counter_and_does_not_count_choices_per_view(client, session):
    scheme = make_scheme(session)
    project = make_project(session, scheme, places=10)
    session.add(ProjectDemand(project_id=project.id, applicants=25))
    session.flush()

    page = client.get(f"/projects/{project.id}").text
    assert "25 applicants have chosen this project: 2.5 per place" in page
    zh_page = client.get(f"/projects/{project.id}?lang=zh-Hant").text
    assert "25" in zh_page and "2.5" in zh_page


@pytest.mark.skipif(not IS_POSTGRES, reason="a real race needs parallel connections writing at once: PostgreSQL "
                                            "only (set DATABASE_URL); SQLite serialises writers, so nothing can race")
def test_eight_applicants_choosing_one_project_at_once_are_all_counted():
    with migrated_database("internmatch_demand_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            project = make_project(setup, make_scheme(setup))
            users = [make_applicant(setup)[0] for _ in range(8)]
            setup.commit()
        barrier, errors = threading.Barrier(len(users)), []

        def choose(user_id: int) -> None:
            with Session(engine) as db:
                actor = db.get(User, user_id)
                barrier.wait()
                try:
                    choices.add_choice(db, actor, project.id, today=TODAY)
                    db.commit()
                except Exception as error:  # noqa: BLE001 - reported below
                    errors.append(error)

        threads = [threading.Thread(target=choose, args=(u.id,)) for u in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        with Session(engine) as db:
            assert db.get(ProjectDemand, project.id).applicants == 8
