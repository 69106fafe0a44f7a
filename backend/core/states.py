"""Status machines: a table of allowed moves, a check against it, and a move that only one racer wins.

Each status column has one owner module holding its `Transitions` table and named transitions; this
module knows no domain. `move_if` is a conditional UPDATE (`... WHERE status IN <states that may
become the target>`): when two requests race for the same row, the second one's UPDATE finds the
status already changed, touches nothing, and its caller tells that person plainly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from backend.core.errors import InvalidTransition
from backend.core.i18n import gettext as _

# State → the states it may move to next; a state missing from the table moves nowhere.
Transitions = Mapping[StrEnum, frozenset[StrEnum]]


def allowed(table: Transitions, current, to) -> bool:
    return to in table.get(current, frozenset())


def check(table: Transitions, current, to, message: str = "") -> None:
    """Refuse a move the table does not list, with the owner's plain message (409)."""
    if not allowed(table, current, to):
        raise InvalidTransition(message or _("That could not be done"), current=str(current), to=str(to))


def sources(table: Transitions, to) -> frozenset:
    """Every state the table lets become `to`."""
    return frozenset(state for state, targets in table.items() if to in targets)


def move_if(session: Session | Connection, model: Any, id: Any, table: Transitions, to, *,
            where: Iterable[ColumnElement[bool]] = (), **extra_values: Any) -> bool:
    """Move row `id` of `model` to `to` if its status (as stored now) may become `to`; True if it moved.

    `where` narrows further (an owning worker, a deadline, the one state this caller read). The ORM
    object the caller holds is not updated: refresh it, or set the committed value, after a win.
    """
    query = (update(model)
             .where(col(model.id) == id, col(model.status).in_(sorted(sources(table, to))), *where)
             .values(status=to, **extra_values))
    return session.execute(query.execution_options(synchronize_session=False)).rowcount == 1
