"""What a scheme has already given out, and the lock that keeps those figures true while someone decides.

Funding decisions (projects), scheme edits (schemes), offers and approvals (placements) and reports all
read the same figures: the regional caps, the places and money granted to funded projects, and the
places and money held by live placements. They live here, below all of those domains, so that each
counts them the same way and none has to import another domain's service to do so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, update
from sqlmodel import Session, col, select

from backend.placements.models import Placement, PlacementStatus
from backend.projects.models import Project, ProjectStatus
from backend.schemes.models import Scheme, SchemeRegionCap
from matching.geography import GBA_CITIES

GBA_CITY_NAMES = tuple(c.name_en for c in GBA_CITIES)

# Projects whose places count towards a scheme's budget and caps.
FUNDED_STATUSES = (ProjectStatus.APPROVED, ProjectStatus.OPEN, ProjectStatus.CLOSED, ProjectStatus.COMPLETED)
# Placements that use up a place, a share of the budget and of a regional cap. A completed internship
# spent its subsidy, so it keeps counting; declined, expired and withdrawn offers free their place.
HOLDING_STATUSES = (PlacementStatus.OFFERED, PlacementStatus.ACCEPTED, PlacementStatus.COMPLETED,
                    PlacementStatus.LEFT_EARLY, PlacementStatus.NO_SHOW)


def lock_scheme(session: Session, scheme_id: int) -> Scheme:
    """Take the scheme's row lock for the rest of the transaction (PostgreSQL row lock; SQLite write lock).

    A no-op UPDATE is the one statement both databases treat as "I am about to write": SELECT ... FOR
    UPDATE is ignored by SQLite, whose deferred transactions could otherwise both read the same totals.
    """
    session.execute(update(Scheme).where(col(Scheme.id) == scheme_id).values(budget_hkd=Scheme.budget_hkd))
    scheme = session.exec(select(Scheme).where(Scheme.id == scheme_id).with_for_update()).one()
    session.refresh(scheme)
    return scheme


def region_caps(session: Session, scheme_id: int) -> dict[str, int]:
    """Region → the most places the scheme may grant (and place) there; uncapped regions are absent."""
    caps = session.exec(select(SchemeRegionCap).where(SchemeRegionCap.scheme_id == scheme_id)).all()
    return {cap.region: cap.max_places for cap in caps}


def _funded_projects(scheme_id: int, excluding_project_id: int | None):
    funded = select(Project).where(Project.scheme_id == scheme_id, col(Project.status).in_(FUNDED_STATUSES))
    if excluding_project_id is not None:
        funded = funded.where(Project.id != excluding_project_id)
    return funded.subquery()


def granted_by_region(session: Session, scheme_id: int, *, excluding_project_id: int | None = None
                      ) -> dict[str, int]:
    """Region → places granted to the scheme's funded projects (regions with none are absent)."""
    funded = _funded_projects(scheme_id, excluding_project_id)
    rows = session.exec(select(funded.c.region, func.coalesce(func.sum(funded.c.places_granted), 0))
                        .group_by(funded.c.region)).all()
    return {region: int(places) for region, places in rows}


def funding_granted(session: Session, scheme_id: int, *, excluding_project_id: int | None = None) -> int:
    """HK$ granted to the scheme's funded projects: places granted times subsidy per place."""
    funded = _funded_projects(scheme_id, excluding_project_id)
    return int(session.exec(
        select(func.coalesce(func.sum(funded.c.places_granted * funded.c.subsidy_granted_per_place), 0))).one())


def granted_by_organisation(session: Session, scheme_id: int, *, excluding_project_id: int | None = None
                            ) -> dict[int, int]:
    """Organisation id → places granted to its funded projects under the scheme."""
    funded = _funded_projects(scheme_id, excluding_project_id)
    rows = session.exec(select(funded.c.organisation_id, func.coalesce(func.sum(funded.c.places_granted), 0))
                        .group_by(funded.c.organisation_id)).all()
    return {organisation: int(places) for organisation, places in rows}


@dataclass(frozen=True)
class GbaPlaces:
    """Places granted to funded projects: in Greater Bay Area cities, and in all."""

    gba: int
    total: int

    def share_with(self, gba: int, total: int) -> float:
        """The share (per cent) of GBA places once `total` more places, `gba` of them in the GBA, are granted."""
        places = self.total + total
        return 100.0 * (self.gba + gba) / places if places else 100.0

    def meets(self, percent: int | None, gba: int = 0, total: int = 0) -> bool:
        return not percent or 100 * (self.gba + gba) >= percent * (self.total + total)


def gba_places(session: Session, scheme_id: int, *, excluding_project_id: int | None = None) -> GbaPlaces:
    funded = _funded_projects(scheme_id, excluding_project_id)
    places = func.coalesce(func.sum(funded.c.places_granted), 0)
    total = session.exec(select(places)).one()
    gba = session.exec(select(places).where(funded.c.city.in_(GBA_CITY_NAMES))).one()
    return GbaPlaces(gba=int(gba), total=int(total))


@dataclass(frozen=True)
class Headroom:
    budget_remaining: int
    region_places_remaining: int | None  # None: the region has no cap


def headroom(session: Session, scheme: Scheme, region: str, *, excluding_project_id: int | None = None) -> Headroom:
    """What a funding decision may still grant in `region`, leaving out the project being decided."""
    cap = region_caps(session, scheme.id).get(region)
    remaining_places = None
    if cap is not None:
        used = granted_by_region(session, scheme.id, excluding_project_id=excluding_project_id).get(region, 0)
        remaining_places = cap - used
    budget_used = funding_granted(session, scheme.id, excluding_project_id=excluding_project_id)
    return Headroom(budget_remaining=scheme.budget_hkd - budget_used, region_places_remaining=remaining_places)


@dataclass
class SchemeUsage:
    """What the scheme's live placements already take up."""

    places_by_project: dict[int, int] = field(default_factory=dict)
    places_by_region: dict[str, int] = field(default_factory=dict)
    subsidy_committed: int = 0


def _holding(scheme_id: int):
    return and_(Placement.scheme_id == scheme_id, col(Placement.status).in_(HOLDING_STATUSES))


def places_held_by_project(session: Session, scheme_id: int) -> dict[int, int]:
    """Per project, the places its live placements (offers awaiting an answer included) take up."""
    return {pid: int(n) for pid, n in session.exec(
        select(Placement.project_id, func.count()).where(_holding(scheme_id)).group_by(Placement.project_id))}


def scheme_usage(session: Session, scheme_id: int) -> SchemeUsage:
    holding = _holding(scheme_id)
    by_region = session.exec(
        select(Project.region, func.count()).select_from(Placement)
        .join(Project, col(Project.id) == Placement.project_id)
        .where(holding).group_by(Project.region)).all()
    committed = session.exec(select(func.coalesce(func.sum(Placement.subsidy_hkd), 0)).where(holding)).one()
    return SchemeUsage(places_by_project=places_held_by_project(session, scheme_id),
                       places_by_region={region: int(n) for region, n in by_region},
                       subsidy_committed=int(committed))
