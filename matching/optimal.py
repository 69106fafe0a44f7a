"""Optimal mode: maximise total welfare subject to places, regional caps and budget.

Without the budget the problem is a min-cost flow (source -> applicant ->
project -> capped region -> sink), solved exactly by OR-Tools. The budget is a
single side constraint, handled by Lagrangian relaxation: every HKD of subsidy
costs ``lam``, and we bisect on ``lam`` (exact integers ``mu / SCALE``). Each
flow solve gives a dual bound ``L(lam) = max_x sum(value - lam*subsidy) + lam*B``
>= the optimum, and the feasible side gives a primal solution, which a greedy
repair/fill step improves (moving people to cheaper projects when the overspend is less than a place). The
reported gap is (bound - objective) / bound. When the LP relaxation itself is too far above the best whole
solution to prove the tolerance, `_branch_on_count` bounds the solutions by how many they place.

Seats per origin are hard limits in the same flow: arcs of applicants from an origin whose seats at a
project are limited pass through a node for that (project, origin) group, whose arc to the project
carries the group's most seats (which already leaves the other origins' reserved seats free).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

SCALE = 100_000  # lam = mu / SCALE: value units per HKD, exact in integer costs
# Counts above the best solution's branched on one by one before the last branch takes all the rest.
MAX_COUNT_BRANCHES = 4
# The search gives up on the LP bound only once the bracket is this narrow (1/100 of the price): until then
# flows nearer the kink still make better whole solutions.
NARROW_BRACKET = 100
_UNLIMITED = 1 << 60  # room where there is no limit (far from int64's end, so counting it down and up is safe)


@dataclass
class Network:
    """The assignment problem in arrays (one entry per arc = eligible pair)."""

    n_applicants: int
    arc_app: np.ndarray
    arc_proj: np.ndarray
    value: np.ndarray  # int64 objective units
    subsidy: np.ndarray  # per project, int64
    capacity: np.ndarray  # per project, places left
    proj_region: np.ndarray  # per project, index into region_cap
    region_cap: np.ndarray  # per region, places left; -1 = uncapped
    budget: int
    arc_group: np.ndarray | None = None  # per arc, its (project, origin) group or -1
    group_cap: np.ndarray | None = None  # per group, the most seats it may hold
    # A branch of the search on how many are placed (see `_branch_on_count`): at most / at least this many.
    most_placed: int | None = None
    fewest_placed: int | None = None

    def __post_init__(self) -> None:
        if self.arc_group is None:
            self.arc_group = np.full(len(self.arc_app), -1, np.int64)
            self.group_cap = np.zeros(0, np.int64)

    @property
    def arc_subsidy(self) -> np.ndarray:
        return self.subsidy[self.arc_proj]


def _flow(net: Network, mu: int):
    """Best assignment ignoring the budget, with subsidy priced at mu/SCALE per HKD: (chosen arcs, L(mu)),
    or None when a branch's `fewest_placed` cannot be placed at all."""
    from ortools.graph.python import min_cost_flow  # noqa: PLC0415 - OR-Tools loads only when solving

    n_app, n_proj = net.n_applicants, len(net.capacity)
    capped = np.flatnonzero(net.region_cap >= 0)
    region_node = np.full(len(net.region_cap), -1, np.int64)
    source = 0
    app0 = 1
    proj0 = app0 + n_app
    reg0 = proj0 + n_proj
    region_node[capped] = reg0 + np.arange(len(capped))
    group0 = reg0 + len(capped)
    n_group = len(net.group_cap)
    group_proj = np.zeros(n_group, np.int64)
    grouped = net.arc_group >= 0
    group_proj[net.arc_group[grouped]] = net.arc_proj[grouped]
    # A branch on the count passes every placement through one node (at most) or everyone left unplaced
    # through another (at least): still a flow.
    placed_node = group0 + n_group if net.most_placed is not None else -1
    unplaced_node = group0 + n_group + (placed_node >= 0) if net.fewest_placed is not None else -1
    sink = group0 + n_group + (placed_node >= 0) + (unplaced_node >= 0)
    to_sink = placed_node if placed_node >= 0 else sink

    gain = SCALE * net.value - mu * net.arc_subsidy
    c0 = int(SCALE * net.value.max()) if len(net.value) else 0
    proj_head = np.where(region_node[net.proj_region] >= 0, region_node[net.proj_region], to_sink)
    apps = np.arange(n_app)
    arc_head = np.where(grouped, group0 + np.maximum(net.arc_group, 0), proj0 + net.arc_proj)
    extra_tails, extra_heads, extra_caps = [], [], []
    if placed_node >= 0:
        extra_tails.append(placed_node), extra_heads.append(sink), extra_caps.append(net.most_placed)
    if unplaced_node >= 0:
        extra_tails.append(unplaced_node), extra_heads.append(sink), extra_caps.append(n_app - net.fewest_placed)
    tails = np.concatenate([np.full(n_app, source), app0 + apps, app0 + net.arc_app,
                            proj0 + np.arange(n_proj), region_node[capped], group0 + np.arange(n_group),
                            np.array(extra_tails, np.int64)])
    heads = np.concatenate([app0 + apps, np.full(n_app, unplaced_node if unplaced_node >= 0 else sink), arc_head,
                            proj_head, np.full(len(capped), to_sink), proj0 + group_proj,
                            np.array(extra_heads, np.int64)])
    caps = np.concatenate([np.ones(n_app, np.int64), np.ones(n_app, np.int64),
                           np.ones(len(gain), np.int64), net.capacity,
                           net.region_cap[capped], net.group_cap, np.array(extra_caps, np.int64)])
    # Staying unplaced costs c0; a placement costs c0 - gain, so it is taken iff gain > 0
    # (non-negative costs for every mu >= 0 because gain <= SCALE * max value).
    costs = np.concatenate([np.zeros(n_app, np.int64), np.full(n_app, c0, np.int64),
                            c0 - gain, np.zeros(n_proj + len(capped) + n_group + len(extra_caps), np.int64)])
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int64), heads.astype(np.int64),
                                              caps.astype(np.int64), costs.astype(np.int64))
    supplies = np.zeros(sink + 1, np.int64)
    supplies[source], supplies[sink] = n_app, -n_app
    smcf.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = smcf.solve()
    if status == smcf.INFEASIBLE and net.fewest_placed is not None:
        return None
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    first = 2 * n_app
    chosen = smcf.flows(np.arange(first, first + len(gain))) > 0
    lagrangian = (float(gain[chosen].sum()) + mu * float(net.budget)) / SCALE
    return chosen, lagrangian


