"""An applicant's ranked choices of projects while the scheme's applicant window is open, and their status.

Ranks are contiguous 1..n per scheme among the active choices; a withdrawn choice keeps its row (the
NGO's notes and the history stay) with rank 0, and choosing that project again revives the row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.applicants import choice_status, demand, origin_confirmation
from backend.applicants.eligibility import evaluate
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.applicants.profile import hk_today, own_profile
from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import Conflict, DomainError, NotFound
from backend.core.formatting import long_date
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext, localised
from backend.identity import permissions as authz
from backend.identity.models import User
from backend.outbox.service import enqueue, sign_off, speaking
from backend.placements.models import OUTCOME_STATUSES, Placement, PlacementStatus
from backend.projects.models import Project, ProjectStatus
from backend.schemes import timetable
from backend.schemes.models import Scheme

STATUS_LABELS = {
    ChoiceStatus.SUBMITTED: lazy_gettext("Submitted"),
    ChoiceStatus.SHORTLISTED: lazy_gettext("Shortlisted"),
    ChoiceStatus.INTERVIEWED: lazy_gettext("Interviewed"),
    ChoiceStatus.OFFERED: lazy_gettext("Offered a place"),
    ChoiceStatus.ACCEPTED: lazy_gettext("Accepted"),
    ChoiceStatus.DECLINED: lazy_gettext("Declined"),
    ChoiceStatus.NOT_PLACED: lazy_gettext("Not placed"),
    ChoiceStatus.WITHDRAWN: lazy_gettext("Withdrawn"),
    ChoiceStatus.CLOSED: lazy_gettext("Closed"),
}
NEXT_STEPS = {
    ChoiceStatus.SHORTLISTED: lazy_gettext(
        "You are on the shortlist. The organisation will contact you to arrange an interview."),
    ChoiceStatus.INTERVIEWED: lazy_gettext(
        "You have had your interview. Places are offered when the matching round is approved; "
        "we will e-mail you."),
    ChoiceStatus.OFFERED: lazy_gettext(
        "You have been offered a place. Accept or decline it on your offers page before the deadline."),
    ChoiceStatus.ACCEPTED: lazy_gettext(
        "You have accepted the place. The organisation will contact you about getting ready for the internship."),
    ChoiceStatus.DECLINED: lazy_gettext("You declined this place. There is nothing more to do for this project."),
    ChoiceStatus.NOT_PLACED: lazy_gettext(
        "You were not placed on this project this time. You can apply again in the next scheme."),
    ChoiceStatus.CLOSED: lazy_gettext(
        "You have accepted a place in this scheme, so this choice is closed. There is nothing more to do for it."),
}
NEXT_STEP_WINDOW_OPEN = lazy_gettext(
    "The organisation reviews applications after the window closes on %(closes)s. "
    "Until then you can change the order of your choices.")
NEXT_STEP_WINDOW_CLOSED = lazy_gettext(
    "The organisation is reviewing applications. They will contact you if you are shortlisted.")
NEXT_STEP_SCRAMBLE = lazy_gettext(
    "You applied for an unfilled place. The organisation ranks applicants for unfilled places until %(closes)s; "
    "then a refill round offers the places, and we will e-mail you.")
CONFIRM_SUBJECT = lazy_gettext("Your project choices for %(scheme)s")
CONFIRM_BODY = lazy_gettext(
    "Hello %(name)s,\n\nWe have saved your project choices, in the order you ranked them:\n\n%(choices)s\n\n"
    "You can change them until %(closes)s.\n\n%(sign_off)s")


@dataclass(frozen=True)
class ChoiceItem:
    id: int
    project_id: int
    scheme_id: int
    title: str
    rank: int
    status: str
    status_label: str
    first: bool
    last: bool
    movable: bool = True  # still open, and no place accepted in the scheme: the order can change
    settled: bool = False  # she holds a place in the scheme: nothing in its list changes any more
    in_scramble: bool = False  # an application for an unfilled place, made after match day


@dataclass(frozen=True)
class ChoiceState:
    id: int
    project_id: int
    title: str
    rank: int
    status: str
    status_label: str
    chosen_on: date
    status_since: date
    next_step: str
    scheme_id: int = 0
    settled: bool = False  # she holds a place in the scheme: the choice can no longer change
    in_scramble: bool = False  # an application for an unfilled place, made after match day


@dataclass(frozen=True)
class StatusOverview:
    profile_submitted: bool
    choices: list[ChoiceState]
    # For an applicant from Guangdong: "awaiting" (not matched until the Guangdong office confirms her),
    # "confirmed" or "refused" (with the office's reason); "not_applicable" for everyone else.
    origin_confirmation: str = "not_applicable"
    origin_refusal_reason: str = ""


# A choice in one of these statuses means the applicant holds a place in the scheme: her list is settled.
SETTLED_BY_ACCEPTING = (ChoiceStatus.ACCEPTED, ChoiceStatus.CLOSED)
# So does a place she accepted (and its outcome later), whichever way it came: an officer's placement on a
# project she never chose leaves no accepted choice behind, and closes none if none was open.
PLACE_HELD = (PlacementStatus.ACCEPTED, *OUTCOME_STATUSES)
# An offer she declined or let lapse settles the pair for good: no round offers it again, so she is not
# invited to choose the project again either.
OFFER_ANSWERED_NO = (PlacementStatus.DECLINED, PlacementStatus.EXPIRED)


def settled_schemes(session: Session, applicant_ids: Iterable[int], choices: Iterable[Choice] = ()) -> set[int]:
    """The schemes in which these applicants hold a place: there their lists no longer change."""
    applicant_ids = sorted(set(applicant_ids))
    settled = {c.scheme_id for c in choices if c.status in SETTLED_BY_ACCEPTING}
    if applicant_ids:
        settled |= set(session.exec(select(Placement.scheme_id).where(
            col(Placement.applicant_id).in_(applicant_ids), col(Placement.status).in_(PLACE_HELD))))
        settled |= set(session.exec(select(Choice.scheme_id).where(
            col(Choice.applicant_id).in_(applicant_ids), col(Choice.status).in_(SETTLED_BY_ACCEPTING))))
    return settled


def offers_answered_no(session: Session, profile: ApplicantProfile) -> set[int]:
    """Projects whose offer she declined or let lapse."""
    return set(session.exec(select(Placement.project_id).where(
        Placement.applicant_id == profile.id, col(Placement.status).in_(OFFER_ANSWERED_NO))))


def settled_message() -> str:
    return _("You have accepted a place in this scheme, so your choices can no longer change.")


def _require_unsettled(session: Session, profile: ApplicantProfile, scheme_id: int, active: list[Choice],
                       field: str = "project_id") -> None:
    if scheme_id in settled_schemes(session, [profile.id], active):
        raise Conflict(settled_message(), field=field)


def window_is_open(scheme: Scheme, today: date | None = None) -> bool:
    today = today or hk_today()
    return scheme.applicant_window_opens <= today <= scheme.applicant_window_closes


def active_choices(session: Session, profile: ApplicantProfile, scheme_id: int | None = None) -> list[Choice]:
    """Her choices not withdrawn (in her ranking), in rank order per scheme."""
    query = select(Choice).where(Choice.applicant_id == profile.id, Choice.status != ChoiceStatus.WITHDRAWN)
    if scheme_id is not None:
        query = query.where(Choice.scheme_id == scheme_id)
    return list(session.exec(query.order_by(Choice.scheme_id, Choice.rank, Choice.id)))


def _renumber(session: Session, choices: list[Choice]) -> None:
    moving = [(rank, choice) for rank, choice in enumerate(choices, 1) if choice.rank != rank]
    if not moving:
        return
    # A rank is unique among active choices and each row is checked as it is written, so a swap first
    # parks the moving choices at negative ranks (outside the index) and then gives them their places.
    for rank, choice in moving:
        choice.rank = -rank
        session.add(choice)
    session.flush()
    for rank, choice in moving:
        choice.rank = rank
        choice.updated_at = utcnow()
        session.add(choice)


def park_ranks(session: Session, choices: Iterable[Choice]) -> dict[int, int]:
    """Move the active choices out of the rank index (negative ranks) before ranking them afresh, as an
    import does; returns each one's rank before. `settle_parked_ranks` ranks any left parked."""
    before = {}
    for choice in choices:
        if choice.status != ChoiceStatus.WITHDRAWN and choice.rank > 0:
            before[choice.id] = choice.rank
            choice.rank = -choice.rank
            session.add(choice)
    session.flush()
    return before


