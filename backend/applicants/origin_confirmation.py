"""The Guangdong coordinating office confirms Guangdong participants: a declaration alone is not enough to be matched.

The confirmation state is read from the profile's fields (no status column):

- not applicable: the applicant has not declared she is from Guangdong;
- awaiting: she declared Guangdong, and the office has not yet answered;
- confirmed: the office confirmed her (`origin_confirmed_at`, `origin_confirmed_by_id`);
- refused: the office refused her, with a reason she reads on her status page.

Named transitions: `confirm` and `refuse` (from awaiting only), `confirm_if_nominated` (awaiting → confirmed when
the office nominated her e-mail address before she declared), `reset_after_declaration` (any state back to
awaiting, or to not applicable, when she declares her origin again). Each records an audit event. The office sees
Guangdong applicants only: every query here filters on the origin, and each row is checked against the permission
table (`scopes.is_guangdong_side`), so a Hong Kong applicant's id answers "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from backend.accounts.service import EMAIL_PATTERN, find_by_email, normalise_email
from backend.applicants.models import ApplicantProfile, ParticipantNomination
from backend.audit import service as audit
from backend.core import states
from backend.core.db import utcnow
from backend.core.errors import NotFound
from backend.core.forms import FormInvalid
from backend.core.i18n import gettext as _
from backend.identity import permissions as authz
from backend.identity.models import User
from backend.projects.models import Project, ProjectStatus
from backend.schemes.models import Scheme
from matching import GUANGDONG
from matching.geography import CITIES

REFUSAL_REASON_MAX = 500
GUANGDONG_CITIES: tuple[str, ...] = tuple(c.name_en for c in CITIES if c.region == "Guangdong")


class OriginConfirmation(StrEnum):
    NOT_APPLICABLE = "not_applicable"
    AWAITING = "awaiting"
    CONFIRMED = "confirmed"
    REFUSED = "refused"


S = OriginConfirmation
TRANSITIONS: states.Transitions = {
    S.AWAITING: frozenset({S.CONFIRMED, S.REFUSED}),
}


def state_of(profile: ApplicantProfile) -> OriginConfirmation:
    if profile.origin != GUANGDONG:
        return S.NOT_APPLICABLE
    if profile.origin_confirmed_at is not None:
        return S.CONFIRMED
    if profile.origin_refused_at is not None:
        return S.REFUSED
    return S.AWAITING


def may_be_matched(profile: ApplicantProfile) -> bool:
    """Only a confirmed Guangdong applicant goes to the matcher; other origins are unaffected. (The round reads
    applicants in bulk with the same rule in SQL: backend/market/inputs.py load_round_inputs.)"""
    return state_of(profile) in (S.NOT_APPLICABLE, S.CONFIRMED)


@dataclass(frozen=True)
class AwaitingApplicant:
    """Only what the office needs to confirm someone: no date of birth, contact details, statement or CV."""

    id: int
    name: str
    city: str
    institution: str
    programme: str
    declared_on: date | None


@dataclass(frozen=True)
class Decision:
    id: int
    state: str
    confirmed_at: datetime | None
    refusal_reason: str


@dataclass(frozen=True)
class Cohort:
    """A project of a programme that admits Guangdong youth, as the office sees it."""

    id: int
    scheme_id: int
    scheme_name_en: str
    scheme_name_zh: str
    title_en: str
    title_zh: str
    city: str
    start_date: date | None
    end_date: date | None
    places: int
    guangdong_seats: list[int] | None


def _awaiting_row(profile: ApplicantProfile) -> AwaitingApplicant:
    return AwaitingApplicant(
        id=profile.id, name=profile.name_zh or profile.name_en, city=profile.guangdong_city,
        institution=profile.institution, programme=profile.programme,
        declared_on=profile.origin_declared_at.date() if profile.origin_declared_at else None)


def list_awaiting(session: Session, actor: User) -> list[AwaitingApplicant]:
    """Guangdong applicants who declared their origin and wait for the office, oldest declaration first.

    A profile whose personal data has been erased (no date of birth: it could not be matched anyway) is left out."""
    authz.require(actor, authz.Permission.ORIGIN_CONFIRM)
    rows = session.exec(
        select(ApplicantProfile)
        .where(ApplicantProfile.origin == GUANGDONG, col(ApplicantProfile.origin_declared_at).is_not(None),
               col(ApplicantProfile.date_of_birth).is_not(None),
               col(ApplicantProfile.origin_confirmed_at).is_(None), col(ApplicantProfile.origin_refused_at).is_(None))
        .order_by(ApplicantProfile.origin_declared_at, ApplicantProfile.id)).all()
    return [_awaiting_row(p) for p in rows if authz.can(actor, authz.Permission.ORIGIN_CONFIRM, p)]


def _guangdong_applicant(session: Session, actor: User, applicant_id: int) -> ApplicantProfile:
    """The applicant, for update; a Hong Kong applicant (or any the office may not see) looks like a missing one."""
    profile = session.exec(select(ApplicantProfile).where(ApplicantProfile.id == applicant_id)
                           .with_for_update()).first()
    if profile is None or profile.origin != GUANGDONG or profile.origin_declared_at is None:
        raise NotFound(_("We could not find that."))
    return authz.require_visible(actor, authz.Permission.ORIGIN_CONFIRM, profile)


def _decision(profile: ApplicantProfile) -> Decision:
    return Decision(profile.id, str(state_of(profile)), profile.origin_confirmed_at, profile.origin_refusal_reason)


def confirm(session: Session, actor: User, applicant_id: int, *, client_address: str = "") -> Decision:
    """Awaiting → confirmed: she is a Guangdong participant and may be matched."""
    profile = _guangdong_applicant(session, actor, applicant_id)
    states.check(TRANSITIONS, state_of(profile), S.CONFIRMED,
                 _("The Guangdong office has already answered for this applicant."))
    profile.origin_confirmed_at = utcnow()
    profile.origin_confirmed_by_id = actor.id
    session.add(profile)
    audit.record(session, actor, "applicant.origin_confirmed", "applicant_profile", profile.id,
                 after={"origin": profile.origin, "city": profile.guangdong_city}, client_address=client_address)
    return _decision(profile)


def refuse(session: Session, actor: User, applicant_id: int, reason: str, *, client_address: str = "") -> Decision:
    """Awaiting → refused, with a reason the applicant reads on her status page."""
    profile = _guangdong_applicant(session, actor, applicant_id)
    reason = (reason or "").strip()
    if not reason:
        raise FormInvalid({"reason": _("Say why you cannot confirm this applicant. She will read it.")})
    if len(reason) > REFUSAL_REASON_MAX:
        raise FormInvalid({"reason": _("The reason must be %(max)s characters or fewer.", max=REFUSAL_REASON_MAX)})
    states.check(TRANSITIONS, state_of(profile), S.REFUSED,
                 _("The Guangdong office has already answered for this applicant."))
    profile.origin_refused_at = utcnow()
    profile.origin_refusal_reason = reason
    profile.origin_confirmed_by_id = actor.id
    session.add(profile)
    audit.record(session, actor, "applicant.origin_refused", "applicant_profile", profile.id,
                 after={"reason": reason}, client_address=client_address)
    return _decision(profile)


def reset_after_declaration(session: Session, actor: User | None, profile: ApplicantProfile) -> None:
    """She declared her origin again (Guangdong again, Hong Kong, or neither): any answer of the office no longer
    holds, and a Guangdong declaration waits for the office once more."""
    had = state_of(profile)
    if (profile.origin_confirmed_at, profile.origin_refused_at, profile.origin_refusal_reason) == (None, None, ""):
        return
    profile.origin_confirmed_at = None
    profile.origin_confirmed_by_id = None
    profile.origin_refused_at = None
    profile.origin_refusal_reason = ""
    session.add(profile)
    audit.record(session, actor, "applicant.origin_confirmation_reset", "applicant_profile", profile.id,
                 before={"state": str(had)}, after={"origin": profile.origin})


@dataclass(frozen=True)
class Nomination:
    email: str
    city: str
    nominated_on: date
    used: bool  # she has signed up and declared, and was confirmed by it


def list_nominations(session: Session, actor: User) -> list[Nomination]:
    """The office's nominations, newest first."""
    authz.require(actor, authz.Permission.ORIGIN_CONFIRM)
    rows = session.exec(select(ParticipantNomination).order_by(col(ParticipantNomination.created_at).desc(),
                                                               col(ParticipantNomination.id).desc())).all()
    return [Nomination(n.email, n.guangdong_city, n.created_at.date(), n.used_by_profile_id is not None) for n in rows]


