"""Complaints as JSON: the complainant's own, the organisation's shared ones, and staff handling a case."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from backend.complaints import case
from backend.complaints.models import Complaint
from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.params import BodyId, Id
from backend.identity.deps import CurrentUser, require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, organisation_id_of

router = APIRouter(tags=["complaints"], responses=error_responses(403))
Complainant = Annotated[User, require_permission(Permission.COMPLAINT_RAISE)]
OwnViewer = Annotated[User, require_permission(Permission.COMPLAINT_VIEW_OWN)]
NgoViewer = Annotated[User, require_permission(Permission.COMPLAINT_VIEW_SHARED)]
Handler = Annotated[User, require_permission(Permission.COMPLAINT_HANDLE)]


class ComplaintOut(BaseModel):
    id: int
    organisation_id: int
    project_id: int | None
    status: str = Field(description="received, acknowledged, investigating, upheld or not_upheld")
    subject: str
    details: str
    reply: str
    acknowledge_by: date = Field(description="Hong Kong working days after it was received")
    overdue: bool = Field(description="Not acknowledged by then")
    received_at: datetime
    acknowledged_at: datetime | None
    investigating_at: datetime | None
    decided_at: datetime | None
    shared_with_organisation: bool


class ComplaintIn(BaseModel):
    """Name the project, or (for a complaint about the organisation as a whole) the organisation."""

    project_id: BodyId | None = None
    organisation_id: BodyId | None = None
    subject: str = ""
    details: str = ""


class DecisionIn(BaseModel):
    outcome: str = Field(default="", description="upheld or not_upheld")
    reply: str = ""


def complaint_out(complaint: Complaint) -> ComplaintOut:
    data = {name: getattr(complaint, name) for name in ComplaintOut.model_fields
            if name not in ("overdue", "shared_with_organisation", "status")}
    return ComplaintOut(**data, status=str(complaint.status), overdue=case.is_overdue(complaint),
                        shared_with_organisation=complaint.shared_at is not None)


@router.get("/me/complaints", response_model=list[ComplaintOut])
def own_complaints(db: DbSession, user: OwnViewer):
    return [complaint_out(c) for c in case.own_complaints(db, user)]


@router.post("/me/complaints", response_model=ComplaintOut, status_code=201, responses=error_responses(400))
def raise_complaint(db: DbSession, user: Complainant, body: ComplaintIn):
    about = (f"project:{body.project_id}" if body.project_id is not None
             else f"organisation:{body.organisation_id}" if body.organisation_id is not None else "")
    return complaint_out(case.raise_complaint(db, user, {"about": about, "subject": body.subject,
                                                         "details": body.details}))


@router.get("/ngo/complaints", response_model=list[ComplaintOut])
def shared_complaints(db: DbSession, user: NgoViewer):
    return [complaint_out(c) for c in case.shared_complaints(db, user, organisation_id_of(user))]


@router.get("/complaints", response_model=list[ComplaintOut])
def staff_cases(db: DbSession, user: Handler,
                status: Annotated[str, Query(max_length=20, description="A status, or overdue")] = ""):
    return [complaint_out(c) for c in case.staff_cases(db, user, status=status)]


@router.get("/complaints/{complaint_id}", response_model=ComplaintOut, responses=error_responses(404))
def get_complaint(db: DbSession, user: CurrentUser, complaint_id: Id):
    return complaint_out(case.visible_complaint(db, user, complaint_id))


@router.post("/complaints/{complaint_id}/acknowledge", response_model=ComplaintOut,
             responses=error_responses(404, 409))
def acknowledge(db: DbSession, user: Handler, complaint_id: Id):
    return complaint_out(case.acknowledge(db, user, case.get_case(db, user, complaint_id)))


@router.post("/complaints/{complaint_id}/investigate", response_model=ComplaintOut,
             responses=error_responses(404, 409))
def investigate(db: DbSession, user: Handler, complaint_id: Id):
    return complaint_out(case.start_investigation(db, user, case.get_case(db, user, complaint_id)))


@router.post("/complaints/{complaint_id}/decide", response_model=ComplaintOut,
             responses=error_responses(400, 404, 409))
def decide(db: DbSession, user: Handler, complaint_id: Id, body: DecisionIn):
    return complaint_out(case.decide(db, user, case.get_case(db, user, complaint_id), body.model_dump()))


@router.post("/complaints/{complaint_id}/share", response_model=ComplaintOut, responses=error_responses(404))
def share(db: DbSession, user: Handler, complaint_id: Id):
    return complaint_out(case.share(db, user, case.get_case(db, user, complaint_id)))
