"""Offer deadlines are the end of a Hong Kong day, said in words a person can act on, in both languages."""

from datetime import UTC, datetime

from backend.core.formatting import deadline_in_words, end_of_hong_kong_day
from backend.outbox.service import speaking


def test_a_deadline_is_the_last_minute_of_the_hong_kong_day():
    # 20:30 UTC on 11 June is already 12 June in Hong Kong.
    assert end_of_hong_kong_day(datetime(2026, 6, 11, 20, 30, tzinfo=UTC)) == datetime(2026, 6, 12, 15, 59, 59,
                                                                                       tzinfo=UTC)
    assert end_of_hong_kong_day(datetime(2026, 6, 12, 1, 0, tzinfo=UTC)) == datetime(2026, 6, 12, 15, 59, 59,
                                                                                     tzinfo=UTC)


def test_the_deadline_in_words_in_english_and_chinese():
    deadline = datetime(2026, 6, 12, 15, 59, 59, tzinfo=UTC)
    with speaking("en"):
        assert deadline_in_words(deadline) == "by 23:59 on Friday 12 June 2026 (Hong Kong time)"
    with speaking("zh-Hant"):
        assert deadline_in_words(deadline) == "香港時間 2026年6月12日（星期五）23:59 前"
