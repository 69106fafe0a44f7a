"""Domain errors carry their HTTP status; one handler shows them as a page or as JSON."""

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
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


class ErrorOut(BaseModel):
    """How the API answers every refusal and failure it expects (`DomainError` and HTTP errors alike)."""

    error: str = Field(description="A stable code, e.g. not_found, forbidden, invalid, invalid_transition")
    message: str = Field(description="What went wrong, in the request's language")
    details: dict = Field(default_factory=dict, description="For a form: `fields`, field name → message")


ERROR_DESCRIPTIONS = {
    400: "Bad input: a form field is invalid (details.fields says which and why), or a text holds a NUL "
         "character or an unpaired surrogate",
    401: "Not signed in, or the bearer token is not valid or has been revoked",
    403: "Signed in without the permission this needs, or a cookie request without a valid X-CSRF-Token",
    404: "No such row, or not one the caller may see",
    409: "The row is not in a state that allows this",
    413: "The upload is larger than the limit",
}


def error_responses(*codes: int, **descriptions: str) -> dict[int | str, dict]:
    """OpenAPI `responses=` for the refusals an operation can answer; `descriptions` (`e404="..."`) say more."""
    return {code: {"model": ErrorOut, "description": descriptions.get(f"e{code}", ERROR_DESCRIPTIONS[code])}
            for code in codes}


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

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        # A page's address whose path or query holds a number out of range (or no number) names no page: 404,
        # as for any other address that leads nowhere. The API keeps FastAPI's 422 with the details.
        if not is_api(request) and any(error.get("loc", ("",))[0] in ("path", "query") for error in exc.errors()):
            return _error_page(request, 404, _("If you typed the address, check it is correct."))
        return await request_validation_exception_handler(request, exc)
