"""The funding portfolio of a scheme: which submitted projects to fund, and how many places each.

The adapter turns the scheme's scored projects (submitted or under assessment) and what the scheme has
left (budget and regional caps minus what funded projects were granted, per-organisation limits minus
what each organisation already holds, the Greater Bay Area minimum share) into `matching.portfolio`
candidates and limits, and runs the exact model (HiGHS) beside the greedy by score. The value of a
portfolio is the weighted assessment score (out of 100) times the places funded.

The Greater Bay Area share is applied to the places the portfolio funds. While the places already funded
hold the share themselves (every confirmation enforces it), a portfolio holding it keeps the whole scheme
holding it; when they do not, the page says so and confirming is refused with the figures.

No web request solves: staff queue a `PortfolioAnalysis`, the worker (`portfolio_jobs`) works it out (the
best portfolio, the greedy, what binds) and stores the answer with the fingerprint of the inputs it used;
the page and the API show the latest answer, its progress while one is in hand, and whether it is still
today's. Proposing takes that answer only while it is today's.

Decisions: an officer proposes a portfolio in one action (a `PortfolioProposal` with its lines; an earlier
open proposal of the scheme is superseded); another person confirms it under `lock_scheme`, re-reading
the proposal and every project after the lock, checking the whole portfolio's organisation limits and
GBA share, then funding each line through `funding.grant` (budget and regional cap per line).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import Conflict, InvalidTransition, NotFound
from backend.core.i18n import gettext as _
from backend.identity.models import User
from backend.identity.permissions import Permission, require, require_different_person
from backend.projects import conflicts, funding
from backend.projects.lifecycle import move
from backend.projects.models import (
    Assessment,
    PortfolioAnalysis,
    PortfolioLine,
    PortfolioProposal,
    Project,
    ProjectStatus,
)
from backend.projects.scoring import project_scores
from backend.schemes.facts import (
    GBA_CITY_NAMES,
    funding_granted,
    gba_places,
    granted_by_organisation,
    granted_by_region,
    lock_scheme,
    region_caps,
)
from backend.schemes.models import Scheme
from matching import portfolio as optimiser

CONSIDERED = (ProjectStatus.SUBMITTED, ProjectStatus.UNDER_ASSESSMENT)
# The worker's time limits: the best portfolio, then each "what binds" re-solve.
SOLVE_SECONDS = 60.0
RESOLVE_SECONDS = 10.0


@dataclass
class Inputs:
    scheme: Scheme
    projects: dict[str, Project]  # candidate key → project
    scores: dict[str, float]
    candidates: list[optimiser.Candidate]
    limits: optimiser.Limits
    unscored: list[Project]
    budget_granted: int
    region_granted: dict[str, int]
    region_caps: dict[str, int]
    funded_gba: int
    funded_total: int

    @property
    def funded_hold_share(self) -> bool:
        share = self.scheme.gba_min_share_percent or 0
        return 100 * self.funded_gba >= share * self.funded_total


@dataclass
class Line:
    project: Project
    score: float
    places: int
    value: float
    cost: int


@dataclass
class Analysis:
    inputs: Inputs
    best: optimiser.Portfolio
    greedy: optimiser.Portfolio
    lines: list[Line] = field(default_factory=list)
    greedy_lines: list[Line] = field(default_factory=list)
    binds: list[optimiser.Binding] | None = None  # None: not worked out

    @property
    def feasible(self) -> bool:
        return self.best.status != "infeasible" and not optimiser.violations(
            self.inputs.candidates, self.inputs.limits, self.best.places)

    @property
    def places_difference(self) -> int:
        return self.best.total_places - self.greedy.total_places

    @property
    def value_difference(self) -> float:
        return self.best.value - self.greedy.value


def key_of(project: Project) -> str:
    return str(project.id)


def inputs_for(session: Session, scheme: Scheme) -> Inputs:
    scores = project_scores(session, scheme.id)
    rows = list(session.exec(select(Project).where(Project.scheme_id == scheme.id,
                                                   col(Project.status).in_(CONSIDERED))
                             .order_by(col(Project.id))))
    caps = region_caps(session, scheme.id)
    by_region = granted_by_region(session, scheme.id)
    by_organisation = granted_by_organisation(session, scheme.id)
    granted = funding_granted(session, scheme.id)
    funded = gba_places(session, scheme.id)
    candidates, projects, scored, unscored = [], {}, {}, []
    for project in rows:
        if project.id not in scores or project.places_requested < 1:
            unscored.append(project)
            continue
        key = key_of(project)
        projects[key], scored[key] = project, scores[project.id]
        candidates.append(optimiser.Candidate(
            key=key, score=float(scores[project.id]), min_places=max(1, project.min_viable_places),
            max_places=project.places_requested, subsidy_per_place=project.subsidy_requested_per_place,
            region=project.region, gba=project.city in GBA_CITY_NAMES, organisation=str(project.organisation_id)))
    organisation_limits = {}
    if scheme.max_places_per_organisation is not None:
        organisation_limits = {c.organisation: max(0, scheme.max_places_per_organisation
                                                   - by_organisation.get(int(c.organisation), 0))
                               for c in candidates}
    limits = optimiser.Limits(
        budget=max(0, scheme.budget_hkd - granted),
        region_caps={region: max(0, cap - by_region.get(region, 0)) for region, cap in caps.items()},
        gba_min_share_pct=scheme.gba_min_share_percent or 0, organisation_limits=organisation_limits)
    return Inputs(scheme=scheme, projects=projects, scores=scored, candidates=candidates, limits=limits,
                  unscored=unscored, budget_granted=granted, region_granted=by_region, region_caps=caps,
                  funded_gba=funded.gba, funded_total=funded.total)


def _lines(inputs: Inputs, chosen: optimiser.Portfolio) -> list[Line]:
    out = [Line(project=inputs.projects[k], score=inputs.scores[k], places=n, value=inputs.scores[k] * n,
                cost=n * inputs.projects[k].subsidy_requested_per_place)
           for k, n in chosen.places.items() if n > 0 and k in inputs.projects]
    return sorted(out, key=lambda line: (-line.score, line.project.id))


def fingerprint(inputs: Inputs) -> str:
    """Names the projects, scores, places, costs and limits an answer was worked out on."""
    data = {"candidates": [asdict(c) for c in inputs.candidates], "limits": asdict(inputs.limits),
            "funded": [inputs.funded_gba, inputs.funded_total]}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def analyse(session: Session, scheme: Scheme, *, with_binds: bool = True,
            progress: Callable[[int], None] | None = None) -> Analysis:
    """The heavy part (solves and re-solves): run by the worker, never by a web request."""
    def report(percent: int) -> None:
        if progress is not None:
            progress(percent)

    inputs = inputs_for(session, scheme)
    report(10)
    best = optimiser.optimise(inputs.candidates, inputs.limits, time_limit=SOLVE_SECONDS)
    greedy = optimiser.greedy(inputs.candidates, inputs.limits)
    report(50)
    analysis = Analysis(inputs=inputs, best=best, greedy=greedy, lines=_lines(inputs, best),
                        greedy_lines=_lines(inputs, greedy))
    if with_binds:
        analysis.binds = [b for b in optimiser.what_binds(inputs.candidates, inputs.limits, best,
                                                          time_limit=RESOLVE_SECONDS)
                          if b.limit != "organisation"]
    report(100)
    return analysis


# --- the worker's job -------------------------------------------------------------------------------------

def queue_analysis(session: Session, actor: User, scheme: Scheme) -> PortfolioAnalysis:
    """Ask the worker to work the portfolio out; one waiting or running job per scheme is enough."""
    require(actor, Permission.PROJECT_VIEW_ALL)
    pending = session.exec(select(PortfolioAnalysis).where(PortfolioAnalysis.scheme_id == scheme.id,
                                                           col(PortfolioAnalysis.finished_at).is_(None))
                           .order_by(col(PortfolioAnalysis.id).desc())).first()
    if pending is not None:
        return pending
    analysis = PortfolioAnalysis(scheme_id=scheme.id, requested_by_id=actor.id)
    session.add(analysis)
    session.flush()
    return analysis


def latest_analysis(session: Session, scheme_id: int) -> PortfolioAnalysis | None:
    return session.exec(select(PortfolioAnalysis).where(PortfolioAnalysis.scheme_id == scheme_id)
                        .order_by(col(PortfolioAnalysis.id).desc())).first()


def latest_result(session: Session, scheme_id: int) -> PortfolioAnalysis | None:
    return session.exec(select(PortfolioAnalysis).where(PortfolioAnalysis.scheme_id == scheme_id,
                                                        col(PortfolioAnalysis.finished_at).is_not(None),
                                                        PortfolioAnalysis.error == "")
                        .order_by(col(PortfolioAnalysis.id).desc())).first()


def claimable(stale_before):
    """Queued, or started by a worker that stopped reporting before `stale_before`."""
    return or_(col(PortfolioAnalysis.started_at).is_(None),
               and_(col(PortfolioAnalysis.finished_at).is_(None), col(PortfolioAnalysis.started_at) < stale_before))


def run_analysis(session: Session, job: PortfolioAnalysis, progress: Callable[[int], None] | None = None) -> None:
    """Work the job out and store the answer on it (the caller commits)."""
    store(job, analyse(session, session.get(Scheme, job.scheme_id), progress=progress))
    session.add(job)
    session.flush()


def store(job: PortfolioAnalysis, analysis: Analysis) -> None:
    job.result = {"best": asdict(analysis.best), "greedy": asdict(analysis.greedy),
                  "binds": [asdict(b) for b in analysis.binds] if analysis.binds is not None else None}
    job.fingerprint = fingerprint(analysis.inputs)
    job.started_at = job.started_at or utcnow()
    job.progress_percent, job.finished_at = 100, utcnow()


@dataclass
class Shown:
    """What the page shows: the latest answer, whether it is still today's, and any job in hand."""

    pending: PortfolioAnalysis | None
    job: PortfolioAnalysis | None
    analysis: Analysis | None
    current: bool
    failed: PortfolioAnalysis | None = None


