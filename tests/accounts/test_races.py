"""Many requests at once: sign-in failures are counted one by one, and a one-time link is used only once."""

import threading
from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from backend.accounts import service, signin
from backend.accounts.models import SignInThrottle, TokenPurpose
from backend.accounts.passwords import verify_password
from backend.accounts.tokens import issue_one_time_token
from backend.applicants.import_routes import claim_account
from backend.core.db import utcnow
from backend.core.errors import Conflict, NotFound
from backend.core.forms import FormInvalid
from backend.identity.models import Role, User
from backend.organisations import service as organisations
from tests.accounts.helpers import PASSWORD, make_user
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_organisation

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="parallel requests are tested on PostgreSQL (set "
                                                        "DATABASE_URL); SQLite runs one writer at a time anyway")

# A late loser may find the link already gone (NotFound) or the address already taken (Conflict, FormInvalid).
EXPECTED = (signin.SignInRefused, signin.TooManyAttempts, NotFound, Conflict, FormInvalid)


def _all_at_once(engine, attempts: list[Callable[[Session], object]]) -> list[str]:
    """Runs each attempt in its own session and thread, released together; what each one ended with."""
    barrier, outcomes = threading.Barrier(len(attempts)), []

    def run(attempt: Callable[[Session], object]) -> None:
        with Session(engine, expire_on_commit=False) as db:
            barrier.wait()
            try:
                attempt(db)
                outcome = "done"
            except EXPECTED as refusal:
                outcome = type(refusal).__name__
            except Exception as error:  # noqa: BLE001 - a crash is the outcome the test looks for
                db.rollback()
                outcomes.append(f"crashed: {error!r}")
                return
            # Like the sign-in page: a refused attempt's counts are committed too.
            db.commit()
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sorted(outcomes)


def _sign_in(email: str, password: str, address: str) -> Callable[[Session], object]:
    return lambda db: signin.sign_in(db, email=email, password=password, client_address=address)


def test_parallel_wrong_passwords_lock_the_account_exactly_at_the_threshold():
    guesses = 12
    with migrated_database("internmatch_sign_in_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            user = make_user(setup)
            setup.commit()

        # From many addresses, as a botnet would, so only the account's own count can stop them.
        outcomes = _all_at_once(engine, [_sign_in(user.email, f"wrong guess number {n}", f"198.51.100.{n}")
                                         for n in range(guesses)])
        assert outcomes == sorted(["SignInRefused"] * signin.ACCOUNT_THRESHOLD
                                  + ["TooManyAttempts"] * (guesses - signin.ACCOUNT_THRESHOLD)), outcomes

        with Session(engine) as check:
            locked = check.get(User, user.id)
            assert locked.failed_sign_ins == signin.ACCOUNT_THRESHOLD
            assert locked.locked_until is not None and locked.locked_until > utcnow()
            with pytest.raises(signin.TooManyAttempts):
                signin.sign_in(check, email=user.email, password=PASSWORD, client_address="203.0.113.1")


def test_parallel_first_failures_from_a_new_address_are_all_counted_without_a_crash():
    guesses = 10
    with migrated_database("internmatch_address_race") as (_url, engine):
        outcomes = _all_at_once(engine, [_sign_in(f"nobody{n}@example.hk", "wrong guess", "192.0.2.44")
                                         for n in range(guesses)])
        assert outcomes == ["SignInRefused"] * guesses, outcomes
        with Session(engine) as check:
            assert check.get(SignInThrottle, "address:192.0.2.44").failures == guesses


def test_one_reset_link_used_ten_times_at_once_changes_the_password_once():
    with migrated_database("internmatch_reset_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            user = make_user(setup)
            raw = issue_one_time_token(setup, TokenPurpose.RESET_PASSWORD, user=user, hours=1)
            setup.commit()

        def reset(n: int) -> Callable[[Session], object]:
            return lambda db: service.reset_password(db, raw, f"harbour view number {n:02d}")

        outcomes = _all_at_once(engine, [reset(n) for n in range(10)])
        assert outcomes == ["LinkInvalid"] * 9 + ["done"], outcomes
        with Session(engine) as check:
            stored = check.get(User, user.id).password_hash
            assert sum(verify_password(f"harbour view number {n:02d}", stored)[0] for n in range(10)) == 1


def test_one_confirmation_link_used_at_once_is_used_once():
    with migrated_database("internmatch_verify_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            user = make_user(setup)
            raw = issue_one_time_token(setup, TokenPurpose.VERIFY_EMAIL, user=user)
            setup.commit()
        outcomes = _all_at_once(engine, [lambda db: service.verify_email(db, raw)] * 6)
        assert outcomes == ["LinkInvalid"] * 5 + ["done"], outcomes
        with Session(engine) as check:
            assert check.exec(select(User.email_verified_at).where(User.id == user.id)).one() is not None


@pytest.mark.parametrize("kind", ["invitation", "claim"])
def test_one_invitation_or_claim_link_used_at_once_makes_one_account(kind):
    email = "new.colleague@ngo.example.hk"
    with migrated_database(f"internmatch_{kind}_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            organisation = make_organisation(setup)
            admin = make_user(setup, Role.NGO, organisation=organisation)
            if kind == "invitation":
                raw = organisations.invite(setup, admin, organisation, email)
            else:
                raw = issue_one_time_token(setup, TokenPurpose.CLAIM_ACCOUNT, email=email,
                                           organisation_id=organisation.id, created_by=admin)
            setup.commit()

        def use(db: Session) -> object:
            if kind == "invitation":
                return organisations.accept_invitation(db, raw, display_name="Wong Siu Ming",
                                                       password="a long harbour password", language="en")
            return claim_account(db, raw, display_name="Wong Siu Ming", password="a long harbour password")

        outcomes = _all_at_once(engine, [use] * 5)
        assert outcomes.count("done") == 1 and not [o for o in outcomes if o.startswith("crashed")], outcomes
        with Session(engine) as check:
            assert len(check.exec(select(User).where(User.email == email)).all()) == 1
