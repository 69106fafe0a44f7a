"""Pages that belong to no single domain: the home page, the staff to-do list and the service's legal pages."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.core import todo
from backend.core.db import DbSession
from backend.core.settings import get_settings
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.schemes import service as schemes
from backend.site import home as home_figures

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, require_permission(Permission.STAFF_TODO)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession):
    """For young people: how it works, key dates, what an intern receives, then search. (The scheme's figures and
    regional caps are on the staff scheme pages.)"""
    scheme = schemes.scheme_for_applicants(session)
    return render(request, "home.html", {"youth": home_figures.for_youth(session, scheme) if scheme else None})


@router.get("/staff/todo", response_class=HTMLResponse)
def staff_todo(request: Request, session: DbSession, user: StaffUser):
    """What waits for this member of staff, from every domain that registered a provider (backend/core/todo.py)."""
    return render(request, "staff/todo.html", {"user": user, "items": todo.items_for(session, user)})


def _legal_page(request: Request, template: str):
    settings = get_settings()
    return render(request, template, {
        "enquiries_email": settings.enquiries_email, "unplaced_days": settings.unplaced_retention_days,
        "complaint_days": settings.complaint_retention_days,
        "acknowledge_days": settings.complaint_acknowledge_working_days,
        "idle_minutes": settings.session_idle_minutes, "max_hours": settings.session_max_hours})


@router.get("/personal-information-collection-statement", response_class=HTMLResponse)
def collection_statement(request: Request):
    """What personal data is collected, why, who sees it, how long it is kept and how to see or correct it."""
    return _legal_page(request, "site/pics.html")


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request):
    return _legal_page(request, "site/privacy.html")


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility(request: Request):
    return _legal_page(request, "site/accessibility.html")


@router.get("/contact", response_class=HTMLResponse)
def contact(request: Request):
    return _legal_page(request, "site/contact.html")


@router.get("/terms", response_class=HTMLResponse)
def terms(request: Request):
    return _legal_page(request, "site/terms.html")
