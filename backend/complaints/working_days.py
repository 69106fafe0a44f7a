"""Working days in Hong Kong: weekdays that are not general holidays.

The general holidays are listed for 2026 and 2027 (the Government's gazetted list); outside those years only
weekends are skipped. Weekend holidays are listed too, though only weekday ones change an answer.
"""

from __future__ import annotations

from datetime import date, timedelta

HONG_KONG_GENERAL_HOLIDAYS: frozenset[date] = frozenset(date.fromisoformat(day) for day in (
    # 2026
    "2026-01-01", "2026-02-17", "2026-02-18", "2026-02-19", "2026-04-03", "2026-04-04", "2026-04-06",
    "2026-04-07", "2026-05-01", "2026-05-25", "2026-06-19", "2026-07-01", "2026-09-26", "2026-10-01",
    "2026-10-19", "2026-12-25", "2026-12-26",
    # 2027
    "2027-01-01", "2027-02-06", "2027-02-08", "2027-02-09", "2027-03-26", "2027-03-27", "2027-03-29",
    "2027-04-05", "2027-05-01", "2027-05-13", "2027-06-09", "2027-07-01", "2027-09-16", "2027-10-01",
    "2027-10-08", "2027-12-25", "2027-12-27",
))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in HONG_KONG_GENERAL_HOLIDAYS


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself does not count)."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day
