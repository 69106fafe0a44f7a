"""Domain errors carry their HTTP status; one handler shows them as a page or as JSON."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.core.i18n import gettext as _
from backend.core.templating import render


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str = "", **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class UploadTooLarge(DomainError):
    """An uploaded file over its size limit: 413, whatever the message says."""

    status_code = 413
    code = "upload_too_large"


def is_api(request: Request) -> bool:
    """JSON API requests get JSON errors and bearer tokens; everything else is a page."""
    return request.url.path.startswith("/api/")


def _error_page(request: Request, status_code: int, message: str):
    titles = {
        403: _("You cannot do that"),
        404: _("Page not found"),
        405: _("That action is not allowed here"),
        409: _("That could not be done"),
    }
    title = titles.get(status_code, _("Something went wrong"))
    return render(request, "error.html", {"title": title, "message": message, "status_code": status_code},
                  status_code=status_code)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        if is_api(request):
            return JSONResponse({"error": exc.code, "message": exc.message, "details": exc.details},
                                status_code=exc.status_code)
        return _error_page(request, exc.status_code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if is_api(request) or exc.status_code < 400:
            return JSONResponse({"error": "http_error", "message": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        message = {
            404: _("If you typed the address, check it is correct."),
            405: _("Use the links and buttons on the page."),
        }.get(exc.status_code, "")
        return _error_page(request, exc.status_code, message)
