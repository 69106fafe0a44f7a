"""A form posted from another site (no CSRF token) is refused; bearer-token API calls need none."""

from sqlmodel import select

from backend.identity.models import User
from tests.accounts.helpers import PASSWORD, form_token, make_user, sign_in_as


def test_a_sign_up_without_a_csrf_token_is_refused_and_creates_nothing(client, session):
    response = client.post("/sign-up", data={"display_name": "A", "email": "csrf@example.hk",
                                             "password": "a long enough secret"})
    assert response.status_code == 403
    assert session.exec(select(User).where(User.email == "csrf@example.hk")).first() is None


def test_a_csrf_token_from_another_browser_is_refused(client, session, app):
    from fastapi.testclient import TestClient

    other_browser_token = form_token(TestClient(app), "/sign-in")
    user = make_user(session)
    form_token(client, "/sign-in")
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD,
                                             "csrf_token": other_browser_token})
    assert response.status_code == 403


def test_a_signed_in_form_post_without_the_token_is_refused(client, session):
    user = make_user(session)
    token = sign_in_as(client, session, user)
    assert client.post("/account/tokens", data={"token_name": "script"}).status_code == 403
    assert client.post("/account/tokens", data={"token_name": "script", "csrf_token": "0" * 64}).status_code == 403
    assert client.post("/account/tokens", data={"token_name": "script", "csrf_token": token}).status_code == 200


def test_the_api_with_a_session_cookie_needs_the_csrf_header(client, session):
    user = make_user(session)
    token = sign_in_as(client, session, user)
    assert client.post("/api/v1/me/tokens", json={"name": "cli"}).status_code == 403
    created = client.post("/api/v1/me/tokens", json={"name": "cli"}, headers={"X-CSRF-Token": token})
    assert created.status_code == 201


def test_reading_needs_no_token(client, session):
    sign_in_as(client, session, make_user(session))
    assert client.get("/account").status_code == 200


def test_an_api_call_without_any_credentials_is_told_to_authenticate_not_refused_for_csrf(client):
    response = client.post("/api/v1/me/tokens", json={"name": "x"})
    assert response.status_code == 401
