"""Writing a round's many rows at once, inside the caller's transaction.

A national round stores ~100,000 proposal and unplaced rows. On PostgreSQL they go in with one COPY
(several times faster than a multi-row INSERT, and no parameter limits); elsewhere (SQLite: tests,
development) with one executemany INSERT. JSON columns take JSON-able values and are stored the same
either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Table, insert
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


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys, named as `table`'s columns) in the session's transaction."""
    if not rows:
        return
    names = list(rows[0])
    json_columns = {name for name in names if isinstance(table.c[name].type, JSON)}
    if session.get_bind().dialect.name != "postgresql":
        if json_columns:  # the same JSON as COPY stores (dates as ISO text, numpy numbers as numbers)
            rows = [{**row, **{name: json.loads(json_text(row[name])) for name in json_columns}} for row in rows]
        session.execute(insert(table), rows)
        return
    connection = session.connection().connection.driver_connection
    columns = ", ".join(f'"{name}"' for name in names)
    encoders = [(name, json_text if name in json_columns else None) for name in names]
    with connection.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] if encode is None else encode(row[name]) for name, encode in encoders])