def _spend(net: Network, chosen: np.ndarray) -> int:
    return int(net.arc_subsidy[chosen].sum())


def _room(net: Network, chosen: np.ndarray):
    """Free places per project, per capped region (a huge number when uncapped) and per seats-per-origin group
    (one more entry, for arcs in no group, never full) around the assignment `chosen`."""
    free = net.capacity - np.bincount(net.arc_proj[chosen], minlength=len(net.capacity))
    region_used = np.bincount(net.proj_region[net.arc_proj[chosen]], minlength=len(net.region_cap))
    region_free = np.where(net.region_cap >= 0, net.region_cap - region_used, _UNLIMITED)
    in_group = chosen & (net.arc_group >= 0)
    group_free = np.append(net.group_cap - np.bincount(net.arc_group[in_group], minlength=len(net.group_cap)),
                           _UNLIMITED)
    return free, region_free, group_free


def _move_to_cheaper(net: Network, chosen: np.ndarray, over: int) -> np.ndarray:
    """Save `over` HK$ by moving placed applicants to cheaper projects they are eligible for, least value lost
    per HK$ saved first, where places, caps and seats allow. Near the budget's price a flow often overspends by
    less than one place costs: moving someone keeps everyone placed where dropping a placement would not."""
    chosen = chosen.copy()
    subsidy, value = net.arc_subsidy, net.value
    arc_of = np.full(net.n_applicants, -1, np.int64)
    arc_of[net.arc_app[chosen]] = np.flatnonzero(chosen)
    now = arc_of[net.arc_app]  # each arc's applicant's chosen arc, or -1
    cand = np.flatnonzero(~chosen & (now >= 0))
    cand = cand[subsidy[cand] < subsidy[now[cand]]]
    saving = subsidy[now[cand]] - subsidy[cand]
    loss = value[now[cand]] - value[cand]
    free, region_free, group_free = _room(net, chosen)
    for arc in cand[np.lexsort((cand, loss / saving))].tolist():
        a = net.arc_app[arc]
        old = arc_of[a]
        if old != now[arc]:
            continue  # she has moved already
        p, q = net.arc_proj[arc], net.arc_proj[old]
        r, s = net.proj_region[p], net.proj_region[q]
        g, h = net.arc_group[arc], net.arc_group[old]
        if free[p] <= 0 or (r != s and region_free[r] <= 0) or (g != h and group_free[g] <= 0):
            continue
        chosen[old], chosen[arc], arc_of[a] = False, True, arc
        free[p], free[q] = free[p] - 1, free[q] + 1
        region_free[r], region_free[s] = region_free[r] - 1, region_free[s] + 1
        group_free[g], group_free[h] = group_free[g] - 1, group_free[h] + 1
        over -= int(subsidy[old] - subsidy[arc])
        if over <= 0:
            break
    return chosen


