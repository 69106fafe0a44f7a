"""Pages for getting in: sign up, sign in and out, confirming an e-mail address, resetting a password."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from backend.accounts import service, two_factor
from backend.accounts.models import TokenPurpose
from backend.accounts.signin import SignInRefused, TooManyAttempts, sign_in
from backend.accounts.tokens import LinkInvalid, find_one_time_token
from backend.audit import service as audit
from backend.core.db import DbSession
from backend.core.forms import FormInvalid
from backend.core.i18n import get_language
from backend.core.i18n import gettext as _
from backend.core.templating import render
from backend.identity import second_factor
from backend.identity import sessions as security
from backend.identity.deps import (
    SECOND_STEP_CODE_PAGE,
    SECOND_STEP_SETUP_PAGE,
    OptionalUser,
    SecondStepUser,
    client_address,
    second_step_user,
)
from backend.identity.models import User
from backend.identity.permissions import Permission, can
from backend.identity.second_factor import CodeRefused, TooManyCodes

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]


def safe_next(path: str | None) -> str:
    """Only a path on this site, so a crafted sign-in link cannot send people elsewhere."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return ""


def home_for(user: User) -> str:
    """Where signing in lands, where the work is: an applicant on their status (what to do next, key dates), an
    NGO on its projects, staff on their to-do list, the Guangdong office on the participants awaiting it; account
    settings only for anyone else."""
    if can(user, Permission.APPLICANT_VIEW_OWN):
        return "/status"
    if can(user, Permission.PROJECT_EDIT_OWN):
        return "/ngo/projects"
    if can(user, Permission.STAFF_TODO):
        return "/staff/todo"
    if can(user, Permission.ORIGIN_CONFIRM):
        return "/guangdong-office/participants"
    return "/account"


def signed_in_redirect(db, request: Request, user: User, target: str) -> RedirectResponse:
    security.end_session(db, request.scope.get("state", {}).get("session_token"))
    raw = security.start_session(db, user)
    response = RedirectResponse(target, status_code=303)
    security.set_session_cookie(response, raw)
    return response


def second_step_redirect(db, request: Request, user: User, next_path: str) -> RedirectResponse:
    """The password was right; the session stays half signed in until the code (or enrolment, for new staff)."""
    security.end_session(db, request.scope.get("state", {}).get("session_token"))
    raw = security.start_session(db, user, second_factor_pending=True)
    target = SECOND_STEP_CODE_PAGE if second_factor.is_enrolled(db, user) else SECOND_STEP_SETUP_PAGE
    response = RedirectResponse(target + (f"?next={quote(next_path)}" if next_path else ""), status_code=303)
    security.set_session_cookie(response, raw)
    return response


def message_page(request: Request, title: str, *paragraphs: str, link: tuple[str, str] | None = None,
                 status_code: int = 200):
    return render(request, "accounts/message.html", {"title": title, "paragraphs": paragraphs, "link": link},
                  status_code=status_code)


@router.get("/sign-up", response_class=HTMLResponse)
def sign_up_page(request: Request):
    return render(request, "accounts/sign_up.html", {"form": {}, "errors": {}})


@router.post("/sign-up", response_class=HTMLResponse)
def sign_up(request: Request, db: DbSession, display_name: FormStr = "", email: FormStr = "",
            password: FormStr = ""):
    try:
        user = service.sign_up_applicant(db, display_name=display_name, email=email, password=password,
                                         language=get_language(), client_address=client_address(request))
    except FormInvalid as error:
        return render(request, "accounts/sign_up.html",
                      {"form": {"display_name": display_name, "email": email}, "errors": error.errors},
                      status_code=400)
    return signed_in_redirect(db, request, user, "/account?done=signed_up")


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "", done: str = ""):
    notice = {"password_reset": _("Your password has been changed, and your API tokens have been revoked. "
                                  "Sign in with your new password."),
              "signed_out": _("You have signed out.")}.get(done)
    return render(request, "accounts/sign_in.html",
                  {"form": {}, "errors": {}, "next_path": safe_next(next), "notice": notice})


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in_submit(request: Request, db: DbSession, email: FormStr = "", password: FormStr = "",
                   next: FormStr = ""):
    errors = {}
    if not email.strip():
        errors["email"] = _("Enter your e-mail address.")
    if not password:
        errors["password"] = _("Enter your password.")
    status = 400
    if not errors:
        try:
            user = sign_in(db, email=email, password=password, client_address=client_address(request))
        except SignInRefused as error:
            errors["email"] = error.message
        except TooManyAttempts as error:
            errors["email"] = error.message
            status = 429
        else:
            if second_factor.needs_second_step(db, user):
                return second_step_redirect(db, request, user, safe_next(next))
            return signed_in_redirect(db, request, user, safe_next(next) or home_for(user))
    return render(request, "accounts/sign_in.html",
                  {"form": {"email": email}, "errors": errors, "next_path": safe_next(next), "notice": None},
                  status_code=status)


