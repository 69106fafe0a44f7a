"""Turn solver output into placements with reasons, unplaced reasons and the report."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from .model import ORIGINS, MatchResult, Placement, Reason, Unplaced
from .rules import RULES, check_rule, describe
from .scoring import scores


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


_PINNED = Reason("pinned", {}, "placed by the coordinator")
_OPEN = Reason("open_to_other", {}, "suggested because you were open to other projects")
_FIRST_TIMER = Reason("first_timer", {}, "first-time participant priority")
_RULES_PASSED = Reason("rules_passed", {"rules": list(RULES)}, f"meets all {len(RULES)} requirements")
_CHOICE = {r: Reason("choice", {"rank": r}, f"your {ordinal(r)} choice") for r in range(1, 21)}


def _placement_reasons(problem, i: int, rank: int, pinned: bool, terms: list[str]
                       ) -> tuple[Reason, ...]:
    # Reasons are immutable, so the common ones are shared instances.
    reasons = [_PINNED] if pinned else []
    if rank:
        reasons.append(_CHOICE.get(rank) or Reason("choice", {"rank": rank},
                                                   f"your {ordinal(rank)} choice"))
    else:
        reasons.append(_OPEN)
    if terms:
        reasons.append(Reason("shared_terms", {"terms": terms},
                              "shared interests: " + ", ".join(terms)))
    if problem.applicants[i].first_timer and problem.policy.first_timer_priority:
        reasons.append(_FIRST_TIMER)
    reasons.append(_RULES_PASSED)
    return tuple(reasons)


def _ineligible_reasons(problem, rows: np.ndarray, chunk: int = 1024) -> dict[int, Unplaced]:
    """For applicants with no eligible project: the most common failing rule, with an example.

    The projects considered are the applicant's choices, or every project when
    she is open to others.
    """
    rules, projects = problem.rules, problem.projects
    hard = RULES[:-1]  # 'choices' only decides which projects are considered
    out: dict[int, Unplaced] = {}
    n_rows, n_proj = len(rows), len(projects)
    # Per rule and applicant: how many considered projects fail it, and the first of them (n_proj: none).
    counts = np.zeros((len(hard), n_rows), np.int64)
    first = np.full((len(hard), n_rows), n_proj, np.int64)
    n_considered = np.zeros(n_rows, np.int64)
    is_open = rules.a_open[rows]
    # Those open to others are judged against every project, a block of whole rule matrices at a time.
    wide = np.flatnonzero(is_open)
    n_considered[wide] = n_proj
    for s in range(0, len(wide), chunk):
        at = wide[s:s + chunk]
        mats = rules.rule_matrices(rows[at])
        for k, rule in enumerate(hard):
            failed = ~mats[rule]
            counts[k, at] = np.count_nonzero(failed, axis=1)
            if n_proj:
                first[k, at] = np.where(counts[k, at] > 0, failed.argmax(axis=1), n_proj)
    # The others only against their few choices, pair by pair: most of them are in this group, and a
    # matrix against every project would be nearly all waste.
    pos = np.full(len(rules.a_open), -1, np.int64)
    pos[rows[~is_open]] = np.flatnonzero(~is_open)
    sel = pos[rules.choice_app] >= 0
    who, proj = pos[rules.choice_app[sel]], rules.choice_proj[sel]
    n_considered += np.bincount(who, minlength=n_rows)
    checks = rules.pair_rules(rules.choice_app[sel], proj)
    for k, rule in enumerate(hard):
        failed = ~checks[rule]
        counts[k] += np.bincount(who[failed], minlength=n_rows)
        np.minimum.at(first[k], who[failed], proj[failed])
    # Each applicant's most failed rule (ties: earliest in RULES order) and the first project it fails at.
    worst = counts.argmax(axis=0)
    cols = np.arange(n_rows)
    for i, k, j, n, m in zip(rows.tolist(), worst.tolist(), first[worst, cols].tolist(),
                             counts[worst, cols].tolist(), n_considered.tolist(), strict=True):
        a = problem.applicants[i]
        if m == 0:
            out[i] = Unplaced(a.id, "no_choices", {},
                              "made no valid choices and is not open to other projects")
            continue
        if n == 0:
            out[i] = Unplaced(a.id, "excluded", {},
                              "eligible only for projects excluded for this applicant")
            continue
        rule = hard[k]
        check = check_rule(rule, a, projects[j])
        what = "projects" if a.open_to_other else "choices"
        params = {"rule": rule, "failed": n, "considered": m, "code": check.code,
                  "example_project": projects[j].id, **check.params}
        out[i] = Unplaced(a.id, "ineligible", params,
                          f"not eligible for any project: {rule} ({describe(check)}) "
                          f"fails for {n} of {m} {what}")
    return out


# Why a project's places stayed empty: the first of these that applies (docs/matching.md, "Empty seats").
EMPTY_SEAT_REASONS = ("no_applicant", "all_placed_higher", "origin_seats", "budget", "regional_cap", "rationed",
                      "placed_elsewhere", "not_selected")


def _empty_seats(problem, assigned: np.ndarray, placed_proj: np.ndarray, counts: np.ndarray, budget_left: int,
                 region_full: np.ndarray, arc_room: np.ndarray, mode: str, rationed: bool,
                 arc_start: np.ndarray) -> list[dict[str, Any]]:
    """Every project with places left empty, how many, and the first reason in EMPTY_SEAT_REASONS order.

    Judged on the final state, over arcs (an applicant's eligible listed or suggested projects). An
    applicant *wants* p when p comes before her placement in her list, or she is unplaced; `arc_room`
    says whether her origin may still take a seat at p; `arc_start[a]:arc_start[a + 1]` are applicant a's arcs.
    """
    projects = problem.projects
    n_proj = len(projects)
    places = np.array([max(0, p.places) for p in projects], np.int64)
    empty = places - counts
    todo = np.flatnonzero(empty > 0)
    if not len(todo):
        return []
    arc_app, arc_proj = problem.arc_app, problem.arc_proj
    mine = np.where(assigned >= 0, assigned, arc_start[1:])  # her placement's arc, or past her last arc
    wants = np.arange(len(arc_app)) < mine[arc_app]
    unplaced = assigned[arc_app] < 0
    listed = np.bincount(arc_proj, minlength=n_proj)
    wanting = np.bincount(arc_proj[wants], minlength=n_proj)
    wanting_room = np.bincount(arc_proj[wants & arc_room], minlength=n_proj)
    wanting_unplaced = np.bincount(arc_proj[wants & arc_room & unplaced], minlength=n_proj)
    origin = problem.rules.a_origin
    held = Counter(zip(placed_proj[placed_proj >= 0].tolist(), origin[placed_proj >= 0].tolist(), strict=True))
    regions, caps = problem.region_names, problem.scheme.region_caps
    out: list[dict[str, Any]] = []
    for j in todo.tolist():
        p = projects[j]
        row: dict[str, Any] = {"project_id": p.id, "empty": int(empty[j]), "reason": "",
                               "places": int(places[j]), "placed": int(counts[j])}
        if listed[j] == 0:
            row["reason"] = "no_applicant"
        elif wanting[j] == 0:
            row.update(reason="all_placed_higher", eligible=int(listed[j]))
        elif wanting_room[j] == 0:
            reserved_empty = {o: lo - held[(j, k)] for k, o in enumerate(ORIGINS)
                              for lo, _hi in [p.origin_seats.get(o, (0, 0))] if lo > held[(j, k)]}
            row.update(reason="origin_seats", wanting=int(wanting[j]), reserved_empty=reserved_empty)
        elif budget_left < problem.subsidy[j]:
            row.update(reason="budget", budget_left_hkd=int(budget_left), subsidy_per_place=int(problem.subsidy[j]))
        elif region_full[problem.proj_region[j]]:
            region = regions[problem.proj_region[j]]
            row.update(reason="regional_cap", region=region, cap=int(caps[region]))
        elif mode == "stable" and rationed:
            row.update(reason="rationed", wanting=int(wanting_room[j]))
        elif wanting_unplaced[j] == 0:
            row.update(reason="placed_elsewhere", wanting=int(wanting_room[j]))
        else:
            row.update(reason="not_selected", wanting=int(wanting_unplaced[j]))
        out.append(row)
    return out


def build_result(problem, assigned: np.ndarray, info: dict, *, mode: str, seed: int,
                 top_k: int) -> MatchResult:
    projects, applicants = problem.projects, problem.applicants
    n_proj = len(projects)
    placed_proj = np.full(len(applicants), -1, np.int64)
    placed_proj[assigned >= 0] = problem.arc_proj[assigned[assigned >= 0]]
    for i, j in problem.pinned.items():
        placed_proj[i] = j

    placements = []
    placed_rows = np.flatnonzero(placed_proj >= 0)
    shared = problem.text.shared_terms_many(placed_rows, placed_proj[placed_rows], 3)
    # A solver's placement is one of its arcs, which carry her choice rank (where the project first comes in her
    # choices, 0 when suggested) and the score, read here for all at once; a pinned placement is no arc.
    solved = ~np.isin(placed_rows, np.fromiter(problem.pinned, np.int64, len(problem.pinned)))
    arc_of = assigned[placed_rows[solved]]
    rank_of = np.zeros(len(placed_rows), np.int64)
    rank_of[solved] = problem.arc_rank[arc_of]
    score_of = np.zeros(len(placed_rows), np.float64)
    score_of[solved] = problem.arc_score[arc_of]
    for i, j, rank, score, terms in zip(placed_rows.tolist(), placed_proj[placed_rows].tolist(), rank_of.tolist(),
                                        score_of.tolist(), shared, strict=True):
        a = applicants[i]
        pinned = i in problem.pinned
        if pinned:
            rank = a.choices.index(projects[j].id) + 1 if projects[j].id in a.choices else 0
            fit = float(problem.text.pair_fit(np.array([i]), np.array([j]))[0])
            score = float(scores(np.array([rank]), np.array([fit]), problem.policy)[0])
        placements.append(Placement(a.id, projects[j].id, round(score, 2), rank or None,
                                    _placement_reasons(problem, i, rank, pinned, terms)))
    placements.sort(key=lambda p: (p.applicant_id, p.project_id))

    counts = np.bincount(placed_proj[placed_proj >= 0], minlength=n_proj)
    spent = int((counts * problem.subsidy).sum())
    budget = int(problem.scheme.budget_hkd)
    region_count = np.bincount(problem.proj_region, weights=counts,
                               minlength=len(problem.region_names)).astype(int)
    caps = problem.scheme.region_caps
    places = np.array([p.places for p in projects], np.int64)

    unplaced = []
    arc_start = np.searchsorted(problem.arc_app, np.arange(len(applicants) + 1))
    missing = np.flatnonzero((placed_proj < 0) & (arc_start[1:] == arc_start[:-1]))
    ineligible = _ineligible_reasons(problem, missing)
    # What blocked each unplaced applicant, judged on the final state, per arc.
    arc_proj = problem.arc_proj
    cap_arr = np.array([caps.get(r, -1) for r in problem.region_names], np.int64)
    region_full = (cap_arr >= 0) & (region_count >= cap_arr)
    free = counts[arc_proj] < places[arc_proj]
    cap_block = free & region_full[problem.proj_region[arc_proj]]
    budget_block = free & ~cap_block & (budget - spent < problem.subsidy[arc_proj])
    # Seats per origin: a place was free, but not one this applicant's origin may take.
    release = problem.scheme.reserved_seats == "release" and mode == "stable"
    group_limit = problem.group_own_most if release else problem.group_most
    group_used = np.bincount(problem.arc_group[assigned[(assigned >= 0)]][
        problem.arc_group[assigned[(assigned >= 0)]] >= 0], minlength=len(group_limit))
    group_full = np.append(group_used >= group_limit, False)  # the last entry: arcs in no group
    origin_block = free & ~cap_block & ~budget_block & group_full[problem.arc_group]
    n_arcs_of = np.diff(arc_start)
    big = len(arc_proj)

    def first_arc(mask):
        first = np.full(len(applicants), big, np.int64)
        idx = np.flatnonzero(mask)
        np.minimum.at(first, problem.arc_app[idx], idx)
        return first

    first_budget, first_cap, first_free = first_arc(budget_block), first_arc(cap_block), \
        first_arc(free)
    first_origin = first_arc(origin_block)
    rows = np.flatnonzero(placed_proj < 0)
    # Each unplaced applicant's figures as Python ints, taken for all at once: reading numpy one scalar at a
    # time was most of this loop's cost.
    for i, n_arcs, at_budget, at_cap, at_origin, at_free in zip(
            rows.tolist(), *(x[rows].tolist() for x in (n_arcs_of, first_budget, first_cap, first_origin, first_free)),
            strict=True):
        a = applicants[i]
        if n_arcs == 0:
            unplaced.append(ineligible[i])
        elif at_budget < big:
            p = int(arc_proj[at_budget])
            unplaced.append(Unplaced(a.id, "budget_exhausted", {
                "project_id": projects[p].id, "budget_left": budget - spent,
                "subsidy_per_place": int(problem.subsidy[p])},
                f"a place was free at eligible project {projects[p].id} but the budget could "
                f"not fund it (HK${budget - spent:,} left, a place costs "
                f"HK${int(problem.subsidy[p]):,})"))
        elif at_cap < big:
            p = int(arc_proj[at_cap])
            region = projects[p].region
            unplaced.append(Unplaced(a.id, "regional_cap_exhausted", {
                "project_id": projects[p].id, "region": region, "cap": int(caps[region])},
                f"a place was free at eligible project {projects[p].id} but the {region} cap "
                f"of {int(caps[region]):,} places was reached"))
        elif at_origin < big:
            arc = int(at_origin)
            p, g = int(arc_proj[arc]), int(problem.arc_group[arc])
            origin, limit = problem.group_origin[g], int(group_limit[g])
            unplaced.append(Unplaced(a.id, "origin_seats_full", {
                "project_id": projects[p].id, "origin": origin, "seats": limit},
                f"a place was free at eligible project {projects[p].id} but its {limit} seat(s) "
                f"for applicants from {origin} were taken"))
        elif at_free == big:
            unplaced.append(Unplaced(a.id, "outcompeted", {"eligible_projects": n_arcs},
                                     f"eligible for {n_arcs} project(s) but their places "
                                     "went to other applicants"))
        else:
            unplaced.append(Unplaced(a.id, "not_selected", {"eligible_projects": n_arcs},
                                     "eligible but not selected"))
    unplaced.sort(key=lambda u: u.applicant_id)

    empty_seats = _empty_seats(problem, assigned, placed_proj, counts, budget - spent, region_full,
                               ~group_full[problem.arc_group], mode, bool(info.get("rationed")), arc_start)

    ranks = Counter(p.choice_rank or 0 for p in placements)
    first_timers = [a for a in applicants if a.first_timer]
    placed_ids = {p.applicant_id for p in placements}
    gap = info.get("gap")
    report: dict[str, Any] = {
        "mode": mode, "seed": seed, "top_k": top_k, "policy": problem.policy.as_dict(), "scheme": problem.scheme.name,
        "applicants": len(applicants), "projects": n_proj,
        "eligible_applicants": int(np.count_nonzero(n_arcs_of) + len(problem.pinned)),
        "arcs": int(len(problem.arc_app)),
        "placed": len(placements), "places_total": int(places.sum()),
        "pinned": len(problem.pinned), "excluded_pairs": len(problem.excluded),
        "budget_hkd": budget, "budget_used_hkd": spent, "budget_left_hkd": budget - spent,
        "first_choice_share": round(ranks[1] / len(placements), 4) if placements else 0.0,
        "choice_ranks": {("suggested" if r == 0 else str(r)): n for r, n in sorted(ranks.items())},
        "first_timers_placed": sum(1 for a in first_timers if a.id in placed_ids),
        "first_timers_total": len(first_timers),
        "regions": {r: {"places": int(places[problem.proj_region == k].sum()),
                        "placed": int(region_count[k]),
                        "cap": int(caps[r]) if r in caps else None}
                    for k, r in enumerate(problem.region_names)},
        "unplaced_reasons": dict(sorted(Counter(u.reason_code for u in unplaced).items())),
        "empty_seats": empty_seats,
        "objective": info.get("objective"),
        "bound": None if info.get("bound") is None else round(float(info["bound"]), 3),
        "gap": None if gap is None else round(float(gap), 8),
        "solver": {k: v for k, v in info.items() if k not in ("objective", "bound", "gap")},
        # How a binding regional cap was kept (stable mode only; optimal mode holds caps as hard limits).
        "cap_rule": problem.scheme.cap_rule if mode == "stable" else None,
        "warnings": list(problem.warnings),
    }
    return MatchResult(placements, unplaced, report)
