"""The audit log: written by every domain in the same transaction as the change it records."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from backend.audit.models import AuditEvent
from backend.core.bulk import insert_rows
from backend.core.clock import HONG_KONG
from backend.identity import permissions as authz


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


def record_many(session: Session, actor: Any, action: str, object_type: str, events: list[tuple[Any, dict]]
                ) -> None:
    """One event per (object id, after) of a batch, in one COPY or multi-row INSERT (an approval's offers)."""
    actor_role = str(getattr(actor, "role", "") or ("system" if actor is None else ""))
    insert_rows(session, AuditEvent.__table__, [
        dict(actor_id=getattr(actor, "id", None), actor_role=actor_role, action=action, object_type=object_type,
             object_id=str(object_id) if object_id is not None else "", after=after)
        for object_id, after in events])


PAGE_SIZE = 50


@dataclass
class AuditFilter:
    actor_id: int | None = None
    action: str = ""
    object_type: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def search(session: Session, actor: Any, filters: AuditFilter, *, page: int = 1,
           page_size: int = PAGE_SIZE) -> AuditPage:
    authz.require(actor, authz.Permission.AUDIT_READ)
    query = select(AuditEvent)
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    # Days are Hong Kong days, as the log shows its times.
    if filters.date_from:
        query = query.where(col(AuditEvent.occurred_at) >= datetime.combine(filters.date_from, time(), HONG_KONG))
    if filters.date_to:
        query = query.where(col(AuditEvent.occurred_at) <
                            datetime.combine(filters.date_to + timedelta(days=1), time(), HONG_KONG))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = max(1, page)
    events = session.exec(query.order_by(col(AuditEvent.occurred_at).desc(), col(AuditEvent.id).desc())
                          .offset((page - 1) * page_size).limit(page_size)).all()
    return AuditPage(list(events), total, page, page_size)


def known_values(session: Session) -> tuple[list[str], list[str]]:
    """The actions and object types that occur, for the filter's drop-downs."""
    actions = session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    types = session.exec(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)).all()
    return list(actions), list(types)
