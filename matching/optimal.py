"""Optimal mode: maximise total welfare subject to places, regional caps and budget.

Without the budget the problem is a min-cost flow (source -> applicant ->
project -> capped region -> sink), solved exactly by OR-Tools. The budget is a
single side constraint, handled by Lagrangian relaxation: every HKD of subsidy
costs ``lam``, and we bisect on ``lam`` (exact integers ``mu / SCALE``). Each
flow solve gives a dual bound ``L(lam) = max_x sum(value - lam*subsidy) + lam*B``
>= the optimum, and the feasible side gives a primal solution, which a greedy
repair/fill step improves. The reported gap is (bound - objective) / bound.

Seats per origin are hard limits in the same flow: arcs of applicants from an origin whose seats at a
project are limited pass through a node for that (project, origin) group, whose arc to the project
carries the group's most seats (which already leaves the other origins' reserved seats free).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCALE = 100_000  # lam = mu / SCALE: value units per HKD, exact in integer costs


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

    def __post_init__(self) -> None:
        if self.arc_group is None:
            self.arc_group = np.full(len(self.arc_app), -1, np.int64)
            self.group_cap = np.zeros(0, np.int64)

    @property
    def arc_subsidy(self) -> np.ndarray:
        return self.subsidy[self.arc_proj]


def _flow(net: Network, mu: int):
    """Best assignment ignoring the budget, with subsidy priced at mu/SCALE per HKD."""
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
    sink = group0 + n_group

    gain = SCALE * net.value - mu * net.arc_subsidy
    c0 = int(SCALE * net.value.max()) if len(net.value) else 0
    proj_head = np.where(region_node[net.proj_region] >= 0, region_node[net.proj_region], sink)
    apps = np.arange(n_app)
    arc_head = np.where(grouped, group0 + np.maximum(net.arc_group, 0), proj0 + net.arc_proj)
    tails = np.concatenate([np.full(n_app, source), app0 + apps, app0 + net.arc_app,
                            proj0 + np.arange(n_proj), region_node[capped], group0 + np.arange(n_group)])
    heads = np.concatenate([app0 + apps, np.full(n_app, sink), arc_head,
                            proj_head, np.full(len(capped), sink), proj0 + group_proj])
    caps = np.concatenate([np.ones(n_app, np.int64), np.ones(n_app, np.int64),
                           np.ones(len(gain), np.int64), net.capacity,
                           net.region_cap[capped], net.group_cap])
    # Staying unplaced costs c0; a placement costs c0 - gain, so it is taken iff gain > 0
    # (non-negative costs for every mu >= 0 because gain <= SCALE * max value).
    costs = np.concatenate([np.zeros(n_app, np.int64), np.full(n_app, c0, np.int64),
                            c0 - gain, np.zeros(n_proj + len(capped) + n_group, np.int64)])
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int64), heads.astype(np.int64),
                                              caps.astype(np.int64), costs.astype(np.int64))
    supplies = np.zeros(sink + 1, np.int64)
    supplies[source], supplies[sink] = n_app, -n_app
    smcf.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    first = 2 * n_app
    chosen = smcf.flows(np.arange(first, first + len(gain))) > 0
    lagrangian = (float(gain[chosen].sum()) + mu * float(net.budget)) / SCALE
    return chosen, lagrangian


def _spend(net: Network, chosen: np.ndarray) -> int:
    return int(net.arc_subsidy[chosen].sum())


def repair_and_fill(net: Network, chosen: np.ndarray) -> np.ndarray:
    """Make ``chosen`` budget-feasible (drop lowest value per HKD first), then fill slack.

    Filling adds unplaced applicants to projects with free places, best value
    first, while the budget and caps allow; it never moves anyone.
    """
    chosen = chosen.copy()
    subsidy = net.arc_subsidy
    over = _spend(net, chosen) - net.budget
    if over > 0:
        idx = np.flatnonzero(chosen)
        ratio = net.value[idx] / np.maximum(subsidy[idx], 1)
        order = idx[np.lexsort((idx, ratio))]
        cut = np.searchsorted(np.cumsum(subsidy[order]), over) + 1
        chosen[order[:cut]] = False
    used = np.bincount(net.arc_proj[chosen], minlength=len(net.capacity))
    free = net.capacity - used
    region_used = np.bincount(net.proj_region[net.arc_proj[chosen]],
                              minlength=len(net.region_cap))
    region_free = np.where(net.region_cap >= 0, net.region_cap - region_used, np.iinfo(np.int64).max)
    # The last entry stands for "no group": never full.
    in_group = chosen & (net.arc_group >= 0)
    group_free = np.append(net.group_cap - np.bincount(net.arc_group[in_group], minlength=len(net.group_cap)),
                           np.iinfo(np.int64).max)
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
            "budget_binding": False, "price_bracket": None}
    if len(net.value) == 0:
        return np.zeros(0, bool), none
    solves, bound = 0, float("inf")
    best, best_obj = None, -1
    lo = hi = None  # (mu, L(mu), spend): at lo the flow overspends, at hi it keeps to the budget

    def evaluate(mu: int):
        nonlocal solves, bound, best, best_obj, lo, hi
        flow, lag = _flow(net, mu)
        solves += 1
        bound = min(bound, lag)
        point = (mu, lag, _spend(net, flow))
        if point[2] <= net.budget:
            hi = point if hi is None or mu < hi[0] else hi
        else:
            lo = point if lo is None or mu > lo[0] else lo
        cand = repair_and_fill(net, flow)
        obj = int(net.value[cand].sum())
        if obj > best_obj:
            best, best_obj = cand, obj
        if progress:
            progress(min(0.95, solves / 8))
        return flow

    def close_enough() -> bool:
        return bound - best_obj <= tolerance * bound

    price_cap = int(SCALE * net.value.max() // max(1, int(net.subsidy[net.subsidy > 0].min(initial=1)))) + 2
    for mu in sorted({int(m) for m in (start or ()) if m is not None and 0 < m < price_cap}):
        evaluate(mu)
    if lo is None:
        flow = evaluate(0)
        if lo is None:  # the budget-blind assignment keeps to the budget: it is optimal
            obj = int(net.value[flow].sum())
            return flow, {**none, "objective": obj, "bound": float(obj), "flow_solves": solves}
        if hi is None:
            evaluate(min(price_estimate(net, flow), price_cap - 1))
    # Overspending at every price tried: go up, faster each time (at price_cap every placement loses value).
    # From a nearby problem's bracket the price has moved a little: start with steps of about 1% of it.
    step = max(1, lo[0] // 100) if start else lo[0]
    while hi is None and solves < max_iter and not close_enough():
        evaluate(min(price_cap, lo[0] + step))
        step *= 4
    # L(mu) is convex and piecewise linear, with slope (budget - spend) / SCALE at each solve; its minimum
    # lies between lo and hi. Each step tries where the tangents at lo and hi meet, which lands on or next
    # to the kink holding the minimum, and halves the bracket instead when the last step did not shrink it.
    last_width = None
    while hi is not None and hi[0] - lo[0] > 1 and solves < max_iter and not close_enough():
        width = hi[0] - lo[0]
        slope_lo, slope_hi = net.budget - lo[2], net.budget - hi[2]
        mu = lo[0] + width // 2
        if last_width is None or width * 2 <= last_width * 3:
            meet = (SCALE * (hi[1] - lo[1]) + slope_lo * lo[0] - slope_hi * hi[0]) / (slope_lo - slope_hi)
            mu = min(hi[0] - 1, max(lo[0] + 1, int(round(meet))))
        last_width = width
        evaluate(mu)
    gap = max(0.0, (bound - best_obj) / bound) if bound > 0 else 0.0
    return best, {"objective": best_obj, "bound": bound, "gap": gap, "flow_solves": solves,
                  "lambda_per_hkd": (hi[0] if hi else lo[0]) / SCALE, "budget_binding": True,
                  "price_bracket": [int(lo[0]), int(hi[0]) if hi else None]}


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