def repair_and_fill(net: Network, chosen: np.ndarray) -> np.ndarray:
    """Make ``chosen`` budget-feasible (drop lowest value per HKD first), then fill slack.

    Filling adds unplaced applicants to projects with free places, best value
    first, while the budget and caps allow; it never moves anyone. When the overspend is less than the dearest
    place, moving people to cheaper projects first is tried as well, and the better of the two kept.
    """
    over = _spend(net, chosen) - net.budget
    repaired = _drop_and_fill(net, chosen)
    if 0 < over < int(net.subsidy.max(initial=0)):
        moved = _drop_and_fill(net, _move_to_cheaper(net, chosen, over))
        if int(net.value[moved].sum()) > int(net.value[repaired].sum()):
            return moved
    return repaired


def _drop_and_fill(net: Network, chosen: np.ndarray) -> np.ndarray:
    chosen = chosen.copy()
    subsidy = net.arc_subsidy
    over = _spend(net, chosen) - net.budget
    if over > 0:
        idx = np.flatnonzero(chosen)
        ratio = net.value[idx] / np.maximum(subsidy[idx], 1)
        order = idx[np.lexsort((idx, ratio))]
        cut = np.searchsorted(np.cumsum(subsidy[order]), over) + 1
        chosen[order[:cut]] = False
    free, region_free, group_free = _room(net, chosen)
    slack = net.budget - _spend(net, chosen)
    placed = np.zeros(net.n_applicants, bool)
    placed[net.arc_app[chosen]] = True
    cand = np.flatnonzero(~chosen & ~placed[net.arc_app] & (free[net.arc_proj] > 0)
                          & (subsidy <= slack) & (region_free[net.proj_region[net.arc_proj]] > 0)
                          & (group_free[net.arc_group] > 0))
    for arc in cand[np.lexsort((cand, -net.value[cand]))].tolist():
        a, p, g = net.arc_app[arc], net.arc_proj[arc], net.arc_group[arc]
        r, s = net.proj_region[p], subsidy[arc]
        if placed[a] or free[p] <= 0 or region_free[r] <= 0 or s > slack or group_free[g] <= 0:
            continue
        chosen[arc], placed[a] = True, True
        free[p] -= 1
        region_free[r] -= 1
        group_free[g] -= 1
        slack -= s
    return chosen


def price_estimate(net: Network, chosen: np.ndarray) -> int:
    """A first guess at the budget's price from the budget-blind assignment.

    Drop that assignment's placements in order of value per HKD, cheapest value first, until the overspend
    is saved: the value per HKD where that stops is what the last place given up was worth. Moving people to
    cheaper projects saves money too, so the true price is usually a little lower; the search brackets it.
    """
    idx = np.flatnonzero(chosen)
    subsidy = net.arc_subsidy[idx]
    paid = subsidy > 0
    ratio = SCALE * net.value[idx][paid] / subsidy[paid]
    order = np.argsort(ratio, kind="stable")
    k = int(np.searchsorted(np.cumsum(subsidy[paid][order]), _spend(net, chosen) - net.budget))
    return max(1, int(ratio[order][min(k, len(order) - 1)])) if len(order) else 1


