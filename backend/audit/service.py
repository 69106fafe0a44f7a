"""The audit log: written by every domain in the same transaction as the change it records."""

from typing import Any

from sqlmodel import Session

from backend.audit.models import AuditEvent


def record(
    session: Session,
    actor: Any,
    action: str,
    object_type: str,
    object_id: Any = "",
    *,
    before: dict | None = None,
    after: dict | None = None,
    client_address: str = "",
) -> AuditEvent:
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_role=str(getattr(actor, "role", "") or ("system" if actor is None else "")),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else "",
        before=before,
        after=after,
        client_address=client_address,
    )
    session.add(event)
    return event
