"""Match rounds: an officer queues a round, the worker (`backend.placements.worker`) runs it.

Starting a round only queues it (who asked, mode, refill, seed), so the request answers at once at any
scale. The worker freezes everything the matcher will be given as the first stage of the job ("freezing
the inputs", `freeze_inputs`) and stores it with the round (`MatchRun.input_snapshot` +
`MatchRun.parameters`, with `inputs_read_at`: the inputs are those at that moment), so a round gives the
same proposals whenever and wherever it runs after that: after a worker restart, on a re-run, or in an
audit years later.

What stays fixed in a round:
- placements an applicant has accepted (they hold a place, a subsidy and a slot in the region's cap),
- in a refill round also offers still awaiting an answer (that applicant is not waiting any more),
- the officers' pins; excluded pairs are never proposed.
Fixed placements go to the matcher as `pinned` pairs, so they count against places, budget and caps
exactly as a proposal would.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import defer
from sqlmodel import Session, col, func, select

import matching
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.audit import service as audit
from backend.core import clock
from backend.core.errors import Conflict, InvalidTransition
from backend.core.i18n import gettext as _
from backend.identity.models import User
from backend.identity.permissions import Permission, require
from backend.market import inputs as round_inputs
from backend.placements import round_status
from backend.placements.models import (
    AdjustmentKind,
    MatchAdjustment,
    MatchRun,
    MatchRunStatus,
    Placement,
    PlacementStatus,
)
from backend.projects.models import Project
from backend.schemes import lottery, timetable
from backend.schemes.facts import lock_scheme
from backend.schemes.models import Scheme
from matching.rules import check_all

Mode = Literal["optimal", "stable"]
MODES: tuple[str, ...] = ("optimal", "stable")
DEFAULT_SEED = 2025  # the matcher's published default; stated in every round's parameters
ACTIVE_RUN_STATUSES = (MatchRunStatus.QUEUED, MatchRunStatus.RUNNING)
# Choices that no longer express a wish; they are not offered back to the matcher for a fixed pair.
_GONE_CHOICE_STATUSES = (ChoiceStatus.WITHDRAWN,)
# An offer answered no, or left to lapse, settles the pair for good: no later round proposes it again,
# whether from her ranked choices or as a suggestion to an applicant open to other projects.
SETTLED_CHOICE_STATUSES = (ChoiceStatus.DECLINED, ChoiceStatus.NOT_PLACED)
SETTLED_PLACEMENT_STATUSES = (PlacementStatus.DECLINED, PlacementStatus.EXPIRED)


def settled_pairs(session: Session, scheme_id: int) -> set[tuple[int, int]]:
    """(applicant id, project id) pairs whose offer was declined or expired: never to be offered again."""
    pairs = set(session.exec(select(Placement.applicant_id, Placement.project_id).where(
        Placement.scheme_id == scheme_id, col(Placement.status).in_(SETTLED_PLACEMENT_STATUSES))).all())
    pairs |= set(session.exec(select(Choice.applicant_id, Choice.project_id).where(
        Choice.scheme_id == scheme_id, col(Choice.status).in_(SETTLED_CHOICE_STATUSES))).all())
    return {(int(a), int(p)) for a, p in pairs}


def active_adjustments(session: Session, scheme_id: int) -> list[MatchAdjustment]:
    return list(session.exec(
        select(MatchAdjustment).where(MatchAdjustment.scheme_id == scheme_id,
                                      col(MatchAdjustment.removed_at).is_(None))
        .order_by(MatchAdjustment.id)
    ))


def held_placements(session: Session, scheme_id: int, *, refill: bool) -> list[Placement]:
    """Placements a round must leave where they are: accepted ones, and in a refill open offers too."""
    statuses = [PlacementStatus.ACCEPTED] + ([PlacementStatus.OFFERED] if refill else [])
    return list(session.exec(
        select(Placement).where(Placement.scheme_id == scheme_id, col(Placement.status).in_(statuses))
        .order_by(Placement.applicant_id, Placement.id)
    ))


def _ensure_fixed_applicants(session: Session, scheme_id: int, loaded: round_inputs.RoundInputs,
                             fixed: dict[str, str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Make every fixed applicant part of the inputs with the fixed project among her choices.

    An applicant who accepted an offer no longer has an *active* choice, so `load_round_inputs` leaves
    her out; the matcher still needs her to account for her place. Returns fixed applicants that
    cannot be matched at all (profile lacks facts the rules need), and the fixed pairs on a project she
    never chose (an officer's placement: the matcher sees it as her last choice, but it is none of hers).
    """
    present = {a.id: a for a in loaded.applicants}
    profile_ids = sorted({int(aid) for aid, pid in fixed.items()
                          if aid not in present or pid not in present[aid].choices})
    if not profile_ids:
        return [], []
    profiles = {p.id: p for p in session.exec(
        select(ApplicantProfile).where(col(ApplicantProfile.id).in_(profile_ids)))}
    choices: dict[int, list[int]] = defaultdict(list)
    for choice in session.exec(
        select(Choice).where(col(Choice.applicant_id).in_(profile_ids), Choice.scheme_id == scheme_id,
                             col(Choice.status).not_in(_GONE_CHOICE_STATUSES))
        .order_by(Choice.applicant_id, Choice.rank, Choice.id)
    ):
        choices[choice.applicant_id].append(choice.project_id)
    unmatchable, unchosen = [], []
    for profile_id in profile_ids:
        aid = round_inputs.applicant_key(profile_id)
        project_ids = choices[profile_id]
        fixed_project = int(fixed[aid])
        if fixed_project not in project_ids:
            project_ids.append(fixed_project)
            unchosen.append((aid, fixed[aid]))
        profile = profiles.get(profile_id)
        applicant = round_inputs.to_matching_applicant(profile, project_ids) if profile else None
        if applicant is None:
            unmatchable.append(aid)
            continue
        present[aid] = applicant
    loaded.applicants = sorted(present.values(), key=lambda a: int(a.id))
    return unmatchable, unchosen


