"""Match rounds and offers as JSON under /api/v1: the same services as the pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from backend.applicants import choices, profile
from backend.applicants.choices import ChoiceState
from backend.core.db import DbSession
from backend.core.errors import NotFound, error_responses
from backend.core.i18n import gettext as _
from backend.core.i18n import localised
from backend.core.params import BodyId, Id, Offset, QueryId
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.placements import (
    approval_jobs,
    approvals,
    offers,
    origins,
    outcomes,
    review,
    round_status,
    rounds,
)
from backend.placements.models import ApprovalJob, MatchAdjustment, MatchRun, MatchRunStatus, Placement
from backend.placements.offer_routes import my_offers
from backend.placements.round_routes import get_run, stage_name, what_binds_lines
from backend.schemes.models import Scheme

router = APIRouter(tags=["match rounds and offers"], responses=error_responses(403))
StaffUser = Annotated[User, require_permission(Permission.PROJECT_VIEW_ALL)]
Officer = Annotated[User, require_permission(Permission.MATCH_RUN)]
Approver = Annotated[User, require_permission(Permission.MATCH_APPROVE)]
Applicant = Annotated[User, require_permission(Permission.PLACEMENT_RESPOND)]
Viewer = Annotated[User, require_permission(Permission.APPLICANT_VIEW_OWN)]


class RoundIn(BaseModel):
    scheme_id: BodyId
    mode: Literal["optimal", "stable"] = Field(
        "optimal", description="optimal: place as many as the limits allow, then the best fit (first-timers "
                               "first); stable: deferred acceptance, nobody would rather swap")
    refill: bool = Field(False, description="fill freed places only; offers and places already held stay")
    seed: int | None = Field(None, ge=0, le=(1 << 63) - 1,
                             description="tie-break seed for a what-if; left out, the scheme's published lottery "
                                         "seed is used. A round with another seed cannot be approved.")


class ProgressOut(BaseModel):
    id: int
    status: str
    stage: str
    stage_name: str
    percent: int
    finished: bool
    worker_note: str | None = Field(None, description="while running: when the worker last reported, and whether "
                                                      "it has stopped, in words")


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
    figures: dict | None = Field(None, description="places filled, budget, first-choice share, regions, what binds, "
                                                   "the match policy (policy) and what its first-timer priority costs "
                                                   "(tradeoff)")
    what_binds: list[str] = Field(default_factory=list, description="the what-binds figures in words")
    error: str | None = None
    proposals_to_decide: int = Field(0, description="proposals neither approved nor refused yet")
    awaiting_approval: bool = Field(False, description="finished, with proposals to decide, and not superseded")
    superseded_by_run_id: int | None = Field(
        None, description="set when a newer round of the scheme has finished: this round's proposals are then out "
                          "of date and can no longer be approved or refused")
    heartbeat_at: datetime | None = Field(None, description="while running: when the worker last reported")
    worker_stopped: bool = Field(False, description="running, but the worker has not reported for a while: the "
                                                    "round resumes when a worker picks it up")


class ReasonOut(BaseModel):
    code: str = Field(description="pinned, choice, open_to_other, shared_terms, first_timer, rules_passed, …")
    params: dict = Field(default_factory=dict, description="the facts behind the reason, e.g. {\"rank\": 1}")
    text: str = Field(description="the reason in words, in the request's language (?lang=, Accept-Language)")


class ProposalOut(BaseModel):
    id: int
    applicant_id: int
    applicant_name: str
    project_id: int
    score: float
    choice_rank: int | None
    pinned: bool
    status: str
    reasons: list[ReasonOut]


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
    proposal_ids: list[BodyId] | None = Field(None, description="leave out to approve every proposal still proposed")
    offer_days: int = Field(approvals.DEFAULT_OFFER_DAYS, ge=1, le=60)


class SkippedOut(BaseModel):
    proposal_id: int
    code: str
    reason: str


class ApprovalOut(BaseModel):
    """An approval job: queued by the approve call, worked through by the worker in batches."""

    id: int
    run_id: int
    status: str = Field(description="queued, running, succeeded or failed")
    stage_name: str = Field(description="how far it has got, in words")
    percent: int
    finished: bool
    proposals_total: int = Field(0, description="proposals to check (known once the worker has started)")
    proposals_done: int = Field(0, description="proposals checked so far")
    status_url: str = Field(description="poll this for progress and, once finished, the result")
    worker_note: str | None = None
    placement_ids: list[int] = Field(default_factory=list, description="once succeeded: the offers made")
    approved: int = Field(0, description="offers made so far")
    skipped: list[SkippedOut] = Field(default_factory=list, description="once finished: the proposals not "
                                                                        "approved, each with its reason")
    error: str | None = Field(None, description="once failed: why, in words; approving again goes on from there")


class RefuseIn(BaseModel):
    proposal_ids: list[BodyId]
    reason: str


class RefuseOut(BaseModel):
    refused: list[int]


class AdjustmentIn(BaseModel):
    applicant_id: BodyId
    project_id: BodyId
    reason: str = Field(description="required; kept in the audit log")


class AdjustmentOut(BaseModel):
    id: int
    scheme_id: int
    kind: str
    applicant_id: int
    project_id: int
    reason: str
    created_at: datetime
    removed_at: datetime | None = None


class AdjustmentRemovalIn(BaseModel):
    reason: str = Field(description="why the pin or exclusion is removed; required, kept in the audit log")


class OfferOut(BaseModel):
    id: int
    status: str
    project_id: int
    project_title: str
    organisation: str
    offered_at: datetime
    offer_deadline: datetime
    subsidy_hkd: int
    origin: Literal["choice", "officer", "suggested"] = Field(
        description="How the offer came about: one of her ranked choices, an officer's placement (never one of "
                    "her choices), or a suggestion (she was open to other projects)")
    origin_text: str = Field(description="The same in words, in the reader's language, as her pages say it")
    officer_reason: str = Field("", description="For an officer's placement: the officer's reason")


class NotPlacedOut(BaseModel):
    scheme_id: int
    run_id: int
    decided_on: date | None
    reason: str = Field(description="Why, in the reader's language")
    step: str | None = Field(None, description="The profile step whose answer this reason depends on, if one does")


class StatusOut(BaseModel):
    profile_submitted: bool
    offers: list[OfferOut] = Field(description="Every offer she has had, whichever way it came, newest first")
    not_placed: list[NotPlacedOut] = Field(description="Schemes whose decided round left her out, with why")
    choices: list[ChoiceState] = Field(description="Her choices; one still waiting reads not_placed "
                                                           "once a decided round left her out")


def round_out(run: MatchRun, state: approvals.ApprovalState | None = None) -> RoundOut:
    state = state or approvals.ApprovalState(0, None)
    contact = round_status.worker_contact(run)
    return RoundOut(id=run.id, scheme_id=run.scheme_id, mode=run.mode, is_refill=run.is_refill,
                    status=str(run.status), stage=run.stage, percent=run.progress_percent,
                    previous_run_id=run.previous_run_id, started_by_id=run.started_by_id,
                    reviewed_by_id=run.reviewed_by_id, created_at=run.created_at, finished_at=run.finished_at,
                    figures=run.figures, what_binds=what_binds_lines(run.figures) if run.figures else [],
                    error=run.error if run.status == MatchRunStatus.FAILED else None,
                    proposals_to_decide=state.to_decide, awaiting_approval=state.awaiting_approval,
                    superseded_by_run_id=state.superseded_by,
                    heartbeat_at=contact.heartbeat_at if contact else None,
                    worker_stopped=contact.stopped if contact else False)


def _adjustment_out(adjustment: MatchAdjustment) -> AdjustmentOut:
    return AdjustmentOut(id=adjustment.id, scheme_id=adjustment.scheme_id, kind=str(adjustment.kind),
                         applicant_id=adjustment.applicant_id, project_id=adjustment.project_id,
                         reason=adjustment.reason, created_at=adjustment.created_at, removed_at=adjustment.removed_at)


def _scheme(db: Session, scheme_id: int) -> Scheme:
    scheme = db.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound(_("We could not find that scheme."))
    return scheme


@router.post("/rounds", response_model=RoundOut, status_code=202, responses=error_responses(404, 409))
def start_round(body: RoundIn, db: DbSession, user: Officer):
    """Queue a match round; the worker runs it. Follow it at /rounds/{id}/progress."""
    scheme = _scheme(db, body.scheme_id)
    previous = rounds.latest_round(db, scheme.id)
    run = rounds.start_round(db, user, scheme, mode=body.mode, refill=body.refill, seed=body.seed,
                             previous_run=previous if previous and previous.status == MatchRunStatus.SUCCEEDED
                             else None)
    return round_out(run)


@router.get("/rounds", response_model=list[RoundOut])
def list_rounds(db: DbSession, user: StaffUser, scheme_id: QueryId = None,
                awaiting_approval: Annotated[bool | None, Query(
                    description="true: only finished rounds with proposals to decide that no newer round of "
                                "their scheme has superseded")] = None,
                limit: Annotated[int, Query(ge=1, le=100)] = 100):
    """The newest rounds first (all schemes, or one)."""
    if awaiting_approval:
        runs = [run for run, _n in approvals.rounds_awaiting_approval(db)
                if scheme_id is None or run.scheme_id == scheme_id][:limit]
    else:
        query = select(MatchRun).order_by(col(MatchRun.id).desc()).limit(limit).options(defer(MatchRun.input_snapshot))
        if scheme_id is not None:
            query = query.where(MatchRun.scheme_id == scheme_id)
        runs = list(db.exec(query))
    states = approvals.approval_states(db, runs)
    return [round_out(run, states[run.id]) for run in runs
            if awaiting_approval is None or states[run.id].awaiting_approval == awaiting_approval]


@router.get("/rounds/{run_id}", response_model=RoundOut, responses=error_responses(404))
def get_round(run_id: Id, db: DbSession, user: StaffUser):
    run = get_run(db, run_id)
    return round_out(run, approvals.approval_states(db, [run])[run.id])


@router.get("/rounds/{run_id}/progress", response_model=ProgressOut, responses=error_responses(404))
def round_progress(run_id: Id, db: DbSession, user: StaffUser):
    """Small and cheap: the round page polls it while the worker runs the round."""
    run = get_run(db, run_id)
    finished = run.status in (MatchRunStatus.SUCCEEDED, MatchRunStatus.FAILED, MatchRunStatus.CANCELLED)
    contact = round_status.worker_contact(run)
    return ProgressOut(id=run.id, status=str(run.status), stage=run.stage or "queued",
                       stage_name=stage_name(run.stage or "queued"),
                       percent=100 if run.status == MatchRunStatus.SUCCEEDED else run.progress_percent,
                       finished=finished, worker_note=contact.words() if contact else None)


@router.get("/rounds/{run_id}/proposals", response_model=ProposalPage,
            responses=error_responses(404, 409, e409="The round has not finished yet"))
def round_proposals(run_id: Id, db: DbSession, user: StaffUser, offset: Offset = 0,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200, project_id: QueryId = None):
    run = get_run(db, run_id)
    rows = review.proposals_by_applicant(db, run, project_id=project_id, offset=offset, limit=limit)
    total = review.count_proposals(db, run, project_id=project_id)
    return ProposalPage(total=total, offset=offset, limit=limit, proposals=[
        ProposalOut(id=r.proposal.id, applicant_id=r.applicant.id, applicant_name=r.applicant.name_en or
                    r.applicant.name_zh, project_id=r.project.id, score=r.proposal.score,
                    choice_rank=r.proposal.choice_rank, pinned=r.proposal.pinned, status=str(r.proposal.status),
                    reasons=[ReasonOut(**reason) for reason in r.reasons])
        for r in rows])


@router.get("/rounds/{run_id}/unplaced", response_model=UnplacedPage,
            responses=error_responses(404, 409, e409="The round has not finished yet"))
def round_unplaced(run_id: Id, db: DbSession, user: StaffUser, offset: Offset = 0,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 200, reason: str | None = None):
    run = get_run(db, run_id)
    rows = review.unplaced_with_reasons(db, run, reason=reason, offset=offset, limit=limit)
    return UnplacedPage(total=review.count_unplaced(db, run, reason=reason), offset=offset, limit=limit, unplaced=[
        UnplacedOut(applicant_id=u.applicant.id, applicant_name=u.applicant.name_en or u.applicant.name_zh,
                    reason_code=u.reason_code, reason=u.text, params=u.params)
        for u in rows])


def approval_out(db: Session, job: ApprovalJob, run: MatchRun | None) -> ApprovalOut:
    finished = job.status not in approval_jobs.ACTIVE
    out = ApprovalOut(id=job.id, run_id=job.run_id, status=str(job.status), stage_name=approval_jobs.stage_words(job),
                      percent=job.progress_percent, finished=finished, proposals_total=job.total,
                      proposals_done=job.position, approved=job.approved_count,
                      status_url=f"/api/v1/rounds/{job.run_id}/approvals/{job.id}")
    if finished:
        out.skipped = [SkippedOut(proposal_id=s.proposal_id, code=s.code, reason=s.reason)
                       for s in approval_jobs.skipped_of(db, job)]
        out.placement_ids = approval_jobs.placement_ids(db, job)
    if job.status == approval_jobs.J.FAILED and run is not None:
        out.error = approval_jobs.failure_message(db, job, run)
    return out


@router.post("/rounds/{run_id}/approve", response_model=ApprovalOut, status_code=202,
             responses={**error_responses(404), 409: {"description": "The round has not finished, or a newer round of its scheme has "
                                             "finished (error `round_superseded`): its proposals are out of date, "
                                             "or the whole round was asked for and none of its proposals is left "
                                             "to decide (error `nothing_to_approve`): another approver approved "
                                             "or refused them first, or the round is being approved already "
                                             "(error `approval_underway`)"}})
def approve_round(run_id: Id, body: ApproveIn, db: DbSession, user: Approver):
    """Queue turning proposals into offers (a different person from who started or reviewed the round).

    Answers at once (202); the worker makes the offers in batches, checking every limit again. Follow it at
    `status_url`."""
    run = get_run(db, run_id)
    job = approval_jobs.queue_approval(db, user, run, body.proposal_ids, offer_days=body.offer_days)
    return approval_out(db, job, run)


@router.get("/rounds/{run_id}/approvals/{job_id}", response_model=ApprovalOut, responses=error_responses(404))
def approval_status(run_id: Id, job_id: Id, db: DbSession, user: StaffUser):
    """Small and cheap while it runs: the round page polls it while the worker makes the offers."""
    job = db.get(ApprovalJob, job_id, populate_existing=True, options=approval_jobs.LISTS)
    if job is None or job.run_id != run_id:
        raise NotFound(_("We could not find that approval."))
    # The round itself (its parameters alone run to megabytes in a national round) only to word a failure.
    return approval_out(db, job, get_run(db, run_id) if job.status == approval_jobs.J.FAILED else None)


@router.post("/rounds/{run_id}/refuse", response_model=RefuseOut,
             responses={**error_responses(404), 409: {"description": "Already decided, the round has not finished, or it was superseded "
                                             "by a newer round (error `round_superseded`)"}})
def refuse_round_proposals(run_id: Id, body: RefuseIn, db: DbSession, user: Approver):
    run = get_run(db, run_id)
    refused = approvals.refuse_proposals(db, user, run, body.proposal_ids, reason=body.reason)
    return RefuseOut(refused=[p.id for p in refused])


def _adjust(db: Session, user: User, run_id: int, body: AdjustmentIn, kind: str) -> AdjustmentOut:
    run = get_run(db, run_id)
    scheme = _scheme(db, run.scheme_id)
    action = review.pin if kind == "pin" else review.exclude
    return _adjustment_out(action(db, user, scheme, body.applicant_id, body.project_id, body.reason))


@router.post("/rounds/{run_id}/pins", response_model=AdjustmentOut, status_code=201,
             responses=error_responses(404, 409))
def pin(run_id: Id, body: AdjustmentIn, db: DbSession, user: Officer):
    """Pin a placement for every later round of the scheme (with a reason)."""
    return _adjust(db, user, run_id, body, "pin")


@router.post("/rounds/{run_id}/exclusions", response_model=AdjustmentOut, status_code=201,
             responses=error_responses(404, 409))
def exclude(run_id: Id, body: AdjustmentIn, db: DbSession, user: Officer):
    """Never propose this applicant for this project in later rounds of the scheme (with a reason)."""
    return _adjust(db, user, run_id, body, "exclude")


@router.get("/schemes/{scheme_id}/adjustments", response_model=list[AdjustmentOut],
            responses=error_responses(404))
def list_adjustments(scheme_id: Id, db: DbSession, user: Officer):
    """The scheme's pins and exclusions in force (every later round keeps them until removed), oldest first."""
    return [_adjustment_out(a) for a in review.adjustments(db, _scheme(db, scheme_id))]


