"""The scramble: after match day, applicants the round left without a place apply for the places still unfilled.

Modelled on the structured scramble of national clearinghouses (NRMP's SOAP): a published window, only for
those who took part and were not placed, only for places that are really free, and filled by a round rather
than first come, first served:

- *Who* may apply: an applicant who chose projects in the scheme and holds neither a place nor an offer
  awaiting her answer there.
- *What* she sees: the scheme's projects with places left (places granted, less offers awaiting an answer and
  places held), that she meets the requirements of, that she has not chosen already and whose offer she did not
  decline or let lapse.
- *When*: from the scheme's `scramble_opens` to its `scramble_closes`, both included.
- *How many*: up to the scheme's number of choices at once.

Her application is a `Choice` marked `in_scramble`, ranked after her earlier choices. The organisation ranks it
with its other applicants until the window closes (`ngo_view.set_ranking` reopens rankings for the scramble),
and the officer's refill round fills the places from it like any other choice: the refill never proposes a pair
declined, lapsed or excluded (`placements/rounds.settled_pairs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.applicants import choice_status, choices, demand
from backend.applicants.eligibility import evaluate
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.applicants.profile import hk_today, own_profile
from backend.audit import service as audit
from backend.core.errors import Conflict, DomainError, NotFound
from backend.core.formatting import long_date
from backend.core.i18n import gettext as _
from backend.core.i18n import localised
from backend.identity import permissions as authz
from backend.identity.models import User
from backend.market.inputs import MATCHABLE_PROJECT_STATUSES
from backend.placements.models import Placement
from backend.projects.models import Project
from backend.schemes import timetable
from backend.schemes.facts import HOLDING_STATUSES, places_held_by_project
from backend.schemes.models import Scheme


@dataclass(frozen=True)
class Opening:
    project_id: int
    title: str
    city: str
    region: str
    start_date: date
    end_date: date
    places_left: int


@dataclass(frozen=True)
class Application:
    choice_id: int
    project_id: int
    title: str
    status: str
    status_label: str


@dataclass(frozen=True)
class SchemeScramble:
    scheme_id: int
    scheme_name: str
    closes: date
    openings: list[Opening]
    applications: list[Application]
    applications_left: int  # how many more she may make at once


def places_left(session: Session, scheme: Scheme) -> dict[int, int]:
    """Each matchable project of the scheme with a place nobody holds or has been offered, and how many."""
    projects = session.exec(select(Project.id, Project.places_granted).where(
        Project.scheme_id == scheme.id, col(Project.status).in_(MATCHABLE_PROJECT_STATUSES))).all()
    taken = places_held_by_project(session, scheme.id)
    return {pid: (places or 0) - taken.get(pid, 0) for pid, places in projects if (places or 0) > taken.get(pid, 0)}


def _took_part(session: Session, profile: ApplicantProfile, scheme_id: int) -> bool:
    return session.exec(select(Choice.id).where(Choice.applicant_id == profile.id,
                                                Choice.scheme_id == scheme_id)).first() is not None


def _has_offer_or_place(session: Session, profile: ApplicantProfile, scheme_id: int) -> bool:
    return session.exec(select(Placement.id).where(
        Placement.applicant_id == profile.id, Placement.scheme_id == scheme_id,
        col(Placement.status).in_(HOLDING_STATUSES))).first() is not None


def may_take_part(session: Session, profile: ApplicantProfile, scheme: Scheme) -> bool:
    return _took_part(session, profile, scheme.id) and not _has_offer_or_place(session, profile, scheme.id)


def _applications(session: Session, profile: ApplicantProfile, scheme_id: int) -> list[Choice]:
    return list(session.exec(select(Choice).where(
        Choice.applicant_id == profile.id, Choice.scheme_id == scheme_id, col(Choice.in_scramble).is_(True),
        Choice.status != ChoiceStatus.WITHDRAWN).order_by(Choice.rank, Choice.id)))


def _open_schemes(session: Session, profile: ApplicantProfile, today: date) -> list[Scheme]:
    scheme_ids = set(session.exec(select(Choice.scheme_id).where(Choice.applicant_id == profile.id)).all())
    if not scheme_ids:
        return []
    schemes = session.exec(select(Scheme).where(col(Scheme.id).in_(scheme_ids)).order_by(Scheme.id)).all()
    return [s for s in schemes if timetable.scramble_open(s, today)]


def open_to(session: Session, profile: ApplicantProfile | None, *, today: date | None = None) -> list[Scheme]:
    """The schemes whose scramble is open now and in which she may take part (for the status page's pointer)."""
    if profile is None:
        return []
    today = today or hk_today()
    return [s for s in _open_schemes(session, profile, today) if may_take_part(session, profile, s)]


def where_she_may_apply(session: Session, actor: User, *, today: date | None = None) -> list[SchemeScramble]:
    """Each scheme whose scramble is open and in which she may take part, with the places she may apply for."""
    authz.require(actor, authz.Permission.APPLICANT_CHOOSE_PROJECTS)
    today = today or hk_today()
    profile = own_profile(session, actor, create=True)
    found = []
    for scheme in _open_schemes(session, profile, today):
        if not may_take_part(session, profile, scheme):
            continue
        left = places_left(session, scheme)
        mine = choices.active_choices(session, profile, scheme.id)
        chosen = {c.project_id for c in mine}
        answered_no = choices.offers_answered_no(session, profile)
        projects = session.exec(select(Project).where(col(Project.id).in_(list(left)))
                                .order_by(Project.start_date, Project.id)).all() if left else []
        openings = [Opening(p.id, localised(p, "title"), p.city, p.region, p.start_date, p.end_date, left[p.id])
                    for p in projects
                    if p.id not in chosen and p.id not in answered_no and evaluate(profile, p).eligible]
        applied = [c for c in mine if c.in_scramble]
        titles = {p.id: localised(p, "title") for p in session.exec(
            select(Project).where(col(Project.id).in_([c.project_id for c in applied])))} if applied else {}
        found.append(SchemeScramble(
            scheme.id, localised(scheme, "name"), scheme.scramble_closes, openings,
            [Application(c.id, c.project_id, titles[c.project_id], str(c.status),
                         str(choices.STATUS_LABELS[ChoiceStatus(c.status)])) for c in applied],
            max(0, scheme.max_choices - len(applied))))
    return found


def apply(session: Session, actor: User, project_id: int, *, today: date | None = None) -> Choice:
    """She applies for an unfilled place; every rule is checked here, before anything is written."""
    authz.require(actor, authz.Permission.APPLICANT_CHOOSE_PROJECTS)
    today = today or hk_today()
    profile = own_profile(session, actor, create=True)
    project = session.get(Project, project_id)
    if project is None or project.status not in MATCHABLE_PROJECT_STATUSES:
        raise NotFound(_("We could not find that project, or it is no longer open."))
    scheme = session.get(Scheme, project.scheme_id)
    if not timetable.scramble_open(scheme, today):
        if scheme.scramble_opens is None or scheme.scramble_closes is None:
            raise Conflict(_("This scheme has no scramble for unfilled places."), field="project_id")
        if today < scheme.scramble_opens:
            raise Conflict(_("Unfilled places open to applicants on %(opens)s.",
                             opens=long_date(scheme.scramble_opens)), field="project_id")
        raise Conflict(_("Applications for unfilled places closed on %(closes)s.",
                         closes=long_date(scheme.scramble_closes)), field="project_id")
    choices.lock_choices(session, profile)
    if not _took_part(session, profile, scheme.id):
        raise Conflict(_("Unfilled places are open only to applicants who chose projects in this scheme before "
                         "its applications closed."), field="project_id")
    if _has_offer_or_place(session, profile, scheme.id):
        raise Conflict(_("You hold a place or an offer in this scheme, so you cannot apply for unfilled places "
                         "in it."), field="project_id")
    if project_id not in places_left(session, scheme):
        raise Conflict(_("This project has no unfilled place left."), field="project_id")
    existing = session.exec(select(Choice).where(Choice.applicant_id == profile.id,
                                                 Choice.project_id == project.id)).first()
    if existing is not None and existing.status != ChoiceStatus.WITHDRAWN:
        raise Conflict(_("This project is already among your choices."), field="project_id")
    if project.id in choices.offers_answered_no(session, profile):
        raise Conflict(_("You declined an offer on this project, or let it lapse, so it will not be offered to you "
                         "again."), field="project_id")
    if len(_applications(session, profile, scheme.id)) >= scheme.max_choices:
        raise Conflict(_("You can apply for up to %(max)s unfilled places at once. Withdraw one to apply for "
                         "another.", max=scheme.max_choices), field="project_id")
    eligibility = evaluate(profile, project)
    if not eligibility.eligible:
        raise DomainError(_("You cannot apply for this project: %(reasons)s", reasons=eligibility.summary),
                          field="project_id", reasons=[r.message for r in eligibility.unmet],
                          missing=[m.step for m in eligibility.missing])
    rank = len(choices.active_choices(session, profile, scheme.id)) + 1
    try:
        with session.begin_nested():
            if existing is None:
                existing = Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=rank,
                                  in_scramble=True)
                session.add(existing)
                demand.chosen(session, project.id)
            else:
                choice_status.revive(session, existing, rank, in_scramble=True)
            session.flush()
    except IntegrityError:
        raise Conflict(_("Your choices were changed at the same moment in another window. "
                         "Reload the page and try again."), field="project_id") from None
    audit.record(session, actor, "choice.added", "choice", existing.id,
                 after={"project_id": project.id, "rank": existing.rank, "in_scramble": True})
    return existing


def withdraw(session: Session, actor: User, choice_id: int, *, today: date | None = None) -> None:
    """She takes back an application made in the scramble, while the window is open."""
    authz.require(actor, authz.Permission.APPLICANT_CHOOSE_PROJECTS)
    profile = own_profile(session, actor)
    choice = session.get(Choice, choice_id)
    if choice is None or choice.applicant_id != profile.id or choice.status == ChoiceStatus.WITHDRAWN:
        raise NotFound(_("We could not find that application."))
    if not choice.in_scramble:
        raise Conflict(_("This is one of the choices you made while applications were open, not an application "
                         "for an unfilled place."), field="project_id")
    choices.withdraw_choice(session, actor, choice_id, today=today)
