"""Accounts: creating users and the rules their passwords follow."""

from sqlmodel import Session, func, select

from backend.accounts.models import STAFF_ROLES, Role, User
from backend.accounts.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, password_problem
from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import DomainError
from backend.core.i18n import gettext as _


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


def create_staff(session: Session, *, email: str, password: str, role: str, display_name: str,
                 actor: User | None) -> User:
    """Officers, approvers and admins are made by an admin (or from the terminal), never by sign-up."""
    role = Role(role)
    if role not in STAFF_ROLES:
        raise AccountError(_("Staff accounts must be officer, approver or admin."), field="role")
    if actor is not None and actor.role != Role.ADMIN:
        raise AccountError(_("Only an admin can create staff accounts."))
    email = normalise_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise AccountError(_("Enter an e-mail address in the correct format, like name@example.com."),
                           field="email")
    if find_by_email(session, email):
        raise AccountError(_("An account with that e-mail address already exists."), field="email")
    problem = password_problem(password)
    if problem:
        raise AccountError(password_error_message(problem), field="password")
    user = User(email=email, password_hash=hash_password(password), role=role, display_name=display_name,
                email_verified_at=utcnow())
    session.add(user)
    session.flush()
    audit.record(session, actor, "account.created", "user", user.id,
                 after={"email": user.email, "role": user.role})
    return user
