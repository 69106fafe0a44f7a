"""E-mail links: confirming an address and resetting a password work once, and not after they expire."""

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from backend.accounts import service
from backend.accounts.models import OneTimeToken, TokenPurpose
from backend.accounts.passwords import verify_password
from backend.audit.models import AuditEvent
from backend.core.db import utcnow
from backend.identity import tokens as api_tokens
from backend.outbox.models import OutboxEmail
from tests.accounts.helpers import PASSWORD, form_token, make_user


def _link_in_last_email(session, to: str, path: str) -> str:
    email = session.exec(select(OutboxEmail).where(OutboxEmail.to_address == to)
                         .order_by(OutboxEmail.id.desc())).first()
    match = re.search(re.escape(path) + r"([A-Za-z0-9_-]+)", email.body_text)
    assert match, email.body_text
    return match.group(1)


def _ask_for_reset(client, email):
    return client.post("/forgot-password", data={"email": email, "csrf_token": form_token(client, "/forgot-password")})


def test_a_password_reset_link_works_once(client, session):
    user = make_user(session, preferred_language="en")
    page = _ask_for_reset(client, user.email)
    assert "Check your e-mail" in page.text
    token = _link_in_last_email(session, user.email, "/reset-password/")

    assert client.get(f"/reset-password/{token}").status_code == 200
    csrf = form_token(client, f"/reset-password/{token}")
    done = client.post(f"/reset-password/{token}", data={"password": "my new harbour view", "csrf_token": csrf},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/sign-in?done=password_reset"
    assert service.find_by_email(session, user.email).password_hash != ""
    from backend.accounts.passwords import verify_password
    assert verify_password("my new harbour view", user.password_hash)[0]

    again = client.post(f"/reset-password/{token}", data={"password": "yet another passphrase",
                                                          "csrf_token": csrf})
    assert again.status_code == 404 and "already been used" in again.text
    assert verify_password("my new harbour view", user.password_hash)[0], "the second use changed nothing"


def test_a_password_reset_link_expires_after_an_hour(client, session):
    user = make_user(session)
    _ask_for_reset(client, user.email)
    token = _link_in_last_email(session, user.email, "/reset-password/")
    record = session.exec(select(OneTimeToken).where(OneTimeToken.user_id == user.id,
                                                     OneTimeToken.purpose == TokenPurpose.RESET_PASSWORD)).one()
    assert timedelta(minutes=59) < record.expires_at - utcnow() <= timedelta(hours=1)
    record.expires_at = utcnow() - timedelta(seconds=1)
    session.add(record)
    session.flush()
    assert client.get(f"/reset-password/{token}").status_code == 404
    response = client.post(f"/reset-password/{token}", data={"password": "my new harbour view",
                                                             "csrf_token": form_token(client, "/forgot-password")})
    assert response.status_code == 404
    from backend.accounts.passwords import verify_password
    assert verify_password(PASSWORD, user.password_hash)[0]


def test_a_weak_new_password_is_refused_without_using_up_the_link(client, session):
    user = make_user(session)
    _ask_for_reset(client, user.email)
    token = _link_in_last_email(session, user.email, "/reset-password/")
    csrf = form_token(client, f"/reset-password/{token}")
    weak = client.post(f"/reset-password/{token}", data={"password": "short", "csrf_token": csrf})
    assert weak.status_code == 400 and "at least 12 characters" in weak.text
    assert client.get(f"/reset-password/{token}").status_code == 200


def test_asking_for_a_reset_does_not_reveal_whether_an_account_exists(client, session):
    user = make_user(session)
    known = _ask_for_reset(client, user.email)
    unknown = _ask_for_reset(client, "nobody-here@example.hk")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace(user.email, "X") == unknown.text.replace("nobody-here@example.hk", "X")
    assert session.exec(select(OutboxEmail).where(OutboxEmail.to_address == "nobody-here@example.hk")).first() is None


def test_a_reset_signs_out_every_session_of_the_account(client, session, app):
    from fastapi.testclient import TestClient

    from tests.accounts.helpers import sign_in_as

    user = make_user(session)
    thief = TestClient(app)
    sign_in_as(thief, session, user)
    _ask_for_reset(client, user.email)
    token = _link_in_last_email(session, user.email, "/reset-password/")
    client.post(f"/reset-password/{token}", data={"password": "my new harbour view",
                                                  "csrf_token": form_token(client, f"/reset-password/{token}")})
    assert thief.get("/account", follow_redirects=False).status_code == 303


def test_confirming_an_e_mail_address_works_once(client, session):
    user = make_user(session)
    service.send_email_verification(session, user)
    token = _link_in_last_email(session, user.email, "/verify-email/")
    assert user.email_verified_at is None
    page = client.get(f"/verify-email/{token}")
    assert page.status_code == 200 and user.email_verified_at is None, "opening the link alone changes nothing"
    confirmed = client.post(f"/verify-email/{token}", data={"csrf_token": form_token(client, f"/verify-email/{token}")})
    assert confirmed.status_code == 200 and user.email_verified_at is not None
    assert client.get(f"/verify-email/{token}").status_code == 404


def test_a_newer_reset_link_voids_the_older_one(client, session):
    user = make_user(session, preferred_language="en")
    _ask_for_reset(client, user.email)
    older = _link_in_last_email(session, user.email, "/reset-password/")
    _ask_for_reset(client, user.email)
    newer = _link_in_last_email(session, user.email, "/reset-password/")
    assert older != newer

    assert client.get(f"/reset-password/{older}").status_code == 404
    refused = client.post(f"/reset-password/{older}", data={"password": "an older harbour view",
                                                            "csrf_token": form_token(client, "/forgot-password")})
    assert refused.status_code == 404 and "already been used" in refused.text
    done = client.post(f"/reset-password/{newer}", data={"password": "the newest harbour view",
                                                         "csrf_token": form_token(client, f"/reset-password/{newer}")},
                       follow_redirects=False)
    assert done.status_code == 303
    assert verify_password("the newest harbour view", user.password_hash)[0]


def test_a_new_confirmation_link_voids_the_older_one_but_not_other_kinds_of_link(client, session):
    user = make_user(session)
    _ask_for_reset(client, user.email)
    reset = _link_in_last_email(session, user.email, "/reset-password/")
    service.send_email_verification(session, user)
    older = _link_in_last_email(session, user.email, "/verify-email/")
    service.send_email_verification(session, user)
    newer = _link_in_last_email(session, user.email, "/verify-email/")

    assert client.get(f"/verify-email/{older}").status_code == 404
    assert client.post(f"/verify-email/{older}", data={"csrf_token": form_token(client, "/forgot-password")}
                       ).status_code == 404
    assert user.email_verified_at is None
    assert client.post(f"/verify-email/{newer}", data={"csrf_token": form_token(client, f"/verify-email/{newer}")}
                       ).status_code == 200
    assert client.get(f"/reset-password/{reset}").status_code == 200, "a reset link is another kind"


def test_a_reset_revokes_every_api_token_and_says_so(client, session, app):
    user = make_user(session, preferred_language="en")
    _token, raw = service.create_api_token(session, user, "nightly export")
    _ask_for_reset(client, user.email)
    token = _link_in_last_email(session, user.email, "/reset-password/")
    assert "revokes all your personal API tokens" in client.get(f"/reset-password/{token}?lang=en").text
    done = client.post(f"/reset-password/{token}", data={"password": "my new harbour view",
                                                         "csrf_token": form_token(client, f"/reset-password/{token}")},
                       follow_redirects=False)
    assert "your API tokens have been revoked" in client.get(done.headers["location"] + "&lang=en").text
    assert TestClient(app).get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert all(t.revoked_at is not None for t in api_tokens.list_api_tokens(session, user))
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "api_token.revoked_all",
                                                  AuditEvent.actor_id == user.id)).one()
    assert event.after == {"count": 1, "reason": "password_reset"}
