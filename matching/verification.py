"""Independent checkers of a :class:`MatchResult`.

``verify``: the hard constraints. ``blocking_pairs``: stable mode's guarantee (no admissible blocking
pair). Both deliberately share no code with the solvers: ``verify`` re-checks every placement with the
scalar rules and recounts places, budget and caps from scratch; ``blocking_pairs`` takes only the two
sides' preference orders from the engine's ``prepare`` and recounts the rest from the placements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from .model import Applicant, MatchResult, Project, Scheme
from .rules import is_eligible


def verify(result: MatchResult, projects: Sequence[Project], applicants: Sequence[Applicant],
           scheme: Scheme, *, excluded: Iterable[tuple[str, str]] = ()) -> list[str]:
    """Every broken hard constraint, as text (an empty list means the result is valid)."""
    problems: list[str] = []
    by_project = {p.id: p for p in projects}
    by_applicant = {a.id: a for a in applicants}
    banned = set(excluded)
    per_applicant = Counter(pl.applicant_id for pl in result.placements)
    for aid, n in sorted(per_applicant.items()):
        if n > 1:
            problems.append(f"applicant {aid} placed {n} times")
    per_project: Counter = Counter()
    per_region: Counter = Counter()
    spent = 0
    for pl in result.placements:
        p, a = by_project.get(pl.project_id), by_applicant.get(pl.applicant_id)
        if p is None or a is None:
            problems.append(f"placement ({pl.applicant_id}, {pl.project_id}) names an unknown id")
            continue
        if not is_eligible(a, p):
            problems.append(f"applicant {a.id} is not eligible for project {p.id}")
        if (a.id, p.id) in banned:
            problems.append(f"excluded pair ({a.id}, {p.id}) was placed")
        per_project[p.id] += 1
        per_region[p.region] += 1
        spent += p.subsidy_per_place
    for pid, n in sorted(per_project.items()):
        if n > by_project[pid].places:
            problems.append(f"project {pid} has {n} placements for {by_project[pid].places} places")
    per_origin = Counter((pl.project_id, by_applicant[pl.applicant_id].origin) for pl in result.placements
                         if pl.project_id in by_project and pl.applicant_id in by_applicant)
    for (pid, origin), n in sorted(per_origin.items()):
        p = by_project[pid]
        if not p.origin_seats:
            continue
        # Kept empty, another origin's reserved seats are out of reach; released, only the origin's own limit holds.
        limit = p.most_seats(origin) if scheme.reserved_seats == "keep" else \
            min(p.origin_seats.get(origin, (0, p.places))[1], p.places)
        if n > limit:
            problems.append(f"project {pid} has {n} applicants from {origin}, at most {limit} allowed")
    for region, cap in sorted(scheme.region_caps.items()):
        if per_region[region] > cap:
            problems.append(f"region {region} has {per_region[region]} placements, cap {cap}")
    if spent > scheme.budget_hkd:
        problems.append(f"subsidy HK${spent:,} exceeds the budget HK${scheme.budget_hkd:,}")
    unplaced = {u.applicant_id for u in result.unplaced}
    if unplaced & set(per_applicant):
        problems.append("some applicants are both placed and unplaced")
    missing = set(by_applicant) - unplaced - set(per_applicant)
    if missing:
        problems.append(f"{len(missing)} applicants are neither placed nor unplaced")
    return problems


# --- stability: admissible blocking pairs (docs/matching.md, "Stable mode") -------------------------


def blocking_pairs(result: MatchResult, projects: Sequence[Project], applicants: Sequence[Applicant],
                   scheme: Scheme, *, rankings: Mapping[str, Sequence[str]] | None = None,
                   pinned: Iterable[tuple[str, str]] = (), excluded: Iterable[tuple[str, str]] = (),
                   top_k: int | None = None, seed: int | None = None) -> list[tuple[str, str]]:
    """The admissible blocking pairs (applicant id, project id) of a stable-mode `result`, sorted.

    Pass the inputs of the ``match()`` call (`rankings`, `pinned`, `excluded`); `top_k` and `seed`
    default to the ones in ``result.report``. Both sides' orders are rebuilt with the engine's
    ``prepare`` and ``project_priorities`` (the same lists deferred acceptance saw); the check itself
    shares nothing with the solver. See :func:`blocking_arcs` for the exact definition.
    """
    # Imported here so that importing the package (and `verify`) stays free of numpy.
    from .engine import DEFAULT_SEED, DEFAULT_TOP_K, prepare, project_priorities  # noqa: PLC0415

    report = result.report or {}
    problem = prepare(projects, applicants, scheme, pinned=pinned, excluded=excluded,
                      top_k=top_k if top_k is not None else int(report.get("top_k", DEFAULT_TOP_K)),
                      seed=seed if seed is not None else int(report.get("seed", DEFAULT_SEED)))
    arcs = blocking_arcs(problem, project_priorities(problem, rankings), result)
    return sorted((problem.applicants[i].id, problem.projects[j].id)
                  for i, j in zip(problem.arc_app[arcs].tolist(), problem.arc_proj[arcs].tolist(), strict=True))


def blocking_arcs(problem, priority, result: MatchResult):
    """Indices of the arcs of `problem` (engine.Problem) that block `result`, vectorised over arcs.

    An arc (a, p) is an applicant's eligible, non-excluded project on her list (choices, then
    suggestions); arcs come grouped by applicant in her order of preference and ``priority[arc]`` is p's
    rank of a (lower is better, compared within one project). The pair blocks when a is unplaced or
    placed at a project later in her list, and either

    * (i) justified envy: p holds a non-pinned applicant b it ranks below a whom its choice function
      would drop for a: b of a's origin, or a's origin still under its seat limit at p and b not
      holding a seat reserved for b's origin (reserves count only under ``reserved_seats="release"``;
      under "keep" they are already inside the other origins' limits); or
    * (ii) fundable waste: p has fewer placements than places, one more placement at p on top of all
      current ones stays within the budget and p's regional cap, and a's origin is under its seat
      limit at p.

    Seat limit of origin o at p: ``most_seats(o)`` with reserved seats kept, ``min(most_o, places)``
    when released. Pinned placements count towards places, budget, caps and seats but are never
    displaced, and pinned applicants have no arcs, so they never block.
    """
    import numpy as np  # noqa: PLC0415

    from .model import ORIGINS  # noqa: PLC0415

    projects, applicants, scheme = problem.projects, problem.applicants, problem.scheme
    n_app, n_proj, n_orig = len(applicants), len(projects), len(ORIGINS) + 1
    arc_app, arc_proj = problem.arc_app, problem.arc_proj
    n_arcs = len(arc_app)
    if n_arcs == 0:
        return np.zeros(0, np.int64)
    aindex = {a.id: i for i, a in enumerate(applicants)}
    pindex = {p.id: j for j, p in enumerate(projects)}
    placed = np.full(n_app, -1, np.int64)
    for pl in result.placements:
        i, j = aindex.get(pl.applicant_id), pindex.get(pl.project_id)
        if i is not None and j is not None:
            placed[i] = j
    oindex = {o: k for k, o in enumerate(ORIGINS)}
    origin = np.array([oindex.get(a.origin, len(ORIGINS)) for a in applicants], np.int64)
    is_pinned = np.zeros(n_app, bool)
    is_pinned[np.fromiter(problem.pinned, np.int64, len(problem.pinned))] = True

    # Recount the final state from the placements alone.
    rows = np.flatnonzero(placed >= 0)
    count = np.bincount(placed[rows], minlength=n_proj)
    held = np.bincount(placed[rows] * n_orig + origin[rows], minlength=n_proj * n_orig).reshape(n_proj, n_orig)
    pins = rows[is_pinned[rows]]
    held_pinned = np.bincount(placed[pins] * n_orig + origin[pins],
                              minlength=n_proj * n_orig).reshape(n_proj, n_orig)
    places = np.array([max(0, p.places) for p in projects], np.int64)
    subsidy = np.array([p.subsidy_per_place for p in projects], np.int64)
    spent = int(subsidy[placed[rows]].sum())
    regions = sorted({p.region for p in projects})
    rix = {r: k for k, r in enumerate(regions)}
    region = np.array([rix[p.region] for p in projects], np.int64)
    region_count = np.bincount(region, weights=count, minlength=len(regions))
    cap = np.array([scheme.region_caps.get(r, -1) for r in regions], np.int64)
    region_room = (cap < 0) | (region_count + 1 <= cap)

    # Seat limits and reserves per (project, origin).
    limit = np.repeat(places[:, None], n_orig, axis=1)
    reserve = np.zeros((n_proj, n_orig), np.int64)
    release = scheme.reserved_seats == "release"
    for j, p in enumerate(projects):
        if not p.origin_seats:
            continue
        for k, o in enumerate(ORIGINS):
            lo, hi = p.origin_seats.get(o, (0, p.places))
            limit[j, k] = min(hi, p.places) if release else p.most_seats(o)
            reserve[j, k] = lo if release else 0

    # Where each applicant stands in her own list: the arc of her placement, or past her last arc.
    start = np.searchsorted(arc_app, np.arange(n_app + 1))
    mine = start[1:].copy()
    on_list = np.flatnonzero(arc_proj == placed[arc_app])
    first = np.unique(arc_app[on_list], return_index=True)
    mine[first[0]] = on_list[first[1]]
    wants = np.arange(n_arcs) < mine[arc_app]

    # The worst-ranked non-pinned holder per (project, origin), and per project the worst one the project
    # could drop for another origin (not holding a seat reserved for her own origin).
    holder_arcs = mine[(placed >= 0) & ~is_pinned & (mine < start[1:])]
    worst = np.full(n_proj * n_orig, -1, np.int64)
    np.maximum.at(worst, arc_proj[holder_arcs] * n_orig + origin[arc_app[holder_arcs]], priority[holder_arcs])
    worst = worst.reshape(n_proj, n_orig)
    reserved_left = np.maximum(0, reserve - held_pinned)
    droppable = (held - held_pinned) > reserved_left
    worst_droppable = np.where(droppable, worst, -1).max(axis=1)

    ao = origin[arc_app]
    prio = priority
    room = held[arc_proj, ao] < limit[arc_proj, ao]
    envy = (prio < worst[arc_proj, ao]) | (room & (prio < worst_droppable[arc_proj]))
    waste = (room & (count[arc_proj] < places[arc_proj]) & (spent + subsidy[arc_proj] <= scheme.budget_hkd)
             & region_room[region[arc_proj]])
    return np.flatnonzero(wants & (envy | waste))
