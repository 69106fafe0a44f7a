"""The one clock the timetable reads: `now()` (aware UTC) and `today()` (the Hong Kong calendar day).

Deadlines, windows and match day are Hong Kong days. Tests set the clock (`set_now`) to walk a scheme
through its whole timetable, and `reset()` puts it back on the real time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
_fixed: datetime | None = None


def now() -> datetime:
    return _fixed if _fixed is not None else datetime.now(UTC)


def today() -> date:
    return now().astimezone(HONG_KONG).date()


def set_now(moment: datetime) -> None:
    """Stop the clock at `moment` (an aware datetime); for tests."""
    global _fixed
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime")
    _fixed = moment.astimezone(UTC)


def set_today(day: date, at: time = time(12, 0)) -> None:
    """Stop the clock at `at` o'clock Hong Kong time on `day`; for tests."""
    set_now(datetime.combine(day, at, HONG_KONG))


def reset() -> None:
    global _fixed
    _fixed = None


def end_of_day(day: date) -> datetime:
    """The last moment of a Hong Kong calendar day, in UTC: a deadline "on 30 June" lasts all that day."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), HONG_KONG).astimezone(UTC) - timedelta(seconds=1)


def is_before_or_on(day: date | None, moment_day: date | None = None) -> bool:
    """True when no such day is set, or today (or `moment_day`) is not after it."""
    return day is None or (moment_day or today()) <= day
