"""Plain factory functions that build valid domain rows for tests."""

from datetime import date

from sqlmodel import Session

from backend.organisations.models import Organisation
from backend.projects.models import Project, ProjectStatus
from backend.schemes.models import Scheme, SchemeRegionCap

_counter = iter(range(1, 10**9))


def make_scheme(session: Session, *, budget_hkd: int = 91_000_000, caps: dict[str, int] | None = None,
                **overrides) -> Scheme:
    values = dict(
        name_en="Funding Scheme for Youth Internship in the Mainland 2027",
        name_zh="青年內地實習資助計劃 2027",
        budget_hkd=budget_hkd,
        ngo_window_opens=date(2026, 9, 1), ngo_window_closes=date(2026, 10, 31),
        applicant_window_opens=date(2026, 11, 1), applicant_window_closes=date(2027, 3, 31),
        min_age=18, max_age=29, max_subsidy_per_place=40_000,
    )
    values.update(overrides)
    scheme = Scheme(**values)
    session.add(scheme)
    session.flush()
    for region, places in (caps or {}).items():
        session.add(SchemeRegionCap(scheme_id=scheme.id, region=region, max_places=places))
    session.flush()
    return scheme


def make_organisation(session: Session, *, verified: bool = True, **overrides) -> Organisation:
    n = next(_counter)
    values = dict(name_en=f"Youth Action {n}", name_zh=f"青年行動 {n}", registration_number=f"91/{n:05d}",
                  contact_name="Chan Tai Man", contact_email=f"contact{n}@ngo.example.hk")
    values.update(overrides)
    organisation = Organisation(**values)
    if verified:
        from backend.core.db import utcnow

        organisation.verified_at = utcnow()
    session.add(organisation)
    session.flush()
    return organisation


def make_project(session: Session, scheme: Scheme, organisation: Organisation | None = None, *,
                 region: str = "Guangdong", city: str = "Shenzhen", places: int = 10,
                 subsidy: int = 25_000, status: ProjectStatus = ProjectStatus.OPEN, **overrides) -> Project:
    organisation = organisation or make_organisation(session)
    funded = status in (ProjectStatus.APPROVED, ProjectStatus.OPEN, ProjectStatus.CLOSED, ProjectStatus.COMPLETED)
    values = dict(
        scheme_id=scheme.id, organisation_id=organisation.id, status=status,
        title_en="Data analytics intern", title_zh="數據分析實習生",
        description_en="Analyse logistics data for a Shenzhen start-up.",
        description_zh="為深圳初創企業分析物流數據。",
        host_organisation_en="Qianhai Logistics Lab", host_organisation_zh="前海物流實驗室",
        sector="technology", city=city, region=region,
        start_date=date(2027, 7, 5), end_date=date(2027, 8, 13),
        places_requested=places, places_granted=places if funded else None,
        cost_travel=3_000, cost_accommodation=12_000, cost_insurance=1_000, cost_allowance=subsidy - 17_000,
        cost_other=1_000, subsidy_granted_per_place=subsidy if funded else None,
    )
    values.update(overrides)
    project = Project(**values)
    session.add(project)
    session.flush()
    return project
