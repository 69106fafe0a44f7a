"""Interchange files: parsing with row-level validation, and formatting.

The web app reuses the parsers for CSV import: every problem is a
:class:`RowError` with the line number, the column, a message code with
params (for translation) and an English text. Parsers collect all row errors
(up to ``max_errors``; ``None`` for no limit, as the web import needs, since it
must report or keep every row) instead of stopping at the first.
"""

from __future__ import annotations

import csv
import io as _io
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .model import CAP_RULES, ORIGINS, RESERVED_SEATS, Applicant, Education, MatchResult, Project, Scheme

PROJECT_COLUMNS = ("id", "title", "description", "sector", "city", "region", "start_date",
                   "end_date", "places", "subsidy_per_place", "languages", "min_age", "max_age",
                   "min_education")
# Optional: a file without the column admits Hong Kong youth only, as every file did before it existed.
PROJECT_OPTIONAL_COLUMNS = ("origins", "origin_seats")
APPLICANT_COLUMNS = ("id", "date_of_birth", "origin", "education", "field_of_study",
                     "skills", "interests", "statement", "languages", "available_from",
                     "available_to", "regions", "choices", "open_to_other", "first_timer")
RANKING_COLUMNS = ("project_id", "applicant_id", "rank")
MAX_ERRORS = 100


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    column: str | None
    code: str
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    text: str = ""
    severity: str = "error"  # or "warning" (reported, not fatal)

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.text}"


class FieldError(ValueError):
    def __init__(self, code: str, text: str, **params: Any):
        super().__init__(text)
        self.code, self.text, self.params = code, text, params


