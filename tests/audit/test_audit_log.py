"""The audit log records sign-ins and changes, staff can read and filter it, and nobody can change it."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from backend.audit import service as audit
from backend.audit.models import AuditEvent
from backend.core.db import utcnow
from backend.identity.models import Role
from tests.accounts.helpers import PASSWORD, form_token, make_user, sign_in_as
from tests.factories import make_organisation


def test_sign_ins_and_changes_are_recorded_with_who_what_and_when(client, session):
    organisation = make_organisation(session, verified=False)
    officer = make_user(session, Role.OFFICER)
    client.post("/sign-in", data={"email": officer.email, "password": PASSWORD,
                                  "csrf_token": form_token(client, "/sign-in")})
    csrf = sign_in_as(client, session, officer)
    client.post(f"/staff/organisations/{organisation.id}/verify", data={"csrf_token": csrf, "confirmed": "yes"})

    sign_in = session.exec(select(AuditEvent).where(AuditEvent.action == "sign_in")).one()
    assert sign_in.actor_id == officer.id and sign_in.actor_role == "officer" and sign_in.client_address == "testclient"
    verified = session.exec(select(AuditEvent).where(AuditEvent.action == "organisation.verified")).one()
    assert verified.object_type == "organisation" and verified.object_id == str(organisation.id)
    assert verified.before == {"verified_at": None} and verified.after["verified_at"]
    assert utcnow() - verified.occurred_at < timedelta(minutes=1)


def test_a_failed_sign_in_is_recorded(client, session):
    user = make_user(session)
    client.post("/sign-in", data={"email": user.email, "password": "wrong password guess",
                                  "csrf_token": form_token(client, "/sign-in")})
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "sign_in.failed")).one().object_id == str(user.id)


def _an_event(session) -> AuditEvent:
    event = audit.record(session, None, "test.happened", "thing", 1, after={"x": 1})
    session.flush()
    return event


def test_the_database_refuses_to_update_an_audit_entry(session):
    event = _an_event(session)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("UPDATE audit_event SET action = 'forged' WHERE id = :id"), {"id": event.id})
    assert session.execute(text("SELECT action FROM audit_event WHERE id = :id"), {"id": event.id}).scalar() \
        == "test.happened"


def test_the_database_refuses_to_delete_an_audit_entry(session):
    event = _an_event(session)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event.id})
    assert session.execute(text("SELECT count(*) FROM audit_event WHERE id = :id"), {"id": event.id}).scalar() == 1


def test_no_route_changes_or_deletes_audit_entries(app):
    from fastapi.routing import iter_route_contexts

    for route in iter_route_contexts(app.routes):
        if "audit" in (route.path or ""):
            assert set(route.methods or ()) <= {"GET", "HEAD"}, route.path


def test_staff_filter_the_log_by_actor_action_type_and_date_and_page_through_it(client, session):
    officer = make_user(session, Role.OFFICER)
    other = make_user(session, Role.ADMIN)
    for n in range(55):
        audit.record(session, officer, "project.assessed", "project", n)
    audit.record(session, other, "organisation.verified", "organisation", 7)
    old = audit.record(session, other, "scheme.created", "scheme", 1)
    old.occurred_at = utcnow() - timedelta(days=40)
    session.flush()
    sign_in_as(client, session, officer)

    first = client.get(f"/staff/audit?lang=en&actor={officer.id}&action=project.assessed")
    assert first.status_code == 200 and "55 entries" in first.text and "Page 1 of 2" in first.text
    assert "Next page" in first.text
    second = client.get(f"/staff/audit?actor={officer.id}&action=project.assessed&page=2&lang=en")
    assert second.text.count(">project.assessed</code>") == 5

    by_type = client.get("/api/v1/audit", params={"object_type": "organisation"}).json()
    assert by_type["total"] == 1 and by_type["events"][0]["actor_id"] == other.id
    since = (utcnow() - timedelta(days=1)).date().isoformat()
    recent = client.get("/api/v1/audit", params={"actor_id": other.id, "from": since}).json()
    assert [e["action"] for e in recent["events"]] == ["organisation.verified"]


def test_a_bad_filter_is_explained(client, session):
    sign_in_as(client, session, make_user(session, Role.APPROVER))
    page = client.get("/staff/audit?lang=en&from=2027-13-45")
    assert page.status_code == 400 and "From: enter a real date" in page.text, "the error names the field"
    boxes = client.get("/staff/audit?lang=en&from-day=31&from-month=2&from-year=2027&to-day=1&to-month=3&to-year=2027")
    assert boxes.status_code == 400 and 'href="#from-day"' in boxes.text and 'value="31"' in boxes.text
    assert client.get("/staff/audit?from-day=1&from-month=3&from-year=2027").status_code == 200


def test_applicants_and_ngos_cannot_read_the_log(client, session):
    sign_in_as(client, session, make_user(session, Role.APPLICANT))
    assert client.get("/staff/audit").status_code == 403
    assert client.get("/api/v1/audit").status_code == 403
