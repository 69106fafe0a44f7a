"""An NGO's pages about the applicants who chose its projects: the list (filter, sort), one applicant's
profile and CV, the interview outcome, shortlisting, and the project's ranking (up/down buttons, no JS).

Tenancy lives in `applicants.ngo_view`: everything outside the organisation's own projects is "not found".
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from backend.applicants import ngo_export, ngo_view
from backend.applicants.choices import STATUS_LABELS
from backend.applicants.models import ChoiceStatus
from backend.applicants.profile_routes import cv_response
from backend.core.db import DbSession
from backend.core.errors import DomainError, NotFound
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext, localised
from backend.core.params import Id, PageNumber, id_from_text
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, organisation_id_of
from backend.projects import catalogue
from backend.projects.models import Project
from backend.schemes import timetable
from backend.schemes.models import Scheme

router = APIRouter(include_in_schema=False)
NgoUser = Annotated[User, require_permission(Permission.APPLICANT_VIEW_FOR_OWN_PROJECTS)]
FormStr = Annotated[str, Form()]


def words() -> dict:
    return dict(
        status_label=lambda s: str(STATUS_LABELS.get(ChoiceStatus(s), s)),
        outcome_label=lambda o: str(ngo_view.INTERVIEW_OUTCOMES.get(o, o)) if o else "",
        education_name=catalogue.education_name, language_name=catalogue.language_name,
        outcomes=[(key, str(label)) for key, label in ngo_view.INTERVIEW_OUTCOMES.items()],
        statuses=[(s.value, str(STATUS_LABELS[s])) for s in ChoiceStatus if s != ChoiceStatus.WITHDRAWN],
        educations=[(key, str(name)) for key, name in catalogue.EDUCATION_NAMES.items()],
        language_options=[(key, str(name)) for key, name in catalogue.LANGUAGE_NAMES.items()],
        sorts=[("rank", _("Your ranking")), ("name", _("Name")), ("date", _("Date chosen")), ("project", _("Project")),
               ("choice", _("Their choice")), ("status", _("Status")), ("education", _("Education"))],
    )


def own_projects(db: Session, user: User) -> list[Project]:
    organisation_id = organisation_id_of(user)
    if organisation_id is None:
        return []
    return list(db.exec(select(Project).where(Project.organisation_id == organisation_id)
                        .order_by(col(Project.start_date), col(Project.id))))


def _int(value: str | None) -> int | None:
    return id_from_text(value)


LIST_FILTERS = ("q", "project_id", "status", "shortlisted", "education", "language", "min_level", "sort")
SORT_COLUMNS = {"name": lazy_gettext("Applicant"), "project": lazy_gettext("Project"), "choice": lazy_gettext("Their choice"),
                "rank": lazy_gettext("Your ranking"), "status": lazy_gettext("Status"), "education": lazy_gettext("Education")}


def _list_url(filters: dict, **changes) -> str:
    wanted = {**filters, **changes}
    return "/ngo/applicants?" + urlencode({k: v for k, v in wanted.items() if v and not (k == "page" and v == 1)})


def _page_links(result: ngo_view.ApplicantPage, filters: dict) -> list[dict]:
    """Page numbers for the GOV.UK pagination component: first, last, and the current one's neighbours."""
    wanted = {1, result.pages, result.page - 1, result.page, result.page + 1}
    links, previous = [], 0
    for number in sorted(n for n in wanted if 1 <= n <= result.pages):
        if number - previous > 1:
            links.append({"ellipsis": True})
        links.append({"number": number, "current": number == result.page, "href": _list_url(filters, page=number)})
        previous = number
    return links


@router.get("/ngo/applicants", response_class=HTMLResponse)
def applicant_list(request: Request, db: DbSession, user: NgoUser, project_id: str = "", status: str = "",
                   education: str = "", language: str = "", min_level: str = "", sort: str = "rank", q: str = "",
                   shortlisted: str = "", page: PageNumber = 1, export: str = ""):
    filters = {"q": q.strip(), "project_id": project_id, "status": status, "shortlisted": "1" if shortlisted else "",
               "education": education, "language": language, "min_level": min_level, "sort": sort or "rank"}
    errors: dict[str, str] = {}
    result = ngo_view.ApplicantPage([], 0, 1, 1, ngo_view.PER_PAGE)
    query = dict(project_id=_int(project_id), status=status or None, education=education or None,
                 language=language or None, min_level=_int(min_level), sort=sort or "rank", search=q,
                 shortlisted=bool(shortlisted))
    try:
        if export in ("csv", "xlsx"):
            rows = ngo_view.list_applicants(db, user, **query)
            if export == "csv":
                return Response(ngo_export.applicants_csv(rows, words()), media_type=ngo_export.CSV_MEDIA_TYPE,
                                headers={"Content-Disposition": 'attachment; filename="applicants.csv"'})
            return Response(ngo_export.applicants_xlsx(rows, words()), media_type=ngo_export.XLSX_MEDIA_TYPE,
                            headers={"Content-Disposition": 'attachment; filename="applicants.xlsx"'})
        if export:
            errors["export"] = _("Choose CSV or Excel to download the list.")
        else:
            result = ngo_view.page_of_applicants(db, user, page=page, **query)
    except NotFound as error:
        errors["project_id"] = error.message
    except DomainError as error:
        errors[error.details.get("field") or "sort"] = error.message
    projects = own_projects(db, user)
    return render(request, "ngo_applicants/list.html", {
        **words(), "result": result, "rows": result.rows, "filters": filters, "errors": errors,
        "projects": projects, "project_titles": {p.id: localised(p, "title") for p in projects},
        "page_links": _page_links(result, filters), "sort_columns": SORT_COLUMNS,
        "list_url": lambda **changes: _list_url(filters, **changes)},
        status_code=400 if errors else 200)


