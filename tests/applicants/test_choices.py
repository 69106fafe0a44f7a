"""Ranked choices: up to the scheme's limit, reordered without JavaScript, frozen when the window closes."""

from datetime import date

import pytest
from sqlmodel import select

from backend.applicants import choices
from backend.applicants.models import Choice, ChoiceStatus
from backend.audit.models import AuditEvent
from backend.core.errors import Conflict, DomainError, NotFound
from backend.outbox.models import OutboxEmail
from backend.projects.models import ProjectStatus
from tests.applicants.helpers import TODAY, make_applicant
from tests.factories import make_project, make_scheme


def _ranks(items):
    return [(i.project_id, i.rank) for i in items]


def test_choices_are_ranked_in_order_up_to_the_scheme_limit(session):
    scheme = make_scheme(session, max_choices=3)
    projects = [make_project(session, scheme) for _ in range(4)]
    user, _profile = make_applicant(session)

    for project in projects[:3]:
        items = choices.add_choice(session, user, project.id, today=TODAY)

    assert _ranks(items) == [(p.id, k) for k, p in enumerate(projects[:3], 1)]
    assert items[0].first and items[-1].last
    with pytest.raises(Conflict, match="up to 3 projects"):
        choices.add_choice(session, user, projects[3].id, today=TODAY)
    with pytest.raises(Conflict, match="already among your choices"):
        choices.add_choice(session, user, projects[0].id, today=TODAY)
    emails = session.exec(select(OutboxEmail).where(OutboxEmail.to_address == user.email)).all()
    assert len(emails) == 3 and "3. Data analytics intern" in emails[-1].body_text
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "choice.added")).all()


def test_move_up_and_down_and_withdraw_keep_ranks_contiguous(session, scheme):
    a, b, c = (make_project(session, scheme) for _ in range(3))
    user, _profile = make_applicant(session)
    for project in (a, b, c):
        items = choices.add_choice(session, user, project.id, today=TODAY)
    ids = {i.project_id: i.id for i in items}

    items = choices.move_choice(session, user, ids[c.id], "up", today=TODAY)
    assert _ranks(items) == [(a.id, 1), (c.id, 2), (b.id, 3)]
    items = choices.move_choice(session, user, ids[a.id], "up", today=TODAY)
    assert _ranks(items) == [(a.id, 1), (c.id, 2), (b.id, 3)], "the first cannot go higher"
    items = choices.move_choice(session, user, ids[a.id], "down", today=TODAY)
    assert _ranks(items) == [(c.id, 1), (a.id, 2), (b.id, 3)]

    items = choices.withdraw_choice(session, user, ids[c.id], today=TODAY)
    assert _ranks(items) == [(a.id, 1), (b.id, 2)]
    assert session.get(Choice, ids[c.id]).status == ChoiceStatus.WITHDRAWN
    items = choices.add_choice(session, user, c.id, today=TODAY)
    assert _ranks(items) == [(a.id, 1), (b.id, 2), (c.id, 3)] and items[-1].id == ids[c.id], "the row is revived"


def test_an_ineligible_project_is_refused_with_the_reason(session, scheme):
    project = make_project(session, scheme, languages={"putonghua": 4})
    user, _profile = make_applicant(session)

    with pytest.raises(DomainError) as refused:
        choices.add_choice(session, user, project.id, today=TODAY)

    assert refused.value.details["field"] == "project_id"
    assert refused.value.details["reasons"] == ["Putonghua level 4 needed; you have 3."]
    assert "Putonghua level 4 needed; you have 3." in refused.value.message
    assert session.exec(select(Choice)).all() == []


def test_an_incomplete_profile_is_told_what_to_complete(session, scheme):
    project = make_project(session, scheme)
    user, _profile = make_applicant(session, date_of_birth=None)
    with pytest.raises(DomainError, match="Complete your profile first: Your name and date of birth"):
        choices.add_choice(session, user, project.id, today=TODAY)


def test_choices_are_frozen_outside_the_window_and_only_open_projects_can_be_chosen(session, scheme):
    project, later = make_project(session, scheme), make_project(session, scheme)
    draft = make_project(session, scheme, status=ProjectStatus.DRAFT)
    user, _profile = make_applicant(session)
    item = choices.add_choice(session, user, project.id, today=TODAY)[0]
    after = date(2027, 4, 1)

    with pytest.raises(Conflict, match="closed on 31 March 2027"):
        choices.add_choice(session, user, later.id, today=after)
    with pytest.raises(Conflict, match="can no longer change"):
        choices.move_choice(session, user, item.id, "down", today=after)
    with pytest.raises(Conflict, match="can no longer change"):
        choices.withdraw_choice(session, user, item.id, today=after)
    with pytest.raises(Conflict, match="Choices open on 1 November 2026"):
        choices.add_choice(session, user, later.id, today=date(2026, 10, 1))
    with pytest.raises(NotFound):
        choices.add_choice(session, user, draft.id, today=TODAY)


def test_an_applicant_cannot_touch_someone_elses_choice(session, scheme):
    project = make_project(session, scheme)
    owner, _profile = make_applicant(session)
    other, _other_profile = make_applicant(session)
    item = choices.add_choice(session, owner, project.id, today=TODAY)[0]
    with pytest.raises(NotFound):
        choices.withdraw_choice(session, other, item.id, today=TODAY)
    with pytest.raises(NotFound):
        choices.move_choice(session, other, item.id, "up", today=TODAY)


def test_status_overview_says_what_happens_next(session, scheme):
    first, second = make_project(session, scheme), make_project(session, scheme)
    user, _profile = make_applicant(session)
    choices.add_choice(session, user, first.id, today=TODAY)
    items = choices.add_choice(session, user, second.id, today=TODAY)
    shortlisted = session.get(Choice, items[1].id)
    shortlisted.status = ChoiceStatus.SHORTLISTED
    session.add(shortlisted)
    session.flush()

    overview = choices.status_overview(session, user, today=TODAY)

    assert [(s.rank, s.status, s.status_label) for s in overview.choices] == [
        (1, "submitted", "Submitted"), (2, "shortlisted", "Shortlisted")]
    assert "after the window closes on 31 March 2027" in overview.choices[0].next_step
    assert "arrange an interview" in overview.choices[1].next_step
    closed = choices.status_overview(session, user, today=date(2027, 4, 2))
    assert "reviewing applications" in closed.choices[0].next_step
