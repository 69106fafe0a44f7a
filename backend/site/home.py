"""What the home page tells a young person: key dates and what an intern receives, as the open projects state it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, func, select

from backend.core.i18n import lazy_gettext
from backend.projects.models import Project, ProjectStatus
from backend.schemes.models import Scheme

# What a project pays for each intern, in the order the home page lists them.
RECEIVES = (("cost_allowance", lazy_gettext("Allowance")), ("cost_travel", lazy_gettext("Travel")),
            ("cost_accommodation", lazy_gettext("Accommodation")), ("cost_insurance", lazy_gettext("Insurance")))


@dataclass(frozen=True)
class Receives:
    label: str
    lowest: int
    highest: int
    projects: int  # open projects that pay this (an amount above zero)


@dataclass
class SchemeForYouth:
    scheme: Scheme
    open_projects: int = 0
    open_places: int = 0
    first_start: date | None = None
    last_end: date | None = None
    receives: list[Receives] = field(default_factory=list)


def for_youth(session: Session, scheme: Scheme) -> SchemeForYouth:
    """Figures over the scheme's projects open for applications: one aggregate query per item paid."""
    is_open = (Project.scheme_id == scheme.id, Project.status == ProjectStatus.OPEN)
    count, places, first_start, last_end = session.exec(
        select(func.count(col(Project.id)), func.coalesce(func.sum(Project.places_granted), 0),
               func.min(Project.start_date), func.max(Project.end_date)).where(*is_open)).one()
    view = SchemeForYouth(scheme, int(count), int(places), first_start, last_end)
    for column, label in RECEIVES:
        amount = getattr(Project, column)
        lowest, highest, paying = session.exec(
            select(func.min(amount), func.max(amount), func.count(col(Project.id))).where(*is_open, amount > 0)).one()
        if paying:
            view.receives.append(Receives(str(label), int(lowest), int(highest), int(paying)))
    return view
