"""Applicants sign up and everyone signs in with e-mail and password; guessing is slowed down."""

from datetime import timedelta

from passlib.context import CryptContext
from sqlmodel import Session, select

from backend.accounts import signin
from backend.accounts.models import SignInThrottle
from backend.accounts.passwords import password_context, verify_password
from backend.audit.models import AuditEvent
from backend.core.db import utcnow
from backend.identity import lockout
from backend.identity.models import Role, User
from backend.outbox.models import OutboxEmail
from tests.accounts.helpers import PASSWORD, form_token, make_user
from tests.conftest import migrated_database


def _sign_in(client, email, password, token=None):
    token = token or form_token(client, "/sign-in")
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token},
                       follow_redirects=False)


def test_an_applicant_signs_up_is_signed_in_and_is_sent_a_confirmation_link_in_their_language(client, session):
    token = form_token(client, "/sign-up?lang=zh-Hant")
    response = client.post("/sign-up", data={"display_name": "陳大文", "email": "Tai.Man@Example.hk",
                                             "password": "a long enough secret", "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/account?done=signed_up"

    user = session.exec(select(User).where(User.email == "tai.man@example.hk")).one()
    assert user.role == Role.APPLICANT and user.preferred_language == "zh-Hant"
    assert user.password_hash.startswith("$argon2") and "a long enough secret" not in user.password_hash
    email = session.exec(select(OutboxEmail).where(OutboxEmail.to_address == "tai.man@example.hk")).one()
    assert email.language == "zh-Hant" and "確認" in email.subject
    assert "/verify-email/" in email.body_text
    assert client.get("/account").status_code == 200, "signed in straight away"


def test_a_sign_up_with_problems_shows_each_one_and_keeps_what_was_typed_except_the_password(client, session):
    make_user(session, email="taken@example.hk")
    token = form_token(client, "/sign-up")
    page = client.post("/sign-up?lang=en", data={"display_name": "Chan Tai Man", "email": "taken@example.hk",
                                                 "password": "short", "csrf_token": token})
    assert page.status_code == 400
    assert 'class="govuk-error-summary"' in page.text
    assert 'href="#email"' in page.text and 'href="#password"' in page.text
    assert "An account with that e-mail address already exists" in page.text
    assert "Password must be at least 12 characters long." in page.text
    assert 'value="Chan Tai Man"' in page.text and 'value="taken@example.hk"' in page.text
    assert "short" not in page.text.split('id="password"')[1][:200]


def test_validation_messages_are_in_the_users_language(client):
    token = form_token(client, "/sign-up?lang=zh-Hant")
    page = client.post("/sign-up", data={"display_name": "", "email": "not-an-address", "password": "",
                                         "csrf_token": token})
    assert "請輸入你的全名" in page.text
    assert "請以正確格式輸入電郵地址" in page.text


def test_common_passwords_are_refused_and_long_ones_accepted(client, session):
    token = form_token(client, "/sign-up")
    page = client.post("/sign-up", data={"display_name": "A", "email": "a@example.hk", "password": "password1234",
                                         "csrf_token": token})
    assert "too easy to guess" in page.text
    ok = client.post("/sign-up", data={"display_name": "A", "email": "a@example.hk", "password": ("harbour ferry " * 10)[:128],
                                       "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303


def test_signing_in_with_the_right_password_opens_a_session_and_is_audited(client, session):
    user = make_user(session, Role.APPLICANT)
    response = _sign_in(client, user.email.upper(), PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/status"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "sign_in",
                                                 AuditEvent.actor_id == user.id)).one()
    assert user.last_sign_in_at is not None


def test_a_wrong_password_is_refused_with_one_message_for_unknown_and_known_accounts(client, session):
    user = make_user(session)
    wrong = _sign_in(client, user.email, "not the password at all")
    unknown = _sign_in(client, "nobody@example.hk", "not the password at all")
    for page in (wrong, unknown):
        assert page.status_code == 400
        assert "The e-mail address or password is not right." in page.text
    assert user.failed_sign_ins == 1


def test_an_account_waits_longer_after_each_failure_beyond_five_even_with_the_right_password(client, session):
    user = make_user(session)
    token = form_token(client, "/sign-in")
    for _attempt in range(signin.ACCOUNT_THRESHOLD):
        assert _sign_in(client, user.email, "wrong password guess", token).status_code == 400
    assert user.locked_until is not None
    first_wait = user.locked_until - utcnow()
    assert timedelta(seconds=50) < first_wait <= timedelta(minutes=1)

    locked = _sign_in(client, user.email, PASSWORD, token)
    assert locked.status_code == 429 and "Too many sign-in attempts" in locked.text

    user.locked_until = utcnow() - timedelta(seconds=1)  # the minute has passed
    session.add(user)
    session.flush()
    assert _sign_in(client, user.email, "another wrong guess", token).status_code == 400
    assert user.locked_until - utcnow() > timedelta(minutes=1, seconds=50), "the wait doubled"
    assert lockout.delay_after(30, signin.ACCOUNT_THRESHOLD) == lockout.LONGEST_DELAY


def test_one_client_address_trying_many_accounts_is_slowed_down(client, session):
    token = form_token(client, "/sign-in")
    for n in range(signin.ADDRESS_THRESHOLD):
        assert _sign_in(client, f"guess{n}@example.hk", "wrong password guess", token).status_code == 400
    throttle = session.get(SignInThrottle, "address:testclient")
    assert throttle.failures == signin.ADDRESS_THRESHOLD and throttle.blocked_until > utcnow()

    innocent = make_user(session)
    assert _sign_in(client, innocent.email, PASSWORD, token).status_code == 429
    assert innocent.failed_sign_ins == 0, "the account itself is not punished for the address"


def test_a_successful_sign_in_clears_the_accounts_failures(client, session):
    user = make_user(session)
    token = form_token(client, "/sign-in")
    for _attempt in range(3):
        _sign_in(client, user.email, "wrong password guess", token)
    assert _sign_in(client, user.email, PASSWORD, token).status_code == 303
    assert user.failed_sign_ins == 0 and user.locked_until is None


def test_a_password_hashed_with_outdated_parameters_is_rehashed_at_sign_in(client, session):
    weaker = CryptContext(schemes=["argon2"], argon2__time_cost=1, argon2__memory_cost=8192)
    user = make_user(session, password_hash=weaker.hash(PASSWORD))
    old_hash = user.password_hash
    assert password_context.needs_update(old_hash)

    assert _sign_in(client, user.email, PASSWORD).status_code == 303
    assert user.password_hash != old_hash
    assert not password_context.needs_update(user.password_hash)
    assert password_context.verify(PASSWORD, user.password_hash)


def test_a_deactivated_account_cannot_sign_in(client, session):
    user = make_user(session, is_active=False)
    assert _sign_in(client, user.email, PASSWORD).status_code == 400


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(client, session):
    user = make_user(session)
    token = form_token(client, "/sign-in")
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/sign-in", data={**data, "next": "/account/delete"},
                       follow_redirects=False).headers["location"] == "/account/delete"
    client.cookies.delete("im_session")
    assert client.post("/sign-in", data={**data, "next": "//evil.example"},
                       follow_redirects=False).headers["location"] == "/status"


def test_a_page_that_needs_signing_in_sends_people_to_sign_in_and_the_api_answers_401(client):
    page = client.get("/account", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/sign-in?next=/account"
    api = client.get("/api/v1/me")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"


def test_the_password_is_checked_without_holding_a_database_connection(monkeypatch):
    """Hashing is slow on purpose: a burst of sign-ins each holding a connection through it drained the pool."""
    with migrated_database("internmatch_sign_in_pool") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            user = make_user(setup)
            setup.commit()
        held_while_hashing = []

        def watched_verify(password, stored_hash):
            held_while_hashing.append(engine.pool.checkedout())
            return verify_password(password, stored_hash)

        monkeypatch.setattr(signin, "verify_password", watched_verify)
        for password in ("a wrong guess at it", PASSWORD):
            with Session(engine, expire_on_commit=False) as db:
                try:
                    signin.sign_in(db, email=user.email, password=password, client_address="192.0.2.9")
                except signin.SignInRefused:
                    pass
                db.commit()
        assert held_while_hashing == [0, 0]
        with Session(engine) as check:
            assert check.get(User, user.id).failed_sign_ins == 0, "the right password cleared the count"
