"""The public project catalogue as JSON: the same search as the /projects page."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.i18n import localised
from backend.core.params import Id
from backend.projects import catalogue
from backend.projects.models import Project

router = APIRouter(prefix="/projects", tags=["projects"])


class LanguageRequirement(BaseModel):
    language: str = Field(description="putonghua, english or cantonese")
    min_level: int = Field(ge=1, le=5, description="Minimum level, 1 (basic) to 5 (native or near-native)")
    description: str = Field(description="The requirement in words, in the request language")


class ProjectSummary(BaseModel):
    id: int
    title: str = Field(description="Title in the request language, falling back to the other language")
    title_en: str
    title_zh: str
    host_organisation_en: str
    host_organisation_zh: str
    sector: str
    sector_name: str
    city: str = Field(description="English city name, see matching.geography")
    region: str = Field(description="English region (province) name")
    greater_bay_area: bool
    start_date: date
    end_date: date
    duration_weeks: int
    places: int
    languages: list[LanguageRequirement]
    url: str


class ProjectResults(BaseModel):
    total: int = Field(description="Projects matching the filters, on all pages")
    page: int
    pages: int
    page_size: int
    results: list[ProjectSummary]


class SchemeSummary(BaseModel):
    id: int
    name_en: str
    name_zh: str
    applicant_window_opens: date
    applicant_window_closes: date


class ProjectDetail(ProjectSummary):
    status: str
    description_en: str
    description_zh: str
    organisation_en: str = Field(description="The NGO running the project")
    organisation_zh: str
    subsidy_per_place_hkd: int = Field(description="Cost per place covered by the scheme, whole HKD")
    min_education: str
    min_age: int
    max_age: int
    scheme: SchemeSummary


def _summary_fields(project: Project) -> dict:
    return dict(
        id=project.id, title=localised(project, "title"), title_en=project.title_en, title_zh=project.title_zh,
        host_organisation_en=project.host_organisation_en, host_organisation_zh=project.host_organisation_zh,
        sector=project.sector, sector_name=catalogue.sector_name(project.sector), city=project.city,
        region=project.region, greater_bay_area=catalogue.is_gba(project.city), start_date=project.start_date,
        end_date=project.end_date, duration_weeks=catalogue.duration_weeks(project),
        places=catalogue.places(project),
        languages=[LanguageRequirement(language=key, min_level=int(level),
                                       description=catalogue.language_requirements({key: level})[0])
                   for key, level in sorted((project.languages or {}).items()) if int(level) > 0],
        url=f"/projects/{project.id}",
    )


@router.get("", response_model=ProjectResults, summary="Search open projects (public)")
def list_projects(
    session: DbSession,
    q: Annotated[str | None, Query(description="Words to find, in English or Chinese")] = None,
    region: Annotated[str | None, Query(description="English region name, e.g. Guangdong")] = None,
    city: Annotated[str | None, Query(description="English city name, e.g. Shenzhen")] = None,
    gba: Annotated[str | None, Query(description="1 for Greater Bay Area cities only")] = None,
    sector: Annotated[str | None, Query(description="Sector key, e.g. technology")] = None,
    starts_from: Annotated[str | None, Query(description="Starts on or after, YYYY-MM-DD")] = None,
    ends_by: Annotated[str | None, Query(description="Ends on or before, YYYY-MM-DD")] = None,
    max_putonghua: Annotated[str | None, Query(description="No Putonghua requirement above this level (0-5)")]
        = None,
    english: Annotated[str | None, Query(description="required or not_required")] = None,
    sort: Annotated[str | None, Query(description="start (default), places or title")] = None,
    page: Annotated[str | None, Query(description="Page number, from 1")] = None,
) -> ProjectResults:
    filters, errors = catalogue.parse_filters(dict(
        q=q, region=region, city=city, gba=gba, sector=sector, starts_from=starts_from, ends_by=ends_by,
        max_putonghua=max_putonghua, english=english, sort=sort, page=page))
    if errors:
        raise catalogue.InvalidFilters(next(iter(errors.values())), **errors)
    result = catalogue.search(session, filters)
    return ProjectResults(total=result.total, page=result.page, pages=result.pages, page_size=result.page_size,
                          results=[ProjectSummary(**_summary_fields(p)) for p in result.projects])


@router.get("/{project_id}", response_model=ProjectDetail, summary="One published project (public)",
            responses=error_responses(404))
def get_project(project_id: Id, session: DbSession) -> ProjectDetail:
    detail = catalogue.get_public_project(session, project_id)
    project, scheme, organisation = detail.project, detail.scheme, detail.organisation
    return ProjectDetail(
        **_summary_fields(project), status=str(project.status), description_en=project.description_en,
        description_zh=project.description_zh, organisation_en=organisation.name_en,
        organisation_zh=organisation.name_zh, subsidy_per_place_hkd=catalogue.subsidy_per_place(project),
        min_education=project.min_education, min_age=project.min_age, max_age=project.max_age,
        scheme=SchemeSummary(id=scheme.id, name_en=scheme.name_en, name_zh=scheme.name_zh,
                             applicant_window_opens=scheme.applicant_window_opens,
                             applicant_window_closes=scheme.applicant_window_closes),
    )
