"""After the internship, as JSON: the NGO records each intern's outcome and sends the completion report; staff
read it with its figures (counted from the outcomes) and accept or return it. The same services as the pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel import Session

from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.params import Id
from backend.identity.deps import CurrentUser, require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, can
from backend.placements import offers
from backend.placements.models import PlacementStatus
from backend.projects import completion
from backend.projects.models import Project
from backend.projects.ngo_routes import NgoUser, own_project
from backend.projects.staff_routes import staff_project

router = APIRouter(tags=["completion reports"], responses=error_responses(403, 404))
Reviewer = Annotated[User, require_permission(completion.REVIEW_PERMISSION)]


class FiguresOut(BaseModel):
    interns: int = Field(description="Interns who accepted a place")
    completed: int
    left_early: int
    no_show: int
    awaiting_outcome: int


class InternOut(BaseModel):
    intern_id: int = Field(description="The intern's placement")
    applicant_id: int
    outcome: str = Field(description="accepted (not recorded yet), completed, left_early or no_show")
    left_on: date | None
    reason: str | None


class ReportOut(BaseModel):
    project_id: int
    project_status: str
    status: str = Field(description="not_started, draft, sent, returned or accepted")
    evaluation: str
    staff_comments: str
    sent_at: datetime | None
    reviewed_at: datetime | None
    figures: FiguresOut = Field(description="Counted from the interns' outcomes, never typed")
    interns: list[InternOut]


class OutcomeIn(BaseModel):
    outcome: Literal["completed", "left_early", "no_show"] | None = Field(default=None, description="Required")
    left_on: date | None = Field(default=None, description="The day a left-early intern left (ISO date)")
    reason: str = Field(default="", max_length=offers.REASON_LIMIT)


class ReportIn(BaseModel):
    evaluation: str = Field(default="", max_length=completion.EVALUATION_LIMIT, description="Required to send")
    send: bool = Field(default=False, description="Send to staff now; otherwise the draft is saved")


class ReturnIn(BaseModel):
    comments: str = Field(default="", max_length=completion.COMMENTS_LIMIT, description="Required")


def report_out(db: Session, project: Project) -> ReportOut:
    report = completion.report_of(db, project)
    return ReportOut(
        project_id=project.id, project_status=str(project.status),
        status=str(report.status) if report else "not_started",
        evaluation=report.evaluation if report else "", staff_comments=report.staff_comments if report else "",
        sent_at=report.sent_at if report else None, reviewed_at=report.reviewed_at if report else None,
        figures=FiguresOut(**completion.figures(db, project).as_dict()),
        interns=[InternOut(intern_id=i.placement.id, applicant_id=i.placement.applicant_id,
                           outcome=str(i.placement.status), left_on=i.placement.left_on,
                           reason=i.placement.outcome_reason) for i in offers.project_interns(db, project)])


@router.get("/projects/{project_id}/completion-report", response_model=ReportOut)
def get_report(db: DbSession, user: CurrentUser, project_id: Id):
    """The completion report of one of the NGO's own projects, or (staff) of any project."""
    project = staff_project(db, user, project_id) if can(user, Permission.PROJECT_VIEW_ALL) \
        else own_project(db, user, project_id)
    return report_out(db, project)


@router.post("/ngo/projects/{project_id}/interns/{intern_id}/outcome", response_model=InternOut,
             responses=error_responses(409))
def record_outcome(db: DbSession, user: NgoUser, project_id: Id, intern_id: Id, body: OutcomeIn):
    project = own_project(db, user, project_id)
    outcome = PlacementStatus(body.outcome) if body.outcome else None
    placement = offers.record_outcome(db, user, project, intern_id, outcome,
                                      left_on=body.left_on, reason=body.reason)
    return InternOut(intern_id=placement.id, applicant_id=placement.applicant_id, outcome=str(placement.status),
                     left_on=placement.left_on, reason=placement.outcome_reason)


@router.post("/ngo/projects/{project_id}/completion-report", response_model=ReportOut,
             responses=error_responses(409))
def save_report(db: DbSession, user: NgoUser, project_id: Id, body: ReportIn):
    project = own_project(db, user, project_id)
    if body.send:
        completion.send(db, user, project, body.evaluation)
    else:
        completion.save_draft(db, user, project, body.evaluation)
    return report_out(db, project)


@router.post("/projects/{project_id}/completion-report/accept", response_model=ReportOut,
             responses=error_responses(409))
def accept_report(db: DbSession, user: Reviewer, project_id: Id):
    project = staff_project(db, user, project_id)
    completion.accept(db, user, project)
    return report_out(db, project)


@router.post("/projects/{project_id}/completion-report/return", response_model=ReportOut,
             responses=error_responses(409))
def return_report(db: DbSession, user: Reviewer, project_id: Id, body: ReturnIn):
    project = staff_project(db, user, project_id)
    completion.return_report(db, user, project, body.comments)
    return report_out(db, project)
