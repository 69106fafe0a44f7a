"""An applicant's answer to an offer, offers that lapse, and what NGOs and refill rounds see of them.

Every change of an offer's status is a conditional UPDATE (`... WHERE status = 'offered'`), so an
acceptance racing an expiry, or a double click racing itself, settles on exactly one outcome; the
partial unique index "one accepted placement per applicant per scheme" backs the rule that an applicant
holds one place per scheme even when two different offers are accepted at the same moment.

Accepting one offer withdraws the applicant's other open offers in the same scheme (their places go
back to the pool at once); accepting while already holding an accepted place in the scheme is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.applicants import choice_status
from backend.applicants.models import ApplicantProfile
from backend.audit import service as audit
from backend.core import clock, states
from backend.core.bulk import insert_rows, next_ids
from backend.core.errors import Conflict, InvalidTransition, NotFound
from backend.core.forms import FormInvalid
from backend.core.i18n import gettext as _
from backend.identity.models import User
from backend.identity.permissions import Permission, require, require_visible
from backend.market.inputs import MATCHABLE_PROJECT_STATUSES
from backend.placements.models import OUTCOME_STATUSES, MatchProposal, Placement, PlacementStatus
from backend.placements.offer_emails import (
    send_offer_emails,
    tell_applicant_expired,
    tell_applicant_withdrawn,
    tell_organisation,
)
from backend.projects.models import CompletionReport, CompletionReportStatus, Project, ProjectStatus
from backend.schemes.facts import scheme_usage
from backend.schemes.models import Scheme

P = PlacementStatus
_OUTCOMES = frozenset(OUTCOME_STATUSES)
# An offer is answered, lapses, or is withdrawn (another place accepted, the applicant's data erased, the
# project closed). After the internship's end date the NGO records each accepted intern's outcome, and may
# correct it (or its date and reason) until the completion report is sent (`record_outcome`).
TRANSITIONS: states.Transitions = {
    P.OFFERED: frozenset({P.ACCEPTED, P.DECLINED, P.EXPIRED, P.WITHDRAWN}),
    P.ACCEPTED: _OUTCOMES,
    P.DECLINED: frozenset(),
    P.EXPIRED: frozenset(),
    P.WITHDRAWN: frozenset(),
    P.COMPLETED: _OUTCOMES,
    P.LEFT_EARLY: _OUTCOMES,
    P.NO_SHOW: _OUTCOMES,
}
# An intern's place, whether or not the outcome is recorded yet.
INTERN_STATUSES = (P.ACCEPTED, *OUTCOME_STATUSES)
# A project in these states takes no more interns: an open offer on it can no longer be accepted.
FINISHED_PROJECT_STATUSES = (ProjectStatus.CLOSED, ProjectStatus.COMPLETED)
# A report sent or accepted fixes the outcomes it counts.
_REPORT_FIXED = (CompletionReportStatus.SENT, CompletionReportStatus.ACCEPTED)
REASON_LIMIT = 500


def _closed_message(status: PlacementStatus) -> str:
    return {
        PlacementStatus.ACCEPTED: _("You have already accepted this offer."),
        PlacementStatus.DECLINED: _("You have declined this offer."),
        PlacementStatus.EXPIRED: _("This offer has expired."),
        PlacementStatus.WITHDRAWN: _("This offer has been withdrawn."),
        PlacementStatus.COMPLETED: _("This internship is completed."),
        PlacementStatus.LEFT_EARLY: _("This internship has ended."),
        PlacementStatus.NO_SHOW: _("This internship has ended."),
    }.get(status, _("This offer is no longer open."))


def _own_placement(session: Session, actor: User, placement: Placement | int) -> Placement:
    """The actor's own placement, freshly read; anyone else's looks exactly like a missing one."""
    require(actor, Permission.PLACEMENT_RESPOND)
    placement_id = placement.id if isinstance(placement, Placement) else int(placement)
    row = session.exec(select(Placement).where(Placement.id == placement_id)
                       .execution_options(populate_existing=True)).first()
    profile = session.get(ApplicantProfile, row.applicant_id) if row is not None else None
    if profile is None or profile.user_id is None or profile.user_id != actor.id:
        raise NotFound(_("We could not find that offer."))
    # Answers about one applicant's offers in a scheme queue here, in id order: a double click waits and
    # then sees its own acceptance, and two different acceptances cannot deadlock withdrawing each other.
    session.exec(select(Placement.id).where(Placement.scheme_id == row.scheme_id,
                                            Placement.applicant_id == row.applicant_id)
                 .order_by(Placement.id).with_for_update()).all()
    session.refresh(row)
    return row


def _move(session: Session, placement: Placement, to: PlacementStatus, now: datetime, *,
          before_deadline: bool) -> bool:
    """Offered → `to`, only if still offered (and, for an answer, still before the deadline)."""
    where = [col(Placement.offer_deadline) >= now] if before_deadline else []
    moved = states.move_if(session, Placement, placement.id, TRANSITIONS, to, where=where, responded_at=now)
    session.refresh(placement)
    return moved


@dataclass(frozen=True)
class NewOffer:
    """An offer just written by `make_offers`: what its e-mail and the approval's tally need, without an ORM row."""

    id: int
    proposal_id: int
    applicant_id: int
    project_id: int
    offer_deadline: datetime


