"""JSON for a scheme's funding portfolio: read it, propose it, confirm a proposal (four eyes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.params import Id
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.projects import portfolio
from backend.projects.portfolio_routes import get_scheme

router = APIRouter(tags=["funding portfolio"])
StaffUser = Annotated[User, require_permission(Permission.PROJECT_VIEW_ALL)]
Assessor = Annotated[User, require_permission(Permission.PROJECT_ASSESS)]
Decider = Annotated[User, require_permission(Permission.PROJECT_DECIDE)]


class LineOut(BaseModel):
    project_id: int
    score: float = Field(description="Weighted assessment score out of 100")
    places: int
    value: float = Field(description="Score times places")
    cost_hkd: int


class ChoiceOut(BaseModel):
    method: str
    status: str
    places: int
    value: float
    cost_hkd: int
    gap: float | None = Field(description="Proven relative gap (bound - value) / bound, when a bound is known")
    lines: list[LineOut]


class BindingOut(BaseModel):
    limit: str = Field(description="budget, region or gba_share")
    name: str = Field(description="The region, for a regional cap")
    step: float = Field(description="HKD, places of cap, or share points lowered")
    binds: bool
    places_gain: int
    value_gain: float


class JobOut(BaseModel):
    id: int
    state: str = Field(description="queued, running, done or failed")
    progress_percent: int
    requested_at: datetime
    finished_at: datetime | None


class PortfolioOut(BaseModel):
    scheme_id: int
    job: JobOut | None = Field(description="The latest working-out asked for, finished or not")
    worked_out: bool = Field(description="Whether an answer exists (the fields below are empty otherwise)")
    current: bool = Field(description="Whether the answer was worked out on today's projects, scores and limits")
    feasible: bool
    reason: str = Field(description="Why nothing can be funded, when nothing can")
    budget_left_hkd: int
    best: ChoiceOut | None
    greedy: ChoiceOut | None
    what_binds: list[BindingOut] | None
    unscored_project_ids: list[int]
    open_proposal_id: int | None


class ProposeIn(BaseModel):
    comments: str = Field(default="", max_length=2000)


class ProposalOut(BaseModel):
    id: int
    scheme_id: int
    officer_id: int | None
    value: float
    created_at: datetime
    confirmed_by_id: int | None
    confirmed_at: datetime | None
    superseded: bool
    lines: dict[int, int] = Field(description="Project id → places")


def _choice(chosen, lines: list[portfolio.Line]) -> ChoiceOut:
    return ChoiceOut(method=chosen.method, status=chosen.status, places=chosen.total_places, value=chosen.value,
                     cost_hkd=chosen.cost, gap=chosen.gap,
                     lines=[LineOut(project_id=line.project.id, score=line.score, places=line.places,
                                    value=line.value, cost_hkd=line.cost) for line in lines])


def _proposal_out(db, proposal) -> ProposalOut:
    return ProposalOut(**proposal.model_dump(include=set(ProposalOut.model_fields) - {"lines"}),
                       lines={line.project_id: line.places for line in portfolio.lines_of(db, proposal)})


def _job(job) -> JobOut | None:
    if job is None:
        return None
    state = ("queued" if job.started_at is None else "running" if job.finished_at is None
             else "failed" if job.error else "done")
    return JobOut(id=job.id, state=state, progress_percent=job.progress_percent, requested_at=job.requested_at,
                  finished_at=job.finished_at)


def _portfolio_out(db, scheme) -> PortfolioOut:
    seen = portfolio.shown(db, scheme)
    analysis = seen.analysis
    proposal = portfolio.open_proposal(db, scheme.id)
    inputs = analysis.inputs if analysis else portfolio.inputs_for(db, scheme)
    feasible = analysis is not None and analysis.feasible and bool(analysis.lines)
    return PortfolioOut(
        scheme_id=scheme.id, job=_job(portfolio.latest_analysis(db, scheme.id)), worked_out=analysis is not None,
        current=seen.current, feasible=feasible,
        reason="" if feasible or analysis is None else portfolio.reason_in_words(analysis),
        budget_left_hkd=inputs.limits.budget,
        best=_choice(analysis.best, analysis.lines) if analysis else None,
        greedy=_choice(analysis.greedy, analysis.greedy_lines) if analysis else None,
        what_binds=None if analysis is None or analysis.binds is None else [
            BindingOut(limit=b.limit, name=b.name, step=b.step, binds=b.binds, places_gain=b.places_gain,
                       value_gain=b.value_gain) for b in analysis.binds],
        unscored_project_ids=[p.id for p in inputs.unscored],
        open_proposal_id=proposal.id if proposal else None)


@router.get("/schemes/{scheme_id}/portfolio", response_model=PortfolioOut, responses=error_responses(403, 404))
def get_portfolio(db: DbSession, user: StaffUser, scheme_id: Id):
    """The latest worked-out portfolio of the scheme and the job in hand; nothing is solved in this request."""
    return _portfolio_out(db, get_scheme(db, scheme_id))


@router.post("/schemes/{scheme_id}/portfolio/analyses", response_model=JobOut, status_code=202,
             responses=error_responses(403, 404))
def work_out(db: DbSession, user: StaffUser, scheme_id: Id):
    """Queue a working-out for the worker (or return the one already waiting or running)."""
    return _job(portfolio.queue_analysis(db, user, get_scheme(db, scheme_id)))


@router.post("/schemes/{scheme_id}/portfolio/proposals", response_model=ProposalOut, status_code=201,
             responses=error_responses(403, 404, 409))
def propose(db: DbSession, user: Assessor, scheme_id: Id, body: ProposeIn):
    return _proposal_out(db, portfolio.propose(db, user, get_scheme(db, scheme_id), comments=body.comments))


@router.post("/portfolio-proposals/{proposal_id}/confirm", response_model=ProposalOut,
             responses=error_responses(403, 404, 409))
def confirm(db: DbSession, user: Decider, proposal_id: Id):
    proposal = portfolio.get_proposal(db, proposal_id)
    portfolio.confirm(db, user, proposal)
    return _proposal_out(db, proposal)
