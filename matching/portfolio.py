"""The funding portfolio: which projects a scheme funds, and how many places each.

Each submitted project p asks for up to ``max_places`` places and can run with no fewer than
``min_places`` (its organisation's minimum viable number); it is either not funded (0 places) or
funded with x_p in [min_places, max_places]. The scheme's value is sum(score_p * x_p): the weighted
assessment score times places. Limits:

- budget:     sum(subsidy_p * x_p) <= budget (integer HKD);
- region cap: sum over the region's projects of x_p <= cap;
- GBA share:  places in the Greater Bay Area >= share_pct% of all funded places, written linearly
              as sum((share_pct - 100 * gba_p) * x_p) <= 0;
- organisation limit: sum over the organisation's projects of x_p <= limit.

Exact model: a mixed-integer program in HiGHS with integer x_p and a binary "funded" y_p,
min_p * y_p <= x_p <= max_p * y_p. The reported gap is HiGHS's proven relative MIP gap
(bound - value) / bound. If HiGHS is missing or finds no solution within the time limit, the
greedy below is returned, with the gap against the LP bound when one is known.

Greedy (the baseline, and the fallback): take projects by score (highest first, then cheaper per
place), fund as many places as fit the budget, the region's cap and the organisation's limit (never
fewer than the minimum); a non-GBA project is only funded as far as the GBA share still holds, and
projects held back by the share are retried each time GBA places are added.

"What binds": for the budget, each capped region, the GBA share and each organisation limit, the
model is solved again with that limit moved one step (e.g. +HK$1M, +50 places of cap, -5 points of
share), each from a cold start (HiGHS 1.16 hands a MIP start given after a moved bound back unsolved when
presolve reduces the model, so the "re-solve" would report the old portfolio as optimal). A limit
binds when the step buys more value than the solver's gap tolerance. Organisation limits that leave
room for the organisation's largest project in full are screened out without a re-solve (a heuristic
screen: they are reported as not binding).

Every portfolio returned is checked against every limit by ``violations``; an infeasible problem
(e.g. too few GBA places submitted to meet the share with anything funded) returns the empty
portfolio with a reason, never a broken one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

EPS = 1e-6


@dataclass(frozen=True)
class Candidate:
    """One submitted project as the optimiser sees it."""

    key: str
    score: float  # weighted assessment score, value per place
    min_places: int
    max_places: int
    subsidy_per_place: int  # HKD
    region: str
    gba: bool
    organisation: str = ""


@dataclass(frozen=True)
class Limits:
    budget: int  # HKD
    region_caps: dict[str, int] = field(default_factory=dict)  # places; a region not listed is uncapped
    gba_min_share_pct: int = 0  # 0-100
    organisation_limits: dict[str, int] = field(default_factory=dict)  # places per organisation


@dataclass(frozen=True)
class Steps:
    """How far each limit moves for "what binds"."""

    budget: int = 1_000_000
    region_places: int = 50
    share_points: int = 5
    organisation_places: int = 10


@dataclass
class Portfolio:
    places: dict[str, int]  # funded projects only
    value: float
    cost: int
    total_places: int
    method: str  # "mip", "greedy"
    status: str  # "optimal", "time limit", "greedy", "infeasible", ...
    bound: float | None  # proven upper bound on the value, when known
    gap: float | None  # (bound - value) / bound, when a bound is known
    seconds: float
    region_places: dict[str, int] = field(default_factory=dict)
    gba_places: int = 0
    reason: str = ""  # why nothing could be funded, when infeasible


@dataclass(frozen=True)
class Binding:
    limit: str  # "budget", "region", "gba_share", "organisation"
    name: str  # region or organisation key; "" for budget and share
    current: float  # the limit as set
    used: float  # how much of it the portfolio uses
    step: float  # the move tried (HKD, places or share points; share moves down)
    value_gain: float
    places_gain: int
    binds: bool
    seconds: float


# --- checks -------------------------------------------------------------------------------------------

def validate(candidates: list[Candidate], limits: Limits) -> None:
    keys = set()
    for c in candidates:
        if c.key in keys:
            raise ValueError(f"duplicate project {c.key!r}")
        keys.add(c.key)
        if not (1 <= c.min_places <= c.max_places):
            raise ValueError(f"project {c.key!r}: need 1 <= min_places <= max_places")
        if c.subsidy_per_place < 0 or not math.isfinite(c.score) or c.score < 0:
            raise ValueError(f"project {c.key!r}: negative or non-finite score or subsidy")
    if limits.budget < 0 or not (0 <= limits.gba_min_share_pct <= 100):
        raise ValueError("budget must be >= 0 and the GBA share between 0 and 100")
    if any(v < 0 for v in limits.region_caps.values()) or any(v < 0 for v in limits.organisation_limits.values()):
        raise ValueError("caps and limits must be >= 0")


def violations(candidates: list[Candidate], limits: Limits, places: dict[str, int]) -> list[str]:
    """Every limit the given places break (empty when the portfolio is feasible)."""
    by_key = {c.key: c for c in candidates}
    out = []
    cost = total = gba = 0
    region: dict[str, int] = {}
    org: dict[str, int] = {}
    for k, x in places.items():
        c = by_key.get(k)
        if c is None:
            out.append(f"unknown project {k}")
            continue
        if x == 0:
            continue
        if not (c.min_places <= x <= c.max_places):
            out.append(f"project {k}: {x} places outside [{c.min_places}, {c.max_places}]")
        cost += c.subsidy_per_place * x
        total += x
        gba += x if c.gba else 0
        region[c.region] = region.get(c.region, 0) + x
        org[c.organisation] = org.get(c.organisation, 0) + x
    if cost > limits.budget:
        out.append(f"budget: {cost} > {limits.budget}")
    for r, cap in limits.region_caps.items():
        if region.get(r, 0) > cap:
            out.append(f"region {r}: {region[r]} > {cap}")
    for o, cap in limits.organisation_limits.items():
        if org.get(o, 0) > cap:
            out.append(f"organisation {o}: {org[o]} > {cap}")
    if 100 * gba < limits.gba_min_share_pct * total:
        out.append(f"GBA share: {gba} of {total} < {limits.gba_min_share_pct}%")
    return out


def _portfolio(candidates, places, *, method, status, bound, seconds, reason="") -> Portfolio:
    by_key = {c.key: c for c in candidates}
    places = {k: int(x) for k, x in places.items() if x > 0}
    value = float(sum(by_key[k].score * x for k, x in places.items()))
    region: dict[str, int] = {}
    for k, x in places.items():
        region[by_key[k].region] = region.get(by_key[k].region, 0) + x
    gap = None
    if bound is not None:
        bound = max(bound, value)
        gap = (bound - value) / bound if bound > EPS else 0.0
    return Portfolio(
        places=places, value=value, cost=sum(by_key[k].subsidy_per_place * x for k, x in places.items()),
        total_places=sum(places.values()), method=method, status=status, bound=bound, gap=gap,
        seconds=seconds, region_places=region, gba_places=sum(x for k, x in places.items() if by_key[k].gba),
        reason=reason,
    )


def weighted_score(scores: dict[str, int], criteria: dict[str, tuple[int, int]]) -> float:
    """An assessment's weighted total on 0-100: sum(weight * score / top) / sum(weight) * 100.

    ``criteria`` maps each criterion's code to (weight, top score). A negative or zero weight, a top
    score below 1, a criterion left unscored or a score outside 0..top is refused.
    """
    if not criteria:
        raise ValueError("a scheme needs at least one weighted criterion")
    total = weights = 0.0
    for code, (weight, top) in criteria.items():
        if weight is None or weight <= 0 or top is None or top < 1:
            raise ValueError(f"criterion {code!r}: weight must be > 0 and top score >= 1")
        if code not in scores or not (0 <= scores[code] <= top):
            raise ValueError(f"criterion {code!r}: score missing or outside 0..{top}")
        total += weight * scores[code] / top
        weights += weight
    return 100.0 * total / weights


# --- greedy -------------------------------------------------------------------------------------------

def greedy(candidates: list[Candidate], limits: Limits) -> Portfolio:
    """Fund by score, highest first, as far as every limit allows (see the module notes)."""
    validate(candidates, limits)
    t0 = time.perf_counter()
    share = limits.gba_min_share_pct
    order = sorted(candidates, key=lambda c: (-c.score, c.subsidy_per_place, c.key))
    budget_left = limits.budget
    region_left = dict(limits.region_caps)
    org_left = dict(limits.organisation_limits)
    total = gba = 0
    places: dict[str, int] = {}

    def room(c: Candidate) -> int:
        n = c.max_places
        if c.subsidy_per_place > 0:
            n = min(n, budget_left // c.subsidy_per_place)
        if c.region in region_left:
            n = min(n, region_left[c.region])
        if c.organisation in org_left:
            n = min(n, org_left[c.organisation])
        if not c.gba and share > 0:
            # 100 * gba >= share * (total + n)
            n = min(n, (100 * gba) // share - total) if share < 100 else 0
        return n

    def fund(c: Candidate, n: int) -> None:
        nonlocal budget_left, total, gba
        places[c.key] = n
        budget_left -= n * c.subsidy_per_place
        if c.region in region_left:
            region_left[c.region] -= n
        if c.organisation in org_left:
            org_left[c.organisation] -= n
        total += n
        gba += n if c.gba else 0

    held: list[Candidate] = []  # non-GBA projects held back by the share only
    for c in order:
        n = room(c)
        if n >= c.min_places:
            fund(c, n)
            if c.gba and held:
                still = []
                for h in held:  # by score, as they were met
                    m = room(h)
                    if m >= h.min_places:
                        fund(h, m)
                    else:
                        still.append(h)
                held = still
        elif not c.gba and share > 0:
            held.append(c)
    return _portfolio(candidates, places, method="greedy", status="greedy", bound=None,
                      seconds=time.perf_counter() - t0)


# --- the MIP ------------------------------------------------------------------------------------------

class _Model:
    """The HiGHS model, kept so limits can be moved and re-solved warm."""

    def __init__(self, candidates: list[Candidate], limits: Limits, time_limit: float, rel_gap: float):
        import highspy  # noqa: PLC0415 - HiGHS loads only when solving

        self.hs = highspy
        self.c = candidates
        n = len(candidates)
        self.n = n
        mins = np.array([c.min_places for c in candidates], float)
        maxs = np.array([c.max_places for c in candidates], float)
        subsidy = np.array([c.subsidy_per_place for c in candidates], float)
        gba = np.array([c.gba for c in candidates], bool)
        inf = highspy.kHighsInf
        # Columns: x_0..x_{n-1} (places), y_0..y_{n-1} (funded). Rows built row-wise.
        starts, index, value, lower, upper = [0], [], [], [], []

        def row(cols, vals, lo, hi):
            index.extend(int(i) for i in cols)
            value.extend(float(v) for v in vals)
            starts.append(len(index))
            lower.append(lo)
            upper.append(hi)
            return len(lower) - 1

        for i in range(n):
            row([i, n + i], [1.0, -mins[i]], 0.0, inf)  # x >= min * y
            row([i, n + i], [1.0, -maxs[i]], -inf, 0.0)  # x <= max * y
        self.row_budget = row(range(n), subsidy, -inf, float(limits.budget))
        self.row_region: dict[str, int] = {}
        for r, cap in limits.region_caps.items():
            cols = [i for i, c in enumerate(candidates) if c.region == r]
            self.row_region[r] = row(cols, [1.0] * len(cols), -inf, float(cap))
        self.row_org: dict[str, int] = {}
        for o, cap in limits.organisation_limits.items():
            cols = [i for i, c in enumerate(candidates) if c.organisation == o]
            self.row_org[o] = row(cols, [1.0] * len(cols), -inf, float(cap))
        self.row_share = None
        self.gba = gba
        if limits.gba_min_share_pct > 0:
            self.row_share = row(range(n), limits.gba_min_share_pct - 100.0 * gba, -inf, 0.0)

        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = 2 * n, len(lower)
        lp.col_cost_ = np.concatenate([[c.score for c in candidates], np.zeros(n)]).astype(float)
        lp.col_lower_ = np.zeros(2 * n)
        lp.col_upper_ = np.concatenate([maxs, np.ones(n)])
        lp.row_lower_ = np.array(lower, float)
        lp.row_upper_ = np.array(upper, float)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(starts, np.int32)
        lp.a_matrix_.index_ = np.array(index, np.int32)
        lp.a_matrix_.value_ = np.array(value, float)
        lp.integrality_ = [highspy.HighsVarType.kInteger] * (2 * n)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", float(rel_gap))
        # `threads` stays at HiGHS's default: its scheduler is global to the process and shared with the matcher's
        # solves, and a run asking for another thread count than the scheduler's fails before it starts.
        h.passModel(lp)
        self.h = h

    def set_row_upper(self, r: int, hi: float) -> None:
        self.h.changeRowBounds(r, -self.hs.kHighsInf, hi)

    def set_share(self, share_pct: float) -> None:
        coef = share_pct - 100.0 * self.gba
        for i in range(self.n):
            self.h.changeCoeff(self.row_share, i, float(coef[i]))

    def start_from(self, places: dict[str, int]) -> None:
        x = np.array([places.get(c.key, 0) for c in self.c], float)
        sol = self.hs.HighsSolution()
        sol.col_value = list(np.concatenate([x, (x > 0).astype(float)]))
        sol.value_valid = True
        self.h.setSolution(sol)

    def solve(self) -> tuple[dict[str, int] | None, str, float | None]:
        self.h.run()
        status = self.h.getModelStatus()
        ms = self.hs.HighsModelStatus
        info = self.h.getInfo()
        if status == ms.kInfeasible:
            return None, "infeasible", None
        if info.primal_solution_status != 2:  # no feasible solution found
            return None, self.h.modelStatusToString(status).lower(), None
        x = np.rint(np.asarray(self.h.getSolution().col_value)[: self.n]).astype(int)
        places = {c.key: int(v) for c, v in zip(self.c, x, strict=True) if v > 0}
        bound = float(info.mip_dual_bound)
        label = "optimal" if status == ms.kOptimal else self.h.modelStatusToString(status).lower()
        return places, label, bound if math.isfinite(bound) else None


def _lp_bound(candidates: list[Candidate], limits: Limits) -> float | None:
    try:
        m = _Model(candidates, limits, 30.0, 1e-4)
    except ImportError:
        return None
    m.h.changeColsIntegrality(2 * m.n, np.arange(2 * m.n, dtype=np.int32),
                              np.array([m.hs.HighsVarType.kContinuous] * 2 * m.n))
    m.h.run()
    if m.h.getModelStatus() != m.hs.HighsModelStatus.kOptimal:
        return None
    return float(m.h.getInfo().objective_function_value)


def optimise(candidates: list[Candidate], limits: Limits, *, time_limit: float = 10.0,
             rel_gap: float = 1e-4) -> Portfolio:
    """The best portfolio (MIP in HiGHS); the greedy if HiGHS is missing or finds nothing in time."""
    validate(candidates, limits)
    t0 = time.perf_counter()
    base = greedy(candidates, limits)
    if not candidates:
        return replace(base, method="mip", status="optimal", bound=0.0, gap=0.0)
    try:
        model = _Model(candidates, limits, time_limit, rel_gap)
    except ImportError:
        return replace(base, status="greedy (HiGHS not installed)", seconds=time.perf_counter() - t0)
    model.start_from(base.places)  # the greedy is feasible: HiGHS starts from it
    places, status, bound = model.solve()
    if places is None:
        if status == "infeasible" or not base.places:
            return _portfolio(candidates, {}, method="mip", status="infeasible", bound=0.0,
                              seconds=time.perf_counter() - t0, reason=_why_empty(candidates, limits))
        return replace(base, status=f"greedy ({status})", bound=_lp_bound(candidates, limits),
                       seconds=time.perf_counter() - t0)
    if violations(candidates, limits, places):  # numerical trouble: never show a broken portfolio
        return replace(base, status="greedy (solver tolerance)", seconds=time.perf_counter() - t0)
    out = _portfolio(candidates, places, method="mip", status=status, bound=bound,
                     seconds=time.perf_counter() - t0)
    if out.value < base.value:  # only possible when stopped by the time limit
        out = replace(base, status=f"greedy ({status})", bound=bound, seconds=out.seconds)
        out.gap = (bound - out.value) / bound if bound and bound > EPS else 0.0
    if not out.places and limits.gba_min_share_pct > 0:
        out.reason = _why_empty(candidates, limits)
    return out


def _why_empty(candidates: list[Candidate], limits: Limits) -> str:
    if not candidates:
        return "no projects submitted"
    if limits.gba_min_share_pct > 0 and not any(c.gba for c in candidates):
        return (f"no Greater Bay Area project was submitted, so no portfolio can hold "
                f"{limits.gba_min_share_pct}% of its places there")
    if limits.gba_min_share_pct > 0:
        return (f"the Greater Bay Area projects that fit the budget and caps are too few to hold "
                f"{limits.gba_min_share_pct}% of any portfolio's places")
    return "no project fits the budget and caps at its minimum number of places"


# --- what binds ---------------------------------------------------------------------------------------

def what_binds(candidates: list[Candidate], limits: Limits, best: Portfolio, *, steps: Steps = Steps(),
               time_limit: float = 5.0, rel_gap: float = 1e-4) -> list[Binding]:
    """Value and places one step of each limit would buy, by re-solving warm from ``best``."""
    validate(candidates, limits)
    if not candidates:
        return []
    by_key = {c.key: c for c in candidates}
    try:
        model = _Model(candidates, limits, time_limit, rel_gap)
    except ImportError:
        model = None
    out: list[Binding] = []

    def trial(kind: str, name: str, current: float, used: float, step: float, moved: Limits, apply, undo):
        t0 = time.perf_counter()
        if model is not None:
            apply()
            model.h.clearSolver()  # a MIP start after a moved bound comes back unsolved from presolve (HiGHS 1.16)
            places, _, _ = model.solve()
            undo()
            if places is None or violations(candidates, moved, places):
                places = greedy(candidates, moved).places
        else:
            places = greedy(candidates, moved).places
        value = sum(by_key[k].score * x for k, x in places.items())
        gain = max(0.0, value - best.value)
        # A gain within the solver's gap tolerance is not evidence that the limit binds.
        binds = gain > max(EPS, rel_gap) * max(1.0, best.value)
        out.append(Binding(kind, name, current, used, step, gain if binds else 0.0,
                           sum(places.values()) - best.total_places if binds else 0,
                           binds, time.perf_counter() - t0))

    def bound_move(r: int, old: float, new: float):
        if model is None:
            return (lambda: None), (lambda: None)
        return (lambda: model.set_row_upper(r, new)), (lambda: model.set_row_upper(r, old))

    new_budget = limits.budget + steps.budget
    a, u = bound_move(model.row_budget if model else 0, limits.budget, new_budget)
    trial("budget", "", limits.budget, best.cost, steps.budget, replace(limits, budget=new_budget), a, u)
    for r, cap in sorted(limits.region_caps.items()):
        caps = dict(limits.region_caps)
        caps[r] = cap + steps.region_places
        a, u = bound_move(model.row_region[r] if model else 0, cap, caps[r])
        trial("region", r, cap, best.region_places.get(r, 0), steps.region_places,
              replace(limits, region_caps=caps), a, u)
    if limits.gba_min_share_pct > 0:
        share = max(0, limits.gba_min_share_pct - steps.share_points)
        used = 100.0 * best.gba_places / best.total_places if best.total_places else 0.0
        if model is not None:
            a = lambda: model.set_share(share)  # noqa: E731
            u = lambda: model.set_share(limits.gba_min_share_pct)  # noqa: E731
        else:
            a = u = lambda: None  # noqa: E731
        trial("gba_share", "", limits.gba_min_share_pct, used, steps.share_points,
              replace(limits, gba_min_share_pct=share), a, u)
    org_used: dict[str, int] = {}
    for k, x in best.places.items():
        org_used[by_key[k].organisation] = org_used.get(by_key[k].organisation, 0) + x
    biggest: dict[str, int] = {}
    for c in candidates:
        biggest[c.organisation] = max(biggest.get(c.organisation, 0), c.max_places)
    for o, cap in sorted(limits.organisation_limits.items()):
        if org_used.get(o, 0) + biggest.get(o, 0) <= cap:
            # Screened out: the organisation's limit leaves room for its largest project in full, so
            # it blocks nothing at this portfolio (reported as not binding, without a re-solve).
            out.append(Binding("organisation", o, cap, org_used.get(o, 0), steps.organisation_places,
                               0.0, 0, False, 0.0))
            continue
        lim = dict(limits.organisation_limits)
        lim[o] = cap + steps.organisation_places
        a, u = bound_move(model.row_org[o] if model else 0, cap, lim[o])
        trial("organisation", o, cap, org_used.get(o, 0), steps.organisation_places,
              replace(limits, organisation_limits=lim), a, u)
    return out


# --- synthetic data (tests and benchmark) -------------------------------------------------------------

REGIONS = ("Hong Kong", "Guangdong", "Shanghai", "Beijing", "Overseas")
GBA_REGIONS = {"Hong Kong", "Guangdong"}


def synthetic(n: int, *, seed: int = 0, tight: bool = True) -> tuple[list[Candidate], Limits]:
    """n projects with scores 40-95, 5-60 places, HK$8k-60k a place; limits that bind when tight."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        region = REGIONS[int(rng.choice(len(REGIONS), p=[0.35, 0.25, 0.15, 0.15, 0.10]))]
        asked = int(rng.integers(5, 61))
        out.append(Candidate(
            key=f"p{i}", score=round(float(rng.uniform(40, 95)), 2),
            min_places=max(1, int(asked * rng.uniform(0.3, 0.8))), max_places=asked,
            subsidy_per_place=int(rng.integers(8, 61)) * 1000, region=region, gba=region in GBA_REGIONS,
            organisation=f"org{int(rng.integers(0, max(1, n // 4)))}",
        ))
    all_cost = sum(c.max_places * c.subsidy_per_place for c in out)
    frac = 0.45 if tight else 1.5
    region_total = {r: sum(c.max_places for c in out if c.region == r) for r in REGIONS}
    limits = Limits(
        budget=int(all_cost * frac),
        region_caps={"Guangdong": int(region_total["Guangdong"] * (0.3 if tight else 2)),
                     "Overseas": int(region_total["Overseas"] * (0.4 if tight else 2))},
        gba_min_share_pct=60 if tight else 0,
        organisation_limits={o: 90 for o in sorted({c.organisation for c in out})[:: 7]} if tight else {},
    )
    return out, limits
