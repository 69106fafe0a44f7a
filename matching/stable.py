"""Stable mode: applicant-proposing deferred acceptance (NRMP style) with capacities.

Budget and regional caps are handled with *effective places* (see
docs/matching.md for the precise stability guarantee):

1. Run DA with the real places. If the result respects the budget and every
   regional cap, it is returned unchanged: the applicant-optimal stable matching.
2. Otherwise set each project's effective places to the number it filled (this
   does not change the DA outcome), then ration proportionally: every capped
   region over its cap and, if over budget, every project is scaled down by the
   same factor (rounded down).
3. Recycle: while the unspent budget and a region's spare cap can fund one more
   place at a project that has an eligible applicant who wants it more than her
   current placement, add that place (least-filled projects first) and re-run DA.
   DA only ever improves applicants' outcomes when places are added.

Seats per origin change what a project holds, not the algorithm: a project with seats per origin
keeps, from everyone who has proposed to it, first the best applicants of each origin up to the
seats reserved for that origin, then the best of the rest, never more of one origin than it may hold
(the choice function of minority reserves, Hafalir, Yenmez and Yildirim 2013; with reserved seats
kept empty the reserves are instead hard limits on the other origins). Both choice functions are
substitutable and size-monotone, so applicant-proposing deferred acceptance stays stable with respect
to them and strategy-proof for applicants.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np


@dataclass
class Preferences:
    """Arcs (eligible applicant-project pairs) with both sides' orders.

    ``order`` lists arcs grouped by applicant, best first, with
    ``start[a]:start[a+1]`` the slice of applicant ``a``. ``priority[arc]``
    is the project's rank of that applicant (lower is better; only compared
    within one project).
    """

    n_applicants: int
    arc_app: np.ndarray
    arc_proj: np.ndarray
    order: np.ndarray
    start: np.ndarray
    priority: np.ndarray


@dataclass
class OriginSeats:
    """Seats per origin at the projects that have them: each arc's (project, origin) group or -1,
    and per group its project, the most seats it may hold and the seats reserved for it."""

    arc_group: np.ndarray
    group_proj: np.ndarray
    most: np.ndarray
    fewest: np.ndarray


def _keep(candidates: list[tuple[int, int]], seats: int, groups: dict[int, tuple[int, int]],
          group_of: list[int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """What a project with seats per origin holds of (priority, arc) `candidates`, and whom it turns away:
    the reserved seats first, each to the best of its origin, then the best of the rest."""
    candidates = sorted(candidates)
    taken = [False] * len(candidates)
    count = dict.fromkeys(groups, 0)
    kept = 0
    for g, (_most, fewest) in groups.items():
        for k, (_prio, arc) in enumerate(candidates):
            if kept >= seats or count[g] >= fewest:
                break
            if group_of[arc] == g:
                taken[k], count[g], kept = True, count[g] + 1, kept + 1
    for k, (_prio, arc) in enumerate(candidates):
        if kept >= seats:
            break
        g = group_of[arc]
        if taken[k] or (g >= 0 and count[g] >= groups[g][0]):
            continue
        taken[k], kept = True, kept + 1
        if g >= 0:
            count[g] += 1
    return ([c for c, t in zip(candidates, taken, strict=True) if t],
            [c for c, t in zip(candidates, taken, strict=True) if not t])


def _origin_groups(seats: OriginSeats | None) -> tuple[dict[int, dict[int, tuple[int, int]]], list[int]]:
    """Per project with seats per origin, each of its groups' (most, fewest); and each arc's group (or -1)."""
    per_origin: dict[int, dict[int, tuple[int, int]]] = {}
    if seats is None or not len(seats.group_proj):
        return per_origin, []
    for g, p in enumerate(seats.group_proj.tolist()):
        per_origin.setdefault(p, {})[g] = (int(seats.most[g]), int(seats.fewest[g]))
    return per_origin, seats.arc_group.tolist()


# Deferred acceptance runs in rounds of array operations until it has run this many rounds with fewer than
# ROUNDS_SMALL applicants free; what is left then (a long chain of one rejection after another) goes on one proposal
# at a time, where a round's fixed cost would outweigh its few proposals.
ROUNDS_SMALL = 256
ROUNDS_PATIENCE = 200


def deferred_acceptance(prefs: Preferences, places: np.ndarray, seats: OriginSeats | None = None, *,
                        patience: int = ROUNDS_PATIENCE) -> np.ndarray:
    """Applicant-optimal stable matching for ``places``: the chosen arc per applicant or -1.

    With strict priorities the outcome does not depend on the order in which free applicants propose (McVitie and
    Wilson 1971), so free applicants all propose at once (`_propose_in_rounds`: at national scale 81 rounds of
    array operations do what a million Python-level proposals did), and a long tail of small rounds is finished
    one proposal at a time. Projects with seats per origin, and priorities that could tie within a project, are
    left to the one-at-a-time loop throughout, whose answer is the reference.
    """
    places = np.asarray(places, np.int64)
    if (seats is None or not len(seats.group_proj)) and _is_permutation(prefs.priority):
        nxt, held, free = _propose_in_rounds(prefs, places, patience)
        if not len(free):
            assigned = np.full(prefs.n_applicants, -1, np.int64)
            assigned[prefs.arc_app[held]] = held
            return assigned
        return _propose_one_at_a_time(prefs, places, seats, (nxt, held, free))
    return _propose_one_at_a_time(prefs, places, seats)


def _is_permutation(priority: np.ndarray) -> bool:
    """Whether `priority` numbers the arcs 0..n-1 (as `engine.project_priorities` does): strict in every project."""
    n = len(priority)
    return n == 0 or (int(priority.min()) >= 0 and int(priority.max()) < n
                      and int(np.bincount(priority, minlength=n).max()) == 1)


def _propose_in_rounds(prefs: Preferences, places: np.ndarray, patience: int):
    """Deferred acceptance in rounds: each free applicant proposes to her next project, and each project keeps the
    best of those it holds and those proposing, up to its places; until nobody is free, or `patience` rounds have
    had fewer than ROUNDS_SMALL free.

    Held proposals are one sorted array of keys (project << 32 | priority), so a project's holders are a slice:
    proposals are inserted where they belong and each project proposed to drops whatever lies past its places.
    Returns each applicant's next arc, the arcs held and the applicants still free."""
    start, order, arc_proj, arc_app = prefs.start, prefs.order, prefs.arc_proj, prefs.arc_app
    prio = prefs.priority.astype(np.int64)
    nxt = start[:-1].astype(np.int64)
    free = np.flatnonzero(start[1:] > start[:-1])
    keys = np.zeros(0, np.int64)
    held = np.zeros(0, np.int64)
    small = 0
    while len(free) and small <= patience:
        small += len(free) < ROUNDS_SMALL
        free = free[nxt[free] < start[free + 1]]  # those with a project left to propose to
        if not len(free):
            break
        new = order[nxt[free]]
        nxt[free] += 1
        new_keys = (arc_proj[new] << 32) | prio[new]
        by_key = np.argsort(new_keys)
        new, new_keys = new[by_key], new_keys[by_key]
        at = np.searchsorted(keys, new_keys)
        keys, held = np.insert(keys, at, new_keys), np.insert(held, at, new)
        asked = np.unique(arc_proj[new])
        lo = np.searchsorted(keys, asked << 32)
        hi = np.searchsorted(keys, (asked + 1) << 32)
        over = np.maximum(hi - lo - places[asked], 0)  # each project's proposals past its places, its worst
        out = np.repeat(hi - over - (np.cumsum(over) - over), over) + np.arange(int(over.sum()))
        free = arc_app[held[out]]
        keys, held = np.delete(keys, out), np.delete(held, out)
    return nxt, held, free


