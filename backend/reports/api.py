"""Reports as JSON, CSV and Excel under /api/v1/reports (the same figures as the staff report page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.i18n import localised
from backend.core.params import QueryId
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.reports import exports, service, track_records
from backend.reports.routes import attachment

router = APIRouter(prefix="/reports", tags=["reports"], responses=error_responses(403, 404))
Reader = Annotated[User, require_permission(Permission.REPORT_READ)]


class ColumnOut(BaseModel):
    key: str
    label: str
    kind: str


class TableOut(BaseModel):
    key: str
    title: str
    columns: list[ColumnOut]
    rows: list[dict]


class ReportOut(BaseModel):
    scheme_id: int
    scheme: str
    tables: list[TableOut]


@router.get("", response_model=ReportOut)
def report(db: DbSession, user: Reader, scheme_id: QueryId = None):
    """Fill rates by project, region and sector; budget; choices got; first-timers; unplaced reasons."""
    scheme = service.scheme_for(db, scheme_id)
    built = service.build(db, scheme)
    return ReportOut(scheme_id=scheme.id, scheme=localised(scheme, "name"), tables=[
        TableOut(key=t.key, title=t.title, columns=[ColumnOut(key=c.key, label=c.label, kind=c.kind)
                                                    for c in t.columns], rows=t.as_dicts())
        for t in built.tables])


@router.get("/csv")
def report_csv(db: DbSession, user: Reader, scheme_id: QueryId = None, table: str = "projects"):
    """One table as UTF-8 CSV (with a byte-order mark for Excel)."""
    scheme = service.scheme_for(db, scheme_id)
    data = service.build(db, scheme).table(table)
    return attachment(exports.table_csv(data), exports.CSV_MEDIA_TYPE, f"internmatch-{scheme.id}-{data.key}.csv")


@router.get("/xlsx")
def report_xlsx(db: DbSession, user: Reader, scheme_id: QueryId = None):
    """Every table as one Excel workbook, a sheet per table."""
    scheme = service.scheme_for(db, scheme_id)
    content = exports.report_xlsx(service.build(db, scheme), localised(scheme, "name"))
    return attachment(content, exports.XLSX_MEDIA_TYPE, f"internmatch-{scheme.id}-report.xlsx")


@router.get("/track-record", response_model=TableOut)
def track_record(db: DbSession, user: Reader):
    """Every organisation's track record across schemes and years (a figure not yet measurable is null)."""
    table = track_records.build(db)
    return TableOut(key=table.key, title=table.title, columns=[ColumnOut(key=c.key, label=c.label, kind=c.kind)
                                                               for c in table.columns], rows=table.as_dicts())
