"""Secrets handed to people: single-use e-mail links and personal API tokens. Only hashes are stored."""

from datetime import timedelta

from sqlmodel import Session, col, select

from backend.accounts.models import ApiToken, OneTimeToken, TokenPurpose, User
from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import NotFound
from backend.core.i18n import gettext as _
from backend.core.security import new_secret_token, token_hash

API_TOKEN_PREFIX = "imt_"  # noqa: S105 - a visible marker, not a secret


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


def create_api_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    raw = API_TOKEN_PREFIX + new_secret_token()
    token = ApiToken(user_id=user.id, name=name.strip()[:100], token_hash=token_hash(raw), prefix=raw[:12])
    session.add(token)
    session.flush()
    audit.record(session, user, "api_token.created", "api_token", token.id, after={"name": token.name})
    return token, raw


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user.id)
                             .order_by(col(ApiToken.created_at).desc())))


def revoke_api_token(session: Session, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("We could not find that."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        audit.record(session, user, "api_token.revoked", "api_token", token.id)
    return token


def authenticate_api_token(session: Session, raw: str) -> User | None:
    if not raw.startswith(API_TOKEN_PREFIX):
        return None
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(raw))).first()
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at) > timedelta(minutes=1):
        token.last_used_at = now
        session.add(token)
    return session.get(User, token.user_id)
