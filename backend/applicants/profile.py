"""The applicant's profile, one topic per page, saved as they go, then submitted after "check your answers".

Each step validates only its own fields and keeps every valid answer even when another field on the page
is wrong, so nothing typed is lost; the errors come back per field for the page to show next to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from backend.applicants import origin_confirmation
from backend.applicants.models import ApplicantProfile
from backend.audit import service as audit
from backend.core import clock
from backend.core.db import utcnow
from backend.core.errors import DomainError, NotFound
from backend.core.formatting import city_name, long_date, region_name
from backend.core.forms import BadValue, Fields, parse_choice, parse_whole
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.identity import permissions as authz
from backend.identity.models import User
from backend.projects.catalogue import EDUCATION_NAMES, LANGUAGE_NAMES, LEVEL_NAMES
from matching import GUANGDONG, HONG_KONG
from matching.geography import REGION_BY_NAME

STEPS: tuple[str, ...] = ("names", "residency", "contact", "education", "study", "languages",
                          "availability", "regions", "open_to_other", "joined_before")
STEP_TITLES = {
    "names": lazy_gettext("Your name and date of birth"),
    "residency": lazy_gettext("Where you are from"),
    "contact": lazy_gettext("How we contact you"),
    "education": lazy_gettext("Your education"),
    "study": lazy_gettext("Your studies, skills and interests"),
    "languages": lazy_gettext("Languages you speak"),
    "availability": lazy_gettext("When you are available"),
    "regions": lazy_gettext("Where you would go"),
    "open_to_other": lazy_gettext("Other projects"),
    "joined_before": lazy_gettext("Previous funded internships"),
}
# The rules cannot be checked without these steps, so eligibility waits for them.
ELIGIBILITY_STEPS: tuple[str, ...] = ("names", "residency", "education", "languages", "availability")

EDUCATION_LEVELS = ("secondary", "diploma", "associate", "bachelor", "master", "doctorate")
MAIN_LANGUAGES = ("cantonese", "putonghua", "english")
MIN_LEVEL, MAX_LEVEL = 1, 5
LIMITS = {"name_en": 200, "name_zh": 100, "institution": 200, "programme": 200, "study_year": 40,
          "field_of_study": 200, "skills": 1000, "interests": 1000, "statement": 3000, "phone": 30,
          "other_language": 30}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{8,30}$")


def hk_today() -> date:
    """Windows open and close on Hong Kong calendar days, whatever the server's time zone (the one clock)."""
    return clock.today()


def find_profile(session: Session, user: User) -> ApplicantProfile | None:
    return session.exec(select(ApplicantProfile).where(ApplicantProfile.user_id == user.id)).first()


def own_profile(session: Session, actor: User, *, create: bool = False) -> ApplicantProfile:
    """The signed-in applicant's profile; `create` starts an empty one on their first save."""
    authz.require(actor, authz.Permission.APPLICANT_VIEW_OWN)
    profile = find_profile(session, actor)
    if profile is None:
        if not create:
            raise NotFound(_("You have not started your profile yet."))
        profile = ApplicantProfile(user_id=actor.id, contact_email=actor.email, name_en=actor.display_name)
        session.add(profile)
        session.flush()
    return profile


# --- field parsers: each returns the value or raises BadValue with the message for that field -----------

def _text(form: Mapping, name: str, *, required_message: str | None = None) -> str:
    value = str(form.get(name) or "").strip()
    if not value and required_message:
        raise BadValue(required_message)
    if len(value) > LIMITS.get(name, 200):
        raise BadValue(_("Must be %(limit)s characters or fewer.", limit=LIMITS.get(name, 200)))
    return value


DATE_LABELS = {  # as the steps' date boxes are labelled, so an error names the one that is wrong
    "date_of_birth": lazy_gettext("Date of birth"),
    "available_from": lazy_gettext("First day you are available"),
    "available_to": lazy_gettext("Last day you are available"),
}


def _date(form: Mapping, name: str) -> date | None:
    """The three-box date widget (`name-day`, `name-month`, `name-year`), or an ISO date from the API."""
    fields = Fields(form)
    day = fields.date(name, label=DATE_LABELS.get(name))
    if fields.errors:
        raise BadValue(fields.errors[name])
    return day


def _yes_no(form: Mapping, name: str, message: str) -> bool:
    value = str(form.get(name) or "").strip().lower()
    if value in ("yes", "true", "1", "on"):
        return True
    if value in ("no", "false", "0"):
        return False
    raise BadValue(message)


def _level(form: Mapping, name: str, language_name: str) -> int | None:
    value = str(form.get(name) or "").strip()
    if not value:
        return None
    return parse_whole(value, MIN_LEVEL, MAX_LEVEL, message=_(
        "The %(language)s level must be a whole number from 1 to 5.", language=language_name))


