"""An applicant's answer to an offer, lapsed offers, and the places they free for refill rounds."""

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from backend.applicants.models import Choice, ChoiceStatus
from backend.audit.models import AuditEvent
from backend.core.errors import Conflict, Forbidden, InvalidTransition, NotFound
from backend.identity.models import Role, User
from backend.outbox.models import OutboxEmail
from backend.placements.approvals import approve_proposals
from backend.placements.models import Placement, PlacementStatus
from backend.placements.offers import (
    accept_offer,
    accepted_interns,
    decline_offer,
    expire_offers,
    free_places,
)
from backend.schemes.models import Scheme
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_organisation, make_project, make_scheme
from tests.placements.test_approvals import (
    NOW,
    choice_of,
    hold,
    make_applicant,
    make_run,
    make_user,
    propose,
    staff,
)

BEFORE_DEADLINE = NOW + timedelta(days=2)
# Offers run to the end of the Hong Kong day a week on: 23:59:59 HKT on 10 May is 15:59:59 UTC.
AFTER_DEADLINE = NOW + timedelta(days=7, hours=7, minutes=1)


def offer(session, project, profile) -> Placement:
    """An offer made the real way: a round's proposal approved by a second person."""
    officer, approver = staff(session)
    run = make_run(session, session.get(Scheme, project.scheme_id), officer)
    propose(session, run, profile, project)
    [placement] = approve_proposals(session, approver, run, now=NOW).placements
    return placement


def emails(session, template: str) -> list[OutboxEmail]:
    return list(session.exec(select(OutboxEmail).where(OutboxEmail.template == template).order_by(OutboxEmail.id)))


def test_accepting_an_offer_places_the_intern_and_tells_the_ngo(session):
    scheme = make_scheme(session)
    ngo = make_organisation(session, contact_email="internships@youth-bridge.example.hk")
    project = make_project(session, scheme, ngo)
    profile, applicant = make_applicant(session, name_en="Wong Siu Ming")
    placement = offer(session, project, profile)

    accepted = accept_offer(session, applicant, placement.id, now=BEFORE_DEADLINE)

    assert (accepted.id, accepted.status, accepted.responded_at) == (placement.id, PlacementStatus.ACCEPTED,
                                                                      BEFORE_DEADLINE)
    assert choice_of(session, profile, project).status == ChoiceStatus.ACCEPTED
    [told] = emails(session, "placement_accepted")
    assert told.to_address == "internships@youth-bridge.example.hk" and "Wong Siu Ming" in told.body_text
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "placement.accepted")).one().actor_id == applicant.id
    assert [i.profile.id for i in accepted_interns(session, ngo.id)] == [profile.id]
    assert accepted_interns(session, make_organisation(session).id) == [], "another NGO sees none of them"