@router.delete("/schemes/{scheme_id}/adjustments/{adjustment_id}", response_model=AdjustmentOut,
               responses={**error_responses(404, e404="No such pin or exclusion in this scheme"),
                          409: {"description": "Already removed (error `invalid_transition`), or no reason "
                                             "given (error `conflict`, details.field = `reason`)"}})
def remove_adjustment(scheme_id: Id, adjustment_id: Id, body: AdjustmentRemovalIn, db: DbSession, user: Officer):
    """Remove a pin or an exclusion, with a reason (kept in the audit log); later rounds no longer use it.

    Rounds already finished keep the proposals they made: run the round again to see the effect.
    """
    scheme = _scheme(db, scheme_id)
    adjustment = db.get(MatchAdjustment, adjustment_id)
    if adjustment is None or adjustment.scheme_id != scheme.id:
        raise NotFound(_("We could not find that."))
    return _adjustment_out(review.remove_adjustment(db, user, adjustment, body.reason))


def _offer_out(placement: Placement, project, organisation, origin: origins.OfferOrigin) -> OfferOut:
    return OfferOut(id=placement.id, status=str(placement.status), project_id=project.id,
                    project_title=localised(project, "title"),
                    organisation=localised(organisation, "name") if organisation else "",
                    offered_at=placement.offered_at, offer_deadline=placement.offer_deadline,
                    subsidy_hkd=placement.subsidy_hkd, origin=origin.kind, origin_text=origin.text,
                    officer_reason=origin.reason)


