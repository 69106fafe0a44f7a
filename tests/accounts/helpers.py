"""Helpers for tests about people: accounts with a known password, and signing a test client in."""

import re
from functools import cache

from sqlmodel import Session

from backend.accounts.passwords import hash_password
from backend.identity import sessions as security
from backend.identity.models import Role, User
from backend.organisations.models import Organisation, OrganisationMember

PASSWORD = "correct horse battery staple"
_counter = iter(range(1, 10**9))


@cache
def password_hash() -> str:
    # Hashing once per run keeps tests that need many accounts fast.
    return hash_password(PASSWORD)


def make_user(session: Session, role: Role | str = Role.APPLICANT, *, email: str | None = None,
              organisation: Organisation | None = None, org_admin: bool = True, **overrides) -> User:
    n = next(_counter)
    role = Role(role)
    overrides.setdefault("password_hash", password_hash())
    user = User(email=email or f"{role.value}{n}@example.hk", role=role, display_name=f"{role.value.title()} {n}",
                **overrides)
    session.add(user)
    session.flush()
    if organisation is not None:
        session.add(OrganisationMember(organisation_id=organisation.id, user_id=user.id, is_admin=org_admin))
        session.flush()
    return user


def sign_in_as(client, session: Session, user: User) -> str:
    """Signs the client in without the sign-in form; returns the CSRF token its forms would carry."""
    raw = security.start_session(session, user)
    # Commit (a savepoint in tests) so a refused request's rollback cannot take the session with it.
    session.commit()
    client.cookies.set(security.SESSION_COOKIE, security.sign_session_token(raw), domain="testserver.local")
    return security._csrf_digest(raw)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the page has a form with a CSRF token"
    return match.group(1)


def form_token(client, path: str) -> str:
    """The CSRF token an anonymous browser gets when it opens a page with a form."""
    return csrf_from(client.get(path).text)