def make_offer(session: Session, actor: User, proposal: MatchProposal, project: Project, subsidy: int, *,
               now: datetime, deadline: datetime) -> Placement:
    """A new offer from an approved proposal: stored, e-mailed to the applicant, and audited."""
    [offer] = make_offers(session, actor, [(proposal, project, subsidy)], now=now, deadline=deadline)
    return session.get(Placement, offer.id)


def make_offers(session: Session, actor: User, approved: list[tuple[MatchProposal, Project, int]], *,
                now: datetime, deadline: datetime) -> list[NewOffer]:
    """`make_offer` for a batch of approved proposals: the placements, their e-mails and their audit events each
    go in at once (COPY on PostgreSQL), with no ORM object per row: an approval of a national round makes tens
    of thousands of offers, and building and flushing objects one by one was most of its time."""
    ids = next_ids(session, Placement.__table__, len(approved))
    offers = [NewOffer(placement_id, proposal.id, proposal.applicant_id, project.id, deadline)
              for placement_id, (proposal, project, _subsidy) in zip(ids, approved, strict=True)]
    insert_rows(session, Placement.__table__, [
        dict(id=offer.id, scheme_id=project.scheme_id, project_id=project.id, applicant_id=offer.applicant_id,
             proposal_id=offer.proposal_id, status=PlacementStatus.OFFERED.value, subsidy_hkd=subsidy,
             approved_by_id=actor.id, offered_at=now, offer_deadline=deadline)
        for offer, (_proposal, project, subsidy) in zip(offers, approved, strict=True)])
    send_offer_emails(session, [(offer, project) for offer, (_p, project, _s) in zip(offers, approved, strict=True)])
    audit.record_many(session, actor, "placement.offered", "placement", [
        (offer.id, {"proposal_id": offer.proposal_id, "applicant_id": offer.applicant_id, "project_id": project.id,
                    "subsidy_hkd": subsidy, "offer_deadline": deadline.isoformat()})
        for offer, (_proposal, project, subsidy) in zip(offers, approved, strict=True)])
    return offers


