"""The audit log page for staff. Read-only by design: there is no route that changes an entry."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.audit import service
from backend.core.db import DbSession
from backend.core.forms import Fields
from backend.core.i18n import gettext as _
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission

router = APIRouter(include_in_schema=False)


def parse_filters(actor: str, action: str, object_type: str, date_from: str, date_to: str
                  ) -> tuple[service.AuditFilter, dict[str, str]]:
    errors: dict[str, str] = {}
    filters = service.AuditFilter(action=action.strip(), object_type=object_type.strip())
    if actor.strip():
        if actor.strip().lstrip("#").isdigit():
            filters.actor_id = int(actor.strip().lstrip("#"))
        else:
            errors["actor"] = _("Enter the person's account number, like 12.")
    dates = Fields({"from": date_from, "to": date_to})
    filters.date_from = dates.date("from", message=_("Enter a real date, like 2027-03-31."))
    filters.date_to = dates.date("to", message=_("Enter a real date, like 2027-03-31."))
    errors.update(dates.errors)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors["to"] = _("The end date must be the same as or after the start date.")
    return filters, errors


@router.get("/staff/audit", response_class=HTMLResponse)
def audit_log(request: Request, db: DbSession, user: Annotated[User, require_permission(Permission.AUDIT_READ)],
              actor: str = "", action: str = "", object_type: str = "", page: int = 1):
    date_from = request.query_params.get("from", "")
    date_to = request.query_params.get("to", "")
    filters, errors = parse_filters(actor, action, object_type, date_from, date_to)
    if errors:
        filters = service.AuditFilter()
    result = service.search(db, user, filters, page=page)
    actions, types = service.known_values(db)
    form = {"actor": actor, "action": action, "object_type": object_type, "from": date_from, "to": date_to}

    def page_url(number: int) -> str:
        return "/staff/audit?" + urlencode({**{k: v for k, v in form.items() if v}, "page": number})

    everything = [("", _("All"))]
    return render(request, "audit/log.html", {
        "result": result, "form": form, "errors": errors, "page_url": page_url,
        "action_options": everything + [(a, a) for a in actions],
        "type_options": everything + [(t, t) for t in types],
    }, status_code=400 if errors else 200)