def settle_parked_ranks(session: Session, profile: ApplicantProfile) -> None:
    """Active choices still parked follow the ranked ones, in their earlier order; ranks close up to 1..n."""
    by_scheme: dict[int, list[Choice]] = {}
    for choice in active_choices(session, profile):
        by_scheme.setdefault(choice.scheme_id, []).append(choice)
    for active in by_scheme.values():
        _renumber(session, [c for c in active if c.rank > 0]
                  + sorted((c for c in active if c.rank < 0), key=lambda c: -c.rank))


def lock_choices(session: Session, profile: ApplicantProfile) -> None:
    """Hold the applicant's profile row until the transaction ends, so their choices change one request
    at a time: a parallel request counts the choices only after this one has committed its own.

    A no-op UPDATE is a row lock on PostgreSQL and takes SQLite's write lock, where SELECT ... FOR
    UPDATE would be ignored.
    """
    session.execute(update(ApplicantProfile).where(col(ApplicantProfile.id) == profile.id)
                    .values(user_id=ApplicantProfile.user_id))


def _items(session: Session, choices: list[Choice]) -> list[ChoiceItem]:
    projects = {p.id: p for p in session.exec(
        select(Project).where(col(Project.id).in_([c.project_id for c in choices])))} if choices else {}
    last_rank: dict[int, int] = {}
    for c in choices:
        last_rank[c.scheme_id] = max(last_rank.get(c.scheme_id, 0), c.rank)
    settled = settled_schemes(session, {c.applicant_id for c in choices}, choices)
    return [ChoiceItem(c.id, c.project_id, c.scheme_id, localised(projects[c.project_id], "title"), c.rank,
                       str(c.status), str(STATUS_LABELS[ChoiceStatus(c.status)]), c.rank == 1,
                       c.rank == last_rank[c.scheme_id],
                       c.status in choice_status.OPEN_STATUSES and c.scheme_id not in settled
                       and not c.in_scramble,
                       c.scheme_id in settled, c.in_scramble) for c in choices]