def _code_page(request: Request, next_path: str, errors=None, status_code: int = 200):
    return render(request, "accounts/sign_in_code.html", {"errors": errors or {}, "next_path": next_path},
                  status_code=status_code)


@router.get("/sign-in/code", response_class=HTMLResponse)
def sign_in_code_page(request: Request, db: DbSession, signed_in: OptionalUser, next: str = ""):
    if signed_in is not None:
        return RedirectResponse(safe_next(next) or home_for(signed_in), status_code=303)
    user = second_step_user(request, signed_in)
    if not second_factor.is_enrolled(db, user):
        return RedirectResponse(SECOND_STEP_SETUP_PAGE, status_code=303)
    return _code_page(request, safe_next(next))


@router.post("/sign-in/code", response_class=HTMLResponse)
def sign_in_code(request: Request, db: DbSession, user: SecondStepUser, code: FormStr = "", next: FormStr = ""):
    if not code.strip():
        return _code_page(request, safe_next(next), {"code": _("Enter the code from your authenticator app.")}, 400)
    try:
        two_factor.verify_sign_in(db, user, code, client_address=client_address(request))
    except CodeRefused as error:
        return _code_page(request, safe_next(next), {"code": error.message}, 400)
    except TooManyCodes as error:
        return _code_page(request, safe_next(next), {"code": error.message}, 429)
    return signed_in_redirect(db, request, user, safe_next(next) or home_for(user))


@router.post("/sign-out")
def sign_out(request: Request, db: DbSession, user: OptionalUser):
    security.end_session(db, request.scope.get("state", {}).get("session_token"))
    if user is not None:
        audit.record(db, user, "sign_out", "user", user.id, client_address=client_address(request))
    response = RedirectResponse("/sign-in?done=signed_out", status_code=303)
    security.clear_session_cookie(response)
    return response


@router.get("/verify-email/{token}", response_class=HTMLResponse)
def verify_email_page(request: Request, db: DbSession, token: str):
    if find_one_time_token(db, token, TokenPurpose.VERIFY_EMAIL) is None:
        return _link_invalid(request)
    return render(request, "accounts/verify_email.html", {"token": token})


@router.post("/verify-email/{token}", response_class=HTMLResponse)
def verify_email(request: Request, db: DbSession, token: str):
    try:
        service.verify_email(db, token)
    except LinkInvalid:
        return _link_invalid(request)
    return message_page(request, _("E-mail address confirmed"), _("Thank you. Your e-mail address is confirmed."),
                        link=("/account", _("Go to your account")))


def _link_invalid(request: Request):
    return message_page(request, _("This link cannot be used"),
                        _("This link has expired or has already been used. Ask for a new one."),
                        link=("/forgot-password", _("Reset your password")), status_code=404)


@router.get("/forgot-password", response_class=HTMLResponse)
def forgot_password_page(request: Request):
    return render(request, "accounts/forgot_password.html", {"form": {}, "errors": {}})


@router.post("/forgot-password", response_class=HTMLResponse)
def forgot_password(request: Request, db: DbSession, email: FormStr = ""):
    problem = service.email_problem(db, email, must_be_new=False)
    if problem:
        return render(request, "accounts/forgot_password.html", {"form": {"email": email}, "errors": {"email": problem}},
                      status_code=400)
    service.request_password_reset(db, email)
    return message_page(request, _("Check your e-mail"),
                        _("If %(email)s has an account, we have sent it a link to choose a new password. "
                          "The link works once, for 1 hour.", email=email.strip()))


@router.get("/reset-password/{token}", response_class=HTMLResponse)
def reset_password_page(request: Request, db: DbSession, token: str):
    if find_one_time_token(db, token, TokenPurpose.RESET_PASSWORD) is None:
        return _link_invalid(request)
    return render(request, "accounts/reset_password.html", {"token": token, "errors": {}})


@router.post("/reset-password/{token}", response_class=HTMLResponse)
def reset_password(request: Request, db: DbSession, token: str, password: FormStr = ""):
    try:
        service.reset_password(db, token, password)
    except FormInvalid as error:
        return render(request, "accounts/reset_password.html", {"token": token, "errors": error.errors},
                      status_code=400)
    except LinkInvalid:
        return _link_invalid(request)
    response = RedirectResponse("/sign-in?done=password_reset", status_code=303)
    security.clear_session_cookie(response)
    return response
