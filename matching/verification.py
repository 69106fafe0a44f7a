"""Independent checker of a :class:`MatchResult` against the hard constraints.

Deliberately shares no code with the solvers: it re-checks every placement
with the scalar rules and recounts places, budget and caps from scratch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

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