class InputError(Exception):
    """Raised by the ``load_*`` helpers; carries every collected :class:`RowError`."""

    def __init__(self, errors: list[RowError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


# --- field parsers -----------------------------------------------------------


def parse_date(value: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError("invalid_date", f"{value!r} is not a valid date (YYYY-MM-DD)",
                         value=value) from None


def parse_int(value: str, minimum: int | None = 0) -> int:
    try:
        number = int(value)
    except ValueError:
        raise FieldError("invalid_integer", f"{value!r} is not a whole number",
                         value=value) from None
    if minimum is not None and number < minimum:
        raise FieldError("below_minimum", f"{number} is below the minimum {minimum}",
                         value=number, minimum=minimum)
    return number


def parse_bool(value: str) -> bool:
    low = value.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    raise FieldError("invalid_boolean", f"{value!r} is not true or false", value=value)


def parse_education(value: str) -> Education:
    try:
        return Education.parse(value)
    except ValueError:
        names = "<".join(e.label for e in Education)
        raise FieldError("invalid_education", f"{value!r} is not one of {names}",
                         value=value, allowed=[e.label for e in Education]) from None


def parse_languages(value: str, lowest: int) -> dict[str, int]:
    """'putonghua>=3;english>=2' (projects) or 'cantonese=5;english=4' (applicants)."""
    levels: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in value.split(";"))):
        name, sep, level = part.partition(">=") if ">=" in part else part.partition("=")
        name = name.strip().lower()
        if not sep or not name or not level.strip().isdigit():
            raise FieldError("invalid_language", f"{part!r} is not like 'putonghua>=3'", value=part)
        number = int(level)
        if not lowest <= number <= 5:
            raise FieldError("invalid_language_level",
                             f"level {number} for {name} is not between {lowest} and 5",
                             language=name, level=number)
        levels[name] = number
    return levels


def parse_origin(value: str) -> str:
    """'hong_kong' or 'guangdong'; empty when the applicant has declared neither."""
    origin = value.strip().lower()
    if origin and origin not in ORIGINS:
        raise FieldError("invalid_origin", f"{value!r} is not one of {', '.join(ORIGINS)} (or empty)",
                         value=value, allowed=list(ORIGINS))
    return origin


def parse_origins(value: str) -> tuple[str, ...]:
    """'hong_kong;guangdong': who a project admits; empty means Hong Kong only."""
    origins = tuple(parse_origin(part) for part in split_list(value))
    return origins or (ORIGINS[0],)


def parse_origin_seats(value: str) -> dict[str, tuple[int, int]]:
    """'hong_kong=20-20;guangdong=20-40': per origin the fewest seats (reserved) and the most."""
    seats: dict[str, tuple[int, int]] = {}
    for part in split_list(value):
        origin, _eq, span = part.partition("=")
        lo, _dash, hi = span.partition("-")
        origin = parse_origin(origin)
        if not origin or not lo.strip().isdigit() or not hi.strip().isdigit() or int(lo) > int(hi):
            raise FieldError("invalid_origin_seats", f"{part!r} is not like hong_kong=20-40 (fewest-most seats)",
                             value=part)
        seats[origin] = (int(lo), int(hi))
    return seats


def split_list(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.split(";") if x.strip())


def _text(value: str) -> str:
    return value.strip()


def _required(value: str) -> str:
    if not value.strip():
        raise FieldError("required", "a value is required")
    return value.strip()


# --- row parsing ---------------------------------------------------------------


def _read_text(source: Any) -> str:
    if isinstance(source, os.PathLike):
        with open(source, encoding="utf-8-sig", newline="") as f:
            return f.read()
    if hasattr(source, "read"):
        data = source.read()
        return data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return source.removeprefix("\ufeff")


def _rows(source: Any, filename: str, columns: tuple[str, ...], errors: list[RowError],
          optional: tuple[str, ...] = ()):
    """Yield (line, {column: value}) for each data row; header problems go to ``errors``.
    An ``optional`` column missing from the header reads as empty on every row."""
    reader = csv.reader(_io.StringIO(_read_text(source), newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        errors.append(RowError(filename, 1, None, "empty_file", {}, "the file is empty"))
        return
    missing = [c for c in columns if c not in header]
    for c in missing:
        errors.append(RowError(filename, 1, c, "missing_column", {"column": c},
                               f"required column {c!r} is missing from the header"))
    if missing:
        return
    pos = {c: header.index(c) for c in columns + tuple(c for c in optional if c in header)}
    absent = {c: "" for c in optional if c not in header}
    line = reader.line_num
    for record in reader:
        start, line = line + 1, reader.line_num  # quoted fields may span lines
        if not any(x.strip() for x in record):
            continue
        if len(record) < len(header):
            record = record + [""] * (len(header) - len(record))
        yield start, {c: record[i] for c, i in pos.items()} | absent


class _RowParser:
    def __init__(self, filename: str, line: int, errors: list[RowError]):
        self.filename, self.line, self.errors, self.ok = filename, line, errors, True

    def __call__(self, row: Mapping[str, str], column: str, parse, *args):
        try:
            return parse(row[column], *args)
        except FieldError as e:
            self.fail(column, e.code, e.text, e.params)
            return None

    def fail(self, column, code, text, params=None):
        self.ok = False
        self.errors.append(RowError(self.filename, self.line, column, code, params or {}, text))


def _check_unique(ids: list[tuple[str, int]], filename: str, errors: list[RowError]) -> set[str]:
    """Ids on more than one row. None of their rows is used, so every copy is reported, naming the others."""
    lines: dict[str, list[int]] = {}
    for ident, line in ids:
        lines.setdefault(ident, []).append(line)
    duplicates = {ident for ident, found in lines.items() if len(found) > 1}
    for ident, line in ids:
        if ident in duplicates:
            others = ", ".join(str(n) for n in lines[ident] if n != line)
            errors.append(RowError(filename, line, "id", "duplicate_id",
                                   {"id": ident, "first_line": lines[ident][0], "lines": others},
                                   f"duplicate id {ident!r} (also on line {others})"))
    errors.sort(key=lambda e: e.line)
    return duplicates


def parse_projects(source: Any, *, filename: str = "projects.csv", max_errors: int | None = MAX_ERRORS
                   ) -> tuple[list[Project], list[RowError]]:
    errors: list[RowError] = []
    rows: list[tuple[Project, int]] = []
    ids: list[tuple[str, int]] = []  # every row's id, also from rows with other errors
    for line, row in _rows(source, filename, PROJECT_COLUMNS, errors, PROJECT_OPTIONAL_COLUMNS):
        f = _RowParser(filename, line, errors)
        values = dict(
            id=f(row, "id", _required), title=f(row, "title", _required),
            description=f(row, "description", _text), sector=f(row, "sector", _text),
            city=f(row, "city", _text), region=f(row, "region", _required),
            start_date=f(row, "start_date", parse_date), end_date=f(row, "end_date", parse_date),
            places=f(row, "places", parse_int), subsidy_per_place=f(row, "subsidy_per_place", parse_int),
            languages=f(row, "languages", parse_languages, 1),
            min_age=f(row, "min_age", parse_int), max_age=f(row, "max_age", parse_int),
            min_education=f(row, "min_education", parse_education),
            origins=f(row, "origins", parse_origins),
            origin_seats=f(row, "origin_seats", parse_origin_seats))
        if f.ok and values["origin_seats"] and sum(lo for lo, _hi in values["origin_seats"].values()) > values["places"]:
            f.fail("origin_seats", "origin_seats_over_places",
                   f"the seats reserved per origin add up to more than the {values['places']} places",
                   {"places": values["places"]})
        if f.ok and values["end_date"] < values["start_date"]:
            f.fail("end_date", "end_before_start",
                   f"end date {values['end_date']} is before start date {values['start_date']}",
                   {"start_date": str(values["start_date"]), "end_date": str(values["end_date"])})
        if f.ok and values["max_age"] < values["min_age"]:
            f.fail("max_age", "max_age_below_min_age",
                   f"max_age {values['max_age']} is below min_age {values['min_age']}",
                   {"min_age": values["min_age"], "max_age": values["max_age"]})
        if values["id"]:
            ids.append((values["id"], line))
        if f.ok:
            rows.append((Project(**values), line))
        if max_errors is not None and len(errors) >= max_errors:
            break
    dup = _check_unique(ids, filename, errors)
    return [p for p, _ in rows if p.id not in dup], errors[:max_errors]


def parse_applicants(source: Any, *, filename: str = "applicants.csv",
                     project_ids: Iterable[str] | None = None, max_errors: int | None = MAX_ERRORS
                     ) -> tuple[list[Applicant], list[RowError]]:
    """Applicants and row errors; with ``project_ids`` unknown choices become warnings."""
    errors: list[RowError] = []
    rows: list[tuple[Applicant, int]] = []
    ids: list[tuple[str, int]] = []
    for line, row in _rows(source, filename, APPLICANT_COLUMNS, errors):
        f = _RowParser(filename, line, errors)
        values = dict(
            id=f(row, "id", _required), date_of_birth=f(row, "date_of_birth", parse_date),
            origin=f(row, "origin", parse_origin),
            education=f(row, "education", parse_education),
            field_of_study=f(row, "field_of_study", _text), skills=f(row, "skills", _text),
            interests=f(row, "interests", _text), statement=f(row, "statement", _text),
            languages=f(row, "languages", parse_languages, 0),
            available_from=f(row, "available_from", parse_date),
            available_to=f(row, "available_to", parse_date),
            regions=f(row, "regions", split_list), choices=f(row, "choices", split_list),
            open_to_other=f(row, "open_to_other", parse_bool),
            first_timer=f(row, "first_timer", parse_bool))
        if f.ok and values["available_to"] < values["available_from"]:
            f.fail("available_to", "available_to_before_from",
                   f"available_to {values['available_to']} is before available_from "
                   f"{values['available_from']}",
                   {"available_from": str(values["available_from"]),
                    "available_to": str(values["available_to"])})
        if values["id"]:
            ids.append((values["id"], line))
        if f.ok:
            rows.append((Applicant(**values), line))
        if max_errors is not None and len(errors) >= max_errors:
            break
    dup = _check_unique(ids, filename, errors)
    if project_ids is not None:
        known = set(project_ids)
        for a, line in rows:
            for pid in a.choices:
                if pid not in known:
                    errors.append(RowError(
                        filename, line, "choices", "unknown_project", {"project_id": pid},
                        f"choice {pid!r} is not a known project id (ignored)", "warning"))
    return [a for a, _ in rows if a.id not in dup], errors[:max_errors]


def parse_rankings(source: Any, *, filename: str = "rankings.csv", max_errors: int | None = MAX_ERRORS
                   ) -> tuple[dict[str, list[str]], list[RowError]]:
    """NGO rankings as {project_id: [applicant_id best first]}."""
    errors: list[RowError] = []
    entries: list[tuple[str, int, str]] = []
    for line, row in _rows(source, filename, RANKING_COLUMNS, errors):
        f = _RowParser(filename, line, errors)
        pid, aid = f(row, "project_id", _required), f(row, "applicant_id", _required)
        rank = f(row, "rank", parse_int, 1)
        if f.ok:
            entries.append((pid, rank, aid))
        if max_errors is not None and len(errors) >= max_errors:
            break
    rankings: dict[str, list[str]] = {}
    for pid, _rank, aid in sorted(entries):
        if aid not in rankings.setdefault(pid, []):
            rankings[pid].append(aid)
    return rankings, errors[:max_errors]


def parse_scheme(source: Any, *, filename: str = "scheme.json") -> tuple[Scheme | None, list[RowError]]:
    try:
        data = json.loads(_read_text(source))
    except json.JSONDecodeError as e:
        return None, [RowError(filename, e.lineno, None, "invalid_json", {"message": e.msg},
                               f"not valid JSON: {e.msg} (column {e.colno})")]
    errors = []
    if not isinstance(data, dict):
        return None, [RowError(filename, 1, None, "invalid_scheme", {}, "expected a JSON object")]
    budget = data.get("budget_hkd")
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 0:
        errors.append(RowError(filename, 1, "budget_hkd", "invalid_budget", {"value": budget},
                               f"budget_hkd must be a whole number of HKD >= 0, got {budget!r}"))
    caps = data.get("region_caps", {})
    if not isinstance(caps, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in caps.values()):
        errors.append(RowError(filename, 1, "region_caps", "invalid_caps", {},
                               "region_caps must map region names to whole numbers >= 0"))
    reserved = data.get("reserved_seats", "keep")
    if reserved not in RESERVED_SEATS:
        errors.append(RowError(filename, 1, "reserved_seats", "invalid_reserved_seats", {"value": reserved},
                               f"reserved_seats must be one of {', '.join(RESERVED_SEATS)}, got {reserved!r}"))
    cap_rule = data.get("cap_rule", "proportional")
    if cap_rule not in CAP_RULES:
        errors.append(RowError(filename, 1, "cap_rule", "invalid_cap_rule", {"value": cap_rule},
                               f"cap_rule must be one of {', '.join(CAP_RULES)}, got {cap_rule!r}"))
    if errors:
        return None, errors
    return Scheme(str(data.get("name", "")), budget, caps, reserved, cap_rule), []


def load_all(projects_path, applicants_path, scheme_path, rankings_path=None):
    """Parse every input file; raise :class:`InputError` with all errors, return warnings."""
    errors: list[RowError] = []

    def read(path):
        try:
            return Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            errors.append(RowError(Path(path).name, 0, None, "unreadable_file",
                                   {"error": str(e)}, f"cannot read the file: {e}"))
            return None

    texts = [read(p) if p else None for p in (projects_path, applicants_path, scheme_path,
                                             rankings_path)]
    if errors:
        raise InputError(errors)
    projects, e1 = parse_projects(texts[0], filename=Path(projects_path).name)
    applicants, e2 = parse_applicants(texts[1], filename=Path(applicants_path).name,
                                      project_ids=[p.id for p in projects])
    scheme, e3 = parse_scheme(texts[2], filename=Path(scheme_path).name)
    rankings, e4 = ({}, [])
    if rankings_path:
        rankings, e4 = parse_rankings(texts[3], filename=Path(rankings_path).name)
    everything = e1 + e2 + e3 + e4
    fatal = [e for e in everything if e.severity == "error"]
    if fatal:
        raise InputError(fatal)
    return projects, applicants, scheme, rankings, [e for e in everything if e.severity != "error"]


# --- formatting ------------------------------------------------------------------


def _csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _levels(levels: Mapping[str, int], sep: str) -> str:
    return ";".join(f"{k}{sep}{v}" for k, v in sorted(levels.items()))


def _b(x: bool) -> str:
    return "true" if x else "false"


def format_projects(projects: Iterable[Project]) -> str:
    return _csv(PROJECT_COLUMNS + PROJECT_OPTIONAL_COLUMNS, (
        (p.id, p.title, p.description, p.sector, p.city, p.region, p.start_date.isoformat(),
         p.end_date.isoformat(), p.places, p.subsidy_per_place, _levels(p.languages, ">="),
         p.min_age, p.max_age, p.min_education.label, ";".join(p.origins),
         ";".join(f"{o}={lo}-{hi}" for o, (lo, hi) in p.origin_seats.items())) for p in projects))


def format_applicants(applicants: Iterable[Applicant]) -> str:
    return _csv(APPLICANT_COLUMNS, (
        (a.id, a.date_of_birth.isoformat(), a.origin, a.education.label,
         a.field_of_study, a.skills, a.interests, a.statement, _levels(a.languages, "="),
         a.available_from.isoformat(), a.available_to.isoformat(), ";".join(a.regions),
         ";".join(a.choices), _b(a.open_to_other), _b(a.first_timer)) for a in applicants))


def format_scheme(scheme: Scheme) -> str:
    return json.dumps({"name": scheme.name, "budget_hkd": scheme.budget_hkd, "reserved_seats": scheme.reserved_seats,
                       "cap_rule": scheme.cap_rule, "region_caps": dict(scheme.region_caps)},
                      ensure_ascii=False, indent=2) + "\n"


def format_rankings(rankings: Mapping[str, Iterable[str]]) -> str:
    return _csv(RANKING_COLUMNS, ((pid, aid, k) for pid in sorted(rankings)
                                  for k, aid in enumerate(rankings[pid], 1)))


def format_placements(result: MatchResult) -> str:
    return _csv(("applicant_id", "project_id", "score", "choice_rank", "reasons"), (
        (p.applicant_id, p.project_id, f"{p.score:.2f}",
         "" if p.choice_rank is None else p.choice_rank, p.reasons_text)
        for p in result.placements))


def format_unplaced(result: MatchResult) -> str:
    return _csv(("applicant_id", "reason"), ((u.applicant_id, u.text) for u in result.unplaced))


def format_report(report: Mapping[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