def withdraw_open_offers(session: Session, applicant_id: int | None = None, *, project_id: int | None = None,
                         reason: str, tell: bool = False, now: datetime | None = None) -> list[Placement]:
    """Unanswered offers of an applicant (or on a project) are withdrawn, their places back in the pool, each
    audited. With `tell` (a project that closed) each applicant's choice is settled and they are e-mailed."""
    if applicant_id is None and project_id is None:
        raise ValueError("withdraw_open_offers needs an applicant or a project")
    now = now or clock.now()
    query = select(Placement).where(Placement.status == PlacementStatus.OFFERED)
    if applicant_id is not None:
        query = query.where(Placement.applicant_id == applicant_id)
    if project_id is not None:
        query = query.where(Placement.project_id == project_id)
    withdrawn = []
    for placement in session.exec(query.order_by(Placement.id)).all():
        if not _move(session, placement, PlacementStatus.WITHDRAWN, now, before_deadline=False):
            continue  # answered or lapsed in the meantime
        audit.record(session, None, "placement.withdrawn", "placement", placement.id,
                     before={"status": PlacementStatus.OFFERED},
                     after={"status": PlacementStatus.WITHDRAWN, "reason": reason})
        if tell:
            choice_status.lapse(session, placement.applicant_id, placement.project_id, now=now)
            tell_applicant_withdrawn(session, placement)
        withdrawn.append(placement)
    return withdrawn


def _holds_another_accepted_place(session: Session, placement: Placement) -> bool:
    return session.exec(select(Placement.id).where(
        Placement.scheme_id == placement.scheme_id, Placement.applicant_id == placement.applicant_id,
        col(Placement.status).in_(INTERN_STATUSES), Placement.id != placement.id)).first() is not None


def accept_offer(session: Session, actor: User, placement: Placement | int, *,
                 now: datetime | None = None) -> Placement:
    """Idempotent: accepting an offer already accepted returns it unchanged (a double click, a retry)."""
    row = _own_placement(session, actor, placement)
    now = now or clock.now()
    if row.status == PlacementStatus.ACCEPTED:
        return row
    states.check(TRANSITIONS, row.status, PlacementStatus.ACCEPTED, _closed_message(row.status))
    project = session.get(Project, row.project_id)
    if project is not None and project.status in FINISHED_PROJECT_STATUSES:
        raise InvalidTransition(_("This project has closed and takes no more interns, so this offer can no "
                                  "longer be accepted."))
    if _holds_another_accepted_place(session, row):
        raise Conflict(_("You have already accepted a place in this scheme, and you can hold only one."))
    try:
        with session.begin_nested():
            moved = _move(session, row, PlacementStatus.ACCEPTED, now, before_deadline=True)
    except IntegrityError:
        raise Conflict(_("You have already accepted a place in this scheme, and you can hold only one.")
                       ) from None
    if not moved:
        if row.status == PlacementStatus.ACCEPTED:
            return row  # the same acceptance committed by a concurrent request
        if row.status == PlacementStatus.OFFERED:
            raise InvalidTransition(_("The deadline to accept this offer has passed."))
        raise InvalidTransition(_closed_message(row.status))

    choice_status.accept(session, row.applicant_id, row.project_id, now=now)
    withdrawn = []
    # Her other offers are withdrawn (their choices declined, below), and her other choices closed.
    for other in session.exec(select(Placement).where(
            Placement.scheme_id == row.scheme_id, Placement.applicant_id == row.applicant_id,
            Placement.status == PlacementStatus.OFFERED, Placement.id != row.id)).all():
        if _move(session, other, PlacementStatus.WITHDRAWN, now, before_deadline=False):
            choice_status.decline(session, other.applicant_id, other.project_id, now=now)
            withdrawn.append(other.id)
    choice_status.close_others(session, row.applicant_id, row.scheme_id, row.project_id, now=now)
    session.flush()
    audit.record(session, actor, "placement.accepted", "placement", row.id,
                 before={"status": PlacementStatus.OFFERED},
                 after={"status": PlacementStatus.ACCEPTED, "other_offers_withdrawn": withdrawn})
    tell_organisation(session, row)
    return row


