"""The audit log page for staff. Read-only by design: there is no route that changes an entry."""

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.audit import labels, service
from backend.core.clock import HONG_KONG
from backend.core.db import DbSession
from backend.core.forms import Fields, day_boxes
from backend.core.i18n import gettext as _
from backend.core.params import PageNumber, id_from_text
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission

router = APIRouter(include_in_schema=False)


def parse_filters(actor: str, action: str, object_type: str, dates: Mapping[str, str]
                  ) -> tuple[service.AuditFilter, dict[str, str]]:
    """`dates` holds `from` and `to` as day, month and year boxes, or as ISO dates in a link."""
    errors: dict[str, str] = {}
    filters = service.AuditFilter(action=action.strip(), object_type=object_type.strip())
    if actor.strip():
        if id_from_text(actor.strip().lstrip("#")) is not None:
            filters.actor_id = id_from_text(actor.strip().lstrip("#"))
        else:
            errors["actor"] = _("Enter the person's account number, like 12.")
    fields = Fields(dates)
    filters.date_from, filters.date_to = fields.date("from", label=_("From")), fields.date("to", label=_("To"))
    errors.update(fields.errors)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors["to"] = _("The end date must be the same as or after the start date.")
    return filters, errors


@router.get("/staff/audit", response_class=HTMLResponse)
def audit_log(request: Request, db: DbSession, user: Annotated[User, require_permission(Permission.AUDIT_READ)],
              actor: str = "", action: str = "", object_type: str = "", page: PageNumber = 1):
    dates = {key: value for key, value in request.query_params.items() if key.split("-")[0] in ("from", "to")}
    filters, errors = parse_filters(actor, action, object_type, dates)
    if errors:
        filters = service.AuditFilter()
    result = service.search(db, user, filters, page=page)
    actions, types = service.known_values(db)
    form = {"actor": actor, "action": action, "object_type": object_type, **dates}

    def page_url(number: int) -> str:
        return "/staff/audit?" + urlencode({**{k: v for k, v in form.items() if v}, "page": number})

    everything = [("", _("All"))]
    return render(request, "audit/log.html", {
        "result": result, "form": form, "errors": day_boxes(errors, "from", "to"), "page_url": page_url,
        "action_options": everything + sorted(((a, labels.action_label(a)) for a in actions), key=lambda o: o[1]),
        "type_options": everything + sorted(((t, labels.record_label(t)) for t in types), key=lambda o: o[1]),
        "action_label": labels.action_label, "record_label": labels.record_label, "hong_kong": HONG_KONG,
    }, status_code=400 if errors else 200)
