"""Public pages that belong to no single domain: the home page."""


from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.core.db import DbSession
from backend.core.templating import render
from backend.schemes import service as schemes

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession):
    summaries = [schemes.summarise(session, scheme) for scheme in schemes.current_schemes(session)]
    return render(request, "home.html", {"summaries": summaries})