def shown(session: Session, scheme: Scheme) -> Shown:
    latest = latest_analysis(session, scheme.id)
    pending = latest if latest is not None and latest.finished_at is None else None
    failed = latest if latest is not None and latest.finished_at is not None and latest.error else None
    job = latest_result(session, scheme.id)
    if job is None:
        return Shown(pending=pending, job=None, analysis=None, current=False, failed=failed)
    inputs = inputs_for(session, scheme)
    result = job.result or {}
    best = optimiser.Portfolio(**result["best"])
    greedy = optimiser.Portfolio(**result["greedy"])
    binds = [optimiser.Binding(**b) for b in result["binds"]] if result.get("binds") is not None else None
    analysis = Analysis(inputs=inputs, best=best, greedy=greedy, lines=_lines(inputs, best),
                        greedy_lines=_lines(inputs, greedy), binds=binds)
    return Shown(pending=pending, job=job, analysis=analysis, current=job.fingerprint == fingerprint(inputs),
                 failed=failed)


# --- decisions -----------------------------------------------------------------------------------------

def open_proposal(session: Session, scheme_id: int) -> PortfolioProposal | None:
    return session.exec(select(PortfolioProposal).where(
        PortfolioProposal.scheme_id == scheme_id, col(PortfolioProposal.confirmed_at).is_(None),
        col(PortfolioProposal.superseded).is_(False)).order_by(col(PortfolioProposal.id).desc())).first()


