"""Approving a round's proposals: four-eyes, then every limit re-checked under the scheme lock.

A round was computed from a snapshot; since then offers may have been accepted, declined or approved
by another approver, projects closed and places taken. So nothing from the round is trusted: inside
the approving transaction, after `lock_scheme`, the places, budget, regional caps and "one live
placement per applicant per scheme" are recounted from the placements themselves, and a proposal that
no longer fits stays proposed and is reported with a plain reason. Approvers working at the same
moment queue on the scheme lock, so together they can never overshoot.

Pages and the API queue the approval for the worker (`approval_jobs`), which calls `approve_batch` once per
batch of proposals, each in its own transaction; `approve_proposals` does the same checks for a whole selection
in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.orm import defer, load_only
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from backend.applicants import choice_status
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.audit import service as audit
from backend.core import clock, states
from backend.core.errors import Conflict, InvalidTransition
from backend.core.formatting import end_of_hong_kong_day, long_date, origin_name
from backend.core.i18n import gettext as _
from backend.identity.models import User
from backend.identity.permissions import Permission, SegregationOfDutiesError, require
from backend.market.inputs import MATCHABLE_PROJECT_STATUSES
from backend.placements.models import (
    AdjustmentKind,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    Placement,
    ProposalStatus,
)
from backend.placements.offers import make_offers
from backend.placements.rounds import active_adjustments, is_what_if, settled_pairs
from backend.projects.models import Project
from backend.schemes import timetable
from backend.schemes.facts import HOLDING_STATUSES, SchemeUsage, lock_scheme, region_caps, scheme_usage
from backend.schemes.models import Scheme

DEFAULT_OFFER_DAYS = 7
# A proposal is decided once: approved (it became an offer) or refused.
PROPOSAL_TRANSITIONS: states.Transitions = {
    ProposalStatus.PROPOSED: frozenset({ProposalStatus.APPROVED, ProposalStatus.REFUSED}),
    ProposalStatus.APPROVED: frozenset(),
    ProposalStatus.REFUSED: frozenset(),
}


@dataclass
class SkippedProposal:
    proposal: MatchProposal
    code: str
    reason: str
    params: dict = field(default_factory=dict)


@dataclass
class ApprovalResult:
    placements: list[Placement] = field(default_factory=list)
    skipped: list[SkippedProposal] = field(default_factory=list)
    approved: list[int] = field(default_factory=list)  # the proposals that became offers, in order


class RoundSuperseded(InvalidTransition):
    code = "round_superseded"


class NothingToApprove(InvalidTransition):
    """Approving a whole round whose proposals have all been decided: another approver got there first."""

    code = "nothing_to_approve"


def nothing_to_approve_message(run: MatchRun) -> str:
    return _("Round %(id)s has nothing left to approve: every one of its proposals has already been approved or "
             "refused, perhaps by another approver a moment ago. Nothing was changed.", id=run.id)


# --- which rounds await approval ----------------------------------------------------------------------
# A round's proposals come from the inputs frozen when it started. Once a newer round of the same scheme
# has finished, an older round's undecided proposals are out of date: they no longer await approval and
# cannot be approved or refused (approving them would place people on an outdated snapshot).


@dataclass(frozen=True)
class ApprovalState:
    to_decide: int  # proposals still proposed
    superseded_by: int | None  # the scheme's newest finished round, when newer than this one

    @property
    def awaiting_approval(self) -> bool:
        return self.to_decide > 0 and self.superseded_by is None

    @property
    def shown_as_superseded(self) -> bool:
        """Superseded with proposals left undecided: what would otherwise await approval."""
        return self.to_decide > 0 and self.superseded_by is not None


def newest_finished_rounds(session: Session, scheme_ids) -> dict[int, int]:
    """Scheme id → id of its newest finished (succeeded) round."""
    scheme_ids = sorted(set(scheme_ids))
    if not scheme_ids:
        return {}
    rows = session.exec(select(MatchRun.scheme_id, func.max(MatchRun.id))
                        .where(col(MatchRun.scheme_id).in_(scheme_ids), MatchRun.status == MatchRunStatus.SUCCEEDED)
                        .group_by(MatchRun.scheme_id)).all()
    return {scheme_id: int(run_id) for scheme_id, run_id in rows}


def _superseding(run: MatchRun, newest: dict[int, int]) -> int | None:
    latest = newest.get(run.scheme_id)
    if run.status != MatchRunStatus.SUCCEEDED or latest is None or latest <= run.id:
        return None
    return latest


def superseded_by(session: Session, run: MatchRun) -> int | None:
    """The id of the newer finished round that makes this one out of date, if any."""
    return _superseding(run, newest_finished_rounds(session, [run.scheme_id]))


def approval_states(session: Session, runs) -> dict[int, ApprovalState]:
    runs = list(runs)
    if not runs:
        return {}
    newest = newest_finished_rounds(session, [r.scheme_id for r in runs])
    counts = dict(session.exec(
        select(MatchProposal.run_id, func.count()).where(col(MatchProposal.run_id).in_([r.id for r in runs]),
                                                          MatchProposal.status == ProposalStatus.PROPOSED)
        .group_by(MatchProposal.run_id)).all())
    return {r.id: ApprovalState(int(counts.get(r.id, 0)) if r.status == MatchRunStatus.SUCCEEDED else 0,
                                _superseding(r, newest)) for r in runs}


def rounds_awaiting_approval(session: Session) -> list[tuple[MatchRun, int]]:
    """Finished rounds with proposals to decide, newest first, leaving out rounds a newer round superseded."""
    rows = session.exec(select(MatchRun, func.count(col(MatchProposal.id)))
                        .join(MatchProposal, col(MatchProposal.run_id) == MatchRun.id)
                        .where(MatchRun.status == MatchRunStatus.SUCCEEDED,
                               MatchProposal.status == ProposalStatus.PROPOSED)
                        .group_by(col(MatchRun.id)).order_by(col(MatchRun.id).desc())
                        .options(defer(MatchRun.input_snapshot))).all()
    newest = newest_finished_rounds(session, [run.scheme_id for run, _n in rows])
    return [(run, int(n)) for run, n in rows if _superseding(run, newest) is None]


def superseded_message(run: MatchRun, newer_id: int) -> str:
    return _("Round %(id)s has been superseded by round %(newer)s, which was worked out from newer information, "
             "so its proposals can no longer be approved or refused. Decide the proposals of round %(newer)s "
             "instead.", id=run.id, newer=newer_id)


def refuse_if_superseded(session: Session, run: MatchRun) -> None:
    newer = superseded_by(session, run)
    if newer is not None:
        raise RoundSuperseded(superseded_message(run, newer), superseded_by=newer)


def what_if_message(scheme, run: MatchRun) -> str:
    if (run.parameters or {}).get("seed_what_if"):
        return _("This round broke ties with a seed other than the scheme's published lottery seed. It is a what-if: "
                 "it cannot be approved. Start a round without choosing a seed.")
    return _("This round was worked out on or before the ranking deadline (%(day)s), while organisations could "
             "still change their rankings. It is a what-if: it cannot be approved. Start a new round after the "
             "deadline.", day=long_date(scheme.ranking_deadline))


def _require_approver(actor: User, run: MatchRun) -> None:
    require(actor, Permission.MATCH_APPROVE)
    if run.started_by_id is not None and run.started_by_id == actor.id:
        raise SegregationOfDutiesError(_("You started this round, so a different person must approve it."))
    if run.reviewed_by_id is not None and run.reviewed_by_id == actor.id:
        raise SegregationOfDutiesError(_("You reviewed this round, so a different person must approve it."))
    if run.status != MatchRunStatus.SUCCEEDED:
        raise InvalidTransition(_("Only the proposals of a finished round can be approved or refused."))


class WhatIfRound(InvalidTransition):
    code = "what_if"


def check_can_decide(session: Session, actor: User, run: MatchRun) -> None:
    """Everything that stops `actor` deciding the round's proposals now (raises), except the limits."""
    _require_approver(actor, run)
    refuse_if_superseded(session, run)
    if is_what_if(session, run):
        raise WhatIfRound(what_if_message(session.get(Scheme, run.scheme_id), run))


