"""The second factor: staff enrol at their first sign-in, then need a code; others may opt in and out."""

import threading
from datetime import timedelta

import pyotp
import pytest
from sqlmodel import Session, select

from backend.audit.models import AuditEvent
from backend.core.db import utcnow
from backend.core.settings import Settings
from backend.identity import second_factor
from backend.identity.deps import SECOND_STEP_WINDOW
from backend.identity.models import RecoveryCode, Role, SecondFactor, User, UserSession
from backend.identity.tokens import create_api_token
from tests.accounts.helpers import (
    PASSWORD,
    csrf_from,
    enrol,
    enrol_through_pages,
    finish_second_step,
    form_token,
    fresh_code,
    make_user,
    sign_in_as,
)
from tests.conftest import IS_POSTGRES, migrated_database


def _password(client, email: str, next_path: str = ""):
    return client.post("/sign-in", data={"email": email, "password": PASSWORD, "next": next_path,
                                         "csrf_token": form_token(client, "/sign-in")}, follow_redirects=False)


def _actions(session, user) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_id == str(user.id))
                                           .order_by(AuditEvent.id))]


def _code(client, code: str, next_path: str = ""):
    token = csrf_from(client.get("/sign-in/code").text)
    return client.post("/sign-in/code", data={"csrf_token": token, "code": code, "next": next_path},
                       follow_redirects=False)


def test_a_new_officer_is_half_signed_in_until_enrolled_and_then_sees_recovery_codes_once(client, session):
    officer = make_user(session, Role.OFFICER)
    response = _password(client, officer.email, "/staff/organisations?page=2")
    assert response.headers["location"] == "/account/two-factor/setup?next=/staff/organisations%3Fpage%3D2"
    stored = session.exec(select(UserSession).where(UserSession.user_id == officer.id)).one()
    assert stored.second_factor_pending

    # Half signed in: every other page sends them to the second step, the API answers 401.
    for path in ("/staff/organisations", "/account", "/"):
        assert client.get(path, follow_redirects=False).headers["location"] == "/sign-in/code"
    assert client.get("/sign-in/code", follow_redirects=False).headers["location"] == "/account/two-factor/setup"
    assert client.get("/api/v1/me").status_code == 401

    page = client.get("/account/two-factor/setup?lang=en").text
    assert "otpauth://totp/internmatch:" in page
    secret, codes, shown = enrol_through_pages(client, officer.email, next_path="/staff/organisations")
    assert len(codes) == 10 and len(set(codes)) == 10 and all(code in shown.text for code in codes)
    assert shown.headers["cache-control"] == "no-store"

    # A whole session now, freshly issued; the key is never shown again.
    assert client.get("/staff/organisations", follow_redirects=False).status_code == 200
    assert client.get("/account/two-factor/setup", follow_redirects=False).headers["location"] == "/account"
    sessions = session.exec(select(UserSession).where(UserSession.user_id == officer.id)).all()
    assert [s.second_factor_pending for s in sessions if s.revoked_at is None] == [False]
    assert "second_factor.enrolled" in _actions(session, officer)
    assert pyotp.TOTP(secret).now()  # the page showed a valid base32 key


def test_an_enrolled_officer_needs_a_right_code_that_works_only_once(client, session):
    officer = make_user(session, Role.OFFICER)
    secret = enrol(session, officer)
    assert _password(client, officer.email).headers["location"] == "/sign-in/code"
    assert _code(client, "000000").status_code == 400 if pyotp.TOTP(secret).now() != "000000" else True
    code = fresh_code(officer.email, secret)
    right = _code(client, code)
    assert right.status_code == 303 and right.headers["location"] == "/staff/todo"
    assert client.get("/staff/organisations", follow_redirects=False).status_code == 200

    # The same code again, on a fresh sign-in, is a replay.
    client.cookies.clear()
    _password(client, officer.email)
    replay = _code(client, code)
    assert replay.status_code == 400
    assert client.get("/account", follow_redirects=False).headers["location"] == "/sign-in/code"
    actions = _actions(session, officer)
    assert actions.count("second_factor.succeeded") == 1 and actions.count("second_factor.failed") >= 1