def _many(form: Mapping, name: str) -> list[str]:
    """A multi-valued field: a list from a form with repeated keys, or one text with ; or , between."""
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if getlist else form.get(name) or []
    if isinstance(values, str):
        values = re.split(r"[;,]", values)
    return [str(v).strip() for v in values if str(v).strip()]


# --- steps ---------------------------------------------------------------------------------------------

def _save_names(profile: ApplicantProfile, form: Mapping, put, today: date) -> None:
    def name_en():
        value = _text(form, "name_en")
        if not value and not str(form.get("name_zh") or "").strip():
            raise BadValue(_("Enter your name in English or in Chinese."))
        return value

    put("name_en", name_en)
    put("name_zh", lambda: _text(form, "name_zh"))

    def dob():
        value = _date(form, "date_of_birth")
        if value is None:
            raise BadValue(_("Enter your date of birth."))
        if value > today:
            raise BadValue(_("Your date of birth must be in the past."))
        if value.year < today.year - 100:
            raise BadValue(_("Check the year of your date of birth."))
        return value

    put("date_of_birth", dob)


ORIGIN_ANSWERS = (HONG_KONG, GUANGDONG, "neither")
GUANGDONG_CITIES = origin_confirmation.GUANGDONG_CITIES


def _origin(form: Mapping) -> str:
    answer = str(form.get("origin") or "").strip()
    if answer not in ORIGIN_ANSWERS:
        raise BadValue(_("Say whether you are a Hong Kong resident, from Guangdong, or neither."))
    return "" if answer == "neither" else answer


def _save_residency(profile: ApplicantProfile, form: Mapping, put, today: date) -> None:
    """Where the applicant is from, declared: which programmes admit her follows from it."""
    origin = put("origin", lambda: _origin(form), store=False)
    if origin is _Putter.FAILED:
        return

    def city() -> str:
        if origin != GUANGDONG:
            return ""
        value = str(form.get("guangdong_city") or "").strip()
        if value not in GUANGDONG_CITIES:
            raise BadValue(_("Choose the city in Guangdong where you live, study or work."))
        return value

    # The origin is stored with its city or not at all: "from Guangdong" without a city is no answer.
    if put("guangdong_city", city) is _Putter.FAILED:
        return
    if profile.origin != origin:
        profile.origin = origin
        put.changed.append("origin")
    profile.origin_declared_at = utcnow()


def origin_words(p: ApplicantProfile) -> str:
    if p.origin == HONG_KONG:
        return _("Hong Kong resident")
    if p.origin == GUANGDONG:
        return _("From Guangdong (%(city)s)", city=city_name(p.guangdong_city)) if p.guangdong_city else \
            _("From Guangdong")
    return _("Neither Hong Kong nor Guangdong")


def _save_contact(profile: ApplicantProfile, form: Mapping, put, today: date) -> None:
    def email():
        value = _text(form, "contact_email", required_message=_("Enter your e-mail address."))
        if len(value) > 254 or not _EMAIL.match(value):
            raise BadValue(_("Enter an e-mail address like name@example.com."))
        return value.lower()

    def phone():
        value = _text(form, "phone")
        if value and not _PHONE.match(value):
            raise BadValue(_("Enter a phone number of at least 8 digits, like 9123 4567."))
        return value

    put("contact_email", email)
    put("phone", phone)


def _save_education(profile: ApplicantProfile, form: Mapping, put, today: date) -> None:
    def level():
        return parse_choice(str(form.get("education_level") or "").lower(), EDUCATION_LEVELS,
                            message=_("Choose your highest level of education."))

    put("education_level", level)
    put("institution", lambda: _text(form, "institution",
                                     required_message=_("Enter the name of your school or institution.")))
    put("programme", lambda: _text(form, "programme"))
    put("study_year", lambda: _text(form, "study_year"))


def _save_study(profile: ApplicantProfile, form: Mapping, put, today: date) -> None:
    put("field_of_study", lambda: _text(form, "field_of_study",
                                        required_message=_("Enter what you study or studied.")))
    for name in ("skills", "interests", "statement"):
        put(name, lambda name=name: _text(form, name))


