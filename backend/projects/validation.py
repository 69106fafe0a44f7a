"""What an NGO may ask for: every field of a project checked on its own, with a message per field.

Messages live here, as lazy gettext, so the form and the API say the same thing in the user's language.
Valid fields are returned even when others fail, so a draft never loses what was typed correctly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlmodel import Session, select

from backend.core.forms import Fields
from backend.core.i18n import lazy_gettext
from backend.projects.catalogue import EDUCATION_NAMES, LANGUAGE_NAMES, SECTOR_NAMES
from backend.schemes import kinds
from backend.schemes.models import Scheme, SchemeSubsidyLimit
from matching import ORIGINS
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
    "end_before_start": lazy_gettext("The end date must be on or after the start date."),
    "too_short": lazy_gettext("An internship must last at least one week."),
    "too_long_internship": lazy_gettext("An internship can last at most 26 weeks."),
    "places": lazy_gettext("Enter the number of places as a whole number from 1 to %(max)s."),
    "min_places": lazy_gettext("Enter the fewest places the project can run with as a whole number from 1 to "
                               "%(max)s (the places requested), or leave it empty."),
    "money": lazy_gettext("Enter an amount in whole Hong Kong dollars, for example 12000."),
    "cost_total_zero": lazy_gettext("Enter the cost per place: the breakdown adds up to nothing."),
    "required_host_provides_en": lazy_gettext("Say in English what the host provides each intern, for example an "
                                              "allowance and accommodation."),
    "required_host_provides_zh": lazy_gettext("Say in Chinese what the host provides each intern, for example an "
                                              "allowance and accommodation."),
    "cost_above_limit": lazy_gettext("The subsidy asked per place is HK$%(asked)s; this scheme pays at most HK$%(limit)s per place for this project."),
    "level": lazy_gettext("Choose a level from 0 (not required) to 5."),
    "language": lazy_gettext("Ask for Putonghua, English or Cantonese: other languages are not in the list."),
    "education": lazy_gettext("Choose the minimum education from the list."),
    "age": lazy_gettext("Enter an age as a whole number."),
    "age_outside_scheme": lazy_gettext("The scheme funds ages %(min)s to %(max)s only."),
    "age_order": lazy_gettext("The minimum age must not be more than the maximum age."),
    "seats": lazy_gettext("Enter a whole number of places from 0 to %(max)s, or leave it empty."),
    "seats_order": lazy_gettext("The fewest places must not be more than the most."),
    "seats_above_places": lazy_gettext("This is more than the %(places)s places requested."),
    "seats_reserved_above_places": lazy_gettext("The places kept for each side add up to more than the %(places)s places requested."),
}
HOST_PROVIDES_LIMIT = 1000
# The seats-per-origin boxes of a project in a programme that admits both sides: (origin, fewest, most).
SEAT_FIELDS = tuple((origin, f"seats_{origin}_fewest", f"seats_{origin}_most") for origin in ORIGINS)


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


def check_project(session: Session, scheme: Scheme, raw: Mapping[str, str], *, complete: bool,
                  saved_dates: Mapping[str, date | None] | None = None) -> tuple[dict, dict[str, str]]:
    """The valid values and a message per invalid field. `complete=False` (saving a draft) lets empty fields
    pass; `saved_dates` (the draft's stored start and end) stand in for a date left empty."""
    fields = Fields(raw)
    values: dict = {}

    def fail(field: str, key: str, **params) -> None:
        fields.fail(field, MESSAGES[key], **params)

    def required(key: str):
        return MESSAGES[key] if complete else None

    for name, limit in TEXT_LIMITS.items():
        text = fields.text(name, max_length=limit, required=required(f"required_{name}"))
        if text is not None and (text or not complete):
            values[name] = text

    rules = kinds.rules_of(scheme)
    for name in ("host_provides_en", "host_provides_zh"):
        text = fields.text(name, max_length=HOST_PROVIDES_LIMIT, required=required(f"required_{name}")
                           if rules.host_states_what_it_provides else None)
        if text is not None:
            values[name] = text

    sector = fields.choice("sector", SECTOR_NAMES, message=MESSAGES["sector"], required=required("sector"))
    if sector:
        values["sector"] = sector

    city = fields.choice("city", CITY_BY_NAME, message=MESSAGES["city"], required=required("city"))
    if city:
        values["city"], values["region"] = city, CITY_BY_NAME[city].region

    days = {}
    for name, label in (("start_date", lazy_gettext("Start date")), ("end_date", lazy_gettext("End date"))):
        day = fields.date(name, required=required("date_missing"), label=label)
        if day is not None:
            days[name] = values[name] = day
    for name, day in (saved_dates or {}).items():
        if day is not None and name not in days and name not in fields.errors:
            days[name] = day
    weeks = None
    if len(days) == 2:
        length = (days["end_date"] - days["start_date"]).days + 1
        if length < 1:
            fail("end_date", "end_before_start")
            # Never saved as it is (the database refuses it): the end typed, or else the start, stays out.
            values.pop("end_date" if "end_date" in values else "start_date", None)
        elif length < MIN_DAYS:
            fail("end_date", "too_short")
        elif length > MAX_DAYS:
            fail("end_date", "too_long_internship")
        weeks = max(1, round(length / 7))

    places_message = str(MESSAGES["places"]) % {"max": MAX_PLACES}
    places = fields.whole("places_requested", 1, MAX_PLACES, message=places_message,
                          required=places_message if complete else None)
    if places is not None:
        values["places_requested"] = places
    fewest = fields.whole("min_places", 1, MAX_PLACES, message=str(MESSAGES["min_places"]) % {"max": places or MAX_PLACES})
    if fewest is not None and places is not None and fewest > places:
        fail("min_places", "min_places", max=places)
    elif "min_places" not in fields.errors and places is not None:
        values["min_places"] = fewest  # None (left empty): every place requested

    costs = {name: fields.money(name, message=MESSAGES["money"], default=0) for name in COST_FIELDS}
    values.update({name: amount for name, amount in costs.items() if amount is not None})
    if None not in costs.values():
        total = sum(costs.values())
        if total == 0 and complete and not rules.subsidy_may_be_zero:
            fail("cost_travel", "cost_total_zero")
        elif total:
            limit = subsidy_limit(session, scheme, values.get("region", ""), weeks)
            if total > limit:
                fail("cost_travel", "cost_above_limit", asked=f"{total:,}", limit=f"{limit:,}")

    languages = {}
    for name in raw:
        if name.startswith("language_") and name.removeprefix("language_") not in LANGUAGE_NAMES:
            fail(name, "language")
    for language in LANGUAGE_NAMES:
        level = fields.whole(f"language_{language}", 0, 5, message=MESSAGES["level"], default=0)
        if level:
            languages[language] = level
    values["languages"] = languages

    education = fields.choice("min_education", EDUCATION_NAMES, message=MESSAGES["education"], default="secondary")
    if education:
        values["min_education"] = education

    ages = {}
    for name, default in (("min_age", scheme.min_age), ("max_age", scheme.max_age)):
        age = fields.whole(name, 0, 9999, message=MESSAGES["age"], default=default)
        if age is None:
            continue
        if not scheme.min_age <= age <= scheme.max_age:
            fail(name, "age_outside_scheme", min=scheme.min_age, max=scheme.max_age)
        else:
            ages[name] = values[name] = age
    if len(ages) == 2 and ages["min_age"] > ages["max_age"]:
        fail("min_age", "age_order")
        values.pop("min_age"), values.pop("max_age")
    if len(scheme.admitted_origins) > 1:
        seats = _origin_seats(fields, fail, places)
        if seats is not None:
            values["origin_seats"] = seats
    return values, fields.errors


def _origin_seats(fields: Fields, fail, places: int | None) -> dict[str, list[int]] | None:
    """{origin: [fewest, most]} for the sides whose boxes are filled; None while a box is wrong."""
    seats: dict[str, list[int]] = {}
    message = str(MESSAGES["seats"]) % {"max": MAX_PLACES}
    ok = True
    for origin, fewest_box, most_box in SEAT_FIELDS:
        fewest = fields.whole(fewest_box, 0, MAX_PLACES, message=message)
        most = fields.whole(most_box, 0, MAX_PLACES, message=message)
        if fewest_box in fields.errors or most_box in fields.errors:
            ok = False
            continue
        if fewest is None and most is None:
            continue
        fewest, most = fewest or 0, most if most is not None else (places or MAX_PLACES)
        if fewest > most:
            fail(fewest_box, "seats_order")
            ok = False
        elif places is not None and most > places:
            fail(most_box, "seats_above_places", places=places)
            ok = False
        seats[origin] = [fewest, most]
    if ok and places is not None and sum(fewest for fewest, _most in seats.values()) > places:
        fail(SEAT_FIELDS[0][1], "seats_reserved_above_places", places=places)
        ok = False
    return seats if ok else None
