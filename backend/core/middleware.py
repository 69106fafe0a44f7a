"""Pure ASGI middleware (no per-request task hop): language negotiation, security headers, body limits."""

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import JSONResponse

from backend.core.i18n import LANGUAGE_COOKIE, LANGUAGES, negotiate_language, set_language
from backend.core.i18n import gettext as _
from backend.core.settings import MULTIPART_OVERHEAD_BYTES as MULTIPART_OVERHEAD
from backend.core.settings import BodyLimit, Settings, get_settings
from backend.core.templating import render

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# /docs runs Swagger UI from /static/swagger, started by a script file rather than inline: it needs nothing the
# pages' policy does not allow, so it gets the same one.
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def cookie_header(name: str, value: str, *, secure: bool, http_only: bool = False,
                  max_age: int | None = None) -> tuple[bytes, bytes]:
    """A Set-Cookie header for a site-wide, SameSite=Lax cookie, for middleware adding one to a response."""
    cookie = f"{name}={value}; Path=/"
    if max_age is not None:
        cookie += f"; Max-Age={max_age}"
    if http_only:
        cookie += "; HttpOnly"
    cookie += "; SameSite=Lax"
    if secure:
        cookie += "; Secure"
    return b"set-cookie", cookie.encode("latin-1")


def request_cookies(scope) -> SimpleCookie:
    """The request's cookies; a malformed Cookie header counts as no cookies rather than an error."""
    cookies = SimpleCookie()
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            try:
                cookies.load(value.decode("latin-1"))
            except Exception:  # noqa: S110
                pass
    return cookies


class HttpMiddleware:
    """Pure ASGI middleware that acts on HTTP requests; lifespan and websocket messages pass straight through.

    A subclass does its per-request work in `wrap_send` and returns the `send` the app should use.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self.wrap_send(scope, send))

    def wrap_send(self, scope, send):
        return send


class CookieMiddleware(HttpMiddleware):
    """Middleware that may set a cookie on the response (Secure in production)."""

    def __init__(self, app, secure_cookies: bool = False):
        super().__init__(app)
        self.secure_cookies = secure_cookies


class LanguageMiddleware(CookieMiddleware):
    """Picks the page language per request and remembers an explicit ?lang= choice in a cookie."""

    def wrap_send(self, scope, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query_lang = (query.get("lang") or [None])[0]
        cookies = request_cookies(scope)
        cookie_lang = cookies[LANGUAGE_COOKIE].value if LANGUAGE_COOKIE in cookies else None
        language = negotiate_language(query_lang, cookie_lang, _header(scope, b"accept-language"))
        set_language(language)
        scope.setdefault("state", {})["language"] = language
        remember = query_lang in LANGUAGES and query_lang != cookie_lang

        async def send_with_cookie(message):
            if remember and message["type"] == "http.response.start":
                message.setdefault("headers", []).append(cookie_header(
                    LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_MAX_AGE, secure=self.secure_cookies))
            await send(message)

        return send_with_cookie


class SecurityHeadersMiddleware(HttpMiddleware):
    def __init__(self, app, hsts: bool = False):
        super().__init__(app)
        self.hsts = hsts

    def wrap_send(self, scope, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                existing = {k.lower() for k, _v in headers}
                extra = [
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                headers.extend((k, v) for k, v in extra if k not in existing)
            await send(message)

        return send_with_headers


class BodyTooLarge(Exception):
    """Raised into the app from `receive` once a request body passes its limit; the middleware answers 413."""


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _refusal(limit: BodyLimit) -> str:
    size = _size(limit.max_bytes)
    if limit.kind == "cv":
        return _("The CV must be %(size)s or smaller.", size=_size(limit.max_bytes - MULTIPART_OVERHEAD))
    if limit.kind == "import":
        return _("The file is larger than %(size)s. Split it into smaller files.",
                 size=_size(limit.max_bytes - MULTIPART_OVERHEAD))
    return _("What you sent is larger than %(size)s, the most this page accepts. Shorten it and try again.",
             size=size)


class BodyLimitMiddleware(HttpMiddleware):
    """Refuses a request body over its route's limit (`Settings.body_limits`) before anything parses it.

    Sign-in, CSRF and the form parser all read the body first, and the parser spools file parts to disk,
    so the limit has to sit in front of them: a declared Content-Length over the limit is answered at once
    without reading a byte, and a body sent without one (chunked) is counted as it arrives and no longer
    read once it passes the limit. Whatever the app then makes of the interrupted body is replaced by 413.
    """

    def __init__(self, app, settings: Settings | None = None):
        super().__init__(app)
        self.settings = settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (self.settings or get_settings()).body_limit(scope.get("path", ""))
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit.max_bytes:
            await self._refuse(scope, send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive():
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message):
            nonlocal started
            if exceeded:
                return  # the app's own answer to a body it could not finish reading
            started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(scope, send, limit)

    @staticmethod
    async def _refuse(scope, send, limit: BodyLimit) -> None:
        message = _refusal(limit)
        request = Request(scope)
        if scope.get("path", "").startswith("/api/"):
            response = JSONResponse({"error": "upload_too_large", "message": message,
                                     "details": {"limit_bytes": limit.max_bytes}}, status_code=413)
        else:
            response = render(request, "error.html", {"title": _("That is too large to send"), "message": message,
                                                      "status_code": 413}, status_code=413)
        # The unread body stays on the connection: closing it keeps the client from sending it in vain.
        response.headers["connection"] = "close"
        await response(scope, _no_body, send)


async def _no_body():
    return {"type": "http.disconnect"}