def scheme_names(session: Session, items: list[ChoiceItem]) -> dict[int, str]:
    """The name of each scheme her choices are in, in the reader's language (ranks count within a scheme)."""
    ids = {item.scheme_id for item in items}
    if not ids:
        return {}
    return {s.id: localised(s, "name") for s in session.exec(select(Scheme).where(col(Scheme.id).in_(ids)))}


def list_choices(session: Session, actor: User) -> list[ChoiceItem]:
    authz.require(actor, authz.Permission.APPLICANT_CHOOSE_PROJECTS)
    profile = own_profile(session, actor, create=True)
    return _items(session, active_choices(session, profile))


def _require_open_window(scheme: Scheme, today: date) -> None:
    if today < scheme.applicant_window_opens:
        raise Conflict(_("Choices open on %(opens)s.", opens=long_date(scheme.applicant_window_opens)))
    if today > scheme.applicant_window_closes:
        raise Conflict(_("The application window closed on %(closes)s, so your choices can no longer change.",
                         closes=long_date(scheme.applicant_window_closes)))


def _own_choice(session: Session, profile: ApplicantProfile, choice_id: int) -> Choice:
    choice = session.get(Choice, choice_id)
    if choice is None or choice.applicant_id != profile.id or choice.status == ChoiceStatus.WITHDRAWN:
        raise NotFound(_("We could not find that choice."))
    return choice


