"""A project's completion report: the NGO's evaluation in words, with figures counted from the interns'
outcomes (never typed), sent once the internship is over and every intern's outcome is recorded; staff
accept it (the project is then completed and its balance may be paid) or return it with comments.

The one owner of `CompletionReport.status`: draft → sent → accepted | returned (→ sent again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.core import clock, states
from backend.core.db import utcnow
from backend.core.errors import InvalidTransition
from backend.core.forms import FormInvalid
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.identity.models import User
from backend.identity.permissions import Permission, require, require_visible
from backend.outbox import service as outbox
from backend.placements import offers
from backend.placements.models import Placement, PlacementStatus
from backend.projects import lifecycle
from backend.projects.models import CompletionReport, CompletionReportStatus, Project, ProjectStatus

R = CompletionReportStatus
TRANSITIONS: states.Transitions = {
    R.DRAFT: frozenset({R.SENT}),
    R.SENT: frozenset({R.ACCEPTED, R.RETURNED}),
    R.RETURNED: frozenset({R.SENT}),
    R.ACCEPTED: frozenset(),
}
STATUS_NAMES = {
    R.DRAFT: lazy_gettext("draft"),
    R.SENT: lazy_gettext("sent to Home Affairs"),
    R.RETURNED: lazy_gettext("returned for changes"),
    R.ACCEPTED: lazy_gettext("accepted"),
}
EDITABLE = (R.DRAFT, R.RETURNED)
# Who reviews a sent report: the officers who assess projects (no four eyes: accepting pays nothing by itself).
REVIEW_PERMISSION = Permission.PROJECT_ASSESS
EVALUATION_LIMIT = 5000
COMMENTS_LIMIT = 2000

_RETURNED_SUBJECT = lazy_gettext("Completion report returned: %(title)s")
_RETURNED_BODY = lazy_gettext(
    "Home Affairs staff have returned the completion report of \"%(title)s\" with these comments:\n\n"
    "%(comment)s\n\nCorrect the outcomes or the evaluation and send it again: %(link)s")


class ReportInvalid(FormInvalid):
    status_code = 422
    code = "completion_report_invalid"


@dataclass(frozen=True)
class Figures:
    """A project's interns by outcome, counted from their placements."""

    interns: int
    completed: int
    left_early: int
    no_show: int

    @property
    def awaiting(self) -> int:
        """Interns whose outcome is not recorded yet."""
        return self.interns - self.completed - self.left_early - self.no_show

    def as_dict(self) -> dict[str, int]:
        return {"interns": self.interns, "completed": self.completed, "left_early": self.left_early,
                "no_show": self.no_show, "awaiting_outcome": self.awaiting}


def figures(session: Session, project: Project) -> Figures:
    counts = dict(session.exec(select(Placement.status, func.count()).where(
        Placement.project_id == project.id, col(Placement.status).in_(offers.INTERN_STATUSES))
        .group_by(Placement.status)).all())
    return Figures(interns=sum(counts.values()), completed=counts.get(PlacementStatus.COMPLETED, 0),
                   left_early=counts.get(PlacementStatus.LEFT_EARLY, 0), no_show=counts.get(PlacementStatus.NO_SHOW, 0))


def report_of(session: Session, project: Project) -> CompletionReport | None:
    return session.exec(select(CompletionReport).where(CompletionReport.project_id == project.id)
                        .execution_options(populate_existing=True)).first()


def why_not_sendable(session: Session, project: Project, today: date | None = None) -> str | None:
    """Why the report cannot be sent now, or None."""
    today = today or clock.today()
    if project.end_date is None or today <= project.end_date:
        return _("The completion report can be sent only after the internship ends on %(end)s.",
                 end=project.end_date.isoformat() if project.end_date else "?")
    if project.status != ProjectStatus.CLOSED:
        return _("The completion report can be sent only once applications have closed.")
    awaiting = figures(session, project).awaiting
    if awaiting:
        return _("Record the outcome of every intern first: %(n)s still to record.", n=awaiting)
    return None


def _check_evaluation(evaluation: str) -> str:
    evaluation = (evaluation or "").strip()
    if len(evaluation) > EVALUATION_LIMIT:
        raise ReportInvalid({"evaluation": _("Use %(limit)s characters or fewer.", limit=EVALUATION_LIMIT)})
    return evaluation