def own_ranks(session: Session, scheme_id: int, loaded: round_inputs.RoundInputs) -> dict[str, dict[str, int]]:
    """Her own rank of each project the matcher is given, where it differs from its place in the matcher's
    list: a declined, lapsed or closed choice ahead of it keeps its rank on her list, but the matcher sees
    only the choices still open. Rounds report her own rank (`worker`), never the place left.

    The matcher's list is her open choices by rank (`load_round_inputs`), so the database numbers them itself
    and sends only the ranks that differ: a national round has several hundred thousand choices, and almost
    every rank equals its place. (Someone whose list `_ensure_fixed_applicants` made is held, or pinned to a
    project that is not among her open choices: the round proposes nothing else to her, so no other rank of
    hers is read.)
    """
    place = func.row_number().over(partition_by=Choice.applicant_id, order_by=(Choice.rank, Choice.id))
    numbered = (select(Choice.applicant_id, Choice.project_id, Choice.rank, place.label("place"))
                .where(Choice.scheme_id == scheme_id, col(Choice.status).in_(round_inputs.ACTIVE_CHOICE_STATUSES))
                .subquery())
    present = {a.id for a in loaded.applicants}
    differing: dict[str, dict[str, int]] = {}
    for applicant_id, project_id, rank in session.execute(
            select(numbered.c.applicant_id, numbered.c.project_id, numbered.c.rank)
            .where(numbered.c.rank != numbered.c.place).order_by(numbered.c.applicant_id, numbered.c.place)):
        aid = round_inputs.applicant_key(applicant_id)
        if aid in present:
            differing.setdefault(aid, {})[round_inputs.project_key(project_id)] = int(rank)
    return differing


