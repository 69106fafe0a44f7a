"""Personal data under the PDPO: a copy of everything we hold about someone, erasure, and retention.

An erased or purged applicant's profile row stays, emptied of everything personal, so that the choices
and placements that count towards a scheme's figures still add up; choices still in play are withdrawn
and open offers are withdrawn so nobody is placed on behalf of a person who has left.
"""

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import delete as sql_delete
from sqlmodel import Session, col, or_, select

from backend.accounts.models import OneTimeToken
from backend.accounts.passwords import verify_password
from backend.applicants import choice_status
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus, ParticipantNomination
from backend.audit import service as audit
from backend.audit.models import AuditEvent
from backend.complaints import case as complaint_case
from backend.core import clock
from backend.core.db import utcnow
from backend.core.errors import Forbidden
from backend.core.forms import FormInvalid
from backend.core.i18n import gettext as _
from backend.core.settings import get_settings
from backend.identity.models import User
from backend.identity.permissions import Permission, can
from backend.placements import confirmations, offers
from backend.placements.models import Placement
from backend.schemes.models import Scheme

ACCOUNT_FIELDS = ("id", "email", "role", "display_name", "preferred_language", "email_verified_at",
                  "created_at", "last_sign_in_at")
PERSONAL_PROFILE_TEXT = ("name_en", "name_zh", "contact_email", "phone", "institution", "programme",
                         "study_year", "field_of_study", "skills", "interests", "statement", "education_level",
                         "origin_refusal_reason")
PLACED_STATUSES = offers.INTERN_STATUSES  # interns keep their record, whatever the outcome
SETTLED_CHOICES = (ChoiceStatus.ACCEPTED,)


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _row(obj, exclude: tuple[str, ...] = ()) -> dict:
    # Straight from the table's columns: every stored value, nothing computed.
    return {c.name: _plain(getattr(obj, c.name)) for c in obj.__table__.columns if c.name not in exclude}


def profile_of(session: Session, user: User) -> ApplicantProfile | None:
    return session.exec(select(ApplicantProfile).where(ApplicantProfile.user_id == user.id)).first()


def export_personal_data(session: Session, user: User) -> dict:
    profile = profile_of(session, user)
    choices, placements = [], []
    if profile is not None:
        choices = session.exec(select(Choice).where(Choice.applicant_id == profile.id)).all()
        placements = session.exec(select(Placement).where(Placement.applicant_id == profile.id)).all()
    about_them = session.exec(
        select(AuditEvent).where(or_(AuditEvent.actor_id == user.id,
                                     (AuditEvent.object_type == "user") & (AuditEvent.object_id == str(user.id))))
        .order_by(col(AuditEvent.occurred_at))).all()
    audit.record(session, user, "account.exported", "user", user.id)
    return {
        "exported_at": utcnow().isoformat(),
        "account": {field: _plain(getattr(user, field)) for field in ACCOUNT_FIELDS},
        "profile": _row(profile, exclude=("cv_stored_name",)) if profile else None,
        "choices": [_row(c) for c in choices],
        "placements": [_row(p) for p in placements],
        "complaints": [_row(c) for c in complaint_case.complaints_for_export(session, user)],
        "internship_confirmations": [_row(c) for c in confirmations.for_export(session, profile.id)] if profile else [],
        "audit_events": [_row(e) for e in about_them],
    }


def erase_profile(session: Session, profile: ApplicantProfile) -> None:
    """Empties a profile of personal data and stops anything still in progress for it."""
    for field in PERSONAL_PROFILE_TEXT:
        setattr(profile, field, "")
    profile.date_of_birth = None
    profile.languages = {}
    profile.regions = []
    if profile.cv_stored_name:
        (Path(get_settings().upload_dir) / profile.cv_stored_name).unlink(missing_ok=True)
    profile.cv_stored_name = None
    profile.cv_size_bytes = None
    profile.cv_uploaded_at = None
    profile.user_id = None
    profile.external_ref = None
    profile.updated_at = utcnow()
    session.add(profile)
    for choice in session.exec(select(Choice).where(Choice.applicant_id == profile.id,
                                                    col(Choice.status).not_in(SETTLED_CHOICES))).all():
        if choice.status != ChoiceStatus.WITHDRAWN:
            choice_status.withdraw(session, None, choice)
        choice.interview_notes = ""
        session.add(choice)
    offers.withdraw_open_offers(session, profile.id, reason="personal_data_erased")
    confirmations.erase_of(session, profile.id)
    # Her address as the Guangdong office nominated it is personal data too.
    session.exec(sql_delete(ParticipantNomination).where(  # type: ignore[call-overload]
        col(ParticipantNomination.used_by_profile_id) == profile.id))


def delete_account(session: Session, user: User, *, password: str, confirmed: bool,
                   client_address: str = "") -> None:
    if not can(user, Permission.ACCOUNT_DELETE):
        raise Forbidden(_("Staff and organisation accounts are closed by an administrator."))
    errors = {}
    if not confirmed:
        errors["confirm"] = _("Confirm that you want to delete your account.")
    if not verify_password(password, user.password_hash)[0]:
        errors["password"] = _("Your password is not right.")
    if errors:
        raise FormInvalid(errors)
    profile = profile_of(session, user)
    if profile is not None:
        erase_profile(session, profile)
    complaint_case.erase_complaints_of(session, user.id)
    session.exec(sql_delete(ParticipantNomination).where(  # type: ignore[call-overload]
        ParticipantNomination.email == user.email.lower()))
    session.flush()
    audit.record(session, user, "account.deleted", "user", user.id, client_address=client_address)
    # Tokens go too: the database would cascade, but not every test database enforces foreign keys alike.
    session.exec(sql_delete(OneTimeToken).where(col(OneTimeToken.user_id) == user.id))  # type: ignore[call-overload]
    session.delete(user)
    session.flush()


def purge_unplaced(session: Session, *, today: date | None = None) -> int:
    """Erases applicants never placed once their latest scheme's applicant window closed long enough ago.

    The same retention run empties complaints decided more than `complaint_retention_days` ago, and interns'
    survey comments and unsent drafts older than `confirmation_retention_days` (outcomes, amounts received and
    ratings stay for the organisation's track record); the count returned is of applicants.
    """
    today = today or clock.today()
    cutoff = today - timedelta(days=get_settings().unplaced_retention_days)
    latest_close = {}
    for applicant_id, closes in session.exec(
            select(Choice.applicant_id, Scheme.applicant_window_closes).join(Scheme, Scheme.id == Choice.scheme_id)):
        latest_close[applicant_id] = max(closes, latest_close.get(applicant_id, closes))
    placed = set(session.exec(select(Placement.applicant_id).where(col(Placement.status).in_(PLACED_STATUSES))))
    purged = 0
    for applicant_id, closes in latest_close.items():
        if closes >= cutoff or applicant_id in placed:
            continue
        profile = session.get(ApplicantProfile, applicant_id)
        if profile is None or (profile.user_id is None and not profile.name_en and not profile.contact_email):
            continue  # already erased
        erase_profile(session, profile)
        audit.record(session, None, "applicant.purged", "applicant_profile", profile.id)
        purged += 1
    complaint_case.purge_decided_complaints(session, today=today)
    confirmations.purge_old(session, today=today)
    session.flush()
    return purged
