"""A complaint as a case: raised by an applicant or intern, handled by staff, followed by the complainant.

This module is the one owner of `Complaint.status`. A case moves received → acknowledged → investigating →
upheld or not upheld (with a reply); each move is a conditional UPDATE (`states.move_if` on the status the
caller read), so of two members of staff pressing the same button one wins and the other is told plainly.
Each move is audited and e-mailed to the complainant in their language.

Staff acknowledge a complaint within `complaint_acknowledge_working_days` Hong Kong working days of
receiving it (`acknowledge_by`); a case still unacknowledged after that day is overdue. The organisation sees
a complaint only once staff share it (the tenancy registration in complaints/models.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from backend.applicants.models import ApplicantProfile, Choice
from backend.audit import service as audit
from backend.complaints.models import Complaint, ComplaintStatus
from backend.complaints.working_days import add_working_days
from backend.core import clock, states
from backend.core.db import utcnow
from backend.core.errors import InvalidTransition, NotFound
from backend.core.forms import Fields, FormInvalid
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext, localised
from backend.core.settings import get_settings
from backend.identity.models import User
from backend.identity.permissions import Permission, can, require, require_visible
from backend.organisations.models import Organisation
from backend.outbox.service import enqueue, in_language, link, render, sign_off
from backend.placements.models import Placement
from backend.projects.models import Project

C = ComplaintStatus
TRANSITIONS: states.Transitions = {
    C.RECEIVED: frozenset({C.ACKNOWLEDGED}),
    C.ACKNOWLEDGED: frozenset({C.INVESTIGATING}),
    C.INVESTIGATING: frozenset({C.UPHELD, C.NOT_UPHELD}),
    C.UPHELD: frozenset(),
    C.NOT_UPHELD: frozenset(),
}
DECIDED = (C.UPHELD, C.NOT_UPHELD)
OUTCOMES = (C.UPHELD.value, C.NOT_UPHELD.value)
SUBJECT_MAX, DETAILS_MAX, REPLY_MAX = 200, 5000, 5000

STATUS_NAMES = {
    C.RECEIVED: lazy_gettext("Received"),
    C.ACKNOWLEDGED: lazy_gettext("Acknowledged"),
    C.INVESTIGATING: lazy_gettext("Being investigated"),
    C.UPHELD: lazy_gettext("Upheld"),
    C.NOT_UPHELD: lazy_gettext("Not upheld"),
}

RECEIVED_SUBJECT = lazy_gettext("We have received your complaint: %(title)s")
RECEIVED_BODY = lazy_gettext(
    "Hello,\n\nWe have received your complaint about %(about)s. We will acknowledge it by %(due)s and tell "
    "you by e-mail at each step. You can follow it here:\n%(link)s\n\n%(sign_off)s")
PROGRESS_SUBJECT = lazy_gettext("Your complaint: %(status)s")
PROGRESS_BODY = lazy_gettext(
    "Hello,\n\nYour complaint \"%(title)s\" about %(about)s is now: %(status)s.\n\n%(reply)s"
    "You can follow it here:\n%(link)s\n\n%(sign_off)s")
REPLY_INTRO = lazy_gettext("Our reply:\n%(reply)s\n\n")
SHARED_SUBJECT = lazy_gettext("A complaint about your organisation has been shared with you")
SHARED_BODY = lazy_gettext(
    "Hello,\n\nThe scheme's staff have shared a complaint about %(about)s with your organisation. You can read "
    "it here:\n%(link)s\n\n%(sign_off)s")


def status_name(status: str) -> str:
    return str(STATUS_NAMES.get(ComplaintStatus(status), status))




def is_overdue(complaint: Complaint, today: date | None = None) -> bool:
    """Still not acknowledged after the working day it was due."""
    return complaint.status == C.RECEIVED and (today or clock.today()) > complaint.acknowledge_by


# --- raising a complaint -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class About:
    value: str  # "project:12" or "organisation:3"
    organisation: Organisation
    project: Project | None


def about_options(session: Session, user: User) -> list[About]:
    """What the person may complain about: the projects they chose or were offered, and every organisation."""
    profile_ids = select(ApplicantProfile.id).where(ApplicantProfile.user_id == user.id)
    chosen = select(Choice.project_id).where(col(Choice.applicant_id).in_(profile_ids))
    placed = select(Placement.project_id).where(col(Placement.applicant_id).in_(profile_ids))
    rows = session.exec(select(Project, Organisation).join(Organisation, col(Organisation.id) == Project.organisation_id)
                        .where(col(Project.id).in_(chosen) | col(Project.id).in_(placed))
                        .order_by(Project.id)).all()
    options = [About(f"project:{project.id}", organisation, project) for project, organisation in rows]
    organisations = session.exec(select(Organisation).where(col(Organisation.verified_at).is_not(None))
                                 .order_by(Organisation.name_en)).all()
    options += [About(f"organisation:{organisation.id}", organisation, None) for organisation in organisations]
    return options


def about_label_of(option: About) -> str:
    name = localised(option.organisation, "name")
    return f"{localised(option.project, 'title')} ({name})" if option.project is not None else name


def about_label(session: Session, complaint: Complaint, language: str | None = None) -> str:
    organisation = session.get(Organisation, complaint.organisation_id)
    project = session.get(Project, complaint.project_id) if complaint.project_id is not None else None
    name = in_language(language, organisation, "name") if language else localised(organisation, "name")
    if project is None:
        return name
    title = in_language(language, project, "title") if language else localised(project, "title")
    return f"{title} ({name})"


class ComplaintInvalid(FormInvalid):
    code = "complaint_invalid"


def raise_complaint(session: Session, actor: User, raw: Mapping[str, str], *, now: datetime | None = None
                    ) -> Complaint:
    """A new case from the form (`about`, `subject`, `details`): stored, acknowledged by e-mail, audited."""
    require(actor, Permission.COMPLAINT_RAISE)
    options = {option.value: option for option in about_options(session, actor)}
    fields = Fields(raw)
    about = fields.choice("about", options, required=_("Choose the project or organisation the complaint is about."),
                          message=_("Choose the project or organisation the complaint is about."))
    subject = fields.text("subject", max_length=SUBJECT_MAX, required=_("Give your complaint a short title."))
    details = fields.text("details", max_length=DETAILS_MAX, required=_("Tell us what happened."))
    fields.raise_if_invalid(_("Check the complaint form."), ComplaintInvalid)
    now = now or utcnow()
    chosen = options[about]
    received_day = now.astimezone(clock.HONG_KONG).date()
    complaint = Complaint(user_id=actor.id, organisation_id=chosen.organisation.id,
                          project_id=chosen.project.id if chosen.project else None, language=actor.preferred_language,
                          subject=subject, details=details, received_at=now,
                          acknowledge_by=add_working_days(received_day,
                                                          get_settings().complaint_acknowledge_working_days))
    session.add(complaint)
    session.flush()
    audit.record(session, actor, "complaint.received", "complaint", complaint.id,
                 after={"organisation_id": complaint.organisation_id, "project_id": complaint.project_id,
                        "acknowledge_by": complaint.acknowledge_by.isoformat()})
    language = actor.preferred_language
    enqueue(session, to=actor.email, subject=RECEIVED_SUBJECT, body=RECEIVED_BODY, language=language,
            template="complaint_received", title=subject, about=about_label(session, complaint, language),
            due=complaint.acknowledge_by.isoformat(), link=link(f"/complaints/{complaint.id}"),
            sign_off=sign_off(language))
    return complaint


# --- handling a case -----------------------------------------------------------------------------------------

def get_case(session: Session, actor: User, complaint_id: int) -> Complaint:
    """For staff: the case by id (refreshed, so a move sees what is stored now)."""
    require(actor, Permission.COMPLAINT_HANDLE)
    complaint = session.exec(select(Complaint).where(Complaint.id == complaint_id)
                             .execution_options(populate_existing=True)).first()
    return require_visible(actor, Permission.COMPLAINT_HANDLE, complaint)


def _tell_complainant(session: Session, complaint: Complaint) -> None:
    user = session.get(User, complaint.user_id) if complaint.user_id is not None else None
    if user is None:
        return  # the complainant's account is gone; staff see the case on its page
    language = user.preferred_language
    decided = complaint.status in DECIDED and complaint.reply
    enqueue(session, to=user.email, subject=PROGRESS_SUBJECT, body=PROGRESS_BODY, language=language,
            template=f"complaint_{complaint.status}", title=complaint.subject,
            about=about_label(session, complaint, language),
            status=render(STATUS_NAMES[ComplaintStatus(complaint.status)], language),
            reply=render(REPLY_INTRO, language, reply=complaint.reply) if decided else "",
            link=link(f"/complaints/{complaint.id}"), sign_off=sign_off(language))


def _move(session: Session, actor: User, complaint: Complaint, to: ComplaintStatus, action: str,
          **values) -> Complaint:
    before = complaint.status
    states.check(TRANSITIONS, before, to, _("This complaint is %(status)s: that step is not possible now.",
                                            status=status_name(before)))
    if not states.move_if(session, Complaint, complaint.id, TRANSITIONS, to,
                          where=[col(Complaint.status) == before], handled_by_id=actor.id, **values):
        session.refresh(complaint)
        raise InvalidTransition(_("Someone else has just moved this complaint on: it is now %(status)s.",
                                  status=status_name(complaint.status)))
    session.refresh(complaint)
    audit.record(session, actor, action, "complaint", complaint.id, before={"status": before},
                 after={"status": to, **{k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                         for k, v in values.items() if k != "reply"}})
    _tell_complainant(session, complaint)
    return complaint


def acknowledge(session: Session, actor: User, complaint: Complaint, *, now: datetime | None = None) -> Complaint:
    require(actor, Permission.COMPLAINT_HANDLE)
    return _move(session, actor, complaint, C.ACKNOWLEDGED, "complaint.acknowledged", acknowledged_at=now or utcnow())


def start_investigation(session: Session, actor: User, complaint: Complaint, *,
                        now: datetime | None = None) -> Complaint:
    require(actor, Permission.COMPLAINT_HANDLE)
    return _move(session, actor, complaint, C.INVESTIGATING, "complaint.investigating",
                 investigating_at=now or utcnow())


def decide(session: Session, actor: User, complaint: Complaint, raw: Mapping[str, str], *,
           now: datetime | None = None) -> Complaint:
    """Upheld or not upheld, with the reply the complainant reads (`outcome`, `reply`)."""
    require(actor, Permission.COMPLAINT_HANDLE)
    fields = Fields(raw)
    outcome = fields.choice("outcome", OUTCOMES, required=_("Choose whether the complaint is upheld."),
                            message=_("Choose whether the complaint is upheld."))
    reply = fields.text("reply", max_length=REPLY_MAX, required=_("Write the reply the complainant will read."))
    fields.raise_if_invalid(_("Check the decision."), ComplaintInvalid)
    return _move(session, actor, complaint, ComplaintStatus(outcome), f"complaint.{outcome}",
                 decided_at=now or utcnow(), reply=reply)


def share(session: Session, actor: User, complaint: Complaint, *, now: datetime | None = None) -> Complaint:
    """Show the complaint to the organisation it is about (idempotent: sharing twice changes nothing)."""
    require(actor, Permission.COMPLAINT_HANDLE)
    now = now or utcnow()
    shared = session.execute(update(Complaint).where(col(Complaint.id) == complaint.id,
                                                     col(Complaint.shared_at).is_(None))
                             .values(shared_at=now).execution_options(synchronize_session=False)).rowcount == 1
    session.refresh(complaint)
    if not shared:
        return complaint
    audit.record(session, actor, "complaint.shared", "complaint", complaint.id,
                 after={"organisation_id": complaint.organisation_id})
    organisation = session.get(Organisation, complaint.organisation_id)
    if organisation is not None and organisation.contact_email:
        enqueue(session, to=organisation.contact_email, subject=SHARED_SUBJECT, body=SHARED_BODY, language="en",
                template="complaint_shared", about=about_label(session, complaint, "en"),
                link=link(f"/complaints/{complaint.id}"), sign_off=sign_off("en"))
    return complaint


# --- what each party sees ------------------------------------------------------------------------------------

def staff_cases(session: Session, actor: User, *, status: str = "") -> list[Complaint]:
    """Every case, oldest unfinished first; `status` narrows to one status or to "overdue"."""
    require(actor, Permission.COMPLAINT_HANDLE)
    query = select(Complaint)
    if status == "overdue":
        query = query.where(Complaint.status == C.RECEIVED, col(Complaint.acknowledge_by) < clock.today())
    elif status in {s.value for s in C}:
        query = query.where(Complaint.status == status)
    rows = session.exec(query.order_by(col(Complaint.received_at), col(Complaint.id))).all()
    return sorted(rows, key=lambda c: (c.status in DECIDED, c.received_at))


def own_complaints(session: Session, actor: User) -> list[Complaint]:
    require(actor, Permission.COMPLAINT_VIEW_OWN)
    return list(session.exec(select(Complaint).where(Complaint.user_id == actor.id)
                             .order_by(col(Complaint.received_at).desc(), col(Complaint.id).desc())).all())


def shared_complaints(session: Session, actor: User, organisation_id: int | None) -> list[Complaint]:
    require(actor, Permission.COMPLAINT_VIEW_SHARED)
    if organisation_id is None:
        return []
    return list(session.exec(select(Complaint).where(Complaint.organisation_id == organisation_id,
                                                     col(Complaint.shared_at).is_not(None))
                             .order_by(col(Complaint.received_at).desc())).all())


def visible_complaint(session: Session, actor: User, complaint_id: int) -> Complaint:
    """The complainant's own case, or (for its organisation) a shared one; anything else is not found."""
    complaint = session.get(Complaint, complaint_id)
    for permission in (Permission.COMPLAINT_VIEW_OWN, Permission.COMPLAINT_VIEW_SHARED, Permission.COMPLAINT_HANDLE):
        if complaint is not None and complaint.erased_at is None and can(actor, permission, complaint):
            return complaint
    raise NotFound(_("We could not find that."))