def _rule_failures(loaded: round_inputs.RoundInputs, pairs: list[tuple[str, str]]) -> list[str]:
    projects = {p.id: p for p in loaded.projects}
    applicants = {a.id: a for a in loaded.applicants}
    failures = []
    for aid, pid in pairs:
        project, applicant = projects.get(pid), applicants.get(aid)
        if project is None or applicant is None:
            failures.append(f"{aid}→{pid}")
            continue
        failed = [c.rule for c in check_all(applicant, project) if not c.passed]
        if failed:
            failures.append(f"{aid}→{pid} ({', '.join(failed)})")
    return failures


def _set_aside_capacity(session: Session, loaded: round_inputs.RoundInputs, placements: list[Placement]) -> None:
    by_id = {p.id: i for i, p in enumerate(loaded.projects)}
    budget, caps = loaded.scheme.budget_hkd, dict(loaded.scheme.region_caps)
    for placement in placements:
        budget -= placement.subsidy_hkd
        region = session.get(Project, placement.project_id).region
        if region in caps:
            caps[region] = max(0, caps[region] - 1)
        index = by_id.get(round_inputs.project_key(placement.project_id))
        if index is not None:
            project = loaded.projects[index]
            loaded.projects[index] = replace(project, places=max(0, project.places - 1))
    loaded.scheme = with_limits(loaded.scheme, budget_hkd=max(0, budget), region_caps=caps)


def prepare_round(session: Session, scheme: Scheme, *, refill: bool) -> tuple[round_inputs.RoundInputs, dict]:
    """The matcher's inputs and the parameters describing what is fixed, read in one consistent pass."""
    loaded = round_inputs.load_round_inputs(session, scheme)
    held = held_placements(session, scheme.id, refill=refill)
    adjustments = active_adjustments(session, scheme.id)
    held_keys = {round_inputs.applicant_key(p.applicant_id) for p in held}
    pins = [(round_inputs.applicant_key(a.applicant_id), round_inputs.project_key(a.project_id))
            for a in adjustments if a.kind == AdjustmentKind.PIN]
    # Someone who already holds a place keeps it; an officer's pin cannot move her.
    pins = [(aid, pid) for aid, pid in pins if aid not in held_keys]
    excludes = [(round_inputs.applicant_key(a.applicant_id), round_inputs.project_key(a.project_id))
                for a in adjustments if a.kind == AdjustmentKind.EXCLUDE]
    settled = sorted((round_inputs.applicant_key(a), round_inputs.project_key(p))
                     for a, p in settled_pairs(session, scheme.id))
    excludes += [pair for pair in settled if pair not in set(excludes)]
    # A pin cannot bring back a pair she declined or let lapse.
    pins = [pair for pair in pins if pair not in set(settled)]
    held_pairs = [(round_inputs.applicant_key(p.applicant_id), round_inputs.project_key(p.project_id))
                  for p in held]

    # In a refill nobody holding an offer or a place is matched again: they are all in `held`, and
    # pinned pairs are never re-matched, so only people still waiting compete for the freed places.
    fixed = dict(held_pairs) | dict(pins)
    unmatchable, unchosen = _ensure_fixed_applicants(session, scheme.id, loaded, fixed)
    unmatchable = set(unmatchable)
    broken_pins = [pair for pair in pins if pair[0] in unmatchable or _rule_failures(loaded, [pair])]
    if broken_pins:
        raise Conflict(_("These pins no longer meet the rules, so the round cannot keep them: %(pairs)s. "
                         "Remove the pins first.", pairs="; ".join(_rule_failures(loaded, broken_pins))))
    # A held placement the rules no longer allow (a profile edited after accepting, say) still holds
    # its place, money and cap slot: take them out of what the round may give instead of pinning it.
    outside = [p for p, pair in zip(held, held_pairs, strict=True)
               if pair[0] in unmatchable or _rule_failures(loaded, [pair])]
    if outside:
        _set_aside_capacity(session, loaded, outside)
        gone = {round_inputs.applicant_key(p.applicant_id) for p in outside}
        loaded.applicants = [a for a in loaded.applicants if a.id not in gone]
        held_pairs = [pair for pair in held_pairs if pair[0] not in gone]
    parameters = {
        "pinned": [list(pair) for pair in held_pairs + pins],
        "pins": [list(pair) for pair in pins],
        "held": [{"applicant_id": p.applicant_id, "project_id": p.project_id, "placement_id": p.id,
                  "status": str(p.status), "pinned": p not in outside} for p in held],
        "excluded": [list(pair) for pair in excludes],
        # Fixed pairs on a project the applicant never chose: labelled the officer's, not a ranked choice.
        "unchosen": [list(pair) for pair in unchosen],
        # Applicant → project → her own rank, where the matcher's list (open choices only) numbers it otherwise.
        "choice_ranks": own_ranks(session, scheme.id, loaded),
        # Applicant → the officer's reason for her pin: an officer's placement is shown with it.
        "pin_reasons": {round_inputs.applicant_key(a.applicant_id): a.reason for a in adjustments
                        if a.kind == AdjustmentKind.PIN and (round_inputs.applicant_key(a.applicant_id),
                                                             round_inputs.project_key(a.project_id)) in set(pins)},
    }
    return loaded, parameters


