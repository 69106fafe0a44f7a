"""Writing many rows at once, inside the caller's transaction.

A national round stores ~100,000 proposal and unplaced rows; approving it writes ~50,000 offers' e-mails and
audit events. On PostgreSQL they go in with one COPY
(several times faster than a multi-row INSERT, and no parameter limits); elsewhere (SQLite: tests,
development) with one executemany INSERT. JSON columns take JSON-able values, enums are stored by value and
left-out columns get their defaults, the same either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Table, func, insert, select, text
from sqlmodel import Session


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return list(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-able")


# One encoder for every value: json.dumps with options builds a new one per call, a third of the time it takes
# to encode a proposal's reasons (a national round encodes about 100,000 such values).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def json_text(value: Any) -> str:
    return _ENCODER.encode(value)


def _python_defaults(table: Table, given: list[str]) -> dict[str, Callable[[], Any]]:
    """The Python-side defaults of the columns the rows leave out, which an INSERT fills in but COPY does not."""
    defaults: dict[str, Callable[[], Any]] = {}
    for column in table.columns:
        default = column.default
        if column.name in given or default is None:
            continue
        if default.is_callable:  # SQLAlchemy wraps a callable default to take an execution context, unused here
            defaults[column.name] = lambda arg=default.arg: arg(None)
        elif default.is_scalar:
            defaults[column.name] = lambda arg=default.arg: arg
    return defaults


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys, named as `table`'s columns) in the session's transaction.

    Columns the rows leave out get their Python-side defaults on either database, as with an ORM insert.
    """
    if not rows:
        return
    names = list(rows[0])
    json_columns = {name for name in names if isinstance(table.c[name].type, JSON)}
    if session.get_bind().dialect.name != "postgresql":
        if json_columns:  # the same JSON as COPY stores (dates as ISO text, numpy numbers as numbers)
            rows = [{**row, **{name: json.loads(json_text(row[name])) for name in json_columns}} for row in rows]
        session.execute(insert(table), rows)
        return
    defaults = _python_defaults(table, names)
    json_columns |= {name for name in defaults if isinstance(table.c[name].type, JSON)}
    columns = [*names, *defaults]
    is_json = [name in json_columns for name in columns]
    connection = session.connection().connection.driver_connection
    listed = ", ".join(f'"{name}"' for name in columns)
    with connection.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({listed}) FROM STDIN') as copy:
        for row in rows:
            values = [row[name] for name in names] + [make() for make in defaults.values()]
            copy.write_row([json_text(value) if encode else value.value if isinstance(value, Enum) else value
                            for value, encode in zip(values, is_json, strict=True)])


def next_ids(session: Session, table: Table, n: int) -> list[int]:
    """`n` fresh ids for rows of `table` the caller inserts with `insert_rows` and needs to know the ids of.

    PostgreSQL hands them out from the table's sequence; SQLite runs one writer at a time, so the ids after the
    largest one stay free until the caller's transaction ends.
    """
    if n <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(session.execute(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                                         "FROM generate_series(1, :n)"), {"table": f'"{table.name}"', "n": n})
                    .scalars())
    start = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(start + 1, start + n + 1))