def nominate(session: Session, actor: User, email: str, city: str, *, client_address: str = "") -> Nomination:
    """The office nominates a Guangdong participant by her e-mail address: when she declares she is from Guangdong
    with the account of that address she is confirmed at once; if she already waits for the office, now."""
    authz.require(actor, authz.Permission.ORIGIN_CONFIRM)
    email = normalise_email(email or "")
    errors = {}
    if not email:
        errors["email"] = _("Enter the participant's e-mail address.")
    elif len(email) > 254 or not EMAIL_PATTERN.match(email):
        errors["email"] = _("Enter an e-mail address in the correct format, like name@example.com.")
    elif session.exec(select(ParticipantNomination.id).where(ParticipantNomination.email == email)).first():
        errors["email"] = _("This e-mail address has already been nominated.")
    if city not in GUANGDONG_CITIES:
        errors["guangdong_city"] = _("Choose the participant's city in Guangdong.")
    if errors:
        raise FormInvalid(errors)
    nomination = ParticipantNomination(email=email, guangdong_city=city, nominated_by_id=actor.id)
    session.add(nomination)
    session.flush()
    audit.record(session, actor, "applicant.origin_nominated", "participant_nomination", nomination.id,
                 after={"city": city}, client_address=client_address)
    account = find_by_email(session, email)
    profile = session.exec(select(ApplicantProfile).where(ApplicantProfile.user_id == account.id)).first() \
        if account is not None else None
    if profile is not None:
        confirm_if_nominated(session, profile, email)
    return Nomination(email, city, nomination.created_at.date(), nomination.used_by_profile_id is not None)