def solve(net: Network, *, tolerance: float = 1e-4, max_iter: int = 40, progress=None,
          start: tuple[int, int] | list[int] | None = None):
    """Return (chosen arc mask, info) with objective, dual bound, gap and flow count.

    `start` is a price bracket (mu_lo, mu_hi) from a solve of a nearby problem (`info["price_bracket"]`: the
    same round before its budget or a cap was raised): the search tries those prices first instead of
    solving the budget-blind flow and guessing, which at national scale saves most of the flow solves.
    """
    none = {"objective": 0, "bound": 0.0, "gap": 0.0, "flow_solves": 0, "lambda_per_hkd": 0.0,
            "budget_binding": False, "price_bracket": None, "count_branches": None}
    if len(net.value) == 0:
        return np.zeros(0, bool), none
    search = _PriceSearch(net, tolerance, max_iter, progress)
    blind = search.run(start)
    if blind is not None:  # the budget-blind assignment keeps to the budget: it is optimal
        obj = int(net.value[blind].sum())
        return blind, {**none, "objective": obj, "bound": float(obj), "flow_solves": search.solves}
    lo, hi = search.lo, search.hi
    best, best_obj, bound, solves = search.best, search.best_obj, search.bound, search.solves
    branches = None
    if not search.close_enough():
        best, best_obj, bound, branches = _branch_on_count(net, search, tolerance)
        solves += branches["flow_solves"]
    gap = max(0.0, (bound - best_obj) / bound) if bound > 0 else 0.0
    return best, {"objective": best_obj, "bound": bound, "gap": gap, "flow_solves": solves,
                  "lambda_per_hkd": (hi[0] if hi else lo[0]) / SCALE, "budget_binding": True,
                  "price_bracket": [int(lo[0]) if lo else None, int(hi[0]) if hi else None],
                  "count_branches": branches}