def lines_of(session: Session, proposal: PortfolioProposal) -> list[PortfolioLine]:
    return list(session.exec(select(PortfolioLine).where(PortfolioLine.proposal_id == proposal.id)
                             .order_by(col(PortfolioLine.id))))


def propose(session: Session, actor: User, scheme: Scheme, *, comments: str = "") -> PortfolioProposal:
    """The officer proposes today's best portfolio in one action, superseding any earlier open proposal."""
    require(actor, Permission.PROJECT_ASSESS)
    scheme = lock_scheme(session, scheme.id)
    seen = shown(session, scheme)
    if seen.analysis is None or not seen.current:
        raise Conflict(_("The portfolio has not been worked out on today's projects and limits: work it out again, "
                         "then propose it."))
    analysis = seen.analysis
    if not analysis.feasible or not analysis.lines:
        raise Conflict(_("There is no portfolio to propose: %(why)s", why=reason_in_words(analysis)))
    if not analysis.inputs.funded_hold_share:
        raise Conflict(share_already_broken(analysis.inputs))
    for earlier in session.exec(select(PortfolioProposal).where(
            PortfolioProposal.scheme_id == scheme.id, col(PortfolioProposal.confirmed_at).is_(None))):
        earlier.superseded = True
    proposal = PortfolioProposal(scheme_id=scheme.id, officer_id=actor.id, value=round(analysis.best.value, 1),
                                 comments=comments.strip()[:2000])
    session.add(proposal)
    session.flush()
    for line in analysis.lines:
        session.add(PortfolioLine(proposal_id=proposal.id, project_id=line.project.id, places=line.places,
                                  subsidy_per_place=line.project.subsidy_requested_per_place))
    session.flush()
    audit.record(session, actor, "portfolio.proposed", "scheme", scheme.id,
                 after={"proposal": proposal.id, "value": proposal.value,
                        "lines": {str(line.project.id): line.places for line in analysis.lines}})
    return proposal


