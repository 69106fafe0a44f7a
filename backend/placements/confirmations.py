"""After the internship: interns confirm what they received of what the project promised, and answer a survey.

A project states, per place, what it will pay for: an allowance, travel, accommodation and insurance
(`Project.cost_*`, in HKD). Once the project's end date has passed, each intern holding a place on it
(accepted or completed) is asked - by e-mail in their language and on their status page - to confirm each
stated amount (received in full, partly and how much, or not at all) and to rate the internship 1-5 with
comments. Only the amounts the project stated are asked about.

The form can be saved and finished later: every save keeps the form as typed (`draft`), even when a field
is wrong, and only "send" checks it. A sent confirmation in which any amount was not received in full is
a mismatch, listed for staff (/staff/confirmations and the staff project page) and counted in the
organisation's track record.

`ask_and_remind` (the `internmatch ask-confirmations` task, run daily) asks interns whose internship has
ended and reminds, every `confirmation_remind_after_days`, at most `confirmation_reminders` times, those
who have not sent their answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from backend.applicants.models import ApplicantProfile
from backend.audit import service as audit
from backend.core import clock
from backend.core.db import utcnow
from backend.core.errors import NotFound
from backend.core.forms import Fields, FormInvalid
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.core.settings import get_settings
from backend.identity.models import User
from backend.identity.permissions import Permission, require
from backend.organisations.models import Organisation
from backend.outbox.service import enqueue, in_language, link, sign_off
from backend.placements.models import InternConfirmation, Placement, PlacementStatus, Received
from backend.projects.models import Project

# The items asked about, in order, with the project's column stating each amount per place.
ITEMS = (("allowance", "cost_allowance"), ("travel", "cost_travel"), ("accommodation", "cost_accommodation"),
         ("insurance", "cost_insurance"))
ITEM_NAMES = {
    "allowance": lazy_gettext("Allowance"),
    "travel": lazy_gettext("Travel"),
    "accommodation": lazy_gettext("Accommodation"),
    "insurance": lazy_gettext("Insurance"),
}
RECEIVED_NAMES = {
    Received.FULL: lazy_gettext("Received in full"),
    Received.PART: lazy_gettext("Received in part"),
    Received.NONE: lazy_gettext("Not received"),
}
# Interns who took up their place (to the end, still there, or leaving early) are asked; a no-show received nothing.
ASKED_STATUSES = (PlacementStatus.ACCEPTED, PlacementStatus.COMPLETED, PlacementStatus.LEFT_EARLY)
COMMENTS_MAX = 2000
DRAFT_VALUE_MAX = 2000

ASK_SUBJECT = lazy_gettext("Your internship has ended: tell us what you received")
ASK_BODY = lazy_gettext(
    "Hello,\n\nYour internship \"%(title)s\" with %(organisation)s has ended. The project promised you an "
    "allowance and other support paid from public money. Please confirm, amount by amount, what you actually "
    "received, and tell us how the internship went. It takes a few minutes, and you can save and finish later:\n"
    "%(link)s\n\n%(sign_off)s")
REMIND_SUBJECT = lazy_gettext("Reminder: tell us what you received during your internship")
REMIND_BODY = lazy_gettext(
    "Hello,\n\nWe have not yet had your answers about the internship \"%(title)s\" with %(organisation)s. "
    "Please confirm what you received of the amounts the project promised and answer a short survey:\n"
    "%(link)s\n\n%(sign_off)s")


class ConfirmationInvalid(FormInvalid):
    code = "confirmation_invalid"


def item_name(item: str) -> str:
    return str(ITEM_NAMES.get(item, item))


def received_name(value: str) -> str:
    return str(RECEIVED_NAMES.get(Received(value), value)) if value in Received._value2member_map_ else value


def words() -> dict:
    """Helpers the confirmation templates use."""
    return {"item_name": item_name, "received_name": received_name, "shortfall": shortfall}


def promised_of(project: Project) -> dict[str, int]:
    """What the project stated, per place, for each item it stated at all (an item at HK$0 is not asked)."""
    return {item: int(getattr(project, column) or 0) for item, column in ITEMS if (getattr(project, column) or 0) > 0}




def _due(today: date):
    return (col(Placement.status).in_(ASKED_STATUSES), col(Project.end_date).is_not(None),
            col(Project.end_date) < today)


@dataclass
class Owed:
    """One ended internship of the intern's, with what they have answered so far (None: not started)."""
    placement: Placement
    project: Project
    organisation: Organisation
    confirmation: InternConfirmation | None

    @property
    def sent(self) -> bool:
        return self.confirmation is not None and self.confirmation.submitted_at is not None

    @property
    def promised(self) -> dict[str, int]:
        if self.confirmation is not None and self.confirmation.promised:
            return self.confirmation.promised
        return promised_of(self.project)