def decline_offer(session: Session, actor: User, placement: Placement | int, *,
                  now: datetime | None = None) -> Placement:
    """Idempotent like accepting; the place is free for the next refill round at once."""
    row = _own_placement(session, actor, placement)
    now = now or clock.now()
    if row.status == PlacementStatus.DECLINED:
        return row
    states.check(TRANSITIONS, row.status, PlacementStatus.DECLINED, _closed_message(row.status))
    if not _move(session, row, PlacementStatus.DECLINED, now, before_deadline=True):
        if row.status == PlacementStatus.DECLINED:
            return row
        if row.status == PlacementStatus.OFFERED:
            raise InvalidTransition(_("The deadline to answer this offer has passed."))
        raise InvalidTransition(_closed_message(row.status))
    choice_status.decline(session, row.applicant_id, row.project_id, now=now)
    session.flush()
    audit.record(session, actor, "placement.declined", "placement", row.id,
                 before={"status": PlacementStatus.OFFERED}, after={"status": PlacementStatus.DECLINED})
    return row


def overdue(now: datetime) -> ColumnElement[bool]:
    """Offers still unanswered after their deadline."""
    return and_(col(Placement.status) == PlacementStatus.OFFERED, col(Placement.offer_deadline) < now)


def expire_offers(session: Session, now: datetime | None = None) -> list[Placement]:
    """Offers past their deadline lapse: the place is freed and the applicant told. For a periodic job."""
    now = now or clock.now()
    due = session.exec(select(Placement).where(overdue(now)).order_by(Placement.id)).all()
    expired = []
    for placement in due:
        if not _move(session, placement, PlacementStatus.EXPIRED, now, before_deadline=False):
            continue  # answered in the meantime
        # ChoiceStatus has no "expired": the applicant did not take the place, and the choice is settled.
        choice_status.lapse(session, placement.applicant_id, placement.project_id, now=now)
        session.flush()
        audit.record(session, None, "placement.expired", "placement", placement.id,
                     before={"status": PlacementStatus.OFFERED}, after={"status": PlacementStatus.EXPIRED})
        tell_applicant_expired(session, placement)
        expired.append(placement)
    return expired


@dataclass
class AcceptedIntern:
    placement: Placement
    project: Project
    profile: ApplicantProfile


def accepted_interns(session: Session, organisation_id: int) -> list[AcceptedIntern]:
    """An NGO's interns (accepted, or with an outcome), by project. The caller checks the NGO's scope."""
    rows = session.exec(
        select(Placement, Project, ApplicantProfile)
        .join(Project, col(Project.id) == Placement.project_id)
        .join(ApplicantProfile, col(ApplicantProfile.id) == Placement.applicant_id)
        .where(Project.organisation_id == organisation_id, col(Placement.status).in_(INTERN_STATUSES))
        .order_by(Project.id, ApplicantProfile.name_en, Placement.id)).all()
    return [AcceptedIntern(placement, project, profile) for placement, project, profile in rows]


def free_places(session: Session, scheme: Scheme | int) -> dict[int, int]:
    """Places still to fill per open project: granted minus offered, accepted and completed."""
    scheme_id = scheme.id if isinstance(scheme, Scheme) else scheme
    usage = scheme_usage(session, scheme_id)
    projects = session.exec(select(Project).where(Project.scheme_id == scheme_id,
                                                  col(Project.status).in_(MATCHABLE_PROJECT_STATUSES))
                            .order_by(Project.id)).all()
    return {p.id: max((p.places_granted or 0) - usage.places_by_project.get(p.id, 0), 0) for p in projects}


# --- each intern's outcome -----------------------------------------------------------------------------------

class OutcomeInvalid(FormInvalid):
    """An outcome with a missing or impossible date or reason; `details['fields']` says which."""

    status_code = 422
    code = "outcome_invalid"


def project_interns(session: Session, project: Project) -> list[AcceptedIntern]:
    """The project's interns with their profiles, by name. The caller checks who may see them."""
    rows = session.exec(
        select(Placement, ApplicantProfile)
        .join(ApplicantProfile, col(ApplicantProfile.id) == Placement.applicant_id)
        .where(Placement.project_id == project.id, col(Placement.status).in_(INTERN_STATUSES))
        .order_by(ApplicantProfile.name_en, Placement.id)).all()
    return [AcceptedIntern(placement, project, profile) for placement, profile in rows]


