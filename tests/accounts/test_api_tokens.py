"""Personal API tokens: made and revoked on the account page, stored hashed, accepted as bearer tokens."""

import re

from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.identity.models import ApiToken
from backend.identity.sessions import token_hash
from tests.accounts.helpers import PASSWORD, make_user, sign_in_as


def _create_on_page(client, csrf, name="reporting script") -> str:
    page = client.post("/account/tokens", data={"token_name": name, "csrf_token": csrf})
    assert page.status_code == 200
    return re.search(r'<code id="new-token">([^<]+)</code>', page.text).group(1)


def test_a_token_made_on_the_account_page_works_as_a_bearer_token_and_is_stored_only_as_a_hash(client, session, app):
    from fastapi.testclient import TestClient

    user = make_user(session)
    csrf = sign_in_as(client, session, user)
    raw = _create_on_page(client, csrf)
    stored = session.exec(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert stored.token_hash == token_hash(raw) and raw not in (stored.token_hash, stored.prefix)

    program = TestClient(app)
    me = program.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.json()["email"] == user.email
    assert "account.export" in me.json()["permissions"]
    assert stored.last_used_at is not None


def test_a_revoked_token_is_refused(client, session, app):
    from fastapi.testclient import TestClient

    user = make_user(session)
    csrf = sign_in_as(client, session, user)
    raw = _create_on_page(client, csrf)
    token_id = session.exec(select(ApiToken.id).where(ApiToken.user_id == user.id)).one()
    assert client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303
    refused = TestClient(app).get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 401 and refused.json()["error"] == "not_signed_in"
    assert "Revoked" in client.get("/account?lang=en").text


def test_bearer_calls_need_no_csrf_header_and_can_revoke_their_own_tokens_only(client, session, app):
    from fastapi.testclient import TestClient

    owner, stranger = make_user(session), make_user(session)
    program = TestClient(app)
    csrf = sign_in_as(client, session, owner)
    raw = _create_on_page(client, csrf)
    auth = {"Authorization": f"Bearer {raw}"}
    created = client.post("/api/v1/me/tokens", json={"name": "second"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201 and created.json()["token"].startswith("imt_")
    listed = program.get("/api/v1/me/tokens", headers=auth).json()
    assert {t["name"] for t in listed} == {"reporting script", "second"}
    assert all("token" not in t for t in listed), "a listed token never shows its secret"

    stranger_csrf = sign_in_as(stranger_client := TestClient(app), session, stranger)
    stranger_token = stranger_client.post("/api/v1/me/tokens", json={"name": "theirs"},
                                          headers={"X-CSRF-Token": stranger_csrf}).json()
    assert program.delete(f"/api/v1/me/tokens/{stranger_token['id']}", headers=auth).status_code == 404
    assert program.delete(f"/api/v1/me/tokens/{created.json()['id']}", headers=auth).status_code == 204
    assert program.get("/api/v1/me", headers={"Authorization": f"Bearer {created.json()['token']}"}).status_code == 401


def test_a_made_up_bearer_token_is_refused(client):
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer imt_made-up"}).status_code == 401


def test_a_bearer_token_cannot_make_more_tokens(client, session, app):
    from fastapi.testclient import TestClient

    user = make_user(session)
    raw = _create_on_page(client, sign_in_as(client, session, user))
    refused = TestClient(app).post("/api/v1/me/tokens", json={"name": "spare key"},
                                   headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "token_cannot_create_tokens"
    assert "signed in to the website" in refused.json()["message"]
    assert len(session.exec(select(ApiToken).where(ApiToken.user_id == user.id)).all()) == 1


def test_changing_the_password_revokes_every_api_token_and_says_so(client, session, app):
    from fastapi.testclient import TestClient

    user = make_user(session, preferred_language="en")
    csrf = sign_in_as(client, session, user)
    raws = [_create_on_page(client, csrf, name) for name in ("first script", "second script")]
    account = client.get("/account?lang=en").text
    assert "revokes all your personal API tokens" in account

    changed = client.post("/account/password", data={"current_password": PASSWORD,
                                                     "new_password": "a brand new harbour view",
                                                     "csrf_token": csrf}, follow_redirects=False)
    assert changed.status_code == 303
    assert "your API tokens have been revoked" in client.get(changed.headers["location"] + "&lang=en").text
    program = TestClient(app)
    for raw in raws:
        assert program.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "api_token.revoked_all",
                                                  AuditEvent.actor_id == user.id)).one()
    assert event.after == {"count": 2, "reason": "password_changed"}
