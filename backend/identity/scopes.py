"""Where tenancy meets the domains: how to tell which organisation a row or a user belongs to.

Identity sits below every domain, so it cannot import their tables. Each domain instead registers, at the
bottom of its own models.py, the answers only it can give:

- `register_organisation_of(SomeRow, fn)`: the organisation a row of that type belongs to;
- `register_organisation_type(Organisation, ...)`: which type is the organisation itself;
- `register_acts_for(fn)`: the membership through which a user acts for an organisation;
- `register_applicant_type(ApplicantProfile, fn)`: whether an applicant has an active choice of one of an
  organisation's projects (the only link that lets an NGO see an applicant);
- `register_guangdong_side(SomeRow, fn)`: whether a row is on the Guangdong side, the only rows the Guangdong
  coordinating office sees (a Guangdong applicant; a project of a scheme that admits Guangdong youth).

backend/models.py imports every models module, so the app, Alembic and the tests always have them all.
A question about a type nobody registered raises `ScopeNotRegistered` instead of quietly answering "no",
so a new table cannot slip past tenancy unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import object_session
from sqlmodel import Session


class ScopeNotRegistered(LookupError):
    """A tenancy question about a type (or a user) that no domain has registered an answer for."""


class Membership(Protocol):
    """What identity needs of a user's membership of an organisation."""

    organisation_id: int
    is_admin: bool


@dataclass(frozen=True)
class _OrganisationType:
    may_post_projects: Callable[[Any], bool]


_organisation_of: dict[type, Callable[[Any], int | None]] = {}
_organisation_types: dict[type, _OrganisationType] = {}
_applicant_types: dict[type, Callable[[Session, Any, int], bool]] = {}
_acts_for: list[Callable[[Session, Any], Membership | None]] = []
_guangdong_side: dict[type, Callable[[Any], bool]] = {}


def register_organisation_of(row_type: type, organisation_of: Callable[[Any], int | None]) -> None:
    _organisation_of[row_type] = organisation_of


def register_organisation_type(organisation_type: type, *, may_post_projects: Callable[[Any], bool]) -> None:
    """The organisation itself: it belongs to itself, and only some may post projects (e.g. verified ones)."""
    _organisation_types[organisation_type] = _OrganisationType(may_post_projects)
    _organisation_of[organisation_type] = lambda organisation: organisation.id


def register_acts_for(find_membership: Callable[[Session, Any], Membership | None]) -> None:
    _acts_for[:] = [find_membership]


def register_applicant_type(applicant_type: type,
                            chose_projects_of: Callable[[Session, Any, int], bool]) -> None:
    _applicant_types[applicant_type] = chose_projects_of


def register_guangdong_side(row_type: type, is_guangdong_side: Callable[[Any], bool]) -> None:
    """Whether a row is on the Guangdong side (what the Guangdong coordinating office may see)."""
    _guangdong_side[row_type] = is_guangdong_side


def _lookup(registry: dict[type, Any], obj: Any, question: str) -> Any:
    for cls in type(obj).__mro__:
        if cls in registry:
            return registry[cls]
    raise ScopeNotRegistered(f"No domain has registered {question} for {type(obj).__name__}; register it at the "
                             f"bottom of that domain's models.py (see backend/identity/scopes.py).")


def is_organisation(obj: Any) -> bool:
    return any(cls in _organisation_types for cls in type(obj).__mro__)


def may_post_projects(organisation: Any) -> bool:
    return _lookup(_organisation_types, organisation, "whether an organisation may post projects")\
        .may_post_projects(organisation)


def is_applicant(obj: Any) -> bool:
    return any(cls in _applicant_types for cls in type(obj).__mro__)


def organisation_of(obj: Any) -> int | None:
    """The organisation a row belongs to."""
    return _lookup(_organisation_of, obj, "the organisation a row belongs to")(obj)


def acts_for(user: Any) -> Membership | None:
    """The membership through which a user acts for an organisation; None if they act for none."""
    if not _acts_for:
        raise ScopeNotRegistered("No domain has registered which organisation a user acts for; the organisations "
                                 "domain does so at the bottom of its models.py.")
    db = object_session(user)
    return _acts_for[0](db, user) if db is not None else None


def applicant_chose_projects_of(applicant: Any, organisation_id: int) -> bool:
    """Whether the applicant has an active (not withdrawn) choice of one of the organisation's projects."""
    chose_projects_of = _lookup(_applicant_types, applicant, "how an applicant links to an organisation")
    db = object_session(applicant)
    if db is None or applicant.id is None:
        return False
    return chose_projects_of(db, applicant, organisation_id)


def is_guangdong_side(obj: Any) -> bool:
    """Whether the Guangdong coordinating office may see the row: a Guangdong applicant, a cohort of a programme
    that admits Guangdong youth. A type nobody registered is never on its side."""
    for cls in type(obj).__mro__:
        if cls in _guangdong_side:
            return bool(_guangdong_side[cls](obj))
    return False
