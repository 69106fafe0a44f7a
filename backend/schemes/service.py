"""Funding schemes: the rules about budgets, caps and windows."""

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.projects.models import Project, ProjectStatus
from backend.schemes.facts import FUNDED_STATUSES, region_caps
from backend.schemes.models import Scheme


@dataclass
class RegionPlaces:
    region: str
    places: int
    cap: int | None


@dataclass
class SchemeSummary:
    scheme: Scheme
    funded_projects: int
    places: int
    funding_granted: int
    regions: list[RegionPlaces] = field(default_factory=list)

    @property
    def budget_remaining(self) -> int:
        return self.scheme.budget_hkd - self.funding_granted

    def share_in(self, region: str) -> int:
        """Whole-number percentage of places in a region."""
        in_region = sum(r.places for r in self.regions if r.region == region)
        return round(100 * in_region / self.places) if self.places else 0


def current_schemes(session: Session, limit: int = 3) -> list[Scheme]:
    statement = select(Scheme).order_by(col(Scheme.applicant_window_opens).desc(), col(Scheme.id).desc())
    return list(session.exec(statement.limit(limit)))


def scheme_for_applicants(session: Session) -> Scheme | None:
    """The scheme a young person should hear about: the newest one with projects open for applications, or,
    while none is open, the newest scheme (its dates say when choosing starts)."""
    with_open_projects = select(Project.scheme_id).where(Project.status == ProjectStatus.OPEN)
    statement = (select(Scheme).where(col(Scheme.id).in_(with_open_projects))
                 .order_by(col(Scheme.applicant_window_opens).desc(), col(Scheme.id).desc()).limit(1))
    found = session.exec(statement).first()
    if found is not None:
        return found
    newest = current_schemes(session, limit=1)
    return newest[0] if newest else None


def summarise(session: Session, scheme: Scheme) -> SchemeSummary:
    rows = session.exec(
        select(
            Project.region,
            func.count(col(Project.id)),
            func.coalesce(func.sum(Project.places_granted), 0),
            func.coalesce(func.sum(Project.places_granted * Project.subsidy_granted_per_place), 0),
        )
        .where(Project.scheme_id == scheme.id, col(Project.status).in_(FUNDED_STATUSES))
        .group_by(Project.region)
    ).all()
    caps = region_caps(session, scheme.id)
    regions = sorted(
        (RegionPlaces(region=region, places=int(places), cap=caps.get(region)) for region, _n, places, _f in rows),
        key=lambda r: (-r.places, r.region),
    )
    return SchemeSummary(
        scheme=scheme,
        funded_projects=sum(int(n) for _r, n, _p, _f in rows),
        places=sum(int(p) for _r, _n, p, _f in rows),
        funding_granted=sum(int(f) for _r, _n, _p, f in rows),
        regions=regions,
    )
