"""The one adapter from database rows to the matcher's plain dataclasses, and round input snapshots.

Everything that asks the matching library a question (eligibility on a project page, suggestions,
match rounds) builds its input here, so there is exactly one mapping from the schema to the rules.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Text, cast
from sqlalchemy import select as sa_select
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

import matching
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.projects.models import Project, ProjectStatus
from backend.schemes.facts import region_caps
from backend.schemes.models import Scheme

# Choices that still count as a wish to be placed.
ACTIVE_CHOICE_STATUSES = (ChoiceStatus.SUBMITTED, ChoiceStatus.SHORTLISTED, ChoiceStatus.INTERVIEWED,
                          ChoiceStatus.OFFERED)
MATCHABLE_PROJECT_STATUSES = (ProjectStatus.OPEN, ProjectStatus.CLOSED)


def project_key(project_id: int) -> str:
    return str(project_id)


def applicant_key(profile_id: int) -> str:
    return str(profile_id)


def admitted_origins(project: Project) -> tuple[str, ...]:
    """Who the project's scheme admits, read through the session the project was loaded in."""
    session = object_session(project)
    scheme = session.get(Scheme, project.scheme_id) if session is not None else None
    return tuple(scheme.admitted_origins) if scheme is not None else (matching.HONG_KONG,)


def to_matching_project(project: Project, origins: tuple[str, ...] | None = None) -> matching.Project:
    """`origins`: who the project's scheme admits, when the caller holds the scheme (else looked up)."""
    return matching.Project(
        id=project_key(project.id),
        title=" ".join(filter(None, (project.title_en, project.title_zh))),
        description=" ".join(filter(None, (project.description_en, project.description_zh))),
        sector=project.sector,
        city=project.city,
        region=project.region,
        start_date=project.start_date,
        end_date=project.end_date,
        places=project.places_granted or 0,
        subsidy_per_place=project.subsidy_granted_per_place or 0,
        languages=project.languages or {},
        min_age=project.min_age,
        max_age=project.max_age,
        min_education=project.min_education or "secondary",
        origins=origins if origins is not None else admitted_origins(project),
        origin_seats=seats_within(project.origin_seats or {}, project.places_granted or 0),
    )


def seats_within(origin_seats: dict[str, list[int]], places: int) -> dict[str, tuple[int, int]]:
    """The seats per origin asked for `places_requested`, fitted to the places granted: no side keeps or
    takes more than there are places, and the kept seats are cut in proportion if they no longer fit."""
    fitted = {origin: [min(fewest, places), min(most, places)] for origin, (fewest, most) in origin_seats.items()}
    kept = sum(fewest for fewest, _most in fitted.values())
    if kept > places:
        for seats in fitted.values():
            seats[0] = seats[0] * places // kept
    return {origin: (fewest, most) for origin, (fewest, most) in fitted.items()}


def profile_is_matchable(profile: ApplicantProfile) -> bool:
    """The rules need these facts; a profile without them cannot be checked or placed yet."""
    return bool(profile.date_of_birth and profile.education_level and profile.available_from
                and profile.available_to)


def to_matching_applicant(profile: ApplicantProfile, choice_project_ids: list[int] | tuple[int, ...] = (), *,
                          languages: Mapping[str, int] | None = None, regions: tuple[str, ...] | None = None
                          ) -> matching.Applicant | None:
    """`profile` is an ApplicantProfile or a row of its `PROFILE_COLUMNS` (what a round reads in bulk); a bulk
    reader may pass `languages` and `regions` already decoded."""
    if not profile_is_matchable(profile):
        return None
    return matching.Applicant(
        id=applicant_key(profile.id),
        date_of_birth=profile.date_of_birth,
        origin=profile.origin,
        education=profile.education_level,
        field_of_study=profile.field_of_study,
        skills=profile.skills,
        interests=profile.interests,
        statement=profile.statement,
        languages=(profile.languages or {}) if languages is None else languages,
        available_from=profile.available_from or date.min,
        available_to=profile.available_to or date.max,
        regions=tuple(profile.regions or ()) if regions is None else regions,
        choices=tuple(project_key(pid) for pid in choice_project_ids),
        open_to_other=profile.open_to_other,
        first_timer=not profile.joined_before,
    )