@router.get("/ngo/applicants/{applicant_id}", response_class=HTMLResponse)
def applicant_page(request: Request, db: DbSession, user: NgoUser, applicant_id: Id, done: str = ""):
    detail = ngo_view.read_applicant(db, user, applicant_id)
    notice = {"interview": _("The interview outcome has been saved."),
              "shortlisted": _("The applicant has been shortlisted."),
              "ranking": _("The ranking has been saved.")}.get(done)
    return render(request, "ngo_applicants/applicant.html", {
        **words(), "detail": detail, "notice": notice, "errors": {}})


@router.get("/ngo/applicants/{applicant_id}/cv")
def applicant_cv(db: DbSession, user: NgoUser, applicant_id: Id):
    return cv_response(ngo_view.download_cv(db, user, applicant_id))


def _applicant_of(db: Session, user: User, choice_id: int) -> int:
    choice, _project = ngo_view._choice_in_scope(db, user, choice_id)
    return choice.applicant_id


def _applicant_error(request: Request, db: Session, user: User, applicant_id: int, field: str, message: str,
                     status_code: int, typed_notes: dict[int, str] | None = None):
    detail = ngo_view.read_applicant(db, user, applicant_id)
    return render(request, "ngo_applicants/applicant.html", {
        **words(), "detail": detail, "notice": None, "errors": {field: message}, "typed_notes": typed_notes or {}},
        status_code=status_code)


@router.post("/ngo/choices/{choice_id}/interview", response_class=HTMLResponse)
def record_interview(request: Request, db: DbSession, user: NgoUser, choice_id: Id, outcome: FormStr = "",
                     notes: FormStr = ""):
    # The form shows the saved notes in its box, so what it sends is what the user wants kept (or cleared).
    applicant_id = _applicant_of(db, user, choice_id)
    try:
        ngo_view.record_interview(db, user, choice_id, outcome, notes)
    except DomainError as error:
        field = "notes" if error.details.get("field") == "notes" else "outcome"
        return _applicant_error(request, db, user, applicant_id, f"{field}-{choice_id}", error.message,
                                error.status_code, typed_notes={choice_id: notes})
    return RedirectResponse(f"/ngo/applicants/{applicant_id}?done=interview", status_code=303)


@router.post("/ngo/choices/{choice_id}/shortlist", response_class=HTMLResponse)
def shortlist(request: Request, db: DbSession, user: NgoUser, choice_id: Id):
    applicant_id = _applicant_of(db, user, choice_id)
    try:
        ngo_view.shortlist(db, user, choice_id)
    except DomainError as error:
        return _applicant_error(request, db, user, applicant_id, f"outcome-{choice_id}", error.message,
                                error.status_code)
    return RedirectResponse(f"/ngo/applicants/{applicant_id}?done=shortlisted", status_code=303)


def _ranking_page(request: Request, db: Session, user: User, project_id: int, *, errors=None, done="",
                  status_code=200):
    rows = ngo_view.ranking(db, user, project_id)
    project = db.get(Project, project_id)
    return render(request, "ngo_applicants/ranking.html", {
        **words(), "project": project, "ranked": [r for r in rows if r.ngo_rank is not None],
        "unranked": [r for r in rows if r.ngo_rank is None], "errors": errors or {},
        "notice": _("The ranking has been saved.") if done else None,
        "unrankable": ngo_view.UNRANKED_OUTCOMES,
        "ranking_window": timetable.ranking_window(db.get(Scheme, project.scheme_id)) if project else None,
        "ranking_orders": [("choice", _("Their choice of this project")), ("outcome", _("Interview outcome")),
                           ("date", _("Date chosen")), ("name", _("Name"))]}, status_code=status_code)


@router.get("/ngo/rankings/{project_id}", response_class=HTMLResponse)
def ranking_page(request: Request, db: DbSession, user: NgoUser, project_id: Id, done: str = ""):
    return _ranking_page(request, db, user, project_id, done=done)


@router.post("/ngo/choices/{choice_id}/ranking", response_class=HTMLResponse)
def move_in_ranking(request: Request, db: DbSession, user: NgoUser, choice_id: Id, direction: FormStr = "",
                    position: FormStr = ""):
    choice, project = ngo_view._choice_in_scope(db, user, choice_id)
    try:
        wanted = position.strip()
        at = int(wanted) if wanted.isdigit() and len(wanted) < 7 else None
        ngo_view.move_in_ranking(db, user, choice_id, direction, at)
    except NotFound:
        raise
    except DomainError as error:
        field = f"position-{choice_id}" if error.details.get("field") == "position" else "ranking"
        return _ranking_page(request, db, user, project.id, errors={field: error.message},
                             status_code=error.status_code)
    return RedirectResponse(f"/ngo/rankings/{project.id}?done=1#choice-{choice.id}", status_code=303)


@router.post("/ngo/rankings/{project_id}/order", response_class=HTMLResponse)
def order_ranking(request: Request, db: DbSession, user: NgoUser, project_id: Id, by: FormStr = ""):
    try:
        ngo_view.order_ranking_by(db, user, project_id, by)
    except NotFound:
        raise
    except DomainError as error:
        return _ranking_page(request, db, user, project_id, errors={"by": error.message},
                             status_code=error.status_code)
    return RedirectResponse(f"/ngo/rankings/{project_id}?done=1", status_code=303)
