"""Guangdong host organisations: they register as hosts, the Guangdong coordinating office (not Home Affairs
staff) verifies them, and until then they cannot post; once verified they offer places in the programmes that take
places from Guangdong hosts, and in no funding scheme."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.core.errors import Conflict
from backend.identity.models import Role, User
from backend.organisations.models import Organisation, OrganisationKind, OrganisationMember
from backend.projects import lifecycle
from tests.accounts.helpers import form_token, make_user
from tests.factories import make_organisation
from tests.workflow.helpers import open_scheme, signed_in

HOST_SIGN_UP = {"kind": "guangdong_host", "name_en": "Guangzhou Metro Group", "name_zh": "广州地铁集团",
                "registration_number": "91440101MA5D12345", "contact_name": "Chen Jing",
                "email": "chen.jing@gzmetro.example.cn", "contact_phone": "+86 20 1234 5678",
                "password": "guangzhou metro secret"}


def _host(session, *, verified: bool = True) -> Organisation:
    return make_organisation(session, verified=verified, kind=OrganisationKind.GUANGDONG_HOST,
                             name_en="Shenzhen Science and Technology Museum", name_zh="深圳科技馆")


@pytest.fixture
def summer(session):
    return open_scheme(session, name_en="Guangdong–Hong Kong Summer Internship Programme", name_zh="粵港暑期實習計劃",
                       kind="summer_programme")


def test_a_guangdong_host_registers_as_a_host_and_is_told_the_guangdong_office_will_verify_it(client, session):
    response = client.post("/sign-up/organisation", data={
        **HOST_SIGN_UP, "csrf_token": form_token(client, "/sign-up/organisation")}, follow_redirects=False)
    assert response.status_code == 303
    organisation = session.exec(select(Organisation).where(Organisation.name_en == "Guangzhou Metro Group")).one()
    user = session.exec(select(User).where(User.email == "chen.jing@gzmetro.example.cn")).one()
    assert organisation.kind == OrganisationKind.GUANGDONG_HOST and not organisation.is_verified
    assert user.role == Role.HOST
    assert session.exec(select(OrganisationMember).where(OrganisationMember.user_id == user.id)).one().is_admin
    page = client.get("/organisation?done=registered&lang=zh-Hans").text
    assert "广东统筹办公室会核实你的机构" in page
    assert "The Guangdong coordinating office will verify it." in client.get("/organisation?done=registered&lang=en").text
    projects = client.get("/ngo/projects?lang=en").text
    assert "The Guangdong coordinating office has not verified your organisation yet" in projects


@pytest.mark.parametrize("language", ["en", "zh-Hant", "zh-Hans"])
def test_an_unknown_kind_of_organisation_is_refused_by_its_field_keeping_what_was_typed(client, language):
    page = client.post(f"/sign-up/organisation?lang={language}", data={
        **HOST_SIGN_UP, "kind": "ministry", "csrf_token": form_token(client, "/sign-up/organisation")})
    assert page.status_code == 400 and 'href="#kind"' in page.text
    assert 'value="Guangzhou Metro Group"' in page.text and 'value="chen.jing@gzmetro.example.cn"' in page.text
    if language != "en":
        assert "Choose whether your organisation" not in page.text


def test_a_host_not_yet_verified_cannot_post(app, session, summer):
    host = _host(session, verified=False)
    user = make_user(session, Role.HOST, organisation=host)
    with pytest.raises(Conflict, match="verified by the Guangdong coordinating office"):
        lifecycle.create_draft(session, user, summer, {"title_en": "Rail operations intern"})
    actor = signed_in(app, session, user)
    page = actor.client.get(f"/ngo/projects/new?scheme_id={summer.id}&lang=en")
    assert page.status_code == 409 and "verified by the Guangdong coordinating office" in page.text


def test_the_guangdong_office_verifies_a_host_and_it_is_audited(app, session):
    host = _host(session, verified=False)
    office = make_user(session, Role.GUANGDONG_OFFICE)
    actor = signed_in(app, session, office)
    listing = actor.client.get("/guangdong-office/hosts?lang=en").text
    assert host.name_en in listing and f"/guangdong-office/hosts/{host.id}/verify" in listing
    confirm = actor.client.post(f"/guangdong-office/hosts/{host.id}/verify?lang=en", data={"csrf_token": actor.csrf})
    assert "Verify this organisation?" in confirm.text and "offer internship places" in confirm.text
    assert host.verified_at is None
    done = actor.client.post(f"/guangdong-office/hosts/{host.id}/verify", data={"csrf_token": actor.csrf,
                                                                                  "confirmed": "yes"},
                             follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/guangdong-office/hosts?done=verified"
    session.refresh(host)
    assert host.is_verified and host.verified_by_id == office.id
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "organisation.verified",
                                                  AuditEvent.object_id == str(host.id))).one()
    assert event.actor_id == office.id and event.after["kind"] == "guangdong_host"
    again = actor.client.post(f"/api/v1/guangdong-office/hosts/{host.id}/verify", headers={"X-CSRF-Token": actor.csrf})
    assert again.status_code == 409


def test_hong_kong_staff_verify_ngos_and_the_guangdong_office_hosts_never_the_other(app, session):
    host, ngo = _host(session, verified=False), make_organisation(session, verified=False)
    officer = signed_in(app, session, make_user(session, Role.OFFICER))
    office = signed_in(app, session, make_user(session, Role.GUANGDONG_OFFICE))

    refused = officer.client.post(f"/api/v1/organisations/{host.id}/verify", headers={"X-CSRF-Token": officer.csrf})
    assert refused.status_code == 403
    assert refused.json()["message"] == "The Guangdong coordinating office verifies Guangdong host organisations."
    staff_page = officer.client.get("/staff/organisations?lang=en").text
    assert f"/staff/organisations/{host.id}/verify" not in staff_page and ngo.name_en in staff_page
    assert "1 is awaiting it" in staff_page

    assert office.client.post(f"/api/v1/guangdong-office/hosts/{ngo.id}/verify",
                              headers={"X-CSRF-Token": office.csrf}).status_code == 404
    listed = office.client.get("/api/v1/guangdong-office/hosts").json()
    assert [o["id"] for o in listed] == [host.id] and listed[0]["kind"] == "guangdong_host"
    assert ngo.name_en not in office.client.get("/guangdong-office/hosts?lang=en").text
    assert host.verified_at is None and ngo.verified_at is None


def test_a_verified_host_offers_summer_places_but_applies_under_no_funding_scheme(session, summer):
    host_user = make_user(session, Role.HOST, organisation=_host(session))
    ngo_user = make_user(session, Role.NGO, organisation=make_organisation(session))
    funding = open_scheme(session)

    project, _errors = lifecycle.create_draft(session, host_user, summer, {"title_en": "Rail operations intern"})
    assert project.scheme_id == summer.id
    with pytest.raises(Conflict, match="Only Hong Kong NGOs propose projects under a funding scheme."):
        lifecycle.create_draft(session, host_user, funding, {"title_en": "Rail operations intern"})
    with pytest.raises(Conflict, match="Only Guangdong host organisations offer places in the summer"):
        lifecycle.create_draft(session, ngo_user, summer, {"title_en": "Youth leadership"})


def test_a_host_sees_only_the_programmes_it_may_offer_places_in_and_brings_no_applicants_of_its_own(app, session,
                                                                                                 summer):
    funding = open_scheme(session, name_en="Funding Scheme 2099")
    actor = signed_in(app, session, make_user(session, Role.HOST, organisation=_host(session)))
    page = actor.client.get("/ngo/projects?lang=en").text
    assert f"/ngo/projects/new?scheme_id={summer.id}" in page
    assert f"/ngo/projects/new?scheme_id={funding.id}" not in page
    assert actor.client.get("/applicants/import").status_code == 403