# Every column `to_matching_applicant` reads: a round loads only these, as plain rows, not whole profiles.
PROFILE_COLUMNS = (ApplicantProfile.id, ApplicantProfile.date_of_birth, ApplicantProfile.origin,
                   ApplicantProfile.education_level, ApplicantProfile.field_of_study, ApplicantProfile.skills,
                   ApplicantProfile.interests, ApplicantProfile.statement, ApplicantProfile.languages,
                   ApplicantProfile.available_from, ApplicantProfile.available_to, ApplicantProfile.regions,
                   ApplicantProfile.open_to_other, ApplicantProfile.joined_before)


# Read as text by a round (see `load_round_inputs`).
_JSON_COLUMNS = ("languages", "regions")


def policy_of(scheme: Scheme) -> matching.Policy:
    """The scheme's match policy: how the matcher weighs first-time participants, choice rank and text fit."""
    return matching.Policy(first_timer_priority=scheme.first_timer_priority, choice_weight=scheme.choice_weight,
                           fit_weight=scheme.fit_weight)


def to_matching_scheme(session: Session, scheme: Scheme) -> matching.Scheme:
    return matching.Scheme(name=scheme.name_en, budget_hkd=scheme.budget_hkd,
                           region_caps=region_caps(session, scheme.id), reserved_seats=scheme.reserved_seats,
                           cap_rule=scheme.cap_rule)


@dataclass
class RoundInputs:
    projects: list[matching.Project]
    applicants: list[matching.Applicant]
    scheme: matching.Scheme
    rankings: dict[str, list[str]]


def load_round_inputs(session: Session, scheme: Scheme) -> RoundInputs:
    """Open projects of the scheme and every applicant with an active choice in it, in four queries.

    Choices and profiles are read as plain rows of the columns the matcher needs (a national round has
    100,000 applicants and several hundred thousand choices: ORM objects would cost far more than the rows).
    """
    projects = session.exec(
        select(Project).where(Project.scheme_id == scheme.id, col(Project.status).in_(MATCHABLE_PROJECT_STATUSES))
        .order_by(Project.id)
    ).all()
    active = (col(Choice.scheme_id) == scheme.id, col(Choice.status).in_(ACTIVE_CHOICE_STATUSES))
    choices = session.execute(
        sa_select(Choice.applicant_id, Choice.project_id, Choice.ngo_rank).where(*active)
        .order_by(Choice.applicant_id, Choice.rank, Choice.id)
    ).all()
    by_applicant: dict[int, list[int]] = defaultdict(list)
    rankings: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for applicant_id, project_id, ngo_rank in choices:
        by_applicant[applicant_id].append(project_id)
        if ngo_rank is not None:
            rankings[project_key(project_id)].append((ngo_rank, applicant_key(applicant_id)))
    # The applicants are chosen by a sub-query, not a list of ids (PostgreSQL takes at most 65,535 parameters).
    # Language levels and regions come as their JSON text, decoded once per distinct text: a national round's
    # 100,000 applicants have a few hundred distinct sets between them.
    profiles = session.execute(
        sa_select(*[c for c in PROFILE_COLUMNS if c.key not in _JSON_COLUMNS],
                  cast(ApplicantProfile.languages, Text).label("languages_json"),
                  cast(ApplicantProfile.regions, Text).label("regions_json"))
        .where(col(ApplicantProfile.id).in_(sa_select(Choice.applicant_id).where(*active)),
               # A Guangdong declaration is not enough: only those the Guangdong office confirmed are matched
               # (backend/applicants/origin_confirmation.py owns the rule; this is its SQL form).
               (col(ApplicantProfile.origin) != matching.GUANGDONG) | col(ApplicantProfile.origin_confirmed_at).is_not(None))
        .order_by(ApplicantProfile.id)
    ).all() if by_applicant else []

    applicants = []
    levels: dict[str | None, matching.model.FrozenMap] = {}
    areas: dict[str | None, tuple[str, ...]] = {}
    for profile in profiles:
        text_levels, text_regions = profile.languages_json, profile.regions_json
        if text_levels not in levels:
            levels[text_levels] = matching.model.FrozenMap((json.loads(text_levels) if text_levels else None) or {})
        if text_regions not in areas:
            areas[text_regions] = tuple((json.loads(text_regions) if text_regions else None) or ())
        applicant = to_matching_applicant(profile, by_applicant[profile.id], languages=levels[text_levels],
                                          regions=areas[text_regions])
        if applicant is not None:
            applicants.append(applicant)
    return RoundInputs(
        projects=[to_matching_project(p, tuple(scheme.admitted_origins)) for p in projects],
        applicants=applicants,
        scheme=to_matching_scheme(session, scheme),
        rankings={pid: [aid for _rank, aid in sorted(ranked)] for pid, ranked in sorted(rankings.items())},
    )


