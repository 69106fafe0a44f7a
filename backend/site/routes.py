"""Pages that belong to no single domain: the home page, the staff to-do list and the service's legal pages."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.core import todo
from backend.core.db import DbSession
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.schemes import service as schemes

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, require_permission(Permission.STAFF_TODO)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession):
    summaries = [schemes.summarise(session, scheme) for scheme in schemes.current_schemes(session)]
    return render(request, "home.html", {"summaries": summaries})


@router.get("/staff/todo", response_class=HTMLResponse)
def staff_todo(request: Request, session: DbSession, user: StaffUser):
    """What waits for this member of staff, from every domain that registered a provider (backend/core/todo.py)."""
    return render(request, "staff/todo.html", {"user": user, "items": todo.items_for(session, user)})