def test_a_recovery_code_works_once_and_is_stored_only_as_a_hash(client, session):
    officer = make_user(session, Role.APPROVER)
    session.add(officer)
    codes = second_factor.enrol_with_secret(session, officer, pyotp.random_base32())
    hashes = [r.code_hash for r in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == officer.id))]
    assert len(hashes) == 10 and not any(code in h or code.replace("-", "") in h for code in codes for h in hashes)
    _password(client, officer.email)
    assert _code(client, codes[0].upper()).status_code == 303
    assert "second_factor.recovery_code_used" in _actions(session, officer)
    client.cookies.clear()
    _password(client, officer.email)
    assert _code(client, codes[0]).status_code == 400
    assert second_factor.recovery_codes_left(session, officer) == 9


def test_wrong_codes_lock_the_second_step_like_wrong_passwords(client, session):
    officer = make_user(session, Role.ADMIN)
    secret = enrol(session, officer)
    _password(client, officer.email)
    for _attempt in range(second_factor.LOCK_THRESHOLD):
        assert _code(client, "not-a-code").status_code == 400
    factor = session.get(SecondFactor, officer.id)
    session.refresh(factor)
    assert factor.failed_codes == second_factor.LOCK_THRESHOLD and factor.locked_until is not None
    locked = _code(client, fresh_code(officer.email, secret))
    assert locked.status_code == 429
    actions = _actions(session, officer)
    assert actions.count("second_factor.failed") == second_factor.LOCK_THRESHOLD
    assert actions.count("second_factor.locked") == 1


def test_an_applicant_may_opt_in_then_needs_a_code_and_may_turn_it_off_with_one(client, session):
    applicant = make_user(session, Role.APPLICANT)
    assert _password(client, applicant.email).headers["location"] == "/status"  # no second step yet
    assert 'href="/account/two-factor/setup"' in client.get("/account").text
    secret, codes, _shown = enrol_through_pages(client, applicant.email)
    assert len(codes) == 10

    client.cookies.clear()
    assert _password(client, applicant.email).headers["location"] == "/sign-in/code"
    assert finish_second_step(client, applicant.email, secret).headers["location"] == "/status"

    csrf = csrf_from(client.get("/account").text)
    wrong = client.post("/account/two-factor/turn-off", data={"csrf_token": csrf, "code": "abcde-fghij"})
    assert wrong.status_code == 400 and second_factor.is_enrolled(session, applicant)
    off = client.post("/account/two-factor/turn-off", data={"csrf_token": csrf,
                                                            "code": fresh_code(applicant.email, secret)},
                      follow_redirects=False)
    assert off.headers["location"] == "/account?done=two_factor_off"
    assert not second_factor.is_enrolled(session, applicant)
    assert session.exec(select(RecoveryCode).where(RecoveryCode.user_id == applicant.id)).first() is None
    client.cookies.clear()
    assert _password(client, applicant.email).headers["location"] == "/status"
    assert "second_factor.turned_off" in _actions(session, applicant)


def test_staff_cannot_turn_their_second_factor_off(client, session):
    officer = make_user(session, Role.OFFICER)
    secret = enrol(session, officer)
    csrf = sign_in_as(client, session, officer)
    response = client.post("/account/two-factor/turn-off",
                           data={"csrf_token": csrf, "code": fresh_code(officer.email, secret)})
    assert response.status_code == 403 and second_factor.is_enrolled(session, officer)


