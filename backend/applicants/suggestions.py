""""Suggested for you": open projects the applicant is eligible for and has not chosen, best text fit first,
with a preference for projects where she has a real chance (`demand.Band`): a very competitive project's fit
counts for less, and when neither her choices nor the suggestions hold a safe choice (no more applicants than
places), the best-fitting safe project takes the last suggestion.

This renders with a page, so the text model is fitted once per process on the open projects and kept
until the set of open projects changes (a fingerprint of count, ids and last update is one cheap query).
IDF therefore comes from the projects alone, not projects plus applicants as in a match round: the fit
orders suggestions, it is not the round's score. Eligibility is `matching.rules.check_all`, as everywhere.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date

import numpy as np
import scipy.sparse as sp
from sqlmodel import Session, col, func, select

from backend.applicants import choices, demand
from backend.applicants.demand import Band
from backend.applicants.eligibility import NOT_REQUIREMENTS
from backend.applicants.models import Choice, ChoiceStatus
from backend.applicants.profile import ELIGIBILITY_STEPS, find_profile, hk_today, missing_steps
from backend.core.i18n import localised
from backend.identity import permissions as authz
from backend.identity.models import User
from backend.market.inputs import ACTIVE_CHOICE_STATUSES, to_matching_applicant, to_matching_project
from backend.projects.models import Project, ProjectStatus
from backend.schemes.models import Scheme
from matching.rules import check_all
from matching.text import TextModel, analyze, applicant_text, project_text

TERM_SEPARATOR = " · "
# Within this many seconds the catalogue is trusted without asking the database again: a project opened
# or edited a moment ago may wait that long to be suggested, and a busy page saves one query per view.
RECHECK_SECONDS = 2.0
# Eligible projects looked at per suggestion shown, so a safe choice can be found below the best fits.
CANDIDATES_PER_SUGGESTION = 4
# How much of a project's fit counts, by how competitive it is: a real chance is worth some fit.
_CHANCE = {None: 1.0, Band.OPEN: 1.0, Band.SOME: 1.0, Band.COMPETITIVE: 0.85, Band.VERY_COMPETITIVE: 0.7}


@dataclass(frozen=True)
class Suggestion:
    project_id: int
    title: str
    region: str
    city: str
    start_date: date
    end_date: date
    fit: float
    shared_terms: list[str]
    reason: str
    applicants: int  # who have chosen it so far
    places: int
    round_applicants: int | None  # who had it among their choices in the latest round on its scheme
    band: Band | None
    band_label: str
    safe: bool  # no more applicants than places, so far and in the latest round

    @property
    def demand(self) -> demand.Demand:
        return demand.Demand(self.applicants, self.places, self.round_applicants)


@dataclass
class _Entry:
    project_id: int
    scheme_id: int
    title_en: str
    title_zh: str
    region: str
    city: str
    start_date: date
    end_date: date
    places: int
    matchable: object  # matching.Project


@dataclass
class _Catalogue:
    key: tuple
    checked_at: float
    entries: list[_Entry]
    model: TextModel
    columns: dict[str, int]
    unseen_idf: float


_cache: _Catalogue | None = None
_lock = threading.Lock()


def _open_projects(today: date):
    return (select(Project).join(Scheme, col(Scheme.id) == col(Project.scheme_id))
            .where(Project.status == ProjectStatus.OPEN, col(Scheme.applicant_window_opens) <= today,
                   col(Scheme.applicant_window_closes) >= today))


def _fingerprint(session: Session, today: date) -> tuple:
    subquery = _open_projects(today).with_only_columns(col(Project.id), col(Project.updated_at)).subquery()
    count, total, latest = session.exec(select(func.count(), func.sum(subquery.c.id),
                                               func.max(subquery.c.updated_at))).one()
    return today, count, total, str(latest)


def _catalogue(session: Session, today: date) -> _Catalogue:
    global _cache
    cached = _cache
    now = time.monotonic()
    if cached is not None and cached.key[0] == today and now - cached.checked_at < RECHECK_SECONDS:
        return cached
    key = _fingerprint(session, today)
    if cached is not None and cached.key == key:
        cached.checked_at = now
        return cached
    with _lock:
        if _cache is not None and _cache.key == key:
            return _cache
        projects = session.exec(_open_projects(today).order_by(Project.id)).all()
        entries = [_Entry(p.id, p.scheme_id, p.title_en, p.title_zh, p.region, p.city, p.start_date, p.end_date,
                          demand.places_of(p), to_matching_project(p)) for p in projects]
        model = TextModel([project_text(e.matchable) for e in entries], [])
        model.scores_of(model.A)  # builds the transposed project matrix once, not per request
        _cache = _Catalogue(key, now, entries, model, {t: k for k, t in enumerate(model.terms)},
                            math.log(1.0 + len(entries)) + 1.0)
        return _cache


def _vector(catalogue: _Catalogue, text: str):
    """The applicant's TF-IDF row in the catalogue's vocabulary, weighted as `TextModel` weights rows.

    Terms no project uses still count towards the length, so the fit is a true cosine.
    """
    model = catalogue.model
    weights: dict[int, float] = {}
    norm = 0.0
    for term, count in Counter(analyze(text)).items():
        k = catalogue.columns.get(term)
        weight = (1.0 + math.log(count)) * (float(model.idf[k]) if k is not None else catalogue.unseen_idf)
        norm += weight * weight
        if k is not None:
            weights[k] = weight
    indices = np.array(sorted(weights), np.int32)
    data = np.array([weights[k] / math.sqrt(norm) for k in indices.tolist()], np.float32)
    return sp.csr_matrix((data, indices, np.array([0, len(indices)])), shape=(1, model.P.shape[1]))


def suggest(session: Session, actor: User, *, limit: int = 5, today: date | None = None) -> list[Suggestion]:
    """Up to `limit` suggestions; none until the profile has what the rules need."""
    authz.require(actor, authz.Permission.APPLICANT_CHOOSE_PROJECTS)
    profile = find_profile(session, actor)
    if profile is None or missing_steps(profile, ELIGIBILITY_STEPS):
        return []
    applicant = to_matching_applicant(profile)
    if applicant is None:
        return []
    catalogue = _catalogue(session, today or hk_today())
    if not catalogue.entries:
        return []
    chosen = set(session.exec(select(Choice.project_id).where(Choice.applicant_id == profile.id,
                                                              Choice.status != ChoiceStatus.WITHDRAWN)))
    # Never a project whose offer she declined or let lapse, nor one in a scheme where she holds a place.
    chosen |= choices.offers_answered_no(session, profile)
    settled = choices.settled_schemes(session, [profile.id])
    text = applicant_text(applicant)
    row = _vector(catalogue, text)
    if row.nnz == 0:
        return []
    fits = catalogue.model.scores_of(row)[0]
    # A per-request view of the shared model: the applicant is its only row, nothing shared is mutated.
    view = copy.copy(catalogue.model)
    view.A, view.applicant_texts = row, [text]
    eligible: list[tuple[int, float]] = []  # (catalogue index, fit), best fit first
    for j in np.argsort(-fits, kind="stable").tolist():
        if fits[j] <= 0:
            break
        entry = catalogue.entries[j]
        if entry.project_id in chosen or entry.scheme_id in settled:
            continue
        if not all(c.passed for c in check_all(applicant, entry.matchable) if c.rule not in NOT_REQUIREMENTS):
            continue
        eligible.append((j, float(fits[j])))
        if len(eligible) >= CANDIDATES_PER_SUGGESTION * limit:
            break
    demands = demand.demands_of(session, {catalogue.entries[j].project_id: catalogue.entries[j].places
                                          for j, _fit in eligible})
    ranked = sorted(eligible, key=lambda jf: -jf[1] * _CHANCE[demands[catalogue.entries[jf[0]].project_id].band])
    picked = ranked[:limit]
    if picked and not any(demands[catalogue.entries[j].project_id].safe for j, _fit in picked) \
            and not _holds_a_safe_choice(session, profile.id):
        safe = next((jf for jf in ranked[limit:] if demands[catalogue.entries[jf[0]].project_id].safe), None)
        if safe is not None:
            picked[-1] = safe
    out: list[Suggestion] = []
    for j, fit in picked:
        entry = catalogue.entries[j]
        terms = view.shared_terms(0, j, 3)
        d = demands[entry.project_id]
        out.append(Suggestion(entry.project_id, localised(entry, "title"), entry.region, entry.city,
                              entry.start_date, entry.end_date, round(fit, 4), terms, TERM_SEPARATOR.join(terms),
                              d.applicants, d.places, d.round_applicants, d.band, d.band.label if d.band else "",
                              d.safe))
    return out


def _holds_a_safe_choice(session: Session, applicant_id: int) -> bool:
    rows = session.exec(select(Project).join(Choice, col(Choice.project_id) == col(Project.id)).where(
        Choice.applicant_id == applicant_id, col(Choice.status).in_(ACTIVE_CHOICE_STATUSES))).all()
    return any(d.safe for d in demand.demands_of(session, {p.id: demand.places_of(p) for p in rows}).values())


def clear_cache() -> None:
    global _cache
    _cache = None
