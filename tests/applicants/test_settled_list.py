"""Once she has accepted a place her list is settled, whichever way the place came (one of her choices or an
officer's placement on a project she never chose): no choice is added, moved or withdrawn, and no page or
API answer invites her to; and a project whose offer she declined or let lapse is not hers to choose again."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.applicants import choice_status, csv_import, suggestions
from backend.applicants import choices as choice_service
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.core.errors import Conflict
from backend.placements.models import PlacementStatus
from backend.placements.offers import accept_offer, decline_offer, expire_offers
from tests.accounts.helpers import sign_in_as
from tests.applicants.helpers import TODAY, make_applicant, make_ngo
from tests.factories import make_project, make_scheme
from tests.placements.test_approvals import hold
from tests.placements.test_offers import AFTER_DEADLINE, BEFORE_DEADLINE

SETTLED = "accepted a place"


def _choice(session, profile, project) -> Choice:
    return session.exec(select(Choice).where(Choice.applicant_id == profile.id,
                                             Choice.project_id == project.id)).one()


def offered(session, project, profile):
    """An offer as approving a round makes it: the placement, and her choice of the project (if any) offered."""
    choice = session.exec(select(Choice).where(Choice.applicant_id == profile.id,
                                               Choice.project_id == project.id)).first()
    if choice is not None:
        choice_status.offer(session, choice)
    return hold(session, project, profile, PlacementStatus.OFFERED)


def _accepted_pin_without_open_choices(session):
    """She chose one project and declined its offer; then took an officer's placement on a project she never chose.
    Accepting closed nothing (no choice was open), yet she holds a place in the scheme."""
    scheme = make_scheme(session)
    declined, placed_on, later = (make_project(session, scheme) for _ in range(3))
    user, profile = make_applicant(session)
    choice_service.add_choice(session, user, declined.id, today=TODAY)
    decline_offer(session, user, offered(session, declined, profile).id, now=BEFORE_DEADLINE)
    accept_offer(session, user, offered(session, placed_on, profile).id, now=BEFORE_DEADLINE)
    return user, profile, declined, placed_on, later


def test_a_place_accepted_on_an_officers_placement_settles_her_list_too(session):
    user, profile, declined, _placed_on, later = _accepted_pin_without_open_choices(session)

    with pytest.raises(Conflict, match=SETTLED):
        choice_service.add_choice(session, user, later.id, today=TODAY)
    with pytest.raises(Conflict, match=SETTLED):
        choice_service.withdraw_choice(session, user, _choice(session, profile, declined).id, today=TODAY)
    assert [c.status for c in session.exec(select(Choice).where(Choice.applicant_id == profile.id))] == [
        ChoiceStatus.DECLINED]
    assert not any(item.movable for item in choice_service.list_choices(session, user))


def test_after_accepting_no_choice_can_be_withdrawn_not_even_the_accepted_one(session):
    scheme = make_scheme(session)
    taken, other = make_project(session, scheme), make_project(session, scheme)
    user, profile = make_applicant(session)
    for project in (taken, other):
        choice_service.add_choice(session, user, project.id, today=TODAY)
    placement = offered(session, taken, profile)
    accept_offer(session, user, placement.id, now=BEFORE_DEADLINE)

    for project in (taken, other):
        with pytest.raises(Conflict, match=SETTLED):
            choice_service.withdraw_choice(session, user, _choice(session, profile, project).id, today=TODAY)
    assert [_choice(session, profile, p).status for p in (taken, other)] == [ChoiceStatus.ACCEPTED,
                                                                           ChoiceStatus.CLOSED]


def test_her_pages_and_the_api_no_longer_invite_changes_once_she_holds_a_place(client, session):
    user, profile, declined, placed_on, later = _accepted_pin_without_open_choices(session)
    csrf = sign_in_as(client, session, user)

    choices_page = client.get("/choices").text
    assert "change the order" not in choices_page
    assert f'href="/choices/{_choice(session, profile, declined).id}/withdraw"' not in choices_page
    assert "Add to my choices" not in choices_page
    assert "accepted a place" in choices_page
    status_page = client.get("/status").text
    assert "change the order" not in status_page and "Change your choices" not in status_page
    [listed] = client.get("/api/v1/me/choices").json()
    assert listed["movable"] is False
    refused = client.post("/api/v1/me/choices", json={"project_id": later.id}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 409 and SETTLED in refused.json()["message"]


@pytest.mark.parametrize("answer", ["declined", "expired"])
def test_a_project_whose_offer_she_declined_or_let_lapse_is_not_suggested_or_chosen_again(session, answer):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    user, profile = make_applicant(session)
    choice_service.add_choice(session, user, project.id, today=TODAY)
    placement = offered(session, project, profile)
    if answer == "declined":
        decline_offer(session, user, placement.id, now=BEFORE_DEADLINE)
    else:
        expire_offers(session, now=AFTER_DEADLINE)
    assert _choice(session, profile, project).status == (ChoiceStatus.DECLINED if answer == "declined"
                                                         else ChoiceStatus.NOT_PLACED)
    # Withdrawing the settled choice frees the row, but not the pair.
    choice_service.withdraw_choice(session, user, _choice(session, profile, project).id, today=TODAY)
    suggestions.clear_cache()

    assert project.id not in [s.project_id for s in suggestions.suggest(session, user, today=TODAY, limit=20)]
    with pytest.raises(Conflict, match="not be offered to you again"):
        choice_service.add_choice(session, user, project.id, today=TODAY)
    assert _choice(session, profile, project).status == ChoiceStatus.WITHDRAWN


def test_a_paper_reimport_leaves_the_list_of_an_applicant_who_holds_a_place_as_it_was(session, scheme):
    ngo, organisation = make_ngo(session)
    taken, other, third = (make_project(session, scheme, organisation) for _ in range(3))
    row = ("A001,2003-05-02,hong_kong,bachelor,Data Science,Python,fintech,,cantonese=5;putonghua=3,2027-06-01,"
           "2027-08-31,,{choices},true,true,,Chan Tai Man")
    header = ("id,date_of_birth,origin,education,field_of_study,skills,interests,statement,languages,"
              "available_from,available_to,regions,choices,open_to_other,first_timer,email,name_en")

    def imported(*projects):
        data = f"{header}\n{row.format(choices=';'.join(str(p.id) for p in projects))}\n".encode()
        return csv_import.import_applicants(session, ngo, data, today=TODAY)

    imported(taken, other)
    profile = session.exec(select(ApplicantProfile).where(ApplicantProfile.external_ref == f"{organisation.id}:A001")
                           ).one()
    _choice(session, profile, taken).status = ChoiceStatus.ACCEPTED
    _choice(session, profile, other).status = ChoiceStatus.CLOSED
    hold(session, taken, profile, PlacementStatus.ACCEPTED)

    result = imported(third, other, taken)

    listed = session.exec(select(Choice.project_id, Choice.rank, Choice.status).where(
        Choice.applicant_id == profile.id).order_by(Choice.rank)).all()
    assert [tuple(c) for c in listed] == [(taken.id, 1, ChoiceStatus.ACCEPTED), (other.id, 2, ChoiceStatus.CLOSED)]
    assert [(w.column, SETTLED in w.reason) for w in result.warnings] == [("choices", True)]