def _profile(session: Session, user: User) -> ApplicantProfile | None:
    return session.exec(select(ApplicantProfile).where(ApplicantProfile.user_id == user.id)).first()


def owed_by(session: Session, user: User, *, today: date | None = None) -> list[Owed]:
    """The intern's ended internships, each with its confirmation if begun."""
    require(user, Permission.PLACEMENT_RESPOND)
    profile = _profile(session, user)
    if profile is None:
        return []
    rows = session.exec(
        select(Placement, Project, Organisation, InternConfirmation)
        .join(Project, col(Project.id) == Placement.project_id)
        .join(Organisation, col(Organisation.id) == Project.organisation_id)
        .outerjoin(InternConfirmation, col(InternConfirmation.placement_id) == Placement.id)
        .where(Placement.applicant_id == profile.id, *_due(today or clock.today()))
        .order_by(col(Project.end_date).desc(), col(Placement.id))).all()
    return [Owed(*row) for row in rows]


def owed_one(session: Session, user: User, placement_id: int, *, today: date | None = None) -> Owed:
    """One of the intern's ended internships; anyone else's, or one not yet ended, is not found."""
    for owed in owed_by(session, user, today=today):
        if owed.placement.id == placement_id:
            return owed
    raise NotFound(_("We could not find that."))