def lock_project(session: Session, project: Project) -> None:
    """Outcomes and the report that counts them queue on the project's row (PostgreSQL; SQLite has one writer):
    an outcome changed while the report is being sent waits, then sees the report sent and is refused."""
    session.exec(select(Project.id).where(Project.id == project.id).with_for_update()).first()


def outcomes_open(session: Session, project: Project, today: date | None = None) -> str | None:
    """Why outcomes cannot be recorded on the project now, or None when they can."""
    today = today or clock.today()
    if project.end_date is None or today <= project.end_date:
        return _("Outcomes can be recorded only after the internship ends on %(end)s.",
                 end=project.end_date.isoformat() if project.end_date else "?")
    if project.status not in (ProjectStatus.OPEN, ProjectStatus.CLOSED):
        return _("This project's outcomes can no longer be changed.")
    report = session.exec(select(CompletionReport).where(CompletionReport.project_id == project.id)).first()
    if report is not None and report.status in _REPORT_FIXED:
        return _("The completion report has been sent, so outcomes can no longer be changed. If staff return "
                 "it, you can correct them.")
    return None


def record_outcome(session: Session, actor: User, project: Project, placement_id: int, outcome: PlacementStatus | None,
                   *, left_on: date | None = None, reason: str = "", today: date | None = None) -> Placement:
    """The NGO records how an accepted intern's internship ended: completed, left early (the day they left,
    within the internship, and why) or did not show (why, if known). A correction before the report is sent
    is another call."""
    require_visible(actor, Permission.PROJECT_EDIT_OWN, project)
    lock_project(session, project)
    placement = session.exec(select(Placement).where(Placement.id == placement_id)
                             .execution_options(populate_existing=True)).first()
    if placement is None or placement.project_id != project.id or placement.status not in INTERN_STATUSES:
        raise NotFound(_("That person is not an accepted intern of this project."))
    refusal = outcomes_open(session, project, today)
    if refusal:
        raise InvalidTransition(refusal)
    if outcome not in OUTCOME_STATUSES:
        raise OutcomeInvalid({"outcome": _("Choose how the internship ended.")}, _("Choose how the internship ended."))
    reason = (reason or "").strip()
    errors = {}
    if outcome == PlacementStatus.LEFT_EARLY:
        if left_on is None:
            errors["left_on"] = _("Enter the day the intern left.")
        elif not project.start_date <= left_on < project.end_date:
            errors["left_on"] = _("The day the intern left must be within the internship, from %(start)s to "
                                  "the day before %(end)s.", start=project.start_date.isoformat(),
                                  end=project.end_date.isoformat())
        if not reason:
            errors["reason"] = _("Say why the intern left early.")
    if len(reason) > REASON_LIMIT:
        errors["reason"] = _("Use %(limit)s characters or fewer.", limit=REASON_LIMIT)
    if errors:
        raise OutcomeInvalid(errors, _("The outcome could not be saved: fix the fields shown."))
    before = {"status": placement.status, "left_on": placement.left_on.isoformat() if placement.left_on else None,
              "reason": placement.outcome_reason}
    values = {"left_on": left_on if outcome == PlacementStatus.LEFT_EARLY else None,
              "outcome_reason": reason if outcome != PlacementStatus.COMPLETED and reason else None}
    states.check(TRANSITIONS, placement.status, outcome, _closed_message(placement.status))
    if not states.move_if(session, Placement, placement.id, TRANSITIONS, outcome,
                          where=[col(Placement.status) == placement.status], **values):
        raise InvalidTransition(_("This intern's outcome was changed by someone else a moment ago. Reload the "
                                  "page to see it."))
    session.refresh(placement)
    audit.record(session, actor, "placement.outcome_recorded", "placement", placement.id, before=before,
                 after={"status": outcome, "left_on": left_on.isoformat() if values["left_on"] else None,
                        "reason": values["outcome_reason"]})
    return placement
