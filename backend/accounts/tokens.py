"""Single-use e-mail links (verification, password reset, invitations, claiming an account). Only hashes are stored."""

from datetime import timedelta

from sqlmodel import Session, select

from backend.accounts.models import OneTimeToken, TokenPurpose
from backend.core.db import utcnow
from backend.core.errors import NotFound
from backend.core.i18n import gettext as _
from backend.identity.models import User
from backend.identity.sessions import new_secret_token, token_hash


class LinkInvalid(NotFound):
    code = "link_invalid"


def issue_one_time_token(session: Session, purpose: TokenPurpose, *, user: User | None = None, email: str = "",
                         organisation_id: int | None = None, created_by: User | None = None,
                         hours: int = 24) -> str:
    raw = new_secret_token()
    session.add(OneTimeToken(purpose=purpose, token_hash=token_hash(raw), user_id=user.id if user else None,
                             email=email, organisation_id=organisation_id,
                             created_by_id=created_by.id if created_by else None,
                             expires_at=utcnow() + timedelta(hours=hours)))
    session.flush()
    return raw


def find_one_time_token(session: Session, raw: str, purpose: TokenPurpose) -> OneTimeToken | None:
    """The token if it is still usable: right purpose, not used, not expired."""
    token = session.exec(select(OneTimeToken).where(OneTimeToken.token_hash == token_hash(raw or ""))).first()
    if token is None or token.purpose != purpose or token.used_at is not None or token.expires_at <= utcnow():
        return None
    return token


def consume_one_time_token(session: Session, raw: str, purpose: TokenPurpose) -> OneTimeToken:
    token = find_one_time_token(session, raw, purpose)
    if token is None:
        raise LinkInvalid(_("This link has expired or has already been used. Ask for a new one."))
    token.used_at = utcnow()
    session.add(token)
    session.flush()
    return token
