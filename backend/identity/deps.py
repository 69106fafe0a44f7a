"""Request dependencies: who is asking (session cookie or bearer token), CSRF, and permission checks.

`authenticate` and `csrf_protect` run for every route (they are app-level dependencies), so a route
added by any domain gets the signed-in user in `request.state.user` and CSRF protection for free.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from jinja2 import pass_context
from markupsafe import Markup

from backend.core.db import DbSession, utcnow
from backend.core.errors import DomainError, Forbidden, is_api
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.core.templating import env
from backend.identity import sessions as security
from backend.identity.models import User
from backend.identity.permissions import Permission, can
from backend.identity.tokens import authenticate_api_token


class NotSignedIn(DomainError):
    status_code = 401
    code = "not_signed_in"


class CsrfRefused(Forbidden):
    code = "csrf_refused"


class SecondStepPending(DomainError):
    """A half-signed-in session (password right, code not yet) asked for a page other than the second step."""

    status_code = 401
    code = "second_factor_pending"


SECOND_STEP_WINDOW = timedelta(minutes=15)
SECOND_STEP_CODE_PAGE = "/sign-in/code"
SECOND_STEP_SETUP_PAGE = "/account/two-factor/setup"
# All a half-signed-in session may reach: the second step itself, starting again, and leaving.
SECOND_STEP_PATHS = frozenset({SECOND_STEP_CODE_PAGE, SECOND_STEP_SETUP_PAGE, "/sign-in", "/sign-out"})


def client_address(request: Request) -> str:
    return (request.client.host if request.client else "")[:64]


def authenticate(request: Request, db: DbSession) -> User | None:
    user: User | None = None
    via = None
    found = None
    authorization = request.headers.get("authorization", "")
    if is_api(request) and authorization.lower().startswith("bearer "):
        user = authenticate_api_token(db, authorization[7:].strip())
        if user is None:
            raise NotSignedIn(_("That API token is not valid or has been revoked."))
        via = "token"
    else:
        found = security.find_session_and_user(db, request.scope.get("state", {}).get("session_token"))
        if found is not None:
            user, via = found[1], "session"
    if user is not None and not user.is_active:
        user, via = None, None
    pending = None
    if via == "session" and found is not None and found[0].second_factor_pending:
        # A password alone opens only a short window for the code; after it, start again from the password.
        fresh = utcnow() - found[0].created_at < SECOND_STEP_WINDOW
        pending, user, via = (user if fresh else None), None, ("second_step" if fresh else None)
    request.state.user = user
    request.state.auth_via = via
    request.state.pending_user = pending
    if pending is not None and request.url.path not in SECOND_STEP_PATHS:
        if is_api(request):
            raise NotSignedIn(_("Sign in to continue."))
        raise SecondStepPending(_("Enter the code from your authenticator app to finish signing in."))
    return user


def _token_in_form(request: Request) -> bool:
    """A page's form post, whose CSRF token comes as a form field rather than a header."""
    return (request.method in security.UNSAFE_METHODS and not is_api(request)
            and not request.headers.get(security.CSRF_HEADER)
            and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")))


async def _form_before_transaction(request: Request) -> None:
    """Receive such a form before `authenticate` opens the request's transaction.

    On SQLite that transaction holds the write lock from its first query (backend.core.db.get_session):
    receiving the body after it would keep every other writer waiting on a slow upload. Starlette keeps
    the parsed form, so `csrf_protect` and the handler read it again for free.
    """
    if _token_in_form(request):
        await request.form()


async def csrf_protect(request: Request, _form: Annotated[None, Depends(_form_before_transaction)],
                       _user: Annotated[User | None, Depends(authenticate)]) -> None:
    """Every state-changing request made with a cookie must prove it came from one of our pages.

    Its dependencies are solved in order, so the form is received before `authenticate` touches the database.
    """
    if request.method not in security.UNSAFE_METHODS or request.state.auth_via == "token":
        return
    if is_api(request) and request.state.user is None:
        return  # no credentials, nothing to forge: the route answers 401 itself
    supplied = request.headers.get(security.CSRF_HEADER)
    if _token_in_form(request):
        value = (await request.form()).get(security.CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not security.csrf_token_is_valid(request, supplied):
        raise CsrfRefused(_("This form has expired or did not come from this site. Go back, reload the page "
                            "and try again."))


def second_step_user(request: Request, _user: Annotated[User | None, Depends(authenticate)]) -> User:
    """Whoever is between the password and the code."""
    pending = getattr(request.state, "pending_user", None)
    if pending is None:
        raise NotSignedIn(_("Sign in to continue."))
    return pending


SecondStepUser = Annotated[User, Depends(second_step_user)]


def optional_user(request: Request, user: Annotated[User | None, Depends(authenticate)]) -> User | None:
    return user


def current_user(user: Annotated[User | None, Depends(authenticate)]) -> User:
    if user is None:
        raise NotSignedIn(_("Sign in to continue."))
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def require_permission(permission: Permission, *alternatives: Permission):
    """The signed-in user, who holds `permission` (or one of the `alternatives`); else a 403 before anything
    of the request is read."""
    def dependency(user: CurrentUser) -> User:
        if not any(can(user, p) for p in (permission, *alternatives)):
            raise Forbidden(_("You do not have permission to do that."))
        return user

    dependency.__name__ = f"require_{permission.value.replace('.', '_')}"
    return Depends(dependency)


# Babel skips template folders whose names start with "_", so the texts of frontend/templates/_macros are
# marked here to reach the catalogue.
MACRO_TEXTS = (lazy_gettext("There is a problem"), lazy_gettext("Error:"), lazy_gettext("Success"))


def role_name(role: str) -> str:
    return {"applicant": _("Applicant"), "ngo": _("Non-governmental organisation"),
            "host": _("Guangdong host organisation"), "officer": _("Officer"),
            "approver": _("Approver"), "admin": _("Admin"),
            "guangdong_office": _("Guangdong coordinating office")}.get(str(role), str(role))


@pass_context
def _csrf_field(context) -> Markup:
    return security.csrf_field(context["request"])


@pass_context
def _current_user(context) -> User | None:
    request = context.get("request")
    return getattr(request.state, "user", None) if request is not None else None


def install_security(app: FastAPI) -> None:
    """Sign-in redirects, and the template helpers every page may use: csrf_field(), can(), current_user()."""
    env.globals.update(csrf_field=_csrf_field, can=can, current_user=_current_user, role_name=role_name)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn):
        if is_api(request):
            return JSONResponse({"error": exc.code, "message": exc.message}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        target = "/sign-in"
        if request.method == "GET":
            target += "?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(SecondStepPending)
    async def second_step_pending(request: Request, exc: SecondStepPending):
        return RedirectResponse(SECOND_STEP_CODE_PAGE, status_code=303)
