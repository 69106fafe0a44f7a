"""NGOs register their organisation, staff verify it, and the NGO admin invites colleagues."""

import re

from sqlmodel import select

from backend.identity.models import Role, User
from backend.organisations.models import Organisation, OrganisationMember
from backend.outbox.models import OutboxEmail
from tests.accounts.helpers import form_token, make_user, sign_in_as
from tests.factories import make_organisation

SIGN_UP = {"name_en": "Harbour Youth Link", "name_zh": "海港青年連線", "registration_number": "91/12345",
           "contact_name": "Wong Ka Yan", "email": "kayan@harbour.example.hk", "contact_phone": "2123 4567",
           "password": "harbour youth secret"}


def test_an_ngo_signs_up_with_its_organisation_which_waits_for_verification(client, session):
    response = client.post("/sign-up/organisation", data={**SIGN_UP, "csrf_token": form_token(client, "/sign-up/organisation")},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/organisation?done=registered"
    organisation = session.exec(select(Organisation).where(Organisation.registration_number == "91/12345")).one()
    assert organisation.name_zh == "海港青年連線" and not organisation.is_verified
    user = session.exec(select(User).where(User.email == "kayan@harbour.example.hk")).one()
    member = session.exec(select(OrganisationMember).where(OrganisationMember.user_id == user.id)).one()
    assert user.role == Role.NGO and member.is_admin and member.organisation_id == organisation.id
    page = client.get("/organisation?lang=en")
    assert "Awaiting verification" in page.text and "Harbour Youth Link" in page.text


def test_ngo_sign_up_errors_keep_what_was_typed(client, session):
    make_organisation(session, registration_number="91/12345")
    page = client.post("/sign-up/organisation?lang=en", data={**SIGN_UP, "name_zh": "", "password": "",
                                                              "csrf_token": form_token(client, "/sign-up/organisation")})
    assert page.status_code == 400
    for field in ("name_zh", "registration_number", "password"):
        assert f'href="#{field}"' in page.text
    assert "already registered" in page.text
    assert 'value="Harbour Youth Link"' in page.text and 'value="kayan@harbour.example.hk"' in page.text


def test_an_officer_verifies_an_organisation_and_it_is_audited(client, session):
    organisation = make_organisation(session, verified=False)
    officer = make_user(session, Role.OFFICER)
    csrf = sign_in_as(client, session, officer)
    listing = client.get("/staff/organisations?lang=en")
    assert organisation.name_en in listing.text and f"/staff/organisations/{organisation.id}/verify" in listing.text
    done = client.post(f"/staff/organisations/{organisation.id}/verify", data={"csrf_token": csrf, "confirmed": "yes"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert organisation.verified_at is not None and organisation.verified_by_id == officer.id
    again = client.post(f"/api/v1/organisations/{organisation.id}/verify", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409


def test_the_verify_api_for_staff(client, session):
    organisation = make_organisation(session, verified=False)
    admin = make_user(session, Role.ADMIN)
    csrf = sign_in_as(client, session, admin)
    waiting = client.get("/api/v1/organisations?awaiting_verification=true").json()
    assert [o["id"] for o in waiting] == [organisation.id]
    verified = client.post(f"/api/v1/organisations/{organisation.id}/verify", headers={"X-CSRF-Token": csrf})
    assert verified.status_code == 200 and verified.json()["verified"] is True


def test_an_ngo_cannot_verify_its_own_organisation(client, session):
    organisation = make_organisation(session, verified=False)
    ngo = make_user(session, Role.NGO, organisation=organisation)
    csrf = sign_in_as(client, session, ngo)
    assert client.post(f"/staff/organisations/{organisation.id}/verify", data={"csrf_token": csrf, "confirmed": "yes"}).status_code == 403
    assert organisation.verified_at is None


def test_an_ngo_admin_invites_a_colleague_who_joins_by_the_link(client, session, app):
    from fastapi.testclient import TestClient

    organisation = make_organisation(session)
    admin = make_user(session, Role.NGO, organisation=organisation, preferred_language="zh-Hant")
    csrf = sign_in_as(client, session, admin)
    sent = client.post("/organisation/invitations", data={"email": "Colleague@Example.hk", "csrf_token": csrf},
                       follow_redirects=False)
    assert sent.status_code == 303
    assert "colleague@example.hk" in client.get("/organisation").text, "shown as a pending invitation"
    email = session.exec(select(OutboxEmail).where(OutboxEmail.to_address == "colleague@example.hk")).one()
    assert email.language == "zh-Hant"
    token = re.search(r"/invitations/([A-Za-z0-9_-]+)", email.body_text).group(1)

    colleague = TestClient(app)
    page = colleague.get(f"/invitations/{token}?lang=en")
    assert page.status_code == 200 and "colleague@example.hk" in page.text
    joined = colleague.post(f"/invitations/{token}", data={"display_name": "Lee Chi Wai", "password": "colleague secret pw",
                                                          "csrf_token": form_token(colleague, f"/invitations/{token}")},
                            follow_redirects=False)
    assert joined.status_code == 303
    user = session.exec(select(User).where(User.email == "colleague@example.hk")).one()
    member = session.exec(select(OrganisationMember).where(OrganisationMember.user_id == user.id)).one()
    assert member.organisation_id == organisation.id and not member.is_admin and user.email_verified_at
    assert colleague.get(f"/invitations/{token}").status_code == 404, "the link works once"
    assert "Invite a colleague" not in colleague.get("/organisation?lang=en").text, "only the admin invites"


def test_a_colleague_who_is_not_the_organisation_admin_cannot_invite(client, session):
    organisation = make_organisation(session)
    make_user(session, Role.NGO, organisation=organisation)
    member = make_user(session, Role.NGO, organisation=organisation, org_admin=False)
    csrf = sign_in_as(client, session, member)
    assert client.post("/organisation/invitations", data={"email": "x@example.hk", "csrf_token": csrf}).status_code == 403


def test_staff_see_every_organisation_but_an_ngo_sees_only_its_own(client, session):
    from backend.identity import permissions as authz
    from backend.organisations import service

    mine, theirs = make_organisation(session), make_organisation(session)
    ngo = make_user(session, Role.NGO, organisation=mine)
    assert service.get_organisation(session, ngo, mine.id, authz.Permission.ORGANISATION_VIEW_OWN) is mine
    import pytest

    from backend.core.errors import NotFound
    with pytest.raises(NotFound):
        service.get_organisation(session, ngo, theirs.id, authz.Permission.ORGANISATION_VIEW_OWN)
    officer = make_user(session, Role.OFFICER)
    assert service.get_organisation(session, officer, theirs.id) is theirs
