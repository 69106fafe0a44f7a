"""Money, numbers, dates and place names as a reader sees them, in the current language.

Services and pages both use these (pages through the Jinja filters that templating registers); nothing
here knows about templates.
"""

from datetime import UTC, date, datetime, time

from babel.numbers import format_decimal

from backend.core import i18n
from backend.core.clock import HONG_KONG
from matching.geography import CITIES, REGIONS

# Written out rather than asked of Babel: these run dozens of times per page and Babel's pattern
# machinery was a tenth of the catalogue page's rendering time. Both languages group digits the same way.
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


def hkd(amount: int | None) -> str:
    if amount is None:
        return "–"
    return f"HK${int(amount):,}"


def number(value: int | float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return format_decimal(value, locale="en")


def long_date(value: date | None) -> str:
    if value is None:
        return "–"
    if i18n.is_chinese():
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


_REGION_NAMES = {region.name_en: region for region in REGIONS}
_CITY_NAMES = {city.name_en: city for city in CITIES}


def _place_name(table: dict, name: str) -> str:
    entry = table.get(name)
    if entry is None:
        return name
    return i18n.in_reader_script(entry.name_zh) if i18n.is_chinese() else entry.name_en


def region_name(name: str) -> str:
    return _place_name(_REGION_NAMES, name)


def origin_name(origin: str) -> str:
    """Where participants come from ("hong_kong", "guangdong"), as a reader says it."""
    if i18n.is_chinese():
        return i18n.in_reader_script({"hong_kong": "香港", "guangdong": "廣東"}.get(origin, origin))
    return {"hong_kong": "Hong Kong", "guangdong": "Guangdong"}.get(origin, origin)


def city_name(name: str) -> str:
    return _place_name(_CITY_NAMES, name)


def end_of_hong_kong_day(moment: datetime) -> datetime:
    """The last minute of the Hong Kong calendar day `moment` falls on (23:59:59 HKT), as an aware UTC time:
    a deadline people can remember, not the minute of the day an approver happened to click."""
    day = moment.astimezone(HONG_KONG).date()
    return datetime.combine(day, time(23, 59, 59), tzinfo=HONG_KONG).astimezone(UTC)


def moment_in_words(moment: datetime) -> str:
    """'23:59 on Friday 12 June 2026 (Hong Kong time)' / '香港時間 2026年6月12日（星期五）23:59'."""
    local = moment.astimezone(HONG_KONG)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if i18n.is_chinese():
        return f"{i18n.in_reader_script('香港時間')} {long_date(local.date())}（{_WEEKDAYS_ZH[local.weekday()]}）{clock}"
    return f"{clock} on {_WEEKDAYS_EN[local.weekday()]} {long_date(local.date())} (Hong Kong time)"


def deadline_in_words(moment: datetime) -> str:
    """'by 23:59 on Friday 12 June 2026 (Hong Kong time)' / '香港時間 2026年6月12日（星期五）23:59 前'."""
    words = moment_in_words(moment)
    return f"{words} 前" if i18n.is_chinese() else f"by {words}"