def _save_languages(profile: ApplicantProfile, form: Mapping, put, today: date) -> None:
    levels = {k: v for k, v in (profile.languages or {}).items()}
    for language in MAIN_LANGUAGES:
        value = put(language, lambda language=language: _level(form, language, str(LANGUAGE_NAMES[language])),
                    store=False)
        if value is not put.FAILED:
            if value is None:
                levels.pop(language, None)
            else:
                levels[language] = value

    def other():
        name = _text(form, "other_language").lower()
        level = _level(form, "other_level", name or _("other language"))
        if name and name in MAIN_LANGUAGES:
            raise BadValue(_("Give %(language)s its level above, not as another language.",
                             language=str(LANGUAGE_NAMES[name])))
        if name and level is None:
            raise BadValue(_("Choose a level from 1 to 5 for %(language)s.", language=name))
        if level is not None and not name:
            raise BadValue(_("Enter the name of the other language."))
        return name, level

    result = put("other_language", other, store=False)
    if result is not put.FAILED:
        for key in [k for k in levels if k not in MAIN_LANGUAGES]:
            del levels[key]
        name, level = result
        if name:
            levels[name] = level
    if not levels and not put.errors:
        put.errors["cantonese"] = _("Give your level in at least one language.")
    profile.languages = levels


def _save_availability(profile: ApplicantProfile, form: Mapping, put, today: date) -> None:
    def first_day():
        value = _date(form, "available_from")
        if value is None:
            raise BadValue(_("Enter the first day you are available."))
        return value

    start = put("available_from", first_day)

    def end():
        value = _date(form, "available_to")
        if value is None:
            raise BadValue(_("Enter the last day you are available."))
        first = start if start not in (None, put.FAILED) else profile.available_from
        if first is not None and value < first:
            raise BadValue(_("The last day you are available must be on or after the first day."))
        return value

    put("available_to", end)


def _save_regions(profile: ApplicantProfile, form: Mapping, put, today: date) -> None:
    def regions():
        chosen = _many(form, "regions")
        unknown = [r for r in chosen if r not in REGION_BY_NAME]
        if unknown:
            raise BadValue(_("Choose regions from the list."))
        return sorted(set(chosen), key=list(REGION_BY_NAME).index)

    put("regions", regions)


def _save_open_to_other(profile: ApplicantProfile, form: Mapping, put, today: date) -> None:
    put("open_to_other", lambda: _yes_no(
        form, "open_to_other", _("Say whether you would take a project you did not choose.")))


def _save_joined_before(profile: ApplicantProfile, form: Mapping, put, today: date) -> None:
    put("joined_before", lambda: _yes_no(
        form, "joined_before", _("Say whether you have joined a funded internship before.")))


_SAVERS = {"names": _save_names, "residency": _save_residency, "contact": _save_contact,
           "education": _save_education, "study": _save_study, "languages": _save_languages,
           "availability": _save_availability, "regions": _save_regions, "open_to_other": _save_open_to_other,
           "joined_before": _save_joined_before}


class _Putter:
    """Runs one field's parser: stores a valid value on the profile, or records the field's message."""

    FAILED = object()

    def __init__(self, profile: ApplicantProfile):
        self.profile = profile
        self.errors: dict[str, str] = {}
        self.changed: list[str] = []

    def __call__(self, attribute: str, parse, *, field: str | None = None, store: bool = True):
        field = field or attribute
        try:
            value = parse()
        except BadValue as error:
            self.errors.setdefault(field, str(error))
            return self.FAILED
        if store and getattr(self.profile, attribute) != value:
            setattr(self.profile, attribute, value)
            self.changed.append(attribute)
        return value


def save_step(session: Session, actor: User, step: str, form_data: Mapping, *, today: date | None = None
              ) -> tuple[ApplicantProfile, dict[str, str]]:
    """Saves the valid answers of one step; returns the profile and {field: message} for the rest."""
    authz.require(actor, authz.Permission.APPLICANT_EDIT_OWN)
    saver = _SAVERS.get(step)
    if saver is None:
        raise NotFound(_("We could not find that."))
    profile = own_profile(session, actor, create=True)
    before_languages = dict(profile.languages or {})
    put = _Putter(profile)
    declared_before = profile.origin_declared_at
    saver(profile, form_data, put, today or hk_today())
    if profile.origin_declared_at != declared_before:
        # Declared again (Guangdong again, Hong Kong or neither): the Guangdong office's answer no longer holds.
        origin_confirmation.reset_after_declaration(session, actor, profile)
        origin_confirmation.confirm_if_nominated(session, profile, actor.email)
    first_save = not put.errors and step not in (profile.steps_saved or [])
    if first_save:
        profile.steps_saved = [*(profile.steps_saved or []), step]  # a new list: JSON columns track assignment
    if step == "languages" and profile.languages != before_languages:
        put.changed.append("languages")
    if first_save and not put.changed and step != "residency":
        session.add(profile)
        session.flush()
    if put.changed or step == "residency":
        profile.updated_at = utcnow()
        session.add(profile)
        session.flush()
        # Which answers changed, never their values: the audit log is not a copy of personal data.
        audit.record(session, actor, "applicant_profile.saved", "applicant_profile", profile.id,
                     after={"step": step, "fields": sorted(set(put.changed))})
    return profile, put.errors