def _proposals(session: Session, run: MatchRun, proposal_ids) -> list[MatchProposal]:
    # populate_existing: another approver may have decided some of them since this session read them.
    query = (select(MatchProposal).where(MatchProposal.run_id == run.id)
             .execution_options(populate_existing=True))
    if proposal_ids is None:
        query = query.where(MatchProposal.status == ProposalStatus.PROPOSED)
    else:
        query = query.where(col(MatchProposal.id).in_(list(proposal_ids)))
    return list(session.exec(query.order_by(col(MatchProposal.pinned).desc(), col(MatchProposal.score).desc(),
                                            MatchProposal.id)))


def approval_deadline(session: Session, scheme: Scheme, run: MatchRun, offer_days: int, now: datetime) -> datetime:
    """When the offers lapse: the end of the Hong Kong day `offer_days` days on ('by 23:59 on Friday 12 June', not
    a random minute), no later than the scheme's offer deadline. Raises once that has passed. The caller has
    checked the round may be decided (`check_can_decide`)."""
    if offer_days < 1:
        raise Conflict(_("Give applicants at least one day to answer an offer."), field="offer_days")
    return still_offerable(scheme, run, end_of_hong_kong_day(now + timedelta(days=offer_days)), now)


class OfferDeadlinePassed(InvalidTransition):
    code = "offer_deadline_passed"


