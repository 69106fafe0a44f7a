"""What an NGO sees of applicants: only those who chose its projects, and only through those choices.

Tenancy is by choice, not by applicant: every query starts from the organisation's projects, and a
profile or choice reached by id outside them is "not found", exactly like one that does not exist.
The NGO's order of a project's applicants (`Choice.ngo_rank`, contiguous from 1) is what a match round
reads as that project's ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from backend.applicants import choice_status
from backend.applicants.cv import CvFile, open_cv
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.audit import service as audit
from backend.core.errors import Conflict, DomainError, InvalidTransition, NotFound
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext, localised
from backend.identity import permissions as authz
from backend.identity.models import User
from backend.projects.models import Project
from backend.schemes import timetable
from backend.schemes.models import Scheme
from matching.model import Education

SORTS = ("rank", "name", "date", "project", "choice", "status", "education")
INTERVIEW_OUTCOMES = {
    "recommended": lazy_gettext("Recommended"),
    "reserve": lazy_gettext("On the reserve list"),
    "not_suitable": lazy_gettext("Not suitable"),
    "did_not_attend": lazy_gettext("Did not attend"),
}
# Outcomes that take the applicant out of the project's ranking.
UNRANKED_OUTCOMES = frozenset({"not_suitable", "did_not_attend"})
# Once matching has made an offer, the NGO's view of the interview is history.
NGO_EDITABLE_STATUSES = (ChoiceStatus.SUBMITTED, ChoiceStatus.SHORTLISTED, ChoiceStatus.INTERVIEWED)


@dataclass(frozen=True)
class ApplicantRow:
    choice_id: int
    applicant_id: int
    name: str
    project_id: int
    project_title: str
    choice_rank: int
    ngo_rank: int | None
    status: str
    interview_outcome: str | None
    education_level: str
    languages: dict[str, int]
    chosen_at: datetime
    has_cv: bool
    interview_notes: str = ""
    in_scramble: bool = False  # applied for an unfilled place after match day


@dataclass(frozen=True)
class ApplicantDetail:
    applicant_id: int
    name_en: str
    name_zh: str
    date_of_birth: date | None
    contact_email: str
    phone: str
    education_level: str
    institution: str
    programme: str
    study_year: str
    field_of_study: str
    skills: str
    interests: str
    statement: str
    languages: dict[str, int]
    available_from: date | None
    available_to: date | None
    regions: list[str]
    first_timer: bool
    has_cv: bool
    # Only the choices of the viewer's own projects; other NGOs' are none of its business.
    choices: list[ApplicantRow]


def _scope(actor: User) -> int | None:
    """The organisation whose projects bound the view; None for staff, who see every project."""
    if authz.can(actor, authz.Permission.APPLICANT_VIEW_ALL):
        return None
    authz.require(actor, authz.Permission.APPLICANT_VIEW_FOR_OWN_PROJECTS)
    organisation_id = authz.organisation_id_of(actor)
    if organisation_id is None:
        raise NotFound(_("We could not find that."))
    return organisation_id


def _base(organisation_id: int | None):
    query = (select(Choice, ApplicantProfile, Project)
             .join(ApplicantProfile, col(ApplicantProfile.id) == col(Choice.applicant_id))
             .join(Project, col(Project.id) == col(Choice.project_id))
             .where(Choice.status != ChoiceStatus.WITHDRAWN))
    if organisation_id is not None:
        query = query.where(Project.organisation_id == organisation_id)
    return query


def _row(choice: Choice, profile: ApplicantProfile, project: Project) -> ApplicantRow:
    return ApplicantRow(choice.id, profile.id, localised(profile, "name"), project.id, localised(project, "title"),
                        choice.rank, choice.ngo_rank, str(choice.status), choice.interview_outcome,
                        profile.education_level, dict(profile.languages or {}), choice.created_at,
                        profile.cv_stored_name is not None, choice.interview_notes or "", choice.in_scramble)


SHORTLISTED_STATUSES = (ChoiceStatus.SHORTLISTED, ChoiceStatus.INTERVIEWED, ChoiceStatus.OFFERED, ChoiceStatus.ACCEPTED)
PER_PAGE = 50


def _filtered(session: Session, actor: User, *, project_id: int | None = None, status: str | None = None,
              education: str | None = None, language: str | None = None, min_level: int | None = None,
              sort: str = "rank", search: str = "", shortlisted: bool = False):
    """The query for the organisation's choices, every filter and the order in SQL (so a page is LIMIT/OFFSET)."""
    organisation_id = _scope(actor)
    query = _base(organisation_id)
    if project_id is not None:
        project = session.get(Project, project_id)
        if project is None or (organisation_id is not None and project.organisation_id != organisation_id):
            raise NotFound(_("We could not find that project."))
        query = query.where(Choice.project_id == project_id)
    if status:
        if status not in {s.value for s in ChoiceStatus} - {ChoiceStatus.WITHDRAWN.value}:
            raise DomainError(_("Choose a status from the list."), field="status")
        query = query.where(Choice.status == status)
    if shortlisted:
        query = query.where(col(Choice.status).in_([s.value for s in SHORTLISTED_STATUSES]))
    if education:
        try:
            minimum = Education.parse(education)
        except ValueError:
            raise DomainError(_("Choose a level of education from the list."), field="education") from None
        # Education is a minimum, as projects state it: every level from it up, alike in either letter case.
        query = query.where(func.lower(ApplicantProfile.education_level).in_(
            [e.label for e in Education if e >= minimum]))
    if min_level is not None and not 1 <= min_level <= 5:
        raise DomainError(_("Choose a language level from 1 to 5."), field="min_level")
    if language:
        level = ApplicantProfile.__table__.c.languages[language.lower()].as_integer()
        query = query.where(level >= (min_level or 1))
    if sort not in SORTS:
        raise DomainError(_("Choose how to sort the list."), field="sort")
    search = (search or "").strip()
    if search:
        if len(search) > 200:
            raise DomainError(_("Search for 200 characters or fewer."), field="q")
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [func.lower(ApplicantProfile.name_en).like(pattern, escape="\\"),
                   col(ApplicantProfile.name_zh).like(pattern, escape="\\"),
                   func.lower(ApplicantProfile.external_ref).like(pattern, escape="\\")]
        number = search.lstrip("#")
        if number.isdigit() and len(number) < 10:
            matches.append(col(ApplicantProfile.id) == int(number))
        query = query.where(or_(*matches))
    name = func.lower(func.coalesce(func.nullif(ApplicantProfile.name_en, ""), ApplicantProfile.name_zh))
    by_rank = (col(Choice.project_id), col(Choice.ngo_rank).is_(None), col(Choice.ngo_rank), col(Choice.rank))
    orders = {
        "rank": by_rank,
        "name": (name, col(Choice.project_id)),
        "date": (col(Choice.created_at),),
        "project": (col(Project.start_date), *by_rank),
        "choice": (col(Choice.rank), name),
        "status": (col(Choice.status), *by_rank),
        "education": (col(ApplicantProfile.education_level), name),
    }
    return query.order_by(*orders[sort], col(Choice.id))


