"""Builders for small, readable matching scenarios (imported by the tests)."""

from __future__ import annotations

import random
from datetime import date, timedelta

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


def random_instance(rng: random.Random, n_projects=12, n_applicants=40):
    """Projects and applicants drawn so that every rule passes for some pairs and fails for others."""
    regions = ["Guangdong", "Beijing", "Sichuan"]
    projects = []
    for k in range(n_projects):
        start = date(2025, 6, 1) + timedelta(days=rng.randrange(60))
        projects.append(project(
            f"P{k}", region=rng.choice(regions), start_date=start,
            end_date=start + timedelta(days=rng.randrange(20, 60)),
            min_age=rng.choice([18, 20]), max_age=rng.choice([25, 29]),
            min_education=Education(rng.randint(1, 5)),
            origins=rng.choice([("hong_kong",), ("guangdong",), ("hong_kong", "guangdong")]),
            languages=rng.choice([{}, {"putonghua": rng.randint(1, 5)},
                                  {"english": rng.randint(1, 5), "putonghua": 2}])))
    applicants = []
    for k in range(n_applicants):
        dob = rng.choice([date(2004, 2, 29), date(2000, 3, 1)]) if rng.random() < 0.2 else \
            date(1994, 1, 1) + timedelta(days=rng.randrange(4800))
        frm = date(2025, 5, 20) + timedelta(days=rng.randrange(60))
        applicants.append(applicant(
            f"A{k}", date_of_birth=dob, origin=rng.choice(["hong_kong"] * 8 + ["guangdong", ""]),
            education=Education(rng.randint(1, 6)),
            languages={"putonghua": rng.randint(0, 5), "english": rng.randint(0, 5)},
            available_from=frm, available_to=frm + timedelta(days=rng.randrange(30, 120)),
            regions=tuple(rng.sample(regions, rng.randint(0, 2))),
            choices=tuple(rng.sample([p.id for p in projects], rng.randint(0, 4))),
            open_to_other=rng.random() < 0.5))
    return projects, applicants
