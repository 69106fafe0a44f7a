"""Creating and editing funding schemes: every field checked on its own, in the user's language.

A scheme can never be edited below what it has already granted: the budget not below the funding
granted, a regional cap not below the places granted in that region. Both checks run under the scheme's
row lock (facts.lock_scheme), so they cannot race an approver's confirmation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from statistics import median

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.core import clock
from backend.core.errors import NotFound
from backend.core.formatting import long_date
from backend.core.forms import DATE_PARTS, Fields, FormInvalid
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.identity.models import User
from backend.identity.permissions import Permission, require
from backend.projects.models import Project, ProjectStatus
from backend.schemes.facts import FUNDED_STATUSES, granted_by_region, lock_scheme, region_caps
from backend.schemes.kinds import RULES, ProgrammeKind
from backend.schemes.models import AssessmentCriterion, Scheme, SchemeRegionCap, SchemeSubsidyLimit
from backend.schemes.service import RegionPlaces, SchemeSummary, summarise
from matching import ORIGINS
from matching.geography import GBA_CITIES, REGION_BY_NAME, REGIONS
from matching.model import CAP_RULES, POLICY_BOUNDS, RESERVED_SEATS, Policy

LIMIT_ROWS_BLANK = 2
CRITERION_ROWS_BLANK = 2
REQUIRED_DATE_FIELDS = ("ngo_window_opens", "ngo_window_closes", "applicant_window_opens", "applicant_window_closes")
# The match timetable after the applicant window, in the order its days must come; each may be left empty.
TIMETABLE_FIELDS = ("ranking_deadline", "match_day", "offer_deadline", "scramble_opens", "scramble_closes")
DATE_FIELDS = REQUIRED_DATE_FIELDS + TIMETABLE_FIELDS
TIMETABLE_LABELS = {
    "applicant_window_closes": lazy_gettext("the day applications close"),
    "ranking_deadline": lazy_gettext("the ranking deadline"),
    "match_day": lazy_gettext("match day"),
    "offer_deadline": lazy_gettext("the offer deadline"),
    "scramble_opens": lazy_gettext("the day the scramble opens"),
}
DATE_LABELS = {  # as the form's date boxes are labelled, so an error names the one that is wrong
    "ngo_window_opens": lazy_gettext("Organisations can apply from"),
    "ngo_window_closes": lazy_gettext("Organisations can apply until"),
    "applicant_window_opens": lazy_gettext("Young people can choose projects from"),
    "applicant_window_closes": lazy_gettext("Young people can choose projects until"),
    "ranking_deadline": lazy_gettext("Organisations can rank applicants until (optional)"),
    "match_day": lazy_gettext("Match day (optional)"),
    "offer_deadline": lazy_gettext("Offers must be answered by (optional)"),
    "scramble_opens": lazy_gettext("Unplaced applicants can apply for unfilled places from (optional)"),
    "scramble_closes": lazy_gettext("Unplaced applicants can apply for unfilled places until (optional)"),
}

MESSAGES = {
    "name_en": lazy_gettext("Enter the scheme's name in English."),
    "name_zh": lazy_gettext("Enter the scheme's name in Chinese."),
    "too_long": lazy_gettext("Use %(limit)s characters or fewer."),
    "budget": lazy_gettext("Enter the budget in whole Hong Kong dollars, for example 91,000,000."),
    "budget_below_granted": lazy_gettext("The budget cannot be less than the HK$%(granted)s already granted."),
    "window_order": lazy_gettext("The window must close on or after the day it opens."),
    "timetable_after": lazy_gettext("This must be after %(earlier)s (%(day)s)."),
    "timetable_not_before": lazy_gettext("This must be on or after %(earlier)s (%(day)s)."),
    "age": lazy_gettext("Enter an age from 15 to 35."),
    "age_order": lazy_gettext("The minimum age must not be more than the maximum age."),
    "organisation_places": lazy_gettext("Enter the most places one organisation may be granted as a whole number "
                                        "from 1 to 99,999, or leave it empty for no limit."),
    "subsidy": lazy_gettext("Enter the most the scheme pays per place, in whole Hong Kong dollars."),
    "percent": lazy_gettext("Enter a whole percentage from 0 to 100, or leave it empty."),
    "choices": lazy_gettext("Enter a number of choices from 1 to 20."),
    "cap": lazy_gettext("Enter a whole number of places, or leave it empty for no cap."),
    "cap_below_granted": lazy_gettext("The cap cannot be less than the %(granted)s places already granted in this region."),
    "unknown_region": lazy_gettext("%(region)s is not a region in the list."),
    "limit_region": lazy_gettext("Choose the region from the list, or leave it empty for every region."),
    "weeks": lazy_gettext("Enter a whole number of weeks from 1 to 26, or leave it empty."),
    "weeks_order": lazy_gettext("The shortest duration must not be more than the longest."),
    "limit_amount": lazy_gettext("Enter the most paid per place for this row, in whole Hong Kong dollars."),
    "criterion_code": lazy_gettext("Use lower-case letters, digits and underscores for the code, for example learning_plan."),
    "criterion_duplicate": lazy_gettext("Each criterion needs its own code."),
    "criterion_name": lazy_gettext("Enter the criterion's name in English and in Chinese."),
    "criterion_number": lazy_gettext("Enter a weight from 1 to 10 and a top score from 1 to 10."),
    "origins": lazy_gettext("Say who may take part: youth from Hong Kong, from Guangdong, or both."),
    "reserved_seats": lazy_gettext("Say whether places kept for one side stay empty or go to the other side."),
    "cap_rule": lazy_gettext("Choose how a regional cap is kept when rounds follow the organisations' rankings."),
    "kind": lazy_gettext("Choose what kind of programme this is."),
    "host_institution_en": lazy_gettext("Enter the host institution's name in English: a thematic programme has one."),
    "host_institution_zh": lazy_gettext("Enter the host institution's name in Chinese: a thematic programme has one."),
    "both_sides": lazy_gettext("A thematic programme's cohorts mix youth from Hong Kong and from Guangdong: tick both."),
    "moderation_threshold": lazy_gettext("Enter the largest difference between two scores allowed without moderation: "
                                         "a whole number of points from 1 to 100."),
    "first_timer_priority": lazy_gettext("Enter the priority for first-time participants: a whole number from "
                                         "%(low)s to %(high)s (300 by default, 0 for none)."),
    "choice_weight": lazy_gettext("Enter the weight of the applicant's choice rank: a whole number of percent from "
                                  "%(low)s to %(high)s (100 by default)."),
    "fit_weight": lazy_gettext("Enter the weight of text fit: a whole number of points from %(low)s to %(high)s "
                               "(40 by default)."),
}
# The match policy's fields on the scheme form, each with its bounds (matching.model.POLICY_BOUNDS).
POLICY_FIELDS = tuple(POLICY_BOUNDS)
# The scheme form's "who may take part" boxes, one per origin (a box is "on" when ticked).
ORIGIN_BOXES = {f"admits_{origin}": origin for origin in ORIGINS}


class SchemeInvalid(FormInvalid):
    status_code = 422
    code = "scheme_invalid"


@dataclass
class SchemeForm:
    """What the scheme form shows: the values as strings plus its repeating rows."""

    values: dict[str, str] = field(default_factory=dict)
    limits: list[dict[str, str]] = field(default_factory=list)
    criteria: list[dict[str, str]] = field(default_factory=list)


def blank_form() -> SchemeForm:
    form = SchemeForm(values={"min_age": "18", "max_age": "29", "max_choices": "5", "admits_hong_kong": "on",
                              "reserved_seats": "keep", "cap_rule": "proportional", "moderation_threshold": "15",
                              **{name: str(value) for name, value in Policy().as_dict().items()},
                              "kind": ProgrammeKind.FUNDING_SCHEME})
    _pad(form)
    return form


def _pad(form: SchemeForm) -> SchemeForm:
    form.limits += [{"region": "", "min_weeks": "", "max_weeks": "", "amount": ""}] * LIMIT_ROWS_BLANK
    form.criteria += [{"code": "", "name_en": "", "name_zh": "", "weight": "1", "max_score": "5"}] * CRITERION_ROWS_BLANK
    return form


def form_of(session: Session, scheme: Scheme) -> SchemeForm:
    values = {name: str(getattr(scheme, name)) for name in
              ("name_en", "name_zh", "min_age", "max_age", "max_choices", "kind", "host_institution_en",
               "host_institution_zh")}
    values["budget_hkd"] = f"{scheme.budget_hkd:,}"
    values["max_subsidy_per_place"] = f"{scheme.max_subsidy_per_place:,}"
    values["gba_min_share_percent"] = "" if scheme.gba_min_share_percent is None else str(scheme.gba_min_share_percent)
    values.update({box: "on" for box, origin in ORIGIN_BOXES.items() if origin in scheme.admitted_origins})
    values["reserved_seats"] = scheme.reserved_seats
    values["cap_rule"] = scheme.cap_rule
    values["double_scoring"] = "on" if scheme.double_scoring else ""
    values["moderation_threshold"] = str(scheme.moderation_threshold)
    values.update({name: str(getattr(scheme, name)) for name in POLICY_FIELDS})
    values["max_places_per_organisation"] = ("" if scheme.max_places_per_organisation is None
                                             else str(scheme.max_places_per_organisation))
    for name in DATE_FIELDS:
        day = getattr(scheme, name)
        values[name] = day.isoformat() if day is not None else ""
    for region, places in region_caps(session, scheme.id).items():
        values[f"cap_{REGION_BY_NAME[region].code}"] = str(places)
    limits = [{"region": rule.region or "", "min_weeks": str(rule.min_weeks or ""),
               "max_weeks": str(rule.max_weeks or ""), "amount": f"{rule.max_subsidy_per_place:,}"}
              for rule in session.exec(select(SchemeSubsidyLimit).where(SchemeSubsidyLimit.scheme_id == scheme.id)
                                       .order_by(SchemeSubsidyLimit.id))]
    return _pad(SchemeForm(values=values, limits=limits, criteria=[
        {"code": c.code, "name_en": c.name_en, "name_zh": c.name_zh, "weight": str(c.weight),
         "max_score": str(c.max_score)} for c in criteria_of(session, scheme)]))


def read_form(raw: Mapping[str, str]) -> SchemeForm:
    """The posted form as a SchemeForm (rows numbered limit_region_0, criterion_code_0, ...)."""
    names = ("name_en", "name_zh", "kind", "host_institution_en", "host_institution_zh", "budget_hkd", *DATE_FIELDS, "min_age", "max_age", "max_subsidy_per_place",
             "gba_min_share_percent", "max_places_per_organisation", "max_choices", *ORIGIN_BOXES, "reserved_seats", "cap_rule",
             "double_scoring", "moderation_threshold", *POLICY_FIELDS, *(f"cap_{r.code}" for r in REGIONS))
    names += tuple(f"{name}-{part}" for name in DATE_FIELDS for part in DATE_PARTS)
    form = SchemeForm(values={name: str(raw.get(name) or "") for name in names})
    for i in range(50):
        row = {key: str(raw.get(f"limit_{key}_{i}") or "") for key in ("region", "min_weeks", "max_weeks", "amount")}
        if f"limit_amount_{i}" not in raw:
            break
        form.limits.append(row)
    for i in range(50):
        if f"criterion_code_{i}" not in raw:
            break
        form.criteria.append({key: str(raw.get(f"criterion_{key}_{i}") or "")
                              for key in ("code", "name_en", "name_zh", "weight", "max_score")})
    return form


@dataclass
class CheckedScheme:
    values: dict
    caps: dict[str, int]
    limits: list[dict]
    criteria: list[dict]
    errors: dict[str, str]


def _check_timetable_order(values: dict, fail) -> None:
    """Each day of the timetable that is set comes after the nearest earlier one that is set: applications
    close, then the ranking deadline, match day (after it), the offer deadline, and the scramble window.
    The error sits on the later field and names the earlier one."""
    earlier = None
    for name in ("applicant_window_closes", *TIMETABLE_FIELDS):
        day = values.get(name)
        if day is None:
            continue
        if earlier is not None:
            before_name, before_day = earlier
            strictly = name == "match_day"  # match day comes after the ranking deadline, not on it
            if day < before_day or (strictly and day == before_day):
                fail(name, "timetable_after" if strictly else "timetable_not_before",
                     earlier=str(TIMETABLE_LABELS[before_name]), day=long_date(before_day))
        earlier = (name, day)


def check_form(form: SchemeForm) -> CheckedScheme:
    raw = form.values
    # A percent sign and thousands separators are forgiven where a whole number is asked for.
    fields = Fields({**raw, "gba_min_share_percent": str(raw.get("gba_min_share_percent") or "").strip().rstrip("%"),
                     **{f"cap_{r.code}": str(raw.get(f"cap_{r.code}") or "").replace(",", "") for r in REGIONS},
                     "max_places_per_organisation": str(raw.get("max_places_per_organisation") or "").replace(",", ""),
                     **{f"limit_{key}_{i}": value for i, row in enumerate(form.limits) for key, value in row.items()},
                     **{f"criterion_{key}_{i}": value for i, row in enumerate(form.criteria)
                        for key, value in row.items()}})
    values: dict = {}

    def fail(name: str, key: str, **params) -> None:
        fields.fail(name, MESSAGES[key], **params)

    names = fields.bilingual("name", required_en=MESSAGES["name_en"], required_zh=MESSAGES["name_zh"])
    values.update({name: text for name, text in names.items() if text})
    kind = fields.choice("kind", ProgrammeKind, message=MESSAGES["kind"], default=ProgrammeKind.FUNDING_SCHEME)
    rules = RULES[ProgrammeKind(kind or ProgrammeKind.FUNDING_SCHEME)]
    if kind:
        values["kind"] = kind
    host = fields.bilingual("host_institution", required_en=MESSAGES["host_institution_en"] if rules.needs_host_institution
                            else None, required_zh=MESSAGES["host_institution_zh"] if rules.needs_host_institution else None)
    values.update({name: text for name, text in host.items() if text is not None})
    budget = fields.money("budget_hkd", message=MESSAGES["budget"], required=MESSAGES["budget"])
    if budget == 0:
        fail("budget_hkd", "budget")
    elif budget is not None:
        values["budget_hkd"] = budget
    for name in REQUIRED_DATE_FIELDS:
        day = fields.date(name, required=_("Enter a real date with a day, month and year, for example 5 7 2027."),
                          label=DATE_LABELS[name])
        if day is not None:
            values[name] = day
    for name in TIMETABLE_FIELDS:
        values[name] = fields.date(name, label=DATE_LABELS[name])
    for opens, closes in (("ngo_window_opens", "ngo_window_closes"),
                          ("applicant_window_opens", "applicant_window_closes")):
        if opens in values and closes in values and values[closes] < values[opens]:
            fail(closes, "window_order")
    _check_timetable_order(values, fail)
    for name in ("min_age", "max_age"):
        age = fields.whole(name, 15, 35, message=MESSAGES["age"], required=MESSAGES["age"])
        if age is not None:
            values[name] = age
    if "min_age" in values and "max_age" in values and values["min_age"] > values["max_age"]:
        fail("min_age", "age_order")
    subsidy = fields.money("max_subsidy_per_place", message=MESSAGES["subsidy"], required=MESSAGES["subsidy"])
    if subsidy == 0:
        fail("max_subsidy_per_place", "subsidy")
    elif subsidy is not None:
        values["max_subsidy_per_place"] = subsidy
    values["gba_min_share_percent"] = fields.whole("gba_min_share_percent", 0, 100, message=MESSAGES["percent"])
    values["max_places_per_organisation"] = fields.whole("max_places_per_organisation", 1, 99999,
                                                         message=MESSAGES["organisation_places"])
    choices = fields.whole("max_choices", 1, 20, message=MESSAGES["choices"], default=5)
    if choices is not None:
        values["max_choices"] = choices
    admitted = [origin for box, origin in ORIGIN_BOXES.items() if fields.checkbox(box)]
    if not admitted:
        fail("admits_hong_kong", "origins")
    elif rules.admits_both_sides and len(admitted) < len(ORIGIN_BOXES):
        fail("admits_hong_kong", "both_sides")
    else:
        values["admitted_origins"] = admitted
    reserved = fields.choice("reserved_seats", RESERVED_SEATS, message=MESSAGES["reserved_seats"], default="keep")
    if reserved:
        values["reserved_seats"] = reserved
    cap_rule = fields.choice("cap_rule", CAP_RULES, message=MESSAGES["cap_rule"], default="proportional")
    if cap_rule:
        values["cap_rule"] = cap_rule
    values["double_scoring"] = fields.checkbox("double_scoring")
    threshold = fields.whole("moderation_threshold", 1, 100, message=MESSAGES["moderation_threshold"], default=15)
    if threshold is not None:
        values["moderation_threshold"] = threshold
    for name, (low, high) in POLICY_BOUNDS.items():
        weight = fields.whole(name, low, high, message=str(MESSAGES[name]) % {"low": low, "high": high},
                              default=getattr(Policy(), name))
        if weight is not None:
            values[name] = weight

    caps: dict[str, int] = {}
    for region in REGIONS:
        places = fields.whole(f"cap_{region.code}", 0, 9999, message=MESSAGES["cap"])
        if places is not None:
            caps[region.name_en] = places

    limits = []
    for i, row in enumerate(form.limits):
        if not any(v.strip() for v in row.values()):
            continue
        region = row["region"].strip()
        if region and region not in REGION_BY_NAME:
            fail(f"limit_region_{i}", "limit_region")
        weeks = {key: fields.whole(f"limit_{key}_{i}", 1, 26, message=MESSAGES["weeks"])
                 for key in ("min_weeks", "max_weeks")}
        if weeks["min_weeks"] and weeks["max_weeks"] and weeks["min_weeks"] > weeks["max_weeks"]:
            fail(f"limit_max_weeks_{i}", "weeks_order")
        amount = fields.money(f"limit_amount_{i}", message=MESSAGES["limit_amount"], required=MESSAGES["limit_amount"])
        if amount == 0:
            fail(f"limit_amount_{i}", "limit_amount")
        limits.append({"region": region or None, **weeks, "max_subsidy_per_place": amount})

    criteria = []
    codes = set()
    for i, row in enumerate(form.criteria):
        code = row["code"].strip()
        if not code and not row["name_en"].strip() and not row["name_zh"].strip():
            continue
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", code):
            fail(f"criterion_code_{i}", "criterion_code")
        elif code in codes:
            fail(f"criterion_code_{i}", "criterion_duplicate")
        codes.add(code)
        if not row["name_en"].strip() or not row["name_zh"].strip():
            fail(f"criterion_name_en_{i}" if not row["name_en"].strip() else f"criterion_name_zh_{i}",
                 "criterion_name")
        weight, top = (fields.whole(f"criterion_{key}_{i}", 1, 10, message=MESSAGES["criterion_number"],
                                    required=MESSAGES["criterion_number"]) for key in ("weight", "max_score"))
        criteria.append({"code": code, "name_en": row["name_en"].strip()[:200], "name_zh": row["name_zh"].strip()[:200],
                         "weight": weight, "max_score": top})
    return CheckedScheme(values=values, caps=caps, limits=limits, criteria=criteria, errors=fields.errors)


def criteria_of(session: Session, scheme: Scheme) -> list[AssessmentCriterion]:
    return list(session.exec(select(AssessmentCriterion).where(AssessmentCriterion.scheme_id == scheme.id)
                             .order_by(AssessmentCriterion.id)))


def _snapshot(session: Session, scheme: Scheme) -> dict:
    data = {name: getattr(scheme, name) for name in
            ("name_en", "name_zh", "budget_hkd", "min_age", "max_age", "max_subsidy_per_place", "max_choices",
             "gba_min_share_percent", "max_places_per_organisation", *POLICY_FIELDS, *DATE_FIELDS)}
    data = {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}
    data["caps"] = region_caps(session, scheme.id)
    data["subsidy_limits"] = sorted([r.region or "", r.min_weeks or 0, r.max_weeks or 0, r.max_subsidy_per_place]
                                    for r in session.exec(select(SchemeSubsidyLimit)
                                                          .where(SchemeSubsidyLimit.scheme_id == scheme.id)))
    data["criteria"] = {c.code: [c.name_en, c.name_zh, c.weight, c.max_score] for c in criteria_of(session, scheme)}
    return data


def _replace_rows(session: Session, scheme: Scheme, checked: CheckedScheme) -> None:
    existing = {c.region: c for c in session.exec(select(SchemeRegionCap).where(SchemeRegionCap.scheme_id == scheme.id))}
    for region, cap in existing.items():
        if region not in checked.caps:
            session.delete(cap)
    for region, places in checked.caps.items():
        if region in existing:
            existing[region].max_places = places
        else:
            session.add(SchemeRegionCap(scheme_id=scheme.id, region=region, max_places=places))
    for rule in session.exec(select(SchemeSubsidyLimit).where(SchemeSubsidyLimit.scheme_id == scheme.id)):
        session.delete(rule)
    for rule in checked.limits:
        session.add(SchemeSubsidyLimit(scheme_id=scheme.id, **rule))
    current = {c.code: c for c in criteria_of(session, scheme)}
    for code, criterion in current.items():
        if code not in {c["code"] for c in checked.criteria}:
            session.delete(criterion)
    for row in checked.criteria:
        if row["code"] in current:
            criterion = current[row["code"]]
            criterion.name_en, criterion.name_zh = row["name_en"], row["name_zh"]
            criterion.weight, criterion.max_score = row["weight"], row["max_score"]
        else:
            session.add(AssessmentCriterion(scheme_id=scheme.id, **row))
    session.flush()


def _raise_if_invalid(checked: CheckedScheme) -> None:
    if checked.errors:
        raise SchemeInvalid(checked.errors, _("The scheme could not be saved: fix the fields shown."))


def create_scheme(session: Session, actor: User, form: SchemeForm) -> Scheme:
    require(actor, Permission.SCHEME_MANAGE)
    checked = check_form(form)
    _raise_if_invalid(checked)
    scheme = Scheme(**checked.values, created_by_id=actor.id)
    session.add(scheme)
    session.flush()
    _replace_rows(session, scheme, checked)
    audit.record(session, actor, "scheme.created", "scheme", scheme.id, after=_snapshot(session, scheme))
    return scheme


def update_scheme(session: Session, actor: User, scheme_id: int, form: SchemeForm) -> Scheme:
    require(actor, Permission.SCHEME_MANAGE)
    if session.get(Scheme, scheme_id) is None:
        raise NotFound(_("We could not find that."))
    checked = check_form(form)
    scheme = lock_scheme(session, scheme_id)
    summary = summarise(session, scheme)
    if "budget_hkd" in checked.values and checked.values["budget_hkd"] < summary.funding_granted:
        checked.errors.setdefault("budget_hkd", str(MESSAGES["budget_below_granted"])
                                  % {"granted": f"{summary.funding_granted:,}"})
    granted = granted_by_region(session, scheme.id)
    for region, places in checked.caps.items():
        if places < granted.get(region, 0):
            checked.errors.setdefault(f"cap_{REGION_BY_NAME[region].code}", str(MESSAGES["cap_below_granted"])
                                      % {"granted": granted[region]})
    _raise_if_invalid(checked)
    before = _snapshot(session, scheme)
    for name, value in checked.values.items():
        setattr(scheme, name, value)
    _replace_rows(session, scheme, checked)
    after = _snapshot(session, scheme)
    changed = [k for k in after if before.get(k) != after[k]]
    if changed:
        audit.record(session, actor, "scheme.edited", "scheme", scheme.id,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return scheme


def get_scheme(session: Session, scheme_id: int) -> Scheme:
    scheme = session.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound(_("We could not find that."))
    return scheme


def all_schemes(session: Session) -> list[Scheme]:
    return list(session.exec(select(Scheme).order_by(col(Scheme.ngo_window_opens).desc(), col(Scheme.id).desc())))


def open_for_ngos(session: Session, today: date | None = None) -> list[Scheme]:
    today = today or clock.today()
    return list(session.exec(select(Scheme).where(Scheme.ngo_window_opens <= today, Scheme.ngo_window_closes >= today)
                             .order_by(Scheme.ngo_window_closes)))


@dataclass
class Dashboard:
    summary: SchemeSummary
    by_sector: list[tuple[str, int, int]]  # sector, funded projects, places
    by_status: list[tuple[str, int]]
    gba_places: int = 0

    @property
    def gba_share(self) -> int:
        """Whole-number percentage of funded places in Greater Bay Area cities."""
        return round(100 * self.gba_places / self.summary.places) if self.summary.places else 0

    @property
    def scheme(self) -> Scheme:
        return self.summary.scheme


def dashboard(session: Session, scheme: Scheme) -> Dashboard:
    summary = summarise(session, scheme)
    caps = region_caps(session, scheme.id)
    seen = {r.region for r in summary.regions}
    summary.regions += [RegionPlaces(region=region, places=0, cap=cap) for region, cap in sorted(caps.items())
                        if region not in seen]
    sectors = session.exec(select(Project.sector, func.count(col(Project.id)),
                                  func.coalesce(func.sum(Project.places_granted), 0))
                           .where(Project.scheme_id == scheme.id, col(Project.status).in_(FUNDED_STATUSES))
                           .group_by(Project.sector)).all()
    statuses = dict(session.exec(select(Project.status, func.count(col(Project.id)))
                                 .where(Project.scheme_id == scheme.id).group_by(Project.status)).all())
    gba_places = session.exec(select(func.coalesce(func.sum(Project.places_granted), 0))
                              .where(Project.scheme_id == scheme.id, col(Project.status).in_(FUNDED_STATUSES),
                                     col(Project.city).in_([c.name_en for c in GBA_CITIES]))).one()
    return Dashboard(summary=summary, gba_places=int(gba_places),
                     by_sector=sorted(((s, int(n), int(p)) for s, n, p in sectors), key=lambda r: (-r[2], r[0])),
                     by_status=[(status.value, int(statuses.get(status.value, 0))) for status in ProjectStatus])


def similar_cost(session: Session, project: Project) -> tuple[int | None, str, int]:
    """Median subsidy per place of funded projects in the scheme: same sector and region, else same region.

    Returns (median or None, "sector_region" | "region" | "", how many projects it is based on).
    """
    rows = session.exec(select(Project.sector, Project.subsidy_granted_per_place)
                        .where(Project.scheme_id == project.scheme_id, Project.region == project.region,
                               Project.id != project.id, col(Project.status).in_(FUNDED_STATUSES),
                               col(Project.subsidy_granted_per_place).is_not(None))).all()
    by_sector = defaultdict(list)
    for sector, cost in rows:
        by_sector[sector].append(int(cost))
    same = by_sector.get(project.sector, [])
    if same:
        return int(median(same)), "sector_region", len(same)
    everything = [cost for costs in by_sector.values() for cost in costs]
    if everything:
        return int(median(everything)), "region", len(everything)
    return None, "", 0