def list_applicants(session: Session, actor: User, **filters) -> list[ApplicantRow]:
    """One row per choice of the organisation's projects, filtered and sorted (see `_filtered`). Every row."""
    return [_row(*found) for found in session.exec(_filtered(session, actor, **filters))]


@dataclass(frozen=True)
class ApplicantPage:
    rows: list[ApplicantRow]
    total: int
    page: int
    pages: int
    per_page: int


def page_of_applicants(session: Session, actor: User, *, page: int = 1, per_page: int = PER_PAGE,
                       **filters) -> ApplicantPage:
    """One page of the filtered list, read with LIMIT/OFFSET, and how many rows match in all."""
    query = _filtered(session, actor, **filters)
    total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    found = session.exec(query.limit(per_page).offset((page - 1) * per_page))
    return ApplicantPage([_row(*row) for row in found], total, page, pages, per_page)


def read_applicant(session: Session, actor: User, applicant_id: int) -> ApplicantDetail:
    organisation_id = _scope(actor)
    if not authz.may_see_applicant(actor, session.get(ApplicantProfile, applicant_id)):
        raise NotFound(_("We could not find that applicant."))
    found = session.exec(_base(organisation_id).where(Choice.applicant_id == applicant_id)
                         .order_by(Choice.project_id)).all()
    if not found:
        raise NotFound(_("We could not find that applicant."))
    profile = found[0][1]
    return ApplicantDetail(
        profile.id, profile.name_en, profile.name_zh, profile.date_of_birth, profile.contact_email, profile.phone,
        profile.education_level, profile.institution, profile.programme, profile.study_year,
        profile.field_of_study, profile.skills, profile.interests, profile.statement,
        dict(profile.languages or {}), profile.available_from, profile.available_to, list(profile.regions or []),
        profile.first_timer, profile.cv_stored_name is not None, [_row(*row) for row in found])


