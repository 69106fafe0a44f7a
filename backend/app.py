"""The FastAPI app factory: pages, the JSON API under /api/v1, static files, middleware."""

from contextlib import asynccontextmanager
from html import escape

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

import backend.models  # noqa: F401  (every table, and each domain's tenancy registrations)
from backend.accounts import account_routes
from backend.accounts import api as accounts_api
from backend.accounts import routes as accounts_routes
from backend.applicants import api as applicants_api
from backend.applicants import guangdong_office_api, guangdong_office_routes
from backend.applicants import import_routes as applicant_import_routes
from backend.applicants import ngo_routes as applicant_ngo_routes
from backend.applicants import profile_routes as applicant_profile_routes
from backend.applicants import routes as applicant_routes
from backend.audit import api as audit_api
from backend.audit import routes as audit_routes
from backend.complaints import api as complaints_api
from backend.complaints import routes as complaints_routes
from backend.core.errors import error_responses, install_error_handlers
from backend.core.forms import refuse_unreadable_text
from backend.core.middleware import BodyLimitMiddleware, LanguageMiddleware, SecurityHeadersMiddleware
from backend.core.settings import Settings, get_settings
from backend.core.templating import STATIC_DIR, StaticAssets
from backend.identity.deps import csrf_protect, install_security
from backend.identity.sessions import SessionCookieMiddleware
from backend.organisations import api as organisations_api
from backend.organisations import routes as organisations_routes
from backend.placements import api as placements_api
from backend.placements import confirmation_routes
from backend.placements import routes as placements_routes
from backend.placements.worker import InProcessWorker, should_run_in_process
from backend.projects import api as projects_api
from backend.projects import (
    completion_api,
    completion_routes,
    ngo_routes,
    portfolio_api,
    portfolio_routes,
    staff_routes,
    workflow_api,
)
from backend.projects import routes as projects_routes
from backend.reports import api as reports_api
from backend.reports import routes as reports_routes
from backend.schemes import api as schemes_api
from backend.schemes import payment_api, payment_routes
from backend.schemes import routes as schemes_routes
from backend.site import api as site_api
from backend.site import routes as site_routes

API_PREFIX = "/api/v1"
OPENAPI_URL = f"{API_PREFIX}/openapi.json"
# Swagger UI from frontend/static/swagger (vendored from npm by `make assets`): /docs works offline, and its
# start-up script is a file too, so the docs page needs no inline script and no other host.
DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} – API</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
<link rel="icon" type="image/png" href="/static/swagger/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/swagger/init.js" data-openapi-url="{openapi_url}"></script>
</body>
</html>
"""


@asynccontextmanager
async def _match_worker_lifespan(app: FastAPI):
    """On SQLite `serve` runs the worker in threads of the web process, so one command does everything."""
    settings = app.state.settings
    # Match rounds, e-mail delivery and offer expiry, as `internmatch worker` runs them. Their commits do not
    # make web requests fail with "database is locked" on SQLite: requests and the worker's writing
    # transactions take the write lock when they begin (backend.core.db.for_writing), so they wait their turn.
    worker = InProcessWorker(settings=settings).start() if should_run_in_process(settings) else None
    try:
        yield
    finally:
        if worker is not None:
            worker.stop()


def api_docs(request: Request) -> HTMLResponse:
    # A module-level function, not a closure over the app: FastAPI caches facts about each endpoint in
    # process-wide caches (4,096 entries), so a closure kept every app a process ever made alive.
    return HTMLResponse(DOCS_PAGE.format(title=escape(request.app.title), openapi_url=escape(OPENAPI_URL)))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="internmatch",
        version="0.1.0",
        description="Youth internship matching for Hong Kong's Mainland internship funding schemes.",
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        lifespan=_match_worker_lifespan,
        # Every route refuses text no database can store, learns who is asking (session or bearer token) and
        # refuses cross-site form posts.
        dependencies=[Depends(refuse_unreadable_text), Depends(csrf_protect)],
    )
    app.state.settings = settings

    # Any API call may carry unreadable text (400) or a bearer token that is not valid (401).
    api = APIRouter(prefix=API_PREFIX, responses=error_responses(400, 401))
    api.include_router(site_api.router)
    api.include_router(projects_api.router)
    api.include_router(accounts_api.router)
    api.include_router(organisations_api.router)
    api.include_router(audit_api.router)
    api.include_router(schemes_api.router)
    api.include_router(workflow_api.router)
    api.include_router(portfolio_api.router)
    api.include_router(applicants_api.router)
    api.include_router(guangdong_office_api.router)
    api.include_router(placements_api.router)
    api.include_router(reports_api.router)
    api.include_router(complaints_api.router)
    api.include_router(payment_api.router)
    api.include_router(completion_api.router)
    app.include_router(api)
    app.include_router(site_routes.router)
    app.include_router(projects_routes.router)
    app.include_router(ngo_routes.router)
    app.include_router(staff_routes.router)
    app.include_router(portfolio_routes.router)
    app.include_router(schemes_routes.router)
    app.include_router(accounts_routes.router)
    app.include_router(account_routes.router)
    app.include_router(organisations_routes.router)
    app.include_router(audit_routes.router)
    app.include_router(applicant_profile_routes.router)
    app.include_router(applicant_routes.router)
    app.include_router(applicant_ngo_routes.router)
    app.include_router(guangdong_office_routes.router)
    app.include_router(applicant_import_routes.router)
    app.include_router(placements_routes.router)
    app.include_router(reports_routes.router)
    app.include_router(complaints_routes.router)
    app.include_router(payment_routes.router)
    app.include_router(completion_routes.router)
    app.include_router(confirmation_routes.router)

    app.add_api_route("/docs", api_docs, include_in_schema=False, response_class=HTMLResponse)
    app.mount("/static", StaticAssets(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    install_security(app)
    app.add_middleware(SessionCookieMiddleware, secure_cookies=settings.secure_cookies)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(LanguageMiddleware, secure_cookies=settings.secure_cookies)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    return app
