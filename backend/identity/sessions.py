"""Sessions and CSRF.

A session is a random token: the browser holds it in a signed, HttpOnly, SameSite=Lax cookie and the
database holds only its SHA-256, so signing out or an idle timeout ends it for real. Every form carries
a CSRF token derived from the session token (or, before sign-in, from a random per-browser seed), so a
page on another site cannot post on the user's behalf.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup
from sqlmodel import Session, col, select, update

from backend.core.db import utcnow
from backend.core.middleware import CookieMiddleware, cookie_header, request_cookies
from backend.core.settings import get_settings
from backend.identity.models import User, UserSession

SESSION_COOKIE = "im_session"
CSRF_COOKIE = "im_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Writing last_seen_at on every request would turn each page view into a write; a minute is precise enough.
TOUCH_INTERVAL = timedelta(seconds=60)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret_token() -> str:
    return secrets.token_urlsafe(32)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="internmatch-session")


def sign_session_token(raw: str) -> str:
    return _serializer().dumps(raw)


def unsign_session_token(value: str | None) -> str | None:
    if not value:
        return None
    try:
        raw = _serializer().loads(value)
    except BadSignature:
        return None
    return raw if isinstance(raw, str) else None


# --- server-side sessions -------------------------------------------------------------------------

def start_session(db: Session, user: User, *, second_factor_pending: bool = False) -> str:
    """A fresh session (never a reused one: rotating at sign-in defeats session fixation)."""
    settings = get_settings()
    raw = new_secret_token()
    now = utcnow()
    db.add(UserSession(token_hash=token_hash(raw), user_id=user.id, created_at=now, last_seen_at=now,
                       expires_at=now + timedelta(hours=settings.session_max_hours),
                       second_factor_pending=second_factor_pending))
    db.flush()
    return raw


def find_session_and_user(db: Session, raw: str | None) -> tuple[UserSession, User] | None:
    """The live session for a token and its user, in one query (it runs on every signed-in request).

    An idle, expired or revoked session counts as none.
    """
    if not raw:
        return None
    row = db.exec(select(UserSession, User).join(User, col(User.id) == col(UserSession.user_id))
                  .where(UserSession.token_hash == token_hash(raw))).first()
    if row is None:
        return None
    record, user = row
    if record.revoked_at is not None:
        return None
    now = utcnow()
    idle_limit = timedelta(minutes=get_settings().session_idle_minutes)
    if now >= record.expires_at or now - record.last_seen_at >= idle_limit:
        return None
    if now - record.last_seen_at >= TOUCH_INTERVAL:
        record.last_seen_at = now
        db.add(record)
    return record, user


def end_session(db: Session, raw: str | None) -> None:
    if raw:
        db.exec(update(UserSession).where(col(UserSession.token_hash) == token_hash(raw))  # type: ignore[call-overload]
                .values(revoked_at=utcnow()))


def end_all_sessions(db: Session, user_id: int) -> None:
    """After a password change or reset nobody holding an old session may stay signed in."""
    db.exec(update(UserSession).where(col(UserSession.user_id) == user_id,  # type: ignore[call-overload]
                                      col(UserSession.revoked_at).is_(None)).values(revoked_at=utcnow()))


def set_session_cookie(response, raw: str) -> None:
    settings = get_settings()
    response.set_cookie(SESSION_COOKIE, sign_session_token(raw), httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path="/", max_age=settings.session_max_hours * 3600)


def clear_session_cookie(response) -> None:
    settings = get_settings()
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=settings.secure_cookies)


# --- CSRF ------------------------------------------------------------------------------------------

def _csrf_seed(request, *, create: bool = False) -> str:
    state = request.scope.setdefault("state", {})
    seed = state.get("session_token") or state.get("csrf_seed") or ""
    if not seed and create:
        # Only a page that shows a form needs a seed, so plain visits set no cookie.
        seed = state["csrf_seed"] = new_secret_token()
        state["csrf_seed_is_new"] = True
    return seed


def _csrf_digest(seed: str) -> str:
    return hmac.new(get_settings().secret_key.encode(), ("csrf:" + seed).encode(), hashlib.sha256).hexdigest()


def csrf_token(request) -> str:
    return _csrf_digest(_csrf_seed(request, create=True))


def csrf_token_is_valid(request, supplied: str | None) -> bool:
    seed = _csrf_seed(request)
    return bool(supplied) and bool(seed) and hmac.compare_digest(_csrf_digest(seed), supplied)


def csrf_field(request) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_token(request))


class SessionCookieMiddleware(CookieMiddleware):
    """Reads the session cookie into the request state, and stores a CSRF seed made while rendering a form."""

    def wrap_send(self, scope, send):
        cookies = request_cookies(scope)
        state = scope.setdefault("state", {})
        state["session_token"] = unsign_session_token(cookies[SESSION_COOKIE].value) \
            if SESSION_COOKIE in cookies else None
        seed = cookies[CSRF_COOKIE].value if CSRF_COOKIE in cookies else ""
        state["csrf_seed"] = seed if 20 <= len(seed) <= 100 else None

        async def send_with_seed(message):
            if state.get("csrf_seed_is_new") and message["type"] == "http.response.start":
                message.setdefault("headers", []).append(cookie_header(
                    CSRF_COOKIE, state["csrf_seed"], http_only=True, secure=self.secure_cookies))
            await send(message)

        return send_with_seed
