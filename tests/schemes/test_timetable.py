"""A scheme's match timetable: set by staff with its days in order, shown to everyone, enforced by the services,
and one journey through a whole timetable on a clock the test controls."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.applicants import choices, ngo_view
from backend.applicants.models import Choice, ChoiceStatus
from backend.core import clock
from backend.core.errors import Conflict, InvalidTransition
from backend.identity.models import Role
from backend.placements.approvals import approve_proposals
from backend.placements.models import MatchRun, Placement, PlacementStatus
from backend.placements.offers import expire_offers
from backend.schemes.models import Scheme
from tests.accounts.helpers import make_user, sign_in_as
from tests.applicants.helpers import make_applicant, make_ngo
from tests.conftest import migrated_database
from tests.factories import make_organisation, make_project, make_scheme
from tests.placements.test_rounds import finish_round, start
from tests.rounds_web.test_round_pages import finished_round
from tests.schemes.test_scheme_pages import scheme_form
from tests.workflow.helpers import build_world, zh

TIMETABLE = dict(applicant_window_opens=date(2027, 1, 4), applicant_window_closes=date(2027, 2, 28),
                 ranking_deadline=date(2027, 3, 15), match_day=date(2027, 3, 20), offer_deadline=date(2027, 3, 31),
                 scramble_opens=date(2027, 4, 6), scramble_closes=date(2027, 4, 20))


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def test_the_clock_is_one_the_tests_set_and_days_are_hong_kong_days():
    clock.set_now(datetime(2027, 3, 15, 16, 30, tzinfo=UTC))  # 00:30 on 16 March in Hong Kong
    assert clock.today() == date(2027, 3, 16)
    assert clock.end_of_day(date(2027, 3, 31)) == datetime(2027, 3, 31, 15, 59, 59, tzinfo=UTC)
    clock.reset()
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_the_timetable_days_must_come_in_order_and_the_error_names_the_field(world, session, language):
    form = scheme_form(name_en="Timetabled scheme", applicant_window_closes="2028-03-31",
                       ranking_deadline="2028-03-10", match_day="2028-04-10", offer_deadline="2028-04-05")
    response = world.admin.post(f"/staff/schemes/new?lang={language}", form)

    assert response.status_code == 400
    page = html.unescape(response.text)
    english = ["This must be on or after the day applications close (31 March 2028).",
               "This must be on or after match day (10 April 2028)."]
    for message in english:
        if language == "en":
            assert message in page
    assert 'id="ranking_deadline-day-error"' in page and 'id="offer_deadline-day-error"' in page
    assert 'id="match_day-day-error"' not in page
    if language == "zh-Hant":
        assert zh("This must be on or after %(earlier)s (%(day)s).").split("%")[0] in page


def test_staff_set_the_timetable_and_everyone_sees_it_in_their_language(app, world, session):
    response = world.officer.post("/staff/schemes/new", scheme_form(
        name_en="Timetabled scheme", ranking_deadline="2028-04-15", match_day="2028-04-20",
        offer_deadline="2028-04-30", scramble_opens="2028-05-03", scramble_closes="2028-05-17"))
    assert response.status_code == 303
    scheme = session.exec(select(Scheme).where(Scheme.name_en == "Timetabled scheme")).one()
    assert (scheme.ranking_deadline, scheme.match_day, scheme.scramble_closes) == (
        date(2028, 4, 15), date(2028, 4, 20), date(2028, 5, 17))
    assert "Match day: offers are made" in world.officer.client.get(f"/staff/schemes/{scheme.id}").text

    api = world.officer.api("GET", f"/api/v1/schemes/{scheme.id}").json()
    assert api["offer_deadline"] == "2028-04-30"
    patched = world.officer.api("PATCH", f"/api/v1/schemes/{scheme.id}", {"match_day": "2028-04-10"})
    assert patched.status_code == 422
    assert "match_day" in patched.json()["details"]["fields"]

    project = make_project(session, scheme)
    session.commit()
    public = TestClient(app, base_url="http://testserver").get(f"/projects/{project.id}?lang=zh-Hant")
    assert zh("Match day: offers are made") in public.text and "2028年4月20日" in public.text


def test_rankings_change_only_until_the_ranking_deadline(session):
    scheme = make_scheme(session, **TIMETABLE)
    organisation = make_organisation(session)
    project = make_project(session, scheme, organisation)
    ngo, _ = make_ngo(session, organisation)
    _user, profile = make_applicant(session)
    choice = Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=1)
    session.add(choice)
    session.flush()

    clock.set_today(date(2027, 3, 15))
    ngo_view.set_ranking(session, ngo, project.id, [choice.id])
    assert choice.ngo_rank == 1
    clock.set_today(date(2027, 3, 16))
    with pytest.raises(Conflict, match="Rankings closed on 15 March 2027"):
        ngo_view.set_ranking(session, ngo, project.id, [])


@pytest.fixture(scope="module")
def journey_engine():
    with migrated_database("internmatch_timetable") as (_url, engine):
        yield engine


def test_a_whole_timetable_choose_rank_what_if_match_day_offers_and_their_deadline(journey_engine):
    with Session(journey_engine) as session:
        scheme = make_scheme(session, **TIMETABLE)
        organisation = make_organisation(session)
        project = make_project(session, scheme, organisation, places=2)
        ngo, _ = make_ngo(session, organisation)
        user, profile = make_applicant(session)
        officer, approver = make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)

        clock.set_today(date(2027, 1, 3))  # before applications open
        with pytest.raises(Conflict, match="Choices open on"):
            choices.add_choice(session, user, project.id)
        clock.set_today(date(2027, 1, 10))
        [item] = choices.add_choice(session, user, project.id)
        clock.set_today(date(2027, 3, 1))  # applications have closed
        with pytest.raises(Conflict, match="closed on 28 February 2027"):
            choices.withdraw_choice(session, user, item.id)
        clock.set_today(date(2027, 3, 10))
        ngo_view.set_ranking(session, ngo, project.id, [item.id])
        session.commit()
        ids = (scheme.id, officer.id, approver.id, user.id, item.id)
    scheme_id, officer_id, approver_id, _user_id, choice_id = ids

    # Before the ranking deadline a round is only a what-if: it runs, it is marked, it cannot be approved.
    what_if = finish_round(journey_engine, start(journey_engine, scheme_id, officer_id))
    with Session(journey_engine) as session:
        with pytest.raises(InvalidTransition, match="It is a what-if: it cannot be approved"):
            approve_proposals(session, session.get(type(approver), approver_id), session.get(MatchRun, what_if.id))

    # On match day the main round is approved; its offers lapse at the end of the offer deadline.
    clock.set_today(date(2027, 3, 20))
    main = finish_round(journey_engine, start(journey_engine, scheme_id, officer_id))
    with Session(journey_engine) as session:
        result = approve_proposals(session, session.get(type(approver), approver_id), session.get(MatchRun, main.id))
        [placement] = result.placements
        assert placement.offer_deadline == clock.end_of_day(date(2027, 3, 31))
        session.commit()
        placement_id = placement.id

    with Session(journey_engine) as session:
        clock.set_today(date(2027, 3, 31))
        assert expire_offers(session) == [], "still open on the deadline day itself"
        clock.set_today(date(2027, 4, 1))
        [expired] = expire_offers(session)
        assert expired.id == placement_id and expired.status == PlacementStatus.EXPIRED
        assert session.get(Choice, choice_id).status == ChoiceStatus.NOT_PLACED
        session.commit()
        assert session.get(Placement, placement_id).status == PlacementStatus.EXPIRED


def test_a_main_round_worked_out_before_the_ranking_deadline_is_marked_a_what_if_without_an_approve_button(
        client, session):
    scheme, _project, run, _people, _organisation = finished_round(session)
    scheme.ranking_deadline = date(2027, 3, 15)
    run.parameters = {"inputs_read_at": datetime(2027, 3, 10, 4, 0, tzinfo=UTC).isoformat()}
    session.add_all([scheme, run])
    session.flush()
    sign_in_as(client, session, make_user(session, Role.APPROVER))

    page = html.unescape(client.get(f"/staff/rounds/{run.id}").text)

    assert 'id="what-if"' in page and "It is a what-if: it cannot be approved." in page
    assert "Approve or refuse proposals" not in page
    approval = html.unescape(client.get(f"/staff/rounds/{run.id}/approval").text)
    assert "It is a what-if: it cannot be approved." in approval
