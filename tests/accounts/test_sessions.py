"""Sessions: safe cookies, a new session at every sign-in, expiry when idle, and a real sign-out."""

from datetime import timedelta

from fastapi.responses import Response
from sqlmodel import select

from backend.core.db import utcnow
from backend.core.settings import Settings
from backend.identity import sessions as security
from backend.identity.models import UserSession
from tests.accounts.helpers import PASSWORD, form_token, make_user, sign_in_as


def _session_cookie_header(response) -> str:
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith("im_session="))


def test_the_session_cookie_is_signed_httponly_and_samesite_lax_and_only_a_hash_is_stored(client, session):
    user = make_user(session)
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD,
                                             "csrf_token": form_token(client, "/sign-in")}, follow_redirects=False)
    header = _session_cookie_header(response)
    assert "HttpOnly" in header and "SameSite=lax" in header.replace("Lax", "lax") and "Path=/" in header
    assert "Secure" not in header, "plain HTTP in development and tests"
    raw = security.unsign_session_token(client.cookies["im_session"])
    assert raw, "the cookie carries a signature that verifies"
    stored = session.exec(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert stored.token_hash == security.token_hash(raw) and raw not in stored.token_hash
    assert security.unsign_session_token(client.cookies["im_session"] + "x") is None, "tampering is detected"


def test_the_session_cookie_is_secure_in_production(monkeypatch):
    production = Settings(environment="production", secret_key="a-real-production-secret-value")
    monkeypatch.setattr(security, "get_settings", lambda: production)
    response = Response()
    security.set_session_cookie(response, "raw-token")
    header = response.headers["set-cookie"]
    assert "Secure" in header and "HttpOnly" in header and "samesite=lax" in header.lower()


def test_signing_in_replaces_any_session_the_browser_already_had(client, session):
    user = make_user(session)
    sign_in_as(client, session, user)
    before = client.cookies["im_session"]
    old_raw = security.unsign_session_token(before)
    token = security._csrf_digest(old_raw)
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303
    assert client.cookies["im_session"] != before
    assert security.find_session_and_user(session, old_raw) is None, "the old session token no longer works"


def test_a_session_expires_after_the_idle_limit(client, session):
    user = make_user(session)
    sign_in_as(client, session, user)
    assert client.get("/account", follow_redirects=False).status_code == 200
    record = session.exec(select(UserSession).where(UserSession.user_id == user.id)).one()
    record.last_seen_at = utcnow() - timedelta(minutes=61)
    session.add(record)
    session.flush()
    assert client.get("/account", follow_redirects=False).headers["location"].startswith("/sign-in")


def test_activity_keeps_a_session_alive(client, session):
    user = make_user(session)
    sign_in_as(client, session, user)
    record = session.exec(select(UserSession).where(UserSession.user_id == user.id)).one()
    record.last_seen_at = utcnow() - timedelta(minutes=50)
    session.add(record)
    session.flush()
    assert client.get("/account").status_code == 200
    assert utcnow() - record.last_seen_at < timedelta(minutes=1)


def test_signing_out_ends_the_session_on_the_server_not_only_in_the_browser(client, session):
    user = make_user(session)
    token = sign_in_as(client, session, user)
    stolen_cookie = client.cookies["im_session"]
    response = client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert 'im_session=""' in _session_cookie_header(response) or "Max-Age=0" in _session_cookie_header(response)
    client.cookies.set("im_session", stolen_cookie, domain="testserver.local")
    assert client.get("/account", follow_redirects=False).status_code == 303, "a copied cookie is useless now"


def test_changing_the_password_ends_other_sessions_but_keeps_this_browser_signed_in(client, session, app):
    from fastapi.testclient import TestClient

    user = make_user(session)
    other_device = TestClient(app)
    sign_in_as(other_device, session, user)
    token = sign_in_as(client, session, user)
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                      "new_password": "a brand new passphrase",
                                                      "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/account").status_code == 200
    assert other_device.get("/account", follow_redirects=False).status_code == 303
