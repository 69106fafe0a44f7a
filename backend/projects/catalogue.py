"""The public catalogue of projects: search, filters, sorting and paging, shared by the pages and the API.

Anyone may browse, without signing in. Only projects that are open to applicants are listed;
open, closed and completed projects have a public detail page; every other status is "not found".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlmodel import Session, col, select

from backend.core import clock
from backend.core.db import LIKE_ESCAPE, contains_pattern
from backend.core.errors import DomainError, NotFound
from backend.core.forms import DATE_PARTS, Fields
from backend.core.i18n import get_language, in_reader_script, is_chinese, lazy_gettext
from backend.core.i18n import gettext as _
from backend.organisations.models import Organisation
from backend.projects.models import Project, ProjectStatus
from backend.schemes.models import Scheme
from matching import chinese
from matching.geography import CITIES, CITY_BY_NAME, GBA_CITIES, REGION_BY_NAME, REGIONS

PAGE_SIZE = 20
LISTED_STATUSES = (ProjectStatus.OPEN,)
PUBLIC_STATUSES = (ProjectStatus.OPEN, ProjectStatus.CLOSED, ProjectStatus.COMPLETED)
SORTS = ("start", "places", "title")
MAX_LEVEL = 5
MAX_SEARCH_WORDS = 8  # bounds the size of the search query
ENGLISH_CHOICES = ("required", "not_required")

# Sector keys are the lower-case English names (the demo data and NGO forms store these).
SECTOR_NAMES = {
    "finance": lazy_gettext("Finance"),
    "technology": lazy_gettext("Technology"),
    "heritage and museums": lazy_gettext("Heritage and museums"),
    "nature conservation": lazy_gettext("Nature conservation"),
    "media": lazy_gettext("Media"),
    "logistics": lazy_gettext("Logistics"),
    "healthcare": lazy_gettext("Healthcare"),
    "law": lazy_gettext("Law"),
    "architecture": lazy_gettext("Architecture"),
    "social services": lazy_gettext("Social services"),
    "hospitality and tourism": lazy_gettext("Hospitality and tourism"),
    "manufacturing": lazy_gettext("Manufacturing"),
}
# Chinese names, so a search for "科技" finds the technology sector whichever language the page is in.
_SECTOR_ZH = {
    "finance": "金融", "technology": "科技", "heritage and museums": "文化遺產及博物館",
    "nature conservation": "自然保育", "media": "媒體", "logistics": "物流", "healthcare": "醫療", "law": "法律",
    "architecture": "建築", "social services": "社會服務", "hospitality and tourism": "酒店及旅遊",
    "manufacturing": "製造業",
}
LANGUAGE_NAMES = {
    "putonghua": lazy_gettext("Putonghua"),
    "english": lazy_gettext("English"),
    "cantonese": lazy_gettext("Cantonese"),
}
LEVEL_NAMES = {
    1: lazy_gettext("basic"),
    2: lazy_gettext("elementary"),
    3: lazy_gettext("conversational"),
    4: lazy_gettext("fluent"),
    5: lazy_gettext("native or near-native"),
}
EDUCATION_NAMES = {
    "secondary": lazy_gettext("Secondary school"),
    "diploma": lazy_gettext("Higher diploma"),
    "associate": lazy_gettext("Associate degree"),
    "bachelor": lazy_gettext("Bachelor's degree"),
    "master": lazy_gettext("Master's degree"),
    "doctorate": lazy_gettext("Doctorate"),
}


class InvalidFilters(DomainError):
    """One or more filter values could not be understood; `details` maps each field to its message."""

    status_code = 400
    code = "invalid_filters"


@dataclass(frozen=True)
class CatalogueFilters:
    q: str = ""
    region: str = ""
    city: str = ""
    gba: bool = False
    sector: str = ""
    starts_from: date | None = None
    ends_by: date | None = None
    max_putonghua: int | None = None
    english: str = ""
    sort: str = "start"
    page: int = 1

    def query_params(self, **changes) -> list[tuple[str, str]]:
        """The filters as URL parameters (only those set), so a results page can be shared."""
        current = replace(self, **changes)
        params = [
            ("q", current.q), ("region", current.region), ("city", current.city),
            ("gba", "1" if current.gba else ""), ("sector", current.sector),
            ("starts_from", current.starts_from.isoformat() if current.starts_from else ""),
            ("ends_by", current.ends_by.isoformat() if current.ends_by else ""),
            ("max_putonghua", "" if current.max_putonghua is None else str(current.max_putonghua)),
            ("english", current.english),
            ("sort", "" if current.sort == "start" else current.sort),
            ("page", "" if current.page == 1 else str(current.page)),
        ]
        return [(key, value) for key, value in params if value]


@dataclass
class CataloguePage:
    filters: CatalogueFilters
    projects: list[Project]
    total: int
    page: int
    pages: int
    page_size: int = PAGE_SIZE
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        return min(self.page * self.page_size, self.total)


@dataclass
class ProjectDetail:
    project: Project
    scheme: Scheme
    organisation: Organisation


def _date(params: Mapping, key: str, errors: dict[str, str], example: date, message: str) -> date | None:
    """The page's day, month and year boxes or the API's ISO date; the example is written the way it was typed."""
    boxes = any(params.get(f"{key}-{part}") for part in DATE_PARTS)
    written = f"{example.day} {example.month} {example.year}" if boxes else example.isoformat()
    fields = Fields(params)
    day = fields.date(key, message=message % {"example": written})
    errors.update(fields.errors)
    return day


def parse_filters(params: Mapping[str, str | None]) -> tuple[CatalogueFilters, dict[str, str]]:
    """Reads filters from query parameters. Values it cannot use are left out and explained in `errors`."""
    errors: dict[str, str] = {}

    def get(key: str) -> str:
        return (params.get(key) or "").strip()

    region = get("region")
    if region and region not in REGION_BY_NAME:
        errors["region"] = _("Choose a region from the list.")
        region = ""
    city = get("city")
    if city and city not in CITY_BY_NAME:
        errors["city"] = _("Choose a city from the list.")
        city = ""
    sector = get("sector").lower()
    if sector and not all(c.isalnum() or c in " -_" for c in sector):
        errors["sector"] = _("Choose a sector from the list.")
        sector = ""
    example = date(clock.today().year + 1, 7, 1)
    starts_from = _date(params, "starts_from", errors, example, _("Enter the earliest start date as a real date, like %(example)s."))
    ends_by = _date(params, "ends_by", errors, example, _("Enter the latest end date as a real date, like %(example)s."))
    if starts_from and ends_by and ends_by < starts_from:
        errors["ends_by"] = _("The latest end date must be on or after the earliest start date.")
        ends_by = None
    max_putonghua: int | None = None
    raw_level = get("max_putonghua")
    if raw_level:
        if raw_level.isdigit() and 0 <= int(raw_level) <= MAX_LEVEL:
            max_putonghua = int(raw_level)
        else:
            errors["max_putonghua"] = _("Choose a Putonghua level from the list.")
    english = get("english")
    if english and english not in ENGLISH_CHOICES:
        errors["english"] = _("Choose whether English is required from the list.")
        english = ""
    sort = get("sort") or "start"
    if sort not in SORTS:
        errors["sort"] = _("Choose how to sort the projects from the list.")
        sort = "start"
    raw_page = get("page")
    page = int(raw_page) if raw_page.isdigit() and int(raw_page) >= 1 else 1
    gba = Fields(params).checkbox("gba")
    filters = CatalogueFilters(q=get("q")[:200], region=region, city=city, gba=gba, sector=sector,
                               starts_from=starts_from, ends_by=ends_by, max_putonghua=max_putonghua,
                               english=english, sort=sort, page=page)
    return filters, errors


def _word_condition(word: str) -> ColumnElement[bool]:
    """A project matching `word` in any of its texts, in either Chinese script (故宫 finds 故宮)."""
    columns = (Project.title_en, Project.title_zh, Project.description_en, Project.description_zh,
               Project.host_organisation_en, Project.host_organisation_zh, Project.sector, Project.city,
               Project.region)
    spellings = chinese.spellings(word)
    conditions: list[ColumnElement[bool]] = [col(column).ilike(contains_pattern(spelling), escape=LIKE_ESCAPE)
                                             for spelling in spellings for column in columns]
    lowered = word.lower()
    sectors = [key for key, zh in _SECTOR_ZH.items() if lowered in key or any(s in zh for s in spellings)]
    if sectors:
        conditions.append(col(Project.sector).in_(sectors))
    cities = [c.name_en for c in CITIES if any(s in c.name_zh for s in spellings)]
    if cities:
        conditions.append(col(Project.city).in_(cities))
    regions = [r.name_en for r in REGIONS if any(s in r.name_zh for s in spellings)]
    if regions:
        conditions.append(col(Project.region).in_(regions))
    return or_(*conditions)


def _language_level(language: str) -> ColumnElement[int]:
    return func.coalesce(col(Project.languages)[language].as_integer(), 0)


def _conditions(filters: CatalogueFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [col(Project.status).in_(LISTED_STATUSES)]
    for word in filters.q.split()[:MAX_SEARCH_WORDS]:
        conditions.append(_word_condition(word))
    if filters.region:
        conditions.append(col(Project.region) == filters.region)
    if filters.city:
        conditions.append(col(Project.city) == filters.city)
    if filters.gba:
        conditions.append(col(Project.city).in_([c.name_en for c in GBA_CITIES]))
    if filters.sector:
        conditions.append(col(Project.sector) == filters.sector)
    if filters.starts_from:
        conditions.append(col(Project.start_date) >= filters.starts_from)
    if filters.ends_by:
        conditions.append(col(Project.end_date) <= filters.ends_by)
    if filters.max_putonghua is not None:
        conditions.append(_language_level("putonghua") <= filters.max_putonghua)
    if filters.english == "required":
        conditions.append(_language_level("english") > 0)
    elif filters.english == "not_required":
        conditions.append(_language_level("english") == 0)
    return conditions


def _order(sort: str) -> list:
    if sort == "places":
        places = func.coalesce(col(Project.places_granted), col(Project.places_requested), 0)
        return [places.desc(), col(Project.start_date), col(Project.id)]
    if sort == "title":
        first, second = ((Project.title_zh, Project.title_en) if is_chinese()
                         else (Project.title_en, Project.title_zh))
        title = case((col(first) != "", func.lower(col(first))), else_=func.lower(col(second)))
        return [title, col(Project.id)]
    return [col(Project.start_date), col(Project.id)]


def search(session: Session, filters: CatalogueFilters, page_size: int = PAGE_SIZE) -> CataloguePage:
    """One page of open projects matching the filters, with the total; two queries whatever the page size."""
    where = and_(*_conditions(filters))
    total = session.exec(select(func.count(col(Project.id))).where(where)).one()
    pages = max(1, math.ceil(total / page_size))
    page = min(filters.page, pages)
    statement = (select(Project).where(where).order_by(*_order(filters.sort))
                 .offset((page - 1) * page_size).limit(page_size))
    projects = list(session.exec(statement))
    return CataloguePage(filters=replace(filters, page=page), projects=projects, total=int(total), page=page,
                         pages=pages, page_size=page_size)


def listed_sectors(session: Session) -> list[str]:
    """The sectors of open projects, for the sector filter."""
    statement = (select(Project.sector).where(col(Project.status).in_(LISTED_STATUSES), Project.sector != "")
                 .distinct())
    return sorted(session.exec(statement), key=lambda key: sector_name(key).lower())


def get_public_project(session: Session, project_id: int) -> ProjectDetail:
    """A project anyone may see, with its scheme and organisation; drafts and the like do not exist publicly."""
    row = session.exec(
        select(Project, Scheme, Organisation)
        .join(Scheme, col(Scheme.id) == col(Project.scheme_id))
        .join(Organisation, col(Organisation.id) == col(Project.organisation_id))
        .where(col(Project.id) == project_id, col(Project.status).in_(PUBLIC_STATUSES))
    ).first()
    if row is None:
        raise NotFound(_("There is no published project with that number."))
    project, scheme, organisation = row
    return ProjectDetail(project=project, scheme=scheme, organisation=organisation)


# Words for the pages and the API: every function reads the current request language.

def sector_name(key: str) -> str:
    name = SECTOR_NAMES.get(key)
    return str(name) if name is not None else key.replace("_", " ").capitalize()


def education_name(key: str) -> str:
    name = EDUCATION_NAMES.get(key)
    return str(name) if name is not None else key.capitalize()


def education_requirement(key: str) -> str:
    return _("%(level)s or above", level=education_name(key))


def language_name(key: str) -> str:
    name = LANGUAGE_NAMES.get(key)
    return str(name) if name is not None else key.capitalize()


def language_requirements(languages: Mapping[str, int] | None) -> list[str]:
    """Each required language in words, e.g. "Putonghua: conversational or better (level 3 of 5)"."""
    words = []
    for key, level in sorted((languages or {}).items(), key=lambda item: (-int(item[1]), item[0])):
        level = int(level)
        if level <= 0:
            continue
        words.append(_("%(language)s: %(level_name)s or better (level %(level)s of 5)",
                       language=language_name(key), level_name=str(LEVEL_NAMES.get(level, level)), level=level))
    return words


def duration_weeks(project: Project) -> int:
    return max(1, round(((project.end_date - project.start_date).days + 1) / 7))


def places(project: Project) -> int:
    return project.places_granted if project.places_granted is not None else project.places_requested


def subsidy_per_place(project: Project) -> int:
    if project.subsidy_granted_per_place is not None:
        return project.subsidy_granted_per_place
    return project.subsidy_requested_per_place


def is_gba(city: str) -> bool:
    entry = CITY_BY_NAME.get(city)
    return bool(entry and entry.gba)


def text_in_language(obj, field_name: str) -> tuple[str, str]:
    """The page-language text of a bilingual field and the language it is really in (for `lang`)."""
    en = getattr(obj, f"{field_name}_en", "") or ""
    zh = getattr(obj, f"{field_name}_zh", "") or ""
    if is_chinese():
        return (in_reader_script(zh), get_language()) if zh else (en, "en")
    return (en, "en") if en else (zh, chinese.script_of(zh))


def other_language_text(obj, field_name: str) -> tuple[str, str]:
    """The text in the other language, if it has one of its own."""
    shown, shown_lang = text_in_language(obj, field_name)
    other_lang = "en" if is_chinese(shown_lang) else "zh"
    other = getattr(obj, f"{field_name}_{other_lang}", "") or ""
    if other_lang == "zh":
        other_lang = chinese.script_of(other)
    return (other, other_lang) if other and other != shown else ("", other_lang)
