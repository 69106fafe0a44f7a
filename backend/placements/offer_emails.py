"""The e-mails an offer sends: the offer itself, its lapse to the applicant, its acceptance to the NGO.

Each is an outbox row written in the transaction that changes the offer, in the reader's language.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select

from backend.applicants.models import ApplicantProfile
from backend.core.formatting import city_name, deadline_in_words, long_date, moment_in_words
from backend.core.i18n import lazy_gettext
from backend.identity.models import User
from backend.organisations.models import Organisation, OrganisationMember
from backend.outbox.service import compose, enqueue, enqueue_many, in_language, link, sign_off, speaking
from backend.placements.models import Placement
from backend.projects.models import Project

OFFER_SUBJECT = lazy_gettext("Internship offer: %(project)s")
OFFER_BODY = lazy_gettext(
    "Hello %(name)s,\n\nYou are offered a place on the internship project \"%(project)s\" run by "
    "%(organisation)s in %(city)s, from %(start)s to %(end)s.\n\nAccept or decline the offer "
    "%(deadline)s:\n%(link)s\n\nIf you do not answer by then, the offer expires and the "
    "place goes to another applicant.\n\n%(sign_off)s")
ACCEPTED_SUBJECT = lazy_gettext("An intern has accepted a place on %(project)s")
ACCEPTED_BODY = lazy_gettext(
    "Hello,\n\n%(intern)s has accepted a place on your internship project \"%(project)s\". You can see "
    "your interns and their contact details here:\n%(link)s\n\n%(sign_off)s")
EXPIRED_SUBJECT = lazy_gettext("Your internship offer has expired: %(project)s")
EXPIRED_BODY = lazy_gettext(
    "Hello %(name)s,\n\nYour offer of a place on the internship project \"%(project)s\" expired at "
    "%(deadline)s because it was not accepted in time, and the place has gone back to "
    "other applicants.\n\nYour other choices stay active for later rounds.\n\n%(sign_off)s")

WITHDRAWN_SUBJECT = lazy_gettext("Your internship offer has been withdrawn: %(project)s")
WITHDRAWN_BODY = lazy_gettext(
    "Hello %(name)s,\n\nThe internship project \"%(project)s\" has closed and takes no more interns, so "
    "your offer of a place on it has been withdrawn.\n\nYour other choices stay active for later "
    "rounds.\n\n%(sign_off)s")


def recipient_of(session: Session, profile: ApplicantProfile) -> tuple[str, str]:
    """The applicant's address and language: their account's, else the contact e-mail of an imported form."""
    user = session.get(User, profile.user_id) if profile.user_id is not None else None
    if user is not None:
        return user.email, user.preferred_language
    return profile.contact_email, "en"


def _in_words(language: str, project: Project, placement) -> dict[str, str]:
    """The city, dates and deadline as the reader says them: 深圳, 2027年6月1日, 香港時間 … 23:59 前."""
    with speaking(language):
        return dict(city=city_name(project.city), start=long_date(project.start_date),
                    end=long_date(project.end_date), deadline=deadline_in_words(placement.offer_deadline))


def _moment(language: str, moment) -> str:
    with speaking(language):
        return moment_in_words(moment)


def send_offer_emails(session: Session, offers: list[tuple[Any, Project]]) -> None:
    """The offer e-mails of a batch of offers (`offers.NewOffer` or placements): applicants, accounts and
    organisations read once for the batch, what the e-mails say of a project worked out once per language, and
    the outbox rows written at once."""
    applicant_ids = sorted({offer.applicant_id for offer, _project in offers})
    profiles = {p.id: p for p in session.exec(
        select(ApplicantProfile).where(col(ApplicantProfile.id).in_(applicant_ids))
        .options(load_only(ApplicantProfile.user_id, ApplicantProfile.name_en, ApplicantProfile.name_zh,
                           ApplicantProfile.contact_email)))}
    user_ids = sorted({p.user_id for p in profiles.values() if p.user_id is not None})
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(user_ids))
                                           .options(load_only(User.email, User.preferred_language)))
             } if user_ids else {}
    organisations = {o.id: o for o in session.exec(select(Organisation).where(col(Organisation.id).in_(
        sorted({project.organisation_id for _offer, project in offers}))))}
    said: dict[tuple, dict] = {}
    rows = []
    for offer, project in offers:
        profile = profiles[offer.applicant_id]
        user = users.get(profile.user_id)
        language = user.preferred_language if user is not None else "en"
        key = (language, project.id, offer.offer_deadline)
        if key not in said:
            said[key] = _in_words(language, project, offer)
        email = _offer_email(offer, project, profile, user, organisations.get(project.organisation_id), said[key])
        if email is not None:
            rows.append(compose(**email))
    enqueue_many(session, rows)


def send_offer_email(session: Session, placement: Placement, project: Project) -> None:
    profile = session.get(ApplicantProfile, placement.applicant_id)
    user = session.get(User, profile.user_id) if profile.user_id is not None else None
    email = _offer_email(placement, project, profile, user, session.get(Organisation, project.organisation_id))
    if email is not None:
        enqueue(session, **email)


def _offer_email(placement, project: Project, profile: ApplicantProfile, user: User | None,
                 organisation: Organisation | None, in_words: dict | None = None) -> dict | None:
    address, language = (user.email, user.preferred_language) if user is not None else (profile.contact_email, "en")
    if not address:
        return None  # an imported applicant without any address; officers see the offer on the placement list
    return dict(to=address, subject=OFFER_SUBJECT, body=OFFER_BODY, language=language,
                template="placement_offer", name=in_language(language, profile, "name") or address,
                project=in_language(language, project, "title"),
                organisation=in_language(language, organisation, "name") if organisation else "",
                link=link(f"/placements/{placement.id}"), sign_off=sign_off(language),
                **(in_words if in_words is not None else _in_words(language, project, placement)))


def tell_applicant_expired(session: Session, placement: Placement) -> None:
    profile = session.get(ApplicantProfile, placement.applicant_id)
    address, language = recipient_of(session, profile)
    if not address:
        return
    project = session.get(Project, placement.project_id)
    enqueue(session, to=address, subject=EXPIRED_SUBJECT, body=EXPIRED_BODY, language=language,
            template="placement_expired", name=in_language(language, profile, "name") or address,
            project=in_language(language, project, "title"), deadline=_moment(language, placement.offer_deadline),
            sign_off=sign_off(language))


def tell_applicant_withdrawn(session: Session, placement: Placement) -> None:
    """The project closed before the applicant answered the offer."""
    profile = session.get(ApplicantProfile, placement.applicant_id)
    address, language = recipient_of(session, profile)
    if not address:
        return
    project = session.get(Project, placement.project_id)
    enqueue(session, to=address, subject=WITHDRAWN_SUBJECT, body=WITHDRAWN_BODY, language=language,
            template="placement_withdrawn", name=in_language(language, profile, "name") or address,
            project=in_language(language, project, "title"), sign_off=sign_off(language))


def _organisation_language(session: Session, organisation_id: int) -> str:
    language = session.exec(
        select(User.preferred_language).join(OrganisationMember, col(OrganisationMember.user_id) == User.id)
        .where(OrganisationMember.organisation_id == organisation_id)
        .order_by(col(OrganisationMember.is_admin).desc(), OrganisationMember.id)).first()
    return language or "en"


def tell_organisation(session: Session, placement: Placement) -> None:
    project = session.get(Project, placement.project_id)
    organisation = session.get(Organisation, project.organisation_id)
    if organisation is None or not organisation.contact_email:
        return
    profile = session.get(ApplicantProfile, placement.applicant_id)
    language = _organisation_language(session, organisation.id)
    enqueue(session, to=organisation.contact_email, subject=ACCEPTED_SUBJECT, body=ACCEPTED_BODY,
            language=language, template="placement_accepted",
            intern=in_language(language, profile, "name") or profile.contact_email,
            project=in_language(language, project, "title"), link=link("/organisation/interns"),
            sign_off=sign_off(language))