def still_offerable(scheme: Scheme, run: MatchRun, deadline: datetime, now: datetime) -> datetime:
    """`deadline`, brought forward to the scheme's offer deadline; raises once that has passed."""
    if run.is_refill:
        return deadline
    deadline = timetable.offer_deadline_for(scheme, deadline)
    if deadline <= now:
        raise OfferDeadlinePassed(_("The scheme's offer deadline, %(day)s, has passed, so this round's places "
                                    "can no longer be offered.", day=long_date(scheme.offer_deadline)))
    return deadline


def approve_proposals(session: Session, actor: User, run: MatchRun, proposal_ids=None, *,
                      offer_days: int = DEFAULT_OFFER_DAYS, now: datetime | None = None) -> ApprovalResult:
    """Turn proposals (all still proposed when `proposal_ids` is None) into offers, as far as limits allow.

    The whole approval in the caller's transaction: what the worker's approval job (approval_jobs.py) does
    batch by batch, for callers that want it done at once (tests, a handful of proposals).
    """
    _require_approver(actor, run)  # before taking the scheme's lock, and again after it with the rest
    now = now or clock.now()
    scheme = lock_scheme(session, run.scheme_id)
    # After the lock: a newer round that finished while this approver was reading is seen here.
    check_can_decide(session, actor, run)
    deadline = approval_deadline(session, scheme, run, offer_days, now)
    proposals = _proposals(session, run, proposal_ids)
    if proposal_ids is None and not proposals:
        # Read after the scheme lock: an approver who queued behind another finds the round approved. Saying
        # so (and changing nothing, so recording nothing) beats answering with an empty success.
        raise NothingToApprove(nothing_to_approve_message(run))
    result = approve_batch(session, actor, scheme, proposals, now=now, deadline=deadline)
    record_approval(session, actor, run, result.approved,
                    {str(s.proposal.id): s.code for s in result.skipped}, deadline)
    return result


def record_approval(session: Session, actor: User | None, run: MatchRun, approved: list[int], skipped: dict,
                    deadline: datetime, **more) -> None:
    """The one audit event of an approval, however many batches it took."""
    # Approvers who find nothing left to approve (another got there first) changed nothing to record.
    if approved:
        audit.record(session, actor, "match.proposals_approved", "match_run", run.id,
                     after={"approved": approved, "skipped": skipped, "offer_deadline": deadline.isoformat(), **more})


_PROJECT_COLUMNS = (Project.scheme_id, Project.organisation_id, Project.status, Project.title_en, Project.title_zh,
                    Project.city, Project.region, Project.start_date, Project.end_date, Project.places_granted,
                    Project.subsidy_granted_per_place, Project.origin_seats)