def add_choice(session: Session, actor: User, project_id: int, *, today: date | None = None) -> list[ChoiceItem]:
    """Adds the project at the bottom of the applicant's ranking; returns the choices in order."""
    authz.require(actor, authz.Permission.APPLICANT_CHOOSE_PROJECTS)
    today = today or hk_today()
    profile = own_profile(session, actor, create=True)
    project = session.get(Project, project_id)
    if project is None or project.status != ProjectStatus.OPEN:
        raise NotFound(_("We could not find that project, or it is no longer open."))
    scheme = session.get(Scheme, project.scheme_id)
    _require_open_window(scheme, today)
    lock_choices(session, profile)
    active = active_choices(session, profile, scheme.id)
    _require_unsettled(session, profile, scheme.id, active)
    if any(c.project_id == project.id for c in active):
        raise Conflict(_("This project is already among your choices."), field="project_id")
    if project.id in offers_answered_no(session, profile):
        raise Conflict(_("You declined an offer on this project, or let it lapse, so it will not be offered to you "
                         "again."), field="project_id")
    if len(active) >= scheme.max_choices:
        raise Conflict(_("You can choose up to %(max)s projects. Withdraw one to choose another.",
                         max=scheme.max_choices), field="project_id")
    eligibility = evaluate(profile, project)
    if not eligibility.eligible:
        raise DomainError(_("You cannot choose this project: %(reasons)s", reasons=eligibility.summary),
                          field="project_id", reasons=[r.message for r in eligibility.unmet],
                          missing=[m.step for m in eligibility.missing])
    choice = session.exec(select(Choice).where(Choice.applicant_id == profile.id,
                                               Choice.project_id == project.id)).first()
    try:
        with session.begin_nested():
            if choice is None:
                choice = Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id,
                                rank=len(active) + 1)
                demand.chosen(session, project.id)
            else:
                choice_status.revive(session, choice, len(active) + 1)
            session.add(choice)
            session.flush()
    except IntegrityError:
        # Only a writer that bypassed the profile lock can get here; the index still keeps ranks whole.
        raise Conflict(_("Your choices were changed at the same moment in another window. "
                         "Reload the page and try again."), field="project_id") from None
    audit.record(session, actor, "choice.added", "choice", choice.id,
                 after={"project_id": project.id, "rank": choice.rank})
    _confirm(session, actor, profile, scheme)
    return _items(session, active_choices(session, profile))


def move_choice(session: Session, actor: User, choice_id: int, direction: str, *, today: date | None = None
                ) -> list[ChoiceItem]:
    """Swaps the choice with its neighbour above ("up") or below ("down"); a plain POST, no JavaScript."""
    authz.require(actor, authz.Permission.APPLICANT_CHOOSE_PROJECTS)
    if direction not in ("up", "down"):
        raise DomainError(_("Move a choice up or down."), field="direction")
    profile = own_profile(session, actor)
    choice = _own_choice(session, profile, choice_id)
    _require_open_window(session.get(Scheme, choice.scheme_id), today or hk_today())
    lock_choices(session, profile)
    ranked = active_choices(session, profile, choice.scheme_id)
    _require_unsettled(session, profile, choice.scheme_id, ranked, field="choices")
    at = next(k for k, c in enumerate(ranked) if c.id == choice.id)
    other = at - 1 if direction == "up" else at + 1
    if 0 <= other < len(ranked):
        ranked[at], ranked[other] = ranked[other], ranked[at]
        _renumber(session, ranked)
        session.flush()
        audit.record(session, actor, "choice.moved", "choice", choice.id,
                     after={"direction": direction, "rank": choice.rank})
    return _items(session, active_choices(session, profile))