# --- snapshots: what a round was given, stored with it so it can be re-run or audited exactly ---------

def _project_to_json(p: matching.Project) -> dict:
    return {"id": p.id, "title": p.title, "description": p.description, "sector": p.sector, "city": p.city,
            "region": p.region, "start_date": p.start_date.isoformat(), "end_date": p.end_date.isoformat(),
            "places": p.places, "subsidy_per_place": p.subsidy_per_place, "languages": dict(p.languages),
            "min_age": p.min_age, "max_age": p.max_age, "min_education": p.min_education.label,
            "origins": list(p.origins), "origin_seats": {o: list(s) for o, s in p.origin_seats.items()}}


def _applicant_to_json(a: matching.Applicant) -> dict:
    return {"id": a.id, "date_of_birth": a.date_of_birth.isoformat(), "origin": a.origin,
            "education": a.education.label, "field_of_study": a.field_of_study, "skills": a.skills,
            "interests": a.interests, "statement": a.statement, "languages": dict(a.languages),
            "available_from": a.available_from.isoformat(), "available_to": a.available_to.isoformat(),
            "regions": list(a.regions), "choices": list(a.choices), "open_to_other": a.open_to_other,
            "first_timer": a.first_timer}


def snapshot(inputs: RoundInputs) -> dict:
    return {
        "scheme": {"name": inputs.scheme.name, "budget_hkd": inputs.scheme.budget_hkd,
                   "region_caps": dict(inputs.scheme.region_caps), "reserved_seats": inputs.scheme.reserved_seats,
                   "cap_rule": inputs.scheme.cap_rule},
        "projects": [_project_to_json(p) for p in inputs.projects],
        "applicants": [_applicant_to_json(a) for a in inputs.applicants],
        "rankings": inputs.rankings,
    }


def _applicant_from_json(row: dict) -> dict:
    """A stored applicant as matching.Applicant's fields. Rounds stored before origins existed hold a
    Hong Kong residency flag instead; it meant exactly what origin "hong_kong" (or none) means now."""
    row = dict(row)
    if "hk_resident" in row:
        row["origin"] = matching.HONG_KONG if row.pop("hk_resident") else ""
    return row


def from_snapshot(data: dict) -> RoundInputs:
    def dates(row: dict, *names: str) -> dict:
        return {**row, **{name: date.fromisoformat(row[name]) for name in names}}

    return RoundInputs(
        projects=[matching.Project(**dates(p, "start_date", "end_date")) for p in data["projects"]],
        applicants=[matching.Applicant(**{**dates(_applicant_from_json(a), "date_of_birth", "available_from",
                                                  "available_to"),
                                          "regions": tuple(a["regions"]), "choices": tuple(a["choices"])})
                    for a in data["applicants"]],
        scheme=matching.Scheme(**data["scheme"]),
        rankings={pid: list(ids) for pid, ids in data["rankings"].items()},
    )