def approve_batch(session: Session, actor: User, scheme: Scheme, proposals: list[MatchProposal], *,
                  now: datetime, deadline: datetime, load_offers: bool = True) -> ApprovalResult:
    """Offers for `proposals` (read after `lock_scheme`, in order), each limit recounted from the placements.

    Pinned proposals go first, then the best-scored, so when limits have tightened since the round the
    officer's pins and the best fits are the ones kept. The caller holds the scheme lock and commits. Without
    `load_offers` the result names the approved proposals but holds no placement rows (the worker needs none).
    """
    usage = scheme_usage(session, scheme.id)
    caps = region_caps(session, scheme.id)
    # Only the batch's projects and choices, and only the columns the checks and the offers' e-mails read: a
    # national batch would otherwise build thousands of full rows it never looks at.
    project_ids = sorted({p.project_id for p in proposals})
    projects = {p.id: p for p in session.exec(
        select(Project).where(Project.scheme_id == scheme.id, col(Project.id).in_(project_ids))
        .options(load_only(*_PROJECT_COLUMNS)).execution_options(populate_existing=True))} if project_ids else {}
    applicant_ids = [p.applicant_id for p in proposals]
    placed = set(session.exec(select(Placement.applicant_id).where(
        Placement.scheme_id == scheme.id, col(Placement.status).in_(HOLDING_STATUSES),
        col(Placement.applicant_id).in_(applicant_ids)))) if applicant_ids else set()
    choices = {(c.applicant_id, c.project_id): c for c in session.exec(
        select(Choice).where(Choice.scheme_id == scheme.id, col(Choice.applicant_id).in_(applicant_ids),
                             col(Choice.project_id).in_(project_ids))
        .options(load_only(Choice.applicant_id, Choice.project_id, Choice.status))
        .execution_options(populate_existing=True)
    )} if applicant_ids else {}
    # Pairs no offer may go to, whatever the round proposed: declined or lapsed before, or excluded since.
    barred = settled_pairs(session, scheme.id) | {
        (a.applicant_id, a.project_id) for a in active_adjustments(session, scheme.id)
        if a.kind == AdjustmentKind.EXCLUDE}

    # Seats per side (a cohort's 10 from Hong Kong and 10 from Guangdong): what is held already, by side.
    origins = dict(session.exec(select(ApplicantProfile.id, ApplicantProfile.origin).where(
        col(ApplicantProfile.id).in_(applicant_ids))).all()) if applicant_ids else {}
    held_by_side: Counter = Counter({(project_id, origin): int(n) for project_id, origin, n in session.exec(
        select(Placement.project_id, ApplicantProfile.origin, func.count())
        .join(ApplicantProfile, col(ApplicantProfile.id) == Placement.applicant_id)
        .where(Placement.scheme_id == scheme.id, col(Placement.status).in_(HOLDING_STATUSES))
        .group_by(Placement.project_id, ApplicantProfile.origin))})

    result = ApprovalResult()
    chosen: list[tuple[MatchProposal, Project, int, Choice | None]] = []
    budget_left = scheme.budget_hkd - usage.subsidy_committed
    for proposal in proposals:
        project = projects.get(proposal.project_id)
        subsidy = (project.subsidy_granted_per_place or 0) if project else 0
        choice = choices.get((proposal.applicant_id, proposal.project_id))
        side = origins.get(proposal.applicant_id, "")
        skip = (_why_not(proposal, project, subsidy, choice, usage, caps, budget_left, placed, barred)
                or _side_full(project, side, held_by_side))
        if skip is not None:
            result.skipped.append(SkippedProposal(proposal, skip[0], skip_reason(*skip), skip[1]))
            continue
        budget_left -= subsidy
        usage.places_by_project[project.id] = usage.places_by_project.get(project.id, 0) + 1
        usage.places_by_region[project.region] = usage.places_by_region.get(project.region, 0) + 1
        placed.add(proposal.applicant_id)
        held_by_side[(project.id, side)] += 1
        chosen.append((proposal, project, subsidy, choice))
    # Decided in memory above, written here a statement per kind of row rather than several per offer.
    if chosen:
        approve_many(session, [proposal for proposal, *_rest in chosen])
        choice_status.offer_many(session, [choice for *_rest, choice in chosen if choice is not None], now=now)
        offers = make_offers(session, actor, [(proposal, project, subsidy)
                                              for proposal, project, subsidy, _c in chosen], now=now, deadline=deadline)
        result.approved = [offer.proposal_id for offer in offers]
        if load_offers:
            result.placements = list(session.exec(select(Placement).where(
                col(Placement.id).in_([offer.id for offer in offers])).order_by(Placement.id)))
    session.flush()
    return result


def skip_reason(code: str, params: dict | None = None) -> str:
    """Why a proposal was not approved, in the reader's language (the job keeps the code and its facts)."""
    params = params or {}
    if code == "already_decided":
        return _("This proposal has already been approved or refused.")
    if code == "project_not_open":
        return _("The project is no longer open for placements.")
    if code == "applicant_withdrew":
        return _("The applicant has withdrawn from this project.")
    if code == "applicant_placed":
        return _("The applicant already holds an offer or a place in this scheme.")
    if code == "pair_barred":
        return _("This applicant declined or let lapse an offer on this project, or an officer "
                 "excluded the pair: it is not offered again.")
    if code == "place_taken":
        return _("Every place on this project is already offered or taken.")
    if code == "budget":
        return _("The scheme's budget cannot cover another HK$%(amount)s: HK$%(left)s is left.",
                 amount=f"{params.get('amount', 0):,}", left=f"{max(params.get('left', 0), 0):,}")
    if code == "region_cap":
        return _("The regional cap of %(cap)s places in %(region)s is reached.",
                 cap=params.get("cap"), region=params.get("region"))
    if code == "origin_seats_full":
        return _("The %(most)s places on this project for youth from %(side)s are already "
                 "offered or taken.", most=params.get("most"), side=origin_name(params.get("side", "")))
    return code