def withdraw_choice(session: Session, actor: User, choice_id: int, *, today: date | None = None
                    ) -> list[ChoiceItem]:
    authz.require(actor, authz.Permission.APPLICANT_CHOOSE_PROJECTS)
    profile = own_profile(session, actor)
    choice = _own_choice(session, profile, choice_id)
    scheme = session.get(Scheme, choice.scheme_id)
    # An application made in the scramble can be taken back while the scramble is open.
    if not (choice.in_scramble and timetable.scramble_open(scheme, today or hk_today())):
        _require_open_window(scheme, today or hk_today())
    lock_choices(session, profile)
    _require_unsettled(session, profile, scheme.id, active_choices(session, profile, scheme.id), field="choices")
    choice_status.withdraw(session, actor, choice)
    _renumber(session, active_choices(session, profile, scheme.id))
    _renumber_ngo(session, choice.project_id)
    session.flush()
    remaining = active_choices(session, profile, scheme.id)
    if remaining and not choice.in_scramble:  # the list she ranked before the window closed is unchanged
        _confirm(session, actor, profile, scheme)
    return _items(session, active_choices(session, profile))


def _renumber_ngo(session: Session, project_id: int) -> None:
    """A withdrawal must not leave a gap in the NGO's order of the project's applicants."""
    ranked = session.exec(select(Choice).where(Choice.project_id == project_id, col(Choice.ngo_rank).is_not(None))
                          .order_by(Choice.ngo_rank, Choice.id)).all()
    for rank, choice in enumerate(ranked, 1):
        if choice.ngo_rank != rank:
            choice.ngo_rank = rank
            session.add(choice)


def _confirm(session: Session, actor: User, profile: ApplicantProfile, scheme: Scheme) -> None:
    language = actor.preferred_language or "en"
    choices = active_choices(session, profile, scheme.id)
    projects = {p.id: p for p in session.exec(
        select(Project).where(col(Project.id).in_([c.project_id for c in choices])))}
    with speaking(language):
        lines = "\n".join(f"{c.rank}. {localised(projects[c.project_id], 'title')}" for c in choices)
        closes = long_date(scheme.applicant_window_closes)
        scheme_name = localised(scheme, "name")
    enqueue(session, to=profile.contact_email or actor.email, subject=CONFIRM_SUBJECT, body=CONFIRM_BODY,
            language=language, template="choices_saved", scheme=scheme_name,
            name=actor.display_name or profile.name_en or profile.name_zh, choices=lines, closes=closes,
            sign_off=sign_off(language))


def status_overview(session: Session, actor: User, *, today: date | None = None) -> StatusOverview:
    """Each active choice with its state, since when, and what happens next in plain words."""
    authz.require(actor, authz.Permission.APPLICANT_VIEW_OWN)
    today = today or hk_today()
    profile = own_profile(session, actor, create=True)
    choices = active_choices(session, profile)
    schemes = {s.id: s for s in session.exec(
        select(Scheme).where(col(Scheme.id).in_({c.scheme_id for c in choices})))} if choices else {}
    items = _items(session, choices)
    states = []
    for choice, item in zip(choices, items, strict=True):
        status = ChoiceStatus(choice.status)
        if item.settled and status in choice_status.OPEN_STATUSES:
            next_step = str(NEXT_STEPS[ChoiceStatus.CLOSED])
        elif choice.in_scramble and status in choice_status.OPEN_STATUSES:
            scheme = schemes[choice.scheme_id]
            next_step = str(NEXT_STEP_SCRAMBLE) % {"closes": long_date(scheme.scramble_closes)}
        elif status == ChoiceStatus.SUBMITTED:
            scheme = schemes[choice.scheme_id]
            next_step = (str(NEXT_STEP_WINDOW_OPEN) % {"closes": long_date(scheme.applicant_window_closes)}
                         if window_is_open(scheme, today) else str(NEXT_STEP_WINDOW_CLOSED))
        else:
            next_step = str(NEXT_STEPS[status])
        states.append(ChoiceState(choice.id, choice.project_id, item.title, choice.rank, str(status),
                                  item.status_label, choice.created_at.date(), choice.updated_at.date(),
                                  next_step, choice.scheme_id, item.settled, choice.in_scramble))
    confirmation = origin_confirmation.state_of(profile)
    return StatusOverview(profile.submitted_at is not None, states, str(confirmation),
                          profile.origin_refusal_reason if confirmation == origin_confirmation.S.REFUSED else "")