def _offers_out(db: Session, rows) -> list[OfferOut]:
    how = origins.offer_origins(db, [row[0] for row in rows])
    return [_offer_out(*row, how[row[0].id]) for row in rows]


@router.get("/me/offers", response_model=list[OfferOut])
def list_my_offers(db: DbSession, user: Applicant):
    return _offers_out(db, my_offers(db, user))


@router.get("/me/status", response_model=StatusOut, summary="Every offer, then each choice's state, since when, "
            "and what happens next")
def status(db: DbSession, user: Viewer):
    """As her status page: every offer she has had (an officer's placement on a project she never chose
    too), then her choices."""
    overview = choices.status_overview(db, user)
    found = profile.find_profile(db, user)
    states, not_placed = outcomes.where_she_stands(db, found.id if found else None, overview.choices)
    return StatusOut(profile_submitted=overview.profile_submitted, offers=_offers_out(db, my_offers(db, user)),
                     not_placed=[NotPlacedOut(scheme_id=n.scheme_id, run_id=n.run_id, decided_on=n.decided_on,
                                              reason=n.reason, step=n.step) for n in not_placed],
                     choices=states)


def _one_offer(db: Session, user: User, placement_id: int) -> OfferOut:
    own = [row for row in my_offers(db, user) if row[0].id == placement_id]
    if not own:
        raise NotFound(_("We could not find that offer."))
    return _offers_out(db, own)[0]


@router.post("/me/offers/{placement_id}/accept", response_model=OfferOut, responses=error_responses(404, 409))
def accept_offer(placement_id: Id, db: DbSession, user: Applicant):
    """Idempotent: accepting an accepted offer again returns it unchanged."""
    offers.accept_offer(db, user, placement_id)
    return _one_offer(db, user, placement_id)


@router.post("/me/offers/{placement_id}/decline", response_model=OfferOut, responses=error_responses(404, 409))
def decline_offer(placement_id: Id, db: DbSession, user: Applicant):
    offers.decline_offer(db, user, placement_id)
    return _one_offer(db, user, placement_id)