class _PriceSearch:
    """The search for the budget's price on one network: the lowest Lagrangian bound met and the best
    budget-feasible assignment made from the flows on the way (or from `incumbent`, a better one known)."""

    def __init__(self, net: Network, tolerance: float, max_iter: int, progress=None,
                 incumbent: tuple[np.ndarray, int] | None = None, stop_when_lp_too_weak: bool = True):
        self.net, self.tolerance, self.max_iter, self.progress = net, tolerance, max_iter, progress
        # A branch searches on to the kink anyway: the flows there make the best whole solutions.
        self.stop_when_lp_too_weak = stop_when_lp_too_weak
        self.solves, self.bound = 0, float("inf")
        self.best, self.best_obj = incumbent if incumbent is not None else (None, -1)
        self.lo = self.hi = None  # (mu, L(mu), spend): at lo the flow overspends, at hi it keeps to the budget
        self.infeasible = False  # a branch whose count cannot be placed at all

    def evaluate(self, mu: int):
        net = self.net
        found = _flow(net, mu)
        self.solves += 1
        if found is None:
            self.infeasible, self.bound = True, float("-inf")
            return None
        flow, lag = found
        self.bound = min(self.bound, lag)
        point = (mu, lag, _spend(net, flow))
        if point[2] <= net.budget:
            self.hi = point if self.hi is None or mu < self.hi[0] else self.hi
        else:
            self.lo = point if self.lo is None or mu > self.lo[0] else self.lo
        cand = repair_and_fill(net, flow)
        obj = int(net.value[cand].sum())
        if obj > self.best_obj:
            self.best, self.best_obj = cand, obj
        if self.progress:
            self.progress(min(0.95, self.solves / 8))
        return flow

    def close_enough(self) -> bool:
        return self.infeasible or self.bound - self.best_obj <= self.tolerance * abs(self.bound)

    def run(self, start=None):
        """Search; returns the budget-blind flow instead when it keeps to the budget (then it is optimal)."""
        net = self.net
        price_cap = int(SCALE * net.value.max() // max(1, int(net.subsidy[net.subsidy > 0].min(initial=1)))) + 2
        tried = sorted({int(m) for m in (start or ()) if m is not None and 0 < m < price_cap})
        for mu in tried:
            self.evaluate(mu)
            if self.infeasible:
                return None
        near = 100 if tried else 0  # the prices tried are within about 1/near of the price
        if not tried:
            flow = self.evaluate(0)
            if self.infeasible:
                return None
            if self.lo is None:
                return flow
            if self.hi is None:
                self.evaluate(min(price_estimate(net, flow), price_cap - 1))
                near = 50
        # Near the price already: step from it by a little, four times more each time the step does not cross
        # it. From the budget-blind price alone the tangents would meet far from the kink (a flow lost at
        # national scale).
        if near and self.hi is not None and (self.lo is None or self.lo[0] == 0):
            step = max(1, self.hi[0] // near)
            while ((self.lo is None or self.lo[0] == 0) and self.hi[0] > 1 and self.solves < self.max_iter
                   and not self.close_enough()):
                self.evaluate(max(1, self.hi[0] - step))
                step *= 4
        if self.lo is None:  # keeps to the budget down to the lowest price: try none at all
            flow = self.evaluate(0)
            if self.lo is None and not self.infeasible:
                return flow
        # Overspending at every price tried: go up, faster each time (at price_cap every placement loses value).
        step = max(1, self.lo[0] // near) if near else self.lo[0]
        while self.hi is None and self.solves < self.max_iter and not self.close_enough():
            self.evaluate(min(price_cap, self.lo[0] + step))
            step *= 4
        # L(mu) is convex and piecewise linear, with slope (budget - spend) / SCALE at each solve; its minimum
        # lies between lo and hi. Each step tries where the tangents at lo and hi meet, which lands on or next
        # to the kink holding the minimum, and halves the bracket instead when the last step did not shrink it.
        last_width = None
        while (self.hi is not None and self.hi[0] - self.lo[0] > 1 and self.solves < self.max_iter
               and not self.close_enough()):
            lo, hi = self.lo, self.hi
            width = hi[0] - lo[0]
            slope_lo, slope_hi = net.budget - lo[2], net.budget - hi[2]
            mu = lo[0] + width // 2
            meet = (SCALE * (hi[1] - lo[1]) + slope_lo * lo[0] - slope_hi * hi[0]) / (slope_lo - slope_hi)
            # Where the tangents meet, L is no lower than this: when even that is too far above the best
            # assignment, no price proves the tolerance (the LP relaxation itself is that far), so stop here
            # and let the caller branch.
            if (self.stop_when_lp_too_weak and width * NARROW_BRACKET <= hi[0]
                    and lo[1] + slope_lo * (meet - lo[0]) / SCALE - self.best_obj > self.tolerance * self.bound):
                break
            if last_width is None or width * 2 <= last_width * 3:
                mu = min(hi[0] - 1, max(lo[0] + 1, int(round(meet))))
            last_width = width
            self.evaluate(mu)
        return None


def _branch_on_count(net: Network, search: _PriceSearch, tolerance: float):
    """Close a gap the LP relaxation leaves by branching on how many are placed.

    The Lagrangian bound equals the LP relaxation's, which on a small market with a tight budget places a
    fraction of one more person than any whole solution can: worth up to a placement (PLACEMENT_VALUE), more
    than the tolerance on its own. Every whole solution places at most as many as the best one found (n), or
    exactly n + 1, or n + 2, ...; each of those is still a flow (placements through a node that lets at most
    so many through, the unplaced through one that lets at most n_applicants - k through) with the budget
    priced, so each has its own Lagrangian bound, and the largest of them bounds every whole solution. A count
    is left out when placing that many costs more than the budget even at the cheapest projects (one flow on
    subsidy alone); beyond MAX_COUNT_BRANCHES counts the last branch is "at least".
    """
    placed = int(search.best.sum())
    best, best_obj, solves = search.best, search.best_obj, 0
    branches = [("at_most", placed, replace(net, most_placed=placed))]
    for k in range(placed + 1, placed + MAX_COUNT_BRANCHES + 2):
        last = k == placed + MAX_COUNT_BRANCHES + 1
        branch = replace(net, most_placed=None if last else k, fewest_placed=k)
        cheapest = _flow(replace(branch, value=np.zeros_like(net.value)), 1)
        solves += 1
        if cheapest is None or _spend(net, cheapest[0]) > net.budget:
            break  # placing k costs more than the budget: so does placing more
        branches.append(("at_least" if last else "exactly", k, branch))
    bounds = []
    for kind, k, branch in branches:
        sub = _PriceSearch(branch, tolerance, max_iter=24, incumbent=(best, best_obj), stop_when_lp_too_weak=False)
        sub.run(None)
        solves += sub.solves
        if not sub.infeasible:
            bounds.append({"placed": kind, "count": k, "bound": sub.bound})
        if sub.best_obj > best_obj:
            best, best_obj = sub.best, sub.best_obj
    bound = min(search.bound, max(b["bound"] for b in bounds))
    return best, best_obj, bound, {"best_placed": placed, "branches": bounds, "flow_solves": solves}


def solve_mip(net: Network, *, time_limit: float = 300.0, relax: bool = False):
    """The same problem as one exact MIP (or its LP relaxation) with HiGHS, for comparison."""
    import highspy  # noqa: PLC0415 - only for comparing against the exact MIP

    n_arc, n_app, n_proj = len(net.value), net.n_applicants, len(net.capacity)
    capped = np.flatnonzero(net.region_cap >= 0)
    region_row = np.full(len(net.region_cap), -1, np.int64)
    region_row[capped] = n_app + n_proj + np.arange(len(capped))
    group_row0 = n_app + n_proj + len(capped)
    budget_row = group_row0 + len(net.group_cap)
    arcs = np.arange(n_arc)
    # Column-wise: each arc is in its applicant row, project row, region row, group row, budget row.
    rows = [net.arc_app, n_app + net.arc_proj]
    vals = [np.ones(n_arc), np.ones(n_arc)]
    in_capped = region_row[net.proj_region[net.arc_proj]] >= 0
    rows.append(region_row[net.proj_region[net.arc_proj]][in_capped])
    vals.append(np.ones(int(in_capped.sum())))
    in_group = net.arc_group >= 0
    rows.append(group_row0 + net.arc_group[in_group])
    vals.append(np.ones(int(in_group.sum())))
    rows.append(np.full(n_arc, budget_row))
    vals.append(net.arc_subsidy.astype(float))
    cols = [arcs, arcs, arcs[in_capped], arcs[in_group], arcs]
    col = np.concatenate(cols)
    order = np.lexsort((np.concatenate(rows), col))
    col, row, val = col[order], np.concatenate(rows)[order], np.concatenate(vals)[order]
    start = np.searchsorted(col, np.arange(n_arc + 1))

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_arc, budget_row + 1
    lp.col_cost_ = net.value.astype(float)
    lp.col_lower_ = np.zeros(n_arc)
    lp.col_upper_ = np.ones(n_arc)
    upper = np.concatenate([np.ones(n_app), net.capacity.astype(float),
                            net.region_cap[capped].astype(float), net.group_cap.astype(float),
                            [float(net.budget)]])
    lp.row_lower_ = np.full(len(upper), -highspy.kHighsInf)
    lp.row_upper_ = upper
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start.astype(np.int32)
    lp.a_matrix_.index_ = row.astype(np.int32)
    lp.a_matrix_.value_ = val
    if not relax:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_arc
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.passModel(lp)
    h.run()
    x = np.asarray(h.getSolution().col_value)
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    chosen = x > 0.5
    return chosen, {"objective": float(info.objective_function_value),
                    "bound": float(getattr(info, "mip_dual_bound", info.objective_function_value)),
                    "status": status}
