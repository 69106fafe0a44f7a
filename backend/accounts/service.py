"""Accounts: creating users, the rules their passwords follow, and the e-mail links that prove who they are."""

import re

from sqlmodel import Session, col, func, select

from backend.accounts import emails
from backend.accounts.models import TokenPurpose
from backend.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    password_problem,
    verify_password,
)
from backend.accounts.tokens import consume_one_time_token, issue_one_time_token
from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import DomainError
from backend.core.forms import FormInvalid, check
from backend.core.i18n import LANGUAGES
from backend.core.i18n import gettext as _
from backend.identity import tokens as api_tokens
from backend.identity.models import ADMIN_MADE_ROLES, ApiToken, Role, User
from backend.identity.permissions import Permission, can
from backend.identity.roles import is_admin_made_role
from backend.identity.sessions import end_all_sessions

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(DomainError):
    code = "account_error"


def password_error_message(code: str) -> str:
    return {
        "too_short": _("Password must be at least %(n)s characters long.", n=MIN_LENGTH),
        "too_long": _("Password must be %(n)s characters or fewer.", n=MAX_LENGTH),
        "too_common": _("That password is too easy to guess. Choose a longer or less common one."),
    }[code]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.email) == normalise_email(email))).first()


def email_problem(session: Session, email: str, *, must_be_new: bool = True) -> str | None:
    email = normalise_email(email)
    if not email:
        return _("Enter your e-mail address.")
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        return _("Enter an e-mail address in the correct format, like name@example.com.")
    if must_be_new and find_by_email(session, email):
        return _("An account with that e-mail address already exists. Sign in or reset your password.")
    return None


def new_account_errors(session: Session, *, email: str, password: str, display_name: str,
                       name_field: str = "display_name") -> dict[str, str]:
    errors: dict[str, str] = {}
    if not display_name.strip():
        errors[name_field] = _("Enter your full name.")
    elif len(display_name) > 200:
        errors[name_field] = _("Name must be 200 characters or fewer.")
    problem = email_problem(session, email)
    if problem:
        errors["email"] = problem
    if not password:
        errors["password"] = _("Enter a password.")
    elif password_problem(password):
        errors["password"] = password_error_message(password_problem(password))
    return errors


def _language(language: str) -> str:
    return language if language in LANGUAGES else "en"


def sign_up_applicant(session: Session, *, display_name: str, email: str, password: str, language: str,
                      client_address: str = "") -> User:
    check(new_account_errors(session, email=email, password=password, display_name=display_name))
    user = User(email=normalise_email(email), password_hash=hash_password(password), role=Role.APPLICANT,
                display_name=display_name.strip(), preferred_language=_language(language))
    session.add(user)
    session.flush()
    # No e-mail address in the log: the log outlives a deleted account.
    audit.record(session, user, "account.signed_up", "user", user.id, after={"role": user.role},
                 client_address=client_address)
    send_email_verification(session, user)
    return user


def create_staff(session: Session, *, email: str, password: str, role: str, display_name: str,
                 actor: User | None) -> User:
    """Officers, approvers, admins and the Guangdong coordinating office (a partner) are made by an admin (or
    from the terminal), never by sign-up."""
    if actor is not None and not can(actor, Permission.STAFF_MANAGE):
        raise AccountError(_("Only an admin can create staff accounts."))
    errors = new_account_errors(session, email=email, password=password, display_name=display_name or email)
    if not is_admin_made_role(role):
        errors["role"] = _("Choose officer, approver, admin or Guangdong coordinating office.")
    if errors:
        if actor is None:
            raise AccountError(next(iter(errors.values())), field=next(iter(errors)))
        raise FormInvalid(errors)
    user = User(email=normalise_email(email), password_hash=hash_password(password), role=Role(role),
                display_name=(display_name or email).strip(), email_verified_at=utcnow())
    session.add(user)
    session.flush()
    audit.record(session, actor, "account.created", "user", user.id,
                 after={"email": user.email, "role": user.role})
    return user


def create_api_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal API token; the raw token is shown once and only its hash is kept."""
    token, raw = api_tokens.create_api_token(session, user, name)
    audit.record(session, user, "api_token.created", "api_token", token.id, after={"name": token.name})
    return token, raw


def revoke_api_token(session: Session, user: User, token_id: int) -> None:
    if api_tokens.revoke_api_token(session, user, token_id):
        audit.record(session, user, "api_token.revoked", "api_token", token_id)


def _revoke_api_tokens_after_password_change(session: Session, user: User, reason: str) -> None:
    """Whoever knew the old password may have made tokens with it; a new password must shut them out too."""
    revoked = api_tokens.revoke_all_api_tokens(session, user.id)
    if revoked:
        audit.record(session, user, "api_token.revoked_all", "user", user.id,
                     after={"count": revoked, "reason": reason})


def list_staff(session: Session) -> list[User]:
    """Staff and partner-office accounts: everyone an admin made."""
    return list(session.exec(select(User).where(col(User.role).in_([r.value for r in ADMIN_MADE_ROLES]))
                             .order_by(User.role, User.email)))


def send_email_verification(session: Session, user: User) -> None:
    raw = issue_one_time_token(session, TokenPurpose.VERIFY_EMAIL, user=user, hours=72)
    emails.send_verification(session, user, raw)


def verify_email(session: Session, raw_token: str) -> User:
    token = consume_one_time_token(session, raw_token, TokenPurpose.VERIFY_EMAIL)
    user = session.get(User, token.user_id)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        session.add(user)
        audit.record(session, user, "account.email_verified", "user", user.id)
    return user


def request_password_reset(session: Session, email: str) -> None:
    """Always looks the same to the person asking, so it cannot reveal which addresses have accounts."""
    user = find_by_email(session, email)
    if user is None or not user.is_active:
        return
    raw = issue_one_time_token(session, TokenPurpose.RESET_PASSWORD, user=user, hours=1)
    emails.send_password_reset(session, user, raw)
    audit.record(session, user, "account.password_reset_requested", "user", user.id)


def reset_password(session: Session, raw_token: str, new_password: str) -> User:
    problem = password_problem(new_password) if new_password else "missing"
    if problem:
        raise FormInvalid({"password": _("Enter a new password.") if problem == "missing"
                           else password_error_message(problem)})
    # Hashed before the link is used up, so the used link's row is not held locked while hashing.
    new_hash = hash_password(new_password)
    token = consume_one_time_token(session, raw_token, TokenPurpose.RESET_PASSWORD)
    user = session.get(User, token.user_id)
    user.password_hash = new_hash
    user.failed_sign_ins = 0
    user.locked_until = None
    # The link went to their mailbox, so the address is proven too.
    user.email_verified_at = user.email_verified_at or utcnow()
    session.add(user)
    end_all_sessions(session, user.id)
    _revoke_api_tokens_after_password_change(session, user, "password_reset")
    audit.record(session, user, "account.password_reset", "user", user.id)
    return user


def change_password(session: Session, user: User, *, current_password: str, new_password: str) -> None:
    errors: dict[str, str] = {}
    ok, _new_hash = verify_password(current_password, user.password_hash)
    if not ok:
        errors["current_password"] = _("Your current password is not right.")
    if not new_password:
        errors["new_password"] = _("Enter a new password.")
    elif password_problem(new_password):
        errors["new_password"] = password_error_message(password_problem(new_password))
    check(errors)
    user.password_hash = hash_password(new_password)
    session.add(user)
    end_all_sessions(session, user.id)
    _revoke_api_tokens_after_password_change(session, user, "password_changed")
    audit.record(session, user, "account.password_changed", "user", user.id)
