"""Pages for a signed-in person's own account, and the admin's staff accounts page."""

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.accounts import privacy, service, two_factor
from backend.accounts.routes import home_for, message_page, safe_next
from backend.core.db import DbSession
from backend.core.errors import Forbidden
from backend.core.forms import FormInvalid
from backend.core.i18n import gettext as _
from backend.core.params import Id
from backend.core.templating import render
from backend.identity import second_factor
from backend.identity import sessions as security
from backend.identity import tokens as api_tokens
from backend.identity.deps import CurrentUser, NotSignedIn, OptionalUser, client_address, require_permission
from backend.identity.models import ADMIN_MADE_ROLES, User
from backend.identity.permissions import Permission
from backend.identity.second_factor import CodeRefused, TooManyCodes

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]


def _notices() -> dict[str, str]:
    return {
        "signed_up": _("Your account has been created. We have sent you a link to confirm your e-mail address."),
        "password": _("Your password has been changed, and your API tokens have been revoked."),
        "revoked": _("The token has been revoked."),
        "verification_sent": _("We have sent you a new link to confirm your e-mail address."),
        "two_factor_off": _("Your authenticator app is no longer needed to sign in."),
    }


def _account_page(request: Request, db, user: User, *, errors=None, form=None, new_token=None, done="",
                  status_code=200):
    return render(request, "accounts/account.html", {
        "user": user, "errors": errors or {}, "form": form or {}, "new_token": new_token,
        "tokens": api_tokens.list_api_tokens(db, user), "notice": _notices().get(done),
        "two_factor": {"enrolled": second_factor.is_enrolled(db, user), "required": second_factor.required(user),
                       "recovery_codes_left": second_factor.recovery_codes_left(db, user)},
    }, status_code=status_code)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, db: DbSession, user: CurrentUser, done: str = ""):
    return _account_page(request, db, user, done=done)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(request: Request, db: DbSession, user: CurrentUser, current_password: FormStr = "",
                    new_password: FormStr = ""):
    try:
        service.change_password(db, user, current_password=current_password, new_password=new_password)
    except FormInvalid as error:
        return _account_page(request, db, user, errors=error.errors, status_code=400)
    # Every session was ended with the old password; this browser gets a fresh one.
    raw = security.start_session(db, user)
    response = RedirectResponse("/account?done=password", status_code=303)
    security.set_session_cookie(response, raw)
    return response


@router.post("/account/verification-email")
def resend_verification(db: DbSession, user: CurrentUser):
    if user.email_verified_at is None:
        service.send_email_verification(db, user)
    return RedirectResponse("/account?done=verification_sent", status_code=303)


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(request: Request, db: DbSession, user: Annotated[User, require_permission(Permission.API_TOKENS)],
                 token_name: FormStr = ""):
    if not token_name.strip():
        return _account_page(request, db, user, errors={"token_name": _("Enter a name for the token.")},
                             status_code=400)
    if len(token_name.strip()) > 100:
        return _account_page(request, db, user, form={"token_name": token_name},
                             errors={"token_name": _("Token name must be 100 characters or fewer.")}, status_code=400)
    _token, raw = service.create_api_token(db, user, token_name)
    return _account_page(request, db, user, new_token=raw)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(db: DbSession, user: Annotated[User, require_permission(Permission.API_TOKENS)], token_id: Id):
    service.revoke_api_token(db, user, token_id)
    return RedirectResponse("/account?done=revoked", status_code=303)


def _enrolling_user(request: Request, user: User | None) -> tuple[User, bool]:
    """Someone setting up an app: signed in (opting in), or half signed in (staff at their first sign-in)."""
    if user is not None:
        return user, False
    pending = getattr(request.state, "pending_user", None)
    if pending is None:
        raise NotSignedIn(_("Sign in to continue."))
    return pending, True


def _setup_page(request: Request, db, user: User, next_path: str, errors=None, status_code: int = 200):
    secret = second_factor.start_enrolment(db, user)
    return render(request, "accounts/two_factor_setup.html", {
        "secret": secret, "uri": second_factor.provisioning_uri(secret, user), "errors": errors or {},
        "next_path": next_path, "required": second_factor.required(user)}, status_code=status_code)


@router.get("/account/two-factor/setup", response_class=HTMLResponse)
def two_factor_setup_page(request: Request, db: DbSession, user: OptionalUser, next: str = ""):
    user, pending = _enrolling_user(request, user)
    if second_factor.is_enrolled(db, user):
        return RedirectResponse("/sign-in/code" if pending else "/account", status_code=303)
    return _setup_page(request, db, user, safe_next(next))


