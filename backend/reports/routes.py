"""Staff report pages: a scheme's figures as tables with charts, and the same tables as CSV and Excel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from backend.core.db import DbSession
from backend.core.i18n import localised
from backend.core.params import OptionalQueryId
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.reports import exports, service, track_records
from backend.schemes.models import Scheme

router = APIRouter(include_in_schema=False)
Reader = Annotated[User, require_permission(Permission.REPORT_READ)]


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


@router.get("/staff/reports", response_class=HTMLResponse)
def report_page(request: Request, db: DbSession, user: Reader, scheme: OptionalQueryId = 0):
    schemes = list(db.exec(select(Scheme).order_by(col(Scheme.id).desc())))
    if not schemes:
        return render(request, "reports/report.html", {"user": user, "report": None, "schemes": []})
    chosen = service.scheme_for(db, scheme or None)
    return render(request, "reports/report.html", {
        "user": user, "report": service.build(db, chosen), "scheme": chosen, "schemes": schemes})


@router.get("/staff/reports/download.csv")
def report_csv(db: DbSession, user: Reader, scheme: OptionalQueryId = 0, table: str = "projects"):
    chosen = service.scheme_for(db, scheme or None)
    data = service.build(db, chosen).table(table)
    return attachment(exports.table_csv(data), exports.CSV_MEDIA_TYPE, f"internmatch-{chosen.id}-{data.key}.csv")


@router.get("/staff/reports/download.xlsx")
def report_xlsx(db: DbSession, user: Reader, scheme: OptionalQueryId = 0):
    chosen = service.scheme_for(db, scheme or None)
    content = exports.report_xlsx(service.build(db, chosen), localised(chosen, "name"))
    return attachment(content, exports.XLSX_MEDIA_TYPE, f"internmatch-{chosen.id}-report.xlsx")


@router.get("/staff/reports/track-record", response_class=HTMLResponse)
def track_record_page(request: Request, db: DbSession, user: Reader):
    return render(request, "reports/track_record.html", {"user": user, "table": track_records.build(db),
                                                         "none_yet": track_records.none_yet()})


@router.get("/staff/reports/track-record.csv")
def track_record_csv(db: DbSession, user: Reader):
    return attachment(exports.table_csv(track_records.build(db)), exports.CSV_MEDIA_TYPE,
                      "internmatch-track-record.csv")


@router.get("/staff/reports/track-record.xlsx")
def track_record_xlsx(db: DbSession, user: Reader):
    table = track_records.build(db)
    return attachment(exports.tables_xlsx([table], table.title), exports.XLSX_MEDIA_TYPE,
                      "internmatch-track-record.xlsx")
