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


class PortfolioOut(BaseModel):
    scheme_id: int
    feasible: bool
    reason: str = Field(description="Why nothing can be funded, when nothing can")
    budget_left_hkd: int
    best: ChoiceOut
    greedy: ChoiceOut
    what_binds: list[BindingOut] | None = Field(description="None when the scheme is too large to work it out here")
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


@router.get("/schemes/{scheme_id}/portfolio", response_model=PortfolioOut, responses=error_responses(404))
def get_portfolio(db: DbSession, user: StaffUser, scheme_id: Id):
    scheme = get_scheme(db, scheme_id)
    analysis = portfolio.analyse(db, scheme)
    proposal = portfolio.open_proposal(db, scheme.id)
    feasible = analysis.feasible and bool(analysis.lines)
    return PortfolioOut(
        scheme_id=scheme.id, feasible=feasible, reason="" if feasible else portfolio.reason_in_words(analysis),
        budget_left_hkd=analysis.inputs.limits.budget, best=_choice(analysis.best, analysis.lines),
        greedy=_choice(analysis.greedy, analysis.greedy_lines),
        what_binds=None if analysis.binds is None else [
            BindingOut(limit=b.limit, name=b.name, step=b.step, binds=b.binds, places_gain=b.places_gain,
                       value_gain=b.value_gain) for b in analysis.binds],
        unscored_project_ids=[p.id for p in analysis.inputs.unscored],
        open_proposal_id=proposal.id if proposal else None)


@router.post("/schemes/{scheme_id}/portfolio/proposals", response_model=ProposalOut, status_code=201,
             responses=error_responses(404, 409))
def propose(db: DbSession, user: Assessor, scheme_id: Id, body: ProposeIn):
    return _proposal_out(db, portfolio.propose(db, user, get_scheme(db, scheme_id), comments=body.comments))


@router.post("/portfolio-proposals/{proposal_id}/confirm", response_model=ProposalOut,
             responses=error_responses(403, 404, 409))
def confirm(db: DbSession, user: Decider, proposal_id: Id):
    proposal = portfolio.get_proposal(db, proposal_id)
    portfolio.confirm(db, user, proposal)
    return _proposal_out(db, proposal)
