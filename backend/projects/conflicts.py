"""Conflicts of interest: before scoring a project or deciding on it, a staff member declares whether they
have a conflict of interest with its organisation; a declared conflict bars them from that organisation's
funding decisions (proposing, confirming, confirming a portfolio that funds it). Declarations are audited.

The bar is checked here, by the funding services every page and API operation goes through. Declaring is
asked where scoring happens (the assessment form and its API body): a proposal without a declaration for
the organisation is refused with a plain message.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import Conflict, Forbidden
from backend.core.i18n import gettext as _
from backend.identity.models import User
from backend.identity.permissions import Permission, can
from backend.projects.models import ConflictDeclaration

MAX_DESCRIPTION = 1000


class ConflictOfInterest(Forbidden):
    code = "conflict_of_interest"


class DeclarationMissing(Conflict):
    code = "conflict_declaration_missing"


def declaration(session: Session, user_id: int, organisation_id: int) -> ConflictDeclaration | None:
    return session.exec(select(ConflictDeclaration).where(ConflictDeclaration.user_id == user_id,
                                                          ConflictDeclaration.organisation_id == organisation_id)).first()


def declare(session: Session, actor: User, organisation_id: int, *, has_conflict: bool,
            description: str = "") -> ConflictDeclaration:
    """Record (or change) the actor's declaration for the organisation."""
    require_may_declare(actor)
    description = description.strip()
    if has_conflict and not description:
        raise Conflict(_("Say briefly what the conflict of interest is."), field="conflict_description")
    if len(description) > MAX_DESCRIPTION:
        raise Conflict(_("Use %(limit)s characters or fewer.", limit=MAX_DESCRIPTION), field="conflict_description")
    found = declaration(session, actor.id, organisation_id)
    if found is None:
        found = ConflictDeclaration(user_id=actor.id, organisation_id=organisation_id, has_conflict=has_conflict,
                                    description=description)
    else:
        found.has_conflict, found.description, found.declared_at = has_conflict, description, utcnow()
    session.add(found)
    session.flush()
    audit.record(session, actor, "conflict_of_interest.declared", "organisation", organisation_id,
                 after={"has_conflict": has_conflict})
    return found


def require_may_declare(actor: User) -> None:
    """Those who score projects or decide on them declare; nobody else has anything to declare."""
    if not (can(actor, Permission.PROJECT_ASSESS) or can(actor, Permission.PROJECT_DECIDE)):
        raise Forbidden(_("You do not have permission to do that."))


def require_declared_without_conflict(session: Session, actor: User, organisation_id: int) -> None:
    """For scoring and proposing: a declaration is needed, and it must declare no conflict."""
    found = declaration(session, actor.id, organisation_id)
    if found is None:
        raise DeclarationMissing(_("Declare whether you have a conflict of interest with this organisation first."),
                                 field="conflict_of_interest")
    bar_if_conflicted(session, actor, [organisation_id])


def bar_if_conflicted(session: Session, actor: User, organisation_ids: Iterable[int]) -> None:
    """Refuses when the actor has declared a conflict of interest with any of these organisations."""
    ids = set(organisation_ids)
    if ids and session.exec(select(ConflictDeclaration.id).where(
            ConflictDeclaration.user_id == actor.id, col(ConflictDeclaration.organisation_id).in_(ids),
            col(ConflictDeclaration.has_conflict).is_(True))).first() is not None:
        raise ConflictOfInterest(_("You have declared a conflict of interest with this organisation: you cannot "
                                   "score or decide on its projects."))
