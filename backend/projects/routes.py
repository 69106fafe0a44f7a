"""Public project pages: the catalogue of open projects and each project's detail page."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from backend.applicants.demand import demand_of
from backend.applicants.panel import applicant_panel
from backend.core.db import DbSession
from backend.core.forms import day_boxes
from backend.core.params import Id
from backend.core.templating import render
from backend.projects import catalogue
from backend.schemes import lottery, timetable
from matching.geography import CITIES, REGIONS

router = APIRouter(include_in_schema=False)

# Helpers the project templates use to put a project into words in the page language.
_WORDS = dict(
    sector_name=catalogue.sector_name,
    education_requirement=catalogue.education_requirement,
    language_requirements=catalogue.language_requirements,
    duration_weeks=catalogue.duration_weeks,
    places=catalogue.places,
    subsidy_per_place=catalogue.subsidy_per_place,
    is_gba=catalogue.is_gba,
    text_in_language=catalogue.text_in_language,
    other_language_text=catalogue.other_language_text,
)


def _page_links(result: catalogue.CataloguePage) -> list[dict]:
    """Page numbers for the GOV.UK pagination component: first, last, and the current one's neighbours."""
    wanted = {1, result.pages, result.page - 1, result.page, result.page + 1}
    links, previous = [], 0
    for number in sorted(n for n in wanted if 1 <= n <= result.pages):
        if number - previous > 1:
            links.append({"ellipsis": True})
        links.append({"number": number, "current": number == result.page,
                      "href": "/projects?" + urlencode(result.filters.query_params(page=number))})
        previous = number
    return links


@router.get("/projects", response_class=HTMLResponse)
def project_list(request: Request, session: DbSession):
    filters, errors = catalogue.parse_filters(request.query_params)
    result = catalogue.search(session, filters)
    return render(request, "projects/list.html", {
        **_WORDS, "result": result, "filters": result.filters, "typed": dict(request.query_params),
        "errors": day_boxes(errors, "starts_from", "ends_by"), "regions": REGIONS,
        "cities": CITIES, "sectors": catalogue.listed_sectors(session), "page_links": _page_links(result),
        "page_url": lambda number: "/projects?" + urlencode(result.filters.query_params(page=number)),
        "share_url": "/projects?" + urlencode(result.filters.query_params()),
    }, status_code=400 if errors else 200)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
def project_detail(request: Request, project_id: Id, session: DbSession):
    detail = catalogue.get_public_project(session, project_id)
    return render(request, "projects/detail.html", {**_WORDS, "detail": detail, "project": detail.project,
                                                    "timetable": timetable.steps(detail.scheme),
                                                    "lottery": lottery.published(detail.scheme),
                                                    "demand": demand_of(session, detail.project),
                                                    **_applicant_panel(request, session, detail.project)})


def _applicant_panel(request: Request, session: Session, project) -> dict:
    """For a signed-in applicant: their eligibility for the project and whether it is already chosen."""
    return applicant_panel(session, getattr(request.state, "user", None), project)
