"""JSON API for reading the audit log (staff). There is deliberately no way to write or change it here."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from backend.audit import service
from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.params import PageNumber, QueryId
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission

router = APIRouter(tags=["audit"], responses=error_responses(403))


class AuditEventOut(BaseModel):
    id: int
    occurred_at: datetime
    actor_id: int | None
    actor_role: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    client_address: str


class AuditPageOut(BaseModel):
    events: list[AuditEventOut]
    total: int
    page: int
    pages: int


@router.get("/audit", response_model=AuditPageOut, summary="The audit log, newest first (staff)")
def audit_log(db: DbSession, user: Annotated[User, require_permission(Permission.AUDIT_READ)],
              actor_id: QueryId = None, action: str = "", object_type: str = "",
              date_from: Annotated[date | None, Query(alias="from")] = None,
              date_to: Annotated[date | None, Query(alias="to")] = None, page: PageNumber = 1):
    result = service.search(db, user, service.AuditFilter(actor_id=actor_id, action=action, object_type=object_type,
                                                          date_from=date_from, date_to=date_to), page=page)
    return AuditPageOut(events=[AuditEventOut.model_validate(e, from_attributes=True) for e in result.events],
                        total=result.total, page=result.page, pages=result.pages)