def test_an_admin_resets_a_lost_phone_and_the_officer_enrols_again(client, session):
    officer = make_user(session, Role.OFFICER)
    enrol(session, officer)
    other_browser_session = sign_in_as(client.__class__(client.app), session, officer)
    assert other_browser_session
    admin = make_user(session, Role.ADMIN)
    csrf = sign_in_as(client, session, admin)
    assert "/two-factor/reset" in client.get("/staff/accounts").text
    response = client.post(f"/staff/accounts/{officer.id}/two-factor/reset", data={"csrf_token": csrf},
                           follow_redirects=False)
    assert response.headers["location"] == "/staff/accounts?done=two_factor_reset"
    assert not second_factor.is_enrolled(session, officer)
    live = session.exec(select(UserSession).where(UserSession.user_id == officer.id,
                                                  UserSession.revoked_at.is_(None))).all()  # type: ignore[union-attr]
    assert live == []
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "second_factor.reset")).one()
    assert event.actor_id == admin.id and event.object_id == str(officer.id) and event.before == {"enrolled": True}
    client.cookies.clear()
    assert _password(client, officer.email).headers["location"] == "/account/two-factor/setup"


def test_only_an_admin_may_reset_someone_elses_second_factor(client, session):
    officer = make_user(session, Role.OFFICER)
    enrol(session, officer)
    csrf = sign_in_as(client, session, make_user(session, Role.APPROVER))
    assert client.post(f"/staff/accounts/{officer.id}/two-factor/reset", data={"csrf_token": csrf}).status_code == 403
    assert second_factor.is_enrolled(session, officer)


def test_the_secret_is_stored_encrypted_and_refused_under_another_key(session, monkeypatch):
    user = make_user(session, Role.OFFICER)
    secret = enrol(session, user)
    stored = session.get(SecondFactor, user.id).secret_encrypted
    assert secret not in stored and second_factor.decrypt_secret(stored) == secret
    assert second_factor.encrypt_secret(secret) != stored, "a fresh nonce each time"
    tampered = stored[:20] + ("A" if stored[20] != "A" else "B") + stored[21:]
    with pytest.raises(ValueError):
        second_factor.decrypt_secret(tampered)
    other_key = Settings(environment="production", secret_key="another-production-secret-value")
    monkeypatch.setattr(second_factor, "get_settings", lambda: other_key)
    with pytest.raises(ValueError):
        second_factor.decrypt_secret(stored)


def test_a_staff_members_existing_api_token_keeps_working(client, session):
    officer = make_user(session, Role.OFFICER)
    _token, raw = create_api_token(session, officer, "reports")
    session.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200


@pytest.mark.skipif(not IS_POSTGRES, reason="a real race needs two connections writing at once: PostgreSQL only "
                                            "(set DATABASE_URL); SQLite serialises writers, so nothing can race")
def test_one_code_sent_twice_at_the_same_moment_lets_only_one_sign_in_through():
    with migrated_database("internmatch_totp_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            officer = make_user(setup, Role.OFFICER)
            secret = enrol(setup, officer)
            recovery = second_factor.enrol_with_secret(setup, officer, secret)
            setup.commit()
        code = fresh_code(f"race-{officer.email}", secret)
        for entered in (code, recovery[0]):
            barrier, outcomes = threading.Barrier(2), []

            def attempt(entered=entered, barrier=barrier, outcomes=outcomes) -> None:
                with Session(engine, expire_on_commit=False) as db:
                    user = db.get(User, officer.id)
                    barrier.wait()
                    outcomes.append(second_factor.check(db, user, entered).kind)
                    db.commit()

            threads = [threading.Thread(target=attempt) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes, key=str) == sorted([None, "code" if entered == code else "recovery_code"],
                                                       key=str)
        with Session(engine) as db:
            assert db.get(SecondFactor, officer.id).failed_codes == 1, "the loser of the last race counts as wrong"


def test_a_half_signed_in_session_lasts_only_a_short_while(client, session):
    officer = make_user(session, Role.OFFICER)
    enrol(session, officer)
    _password(client, officer.email)
    assert client.get("/account", follow_redirects=False).headers["location"] == "/sign-in/code"
    stored = session.exec(select(UserSession).where(UserSession.user_id == officer.id)).one()
    stored.created_at = utcnow() - SECOND_STEP_WINDOW - timedelta(seconds=1)
    session.add(stored)
    session.commit()
    assert client.get("/account", follow_redirects=False).headers["location"] == "/sign-in?next=/account"
    assert client.get("/sign-in/code", follow_redirects=False).headers["location"].startswith("/sign-in?next=")