def _refuse_if_busy(session: Session, scheme_id: int) -> None:
    # The scheme lock turns "none waiting or running, so queue one" into one step: a parallel start
    # waits here until this transaction commits its round, then sees it and is refused.
    lock_scheme(session, scheme_id)
    busy = session.exec(select(MatchRun.id).where(MatchRun.scheme_id == scheme_id,
                                                  col(MatchRun.status).in_(ACTIVE_RUN_STATUSES))).first()
    if busy is not None:
        raise InvalidTransition(_("A round for this scheme is already waiting or running."))


def start_round(session: Session, actor: User, scheme: Scheme, *, mode: Mode = "optimal", refill: bool = False,
                previous_run: MatchRun | None = None, seed: int | None = None) -> MatchRun:
    """Queue a match round for the worker; the worker reads and freezes its inputs when it starts it.

    Ties are broken with the scheme's lottery seed (`schemes.lottery`) unless another `seed` is asked for, which
    makes the round a what-if."""
    require(actor, Permission.MATCH_RUN)
    if mode not in MODES:
        raise Conflict(_("Choose how to match: optimal or stable."), field="mode")
    if previous_run is not None and previous_run.scheme_id != scheme.id:
        raise Conflict(_("The earlier round belongs to another scheme."), field="previous_run")
    _refuse_if_busy(session, scheme.id)
    seed, seed_what_if = lottery.seed_for_round(scheme, seed, DEFAULT_SEED)
    # The scheme's match policy as it is when the round starts: a later change to the scheme leaves it alone.
    policy = round_inputs.policy_of(scheme).as_dict()
    run = MatchRun(
        scheme_id=scheme.id, mode=mode, is_refill=refill,
        previous_run_id=previous_run.id if previous_run is not None else None,
        parameters={"mode": mode, "seed": seed, "refill": refill, "policy": policy,
                    **({"seed_what_if": True} if seed_what_if else {})},
        input_snapshot=None, started_by_id=actor.id, stage="queued",
        created_at=clock.now(),  # the timetable's clock: whether it ran before the ranking deadline
    )
    session.add(run)
    session.flush()
    audit.record(session, actor, "match.round_started", "match_run", run.id,
                 after={"scheme_id": scheme.id, "mode": mode, "refill": refill, "policy": policy,
                        # the lottery seed stays out of the log until it is revealed
                        "seed": "lottery" if seed == scheme.lottery_seed and not seed_what_if else seed})
    return run


def policy_of_round(run: MatchRun) -> matching.Policy:
    """The match policy the round was started with (rounds started before policies: the defaults they used)."""
    return matching.Policy.from_dict((run.parameters or {}).get("policy"))


def is_frozen(run: MatchRun) -> bool:
    """Whether the round's inputs have been read and stored (a re-run's are its original's)."""
    return run.input_snapshot is not None