def _why_not(proposal: MatchProposal, project: Project | None, subsidy: int, choice: Choice | None,
             usage: SchemeUsage, caps: dict[str, int], budget_left: int, placed: set[int],
             barred: set[tuple[int, int]] = frozenset()) -> tuple[str, dict] | None:
    if proposal.status != ProposalStatus.PROPOSED:
        return "already_decided", {}
    if project is None or project.status not in MATCHABLE_PROJECT_STATUSES:
        return "project_not_open", {}
    if choice is not None and choice.status == ChoiceStatus.WITHDRAWN:
        return "applicant_withdrew", {}
    if choice is not None and choice.status == ChoiceStatus.CLOSED:
        return "applicant_placed", {}
    if (proposal.applicant_id, proposal.project_id) in barred:
        return "pair_barred", {}
    if proposal.applicant_id in placed:
        return "applicant_placed", {}
    if usage.places_by_project.get(project.id, 0) >= (project.places_granted or 0):
        return "place_taken", {}
    if subsidy > budget_left:
        return "budget", {"amount": subsidy, "left": budget_left}
    cap = caps.get(project.region)
    if cap is not None and usage.places_by_region.get(project.region, 0) >= cap:
        return "region_cap", {"cap": cap, "region": project.region}
    return None


def _side_full(project: Project, side: str, held_by_side: Counter) -> tuple[str, dict] | None:
    """The most seats the project keeps for the applicant's side (Hong Kong or Guangdong), if it sets one."""
    if not project.origin_seats or side not in project.origin_seats:
        return None
    most = project.origin_seats[side][1]
    if held_by_side[(project.id, side)] >= most:
        return "origin_seats_full", {"most": most, "side": side}
    return None


def _decide(session: Session, proposal: MatchProposal, to: ProposalStatus) -> None:
    """Proposed → approved | refused, as one conditional UPDATE: a proposal is decided exactly once."""
    message = _("This proposal has already been approved or refused.")
    states.check(PROPOSAL_TRANSITIONS, proposal.status, to, message)
    if not states.move_if(session, MatchProposal, proposal.id, PROPOSAL_TRANSITIONS, to):
        raise InvalidTransition(message)
    set_committed_value(proposal, "status", to)


def approve_proposal(session: Session, proposal: MatchProposal) -> None:
    _decide(session, proposal, ProposalStatus.APPROVED)


def refuse_proposal(session: Session, proposal: MatchProposal) -> None:
    _decide(session, proposal, ProposalStatus.REFUSED)


def approve_many(session: Session, proposals: list[MatchProposal]) -> None:
    """`approve_proposal` for a batch, as one conditional UPDATE: if any was decided meanwhile, none moves."""
    message = _("This proposal has already been approved or refused.")
    for proposal in proposals:
        states.check(PROPOSAL_TRANSITIONS, proposal.status, ProposalStatus.APPROVED, message)
    moved = session.execute(
        update(MatchProposal).where(col(MatchProposal.id).in_([p.id for p in proposals]),
                                    col(MatchProposal.status).in_(
                                        sorted(states.sources(PROPOSAL_TRANSITIONS, ProposalStatus.APPROVED))))
        .values(status=ProposalStatus.APPROVED).execution_options(synchronize_session=False)).rowcount
    if moved != len(proposals):
        raise InvalidTransition(message)
    for proposal in proposals:
        set_committed_value(proposal, "status", ProposalStatus.APPROVED)


def refuse_proposals(session: Session, actor: User, run: MatchRun, proposal_ids, *, reason: str
                     ) -> list[MatchProposal]:
    """Refuse selected proposals. The reason goes to the audit log: MatchProposal has no column for it."""
    _require_approver(actor, run)
    if not reason.strip():
        raise Conflict(_("Give the reason for refusing these proposals."), field="reason")
    lock_scheme(session, run.scheme_id)
    refuse_if_superseded(session, run)
    proposals = _proposals(session, run, proposal_ids)
    decided = [p.id for p in proposals if p.status != ProposalStatus.PROPOSED]
    if decided:
        raise InvalidTransition(_("Only proposals not yet decided can be refused: %(ids)s.",
                                  ids=", ".join(map(str, decided))))
    for proposal in proposals:
        refuse_proposal(session, proposal)
    session.flush()
    if proposals:
        audit.record(session, actor, "match.proposals_refused", "match_run", run.id,
                     after={"refused": [p.id for p in proposals], "reason": reason.strip()})
    return proposals
