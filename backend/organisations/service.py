"""Organisations: sign-up of Hong Kong NGOs and Guangdong host organisations, verification (NGOs by Home Affairs
staff, hosts by the Guangdong coordinating office), and colleagues joining by invitation."""

from sqlmodel import Session, col, select

from backend.accounts import emails
from backend.accounts.models import OneTimeToken, TokenPurpose
from backend.accounts.passwords import hash_password
from backend.accounts.service import (
    email_problem,
    new_account_errors,
    normalise_email,
    send_email_verification,
)
from backend.accounts.tokens import consume_one_time_token, find_one_time_token, issue_one_time_token
from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import Conflict, Forbidden, NotFound
from backend.core.forms import FormInvalid, check
from backend.core.i18n import LANGUAGES, lazy_gettext, localised
from backend.core.i18n import gettext as _
from backend.identity import permissions as authz
from backend.identity.models import Role, User
from backend.identity.permissions import Permission
from backend.organisations.models import Organisation, OrganisationKind, OrganisationMember

INVITATION_HOURS = 7 * 24


def organisation_errors(session: Session, *, name_en: str, name_zh: str, registration_number: str,
                        contact_phone: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name_en.strip():
        errors["name_en"] = _("Enter the organisation's name in English.")
    if not name_zh.strip():
        errors["name_zh"] = _("Enter the organisation's name in Chinese.")
    number = registration_number.strip()
    if not number:
        errors["registration_number"] = _("Enter the organisation's registration number.")
    elif session.exec(select(Organisation).where(Organisation.registration_number == number)).first():
        errors["registration_number"] = _("An organisation with that registration number is already registered.")
    if len(contact_phone.strip()) > 30:
        errors["contact_phone"] = _("Phone number must be 30 characters or fewer.")
    return errors


KIND_LABELS = {
    OrganisationKind.NGO: lazy_gettext("A Hong Kong NGO"),
    OrganisationKind.GUANGDONG_HOST: lazy_gettext("A Guangdong host organisation offering internship places"),
}


def role_for(organisation: Organisation) -> Role:
    return Role.HOST if organisation.is_guangdong_host else Role.NGO


def _verify_permission(organisation: Organisation) -> Permission:
    return Permission.HOST_VERIFY if organisation.is_guangdong_host else Permission.ORGANISATION_VERIFY


def sign_up_organisation(session: Session, *, kind: str, name_en: str, name_zh: str, registration_number: str,
                         contact_name: str, email: str, contact_phone: str, password: str, language: str,
                         client_address: str = "") -> tuple[User, Organisation]:
    """The person who registers becomes the organisation's admin; it is verified later (an NGO by staff, a
    Guangdong host by the Guangdong coordinating office)."""
    errors = organisation_errors(session, name_en=name_en, name_zh=name_zh,
                                 registration_number=registration_number, contact_phone=contact_phone)
    if kind not in {k.value for k in OrganisationKind}:
        errors["kind"] = _("Choose whether your organisation is a Hong Kong NGO or a Guangdong host organisation.")
    errors.update(new_account_errors(session, email=email, password=password, display_name=contact_name,
                                     name_field="contact_name"))
    check(errors)
    organisation = Organisation(kind=kind, name_en=name_en.strip(), name_zh=name_zh.strip(),
                                registration_number=registration_number.strip(), contact_name=contact_name.strip(),
                                contact_email=normalise_email(email), contact_phone=contact_phone.strip())
    user = User(email=normalise_email(email), password_hash=hash_password(password), role=role_for(organisation),
                display_name=contact_name.strip(), preferred_language=language if language in LANGUAGES else "en")
    session.add(organisation)
    session.add(user)
    session.flush()
    session.add(OrganisationMember(organisation_id=organisation.id, user_id=user.id, is_admin=True))
    audit.record(session, user, "organisation.registered", "organisation", organisation.id,
                 after={"name_en": organisation.name_en, "registration_number": organisation.registration_number,
                        "kind": organisation.kind},
                 client_address=client_address)
    send_email_verification(session, user)
    session.flush()
    return user, organisation


def list_organisations(session: Session, actor: User, *, awaiting_verification: bool | None = None,
                       kind: OrganisationKind = OrganisationKind.NGO) -> list[Organisation]:
    authz.require(actor, Permission.ORGANISATION_VIEW_ALL)
    query = select(Organisation).where(Organisation.kind == kind).order_by(col(Organisation.created_at))
    if awaiting_verification is True:
        query = query.where(col(Organisation.verified_at).is_(None))
    elif awaiting_verification is False:
        query = query.where(col(Organisation.verified_at).is_not(None))
    return list(session.exec(query))


def list_hosts(session: Session, actor: User) -> tuple[list[Organisation], list[Organisation]]:
    """For the Guangdong coordinating office: Guangdong host organisations awaiting verification, and verified."""
    authz.require(actor, Permission.HOST_VERIFY)
    hosts = list(session.exec(select(Organisation).where(Organisation.kind == OrganisationKind.GUANGDONG_HOST)
                              .order_by(col(Organisation.created_at))))
    return [h for h in hosts if not h.is_verified], [h for h in hosts if h.is_verified]


def get_organisation(session: Session, actor: User, organisation_id: int,
                     permission: Permission = Permission.ORGANISATION_VIEW_ALL) -> Organisation:
    return authz.require_visible(actor, permission, session.get(Organisation, organisation_id))


def own_organisation(session: Session, actor: User) -> Organisation:
    member = authz.membership(actor)
    if member is None:
        raise NotFound(_("You are not a member of an organisation."))
    return session.get(Organisation, member.organisation_id)


def verifiable(session: Session, actor: User, organisation_id: int) -> Organisation:
    """The organisation, if the actor is the one who verifies its kind. Staff are told plainly that a Guangdong
    host is the Guangdong office's to verify; the office never learns that a Hong Kong NGO exists."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is not None and authz.can(actor, Permission.ORGANISATION_VIEW_ALL) \
            and not authz.can(actor, _verify_permission(organisation)):
        raise Forbidden(_("The Guangdong coordinating office verifies Guangdong host organisations."))
    return authz.require_visible(actor, _verify_permission(organisation) if organisation else
                                 Permission.ORGANISATION_VERIFY, organisation)


def verify(session: Session, actor: User, organisation_id: int) -> Organisation:
    organisation = verifiable(session, actor, organisation_id)
    if organisation.is_verified:
        raise Conflict(_("This organisation has already been verified."))
    organisation.verified_at = utcnow()
    organisation.verified_by_id = actor.id
    session.add(organisation)
    audit.record(session, actor, "organisation.verified", "organisation", organisation.id,
                 before={"verified_at": None},
                 after={"verified_at": organisation.verified_at.isoformat(), "kind": organisation.kind})
    session.flush()
    return organisation


def members(session: Session, organisation: Organisation) -> list[tuple[OrganisationMember, User]]:
    rows = session.exec(select(OrganisationMember, User).join(User, col(User.id) == OrganisationMember.user_id)
                        .where(OrganisationMember.organisation_id == organisation.id).order_by(User.email))
    return list(rows)


def pending_invitations(session: Session, organisation: Organisation) -> list[OneTimeToken]:
    return list(session.exec(select(OneTimeToken).where(
        OneTimeToken.organisation_id == organisation.id, OneTimeToken.purpose == TokenPurpose.JOIN_ORGANISATION,
        col(OneTimeToken.used_at).is_(None), col(OneTimeToken.expires_at) > utcnow()).order_by(OneTimeToken.email)))


def invite(session: Session, actor: User, organisation: Organisation, email: str) -> str:
    authz.require(actor, Permission.ORGANISATION_MANAGE_MEMBERS, organisation)
    problem = email_problem(session, email)
    if problem:
        raise FormInvalid({"email": problem})
    email = normalise_email(email)
    if any(invitation.email == email for invitation in pending_invitations(session, organisation)):
        raise FormInvalid({"email": _("That person has already been invited.")})
    raw = issue_one_time_token(session, TokenPurpose.JOIN_ORGANISATION, email=email,
                               organisation_id=organisation.id, created_by=actor, hours=INVITATION_HOURS)
    emails.send_invitation(session, email=email, organisation_name=localised(organisation, "name"),
                           inviter=actor, raw=raw, language=actor.preferred_language)
    audit.record(session, actor, "organisation.member_invited", "organisation", organisation.id,
                 after={"email": email})
    return raw


def invitation(session: Session, raw: str) -> tuple[OneTimeToken, Organisation]:
    token = find_one_time_token(session, raw, TokenPurpose.JOIN_ORGANISATION)
    if token is None:
        raise NotFound(_("This invitation has expired or has already been used. Ask your colleague for a new one."))
    return token, session.get(Organisation, token.organisation_id)


def accept_invitation(session: Session, raw: str, *, display_name: str, password: str, language: str) -> User:
    token, organisation = invitation(session, raw)
    errors = new_account_errors(session, email=token.email, password=password, display_name=display_name)
    if "email" in errors:
        raise Conflict(errors["email"])
    check(errors)
    consume_one_time_token(session, raw, TokenPurpose.JOIN_ORGANISATION)
    # The invitation reached this mailbox, which proves the address.
    user = User(email=token.email, password_hash=hash_password(password), role=role_for(organisation),
                display_name=display_name.strip(), preferred_language=language if language in LANGUAGES else "en",
                email_verified_at=utcnow())
    session.add(user)
    session.flush()
    session.add(OrganisationMember(organisation_id=organisation.id, user_id=user.id, is_admin=False))
    audit.record(session, user, "organisation.member_joined", "organisation", organisation.id,
                 after={"user_id": user.id})
    session.flush()
    return user
