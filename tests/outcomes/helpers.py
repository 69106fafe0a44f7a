"""A project whose internship is over, with interns, for the outcome and completion-report tests."""

from __future__ import annotations

from datetime import date, timedelta

from backend.core.db import utcnow
from backend.placements.models import Placement, PlacementStatus
from backend.projects.models import ProjectStatus
from tests.applicants.helpers import make_applicant
from tests.factories import make_project


def finished_project(session, world, *, places=4, subsidy=25_000, status=ProjectStatus.CLOSED, ended_days_ago=10):
    """A funded project of the world's NGO whose internship ended `ended_days_ago` days ago."""
    end = date.today() - timedelta(days=ended_days_ago)
    return make_project(session, world.scheme, world.organisation, places=places, subsidy=subsidy, status=status,
                        start_date=end - timedelta(days=40), end_date=end)


def add_intern(session, project, status=PlacementStatus.ACCEPTED, **profile) -> Placement:
    user, applicant = make_applicant(session, **profile)
    placement = Placement(scheme_id=project.scheme_id, project_id=project.id, applicant_id=applicant.id,
                          status=status, subsidy_hkd=project.subsidy_granted_per_place or 0,
                          offer_deadline=utcnow() + timedelta(days=3))
    session.add(placement)
    session.flush()
    return placement
