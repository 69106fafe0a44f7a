"""The second factor as people meet it: enrolment, the code at sign-in, turning it off, an admin's reset.

The mechanics (encryption, codes, counting) are in backend.identity.second_factor; this module adds who may do
what and the audit trail. A wrong code is written (counted and audited) before CodeRefused is raised, so the
page that catches it must let the request commit.
"""

from sqlmodel import Session

from backend.audit import service as audit
from backend.core.errors import Forbidden, NotFound
from backend.core.i18n import gettext as _
from backend.identity import second_factor
from backend.identity import sessions as security
from backend.identity.models import User
from backend.identity.permissions import Permission, require
from backend.identity.second_factor import CodeRefused


def _refuse(session: Session, user: User, outcome: second_factor.Outcome, client_address: str, purpose: str):
    audit.record(session, user, "second_factor.failed", "user", user.id, after={"purpose": purpose},
                 client_address=client_address)
    if outcome.locked_until is not None:
        audit.record(session, user, "second_factor.locked", "user", user.id,
                     after={"until": outcome.locked_until.isoformat()}, client_address=client_address)
    session.flush()
    raise CodeRefused(_("The code is not right. Enter the 6-digit code your authenticator app shows now, "
                        "or one of your recovery codes."))


def confirm_enrolment(session: Session, user: User, code: str, *, client_address: str) -> list[str]:
    """The first code from the app proves it is set up; returns the recovery codes, to be shown once."""
    outcome = second_factor.check(session, user, code, allow_recovery=False, confirming=True)
    if outcome.kind is None:
        _refuse(session, user, outcome, client_address, "enrolment")
    codes = second_factor.confirm_enrolment(session, user)
    audit.record(session, user, "second_factor.enrolled", "user", user.id, client_address=client_address)
    session.flush()
    return codes


def verify_sign_in(session: Session, user: User, code: str, *, client_address: str) -> str:
    """The second step of signing in; returns "code" or "recovery_code"."""
    outcome = second_factor.check(session, user, code)
    if outcome.kind is None:
        _refuse(session, user, outcome, client_address, "sign_in")
    if outcome.kind == "recovery_code":
        audit.record(session, user, "second_factor.recovery_code_used", "user", user.id,
                     after={"left": second_factor.recovery_codes_left(session, user)},
                     client_address=client_address)
    audit.record(session, user, "second_factor.succeeded", "user", user.id, after={"with": outcome.kind},
                 client_address=client_address)
    session.flush()
    return str(outcome.kind)


def turn_off(session: Session, user: User, code: str, *, client_address: str) -> None:
    """Applicants and NGOs who opted in may opt out, with a code; staff may not."""
    if second_factor.required(user):
        raise Forbidden(_("Staff accounts must keep a second factor."))
    outcome = second_factor.check(session, user, code)
    if outcome.kind is None:
        _refuse(session, user, outcome, client_address, "turn_off")
    second_factor.remove(session, user.id)
    audit.record(session, user, "second_factor.turned_off", "user", user.id, client_address=client_address)
    session.flush()


def reset(session: Session, admin: User, user_id: int, *, client_address: str) -> User:
    """An admin removes someone's second factor (a lost phone): they enrol again at their next sign-in.

    Their sessions end too, so whoever holds the lost phone and a session is out.
    """
    require(admin, Permission.STAFF_MANAGE)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("We could not find that."))
    had_one = second_factor.remove(session, user.id)
    security.end_all_sessions(session, user.id)
    audit.record(session, admin, "second_factor.reset", "user", user.id, before={"enrolled": had_one},
                 client_address=client_address)
    session.flush()
    return user
