"""Public pages that belong to no single domain: the home page."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from backend.core.db import get_session
from backend.core.templating import render
from backend.schemes import service as schemes

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: Annotated[Session, Depends(get_session)]):
    summaries = [schemes.summarise(session, scheme) for scheme in schemes.current_schemes(session)]
    return render(request, "home.html", {"summaries": summaries})
