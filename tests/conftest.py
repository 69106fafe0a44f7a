"""Test harness: a throwaway database built by the migrations, one rolled-back transaction per test.

DATABASE_URL selects the engine: unset (or sqlite) runs on a temporary SQLite file; a PostgreSQL URL
makes a fresh database next to the one named (e.g. `test`), used for this run only and dropped after.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="internmatch-tests-"))
# Below, DATABASE_URL is pointed at this process's own database; parallel test workers (pytest -n) inherit
# the environment, so the address first asked for travels beside it and each worker makes its own.
_REQUESTED_URL = os.environ.setdefault("INTERNMATCH_TESTS_REQUESTED_DATABASE_URL", os.environ.get("DATABASE_URL", ""))
IS_POSTGRES = _REQUESTED_URL.startswith(("postgres://", "postgresql"))


def _replace_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    from backend.core.db import normalise_url

    return make_url(normalise_url(url)).set(database=database).render_as_string(hide_password=False)


if IS_POSTGRES:
    RUN_DATABASE = f"internmatch_test_{uuid.uuid4().hex[:10]}"
    TEST_DATABASE_URL = _replace_database(_REQUESTED_URL, RUN_DATABASE)
else:
    RUN_DATABASE = ""
    TEST_DATABASE_URL = f"sqlite:///{_TMP / 'test.db'}"

# Settings are read from the environment once; point them at the run's database before the app loads.
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["ENVIRONMENT"] = "test"
os.environ["UPLOAD_DIR"] = str(_TMP / "uploads")
os.environ["MAIL_FOLDER"] = str(_TMP / "mail")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + uuid.uuid4().hex)


def _admin_engine():
    from sqlalchemy import create_engine

    from backend.core.db import normalise_url

    return create_engine(normalise_url(_REQUESTED_URL), isolation_level="AUTOCOMMIT")


def create_scratch_database(name: str) -> str:
    """A separate, empty database for tests that need their own (a server in a subprocess)."""
    if not IS_POSTGRES:
        return f"sqlite:///{_TMP / (name + '.db')}"
    from sqlalchemy import text

    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        # template0 takes no connections, so databases made at once by parallel workers never collide on
        # "source database is being accessed by other users" as copies of template1 do.
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    engine.dispose()
    return _replace_database(_REQUESTED_URL, name)


def drop_scratch_database(name: str) -> None:
    if not IS_POSTGRES:
        return
    from sqlalchemy import text

    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()



@contextmanager
def migrated_database(prefix: str) -> Iterator[tuple[str, object]]:
    """A migrated database of the caller's own, whose commits are real (for workers, servers and races).

    Yields (its URL, an engine on it); the engine is disposed of and the database dropped afterwards.
    """
    from backend.cli import migrate
    from backend.core.db import make_engine

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = create_scratch_database(name)
    engine = make_engine(url)
    try:
        migrate(url)
        yield url, engine
    finally:
        engine.dispose()
        drop_scratch_database(name)

def pytest_report_header(config):
    return f"internmatch database: {'PostgreSQL ' + RUN_DATABASE if IS_POSTGRES else 'SQLite ' + TEST_DATABASE_URL}"


@pytest.fixture(autouse=True)
def real_time_afterwards():
    """A test may stop the one clock (backend.core.clock); the next test starts on the real time."""
    from backend.core import clock

    yield
    clock.reset()


@pytest.fixture(scope="session")
def database_url() -> str:
    return TEST_DATABASE_URL


@pytest.fixture(scope="session")
def engine(database_url):
    from backend.cli import migrate
    from backend.core.db import get_engine

    if IS_POSTGRES:
        try:
            create_scratch_database(RUN_DATABASE)
        except Exception as error:  # pragma: no cover - depends on the machine
            pytest.exit(f"PostgreSQL was requested by DATABASE_URL but is not reachable: {error}", returncode=3)
    migrate(database_url)
    engine = get_engine()
    yield engine
    engine.dispose()
    if IS_POSTGRES:
        drop_scratch_database(RUN_DATABASE)


@pytest.fixture
def session(engine):
    """A session inside a transaction that is rolled back after the test; commits become savepoints."""
    from sqlmodel import Session

    connection = engine.connect()
    transaction = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@pytest.fixture
def app(session):
    from backend.app import create_app
    from backend.core.db import get_session

    application = create_app()

    def _test_session():
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise

    application.dependency_overrides[get_session] = _test_session
    return application


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def scheme(session):
    from tests.factories import make_scheme

    return make_scheme(session)
