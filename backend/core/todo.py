"""The staff to-do list as a registry: each domain registers a provider of what waits for the person asking.

A provider takes the database session and the signed-in user and returns the items that user can act on
(none when they may not, or when nothing waits). The to-do page (backend/site/routes.py) asks every provider
in turn, so a new domain adds its work by registering one function, at import of its routes module. Core knows
no domain: items carry their own translated words and link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session


@dataclass(frozen=True)
class TodoItem:
    key: str  # stable, for tests and anchors: "organisations.verify"
    title: str  # translated, e.g. "Organisations to verify"
    count: int
    href: str  # where the work is done
    hint: str = ""  # translated: what to do, or the oldest item's date
    order: int = 100  # smaller first


Provider = Callable[[Session, Any], list[TodoItem]]
_PROVIDERS: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Adds (or, on a re-import, replaces) the provider called `name`."""
    _PROVIDERS[name] = provider


def items_for(session: Session, user: Any) -> list[TodoItem]:
    """Every provider's items with something waiting, in their order."""
    found = [item for provider in _PROVIDERS.values() for item in provider(session, user) if item.count > 0]
    return sorted(found, key=lambda item: (item.order, item.key))


def provider_names() -> list[str]:
    return sorted(_PROVIDERS)