def _propose_one_at_a_time(prefs: Preferences, places: np.ndarray, seats: OriginSeats | None,
                           state: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Deferred acceptance one proposal at a time, from the start or from the `state` `_propose_in_rounds` left
    (each applicant's next arc, the arcs held, the applicants free)."""
    order = prefs.order.tolist()
    start = prefs.start.tolist()
    arc_proj = prefs.arc_proj.tolist()
    arc_app = prefs.arc_app.tolist()
    prio = prefs.priority.tolist()
    places = places.tolist()
    held: list[list[tuple[int, int]]] = [[] for _ in places]  # max-heap on priority
    if state is None:
        nxt = start[:-1]
        free = [a for a in range(prefs.n_applicants - 1, -1, -1) if start[a] < start[a + 1]]
    else:
        nxt, free = state[0].tolist(), state[2][::-1].tolist()
        for arc in state[1].tolist():
            held[arc_proj[arc]].append((-prio[arc], arc))
        for heap in held:
            heapq.heapify(heap)
    # Projects with seats per origin hold a plain list, chosen again at each proposal (_keep).
    per_origin, group_of = _origin_groups(seats)
    while free:
        a = free.pop()
        end = start[a + 1]
        k = nxt[a]
        while k < end:
            arc = order[k]
            k += 1
            p = arc_proj[arc]
            if p in per_origin:
                held[p], turned_away = _keep(held[p] + [(prio[arc], arc)], places[p], per_origin[p], group_of)
                free.extend(arc_app[x] for _prio, x in turned_away if x != arc)
                if all(x != arc for _prio, x in turned_away):
                    break
                continue
            heap = held[p]
            if len(heap) < places[p]:
                heapq.heappush(heap, (-prio[arc], arc))
                break
            if heap and -heap[0][0] > prio[arc]:
                _, evicted = heapq.heapreplace(heap, (-prio[arc], arc))
                free.append(arc_app[evicted])
                break
        nxt[a] = k
    assigned = np.full(prefs.n_applicants, -1, np.int64)
    for heap in held:
        for _, arc in heap:
            assigned[arc_app[arc]] = arc
    return assigned


def flexible_targets(places: np.ndarray, proj_region: np.ndarray, region_cap: np.ndarray) -> np.ndarray:
    """Each project's target in flexible deferred acceptance: its places, or in a region whose places exceed
    its cap, its proportional share of the cap (rounded down; the seats left over go one each to the region's
    projects in their fixed order)."""
    target = places.astype(np.int64).copy()
    for r in np.flatnonzero(region_cap >= 0).tolist():
        members = np.flatnonzero(proj_region == r)
        total = int(places[members].sum())
        cap = int(region_cap[r])
        if total <= cap:
            continue
        share = (places[members].astype(np.int64) * cap) // max(total, 1)
        left = cap - int(share.sum())
        for k in range(len(members)):
            if left <= 0:
                break
            if share[k] < places[members[k]]:
                share[k] += 1
                left -= 1
        target[members] = share
    return target


def _region_choice(candidates: dict[int, list[tuple[int, int]]], members: list[int], target: list[int],
                   places: list[int], cap: int, per_origin: dict, group_of: list[int]
                   ) -> tuple[dict[int, list[tuple[int, int]]], list[tuple[int, int]]]:
    """What a capped region holds of everyone who proposed to its projects, and whom it turns away.

    Each project first keeps its best proposers up to its target; then, while the region is under its cap,
    the projects take turns in their fixed order, each keeping its best remaining proposer if it has a
    place left. This is Kamada and Kojima's choice function: substitutable and size-monotone, so deferred
    acceptance on it is stable for it and strategy-proof for applicants."""
    kept: dict[int, list[tuple[int, int]]] = {}
    rest: dict[int, list[tuple[int, int]]] = {}
    total = 0
    for p in members:
        pool = sorted(candidates.get(p, ()))
        if p in per_origin:
            kept[p], rest[p] = _keep(pool, target[p], per_origin[p], group_of)
        else:
            kept[p], rest[p] = pool[:target[p]], pool[target[p]:]
        total += len(kept[p])
    turning = True
    while total < cap and turning:
        turning = False
        for p in members:
            if total >= cap:
                break
            if len(kept[p]) >= places[p] or not rest[p]:
                continue
            if p in per_origin:
                more, fewer = _keep(kept[p] + rest[p], len(kept[p]) + 1, per_origin[p], group_of)
                if len(more) == len(kept[p]):
                    continue  # nobody left whom its seats per origin allow
                kept[p], rest[p] = more, fewer
            else:
                kept[p].append(rest[p].pop(0))
            total += 1
            turning = True
    return kept, [c for p in members for c in rest[p]]


def flexible_deferred_acceptance(prefs: Preferences, places: np.ndarray, proj_region: np.ndarray,
                                 region_cap: np.ndarray, seats: OriginSeats | None = None,
                                 target: np.ndarray | None = None) -> np.ndarray:
    """Applicant-proposing deferred acceptance in which every region whose places exceed its cap chooses for
    all its projects together (`_region_choice`); other projects choose alone, as in `deferred_acceptance`.
    Proposals go in rounds (every applicant turned away proposes to her next project); with substitutable
    choice functions the order of proposals does not change the outcome."""
    order = prefs.order.tolist()
    start = prefs.start.tolist()
    arc_proj = prefs.arc_proj.tolist()
    arc_app = prefs.arc_app.tolist()
    prio = prefs.priority.tolist()
    target = np.minimum(flexible_targets(places, proj_region, region_cap) if target is None else target,
                        places).tolist()
    places_list = places.tolist()
    per_origin, group_of = _origin_groups(seats)
    binding: dict[int, list[int]] = {}  # region -> its projects, in their fixed order
    for r in np.flatnonzero(region_cap >= 0).tolist():
        members = np.flatnonzero(proj_region == r)
        if int(places[members].sum()) > int(region_cap[r]):
            binding[r] = members.tolist()
    region_of = {p: r for r, members in binding.items() for p in members}
    held: list[list[tuple[int, int]]] = [[] for _ in places_list]
    nxt = start[:-1]
    free = [a for a in range(prefs.n_applicants) if start[a] < start[a + 1]]
    while free:
        proposals: dict[int, list[tuple[int, int]]] = {}
        for a in free:
            k = nxt[a]
            if k < start[a + 1]:
                arc = order[k]
                nxt[a] = k + 1
                proposals.setdefault(arc_proj[arc], []).append((prio[arc], arc))
        free = []
        regions_asked: set[int] = set()
        for p, new in proposals.items():
            if p in region_of:
                regions_asked.add(region_of[p])
                continue
            pool = sorted(held[p] + new)
            if p in per_origin:
                held[p], turned_away = _keep(pool, places_list[p], per_origin[p], group_of)
            else:
                held[p], turned_away = pool[:places_list[p]], pool[places_list[p]:]
            free.extend(arc_app[arc] for _prio, arc in turned_away)
        for r in sorted(regions_asked):
            members = binding[r]
            candidates = {p: held[p] + proposals.get(p, []) for p in members}
            kept, turned_away = _region_choice(candidates, members, target, places_list, int(region_cap[r]),
                                               per_origin, group_of)
            for p in members:
                held[p] = kept[p]
            free.extend(arc_app[arc] for _prio, arc in turned_away)
    assigned = np.full(prefs.n_applicants, -1, np.int64)
    for pool in held:
        for _prio, arc in pool:
            assigned[arc_app[arc]] = arc
    return assigned


def _counts(prefs, assigned, n_proj):
    arcs = assigned[assigned >= 0]
    return np.bincount(prefs.arc_proj[arcs], minlength=n_proj)


def _scale_down(eff: np.ndarray, members: np.ndarray, limit: float, weight: np.ndarray) -> None:
    """Shrink eff[members] by a common factor so sum(weight*eff) <= limit (rounded down)."""
    total = float((weight[members] * eff[members]).sum())
    if total <= limit:
        return
    factor = limit / total
    eff[members] = np.floor(eff[members] * factor).astype(eff.dtype)


def unmet_demand(prefs: Preferences, assigned: np.ndarray, n_proj: int) -> np.ndarray:
    """Per project: how many eligible applicants prefer it to where they are now."""
    position = np.empty(len(prefs.order), np.int64)
    position[prefs.order] = np.arange(len(prefs.order))
    mine = np.where(assigned >= 0, position[np.maximum(assigned, 0)], np.iinfo(np.int64).max)
    wants = position < mine[prefs.arc_app]
    return np.bincount(prefs.arc_proj[wants], minlength=n_proj)


def _recycle(deferred, eff, prefs, places, subsidy, proj_region, region_cap, budget, progress) -> tuple:
    """Steps 2-3 of the effective-places method on `eff` (already rationed): run `deferred(eff)`, shrink each
    project to what it filled, and while the unspent budget and a region's spare cap can fund one more place at a
    project some applicant wants more than her placement, add it (least-filled projects first) and run again.
    Returns the last assignment and the number of runs."""
    n_proj = len(places)
    capped = region_cap >= 0
    runs, previous, seen = 1, None, set()
    while True:
        assigned = deferred(eff)
        runs += 1
        if progress:
            progress(min(0.9, runs / 10))
        counts = _counts(prefs, assigned, n_proj)
        eff = np.minimum(eff, counts)  # unchanged outcome, frees unused budget
        demand = unmet_demand(prefs, assigned, n_proj)
        left = budget - int((eff * subsidy).sum())
        # A region at its cap gains nothing from another place (with flexible caps its choice would only move a
        # seat between its projects, and the next pass would move it back).
        region_left = np.where(capped, region_cap - np.bincount(
            proj_region, weights=eff, minlength=len(region_cap)).astype(np.int64), 1 << 60)
        wanting = np.flatnonzero((demand > 0) & (eff < places))
        # Least-filled projects (share of real places) get recycled places first.
        fill = eff[wanting] / np.maximum(places[wanting], 1)
        added = False
        extra = np.minimum(demand, places - eff)
        for p in wanting[np.lexsort((wanting, fill))].tolist():
            r = proj_region[p]
            k = int(min(extra[p], left // max(1, subsidy[p]) if subsidy[p] else extra[p], region_left[r]))
            if k <= 0:
                continue
            eff[p] += k
            left -= k * int(subsidy[p])
            region_left[r] -= k
            added = True
        state = eff.tobytes()
        # Guard: an added place that changed nothing, or places that come round again, end the recycling.
        if not added or (previous is not None and np.array_equal(previous, assigned)) or state in seen:
            return assigned, runs
        seen.add(state)
        previous = assigned


def _solve_flexible(prefs, places, subsidy, proj_region, region_cap, budget, progress, seats):
    """Flexible deferred acceptance for the caps; a budget it still breaks is rationed as in `solve`: every
    project scaled down by the same share, then spare places recycled while the budget allows."""
    n_proj = len(places)
    assigned = flexible_deferred_acceptance(prefs, places, proj_region, region_cap, seats)
    counts = _counts(prefs, assigned, n_proj)
    if int((counts * subsidy).sum()) <= budget:
        return assigned, {"da_runs": 1, "rationed": False, "cap_rule": "flexible"}
    eff = counts.astype(np.int64)
    _scale_down(eff, np.arange(n_proj), budget, subsidy.astype(float))
    # The region's targets stay those of the real places: recomputed from the budget's places, they would move
    # with every place recycled and could send the loop round in circles.
    target = flexible_targets(places, proj_region, region_cap)
    assigned, runs = _recycle(
        lambda eff: flexible_deferred_acceptance(prefs, eff, proj_region, region_cap, seats, target),
        eff, prefs, places, subsidy, proj_region, region_cap, budget, progress)
    return assigned, {"da_runs": runs, "rationed": True, "rationed_for": "budget", "cap_rule": "flexible"}


def solve(prefs: Preferences, places: np.ndarray, subsidy: np.ndarray, proj_region: np.ndarray,
          region_cap: np.ndarray, budget: int, progress=None, seats: OriginSeats | None = None,
          cap_rule: str = "proportional"):
    """Return (assigned arc per applicant, info)."""
    if cap_rule == "flexible":
        return _solve_flexible(prefs, places, subsidy, proj_region, region_cap, budget, progress, seats)
    n_proj = len(places)
    assigned = deferred_acceptance(prefs, places, seats)
    counts = _counts(prefs, assigned, n_proj)
    region_count = np.bincount(proj_region, weights=counts, minlength=len(region_cap))
    capped = region_cap >= 0
    feasible = (int((counts * subsidy).sum()) <= budget
                and bool(np.all(region_count[capped] <= region_cap[capped])))
    if feasible:
        return assigned, {"da_runs": 1, "rationed": False, "cap_rule": "proportional"}

    eff = counts.astype(np.int64)  # shrinking to what was filled leaves DA unchanged
    for r in np.flatnonzero(capped):
        _scale_down(eff, np.flatnonzero(proj_region == r), region_cap[r], np.ones(n_proj))
    _scale_down(eff, np.arange(n_proj), budget, subsidy.astype(float))
    assigned, runs = _recycle(lambda eff: deferred_acceptance(prefs, eff, seats), eff, prefs, places, subsidy,
                              proj_region, region_cap, budget, progress)
    return assigned, {"da_runs": runs, "rationed": True, "cap_rule": "proportional"}