def _require_open(proposal: PortfolioProposal) -> None:
    if proposal.confirmed_at is not None or proposal.superseded:
        raise InvalidTransition(_("This portfolio has already been confirmed or replaced."))


def confirm(session: Session, actor: User, proposal: PortfolioProposal) -> list[Project]:
    """Another person confirms the proposal: every line funded, or none (the request's transaction)."""
    require(actor, Permission.PROJECT_DECIDE)
    require_different_person(proposal.officer_id, actor)
    _require_open(proposal)
    scheme = lock_scheme(session, proposal.scheme_id)
    # The officer may have replaced the proposal, or another approver confirmed it, while this one waited on
    # the lock: read it again, and every project, and check everything again.
    session.refresh(proposal)
    require_different_person(proposal.officer_id, actor)
    _require_open(proposal)
    grants: list[tuple[Project, int, int]] = []
    for line in lines_of(session, proposal):
        project = session.get(Project, line.project_id)
        session.refresh(project)
        if project.status not in CONSIDERED:
            raise InvalidTransition(_("“%(title)s” is no longer waiting for a funding decision: propose the "
                                      "portfolio again.", title=project.title_en))
        if not project.min_viable_places <= line.places <= project.places_requested:
            raise Conflict(_("“%(title)s” changed its places since the portfolio was proposed: propose it again.",
                             title=project.title_en))
        grants.append((project, line.places, line.subsidy_per_place))
    conflicts.bar_if_conflicted(session, actor, {project.organisation_id for project, _n, _s in grants})
    funding.check_share_and_organisation(session, scheme, [(p, n) for p, n, _s in grants])
    now = utcnow()
    funded = []
    for project, places, subsidy in grants:
        for earlier in session.exec(select(Assessment).where(Assessment.project_id == project.id,
                                                             col(Assessment.confirmed_at).is_(None))):
            earlier.superseded = True
        if project.status == ProjectStatus.SUBMITTED:
            move(session, actor, project, ProjectStatus.UNDER_ASSESSMENT, action="project.assessment_started")
        funded.append(funding.grant(session, actor, scheme, project, places, subsidy,
                                    comment=_("Funded in the scheme's portfolio."),
                                    action="project.portfolio_funded", check_share=False))
    proposal.confirmed_by_id, proposal.confirmed_at = actor.id, now
    session.flush()
    audit.record(session, actor, "portfolio.confirmed", "scheme", scheme.id,
                 after={"proposal": proposal.id, "projects": [p.id for p in funded],
                        "places": sum(n for _p, n, _s in grants)})
    return funded


def get_proposal(session: Session, proposal_id: int) -> PortfolioProposal:
    proposal = session.get(PortfolioProposal, proposal_id)
    if proposal is None:
        raise NotFound(_("We could not find that portfolio proposal."))
    return proposal


# --- words -----------------------------------------------------------------------------------------------

def reason_in_words(analysis: Analysis) -> str:
    """Why nothing can be funded, in the reader's language."""
    inputs = analysis.inputs
    share = inputs.limits.gba_min_share_pct
    if not inputs.candidates:
        return _("no submitted project has been scored yet.")
    if share and not any(c.gba for c in inputs.candidates):
        return _("no scored project is in the Greater Bay Area, so no portfolio can hold the scheme's minimum of "
                 "%(share)s%% of its places there. Lower the minimum share or score Greater Bay Area projects.",
                 share=share)
    if share and analysis.best.status == "infeasible":
        return _("the Greater Bay Area projects that fit the budget and caps are too few to hold %(share)s%% of "
                 "any portfolio's places. Lower the minimum share, or raise the budget or caps.", share=share)
    return _("no project fits the budget and caps left at its fewest viable places.")


def share_already_broken(inputs: Inputs) -> str:
    return _("The places already funded hold %(now)s%% in the Greater Bay Area, below the scheme's minimum of "
             "%(min)s%%: no further funding can be confirmed until the minimum is lowered.",
             now=f"{100 * inputs.funded_gba / inputs.funded_total:.0f}" if inputs.funded_total else "0",
             min=inputs.scheme.gba_min_share_percent)
