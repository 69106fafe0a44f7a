"""A scheme's figures: caps, what funded projects were granted, what live placements hold, and what is left."""

import uuid
from datetime import UTC, datetime

from backend.applicants.models import ApplicantProfile
from backend.identity.models import Role, User
from backend.placements.models import Placement, PlacementStatus
from backend.projects.funding import confirm_decision, propose_decision
from backend.projects.models import AssessmentDecision, ProjectStatus
from backend.schemes.facts import (
    funding_granted,
    granted_by_region,
    headroom,
    lock_scheme,
    region_caps,
    scheme_usage,
)
from tests.factories import make_project, make_scheme


def _user(session, role: Role) -> User:
    user = User(email=f"{role}-{uuid.uuid4().hex[:6]}@hab.gov.hk", role=role, display_name=str(role))
    session.add(user)
    session.flush()
    return user


def test_caps_are_given_by_region_and_uncapped_regions_are_absent(session):
    scheme = make_scheme(session, caps={"Guangdong": 40, "Beijing": 12})
    other = make_scheme(session, caps={"Guangdong": 5})

    assert region_caps(session, scheme.id) == {"Guangdong": 40, "Beijing": 12}
    assert region_caps(session, other.id) == {"Guangdong": 5}
    assert region_caps(session, make_scheme(session).id) == {}


def test_only_funded_projects_count_towards_places_and_money_granted(session):
    scheme = make_scheme(session, budget_hkd=1_000_000)
    make_project(session, scheme, region="Guangdong", places=10, subsidy=25_000, status=ProjectStatus.OPEN)
    make_project(session, scheme, region="Guangdong", places=4, subsidy=20_000, status=ProjectStatus.COMPLETED)
    make_project(session, scheme, region="Beijing", city="Beijing", places=3, subsidy=30_000,
                 status=ProjectStatus.APPROVED)
    make_project(session, scheme, region="Beijing", city="Beijing", places=50, status=ProjectStatus.SUBMITTED)
    make_project(session, scheme, region="Shanghai", city="Shanghai", places=6, status=ProjectStatus.REJECTED)

    assert granted_by_region(session, scheme.id) == {"Guangdong": 14, "Beijing": 3}
    assert funding_granted(session, scheme.id) == 10 * 25_000 + 4 * 20_000 + 3 * 30_000


def test_headroom_shrinks_by_what_an_approval_grants(session):
    scheme = make_scheme(session, budget_hkd=1_000_000, caps={"Guangdong": 20})
    make_project(session, scheme, places=10, subsidy=25_000, status=ProjectStatus.OPEN)
    project = make_project(session, scheme, places=8, subsidy=30_000, status=ProjectStatus.SUBMITTED)

    before = headroom(session, scheme, "Guangdong")
    assert (before.budget_remaining, before.region_places_remaining) == (750_000, 10)

    officer, approver = _user(session, Role.OFFICER), _user(session, Role.APPROVER)
    proposal = propose_decision(session, officer, project, decision=AssessmentDecision.APPROVE,
                                scores={}, comments="", places=6, subsidy_per_place=30_000)
    confirm_decision(session, approver, proposal)
    session.flush()

    after = headroom(session, scheme, "Guangdong")
    assert (after.budget_remaining, after.region_places_remaining) == (750_000 - 180_000, 4)
    # The project being decided leaves itself out, so re-deciding it sees the room it would free.
    assert headroom(session, scheme, "Guangdong", excluding_project_id=project.id) == before
    assert headroom(session, scheme, "Beijing").region_places_remaining is None


def test_only_offers_and_places_held_use_up_the_scheme(session):
    scheme = make_scheme(session)
    guangdong = make_project(session, scheme, places=5, subsidy=25_000)
    beijing = make_project(session, scheme, region="Beijing", city="Beijing", places=5, subsidy=30_000)
    statuses = [(guangdong, PlacementStatus.OFFERED), (guangdong, PlacementStatus.ACCEPTED),
                (beijing, PlacementStatus.COMPLETED), (beijing, PlacementStatus.DECLINED),
                (beijing, PlacementStatus.EXPIRED), (guangdong, PlacementStatus.WITHDRAWN)]
    for n, (project, status) in enumerate(statuses):
        session.add(Placement(scheme_id=scheme.id, project_id=project.id, applicant_id=_applicant(session, n),
                              status=status, subsidy_hkd=project.subsidy_granted_per_place,
                              offer_deadline=datetime(2027, 5, 10, tzinfo=UTC)))
    session.flush()

    usage = scheme_usage(session, scheme.id)

    assert usage.places_by_project == {guangdong.id: 2, beijing.id: 1}
    assert usage.places_by_region == {"Guangdong": 2, "Beijing": 1}
    assert usage.subsidy_committed == 2 * 25_000 + 30_000


def test_locking_a_scheme_returns_its_current_row(session):
    scheme = make_scheme(session, budget_hkd=500_000)

    locked = lock_scheme(session, scheme.id)

    assert locked.id == scheme.id and locked.budget_hkd == 500_000


def _applicant(session, n: int) -> int:
    profile = ApplicantProfile(name_en=f"Applicant {n}", name_zh=f"申請人 {n}",
                               contact_email=f"applicant-{uuid.uuid4().hex[:6]}@mail.example.hk")
    session.add(profile)
    session.flush()
    return profile.id
