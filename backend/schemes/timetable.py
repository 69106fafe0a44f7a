"""A scheme's match timetable: its days in order, for every page that shows it, and the rules on them.

The days are Hong Kong calendar days read from the one clock (`backend.core.clock`). A day left empty
is not enforced, so a scheme without a timetable behaves as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from backend.core import clock
from backend.core.formatting import long_date
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.schemes.models import Scheme

STEPS = (
    ("applicant_window_opens", lazy_gettext("Applications open")),
    ("applicant_window_closes", lazy_gettext("Applications close")),
    ("ranking_deadline", lazy_gettext("Organisations finish ranking applicants")),
    ("match_day", lazy_gettext("Match day: offers are made")),
    ("offer_deadline", lazy_gettext("Last day to answer an offer")),
    ("scramble_opens", lazy_gettext("Unfilled places open to unplaced applicants")),
    ("scramble_closes", lazy_gettext("Unfilled places close")),
)


@dataclass(frozen=True)
class Step:
    label: str
    day: date
    passed: bool


def steps(scheme: Scheme, today: date | None = None) -> list[Step]:
    """The days that are set, in timetable order, each marked passed once it is behind us."""
    today = today or clock.today()
    return [Step(str(label), getattr(scheme, name), getattr(scheme, name) < today)
            for name, label in STEPS if getattr(scheme, name) is not None]


def ranking_open(scheme: Scheme, today: date | None = None) -> bool:
    return scheme.ranking_deadline is None or (today or clock.today()) <= scheme.ranking_deadline


def scramble_open(scheme: Scheme, today: date | None = None) -> bool:
    """The scramble runs only on the days the scheme publishes: both ends set, both included."""
    if scheme.scramble_opens is None or scheme.scramble_closes is None:
        return False
    return scheme.scramble_opens <= (today or clock.today()) <= scheme.scramble_closes


def ranking_window(scheme: Scheme, today: date | None = None) -> str | None:
    """What an organisation ranking its applicants needs to know about when it may (None: no deadline set)."""
    today = today or clock.today()
    scramble = scheme.scramble_opens is not None and scheme.scramble_closes is not None
    if scramble_open(scheme, today):
        return _("Rankings are open again for applicants for unfilled places until %(closes)s.",
                 closes=long_date(scheme.scramble_closes))
    if scheme.ranking_deadline is None:
        return None
    if ranking_open(scheme, today):
        return _("You can change this order until %(day)s, the scheme's ranking deadline.",
                 day=long_date(scheme.ranking_deadline))
    if scramble and today < scheme.scramble_opens:
        return _("Rankings closed on %(day)s. They open again for applicants for unfilled places from %(opens)s to "
                 "%(closes)s.", day=long_date(scheme.ranking_deadline), opens=long_date(scheme.scramble_opens),
                 closes=long_date(scheme.scramble_closes))
    return _("Rankings closed on %(day)s, the scheme's ranking deadline, so the order can no longer change.",
             day=long_date(scheme.ranking_deadline))


def is_what_if(scheme: Scheme, started_at: datetime) -> bool:
    """A main round started on or before the ranking deadline was worked out before the rankings were
    final: a what-if, never to be approved."""
    if scheme.ranking_deadline is None:
        return False
    return started_at.astimezone(clock.HONG_KONG).date() <= scheme.ranking_deadline


def offer_deadline_for(scheme: Scheme, proposed: datetime) -> datetime:
    """Main-round offers lapse at the end of the scheme's published offer deadline; without one, at the
    `proposed` moment (the approver's number of days)."""
    if scheme.offer_deadline is None:
        return proposed
    return clock.end_of_day(scheme.offer_deadline)
