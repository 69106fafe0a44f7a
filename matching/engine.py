"""``match()``: prepare eligible arcs, solve (optimal or stable), explain the result."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from . import explain, optimal, stable, verification
from .collector import collector_paused
from .model import ORIGINS, Applicant, MatchError, MatchResult, Policy, Project, Scheme
from .rules import RuleArrays, check_all, describe
from .scoring import scores
from .sortkeys import by_group_then_best, descending_key, in_order
from .text import TextModel

# Objective units. One placement is worth far more than any quality difference, so
# the optimum places as many applicants as it can (up to long displacement chains),
# then prefers first-timers, higher-ranked choices and better text fit, as weighed by the
# round's `Policy` (first-timer priority in these units, a score point is 10).
PLACEMENT_VALUE = 10_000
DEFAULT_TOP_K = 15
# Suggestions for open applicants are worked out on this many threads at most (one per core below it).
SUGGESTION_THREADS = 2
DEFAULT_SEED = 2025
MAX_WARNINGS = 50


@dataclass
class Problem:
    """Everything the solvers need, as arrays over projects, applicants and arcs."""

    projects: list[Project]
    applicants: list[Applicant]
    scheme: Scheme
    rules: RuleArrays
    text: TextModel
    arc_app: np.ndarray
    arc_proj: np.ndarray
    arc_rank: np.ndarray  # choice rank, 0 when suggested via open_to_other
    arc_fit: np.ndarray
    arc_score: np.ndarray
    arc_value: np.ndarray
    pinned: dict[int, int]  # applicant index -> project index
    places_left: np.ndarray
    subsidy: np.ndarray
    proj_region: np.ndarray
    region_names: list[str]
    region_cap_left: np.ndarray  # -1 = uncapped
    budget_left: int
    excluded: set[tuple[int, int]]
    warnings: list[str]
    policy: Policy
    tie_break: np.ndarray  # one seeded random number per applicant (stable mode)
    # Seats per origin: one group per (project, origin) with a limit, each arc in its group or -1.
    arc_group: np.ndarray
    group_proj: np.ndarray
    group_origin: list[str]
    group_most: np.ndarray  # seats the group may still hold, the other origins' reserved seats kept free
    group_fewest: np.ndarray  # seats still reserved for the group
    group_own_most: np.ndarray  # seats the group may hold once others' empty reserved seats are released


def origin_groups(projects: Sequence[Project], pinned_origins: Mapping[int, list[str]],
                  places_left: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str, int, int, int]]]:
    """The (project, origin) pairs whose seats are limited or reserved: a lookup table
    [project, origin index] -> group (or -1), and per group (project, origin, most left, fewest left,
    own most left). "Most" leaves the other origins' reserved seats free; "own most" is the origin's own
    limit alone (what it may hold when reserved seats left empty are released). Pinned placements already
    hold seats of their origin."""
    lookup = np.full((len(projects), len(ORIGINS) + 1), -1, np.int64)
    groups: list[tuple[int, str, int, int]] = []
    for j, p in enumerate(projects):
        if not p.origin_seats:
            continue
        held = Counter(pinned_origins.get(j, ()))
        for k, origin in enumerate(ORIGINS):
            if origin not in p.origins:
                continue
            most = p.most_seats(origin) - held[origin]
            lo, hi = p.origin_seats.get(origin, (0, p.places))
            fewest, own_most = max(0, lo - held[origin]), max(0, min(hi, p.places) - held[origin])
            if most < places_left[j] or fewest > 0:
                lookup[j, k] = len(groups)
                groups.append((j, origin, max(0, most), fewest, own_most))
    return lookup, groups


def _best_columns(values: np.ndarray, n: int) -> np.ndarray:
    """Per row of float32 `values`, the columns of its `n` largest values, ties to the lower column: the set a
    stable descending sort puts first, in no particular order.

    One partial sort on a key unique in its row (value, then column) rather than a stable sort of the whole
    row: the rows redone against every project need only their best few of 2,000.
    """
    key = (descending_key(values) << np.uint64(32)) | np.arange(values.shape[1], dtype=np.uint64)
    if n >= values.shape[1]:
        return np.argsort(key, axis=1)
    return np.argpartition(key, n - 1, axis=1)[:, :n]


def _top_k_open(rules: RuleArrays, text: TextModel, rows: np.ndarray, k: int,
                blocked: set[tuple[int, int]], chunk: int = 512, threads: int | None = None):
    """For open_to_other applicants: their k best-fitting eligible projects (not chosen), as (applicant, project,
    fit) arrays; each fit is the pair's `TextModel.pair_fit`, to the last bit.

    Fast path: take the 4k best-fitting projects in acceptable regions and check
    the other rules only on those pairs; rows left with fewer than k eligible
    candidates are redone against every project.

    Blocks of `chunk` applicants are independent (512: a block's temporaries, a few megabytes, are reused from the
    heap; at 2,048 the partial sort's 32 MB index array was fresh memory from the kernel every time, which on
    these machines cost more than the arithmetic), and their heavy steps (the sparse fit product, the partial
    sort) release the GIL, so `threads` blocks run at once (default: one per core, at most SUGGESTION_THREADS);
    the answer does not depend on how many.
    """
    n_proj = len(rules.project_ids)
    k = min(k, n_proj)
    rows = np.asarray(rows, np.int64)
    if k <= 0 or len(rows) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    n_cand = min(n_proj, 4 * k)
    # Chosen projects are arcs already; excluded ones are never proposed. Sorted by applicant so that each
    # block finds its own with a binary search (rows are ascending).
    skip_app = np.concatenate([rules.choice_app, np.array([a for a, _ in blocked], np.int64)])
    skip_proj = np.concatenate([rules.choice_proj, np.array([p for _, p in blocked], np.int64)])
    by_app = np.argsort(skip_app, kind="stable")
    skip_app, skip_proj = skip_app[by_app], skip_proj[by_app]
    if np.any(rows[1:] < rows[:-1]):
        raise ValueError("rows must be ascending")
    profiles = text.A[rows]  # one row gather, then cheap contiguous slices
    text.scores_of(profiles[:0])  # the transposed project matrix, built once before the threads share it

    def block_top(s: int) -> tuple[np.ndarray, np.ndarray]:
        block = rows[s:s + chunk]
        # The fit negated (in place, not into a fresh array) for the partial sort, which puts the lowest first.
        worse = text.scores_of(profiles[s:s + chunk]).astype(np.float32, copy=False)
        np.negative(worse, out=worse)
        lo, hi = np.searchsorted(skip_app, [block[0], block[-1] + 1])
        at = np.searchsorted(block, skip_app[lo:hi])
        mine = block[np.minimum(at, len(block) - 1)] == skip_app[lo:hi]
        skip = np.zeros((len(block), n_proj), bool)
        skip[at[mine], skip_proj[lo:hi][mine]] = True
        # Taken row-major: indexing the columns (`[:, p_region]`) gives a column-major mask, which the
        # row-major fit then reads across the cache (four times slower at national scale).
        worse = np.where(np.take(rules.a_region_ok[block], rules.p_region, axis=1), worse, np.float32(1.0))
        cand = np.argpartition(worse, n_cand - 1, axis=1)[:, :n_cand] if n_cand < n_proj else \
            np.tile(np.arange(n_proj), (len(block), 1))
        cand_fit = -np.take_along_axis(worse, cand, axis=1)
        ok = rules.pairs(np.repeat(block, n_cand), cand.ravel()).reshape(cand.shape)
        ok &= (cand_fit >= 0) & ~np.take_along_axis(skip, cand, axis=1)
        # Counted after her own choices are taken out, so that someone whose choices are among her best
        # fits still gets k suggestions where k are eligible.
        redo = np.flatnonzero(ok.sum(axis=1) < k) if n_cand < n_proj else np.zeros(0, np.int64)
        if len(redo):
            full = rules.matrix(block[redo], ignore_choices=True) & ~skip[redo]
            full_fit = np.where(full, -worse[redo], np.float32(-1.0))
            cand[redo] = _best_columns(full_fit, n_cand)
            cand_fit[redo] = np.take_along_axis(full_fit, cand[redo], axis=1)
            ok[redo] = cand_fit[redo] >= 0
        # Best k by fit, ties by project index: sort on (-fit, project) per row.
        masked = np.where(ok, cand_fit, np.float32(-2.0))
        # One integer key per candidate: fit best first, then the project.
        order = np.argsort((descending_key(masked) << np.uint64(32)) | cand.astype(np.uint64), axis=1)[:, :k]
        top = np.take_along_axis(cand, order, axis=1)
        top_fit = np.take_along_axis(masked, order, axis=1)
        keep = top_fit >= 0
        return np.broadcast_to(block[:, None], top.shape)[keep], top[keep], top_fit[keep]

    starts = range(0, len(rows), chunk)
    threads = min(threads or min(SUGGESTION_THREADS, os.cpu_count() or 1), len(starts))
    if threads > 1:
        with ThreadPoolExecutor(threads, thread_name_prefix="suggestions") as pool:
            found = list(pool.map(block_top, starts))  # in block order, whatever order they finish in
    else:
        found = [block_top(s) for s in starts]
    return (np.concatenate([a for a, _, _ in found]).astype(np.int64),
            np.concatenate([p for _, p, _ in found]).astype(np.int64),
            np.concatenate([f for _, _, f in found]).astype(np.float64))


def prepare(projects: Sequence[Project], applicants: Sequence[Applicant], scheme: Scheme, *,
            pinned: Iterable[tuple[str, str]] = (), excluded: Iterable[tuple[str, str]] = (),
            top_k: int = DEFAULT_TOP_K, seed: int = DEFAULT_SEED,
            stage: Callable[[str], None] = lambda s: None, policy: Policy | None = None) -> Problem:
    policy = policy if policy is not None else Policy()
    projects, applicants = list(projects), list(applicants)
    pindex = {p.id: j for j, p in enumerate(projects)}
    aindex = {a.id: i for i, a in enumerate(applicants)}
    if len(pindex) != len(projects):
        raise MatchError("project ids must be unique")
    if len(aindex) != len(applicants):
        raise MatchError("applicant ids must be unique")
    warnings: list[str] = []
    rules = RuleArrays(projects, applicants)
    for a in applicants:
        unknown = [c for c in a.choices if c not in pindex]
        if unknown and len(warnings) < MAX_WARNINGS:
            warnings.append(f"applicant {a.id}: unknown choices {', '.join(unknown)} ignored")

    excluded_idx: set[tuple[int, int]] = set()
    for aid, pid in excluded:
        if aid in aindex and pid in pindex:
            excluded_idx.add((aindex[aid], pindex[pid]))
        else:
            warnings.append(f"excluded pair ({aid}, {pid}) names an unknown applicant or project")
    pins: dict[int, int] = {}
    for aid, pid in pinned:
        if aid not in aindex or pid not in pindex:
            raise MatchError(f"pinned pair ({aid}, {pid}) names an unknown applicant or project")
        i, j = aindex[aid], pindex[pid]
        if i in pins and pins[i] != j:
            raise MatchError(f"applicant {aid} is pinned to two projects")
        failed = [c for c in check_all(applicants[i], projects[j]) if not c.passed]
        if failed:
            why = "; ".join(f"{c.rule}: {describe(c)}" for c in failed)
            raise MatchError(f"pinned pair ({aid}, {pid}) breaks hard rules: {why}")
        pins[i] = j

    region_names = sorted({p.region for p in projects} | set(scheme.region_caps))
    rix = {r: k for k, r in enumerate(region_names)}
    proj_region = np.array([rix[p.region] for p in projects], np.int64)
    places_left = np.array([max(0, p.places) for p in projects], np.int64)
    subsidy = np.array([p.subsidy_per_place for p in projects], np.int64)
    region_cap_left = np.array([scheme.region_caps.get(r, -1) for r in region_names], np.int64)
    budget_left = int(scheme.budget_hkd)
    for j in pins.values():
        places_left[j] -= 1
        budget_left -= int(subsidy[j])
        if region_cap_left[proj_region[j]] >= 0:
            region_cap_left[proj_region[j]] -= 1
    if (places_left < 0).any():
        bad = projects[int(np.flatnonzero(places_left < 0)[0])].id
        raise MatchError(f"more applicants pinned to project {bad} than it has places")
    if budget_left < 0:
        raise MatchError("pinned placements alone exceed the budget")
    if (region_cap_left[region_cap_left != -1] < 0).any():
        raise MatchError("pinned placements alone exceed a regional cap")

    stage("text")
    text = TextModel.fit(projects, applicants)

    stage("rules")
    ca, cp, cr = rules.choice_app, rules.choice_proj, rules.choice_rank
    keep = rules.pairs(ca, cp)
    if pins:
        keep &= ~np.isin(ca, np.fromiter(pins, np.int64))
    if excluded_idx:
        keep &= np.array([(a, p) not in excluded_idx for a, p in zip(ca.tolist(), cp.tolist(),
                                                                    strict=True)], bool)
    ca, cp, cr = ca[keep], cp[keep], cr[keep]
    open_rows = np.flatnonzero(rules.a_open)
    if pins:
        open_rows = open_rows[~np.isin(open_rows, np.fromiter(pins, np.int64))]
    oa, op, of = _top_k_open(rules, text, open_rows, top_k, excluded_idx)
    arc_app = np.concatenate([ca, oa]).astype(np.int64)
    arc_proj = np.concatenate([cp, op]).astype(np.int64)
    arc_rank = np.concatenate([cr, np.zeros(len(oa), np.int32)]).astype(np.int32)
    # A suggestion's fit is the pair's fit to the last bit (TextModel.pair_fit), found already.
    arc_fit = np.clip(np.concatenate([text.pair_fit(ca, cp), of]), 0.0, 1.0)
    order = preference_order(arc_app, arc_rank, arc_fit, arc_proj)
    arc_app, arc_proj, arc_rank, arc_fit = (x[order] for x in (arc_app, arc_proj, arc_rank,
                                                               arc_fit))
    first = np.array([a.first_timer for a in applicants], bool)
    arc_score, arc_value = weigh(arc_app, arc_rank, arc_fit, first, policy)
    tie_break = np.random.default_rng(seed).random(len(applicants))
    pinned_origins: dict[int, list[str]] = {}
    for i, j in pins.items():
        pinned_origins.setdefault(j, []).append(applicants[i].origin)
    for j, p in enumerate(projects):
        held = Counter(pinned_origins.get(j, ()))
        over = [o for o in held if p.origin_seats and held[o] > p.most_seats(o)]
        if over:
            raise MatchError(f"more applicants from {over[0]} pinned to project {p.id} than its seats for them")
    lookup, groups = origin_groups(projects, pinned_origins, places_left)
    arc_group = lookup[arc_proj, rules.a_origin[arc_app]] if len(arc_app) else np.zeros(0, np.int64)
    group_proj = np.array([g[0] for g in groups], np.int64)
    group_most = np.array([g[2] for g in groups], np.int64)
    group_fewest = np.array([g[3] for g in groups], np.int64)
    group_own_most = np.array([g[4] for g in groups], np.int64)
    return Problem(projects, applicants, scheme, rules, text, arc_app, arc_proj, arc_rank,
                   arc_fit, arc_score, arc_value, pins, places_left, subsidy, proj_region,
                   region_names, region_cap_left, budget_left, excluded_idx, warnings, policy, tie_break,
                   arc_group.astype(np.int64), group_proj, [g[1] for g in groups], group_most,
                   group_fewest, group_own_most)


def preference_order(arc_app: np.ndarray, arc_rank: np.ndarray, arc_fit: np.ndarray, arc_proj: np.ndarray
                     ) -> np.ndarray:
    """The canonical order of arcs: by applicant, then her preference (her choices by rank, then suggestions by
    fit, best first, ties by project).

    `prepare` lists the choices by applicant and rank and then each applicant's suggestions best first, so a stable
    sort by applicant (a merge of two sorted runs) gives it; that is checked, and the arcs sorted in full where it
    does not hold (a fit clipped to 1 can tie with one that was above it)."""
    pref_rank = np.where(arc_rank > 0, arc_rank, 1 << 20)
    order = np.argsort(arc_app, kind="stable")
    if not in_order(arc_app[order], pref_rank[order], -arc_fit[order], arc_proj[order]):
        order = by_group_then_best((arc_app << 32) | pref_rank, arc_fit, arc_proj)
    return order


def weigh(arc_app: np.ndarray, arc_rank: np.ndarray, arc_fit: np.ndarray, first: np.ndarray,
          policy: Policy) -> tuple[np.ndarray, np.ndarray]:
    """Each arc's score and objective value under `policy`: a placement, plus the first-timer priority
    for a first-time participant, plus ten units per score point."""
    arc_score = scores(arc_rank, arc_fit, policy)
    arc_value = (PLACEMENT_VALUE + policy.first_timer_priority * first[arc_app]
                 + np.rint(10 * arc_score)).astype(np.int64)
    return arc_score, arc_value


def reweigh(problem: Problem, policy: Policy) -> Problem:
    """The same prepared problem (same candidate pairs and fit) with scores and values under `policy`."""
    first = np.array([a.first_timer for a in problem.applicants], bool)
    arc_score, arc_value = weigh(problem.arc_app, problem.arc_rank, problem.arc_fit, first, policy)
    return replace(problem, arc_score=arc_score, arc_value=arc_value, policy=policy, warnings=list(problem.warnings))


def project_priorities(problem: Problem, rankings: Mapping[str, Sequence[str]] | None) -> np.ndarray:
    """Each arc's position in its project's order (lower = preferred).

    Ranked applicants come first in the NGO's order; the rest follow by text
    fit, ties broken by the applicant's seeded random number.
    """
    n_arcs = len(problem.arc_app)
    ranked_pos = np.full(n_arcs, 1 << 30, np.int64)
    if rankings:
        pindex = {p.id: j for j, p in enumerate(problem.projects)}
        aindex = {a.id: i for i, a in enumerate(problem.applicants)}
        arc_of = {(a, p): k for k, (a, p) in enumerate(zip(problem.arc_app.tolist(),
                                                            problem.arc_proj.tolist(), strict=True))}
        ignored = Counter()
        for pid in sorted(rankings):
            if pid not in pindex:
                ignored["unknown project"] += 1
                continue
            for pos, aid in enumerate(rankings[pid]):
                k = arc_of.get((aindex.get(aid, -1), pindex[pid]))
                if k is None:
                    ignored[f"{pid}: applicant not eligible/applied"] += 1
                elif ranked_pos[k] == 1 << 30:
                    ranked_pos[k] = pos
        if ignored:
            total = sum(ignored.values())
            problem.warnings.append(f"rankings: {total} entries ignored (unknown project, or "
                                    "applicant who did not apply or is not eligible)")
    # Applicants numbered in their seeded random order (equal numbers, never seen, by index): one integer per
    # arc for the last two keys.
    tie_order = np.lexsort((np.arange(len(problem.tie_break)), problem.tie_break))
    drawn = np.empty(len(tie_order), np.int64)
    drawn[tie_order] = np.arange(len(tie_order))
    # Without rankings every arc has the same ranked position, and the project alone (a small number) groups them.
    group = (problem.arc_proj << 32) | ranked_pos if rankings else problem.arc_proj
    order = by_group_then_best(group, problem.arc_fit, drawn[problem.arc_app])
    priority = np.empty(n_arcs, np.int64)
    priority[order] = np.arange(n_arcs)
    return priority


def match(projects: Sequence[Project], applicants: Sequence[Applicant], scheme: Scheme, *,
          rankings: Mapping[str, Sequence[str]] | None = None, mode: str = "optimal",
          pinned: Iterable[tuple[str, str]] = (), excluded: Iterable[tuple[str, str]] = (),
          top_k: int = DEFAULT_TOP_K, progress: Callable[[str, float], None] | None = None,
          seed: int = DEFAULT_SEED, policy: Policy | None = None) -> MatchResult:
    """Match applicants to project places; see docs/matching.md.

    `policy` weighs first-time participants, choice rank and text fit (default: `Policy()`, the weights
    used before they could be set). Optimal mode maximises the weighted value; stable mode follows the
    projects' own rankings (then fit), so there the policy sets the scores and the objective reported.
    """
    if mode not in ("optimal", "stable", "exact"):
        raise MatchError(f"unknown mode {mode!r} (optimal, stable or exact)")
    with collector_paused():
        return _match(projects, applicants, scheme, rankings=rankings, mode=mode, pinned=pinned, excluded=excluded,
                      top_k=top_k, progress=progress, seed=seed, policy=policy)


def _match(projects, applicants, scheme, *, rankings, mode, pinned, excluded, top_k, progress, seed,
           policy) -> MatchResult:
    timings: dict[str, float] = {}
    clock = [time.perf_counter(), "load"]

    def stage(name: str) -> None:
        now = time.perf_counter()
        timings[clock[1]] = round(now - clock[0], 4)
        if progress:
            progress(clock[1], 1.0)
            progress(name, 0.0)
        clock[0], clock[1] = now, name

    if progress:
        progress("load", 0.0)
    problem = prepare(projects, applicants, scheme, pinned=pinned, excluded=excluded,
                      top_k=top_k, seed=seed, stage=stage, policy=policy)
    stage("solve")
    solve_progress = (lambda f: progress("solve", f)) if progress else None
    # The projects' orders, computed once: deferred acceptance uses them and the blocking-pair check re-reads them.
    priority = project_priorities(problem, rankings) if mode == "stable" else None
    assigned, info = _solve(problem, mode, rankings, solve_progress, priority)
    stage("explain")
    result = explain.build_result(problem, assigned, info, mode=mode, seed=seed, top_k=top_k)
    result.problem = problem
    # Stable mode promises no admissible blocking pair (docs/matching.md): count them with the independent
    # checker, which reads only the placements. Optimal mode makes no such promise, so nothing is counted.
    if mode == "stable":
        result.report["blocking_pairs"] = int(len(verification.blocking_arcs(problem, priority, result)))
        result.report["blocking_pairs_checked"] = True
    else:
        result.report["blocking_pairs"] = None
        result.report["blocking_pairs_checked"] = False
    stage("done")
    result.report["timings_s"] = {k: timings[k] for k in ("load", "text", "rules", "solve",
                                                          "explain")}
    result.report["timings_s"]["total"] = round(sum(result.report["timings_s"].values()), 4)
    return result


def stable_inputs(problem: Problem, priority: np.ndarray
                  ) -> tuple[np.ndarray, stable.Preferences, stable.OriginSeats]:
    """What deferred acceptance runs on: the applicants with arcs (renumbered 0..n-1 in `prefs`), both sides'
    orders and the seats per origin. The library benchmark hands these same lists to another solver."""
    active, local = np.unique(problem.arc_app, return_inverse=True)
    n = len(active)
    start = np.searchsorted(local, np.arange(n + 1))  # arcs are grouped by applicant
    prefs = stable.Preferences(n, local.astype(np.int64), problem.arc_proj,
                               np.arange(len(local), dtype=np.int64), start, priority)
    release = problem.scheme.reserved_seats == "release"
    seats = stable.OriginSeats(problem.arc_group, problem.group_proj,
                               problem.group_own_most if release else problem.group_most,
                               problem.group_fewest if release else np.zeros_like(problem.group_fewest))
    return active, prefs, seats


def _solve(problem: Problem, mode: str, rankings, progress, priority: np.ndarray | None = None):
    """Return the chosen arc per applicant (-1 = unplaced) and solver info (stable mode: `priority` is
    `project_priorities(problem, rankings)` when the caller already has it)."""
    assigned = np.full(len(problem.applicants), -1, np.int64)
    if mode == "stable":
        active, prefs, seats = stable_inputs(
            problem, project_priorities(problem, rankings) if priority is None else priority)
        chosen, info = stable.solve(prefs, problem.places_left, problem.subsidy,
                                    problem.proj_region, problem.region_cap_left,
                                    problem.budget_left, progress, seats, cap_rule=problem.scheme.cap_rule)
        if info.get("rationed_for") == "budget":
            problem.warnings.append("cap_rule flexible: regional caps were kept by flexible deferred acceptance, "
                                    "but the budget still bound, so places were rationed for the budget on top "
                                    "(every project cut by the same share, then spare places recycled)")
        ok = chosen >= 0
        assigned[active[ok]] = chosen[ok]
        info["objective"] = int(problem.arc_value[chosen[ok]].sum())
        return assigned, info
    if rankings:
        problem.warnings.append("rankings are only used in stable mode")
    net = optimal_network(problem)
    if mode == "exact":
        chosen, info = optimal.solve_mip(net)
    else:
        chosen, info = optimal.solve(net, progress=progress)
    arcs = np.flatnonzero(chosen)
    assigned[problem.arc_app[arcs]] = arcs
    return assigned, info


def optimal_network(problem: Problem, local: np.ndarray | None = None, *, budget_left: int | None = None,
                    region_cap_left: np.ndarray | None = None) -> optimal.Network:
    """The prepared problem as optimal mode's flow network, with seats per origin as a round keeps them.

    Applicants with a candidate pair are renumbered 0..n-1: `local` is that number per arc
    (`np.unique(problem.arc_app, return_inverse=True)[1]`), passed by callers who build many networks on one
    problem. `budget_left` and `region_cap_left` replace the problem's own limits (what-binds raises them).
    """
    if local is None:
        local = np.unique(problem.arc_app, return_inverse=True)[1]
    n_active = int(local.max()) + 1 if len(local) else 0
    return optimal.Network(n_active, local.astype(np.int64), problem.arc_proj, problem.arc_value, problem.subsidy,
                           problem.places_left, problem.proj_region,
                           problem.region_cap_left if region_cap_left is None else region_cap_left,
                           problem.budget_left if budget_left is None else budget_left,
                           problem.arc_group, problem.group_most)
