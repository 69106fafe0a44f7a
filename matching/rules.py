"""Eligibility rules: the single implementation used by the matcher and the web app.

Each rule returns a structured :class:`RuleCheck` (a code plus the facts in
``params``) so the web app can render it in English or Chinese; ``describe``
is the plain-English rendering used by the CLI.

The matcher evaluates the same rules in bulk with numpy (:class:`RuleArrays`);
tests check that both agree on random instances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .model import ORIGINS, Applicant, Project

RULES: tuple[str, ...] = ("origin", "age", "education", "languages", "dates", "region", "choices")


@dataclass(frozen=True)
class RuleCheck:
    rule: str
    passed: bool
    code: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)


def age_on(dob: date, day: date) -> int:
    """Completed years of age on ``day``.

    Someone born on 29 February turns a year older on 1 March in common years
    (the Hong Kong Age of Majority convention), which is what comparing
    (month, day) tuples gives.
    """
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def check_origin(a: Applicant, p: Project) -> RuleCheck:
    """The programme admits where the applicant is from (Hong Kong, Guangdong or both)."""
    params = {"origin": a.origin, "admitted": list(p.origins)}
    if not a.origin:
        return RuleCheck("origin", False, "origin_not_declared", params)
    if a.origin in p.origins:
        return RuleCheck("origin", True, "origin_admitted", params)
    return RuleCheck("origin", False, "origin_not_admitted", params)


def check_age(a: Applicant, p: Project) -> RuleCheck:
    age = age_on(a.date_of_birth, p.start_date)
    params = {"age": age, "min_age": p.min_age, "max_age": p.max_age,
              "on": p.start_date.isoformat()}
    if age < p.min_age:
        return RuleCheck("age", False, "too_young", params)
    if age > p.max_age:
        return RuleCheck("age", False, "too_old", params)
    return RuleCheck("age", True, "age_in_range", params)


def check_education(a: Applicant, p: Project) -> RuleCheck:
    params = {"education": a.education.label, "min_education": p.min_education.label}
    if a.education >= p.min_education:
        return RuleCheck("education", True, "education_met", params)
    return RuleCheck("education", False, "education_below_minimum", params)


def check_languages(a: Applicant, p: Project) -> RuleCheck:
    shortfalls = [
        {"language": lang, "required": need, "actual": a.languages.get(lang, 0)}
        for lang, need in sorted(p.languages.items())
        if a.languages.get(lang, 0) < need
    ]
    if not shortfalls:
        return RuleCheck("languages", True, "languages_met", {"required": dict(p.languages)})
    # The first shortfall is flattened into params for simple one-line messages.
    return RuleCheck("languages", False, "language_below_required",
                     {**shortfalls[0], "shortfalls": shortfalls})


def check_dates(a: Applicant, p: Project) -> RuleCheck:
    params = {"start_date": p.start_date.isoformat(), "end_date": p.end_date.isoformat(),
              "available_from": a.available_from.isoformat(),
              "available_to": a.available_to.isoformat()}
    if a.available_from > p.start_date:
        return RuleCheck("dates", False, "available_too_late", params)
    if p.end_date > a.available_to:
        return RuleCheck("dates", False, "available_too_short", params)
    return RuleCheck("dates", True, "available_whole_internship", params)


def check_region(a: Applicant, p: Project) -> RuleCheck:
    params = {"region": p.region, "regions": list(a.regions)}
    if not a.regions or p.region in a.regions:
        return RuleCheck("region", True, "region_acceptable", params)
    return RuleCheck("region", False, "region_not_wanted", params)


def check_choices(a: Applicant, p: Project) -> RuleCheck:
    if p.id in a.choices:
        return RuleCheck("choices", True, "chosen", {"rank": a.choices.index(p.id) + 1})
    if a.open_to_other:
        return RuleCheck("choices", True, "open_to_other", {})
    return RuleCheck("choices", False, "not_chosen", {"choices": list(a.choices)})


_CHECKS = (check_origin, check_age, check_education, check_languages, check_dates,
           check_region, check_choices)


def check_all(applicant: Applicant, project: Project) -> list[RuleCheck]:
    """Every rule, in the fixed order of :data:`RULES`, including failing ones."""
    return [check(applicant, project) for check in _CHECKS]


def check_rule(rule: str, applicant: Applicant, project: Project) -> RuleCheck:
    """The one rule named `rule` (an entry of :data:`RULES`), as :func:`check_all` gives it."""
    return _CHECKS[RULES.index(rule)](applicant, project)


def is_eligible(applicant: Applicant, project: Project) -> bool:
    return all(check(applicant, project).passed for check in _CHECKS)


_TEMPLATES = {
    "origin_admitted": "from {origin}, which the programme admits",
    "origin_not_admitted": "from {origin}; the programme admits only {admitted}",
    "origin_not_declared": "has not declared where they are from (Hong Kong or Guangdong)",
    "age_in_range": "aged {age} on {on} (allowed {min_age}-{max_age})",
    "too_young": "aged {age} on {on}, below the minimum age {min_age}",
    "too_old": "aged {age} on {on}, above the maximum age {max_age}",
    "education_met": "education {education} meets minimum {min_education}",
    "education_below_minimum": "education {education} is below the minimum {min_education}",
    "languages_met": "meets the language requirements",
    "language_below_required": "{language} level {actual} is below the required {required}",
    "available_whole_internship": "available for the whole internship {start_date} to {end_date}",
    "available_too_late": "available only from {available_from}, internship starts {start_date}",
    "available_too_short": "available only until {available_to}, internship ends {end_date}",
    "region_acceptable": "{region} is an acceptable region",
    "region_not_wanted": "{region} is not among the applicant's regions",
    "chosen": "chose this project (rank {rank})",
    "open_to_other": "is open to other projects",
    "not_chosen": "did not choose this project and is not open to others",
}


def describe(check: RuleCheck) -> str:
    """Plain-English rendering of one rule check (the web app translates codes itself)."""
    template = _TEMPLATES.get(check.code, check.code)
    try:
        return template.format(**check.params)
    except (KeyError, IndexError):
        return check.code


# --- vectorised form ---------------------------------------------------------


def _md(d: date) -> int:
    return d.month * 100 + d.day


class RuleArrays:
    """The hard rules compiled to numpy arrays over lists of projects and applicants.

    ``matrix`` evaluates applicants x projects blocks, ``pairs`` evaluates
    individual (applicant, project) index pairs; both must agree with
    :func:`check_all`.
    """

    def __init__(self, projects: Sequence[Project], applicants: Sequence[Applicant]):
        # Checking one pair (check_all, is_eligible) needs no numpy; only the matcher's arrays do.
        import numpy as np  # noqa: PLC0415

        self.np = np
        self.project_ids = [p.id for p in projects]
        pindex = {pid: j for j, pid in enumerate(self.project_ids)}
        languages = sorted({lang for p in projects for lang in p.languages})
        lindex = {lang: k for k, lang in enumerate(languages)}
        regions = sorted({p.region for p in projects})
        rindex = {r: k for k, r in enumerate(regions)}
        self.languages, self.regions = languages, regions

        self.p_start_year = np.array([p.start_date.year for p in projects], np.int32)
        self.p_start_md = np.array([_md(p.start_date) for p in projects], np.int32)
        self.p_start = np.array([p.start_date.toordinal() for p in projects], np.int64)
        self.p_end = np.array([p.end_date.toordinal() for p in projects], np.int64)
        self.p_min_age = np.array([p.min_age for p in projects], np.int32)
        self.p_max_age = np.array([p.max_age for p in projects], np.int32)
        self.p_min_edu = np.array([int(p.min_education) for p in projects], np.int8)
        self.p_region = np.array([rindex[p.region] for p in projects], np.int32)
        self.p_lang = np.zeros((len(projects), max(1, len(languages))), np.int8)
        for j, p in enumerate(projects):
            for lang, level in p.languages.items():
                self.p_lang[j, lindex[lang]] = level
        self.p_needs_lang = [np.flatnonzero(self.p_lang[:, k]) for k in range(len(languages))]

        n = len(applicants)
        # Origins as column indices into p_admits; an applicant with none declared points at the last
        # column, which no project admits.
        oindex = {origin: k for k, origin in enumerate(ORIGINS)}
        self.a_origin = np.array([oindex.get(a.origin, len(ORIGINS)) for a in applicants], np.int8)
        self.p_admits = np.zeros((len(projects), len(ORIGINS) + 1), bool)
        for j, p in enumerate(projects):
            self.p_admits[j, [oindex[origin] for origin in p.origins]] = True
        self.a_dob_year = np.array([a.date_of_birth.year for a in applicants], np.int32)
        self.a_dob_md = np.array([_md(a.date_of_birth) for a in applicants], np.int32)
        self.a_edu = np.array([int(a.education) for a in applicants], np.int8)
        self.a_from = np.array([a.available_from.toordinal() for a in applicants], np.int64)
        self.a_to = np.array([a.available_to.toordinal() for a in applicants], np.int64)
        self.a_open = np.array([a.open_to_other for a in applicants], bool)
        self.a_lang = np.zeros((n, max(1, len(languages))), np.int8)
        # Regions the applicant accepts (all True when they listed none).
        self.a_region_ok = np.ones((n, max(1, len(regions))), bool)
        for i, a in enumerate(applicants):
            for lang, level in a.languages.items():
                k = lindex.get(lang)
                if k is not None:
                    self.a_lang[i, k] = level
            if a.regions:
                row = np.zeros(max(1, len(regions)), bool)
                for r in a.regions:
                    k = rindex.get(r)
                    if k is not None:
                        row[k] = True
                self.a_region_ok[i] = row
        # Choices as (applicant index, project index, rank) triples; unknown ids are skipped.
        ca, cp, cr = [], [], []
        for i, a in enumerate(applicants):
            seen = set()
            for rank, pid in enumerate(a.choices, 1):
                j = pindex.get(pid)
                if j is not None and j not in seen:
                    seen.add(j)
                    ca.append(i)
                    cp.append(j)
                    cr.append(rank)
        self.choice_app = np.array(ca, np.int64)
        self.choice_proj = np.array(cp, np.int64)
        self.choice_rank = np.array(cr, np.int32)

    def rule_matrices(self, rows) -> dict[str, Any]:
        """Per-rule pass matrices (len(rows) x n_projects), except 'choices'."""
        np = self.np
        rows = np.asarray(rows)
        age = (self.p_start_year[None, :] - self.a_dob_year[rows, None]
               - (self.p_start_md[None, :] < self.a_dob_md[rows, None]))
        lang_ok = np.ones((len(rows), len(self.p_start)), bool)
        for k, needing in enumerate(self.p_needs_lang):
            if len(needing):
                lang_ok[:, needing] &= (self.a_lang[rows, k][:, None]
                                        >= self.p_lang[needing, k][None, :])
        return {
            "origin": self.p_admits[:, self.a_origin[rows]].T,
            "age": (age >= self.p_min_age[None, :]) & (age <= self.p_max_age[None, :]),
            "education": self.a_edu[rows, None] >= self.p_min_edu[None, :],
            "languages": lang_ok,
            "dates": ((self.a_from[rows, None] <= self.p_start[None, :])
                      & (self.p_end[None, :] <= self.a_to[rows, None])),
            "region": self.a_region_ok[rows][:, self.p_region],
        }

    def matrix(self, rows, *, ignore_choices: bool = False):
        """Eligibility of applicants ``rows`` for every project (bool matrix)."""
        np = self.np
        rows = np.asarray(rows)
        ok = None
        for m in self.rule_matrices(rows).values():
            ok = m.copy() if ok is None else ok & m
        if not ignore_choices:
            closed = ~self.a_open[rows]
            if closed.any():
                chosen = np.zeros_like(ok)
                pos = np.full(len(self.a_open), -1, np.int64)
                pos[rows] = np.arange(len(rows))
                sel = pos[self.choice_app] >= 0
                chosen[pos[self.choice_app[sel]], self.choice_proj[sel]] = True
                ok[closed] &= chosen[closed]
        return ok

    def pair_rules(self, app, proj) -> dict[str, Any]:
        """Per-rule pass arrays (except 'choices') for individual (applicant index, project index) pairs."""
        np = self.np
        app, proj = np.asarray(app, np.int64), np.asarray(proj, np.int64)
        age = (self.p_start_year[proj] - self.a_dob_year[app]
               - (self.p_start_md[proj] < self.a_dob_md[app]))
        return {
            "origin": self.p_admits[proj, self.a_origin[app]],
            "age": (age >= self.p_min_age[proj]) & (age <= self.p_max_age[proj]),
            "education": self.a_edu[app] >= self.p_min_edu[proj],
            "languages": (self.a_lang[app] >= self.p_lang[proj]).all(axis=1),
            "dates": (self.a_from[app] <= self.p_start[proj]) & (self.p_end[proj] <= self.a_to[app]),
            "region": self.a_region_ok[app, self.p_region[proj]],
        }

    def pairs(self, app, proj):
        """Eligibility of individual (applicant index, project index) pairs, ignoring 'choices'."""
        checks = iter(self.pair_rules(app, proj).values())
        ok = next(checks).copy()
        for passed in checks:
            ok &= passed
        return ok
