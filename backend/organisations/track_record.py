"""An organisation's track record across every scheme and year: what it was funded for and how it delivered.

One function, `track_record`, computes it for any set of organisations; the staff assessment page of an
organisation's next application, the staff organisations page and the track record report all show it.

- projects funded, places granted: its projects in a funded status (`schemes.facts.FUNDED_STATUSES`);
- places filled: placements taken up (accepted, completed, left early, did not show);
- completion rate: completed / places filled; no-shows and left early are counted from the placements;
- confirmations and mismatches: interns' sent confirmations of what they received, and those in which an
  amount promised was not received in full; survey score: the interns' mean rating (1-5);
- complaints upheld against it (`complaints.case`).

A rate or score with nothing to measure yet is None (shown as "none yet"), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.complaints.case import upheld_complaints_by_organisation
from backend.organisations.models import Organisation
from backend.placements.models import InternConfirmation, Placement, PlacementStatus
from backend.projects.models import Project
from backend.schemes.facts import FUNDED_STATUSES

TAKEN_STATUSES = (PlacementStatus.ACCEPTED, PlacementStatus.COMPLETED, PlacementStatus.LEFT_EARLY,
                  PlacementStatus.NO_SHOW)


@dataclass
class TrackRecord:
    organisation_id: int
    schemes: int = 0
    projects_funded: int = 0
    places_granted: int = 0
    places_filled: int = 0
    completed: int = 0
    no_shows: int = 0
    left_early: int = 0
    confirmations: int = 0
    mismatches: int = 0
    survey_answers: int = 0
    rating_total: int = 0
    complaints_upheld: int = 0

    @property
    def completion_rate(self) -> float | None:
        """Completed / places filled, or None while no place has been taken."""
        return round(self.completed / self.places_filled, 4) if self.places_filled else None

    @property
    def survey_score(self) -> float | None:
        """The interns' mean rating out of 5, or None before any intern has answered."""
        return round(self.rating_total / self.survey_answers, 1) if self.survey_answers else None

    @property
    def has_history(self) -> bool:
        return bool(self.projects_funded or self.places_filled or self.confirmations or self.complaints_upheld)


def track_record(session: Session, organisation_ids: Iterable[int] | None = None) -> dict[int, TrackRecord]:
    """Organisation id → its track record across all schemes (every organisation when `organisation_ids` is None).

    Every id asked for is present, with zero counts and no rates if it has no history.
    """
    if organisation_ids is None:
        ids = sorted(session.exec(select(Organisation.id)).all())
    else:
        ids = sorted(set(organisation_ids))
    records = {i: TrackRecord(i) for i in ids}
    if not ids:
        return records

    for organisation_id, schemes, projects, places in session.exec(
            select(Project.organisation_id, func.count(func.distinct(Project.scheme_id)), func.count(),
                   func.coalesce(func.sum(Project.places_granted), 0))
            .where(col(Project.organisation_id).in_(ids), col(Project.status).in_(FUNDED_STATUSES))
            .group_by(Project.organisation_id)).all():
        record = records[organisation_id]
        record.schemes, record.projects_funded, record.places_granted = int(schemes), int(projects), int(places)

    for organisation_id, status, n in session.exec(
            select(Project.organisation_id, Placement.status, func.count())
            .join(Project, col(Project.id) == Placement.project_id)
            .where(col(Project.organisation_id).in_(ids), col(Placement.status).in_(TAKEN_STATUSES))
            .group_by(Project.organisation_id, Placement.status)).all():
        record = records[organisation_id]
        record.places_filled += int(n)
        if status == PlacementStatus.COMPLETED:
            record.completed += int(n)
        elif status == PlacementStatus.NO_SHOW:
            record.no_shows += int(n)
        elif status == PlacementStatus.LEFT_EARLY:
            record.left_early += int(n)

    for organisation_id, mismatch, n, rated, ratings in session.exec(
            select(Project.organisation_id, InternConfirmation.mismatch, func.count(),
                   func.count(InternConfirmation.rating), func.coalesce(func.sum(InternConfirmation.rating), 0))
            .join(Project, col(Project.id) == InternConfirmation.project_id)
            .where(col(Project.organisation_id).in_(ids), col(InternConfirmation.submitted_at).is_not(None))
            .group_by(Project.organisation_id, InternConfirmation.mismatch)).all():
        record = records[organisation_id]
        record.confirmations += int(n)
        if mismatch:
            record.mismatches += int(n)
        record.survey_answers += int(rated)
        record.rating_total += int(ratings)

    for organisation_id, n in upheld_complaints_by_organisation(session, ids).items():
        records[organisation_id].complaints_upheld = n
    return records


def of_organisation(session: Session, organisation_id: int) -> TrackRecord:
    return track_record(session, [organisation_id])[organisation_id]