def read_inputs(session: Session, run: MatchRun) -> tuple[round_inputs.RoundInputs, dict]:
    """The round's inputs and its parameters, read now in one consistent pass (read-only)."""
    scheme = session.get(Scheme, run.scheme_id)
    read_at = clock.now()
    loaded, fixed = prepare_round(session, scheme, refill=run.is_refill)
    return loaded, {**(run.parameters or {}), **fixed, "inputs_read_at": read_at.isoformat()}


def freeze_inputs(session: Session, run: MatchRun) -> tuple[dict, dict]:
    """The worker's first stage: the round's snapshot and its parameters, read now in one consistent pass.

    Read-only; the caller stores both with the round (only while it still owns it).
    """
    loaded, parameters = read_inputs(session, run)
    return round_inputs.snapshot(loaded), parameters


def rerun_round(session: Session, actor: User, run: MatchRun) -> MatchRun:
    """A new round on exactly the inputs of an earlier one (same snapshot, pins, exclusions and seed)."""
    require(actor, Permission.MATCH_RUN)
    if run.input_snapshot is None:
        raise InvalidTransition(_("This round has no stored inputs to run again."))
    _refuse_if_busy(session, run.scheme_id)
    again = MatchRun(scheme_id=run.scheme_id, mode=run.mode, is_refill=run.is_refill, previous_run_id=run.id,
                     parameters={**run.parameters, "rerun_of": run.id}, input_snapshot=run.input_snapshot,
                     started_by_id=actor.id, stage="queued", created_at=clock.now())
    session.add(again)
    session.flush()
    audit.record(session, actor, "match.round_rerun", "match_run", again.id, after={"rerun_of": run.id})
    return again


def cancel_round(session: Session, actor: User, run: MatchRun) -> MatchRun:
    """Withdraw a round that no worker has picked up yet."""
    require(actor, Permission.MATCH_RUN)
    return round_status.cancel(session, actor, run)


def round_inputs_of(run: MatchRun, fresh: round_inputs.RoundInputs | None = None
                    ) -> tuple[round_inputs.RoundInputs, list[tuple[str, str]], list[tuple[str, str]]]:
    """The matcher's inputs as frozen at start: (inputs, pinned pairs, excluded pairs). `fresh` is what the
    snapshot was just made from, when the caller has it (the same inputs, without decoding them again)."""
    loaded = fresh if fresh is not None else round_inputs.from_snapshot(run.input_snapshot)
    pinned = [tuple(pair) for pair in run.parameters.get("pinned", [])]
    excluded = [tuple(pair) for pair in run.parameters.get("excluded", [])]
    return loaded, pinned, excluded


def with_limits(scheme: matching.Scheme, *, budget_hkd: int | None = None,
                region_caps: dict[str, int] | None = None) -> matching.Scheme:
    """The same scheme with a different budget or caps (for what-if questions)."""
    return replace(scheme, budget_hkd=scheme.budget_hkd if budget_hkd is None else budget_hkd,
                   region_caps=dict(scheme.region_caps) if region_caps is None else region_caps)


def inputs_read_at(run: MatchRun) -> datetime:
    """When the round's inputs (choices, rankings) were read: a re-run keeps its original's moment.

    A round still waiting for the worker has not read them yet: until then, the moment it was started."""
    stamp = (run.parameters or {}).get("inputs_read_at")
    return datetime.fromisoformat(stamp) if stamp else run.created_at


def is_what_if(session: Session, run: MatchRun) -> bool:
    """Not to be approved: a main round whose inputs were read on or before the scheme's ranking deadline, or any
    round that broke ties with a seed other than the scheme's published lottery seed."""
    if (run.parameters or {}).get("seed_what_if"):
        return True
    return not run.is_refill and timetable.is_what_if(session.get(Scheme, run.scheme_id), inputs_read_at(run))


def latest_round(session: Session, scheme_id: int) -> MatchRun | None:
    return session.exec(select(MatchRun).where(MatchRun.scheme_id == scheme_id)
                        .order_by(col(MatchRun.created_at).desc(), col(MatchRun.id).desc())
                        .options(defer(MatchRun.input_snapshot))).first()  # read only if used: it can be large