def save_draft(session: Session, actor: User, project: Project, evaluation: str) -> CompletionReport:
    """Keep the evaluation written so far; the report stays a draft (or returned) until sent."""
    require_visible(actor, Permission.PROJECT_EDIT_OWN, project)
    evaluation = _check_evaluation(evaluation)
    report = report_of(session, project)
    if report is None:
        report = CompletionReport(project_id=project.id)
        session.add(report)
    elif report.status not in EDITABLE:
        raise InvalidTransition(_("The completion report has been sent and cannot be changed now."))
    report.evaluation, report.updated_at = evaluation, utcnow()
    session.flush()
    return report


def send(session: Session, actor: User, project: Project, evaluation: str, *,
         today: date | None = None) -> CompletionReport:
    """Send the report to staff: only after the end date, with applications closed and every outcome recorded."""
    require_visible(actor, Permission.PROJECT_EDIT_OWN, project)
    offers.lock_project(session, project)
    refusal = why_not_sendable(session, project, today)
    if refusal:
        raise InvalidTransition(refusal)
    if not (evaluation or "").strip():
        raise ReportInvalid({"evaluation": _("Write a short evaluation of the internship.")},
                            _("The completion report is not complete: fix the fields shown."))
    report = save_draft(session, actor, project, evaluation)
    before = CompletionReportStatus(report.status)
    _move(session, report, R.SENT, before, sent_at=utcnow())
    audit.record(session, actor, "completion_report.sent", "completion_report", report.id,
                 before={"status": before},
                 after={"status": R.SENT, "project_id": project.id, **figures(session, project).as_dict()})
    return report


def _move(session: Session, report: CompletionReport, to: CompletionReportStatus, before: CompletionReportStatus,
          **values) -> None:
    states.check(TRANSITIONS, before, to, _("The completion report is %(status)s; that step is not possible now.",
                                            status=str(STATUS_NAMES[before])))
    if not states.move_if(session, CompletionReport, report.id, TRANSITIONS, to,
                          where=[col(CompletionReport.status) == before], updated_at=utcnow(), **values):
        raise InvalidTransition(_("The completion report was changed by someone else a moment ago. Reload the "
                                  "page to see where it stands."))
    session.refresh(report)
    set_committed_value(report, "status", to)


def _sent_report(session: Session, actor: User, project: Project) -> CompletionReport:
    require(actor, REVIEW_PERMISSION)
    report = report_of(session, project)
    if report is None:
        raise InvalidTransition(_("This project has no completion report yet."))
    return report


def accept(session: Session, actor: User, project: Project) -> CompletionReport:
    """Staff accept the report: the project is completed, and its balance can now be paid."""
    report = _sent_report(session, actor, project)
    before = CompletionReportStatus(report.status)
    _move(session, report, R.ACCEPTED, before, reviewed_at=utcnow(), reviewed_by_id=actor.id)
    audit.record(session, actor, "completion_report.accepted", "completion_report", report.id,
                 before={"status": before}, after={"status": R.ACCEPTED, "project_id": project.id})
    lifecycle.complete(session, actor, project)
    return report


def return_report(session: Session, actor: User, project: Project, comments: str) -> CompletionReport:
    """Staff return the report with what to change; the NGO may then correct outcomes and send it again."""
    report = _sent_report(session, actor, project)
    comments = (comments or "").strip()
    if not comments:
        raise ReportInvalid({"comments": _("Say what the organisation should change.")})
    if len(comments) > COMMENTS_LIMIT:
        raise ReportInvalid({"comments": _("Use %(limit)s characters or fewer.", limit=COMMENTS_LIMIT)})
    before = CompletionReportStatus(report.status)
    _move(session, report, R.RETURNED, before, reviewed_at=utcnow(), reviewed_by_id=actor.id,
          staff_comments=comments)
    audit.record(session, actor, "completion_report.returned", "completion_report", report.id,
                 before={"status": before}, after={"status": R.RETURNED, "comments": comments})
    for address, language in lifecycle.organisation_recipients(session, project):
        outbox.enqueue(session, to=address, subject=_RETURNED_SUBJECT, body=_RETURNED_BODY, language=language,
                       template="completion_report.returned",
                       title=outbox.in_language(language, project, "title"), comment=comments,
                       link=outbox.link(f"/ngo/projects/{project.id}/report"))
    return report
