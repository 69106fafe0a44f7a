"""Declared bounds for the numbers a request carries: ids, page numbers, limits and amounts.

Ids are INTEGER columns and money is BIGINT: a number outside the column's range would reach the database
and fail there (a server error) instead of being refused as bad input. Every path or query id, page,
limit and amount is declared with one of these types, so the OpenAPI document states the bounds, the API
answers 422 beyond them and a page answers 404 (see `backend.core.errors`).
"""

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

from backend.core.forms import MONEY_MAX

ID_MAX = 2**31 - 1
"""The largest value of an INTEGER primary key (PostgreSQL and the SQLite schema alike)."""
PAGE_MAX = 100_000
"""Far beyond any real list; it only keeps the offset a page implies inside the database's range."""
OFFSET_MAX = 10_000_000
COUNT_MAX = 1_000_000
"""Places, weeks, ages, levels and the like: whole numbers stored in INTEGER columns."""

Id = Annotated[int, Path(ge=1, le=ID_MAX, description="A row's number")]
QueryId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
PageNumber = Annotated[int, Query(ge=1, le=PAGE_MAX, description="Page number, from 1")]
Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX)]
BodyId = Annotated[int, Field(ge=1, le=ID_MAX)]
Money = Annotated[int, Field(ge=0, le=MONEY_MAX, description="Whole HKD")]
Count = Annotated[int, Field(ge=0, le=COUNT_MAX)]
OptionalQueryId = Annotated[int, Query(ge=0, le=ID_MAX, description="0 or left out for none")]
"""A page's optional filter by id, where 0 means none."""


def id_from_text(value) -> int | None:
    """An id typed into a page's form or link (ASCII digits, 1 to ID_MAX), else None."""
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= ID_MAX:
        return None
    return int(text)