@router.post("/account/two-factor/setup", response_class=HTMLResponse)
def two_factor_setup(request: Request, db: DbSession, user: OptionalUser, code: FormStr = "", next: FormStr = ""):
    user, pending = _enrolling_user(request, user)
    if second_factor.is_enrolled(db, user):
        return RedirectResponse("/sign-in/code" if pending else "/account", status_code=303)
    next_path = safe_next(next)
    if not code.strip():
        return _setup_page(request, db, user, next_path, {"code": _("Enter the code from your authenticator app.")},
                           400)
    try:
        codes = two_factor.confirm_enrolment(db, user, code, client_address=client_address(request))
    except CodeRefused as error:
        return _setup_page(request, db, user, next_path, {"code": error.message}, 400)
    except TooManyCodes as error:
        return _setup_page(request, db, user, next_path, {"code": error.message}, 429)
    response = render(request, "accounts/two_factor_recovery_codes.html",
                      {"codes": codes, "continue_to": next_path or home_for(user)})
    response.headers["Cache-Control"] = "no-store"
    # Enrolling proved the second factor: this browser's session is now a whole one, freshly issued.
    security.end_session(db, request.scope.get("state", {}).get("session_token"))
    security.set_session_cookie(response, security.start_session(db, user))
    return response


@router.post("/account/two-factor/turn-off", response_class=HTMLResponse)
def two_factor_turn_off(request: Request, db: DbSession, user: CurrentUser, code: FormStr = ""):
    if second_factor.required(user):
        raise Forbidden(_("Staff accounts must keep a second factor."))
    if not code.strip():
        return _account_page(request, db, user, errors={"code": _("Enter the code from your authenticator app.")},
                             status_code=400)
    try:
        two_factor.turn_off(db, user, code, client_address=client_address(request))
    except CodeRefused as error:
        return _account_page(request, db, user, errors={"code": error.message}, status_code=400)
    except TooManyCodes as error:
        return _account_page(request, db, user, errors={"code": error.message}, status_code=429)
    return RedirectResponse("/account?done=two_factor_off", status_code=303)


@router.get("/account/export")
def export_data(db: DbSession, user: Annotated[User, require_permission(Permission.ACCOUNT_EXPORT)]):
    data = privacy.export_personal_data(db, user)
    return Response(json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="internmatch-my-data.json"',
                             "Cache-Control": "no-store"})


@router.get("/account/delete", response_class=HTMLResponse)
def delete_page(request: Request, user: Annotated[User, require_permission(Permission.ACCOUNT_DELETE)]):
    return render(request, "accounts/delete.html", {"errors": {}})


@router.post("/account/delete", response_class=HTMLResponse)
def delete_account(request: Request, db: DbSession,
                   user: Annotated[User, require_permission(Permission.ACCOUNT_DELETE)],
                   password: FormStr = "", confirm: FormStr = ""):
    try:
        privacy.delete_account(db, user, password=password, confirmed=confirm == "yes",
                               client_address=client_address(request))
    except FormInvalid as error:
        return render(request, "accounts/delete.html", {"errors": error.errors}, status_code=400)
    response = message_page(request, _("Your account has been deleted"),
                            _("Your account and personal data have been deleted. Thank you for using internmatch."),
                            link=("/", _("Go to the home page")))
    security.clear_session_cookie(response)
    return response


def _role_options():
    labels = {"officer": _("Officer"), "approver": _("Approver"), "admin": _("Admin"),
              "guangdong_office": _("Guangdong coordinating office")}
    return [(role.value, labels[role.value]) for role in sorted(ADMIN_MADE_ROLES)]


@router.get("/staff/accounts", response_class=HTMLResponse)
def staff_page(request: Request, db: DbSession, user: Annotated[User, require_permission(Permission.STAFF_MANAGE)],
               done: str = ""):
    return render(request, "accounts/staff.html", {
        "staff": service.list_staff(db), "errors": {}, "form": {"role": "officer"}, "role_options": _role_options(),
        "enrolled": second_factor.enrolled_user_ids(db),
        "notice": {"created": _("The staff account has been created."),
                   "two_factor_reset": _("The second factor has been reset. They will set up an authenticator app "
                                         "when they next sign in.")}.get(done)})


@router.post("/staff/accounts", response_class=HTMLResponse)
def create_staff(request: Request, db: DbSession, user: Annotated[User, require_permission(Permission.STAFF_MANAGE)],
                 display_name: FormStr = "", email: FormStr = "", role: FormStr = "", password: FormStr = ""):
    try:
        service.create_staff(db, email=email, password=password, role=role, display_name=display_name, actor=user)
    except FormInvalid as error:
        return render(request, "accounts/staff.html", {
            "staff": service.list_staff(db), "errors": error.errors, "role_options": _role_options(),
            "enrolled": second_factor.enrolled_user_ids(db),
            "form": {"display_name": display_name, "email": email, "role": role}, "notice": None}, status_code=400)
    return RedirectResponse("/staff/accounts?done=created", status_code=303)


@router.post("/staff/accounts/{user_id}/two-factor/reset")
def reset_two_factor(request: Request, db: DbSession,
                     user: Annotated[User, require_permission(Permission.STAFF_MANAGE)], user_id: int):
    two_factor.reset(db, user, user_id, client_address=client_address(request))
    return RedirectResponse("/staff/accounts?done=two_factor_reset", status_code=303)
