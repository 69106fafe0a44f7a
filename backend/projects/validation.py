"""What an NGO may ask for: every field of a project checked on its own, with a message per field.

Messages live here, as lazy gettext, so the form and the API say the same thing in the user's language.
Valid fields are returned even when others fail, so a draft never loses what was typed correctly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from backend.core.i18n import lazy_gettext
from backend.projects.catalogue import EDUCATION_NAMES, LANGUAGE_NAMES, SECTOR_NAMES
from backend.schemes.models import Scheme, SchemeSubsidyLimit
from matching.geography import CITIES

COST_FIELDS = ("cost_travel", "cost_accommodation", "cost_insurance", "cost_allowance", "cost_other")
TEXT_LIMITS = {"title_en": 200, "title_zh": 200, "host_organisation_en": 200, "host_organisation_zh": 200,
               "description_en": 5000, "description_zh": 5000}
MAX_PLACES = 500
MIN_DAYS, MAX_DAYS = 7, 26 * 7
CITY_BY_NAME = {city.name_en: city for city in CITIES}

MESSAGES = {
    "required_title_en": lazy_gettext("Enter the project title in English."),
    "required_title_zh": lazy_gettext("Enter the project title in Chinese."),
    "required_description_en": lazy_gettext("Describe the project in English."),
    "required_description_zh": lazy_gettext("Describe the project in Chinese."),
    "required_host_organisation_en": lazy_gettext("Enter the host organisation's name in English."),
    "required_host_organisation_zh": lazy_gettext("Enter the host organisation's name in Chinese."),
    "too_long": lazy_gettext("Use %(limit)s characters or fewer."),
    "sector": lazy_gettext("Choose the sector from the list."),
    "city": lazy_gettext("Choose the city from the list."),
    "date_missing": lazy_gettext("Enter the date."),
    "date_invalid": lazy_gettext("Enter a real date, for example 5 July 2027."),
    "end_before_start": lazy_gettext("The end date must be on or after the start date."),
    "too_short": lazy_gettext("An internship must last at least one week."),
    "too_long_internship": lazy_gettext("An internship can last at most 26 weeks."),
    "places": lazy_gettext("Enter the number of places as a whole number from 1 to %(max)s."),
    "money": lazy_gettext("Enter an amount in whole Hong Kong dollars, for example 12000."),
    "cost_total_zero": lazy_gettext("Enter the cost per place: the breakdown adds up to nothing."),
    "cost_above_limit": lazy_gettext("The subsidy asked per place is HK$%(asked)s; this scheme pays at most HK$%(limit)s per place for this project."),
    "level": lazy_gettext("Choose a level from 0 (not required) to 5."),
    "education": lazy_gettext("Choose the minimum education from the list."),
    "age": lazy_gettext("Enter an age as a whole number."),
    "age_outside_scheme": lazy_gettext("The scheme funds ages %(min)s to %(max)s only."),
    "age_order": lazy_gettext("The minimum age must not be more than the maximum age."),
}


@dataclass
class Checked:
    values: dict
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(raw: Mapping[str, str], name: str) -> str:
    return re.sub(r"[ \t]+", " ", (raw.get(name) or "").strip())


def parse_money(value: str) -> int | None:
    """Whole HKD; thousands separators and a leading HK$ are forgiven, decimals are not."""
    cleaned = (value or "").strip().replace(",", "").replace(" ", "")
    cleaned = re.sub(r"^(HK\$|\$)", "", cleaned, flags=re.IGNORECASE)
    if not re.fullmatch(r"\d{1,9}", cleaned):
        return None
    return int(cleaned)


def parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _int(value: str) -> int | None:
    value = (value or "").strip()
    return int(value) if re.fullmatch(r"\d{1,4}", value) else None


def subsidy_limit(session: Session, scheme: Scheme, region: str, weeks: int | None) -> int:
    """The tightest ceiling that applies: the scheme's, or a region or duration band's."""
    limit = scheme.max_subsidy_per_place
    for rule in session.exec(select(SchemeSubsidyLimit).where(SchemeSubsidyLimit.scheme_id == scheme.id)):
        if rule.region and rule.region != region:
            continue
        if weeks is not None and ((rule.min_weeks and weeks < rule.min_weeks)
                                  or (rule.max_weeks and weeks > rule.max_weeks)):
            continue
        if weeks is None and (rule.min_weeks or rule.max_weeks):
            continue
        limit = min(limit, rule.max_subsidy_per_place)
    return limit


def check_project(session: Session, scheme: Scheme, raw: Mapping[str, str], *, complete: bool) -> Checked:
    """Check the form fields given. `complete=False` (saving a draft) lets empty fields pass."""
    values: dict = {}
    errors: dict[str, str] = {}

    def fail(field: str, key: str, **params) -> None:
        errors.setdefault(field, str(MESSAGES[key]) % params if params else str(MESSAGES[key]))

    for name, limit in TEXT_LIMITS.items():
        text = _text(raw, name)
        if len(text) > limit:
            fail(name, "too_long", limit=limit)
        elif not text and complete:
            fail(name, f"required_{name}")
        else:
            values[name] = text

    sector = _text(raw, "sector")
    if sector in SECTOR_NAMES:
        values["sector"] = sector
    elif sector or complete:
        fail("sector", "sector")

    city = CITY_BY_NAME.get(_text(raw, "city"))
    if city:
        values["city"], values["region"] = city.name_en, city.region
    elif _text(raw, "city") or complete:
        fail("city", "city")

    days = {}
    for name in ("start_date", "end_date"):
        text = _text(raw, name)
        if not text:
            if complete:
                fail(name, "date_missing")
            continue
        day = parse_day(text)
        if day is None:
            fail(name, "date_invalid")
        else:
            days[name] = values[name] = day
    weeks = None
    if len(days) == 2:
        length = (days["end_date"] - days["start_date"]).days + 1
        if length < 1:
            fail("end_date", "end_before_start")
        elif length < MIN_DAYS:
            fail("end_date", "too_short")
        elif length > MAX_DAYS:
            fail("end_date", "too_long_internship")
        weeks = max(1, round(length / 7))

    places = _int(raw.get("places_requested", ""))
    if places is not None and 1 <= places <= MAX_PLACES:
        values["places_requested"] = places
    elif _text(raw, "places_requested") or complete:
        fail("places_requested", "places", max=MAX_PLACES)

    costs_ok = True
    for name in COST_FIELDS:
        text = _text(raw, name)
        if not text:
            values[name] = 0
            continue
        amount = parse_money(text)
        if amount is None:
            fail(name, "money")
            costs_ok = False
        else:
            values[name] = amount
    if costs_ok:
        total = sum(values.get(name, 0) for name in COST_FIELDS)
        if total == 0 and complete:
            fail("cost_travel", "cost_total_zero")
        elif total:
            limit = subsidy_limit(session, scheme, values.get("region", ""), weeks)
            if total > limit:
                fail("cost_travel", "cost_above_limit", asked=f"{total:,}", limit=f"{limit:,}")

    languages = {}
    for language in LANGUAGE_NAMES:
        text = _text(raw, f"language_{language}") or "0"
        level = _int(text)
        if level is None or level > 5:
            fail(f"language_{language}", "level")
        elif level:
            languages[language] = level
    values["languages"] = languages

    education = _text(raw, "min_education") or "secondary"
    if education in EDUCATION_NAMES:
        values["min_education"] = education
    else:
        fail("min_education", "education")

    ages = {}
    for name, default in (("min_age", scheme.min_age), ("max_age", scheme.max_age)):
        text = _text(raw, name)
        age = _int(text) if text else default
        if age is None:
            fail(name, "age")
        elif not scheme.min_age <= age <= scheme.max_age:
            fail(name, "age_outside_scheme", min=scheme.min_age, max=scheme.max_age)
        else:
            ages[name] = values[name] = age
    if len(ages) == 2 and ages["min_age"] > ages["max_age"]:
        fail("min_age", "age_order")
        values.pop("min_age"), values.pop("max_age")
    return Checked(values=values, errors=errors)