def download_cv(session: Session, actor: User, applicant_id: int) -> CvFile:
    _scope(actor)
    return open_cv(session, actor, applicant_id)


def _choice_in_scope(session: Session, actor: User, choice_id: int) -> tuple[Choice, Project]:
    organisation_id = _scope(actor)
    choice = session.get(Choice, choice_id)
    project = session.get(Project, choice.project_id) if choice is not None else None
    if (choice is None or choice.status == ChoiceStatus.WITHDRAWN
            or (organisation_id is not None and project.organisation_id != organisation_id)):
        raise NotFound(_("We could not find that applicant."))
    return choice, project


def _editable(choice: Choice) -> None:
    if choice.status not in NGO_EDITABLE_STATUSES:
        raise InvalidTransition(_("This application has moved on to matching and can no longer be changed here."))


def shortlist(session: Session, actor: User, choice_id: int) -> ApplicantRow:
    choice, project = _choice_in_scope(session, actor, choice_id)
    _editable(choice)
    if choice.status == ChoiceStatus.INTERVIEWED:
        raise InvalidTransition(_("This applicant has already been interviewed."))
    choice_status.shortlist(session, actor, choice)
    return _row(choice, session.get(ApplicantProfile, choice.applicant_id), project)


def record_interview(session: Session, actor: User, choice_id: int, outcome: str, notes: str | None = None
                     ) -> ApplicantRow:
    """The applicant was interviewed, with the outcome; an unsuitable one leaves the project's ranking.

    `notes` None (not sent) keeps the notes already saved: changing the outcome must not erase them.
    """
    choice, project = _choice_in_scope(session, actor, choice_id)
    _editable(choice)
    if outcome not in INTERVIEW_OUTCOMES:
        raise DomainError(_("Choose the outcome of the interview."), field="outcome")
    if notes is not None and len(notes) > 5000:
        raise DomainError(_("Notes must be %(limit)s characters or fewer.", limit=5000), field="notes")
    leaves_ranking = outcome in UNRANKED_OUTCOMES and choice.ngo_rank is not None
    choice_status.record_interview(session, actor, choice, outcome,
                                   choice.interview_notes if notes is None else notes.strip(),
                                   ngo_rank=None if leaves_ranking else choice.ngo_rank)
    if leaves_ranking:
        _renumber(session, project.id)
    return _row(choice, session.get(ApplicantProfile, choice.applicant_id), project)


def _ranked(session: Session, project_id: int) -> list[Choice]:
    return list(session.exec(select(Choice).where(Choice.project_id == project_id,
                                                  col(Choice.ngo_rank).is_not(None),
                                                  Choice.status != ChoiceStatus.WITHDRAWN)
                             .order_by(Choice.ngo_rank, Choice.id)))


def _renumber(session: Session, project_id: int, ordered: list[Choice] | None = None) -> None:
    for rank, choice in enumerate(ordered if ordered is not None else _ranked(session, project_id), 1):
        if choice.ngo_rank != rank:
            choice.ngo_rank = rank
            session.add(choice)
    session.flush()


def ranking(session: Session, actor: User, project_id: int) -> list[ApplicantRow]:
    """The project's applicants in the NGO's order (unranked ones after, by the applicants' own rank)."""
    return list_applicants(session, actor, project_id=project_id, sort="rank")


