"""Engine and sessions. The request owns the transaction: services flush, the dependency commits.

SQLite allows one writer at a time, and in WAL mode a transaction that has read cannot start writing once
another connection has committed since its first read: it fails at once with "database is locked"
(SQLITE_BUSY_SNAPSHOT), which no busy timeout can wait out. So on SQLite every unit of work that may write
(a web request, a worker's claim, the e-mail sender's marks, offer expiry) runs on `for_writing(engine)`: its
transaction starts with BEGIN IMMEDIATE, taking the write lock before the first read, and a second writer
waits for it (busy timeout) instead of failing. Read-only looks and the tests' rolled-back fixture session
keep deferred transactions, so they never hold or wait for the lock. PostgreSQL needs none of this.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from sqlalchemy import JSON, BigInteger, DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlmodel import Session, SQLModel

from backend.core.settings import get_settings

# Named constraints make migrations portable and let a violated constraint map to a field error.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator):
    """Timestamps stored and returned as aware UTC datetimes on both SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Money is integer HKD; national budgets exceed 2**31 cents-free dollars only in theory, but totals may not.
Money = BigInteger
JSONType = JSON


def normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


SQLITE_BEGIN = "internmatch_sqlite_begin"


LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern for `text` anywhere in a value, its own % and _ taken literally (with escape=LIKE_ESCAPE)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # pysqlite's own transaction handling breaks SAVEPOINTs; let SQLAlchemy emit BEGIN itself.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            immediate = conn.get_execution_options().get(SQLITE_BEGIN) == "IMMEDIATE"
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if "poolclass" not in kwargs:
        kwargs.update(pool_size=10, max_overflow=10)
    return create_engine(url, pool_pre_ping=True, **kwargs)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


def for_writing(engine: Engine) -> Engine:
    """The engine for a unit of work that may write: on SQLite it takes the write lock when it begins.

    An option engine sharing `engine`'s pool; on other databases `engine` itself.
    """
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})


def get_session() -> Iterator[Session]:
    """The request's session; its one transaction is committed when the route returns.

    Any request may write (even a page view refreshes the sign-in's `last_seen_at`), so on SQLite it takes
    the write lock up front (see the module's docstring): requests then wait their turn for a moment
    rather than fail. Routes ask for it as `DbSession` (below), always with that one dependency
    scope, so a request has one session (tests/platform/test_request_path.py checks it): a second one
    would wait for the first one's lock until it timed out.
    """
    with Session(for_writing(get_engine()), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            # Keep what was loaded (the signed-in user, for the error page's menu) readable after the
            # rollback: rolled-back objects would otherwise expire and need this soon-closed session.
            session.expunge_all()
            session.rollback()
            raise


# scope="function": commit before the response leaves. With the default ("request") the commit runs after
# the response is sent, so a browser following a redirect can arrive before the change is visible.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
