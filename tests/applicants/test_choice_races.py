"""The choice limit and the ranks hold whatever arrives at once: a lock per applicant and a unique index."""

import threading

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from backend.applicants import choices, csv_import
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.core.errors import Conflict
from backend.identity.models import User
from tests.applicants.helpers import TODAY, make_applicant, make_ngo
from tests.applicants.test_csv_import import _file
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_project, make_scheme


def test_two_active_choices_cannot_share_a_rank_in_one_scheme_but_withdrawn_ones_may(session, scheme):
    first, second, third, fourth = (make_project(session, scheme) for _ in range(4))
    _user, profile = make_applicant(session)
    session.add(Choice(applicant_id=profile.id, project_id=first.id, scheme_id=scheme.id, rank=1))
    session.add(Choice(applicant_id=profile.id, project_id=second.id, scheme_id=scheme.id, rank=0,
                       status=ChoiceStatus.WITHDRAWN))
    session.add(Choice(applicant_id=profile.id, project_id=third.id, scheme_id=scheme.id, rank=0,
                       status=ChoiceStatus.WITHDRAWN))
    session.flush()

    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Choice(applicant_id=profile.id, project_id=fourth.id, scheme_id=scheme.id, rank=1))
        session.flush()


def test_swapping_and_withdrawing_keep_the_ranks_unique_at_every_step(session, scheme):
    projects = [make_project(session, scheme) for _ in range(4)]
    user, _profile = make_applicant(session)
    for project in projects:
        items = choices.add_choice(session, user, project.id, today=TODAY)
    ids = [i.id for i in items]

    choices.move_choice(session, user, ids[3], "up", today=TODAY)
    choices.move_choice(session, user, ids[0], "down", today=TODAY)
    items = choices.withdraw_choice(session, user, ids[1], today=TODAY)

    assert [(i.id, i.rank) for i in items] == [(ids[0], 1), (ids[3], 2), (ids[2], 3)]


@pytest.mark.skipif(not IS_POSTGRES, reason="a real race needs parallel connections writing at once: PostgreSQL "
                                            "only (set DATABASE_URL); SQLite serialises writers, so nothing can race")
def test_twelve_parallel_additions_leave_at_most_the_limit_with_contiguous_ranks_and_tell_the_rest():
    with migrated_database("internmatch_choice_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = make_scheme(setup, max_choices=5)
            projects = [make_project(setup, scheme) for _ in range(12)]
            user, profile = make_applicant(setup)
            setup.commit()

        barrier, outcomes = threading.Barrier(len(projects)), {}

        def add(project_id: int) -> None:
            with Session(engine, expire_on_commit=False) as db:
                actor = db.get(User, user.id)
                barrier.wait()
                try:
                    choices.add_choice(db, actor, project_id, today=TODAY)
                    db.commit()
                    outcomes[project_id] = "added"
                except Conflict as refusal:
                    db.rollback()
                    outcomes[project_id] = refusal

        threads = [threading.Thread(target=add, args=(p.id,)) for p in projects]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert len(outcomes) == 12, outcomes
        assert sum(1 for o in outcomes.values() if o == "added") == 5, outcomes
        refusals = [o for o in outcomes.values() if o != "added"]
        assert all(r.status_code == 409 and "up to 5 projects" in r.message for r in refusals), refusals
        with Session(engine) as check:
            active = check.exec(select(Choice).where(Choice.applicant_id == profile.id,
                                                     Choice.status != ChoiceStatus.WITHDRAWN)).all()
            assert sorted(c.rank for c in active) == [1, 2, 3, 4, 5]


def test_an_import_that_reorders_the_choices_swaps_their_ranks(session, scheme):
    ngo, organisation = make_ngo(session)
    ids = [make_project(session, scheme, organisation).id for _ in range(2)]
    csv_import.import_applicants(session, ngo, _file(ids), today=TODAY)

    result = csv_import.import_applicants(session, ngo, _file(list(reversed(ids))), today=TODAY)

    assert (result.created, result.updated, result.unchanged) == (0, 2, 0)
    [profile] = [p for p in session.exec(select(ApplicantProfile)) if p.name_en == "Chan Tai Man"]
    ranked = session.exec(select(Choice).where(Choice.applicant_id == profile.id).order_by(Choice.rank)).all()
    assert [(c.project_id, c.rank) for c in ranked] == [(ids[1], 1), (ids[0], 2)]
    again = csv_import.import_applicants(session, ngo, _file(list(reversed(ids))), today=TODAY)
    assert (again.updated, again.unchanged) == (0, 2), "the same order again changes nothing"
