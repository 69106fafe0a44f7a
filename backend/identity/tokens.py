"""Personal API tokens: `Authorization: Bearer imt_...` on /api. Only their hashes are stored."""

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.core.db import utcnow
from backend.core.errors import NotFound
from backend.core.i18n import gettext as _
from backend.identity.models import ApiToken, User
from backend.identity.sessions import new_secret_token, token_hash

API_TOKEN_PREFIX = "imt_"  # noqa: S105 - a visible marker, not a secret


def create_api_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    raw = API_TOKEN_PREFIX + new_secret_token()
    token = ApiToken(user_id=user.id, name=name.strip()[:100], token_hash=token_hash(raw), prefix=raw[:12])
    session.add(token)
    session.flush()
    return token, raw


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user.id)
                             .order_by(col(ApiToken.created_at).desc())))


def revoke_api_token(session: Session, user: User, token_id: int) -> bool:
    """Revokes one of the user's own tokens; False if it had already been revoked (nothing changed)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("We could not find that."))
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.add(token)
    return True


def revoke_all_api_tokens(session: Session, user_id: int) -> int:
    """Revokes every live token of the user in one UPDATE; how many there were."""
    return session.execute(update(ApiToken)
                           .where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
                           .values(revoked_at=utcnow())
                           .execution_options(synchronize_session="fetch")).rowcount


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
