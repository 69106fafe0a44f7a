"""Demand per place: how many applicants have chosen a project so far, kept as a counter per project.

Every writer that adds a choice, brings a withdrawn one back or withdraws one calls `chosen` or
`unchosen` in its own transaction: one atomic UPDATE (`applicants = applicants ± 1`), so parallel
choices never lose a count, and a project page reads a single row rather than counting choices per view.
The migration that made the counters filled them from the choices already made.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from backend.applicants.models import ProjectDemand


def _ensure_row(session: Session, project_id: int) -> None:
    if session.get(ProjectDemand, project_id) is not None:
        return
    try:
        with session.begin_nested():
            session.add(ProjectDemand(project_id=project_id, applicants=0))
            session.flush()
    except IntegrityError:
        pass  # created by a parallel writer meanwhile: the UPDATE below counts on its row


def _add(session: Session, project_id: int, step: int) -> None:
    _ensure_row(session, project_id)
    session.execute(update(ProjectDemand).where(col(ProjectDemand.project_id) == project_id)
                    .values(applicants=ProjectDemand.applicants + step)
                    .execution_options(synchronize_session=False))


def chosen(session: Session, project_id: int) -> None:
    """One more applicant chose the project (a new choice, or a withdrawn one chosen again)."""
    _add(session, project_id, 1)


def unchosen(session: Session, project_id: int) -> None:
    """An applicant withdrew her choice of the project."""
    _add(session, project_id, -1)


@dataclass(frozen=True)
class Demand:
    applicants: int
    places: int

    @property
    def per_place(self) -> float | None:
        return round(self.applicants / self.places, 1) if self.places else None


def demand_of(session: Session, project) -> Demand:
    row = session.get(ProjectDemand, project.id)
    return Demand(row.applicants if row is not None else 0, project.places_granted or project.places_requested or 0)
