"""Only admins create officers, approvers and admins; the account is audited and can sign in."""

from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.identity.models import Role, User
from tests.accounts.helpers import make_user, sign_in_as


def test_an_admin_creates_an_officer_who_can_then_sign_in(client, session, app):
    from fastapi.testclient import TestClient

    from tests.accounts.helpers import enrol_through_pages, form_token

    admin = make_user(session, Role.ADMIN)
    csrf = sign_in_as(client, session, admin)
    response = client.post("/staff/accounts", data={"display_name": "Ho Wing Sze", "email": "wingsze@had.example.hk",
                                                    "role": "officer", "password": "officer first secret",
                                                    "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    officer = session.exec(select(User).where(User.email == "wingsze@had.example.hk")).one()
    assert officer.role == Role.OFFICER and officer.email_verified_at is not None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "account.created")).one()
    assert event.actor_id == admin.id and event.after == {"email": officer.email, "role": "officer"}
    assert "wingsze@had.example.hk" in client.get("/staff/accounts").text

    browser = TestClient(app)
    signed_in = browser.post("/sign-in", data={"email": officer.email, "password": "officer first secret",
                                               "csrf_token": form_token(browser, "/sign-in")}, follow_redirects=False)
    # Staff set up an authenticator app at their first sign-in, then land on their work.
    assert signed_in.headers["location"] == "/account/two-factor/setup"
    _secret, codes, enrolled = enrol_through_pages(browser, officer.email)
    assert len(codes) == 10 and 'href="/staff/todo"' in enrolled.text
    assert browser.get("/staff/organisations", follow_redirects=False).status_code == 200


def test_staff_account_errors_are_shown_per_field_and_no_applicant_can_be_made_here(client, session):
    csrf = sign_in_as(client, session, make_user(session, Role.ADMIN))
    page = client.post("/staff/accounts?lang=en", data={"display_name": "X", "email": "x@had.example.hk",
                                                        "role": "applicant", "password": "short",
                                                        "csrf_token": csrf})
    assert page.status_code == 400
    assert 'href="#role"' in page.text and 'href="#password"' in page.text
    assert 'value="x@had.example.hk"' in page.text
    assert session.exec(select(User).where(User.email == "x@had.example.hk")).first() is None


def test_an_officer_cannot_create_staff(client, session):
    csrf = sign_in_as(client, session, make_user(session, Role.OFFICER))
    response = client.post("/staff/accounts", data={"display_name": "X", "email": "sneaky@had.example.hk",
                                                    "role": "admin", "password": "officer first secret",
                                                    "csrf_token": csrf})
    assert response.status_code == 403
    assert session.exec(select(User).where(User.email == "sneaky@had.example.hk")).first() is None