# --- for the track record ------------------------------------------------------------------------------------

def upheld_complaints_by_organisation(session: Session, organisation_ids: Iterable[int]) -> dict[int, int]:
    """Organisation id → complaints upheld against it (every id asked for is present, 0 if none)."""
    ids = sorted(set(organisation_ids))
    counts = dict.fromkeys(ids, 0)
    if ids:
        for organisation_id, n in session.exec(
                select(Complaint.organisation_id, func.count()).where(col(Complaint.organisation_id).in_(ids),
                                                                       Complaint.status == C.UPHELD)
                .group_by(Complaint.organisation_id)).all():
            counts[organisation_id] = int(n)
    return counts


# --- personal data -------------------------------------------------------------------------------------------

PERSONAL_FIELDS = ("subject", "details", "reply")


def complaints_for_export(session: Session, user: User) -> list[Complaint]:
    return list(session.exec(select(Complaint).where(Complaint.user_id == user.id).order_by(Complaint.id)).all())


def _erase(session: Session, complaint: Complaint, now: datetime) -> None:
    for field in PERSONAL_FIELDS:
        setattr(complaint, field, "")
    complaint.user_id = None
    complaint.erased_at = now
    session.add(complaint)


def erase_complaints_of(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    """The person's complaints lose their text and their link to the person; outcomes stay for the record."""
    now = now or utcnow()
    rows = session.exec(select(Complaint).where(Complaint.user_id == user_id)).all()
    for complaint in rows:
        _erase(session, complaint, now)
    session.flush()
    return len(rows)


def purge_decided_complaints(session: Session, *, today: date | None = None) -> int:
    """Retention: a case decided more than `complaint_retention_days` ago keeps only its outcome."""
    today = today or clock.today()
    cutoff = datetime.combine(today - timedelta(days=get_settings().complaint_retention_days), datetime.min.time(),
                              tzinfo=clock.HONG_KONG)
    now = utcnow()
    rows = session.exec(select(Complaint).where(col(Complaint.status).in_(DECIDED),
                                                col(Complaint.erased_at).is_(None),
                                                col(Complaint.decided_at) < cutoff)).all()
    for complaint in rows:
        _erase(session, complaint, now)
        audit.record(session, None, "complaint.purged", "complaint", complaint.id)
    session.flush()
    return len(rows)