def _start(session: Session, placement: Placement, project: Project, now: datetime) -> InternConfirmation:
    """The placement's confirmation, made if missing. The daily task and the intern may make it at the same
    moment: the insert does nothing if the other's row is there (one row per placement), and both use it."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(InternConfirmation).values(
        placement_id=placement.id, project_id=project.id, applicant_id=placement.applicant_id,
        promised=promised_of(project), answers={}, draft={}, comments="", mismatch=False, reminders_sent=0,
        updated_at=now).on_conflict_do_nothing(index_elements=["placement_id"]))
    return session.exec(select(InternConfirmation).where(InternConfirmation.placement_id == placement.id)
                        .execution_options(populate_existing=True)).one()


def _already_sent() -> ConfirmationInvalid:
    return ConfirmationInvalid({}, _("You have already sent your answers for this internship."))


def _while_unsent(session: Session, confirmation: InternConfirmation, **values) -> None:
    """Change the confirmation only while it is unsent: of two sends at once (two tabs), one goes through."""
    changed = session.execute(update(InternConfirmation)
                              .where(col(InternConfirmation.id) == confirmation.id,
                                     col(InternConfirmation.submitted_at).is_(None))
                              .values(**values).execution_options(synchronize_session=False)).rowcount
    session.refresh(confirmation)
    if changed != 1:
        raise _already_sent()


def draft_values(owed: Owed) -> dict[str, str]:
    """The form as the intern last left it (or empty)."""
    return dict(owed.confirmation.draft) if owed.confirmation is not None else {}


def _fields_of(promised: Mapping[str, int]) -> list[str]:
    names = []
    for item in promised:
        names += [f"{item}_received", f"{item}_amount"]
    return names + ["rating", "comments"]


def save(session: Session, user: User, placement_id: int, raw: Mapping[str, str], *, send: bool,
         now: datetime | None = None, today: date | None = None) -> InternConfirmation:
    """Keep the form as typed; with `send`, check it and record the answers (once).

    On a field error the draft is still kept (the request commits it) and `ConfirmationInvalid` is raised.
    """
    now = now or utcnow()
    owed = owed_one(session, user, placement_id, today=today)
    if owed.sent:
        raise _already_sent()
    confirmation = owed.confirmation or _start(session, owed.placement, owed.project, now)
    promised = confirmation.promised
    _while_unsent(session, confirmation, updated_at=now,
                  draft={name: str(raw.get(name) or "")[:DRAFT_VALUE_MAX] for name in _fields_of(promised)})
    if not send:
        return confirmation
    fields = Fields(raw)
    answers: dict[str, dict] = {}
    for item, stated in promised.items():
        received = fields.choice(f"{item}_received", Received,
                                 required=_("Say whether you received the %(item)s.", item=item_name(item).lower()))
        amount = stated if received == Received.FULL else 0
        if received == Received.PART:
            amount = fields.money(f"{item}_amount",
                                  required=_("Enter how much of the %(item)s you received, in Hong Kong dollars.",
                                             item=item_name(item).lower()))
            if amount is not None and not 0 < amount < stated:
                fields.fail(f"{item}_amount", _("Enter an amount more than HK$0 and less than the HK$%(stated)s "
                                                "promised; otherwise choose “Received in full” or “Not received”.",
                                                stated=f"{stated:,}"))
        if received is not None:
            answers[item] = {"received": received, "amount": amount}
    rating = fields.whole("rating", 1, 5, required=_("Rate your internship from 1 to 5."),
                          message=_("Rate your internship from 1 to 5."))
    comments = fields.text("comments", max_length=COMMENTS_MAX)
    fields.raise_if_invalid(_("Check your answers: they are saved, and you can finish later."), ConfirmationInvalid)
    _while_unsent(session, confirmation, answers=answers, rating=rating, comments=comments or "", draft={},
                  mismatch=any(a["received"] != Received.FULL for a in answers.values()), submitted_at=now,
                  updated_at=now)
    audit.record(session, user, "confirmation.sent", "intern_confirmation", confirmation.id,
                 after={"placement_id": confirmation.placement_id, "mismatch": confirmation.mismatch,
                        "answers": answers, "rating": rating})
    return confirmation


# --- asking and reminding ------------------------------------------------------------------------------------

@dataclass
class AskStats:
    asked: int = 0
    reminded: int = 0


def _email(session: Session, placement: Placement, project: Project, subject, body, template: str) -> bool:
    profile = session.get(ApplicantProfile, placement.applicant_id)
    user = session.get(User, profile.user_id) if profile is not None and profile.user_id is not None else None
    if user is None:
        return False  # the intern's account is gone: nobody to ask
    language = user.preferred_language
    organisation = session.get(Organisation, project.organisation_id)
    enqueue(session, to=user.email, subject=subject, body=body, language=language, template=template,
            title=in_language(language, project, "title"), organisation=in_language(language, organisation, "name"),
            link=link(f"/status/confirmations/{placement.id}"), sign_off=sign_off(language))
    return True


def ask_and_remind(session: Session, *, now: datetime | None = None, today: date | None = None) -> AskStats:
    """Ask every intern whose internship has ended, once; remind those who have not answered. Caller commits."""
    now = now or utcnow()
    today = today or now.astimezone(clock.HONG_KONG).date()
    settings = get_settings()
    stats = AskStats()
    rows = session.exec(
        select(Placement, Project, InternConfirmation)
        .join(Project, col(Project.id) == Placement.project_id)
        .outerjoin(InternConfirmation, col(InternConfirmation.placement_id) == Placement.id)
        .where(*_due(today), col(InternConfirmation.submitted_at).is_(None))
        .order_by(col(Placement.id))).all()
    wait = timedelta(days=settings.confirmation_remind_after_days)
    for placement, project, confirmation in rows:
        if confirmation is None:
            confirmation = _start(session, placement, project, now)
        if confirmation.asked_at is None:
            if _email(session, placement, project, ASK_SUBJECT, ASK_BODY, "confirmation_asked"):
                confirmation.asked_at = now
                stats.asked += 1
        else:
            last = confirmation.last_reminded_at or confirmation.asked_at
            if confirmation.reminders_sent >= settings.confirmation_reminders or now - last < wait:
                continue
            if _email(session, placement, project, REMIND_SUBJECT, REMIND_BODY, "confirmation_reminder"):
                confirmation.reminders_sent += 1
                confirmation.last_reminded_at = now
                stats.reminded += 1
        session.add(confirmation)
    session.flush()
    return stats


# --- what staff see ------------------------------------------------------------------------------------------

@dataclass
class Sent:
    confirmation: InternConfirmation
    project: Project
    organisation: Organisation
    profile: ApplicantProfile


def _sent(session: Session, *where) -> list[Sent]:
    rows = session.exec(
        select(InternConfirmation, Project, Organisation, ApplicantProfile)
        .join(Project, col(Project.id) == InternConfirmation.project_id)
        .join(Organisation, col(Organisation.id) == Project.organisation_id)
        .join(ApplicantProfile, col(ApplicantProfile.id) == InternConfirmation.applicant_id)
        .where(col(InternConfirmation.submitted_at).is_not(None), *where)
        .order_by(col(InternConfirmation.submitted_at).desc(), col(InternConfirmation.id).desc())).all()
    return [Sent(*row) for row in rows]


def mismatches(session: Session, actor: User) -> list[Sent]:
    """Every sent confirmation in which an intern did not receive in full what the project promised."""
    require(actor, Permission.PROJECT_VIEW_ALL)
    return _sent(session, col(InternConfirmation.mismatch).is_(True))


@dataclass
class ProjectConfirmations:
    interns: int  # interns asked or to be asked (the project has ended)
    sent: list[Sent]

    @property
    def mismatches(self) -> list[Sent]:
        return [s for s in self.sent if s.confirmation.mismatch]


def for_project(session: Session, actor: User, project: Project) -> ProjectConfirmations:
    require(actor, Permission.PROJECT_VIEW_ALL)
    interns = len(session.exec(select(Placement.id).where(Placement.project_id == project.id,
                                                          col(Placement.status).in_(ASKED_STATUSES))).all())
    return ProjectConfirmations(interns, _sent(session, InternConfirmation.project_id == project.id))


def shortfall(confirmation: InternConfirmation) -> list[tuple[str, int, str, int]]:
    """(item, promised, received answer, amount received) for each item not received in full."""
    return [(item, confirmation.promised.get(item, 0), answer["received"], answer["amount"])
            for item, answer in confirmation.answers.items() if answer["received"] != Received.FULL]


# --- personal data -------------------------------------------------------------------------------------------

def for_export(session: Session, applicant_id: int) -> list[InternConfirmation]:
    return list(session.exec(select(InternConfirmation).where(InternConfirmation.applicant_id == applicant_id)
                             .order_by(col(InternConfirmation.id))).all())


def _erase(confirmation: InternConfirmation, now: datetime) -> None:
    confirmation.comments = ""
    confirmation.draft = {}
    confirmation.erased_at = now


def erase_of(session: Session, applicant_id: int, *, now: datetime | None = None) -> int:
    """The intern's comments and unsent answers go; sent amounts and rating stay for the track record."""
    now = now or utcnow()
    rows = session.exec(select(InternConfirmation).where(InternConfirmation.applicant_id == applicant_id,
                                                         col(InternConfirmation.erased_at).is_(None))).all()
    for confirmation in rows:
        _erase(confirmation, now)
        session.add(confirmation)
    session.flush()
    return len(rows)


def purge_old(session: Session, *, today: date | None = None) -> int:
    """Retention: comments and drafts of confirmations older than `confirmation_retention_days` are erased."""
    today = today or clock.today()
    cutoff = datetime.combine(today - timedelta(days=get_settings().confirmation_retention_days),
                              datetime.min.time(), tzinfo=clock.HONG_KONG)
    now = utcnow()
    rows = session.exec(select(InternConfirmation).where(col(InternConfirmation.erased_at).is_(None),
                                                         col(InternConfirmation.updated_at) < cutoff)).all()
    for confirmation in rows:
        _erase(confirmation, now)
        session.add(confirmation)
        audit.record(session, None, "confirmation.purged", "intern_confirmation", confirmation.id)
    session.flush()
    return len(rows)