def test_accepting_twice_returns_the_same_accepted_placement_and_tells_the_ngo_once(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    profile, applicant = make_applicant(session)
    placement = offer(session, project, profile)

    first = accept_offer(session, applicant, placement, now=BEFORE_DEADLINE)
    second = accept_offer(session, applicant, placement, now=BEFORE_DEADLINE + timedelta(seconds=1))

    assert first.id == second.id and second.responded_at == BEFORE_DEADLINE
    accepted = session.exec(select(Placement).where(Placement.applicant_id == profile.id,
                                                    Placement.status == PlacementStatus.ACCEPTED)).all()
    assert len(accepted) == 1
    assert len(emails(session, "placement_accepted")) == 1


def test_accepting_one_offer_withdraws_the_other_open_offers_in_the_scheme(session):
    scheme = make_scheme(session)
    first_project, second_project = make_project(session, scheme, places=2), make_project(session, scheme, places=2)
    profile, applicant = make_applicant(session)
    placement = offer(session, first_project, profile)
    # A second open offer can only come from outside the approval rules (e.g. an officer's correction).
    other = hold(session, second_project, profile, PlacementStatus.OFFERED)
    session.add(Choice(applicant_id=profile.id, project_id=second_project.id, scheme_id=scheme.id, rank=2,
                       status=ChoiceStatus.OFFERED))
    before = free_places(session, scheme)

    accept_offer(session, applicant, placement, now=BEFORE_DEADLINE)

    session.refresh(other)
    assert other.status == PlacementStatus.WITHDRAWN
    assert choice_of(session, profile, second_project).status == ChoiceStatus.DECLINED
    assert free_places(session, scheme)[second_project.id] == before[second_project.id] + 1
    with pytest.raises(InvalidTransition, match="withdrawn"):
        accept_offer(session, applicant, other, now=BEFORE_DEADLINE)


def test_an_applicant_who_already_accepted_a_place_in_the_scheme_cannot_accept_a_second(session):
    scheme = make_scheme(session)
    first_project, second_project = make_project(session, scheme), make_project(session, scheme)
    profile, applicant = make_applicant(session)
    hold(session, first_project, profile, PlacementStatus.ACCEPTED)
    second = hold(session, second_project, profile, PlacementStatus.OFFERED)

    with pytest.raises(Conflict, match="only one"):
        accept_offer(session, applicant, second, now=BEFORE_DEADLINE)
    session.refresh(second)
    assert second.status == PlacementStatus.OFFERED


def test_the_database_refuses_a_second_accepted_place_even_if_the_check_is_bypassed(session, monkeypatch):
    from backend.placements import offers

    scheme = make_scheme(session)
    first_project, second_project = make_project(session, scheme), make_project(session, scheme)
    profile, applicant = make_applicant(session)
    hold(session, first_project, profile, PlacementStatus.ACCEPTED)
    second = hold(session, second_project, profile, PlacementStatus.OFFERED)
    monkeypatch.setattr(offers, "_holds_another_accepted_place", lambda *_args: False)  # as in a race

    with pytest.raises(Conflict, match="only one"):
        accept_offer(session, applicant, second, now=BEFORE_DEADLINE)
    session.refresh(second)
    assert second.status == PlacementStatus.OFFERED, "the session is still usable and nothing changed"


def test_declining_frees_the_place_for_a_refill_round(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme, places=3)
    profile, applicant = make_applicant(session)
    placement = offer(session, project, profile)
    assert free_places(session, scheme)[project.id] == 2

    decline_offer(session, applicant, placement, now=BEFORE_DEADLINE)
    again = decline_offer(session, applicant, placement, now=BEFORE_DEADLINE)

    assert again.status == PlacementStatus.DECLINED
    assert free_places(session, scheme)[project.id] == 3
    assert choice_of(session, profile, project).status == ChoiceStatus.DECLINED
    with pytest.raises(InvalidTransition, match="declined"):
        accept_offer(session, applicant, placement, now=BEFORE_DEADLINE)


def test_an_offer_cannot_be_answered_after_its_deadline(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    profile, applicant = make_applicant(session)
    placement = offer(session, project, profile)

    with pytest.raises(InvalidTransition, match="deadline"):
        accept_offer(session, applicant, placement, now=AFTER_DEADLINE)
    with pytest.raises(InvalidTransition, match="deadline"):
        decline_offer(session, applicant, placement, now=AFTER_DEADLINE)
    assert placement.status == PlacementStatus.OFFERED


def test_expired_offers_free_their_places_and_the_applicant_is_told(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme, places=2)
    silent, silent_user = make_applicant(session, language="zh-Hant")
    quick, quick_user = make_applicant(session)
    lapsing, answered = offer(session, project, silent), offer(session, project, quick)
    accept_offer(session, quick_user, answered, now=BEFORE_DEADLINE)
    assert free_places(session, scheme)[project.id] == 0

    assert expire_offers(session, now=NOW + timedelta(days=6)) == [], "nothing lapses before the deadline"
    expired = expire_offers(session, now=AFTER_DEADLINE)

    assert [p.id for p in expired] == [lapsing.id] and lapsing.status == PlacementStatus.EXPIRED
    assert answered.status == PlacementStatus.ACCEPTED
    assert free_places(session, scheme)[project.id] == 1
    assert choice_of(session, silent, project).status == ChoiceStatus.NOT_PLACED
    [told] = emails(session, "placement_expired")
    assert (told.to_address, told.language) == (silent_user.email, "zh-Hant") and "數據分析實習生" in told.subject
    assert "香港時間" in told.body_text and "（星期" in told.body_text and "UTC" not in told.body_text, "the moment in the reader's words"
    assert expire_offers(session, now=AFTER_DEADLINE) == [], "an expired offer is expired once"
    with pytest.raises(InvalidTransition, match="expired"):
        accept_offer(session, silent_user, lapsing, now=BEFORE_DEADLINE)


def test_nobody_else_can_answer_my_offer(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    profile, _me = make_applicant(session)
    placement = offer(session, project, profile)
    _other_profile, someone_else = make_applicant(session)

    with pytest.raises(NotFound):
        accept_offer(session, someone_else, placement, now=BEFORE_DEADLINE)
    with pytest.raises(NotFound):
        decline_offer(session, someone_else, placement.id, now=BEFORE_DEADLINE)
    with pytest.raises(NotFound):
        accept_offer(session, someone_else, 10**9, now=BEFORE_DEADLINE)
    with pytest.raises(Forbidden):
        accept_offer(session, make_user(session, Role.APPROVER), placement, now=BEFORE_DEADLINE)
    assert placement.status == PlacementStatus.OFFERED


@pytest.mark.skipif(not IS_POSTGRES, reason="concurrent answers are tested on PostgreSQL (set DATABASE_URL); "
                                            "SQLite runs one writer at a time anyway")
def test_simultaneous_acceptances_leave_exactly_one_accepted_place():
    """A double click on one offer, and two offers of one applicant accepted at the same moment."""
    with migrated_database("internmatch_accept_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            scheme = make_scheme(setup)
            first_project, second_project = make_project(setup, scheme), make_project(setup, scheme)
            clicker_profile, clicker = make_applicant(setup)
            double_click = offer(setup, first_project, clicker_profile)
            torn_profile, torn = make_applicant(setup)
            torn_offers = [hold(setup, first_project, torn_profile, PlacementStatus.OFFERED),
                           hold(setup, second_project, torn_profile, PlacementStatus.OFFERED)]
            setup.commit()

        def race(actor_id: int, placement_ids: list[int]) -> list:
            barrier, outcomes = threading.Barrier(len(placement_ids)), []

            def answer(placement_id: int) -> None:
                with Session(engine, expire_on_commit=False) as db:
                    actor = db.get(User, actor_id)
                    barrier.wait()
                    try:
                        outcomes.append(accept_offer(db, actor, placement_id, now=BEFORE_DEADLINE).id)
                        db.commit()
                    except (Conflict, InvalidTransition) as refusal:
                        db.rollback()
                        outcomes.append(type(refusal).__name__)

            threads = [threading.Thread(target=answer, args=(pid,)) for pid in placement_ids]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            return outcomes

        assert race(clicker.id, [double_click.id, double_click.id]) == [double_click.id, double_click.id]
        outcomes = race(torn.id, [p.id for p in torn_offers])
        assert len(outcomes) == 2 and sum(isinstance(o, int) for o in outcomes) == 1, outcomes

        with Session(engine) as check:
            for profile in (clicker_profile, torn_profile):
                accepted = check.exec(select(Placement).where(Placement.applicant_id == profile.id,
                                                              Placement.status == PlacementStatus.ACCEPTED)).all()
                assert len(accepted) == 1
            assert len(check.exec(select(OutboxEmail).where(OutboxEmail.template == "placement_accepted")).all()) == 2
