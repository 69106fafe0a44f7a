"""An NGO drafts, fixes and submits a project; staff open, close and the NGO completes it."""

import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.core.errors import Conflict, InvalidTransition, NotFound
from backend.identity.models import Role, User
from backend.organisations.models import OrganisationMember
from backend.outbox.models import OutboxEmail
from backend.projects import lifecycle
from backend.projects.models import ProjectStatus
from backend.schemes.models import SchemeSubsidyLimit
from tests.factories import make_organisation, make_project, make_scheme

GOOD = {
    "title_en": "Data analytics intern", "title_zh": "數據分析實習生",
    "description_en": "Analyse logistics data.", "description_zh": "分析物流數據。",
    "host_organisation_en": "Qianhai Logistics Lab", "host_organisation_zh": "前海物流實驗室",
    "sector": "technology", "city": "Shenzhen", "start_date": "2027-07-05", "end_date": "2027-08-13",
    "places_requested": "12", "cost_travel": "3,000", "cost_accommodation": "12000", "cost_insurance": "800",
    "cost_allowance": "HK$6000", "cost_other": "", "language_putonghua": "3", "language_english": "0",
    "min_education": "associate", "min_age": "18", "max_age": "29",
}


def _open_scheme(session, **overrides):
    today = date.today()
    return make_scheme(session, ngo_window_opens=today - timedelta(days=10),
                       ngo_window_closes=today + timedelta(days=30), **overrides)


def _ngo(session, organisation, *, admin=True) -> User:
    user = User(email=f"ngo-{uuid.uuid4().hex[:6]}@ngo.example.hk", role=Role.NGO, display_name="NGO",
                preferred_language="zh-Hant")
    session.add(user)
    session.flush()
    session.add(OrganisationMember(organisation_id=organisation.id, user_id=user.id, is_admin=admin))
    session.flush()
    return user


def _staff(session, role=Role.OFFICER) -> User:
    user = User(email=f"{role}-{uuid.uuid4().hex[:6]}@hab.gov.hk", role=role, display_name=str(role))
    session.add(user)
    session.flush()
    return user


def test_a_draft_keeps_every_valid_field_even_when_others_are_wrong(session):
    scheme = _open_scheme(session)
    ngo = _ngo(session, make_organisation(session))
    project, not_saved = lifecycle.create_draft(session, ngo, scheme, {**GOOD, "end_date": "2027-02-30",
                                                                     "cost_other": "12.50"})
    assert set(not_saved) == {"end_date", "cost_other"}
    assert "real date" in not_saved["end_date"]
    assert "whole Hong Kong dollars" in not_saved["cost_other"]
    assert project.title_zh == "數據分析實習生" and project.region == "Guangdong"
    assert project.cost_travel == 3000 and project.cost_allowance == 6000
    assert project.languages == {"putonghua": 3}
    assert project.status == ProjectStatus.DRAFT


def test_submitting_needs_every_field_and_says_which_are_missing(session):
    scheme = _open_scheme(session)
    ngo = _ngo(session, make_organisation(session))
    project, _not_saved = lifecycle.create_draft(session, ngo, scheme, {"title_en": "Half done"})
    with pytest.raises(lifecycle.ProjectInvalid) as refused:
        lifecycle.submit(session, ngo, project)
    assert {"title_zh", "description_en", "sector", "city", "places_requested"} <= set(refused.value.details["fields"])
    assert project.status == ProjectStatus.DRAFT

    lifecycle.update_draft(session, ngo, project, GOOD)
    lifecycle.submit(session, ngo, project)
    assert project.status == ProjectStatus.SUBMITTED and project.submitted_at is not None
    email = session.exec(select(OutboxEmail).where(OutboxEmail.template == "project.submitted")
                         .where(OutboxEmail.to_address == ngo.email)).one()
    assert "已收到項目" in email.subject, "the NGO admin is e-mailed in their own language"


def test_the_subsidy_asked_cannot_exceed_the_schemes_limit_for_the_region(session):
    scheme = _open_scheme(session)
    session.add(SchemeSubsidyLimit(scheme_id=scheme.id, region="Guangdong", max_subsidy_per_place=20_000))
    session.flush()
    ngo = _ngo(session, make_organisation(session))
    _project, not_saved = lifecycle.create_draft(session, ngo, scheme, GOOD)  # asks HK$21,800
    assert "HK$21,800" in not_saved["cost_travel"] and "HK$20,000" in not_saved["cost_travel"]
    _project, not_saved = lifecycle.create_draft(session, ngo, scheme, {**GOOD, "city": "Beijing"})
    assert "cost_travel" not in not_saved, "the Guangdong limit does not apply in Beijing"


def test_ages_must_stay_within_the_schemes_range(session):
    scheme = _open_scheme(session)
    ngo = _ngo(session, make_organisation(session))
    _project, not_saved = lifecycle.create_draft(session, ngo, scheme, {**GOOD, "min_age": "16", "max_age": "35"})
    assert not_saved["min_age"] == not_saved["max_age"] == "The scheme funds ages 18 to 29 only."


def test_an_unverified_organisation_cannot_post_and_nobody_can_post_outside_the_window(session):
    ngo = _ngo(session, make_organisation(session, verified=False))
    with pytest.raises(Conflict, match="verified"):
        lifecycle.create_draft(session, ngo, _open_scheme(session), GOOD)
    verified = _ngo(session, make_organisation(session))
    closed = make_scheme(session, ngo_window_opens=date(2020, 1, 1), ngo_window_closes=date(2020, 2, 1))
    with pytest.raises(Conflict, match="takes project applications"):
        lifecycle.create_draft(session, verified, closed, GOOD)


def test_an_ngo_cannot_see_or_edit_another_organisations_project(session):
    scheme = _open_scheme(session)
    mine, theirs = make_organisation(session), make_organisation(session)
    ngo = _ngo(session, mine)
    other = make_project(session, scheme, theirs, status=ProjectStatus.DRAFT)
    with pytest.raises(NotFound):
        lifecycle.update_draft(session, ngo, other, GOOD)
    with pytest.raises(NotFound):
        lifecycle.submit(session, ngo, other)


def test_a_submitted_project_cannot_be_edited(session):
    scheme = _open_scheme(session)
    ngo = _ngo(session, make_organisation(session))
    project, _ = lifecycle.create_draft(session, ngo, scheme, GOOD)
    lifecycle.submit(session, ngo, project)
    with pytest.raises(InvalidTransition):
        lifecycle.update_draft(session, ngo, project, {"title_en": "Changed"})


def test_staff_open_close_and_complete_a_project(session):
    scheme = _open_scheme(session)
    organisation = make_organisation(session)
    ngo, officer = _ngo(session, organisation), _staff(session)
    project = make_project(session, scheme, organisation, status=ProjectStatus.APPROVED, places=10)
    with pytest.raises(Exception):  # noqa: B017 - an NGO may not open its own project
        lifecycle.open_for_applications(session, ngo, project)
    lifecycle.open_for_applications(session, officer, project)
    lifecycle.close_applications(session, officer, project)
    with pytest.raises(Exception):  # noqa: B017 - an NGO may not complete its own project: staff accept its report
        lifecycle.complete(session, ngo, project)
    lifecycle.complete(session, officer, project)
    assert project.status == ProjectStatus.COMPLETED
    assert [e.to_status for e in lifecycle.timeline(session, project)] == ["open", "closed", "completed"]
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.object_id == str(project.id))).all()
    assert actions == ["project.opened", "project.closed", "project.completed"]
