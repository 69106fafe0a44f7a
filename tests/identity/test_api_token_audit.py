"""Creating and revoking a personal API token is audited by the accounts service, above identity."""

from sqlmodel import select

from backend.accounts import service
from backend.audit.models import AuditEvent
from tests.accounts.helpers import make_user


def _actions(session, user) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.actor_id == user.id)
                                           .order_by(AuditEvent.id))]


def test_creating_and_revoking_a_token_each_leave_one_audit_event(session):
    user = make_user(session)
    token, raw = service.create_api_token(session, user, "  laptop  ")
    assert raw.startswith("imt_") and token.name == "laptop"
    service.revoke_api_token(session, user, token.id)
    service.revoke_api_token(session, user, token.id)  # already revoked: nothing more to record
    session.flush()
    assert _actions(session, user) == ["api_token.created", "api_token.revoked"]
    created = session.exec(select(AuditEvent).where(AuditEvent.action == "api_token.created")).one()
    assert (created.object_type, created.object_id, created.after) == ("api_token", str(token.id), {"name": "laptop"})
