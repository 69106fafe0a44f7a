"""One waiting policy for wrong passwords and wrong codes: after the threshold, 1, 2, 4 ... minutes, at most
an hour, so a guesser is slowed to a crawl while a person who mistyped waits a minute."""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.core.db import utcnow

FIRST_DELAY = timedelta(minutes=1)
LONGEST_DELAY = timedelta(hours=1)


def delay_after(failures: int, threshold: int) -> timedelta | None:
    """None below the threshold; then 1, 2, 4 ... minutes, never more than an hour."""
    if failures < threshold:
        return None
    return min(FIRST_DELAY * (2 ** (failures - threshold)), LONGEST_DELAY)


def minutes_to_wait(until: datetime) -> int:
    """Whole minutes until `until`, rounded up, at least 1: what the refusal message tells the person."""
    return max(1, int((until - utcnow()).total_seconds() + 59) // 60)
