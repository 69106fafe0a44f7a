"""The FastAPI app factory: pages, the JSON API under /api/v1, static files, middleware."""

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from backend.core.errors import install_error_handlers
from backend.core.middleware import LanguageMiddleware, SecurityHeadersMiddleware
from backend.core.settings import Settings, get_settings

STATIC_DIR = Path(__file__).resolve().parents[1] / "frontend" / "static"
API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="internmatch",
        version="0.1.0",
        description="Youth internship matching for Hong Kong's Mainland internship funding schemes.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.settings = settings

    from backend.site import api as site_api
    from backend.site import routes as site_routes

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(site_api.router)
    app.include_router(api)
    app.include_router(site_routes.router)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    app.add_middleware(LanguageMiddleware, secure_cookies=settings.secure_cookies)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    return app
