"""Builders for small, readable matching scenarios (imported by the tests)."""

from __future__ import annotations

from datetime import date

from matching import verify
from matching.model import Applicant, Education, Project, Scheme

START = date(2025, 7, 1)
END = date(2025, 8, 10)


def project(pid: str = "P1", **kw) -> Project:
    base = dict(id=pid, title=f"Project {pid}", description="internship", sector="finance",
                city="Shenzhen", region="Guangdong", start_date=START, end_date=END, places=1,
                subsidy_per_place=20_000, languages={}, min_age=18, max_age=29,
                min_education=Education.SECONDARY)
    base.update(kw)
    return Project(**base)


def applicant(aid: str = "A1", **kw) -> Applicant:
    base = dict(id=aid, date_of_birth=date(2003, 1, 1), origin="hong_kong",
                education=Education.BACHELOR, field_of_study="", skills="", interests="",
                statement="", languages={"cantonese": 5, "putonghua": 3, "english": 3},
                available_from=date(2025, 6, 1), available_to=date(2025, 8, 31), regions=(),
                choices=(), open_to_other=True, first_timer=True)
    base.update(kw)
    return Applicant(**base)


def scheme(budget: int = 10**9, caps: dict | None = None) -> Scheme:
    return Scheme("test scheme", budget, caps or {})


def assert_valid(result, projects, applicants, the_scheme, **kw):
    problems = verify(result, projects, applicants, the_scheme, **kw)
    assert problems == [], problems

