"""The scramble: after match day, applicants the round left without a place apply for the places still unfilled
within the published window, organisations rank them, and a refill round fills the places."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlmodel import Session, select

from backend.applicants import choices, ngo_view, scramble
from backend.applicants.models import Choice, ChoiceStatus
from backend.core import clock
from backend.core.errors import Conflict, NotFound
from backend.identity.models import Role, User
from backend.organisations.models import Organisation
from backend.placements.approvals import approve_proposals
from backend.placements.models import MatchProposal, MatchRun, Placement, PlacementStatus
from backend.placements.offers import decline_offer
from backend.schemes import timetable
from tests.accounts.helpers import make_user, sign_in_as
from tests.applicants.helpers import make_applicant, make_ngo
from tests.conftest import migrated_database
from tests.factories import make_organisation, make_project, make_scheme
from tests.placements.test_rounds import finish_round, start
from tests.schemes.test_timetable import TIMETABLE

DURING = date(2027, 4, 10)  # the scramble runs 6 to 20 April 2027


def chose(session: Session, profile, project, rank: int = 1, status=ChoiceStatus.SUBMITTED) -> Choice:
    choice = Choice(applicant_id=profile.id, project_id=project.id, scheme_id=project.scheme_id, rank=rank,
                    status=status)
    session.add(choice)
    session.flush()
    return choice


def placed(session: Session, profile, project, status=PlacementStatus.ACCEPTED) -> Placement:
    placement = Placement(applicant_id=profile.id, project_id=project.id, scheme_id=project.scheme_id,
                          subsidy_hkd=project.subsidy_granted_per_place or 0, status=status,
                          offer_deadline=clock.end_of_day(date(2027, 3, 31)))
    session.add(placement)
    session.flush()
    return placement


@pytest.fixture
def market(session):
    """A full project and one with two places left; one applicant placed, one left out."""
    scheme = make_scheme(session, **TIMETABLE, max_choices=2)
    organisation = make_organisation(session)
    full = make_project(session, scheme, organisation, places=1, title_en="Palace Museum conservation")
    open_ = make_project(session, scheme, organisation, places=2, title_en="Wolong panda keeping")
    spare = make_project(session, scheme, organisation, places=1, title_en="Archive digitisation")
    holder_user, holder = make_applicant(session)
    chose(session, holder, full, status=ChoiceStatus.ACCEPTED)
    placed(session, holder, full)
    left_user, left_out = make_applicant(session)
    chose(session, left_out, full)
    return scheme, full, open_, spare, (holder_user, holder), (left_user, left_out)


def test_an_unplaced_applicant_sees_the_places_left_that_she_can_take_and_applies_for_one(session, market):
    scheme, full, open_, spare, _holder, (user, profile) = market
    clock.set_today(DURING)

    [found] = scramble.where_she_may_apply(session, user)
    assert found.closes == date(2027, 4, 20)
    assert {o.project_id: o.places_left for o in found.openings} == {open_.id: 2, spare.id: 1}

    choice = scramble.apply(session, user, open_.id)

    assert (choice.in_scramble, choice.rank, choice.status) == (True, 2, ChoiceStatus.SUBMITTED)
    [after] = scramble.where_she_may_apply(session, user)
    assert [a.project_id for a in after.applications] == [open_.id]
    assert open_.id not in {o.project_id for o in after.openings}
    assert after.applications_left == 1


def test_the_scramble_keeps_to_its_window(session, market):
    _scheme, _full, open_, _spare, _holder, (user, _profile) = market
    clock.set_today(date(2027, 4, 5))
    with pytest.raises(Conflict, match="Unfilled places open to applicants on 6 April 2027"):
        scramble.apply(session, user, open_.id)
    assert scramble.where_she_may_apply(session, user) == []
    clock.set_today(date(2027, 4, 20))
    choice = scramble.apply(session, user, open_.id)  # the last day is included
    clock.set_today(date(2027, 4, 21))
    with pytest.raises(Conflict, match="closed on 20 April 2027"):
        scramble.apply(session, user, _spare.id)
    with pytest.raises(Conflict, match="closed on"):
        scramble.withdraw(session, user, choice.id)


def test_only_those_the_round_left_without_a_place_or_offer_may_apply(session, market):
    _scheme, _full, open_, _spare, (holder_user, _holder), _left = market
    newcomer, _profile = make_applicant(session)
    clock.set_today(DURING)

    with pytest.raises(Conflict, match="hold a place or an offer"):
        scramble.apply(session, holder_user, open_.id)
    with pytest.raises(Conflict, match="only to applicants who chose projects in this scheme"):
        scramble.apply(session, newcomer, open_.id)
    assert scramble.where_she_may_apply(session, holder_user) == []
    assert scramble.where_she_may_apply(session, newcomer) == []


def test_an_offer_awaiting_her_answer_also_keeps_her_out(session, market):
    _scheme, _full, open_, spare, _holder, (user, profile) = market
    placed(session, profile, spare, status=PlacementStatus.OFFERED)
    clock.set_today(DURING)
    with pytest.raises(Conflict, match="hold a place or an offer"):
        scramble.apply(session, user, open_.id)


def test_a_full_project_a_declined_offer_and_the_limit_are_refused_with_their_reasons(session, market):
    scheme, full, open_, spare, _holder, (user, profile) = market
    declined_project = make_project(session, scheme, places=3, title_en="Declined before")
    placed(session, profile, declined_project, status=PlacementStatus.DECLINED)
    clock.set_today(DURING)

    [found] = scramble.where_she_may_apply(session, user)
    assert declined_project.id not in {o.project_id for o in found.openings}
    with pytest.raises(Conflict, match="no unfilled place left"):
        scramble.apply(session, user, full.id)
    with pytest.raises(Conflict, match="declined an offer on this project"):
        scramble.apply(session, user, declined_project.id)
    scramble.apply(session, user, open_.id)
    with pytest.raises(Conflict, match="already among your choices"):
        scramble.apply(session, user, open_.id)
    scramble.apply(session, user, spare.id)
    third = make_project(session, scheme, places=1, title_en="A third")
    with pytest.raises(Conflict, match="up to 2 unfilled places at once"):
        scramble.apply(session, user, third.id)
    with pytest.raises(NotFound):
        scramble.apply(session, user, 10**9)


def test_a_project_she_does_not_meet_is_not_offered_and_is_refused_with_why(session, market):
    scheme, _full, _open, _spare, _holder, (user, _profile) = market
    adults_only = make_project(session, scheme, places=2, min_age=30, max_age=35, title_en="Senior fellows")
    clock.set_today(DURING)
    [found] = scramble.where_she_may_apply(session, user)
    assert adults_only.id not in {o.project_id for o in found.openings}
    with pytest.raises(Exception, match="You cannot apply for this project"):
        scramble.apply(session, user, adults_only.id)


def test_withdrawing_a_scramble_application_in_the_window_leaves_her_earlier_list_alone(session, market):
    _scheme, _full, open_, _spare, _holder, (user, profile) = market
    clock.set_today(DURING)
    choice = scramble.apply(session, user, open_.id)
    scramble.withdraw(session, user, choice.id)
    assert session.get(Choice, choice.id).status == ChoiceStatus.WITHDRAWN
    [first] = choices.active_choices(session, profile)
    assert first.rank == 1 and not first.in_scramble
    with pytest.raises(Conflict, match="not an application for an unfilled place"):
        scramble.withdraw(session, user, first.id)
    with pytest.raises(Conflict, match="application window closed"):
        choices.withdraw_choice(session, user, first.id)  # her main-round choice still follows the main window
    again = scramble.apply(session, user, open_.id)  # a withdrawn application can be made again
    assert again.id == choice.id and again.in_scramble and again.status == ChoiceStatus.SUBMITTED


def test_rankings_reopen_for_the_scramble_and_say_when(session, market):
    _scheme, _full, open_, _spare, _holder, (user, _profile) = market
    ngo, _organisation = make_ngo(session, session.get(Organisation, open_.organisation_id))
    clock.set_today(DURING)
    choice = scramble.apply(session, user, open_.id)

    clock.set_today(date(2027, 3, 20))
    assert timetable.ranking_window(_scheme) == ("Rankings closed on 15 March 2027. They open again for applicants "
                                                 "for unfilled places from 6 April 2027 to 20 April 2027.")
    with pytest.raises(Conflict, match="They open again for applicants for unfilled places from 6 April 2027"):
        ngo_view.set_ranking(session, ngo, open_.id, [choice.id])
    clock.set_today(DURING)
    assert timetable.ranking_window(_scheme) == ("Rankings are open again for applicants for unfilled places until "
                                                 "20 April 2027.")
    [row] = ngo_view.set_ranking(session, ngo, open_.id, [choice.id])
    assert row.ngo_rank == 1 and row.in_scramble
    clock.set_today(date(2027, 4, 21))
    with pytest.raises(Conflict, match="Rankings closed on 15 March 2027"):
        ngo_view.set_ranking(session, ngo, open_.id, [])


def test_her_status_page_points_to_the_unfilled_places_and_the_scramble_page_works_without_script(
        client, session, market):
    _scheme, _full, open_, spare, _holder, (user, _profile) = market
    clock.set_today(DURING)
    token = sign_in_as(client, session, user)
    status = html.unescape(client.get("/status").text)
    assert "Places are still unfilled in" in status and 'href="/scramble"' in status

    page = html.unescape(client.get("/scramble").text)
    assert "Wolong panda keeping" in page and "2 places left" in page and "20 April 2027" in page
    response = client.post("/scramble", data={"project_id": str(open_.id), "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/scramble?done=applied"
    refused = client.post("/scramble", data={"project_id": str(open_.id), "csrf_token": token})
    assert refused.status_code == 409 and "already among your choices" in html.unescape(refused.text)
    assert 'href="#project_id"' in refused.text and 'id="project_id"' in refused.text

    zh = html.unescape(client.get("/scramble?lang=zh-Hant").text)
    assert "Unfilled places" not in zh and "<h1 class=\"govuk-heading-l\">餘額名額</h1>" in zh
    status = html.unescape(client.get("/status?lang=en").text)
    assert "You applied for an unfilled place." in status


def test_the_api_lists_applies_and_withdraws(session, market, client):
    _scheme, _full, open_, _spare, _holder, (user, _profile) = market
    clock.set_today(DURING)
    headers = {"X-CSRF-Token": sign_in_as(client, session, user)}
    listed = client.get("/api/v1/me/scramble", headers=headers).json()
    assert {o["project_id"] for o in listed[0]["openings"]} >= {open_.id}
    made = client.post("/api/v1/me/scramble", json={"project_id": open_.id}, headers=headers)
    assert made.status_code == 201
    [application] = made.json()[0]["applications"]
    assert application["project_id"] == open_.id
    again = client.post("/api/v1/me/scramble", json={"project_id": open_.id}, headers=headers)
    assert again.status_code == 409
    gone = client.delete(f"/api/v1/me/scramble/{application['choice_id']}", headers=headers)
    assert gone.status_code == 200 and gone.json()[0]["applications"] == []


@pytest.fixture(scope="module")
def journey_engine():
    with migrated_database("internmatch_scramble") as (_url, engine):
        yield engine


def test_match_day_then_the_scramble_then_a_refill_round_fills_the_unfilled_place(journey_engine):
    """Two want the one place on A; B has a place nobody chose. The one left out applies to B in the scramble, B's
    organisation ranks her, and the refill round offers her B; once she declines it, no refill offers it again."""
    with Session(journey_engine) as session:
        scheme = make_scheme(session, **TIMETABLE)
        organisation = make_organisation(session)
        a = make_project(session, scheme, organisation, places=1, title_en="Palace Museum conservation")
        b = make_project(session, scheme, organisation, places=1, title_en="Wolong panda keeping")
        ngo, _ = make_ngo(session, organisation)
        first_user, first = make_applicant(session)
        second_user, second = make_applicant(session)
        officer, approver = make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)
        clock.set_today(date(2027, 1, 10))
        [first_choice] = choices.add_choice(session, first_user, a.id)
        [second_choice] = choices.add_choice(session, second_user, a.id)
        clock.set_today(date(2027, 3, 10))
        ngo_view.set_ranking(session, ngo, a.id, [first_choice.id, second_choice.id])
        session.commit()
        ids = dict(scheme=scheme.id, officer=officer.id, approver=approver.id, a=a.id, b=b.id, ngo=ngo.id,
                   first=first.id, second=second.id, first_user=first_user.id, second_user=second_user.id)

    clock.set_today(date(2027, 3, 20))
    main = finish_round(journey_engine, start(journey_engine, ids["scheme"], ids["officer"]))
    with Session(journey_engine) as session:
        result = approve_proposals(session, session.get(User, ids["approver"]), session.get(MatchRun, main.id))
        [(holder, project)] = [(p.applicant_id, p.project_id) for p in result.placements]
        assert project == ids["a"] and holder in (ids["first"], ids["second"])
        session.commit()
    # The one the round left out takes part in the scramble.
    left_out = ids["second"] if holder == ids["first"] else ids["first"]
    left_out_user = {ids["first"]: ids["first_user"], ids["second"]: ids["second_user"]}[left_out]

    clock.set_today(DURING)
    with Session(journey_engine) as session:
        her = session.get(User, left_out_user)
        [found] = scramble.where_she_may_apply(session, her)
        assert [o.project_id for o in found.openings] == [ids["b"]]
        application = scramble.apply(session, her, ids["b"])
        ngo_view.set_ranking(session, session.get(User, ids["ngo"]), ids["b"], [application.id])
        session.commit()

    refill = finish_round(journey_engine, start(journey_engine, ids["scheme"], ids["officer"], refill=True))
    with Session(journey_engine) as session:
        proposals = session.exec(select(MatchProposal).where(MatchProposal.run_id == refill.id)).all()
        assert [(p.applicant_id, p.project_id) for p in proposals] == [(left_out, ids["b"])]
        result = approve_proposals(session, session.get(User, ids["approver"]), session.get(MatchRun, refill.id))
        [offer] = result.placements
        session.commit()
        offer_id = offer.id

    # She declines B: a later refill never offers B to her again, though the place is free once more.
    with Session(journey_engine) as session:
        decline_offer(session, session.get(User, left_out_user), offer_id)
        session.commit()
    again = finish_round(journey_engine, start(journey_engine, ids["scheme"], ids["officer"], refill=True))
    with Session(journey_engine) as session:
        proposals = session.exec(select(MatchProposal).where(MatchProposal.run_id == again.id)).all()
        assert (left_out, ids["b"]) not in {(p.applicant_id, p.project_id) for p in proposals}


def test_the_organisations_ranking_page_says_when_it_may_rank(client, session, market):
    _scheme, _full, open_, _spare, _holder, (user, _profile) = market
    ngo, _organisation = make_ngo(session, session.get(Organisation, open_.organisation_id))
    clock.set_today(DURING)
    choice = scramble.apply(session, user, open_.id)
    sign_in_as(client, session, ngo)
    page = html.unescape(client.get(f"/ngo/rankings/{open_.id}?lang=en").text)
    assert 'id="ranking-window"' in page and "open again for applicants for unfilled places until 20 April" in page
    assert "Applied for an unfilled place after match day." in page and f"/ngo/choices/{choice.id}/ranking" in page
