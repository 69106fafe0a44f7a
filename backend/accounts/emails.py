"""The e-mails accounts send. Texts are translated into the recipient's language when queued."""

from sqlmodel import Session

from backend.core.i18n import lazy_gettext
from backend.identity.models import User
from backend.outbox.service import enqueue, link, sign_off

VERIFY_SUBJECT = lazy_gettext("Confirm your e-mail address for internmatch")
VERIFY_BODY = lazy_gettext(
    "Hello %(name)s,\n\nConfirm your e-mail address by opening this link within 3 days:\n%(link)s\n\n"
    "If you did not create an account, ignore this e-mail.\n\n%(sign_off)s")
RESET_SUBJECT = lazy_gettext("Reset your internmatch password")
RESET_BODY = lazy_gettext(
    "Hello %(name)s,\n\nSomeone asked to reset the password of your internmatch account. Open this link "
    "within 1 hour to choose a new password. It works once.\n%(link)s\n\n"
    "If it was not you, ignore this e-mail: your password has not changed.\n\n%(sign_off)s")
INVITE_SUBJECT = lazy_gettext("You are invited to join %(organisation)s on internmatch")
INVITE_BODY = lazy_gettext(
    "Hello,\n\n%(inviter)s invites you to join %(organisation)s on internmatch, where your organisation "
    "posts internship projects. Open this link within 7 days to create your account:\n%(link)s\n\n"
    "%(sign_off)s")


def send_verification(session: Session, user: User, raw: str) -> None:
    language = user.preferred_language
    enqueue(session, to=user.email, subject=VERIFY_SUBJECT, body=VERIFY_BODY, language=language,
            template="verify_email", name=user.display_name, link=link(f"/verify-email/{raw}"),
            sign_off=sign_off(language))


def send_password_reset(session: Session, user: User, raw: str) -> None:
    language = user.preferred_language
    enqueue(session, to=user.email, subject=RESET_SUBJECT, body=RESET_BODY, language=language,
            template="reset_password", name=user.display_name, link=link(f"/reset-password/{raw}"),
            sign_off=sign_off(language))


def send_invitation(session: Session, *, email: str, organisation_name: str, inviter: User, raw: str,
                    language: str) -> None:
    enqueue(session, to=email, subject=INVITE_SUBJECT, body=INVITE_BODY, language=language,
            template="invitation", organisation=organisation_name, inviter=inviter.display_name,
            link=link(f"/invitations/{raw}"), sign_off=sign_off(language))
