"""Money, numbers, dates and place names as a reader sees them, in the current language.

Services and pages both use these (pages through the Jinja filters that templating registers); nothing
here knows about templates.
"""

from datetime import date

from babel.numbers import format_decimal

from backend.core import i18n
from matching.geography import CITIES, REGIONS

# Written out rather than asked of Babel: these run dozens of times per page and Babel's pattern
# machinery was a tenth of the catalogue page's rendering time. Both languages group digits the same way.
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")


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
    if i18n.get_language() == "zh-Hant":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


_REGION_NAMES = {region.name_en: region for region in REGIONS}
_CITY_NAMES = {city.name_en: city for city in CITIES}


def _place_name(table: dict, name: str) -> str:
    entry = table.get(name)
    if entry is None:
        return name
    return entry.name_zh if i18n.get_language() == "zh-Hant" else entry.name_en


def region_name(name: str) -> str:
    return _place_name(_REGION_NAMES, name)


def city_name(name: str) -> str:
    return _place_name(_CITY_NAMES, name)
