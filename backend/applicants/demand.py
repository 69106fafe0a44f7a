"""Demand per place: how many applicants have chosen a project so far, kept as a counter per project.

Every writer that adds a choice, brings a withdrawn one back or withdraws one calls `chosen` or
`unchosen` in its own transaction: one atomic UPDATE (`applicants = applicants ± 1`), so parallel
choices never lose a count, and a project page reads a single row rather than counting choices per view.
The migration that made the counters filled them from the choices already made.

Applicants read the count as a band (`Band`), in the spirit of school-choice systems' "applicants per seat": a
plain word for how competitive a project is so far and, once a round has run on its scheme, how competitive it
was in that round (the worker records, with the round's results, how many applicants had it among their
choices). Suggestions use the band to offer a choice where she has a real chance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, insert, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.applicants.models import Choice, ChoiceStatus, ProjectDemand
from backend.core.i18n import lazy_gettext
from backend.projects.models import Project


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


class Band(StrEnum):
    """How competitive a project is, from applicants per place. The edges are round numbers a reader can hold:
    no more applicants than places; up to three per place; up to six; more."""

    OPEN = "open"
    SOME = "some"
    COMPETITIVE = "competitive"
    VERY_COMPETITIVE = "very_competitive"

    @property
    def label(self) -> str:
        return str(BAND_LABELS[self])

    @property
    def safe(self) -> bool:
        """A choice where she has a real chance: no more applicants than places."""
        return self is Band.OPEN


BAND_LABELS = {
    Band.OPEN: lazy_gettext("Not more applicants than places"),
    Band.SOME: lazy_gettext("Some competition (up to 3 applicants per place)"),
    Band.COMPETITIVE: lazy_gettext("Competitive (3 to 6 applicants per place)"),
    Band.VERY_COMPETITIVE: lazy_gettext("Very competitive (more than 6 applicants per place)"),
}


def band_of(applicants: int, places: int) -> Band:
    if applicants <= places:
        return Band.OPEN
    if applicants <= 3 * places:
        return Band.SOME
    if applicants <= 6 * places:
        return Band.COMPETITIVE
    return Band.VERY_COMPETITIVE


@dataclass(frozen=True)
class Demand:
    applicants: int
    places: int
    round_applicants: int | None = None  # in the latest round on its scheme, if one has run

    @property
    def per_place(self) -> float | None:
        return round(self.applicants / self.places, 1) if self.places else None

    @property
    def band(self) -> Band | None:
        return band_of(self.applicants, self.places) if self.places else None

    @property
    def round_band(self) -> Band | None:
        """How competitive it was in the latest round."""
        if self.round_applicants is None or not self.places:
            return None
        return band_of(self.round_applicants, self.places)

    @property
    def safe(self) -> bool:
        bands = [b for b in (self.band, self.round_band) if b is not None]
        return bool(bands) and all(b.safe for b in bands)


def places_of(project) -> int:
    return project.places_granted or project.places_requested or 0


def _demand(row: ProjectDemand | None, places: int) -> Demand:
    if row is None:
        return Demand(0, places)
    return Demand(row.applicants, places, row.round_applicants)


def demand_of(session: Session, project) -> Demand:
    return _demand(session.get(ProjectDemand, project.id), places_of(project))


def demands_of(session: Session, places: Mapping[int, int]) -> dict[int, Demand]:
    """Demand for many projects (project id → its places) with one query: a list page, suggestions."""
    if not places:
        return {}
    rows = {row.project_id: row for row in session.exec(select(ProjectDemand).where(
        col(ProjectDemand.project_id).in_(list(places))))}
    return {project_id: _demand(rows.get(project_id), n) for project_id, n in places.items()}


def demands_for(session: Session, project_ids: list[int]) -> dict[int, Demand]:
    """Demand for the projects with these ids (a list of her choices)."""
    if not project_ids:
        return {}
    rows = session.exec(select(Project.id, Project.places_granted, Project.places_requested).where(
        col(Project.id).in_(project_ids))).all()
    return demands_of(session, {pid: granted or requested or 0 for pid, granted, requested in rows})


def recount(session: Session) -> None:
    """Set every counter from the choices themselves: for data written in bulk without the choice writers
    (the demo), as the migration that made the counters did."""
    counts = dict(session.exec(select(Choice.project_id, func.count()).where(
        Choice.status != ChoiceStatus.WITHDRAWN).group_by(Choice.project_id)).all())
    have = set(session.exec(select(ProjectDemand.project_id)))
    missing = [{"project_id": pid, "applicants": n} for pid, n in counts.items() if pid not in have]
    if missing:
        session.execute(insert(ProjectDemand), missing)
    stale = [{"project_id": pid, "applicants": counts.get(pid, 0)} for pid in have]
    if stale:
        session.execute(update(ProjectDemand), stale)


def record_round(session: Session, run_id: int, applicants_per_project: Mapping[int, int]) -> None:
    """What a round saw: for each of its projects, how many applicants had it among their choices. Written
    with the round's results by the worker (one bulk UPDATE; a national round has 2,000 projects); a later
    round on the scheme replaces it."""
    if not applicants_per_project:
        return
    have = set(session.exec(select(ProjectDemand.project_id).where(
        col(ProjectDemand.project_id).in_(list(applicants_per_project)))))
    missing = sorted(applicants_per_project.keys() - have)
    if missing:
        # One statement for every project nobody has chosen yet (a row per project would be 2,000 round trips
        # at national scale); a row a parallel choice creates meanwhile is left to it.
        insert_ = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert_(ProjectDemand).values([{"project_id": pid, "applicants": 0} for pid in missing])
                        .on_conflict_do_nothing(index_elements=["project_id"]))
    session.execute(update(ProjectDemand), [
        {"project_id": project_id, "round_applicants": n, "round_id": run_id}
        for project_id, n in applicants_per_project.items()])
