"""Helpers for tests about people: accounts with a known password, and signing a test client in."""

import re
import time
from functools import cache

import pyotp
from sqlmodel import Session

from backend.accounts.passwords import hash_password
from backend.core.db import utcnow
from backend.identity import second_factor
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


# The last time step each account (by e-mail) was given a code for: the server refuses a step twice.
_steps_used: dict[str, int] = {}


def fresh_code(account: str, secret: str) -> str:
    """A code the server will accept for `account`: the earliest step in its window not given out before.

    The window is one step either side, so three sign-ins fit in 30 seconds; a fourth waits for the next step.
    """
    totp = pyotp.TOTP(secret)
    while True:
        now = utcnow()
        now_step = totp.timecode(now)
        # A past step's code lapses when the current step ends: on a loaded machine the server may read it
        # after that, so it is only given out while a good part of the step is left.
        left_in_step = totp.interval - now.timestamp() % totp.interval
        first = now_step - second_factor.WINDOW if left_in_step > 10 else now_step
        for step in range(first, now_step + second_factor.WINDOW + 1):
            if step > _steps_used.get(account, -1):
                _steps_used[account] = step
                return totp.generate_otp(step)
        time.sleep(1)


def enrol(session: Session, user: User) -> str:
    """Gives `user` a confirmed authenticator app; returns its secret."""
    secret = pyotp.random_base32()
    second_factor.enrol_with_secret(session, user, secret)
    session.flush()
    return secret


def finish_second_step(client, email: str, secret: str, *, next_path: str = ""):
    """After a right password: enters a code on /sign-in/code; returns the response (a redirect when right)."""
    token = csrf_from(client.get("/sign-in/code").text)
    return client.post("/sign-in/code", data={"csrf_token": token, "code": fresh_code(email, secret),
                                               "next": next_path}, follow_redirects=False)


def enrol_through_pages(client, email: str, *, next_path: str = "") -> tuple[str, list[str], object]:
    """On the setup page (first sign-in, or opting in): reads the key, confirms with a code.

    Returns the secret, the recovery codes shown, and the response.
    """
    page = client.get("/account/two-factor/setup").text
    secret = re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7]+)</code>', page).group(1)
    response = client.post("/account/two-factor/setup", data={"csrf_token": csrf_from(page), "next": next_path,
                                                               "code": fresh_code(email, secret)})
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", response.text)
    return secret, codes, response
