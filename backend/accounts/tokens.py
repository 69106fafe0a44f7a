"""Single-use e-mail links (verification, password reset, invitations, claiming an account). Only hashes are stored.

A link is used up by one conditional UPDATE (`consume_one_time_token`), so of two requests racing with one
link exactly one gets it. Issuing a new link of a kind voids the older unused links of that kind for the
same person, so only the latest one sent works.
"""

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.accounts.models import OneTimeToken, TokenPurpose
from backend.core.db import utcnow
from backend.core.errors import NotFound
from backend.core.i18n import gettext as _
from backend.identity.models import User
from backend.identity.sessions import new_secret_token, token_hash


class LinkInvalid(NotFound):
    code = "link_invalid"


def void_unused_tokens(session: Session, purpose: TokenPurpose, *, user_id: int | None = None, email: str = "",
                       organisation_id: int | None = None) -> None:
    """Makes the unused links of one kind for one person unusable, by ending them now."""
    now = utcnow()
    if user_id is not None:
        whose = [col(OneTimeToken.user_id) == user_id]
    elif email:
        whose = [OneTimeToken.email == email, col(OneTimeToken.user_id).is_(None),
                 col(OneTimeToken.organisation_id).is_(None) if organisation_id is None
                 else col(OneTimeToken.organisation_id) == organisation_id]
    else:
        return
    session.execute(update(OneTimeToken)
                    .where(OneTimeToken.purpose == purpose, col(OneTimeToken.used_at).is_(None),
                           col(OneTimeToken.expires_at) > now, *whose)
                    .values(expires_at=now)
                    .execution_options(synchronize_session=False))


def issue_one_time_token(session: Session, purpose: TokenPurpose, *, user: User | None = None, email: str = "",
                         organisation_id: int | None = None, created_by: User | None = None,
                         hours: int = 24) -> str:
    void_unused_tokens(session, purpose, user_id=user.id if user else None, email=email,
                       organisation_id=organisation_id)
    raw = new_secret_token()
    session.add(OneTimeToken(purpose=purpose, token_hash=token_hash(raw), user_id=user.id if user else None,
                             email=email, organisation_id=organisation_id,
                             created_by_id=created_by.id if created_by else None,
                             expires_at=utcnow() + timedelta(hours=hours)))
    session.flush()
    return raw


def find_one_time_token(session: Session, raw: str, purpose: TokenPurpose) -> OneTimeToken | None:
    """The token if it is still usable: right purpose, not used, not expired. Only a look: consume to use it."""
    token = session.exec(select(OneTimeToken).where(OneTimeToken.token_hash == token_hash(raw or ""))).first()
    if token is None or token.purpose != purpose or token.used_at is not None or token.expires_at <= utcnow():
        return None
    return token


def consume_one_time_token(session: Session, raw: str, purpose: TokenPurpose) -> OneTimeToken:
    """Uses the link up, or raises LinkInvalid: of parallel requests with one link, only one gets past here.

    The check and the marking are one UPDATE; a racing request waits for the winner's row lock (SQLite: its
    write lock), then finds `used_at` set and changes nothing.
    """
    now = utcnow()
    used_id = session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.token_hash == token_hash(raw or ""), OneTimeToken.purpose == purpose,
               col(OneTimeToken.used_at).is_(None), col(OneTimeToken.expires_at) > now)
        .values(used_at=now)
        .returning(OneTimeToken.id)
        .execution_options(synchronize_session="fetch")).scalar_one_or_none()
    if used_id is None:
        raise LinkInvalid(_("This link has expired or has already been used. Ask for a new one."))
    return session.get(OneTimeToken, used_id)
