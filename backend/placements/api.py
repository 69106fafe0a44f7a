"""Match rounds and offers as JSON under /api/v1: the same services as the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from backend.accounts.models import User
from backend.authz import Permission
from backend.core.deps import DbSession, require_permission
from backend.core.errors import NotFound
from backend.core.i18n import gettext as _
from backend.placements import approvals, offers, review, rounds
from backend.placements.models import MatchRun, MatchRunStatus, Placement
from backend.placements.offer_routes import my_offers
from backend.placements.round_routes import get_run, stage_name, what_binds_lines
from backend.schemes.models import Scheme

router = APIRouter(tags=["match rounds and offers"])
StaffUser = Annotated[User, require_permission(Permission.PROJECT_VIEW_ALL)]
Officer = Annotated[User, require_permission(Permission.MATCH_RUN)]
Approver = Annotated[User, require_permission(Permission.MATCH_APPROVE)]
Applicant = Annotated[User, require_permission(Permission.PLACEMENT_RESPOND)]


class RoundIn(BaseModel):
    scheme_id: int
    mode: Literal["optimal", "stable"] = Field(
        "optimal", description="optimal: place as many as the limits allow, then the best fit (first-timers "
                               "first); stable: deferred acceptance, nobody would rather swap")
    refill: bool = Field(False, description="fill freed places only; offers and places already held stay")


class ProgressOut(BaseModel):
    id: int
    status: str
    stage: str
    stage_name: str
    percent: int
    finished: bool


class RoundOut(BaseModel):
    id: int
    scheme_id: int
    mode: str
    is_refill: bool
    status: str
    stage: str
    percent: int
    previous_run_id: int | None
    started_by_id: int | None
    reviewed_by_id: int | None
    created_at: datetime
    finished_at: datetime | None
    figures: dict | None = Field(None, description="places filled, budget, first-choice share, regions, what binds")
    what_binds: list[str] = Field(default_factory=list, description="the what-binds figures in words")
    error: str | None = None


class ProposalOut(BaseModel):
    id: int
    applicant_id: int
    applicant_name: str
    project_id: int
    score: float
    choice_rank: int | None
    pinned: bool
    status: str
    reasons: list[dict]


class ProposalPage(BaseModel):
    total: int
    offset: int
    limit: int
    proposals: list[ProposalOut]


class UnplacedOut(BaseModel):
    applicant_id: int
    applicant_name: str
    reason_code: str
    reason: str
    params: dict


class UnplacedPage(BaseModel):
    total: int
    offset: int
    limit: int
    unplaced: list[UnplacedOut]


class ApproveIn(BaseModel):
    proposal_ids: list[int] | None = Field(None, description="leave out to approve every proposal still proposed")
    offer_days: int = Field(approvals.DEFAULT_OFFER_DAYS, ge=1, le=60)


class SkippedOut(BaseModel):
    proposal_id: int
    code: str
    reason: str


class ApproveOut(BaseModel):
    placement_ids: list[int]
    skipped: list[SkippedOut]


class RefuseIn(BaseModel):
    proposal_ids: list[int]
    reason: str


class RefuseOut(BaseModel):
    refused: list[int]


class AdjustmentIn(BaseModel):
    applicant_id: int
    project_id: int
    reason: str = Field(description="required; kept in the audit log")


class AdjustmentOut(BaseModel):
    id: int
    kind: str
    applicant_id: int
    project_id: int
    reason: str


class OfferOut(BaseModel):
    id: int
    status: str
    project_id: int
    project_title: str
    organisation: str
    offered_at: datetime
    offer_deadline: datetime
    subsidy_hkd: int


def round_out(run: MatchRun) -> RoundOut:
    return RoundOut(id=run.id, scheme_id=run.scheme_id, mode=run.mode, is_refill=run.is_refill,
                    status=str(run.status), stage=run.stage, percent=run.progress_percent,
                    previous_run_id=run.previous_run_id, started_by_id=run.started_by_id,
                    reviewed_by_id=run.reviewed_by_id, created_at=run.created_at, finished_at=run.finished_at,
                    figures=run.figures, what_binds=what_binds_lines(run.figures) if run.figures else [],
                    error=run.error if run.status == MatchRunStatus.FAILED else None)


def _scheme(db: Session, scheme_id: int) -> Scheme:
    scheme = db.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound(_("We could not find that scheme."))
    return scheme


@router.post("/rounds", response_model=RoundOut, status_code=202)
def start_round(body: RoundIn, db: DbSession, user: Officer):
    """Queue a match round; the worker runs it. Follow it at /rounds/{id}/progress."""
    scheme = _scheme(db, body.scheme_id)
    previous = rounds.latest_round(db, scheme.id)
    run = rounds.start_round(db, user, scheme, mode=body.mode, refill=body.refill,
                             previous_run=previous if previous and previous.status == MatchRunStatus.SUCCEEDED
                             else None)
    return round_out(run)


@router.get("/rounds/{run_id}", response_model=RoundOut)
def get_round(run_id: int, db: DbSession, user: StaffUser):
    return round_out(get_run(db, run_id))


@router.get("/rounds/{run_id}/progress", response_model=ProgressOut)
def round_progress(run_id: int, db: DbSession, user: StaffUser):
    """Small and cheap: the round page polls it while the worker runs the round."""
    run = get_run(db, run_id)
    finished = run.status in (MatchRunStatus.SUCCEEDED, MatchRunStatus.FAILED, MatchRunStatus.CANCELLED)
    return ProgressOut(id=run.id, status=str(run.status), stage=run.stage or "queued",
                       stage_name=stage_name(run.stage or "queued"),
                       percent=100 if run.status == MatchRunStatus.SUCCEEDED else run.progress_percent,
                       finished=finished)


@router.get("/rounds/{run_id}/proposals", response_model=ProposalPage)
def round_proposals(run_id: int, db: DbSession, user: StaffUser, offset: Annotated[int, Query(ge=0)] = 0,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200, project_id: int | None = None):
    run = get_run(db, run_id)
    rows = [r for r in review.proposals_by_applicant(db, run) if project_id is None or r.project.id == project_id]
    return ProposalPage(total=len(rows), offset=offset, limit=limit, proposals=[
        ProposalOut(id=r.proposal.id, applicant_id=r.applicant.id, applicant_name=r.applicant.name_en or
                    r.applicant.name_zh, project_id=r.project.id, score=r.proposal.score,
                    choice_rank=r.proposal.choice_rank, pinned=r.proposal.pinned, status=str(r.proposal.status),
                    reasons=r.proposal.reasons or [])
        for r in rows[offset:offset + limit]])


@router.get("/rounds/{run_id}/unplaced", response_model=UnplacedPage)
def round_unplaced(run_id: int, db: DbSession, user: StaffUser, offset: Annotated[int, Query(ge=0)] = 0,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 200, reason: str | None = None):
    run = get_run(db, run_id)
    rows = [u for u in review.unplaced_with_reasons(db, run) if reason is None or u.reason_code == reason]
    return UnplacedPage(total=len(rows), offset=offset, limit=limit, unplaced=[
        UnplacedOut(applicant_id=u.applicant.id, applicant_name=u.applicant.name_en or u.applicant.name_zh,
                    reason_code=u.reason_code, reason=u.text, params=u.params)
        for u in rows[offset:offset + limit]])


@router.post("/rounds/{run_id}/approve", response_model=ApproveOut)
def approve_round(run_id: int, body: ApproveIn, db: DbSession, user: Approver):
    """Turn proposals into offers (a different person from who started or reviewed the round)."""
    run = get_run(db, run_id)
    result = approvals.approve_proposals(db, user, run, body.proposal_ids, offer_days=body.offer_days)
    return ApproveOut(placement_ids=[p.id for p in result.placements],
                      skipped=[SkippedOut(proposal_id=s.proposal.id, code=s.code, reason=s.reason)
                               for s in result.skipped])


@router.post("/rounds/{run_id}/refuse", response_model=RefuseOut)
def refuse_round_proposals(run_id: int, body: RefuseIn, db: DbSession, user: Approver):
    run = get_run(db, run_id)
    refused = approvals.refuse_proposals(db, user, run, body.proposal_ids, reason=body.reason)
    return RefuseOut(refused=[p.id for p in refused])


def _adjust(db: Session, user: User, run_id: int, body: AdjustmentIn, kind: str) -> AdjustmentOut:
    run = get_run(db, run_id)
    scheme = _scheme(db, run.scheme_id)
    action = review.pin if kind == "pin" else review.exclude
    adjustment = action(db, user, scheme, body.applicant_id, body.project_id, body.reason)
    return AdjustmentOut(id=adjustment.id, kind=str(adjustment.kind), applicant_id=adjustment.applicant_id,
                         project_id=adjustment.project_id, reason=adjustment.reason)


@router.post("/rounds/{run_id}/pins", response_model=AdjustmentOut, status_code=201)
def pin(run_id: int, body: AdjustmentIn, db: DbSession, user: Officer):
    """Pin a placement for every later round of the scheme (with a reason)."""
    return _adjust(db, user, run_id, body, "pin")


@router.post("/rounds/{run_id}/exclusions", response_model=AdjustmentOut, status_code=201)
def exclude(run_id: int, body: AdjustmentIn, db: DbSession, user: Officer):
    """Never propose this applicant for this project in later rounds of the scheme (with a reason)."""
    return _adjust(db, user, run_id, body, "exclude")


def _offer_out(placement: Placement, project, organisation) -> OfferOut:
    from backend.core.i18n import localised

    return OfferOut(id=placement.id, status=str(placement.status), project_id=project.id,
                    project_title=localised(project, "title"),
                    organisation=localised(organisation, "name") if organisation else "",
                    offered_at=placement.offered_at, offer_deadline=placement.offer_deadline,
                    subsidy_hkd=placement.subsidy_hkd)


@router.get("/me/offers", response_model=list[OfferOut])
def list_my_offers(db: DbSession, user: Applicant):
    return [_offer_out(*row) for row in my_offers(db, user)]


def _one_offer(db: Session, user: User, placement_id: int) -> OfferOut:
    for row in my_offers(db, user):
        if row[0].id == placement_id:
            return _offer_out(*row)
    raise NotFound(_("We could not find that offer."))


@router.post("/me/offers/{placement_id}/accept", response_model=OfferOut)
def accept_offer(placement_id: int, db: DbSession, user: Applicant):
    """Idempotent: accepting an accepted offer again returns it unchanged."""
    offers.accept_offer(db, user, placement_id)
    return _one_offer(db, user, placement_id)


@router.post("/me/offers/{placement_id}/decline", response_model=OfferOut)
def decline_offer(placement_id: int, db: DbSession, user: Applicant):
    offers.decline_offer(db, user, placement_id)
    return _one_offer(db, user, placement_id)