def confirm_if_nominated(session: Session, profile: ApplicantProfile, email: str) -> bool:
    """Awaiting → confirmed, by the office that nominated her address, once she has declared Guangdong."""
    if state_of(profile) != S.AWAITING or profile.origin_declared_at is None:
        return False
    nomination = session.exec(select(ParticipantNomination).where(
        ParticipantNomination.email == normalise_email(email),
        col(ParticipantNomination.used_by_profile_id).is_(None)).with_for_update()).first()
    if nomination is None:
        return False
    profile.origin_confirmed_at = utcnow()
    profile.origin_confirmed_by_id = nomination.nominated_by_id
    nomination.used_by_profile_id = profile.id
    session.add_all([profile, nomination])
    audit.record(session, None, "applicant.origin_confirmed", "applicant_profile", profile.id,
                 after={"origin": profile.origin, "city": profile.guangdong_city, "nominated": True,
                        "nomination_id": nomination.id})
    return True


COHORT_STATUSES = (ProjectStatus.APPROVED, ProjectStatus.OPEN, ProjectStatus.CLOSED, ProjectStatus.COMPLETED)


def list_cohorts(session: Session, actor: User) -> list[Cohort]:
    """Funded projects of the programmes that admit Guangdong youth: the cohorts the office co-organises."""
    authz.require(actor, authz.Permission.GUANGDONG_COHORTS_VIEW)
    schemes = {s.id: s for s in session.exec(select(Scheme).order_by(Scheme.id))
               if GUANGDONG in (s.admitted_origins or [])}
    if not schemes:
        return []
    projects = session.exec(
        select(Project).where(col(Project.scheme_id).in_(list(schemes)), col(Project.status).in_(COHORT_STATUSES))
        .order_by(Project.scheme_id, Project.start_date, Project.id)).all()
    return [Cohort(p.id, p.scheme_id, schemes[p.scheme_id].name_en, schemes[p.scheme_id].name_zh, p.title_en, p.title_zh, p.city, p.start_date,
                   p.end_date, p.places_granted or 0, (p.origin_seats or {}).get(GUANGDONG))
            for p in projects if authz.can(actor, authz.Permission.GUANGDONG_COHORTS_VIEW, p)]