def set_ranking(session: Session, actor: User, project_id: int, choice_ids: list[int]) -> list[ApplicantRow]:
    """Puts the listed choices in this order (1 = most wanted); choices not listed leave the ranking."""
    organisation_id = _scope(actor)
    project = session.get(Project, project_id)
    if project is None or (organisation_id is not None and project.organisation_id != organisation_id):
        raise NotFound(_("We could not find that project."))
    scheme = session.get(Scheme, project.scheme_id)
    # The scramble reopens rankings: the refill round fills the unfilled places in the organisation's order.
    if not timetable.ranking_open(scheme) and not timetable.scramble_open(scheme):
        # The refusal is the ranking page's own line: when rankings closed and, if so, when they reopen.
        raise Conflict(timetable.ranking_window(scheme), field="ranking")
    if len(set(choice_ids)) != len(choice_ids):
        raise DomainError(_("Each applicant can appear only once in the order."), field="ranking")
    choices = {c.id: c for c in session.exec(select(Choice).where(
        Choice.project_id == project_id, Choice.status != ChoiceStatus.WITHDRAWN))}
    if any(cid not in choices for cid in choice_ids):
        raise DomainError(_("Only applicants who chose this project can be put in its order."), field="ranking")
    ordered = [choices[cid] for cid in choice_ids]
    for choice in ordered:
        _editable(choice)
        if choice.interview_outcome in UNRANKED_OUTCOMES:
            raise DomainError(_("An applicant marked not suitable or absent cannot be ranked."), field="ranking")
    for choice in choices.values():
        if choice.id not in set(choice_ids) and choice.ngo_rank is not None:
            choice.ngo_rank = None
            session.add(choice)
    # Clearing first keeps the update order from ever mattering, whatever constraints come later.
    session.flush()
    _renumber(session, project_id, ordered)
    audit.record(session, actor, "project.ranking_set", "project", project_id, after={"choices": choice_ids})
    return ranking(session, actor, project_id)


def move_in_ranking(session: Session, actor: User, choice_id: int, direction: str,
                    position: int | None = None) -> list[ApplicantRow]:
    """"up"/"down" swap with the neighbour, "add" puts an unranked applicant last, "remove" takes one out,
    "to" puts the applicant at `position` (1 = first; past the end means last), ranked or not yet."""
    choice, project = _choice_in_scope(session, actor, choice_id)
    ordered = [c.id for c in _ranked(session, project.id)]
    if direction == "to":
        others = [cid for cid in ordered if cid != choice.id]
        if position is None or position < 1:
            raise DomainError(_("Position: enter a whole number from 1 to %(last)s.", last=len(others) + 1),
                              field="position")
        others.insert(min(position, len(others) + 1) - 1, choice.id)
        ordered = others
    elif direction == "add":
        if choice.id not in ordered:
            ordered.append(choice.id)
    elif direction == "remove":
        ordered = [cid for cid in ordered if cid != choice.id]
    elif direction in ("up", "down"):
        if choice.id not in ordered:
            raise DomainError(_("Add the applicant to the order first."), field="direction")
        at = ordered.index(choice.id)
        other = at - 1 if direction == "up" else at + 1
        if 0 <= other < len(ordered):
            ordered[at], ordered[other] = ordered[other], ordered[at]
    else:
        raise DomainError(_("Move an applicant up or down, add or remove them."), field="direction")
    return set_ranking(session, actor, project.id, ordered)


RANKING_ORDERS = {
    "choice": lambda r: (r.choice_rank, r.chosen_at, r.choice_id),
    "date": lambda r: (r.chosen_at, r.choice_id),
    "name": lambda r: (r.name.lower(), r.choice_id),
    # Recommended before reserve, then those not yet interviewed; ties keep the current order.
    "outcome": lambda r: ({"recommended": 0, "reserve": 1}.get(r.interview_outcome or "", 2), r.ngo_rank or 0),
}


def order_ranking_by(session: Session, actor: User, project_id: int, by: str) -> list[ApplicantRow]:
    """Re-orders the applicants already in the ranking by one column (their choice, date, name, outcome)."""
    if by not in RANKING_ORDERS:
        raise DomainError(_("Order by: choose a column from the list."), field="by")
    ranked = [r for r in ranking(session, actor, project_id) if r.ngo_rank is not None]
    ranked.sort(key=lambda r: r.ngo_rank)
    ranked.sort(key=RANKING_ORDERS[by])
    return set_ranking(session, actor, project_id, [r.choice_id for r in ranked])