def _step_complete(profile: ApplicantProfile, step: str) -> bool:
    if step == "names":
        return bool((profile.name_en or profile.name_zh) and profile.date_of_birth)
    if step == "residency":
        return profile.origin_declared_at is not None
    if step == "contact":
        return bool(profile.contact_email)
    if step == "education":
        return bool(profile.education_level and profile.institution)
    if step == "study":
        return bool(profile.field_of_study)
    if step == "languages":
        return bool(profile.languages)
    if step == "availability":
        return bool(profile.available_from and profile.available_to)
    # Regions (empty = anywhere) and the two yes/no questions have a valid answer from the start.
    return True


def missing_steps(profile: ApplicantProfile | None, steps: tuple[str, ...] = STEPS) -> list[str]:
    if profile is None:
        return [s for s in steps if s in ELIGIBILITY_STEPS or s in ("contact", "study")]
    return [step for step in steps if not _step_complete(profile, step)]


def step_state(profile: ApplicantProfile | None, step: str) -> str:
    """"not_started" (never saved, and nothing in it yet), "incomplete" or "completed", for the task list."""
    if profile is None:
        return "not_started"
    # Regions and the yes/no questions are valid while empty, and contact starts with the account's e-mail: a
    # step counts as completed only once the applicant has saved it (or submitted the whole profile).
    opened = step in (profile.steps_saved or []) or profile.submitted_at is not None
    if not opened:
        return "not_started"
    return "completed" if _step_complete(profile, step) else "incomplete"


def step_title(step: str) -> str:
    return str(STEP_TITLES[step])


@dataclass
class Answer:
    step: str
    field: str
    label: str
    value: str


def check_answers(session: Session, actor: User) -> list[Answer]:
    """The "check your answers" summary, each row linking back to its step."""
    p = own_profile(session, actor)
    yes, no = _("Yes"), _("No")
    languages = "; ".join(f"{LANGUAGE_NAMES.get(k, k.title())}: {v} ({LEVEL_NAMES.get(v, '')})"
                          for k, v in sorted((p.languages or {}).items()))
    rows = [
        ("names", "name", _("Name"), " ".join(filter(None, (p.name_en, p.name_zh)))),
        ("names", "date_of_birth", _("Date of birth"), long_date(p.date_of_birth) if p.date_of_birth else ""),
        ("residency", "origin", _("Where you are from"), origin_words(p) if p.origin_declared_at else ""),
        ("contact", "contact_email", _("E-mail"), p.contact_email),
        ("contact", "phone", _("Phone"), p.phone),
        ("education", "education_level", _("Education"), str(EDUCATION_NAMES.get(p.education_level, ""))),
        ("education", "institution", _("Institution"), p.institution),
        ("education", "programme", _("Programme"), p.programme),
        ("education", "study_year", _("Year of study"), p.study_year),
        ("study", "field_of_study", _("Field of study"), p.field_of_study),
        ("study", "skills", _("Skills"), p.skills),
        ("study", "interests", _("Interests"), p.interests),
        ("study", "statement", _("Personal statement"), p.statement),
        ("languages", "languages", _("Languages"), languages),
        ("availability", "available_from", _("Available from"),
         long_date(p.available_from) if p.available_from else ""),
        ("availability", "available_to", _("Available until"), long_date(p.available_to) if p.available_to else ""),
        ("regions", "regions", _("Regions"),
         ", ".join(region_name(r) for r in p.regions) if p.regions else _("Any region")),
        ("open_to_other", "open_to_other", _("Open to other projects"), yes if p.open_to_other else no),
        ("joined_before", "joined_before", _("Joined a funded internship before"), yes if p.joined_before else no),
    ]
    return [Answer(step, field, label, value) for step, field, label, value in rows]


def submit(session: Session, actor: User) -> ApplicantProfile:
    """All steps complete: the profile is submitted (and stays editable; the choices carry the application)."""
    authz.require(actor, authz.Permission.APPLICANT_EDIT_OWN)
    profile = own_profile(session, actor)
    missing = missing_steps(profile)
    if missing:
        raise DomainError(_("Complete these parts of your profile first: %(steps)s.",
                            steps="; ".join(step_title(s) for s in missing)), field="profile", missing=missing)
    first_time = profile.submitted_at is None
    profile.submitted_at = utcnow()
    profile.updated_at = profile.submitted_at
    session.add(profile)
    session.flush()
    audit.record(session, actor, "applicant_profile.submitted" if first_time else "applicant_profile.resubmitted",
                 "applicant_profile", profile.id)
    return profile
