"""What a policy costs: the same round solved under other policies, and what each gives.

The candidate pairs, eligibility and text fit do not depend on the policy, so the inputs are prepared once
(`engine.prepare`) and each policy only re-weighs the pairs (`engine.reweigh`) and re-solves them in optimal
mode: one more solve per policy, not a whole round (at national scale the solve is about a third of a round).

For each policy: places filled, first-time participants among those placed, placements in the applicant's
own field (`matching.fields`) and the mean text fit of the placements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import optimal
from .engine import DEFAULT_SEED, Problem, optimal_network, prepare, reweigh
from .fields import sector_indices
from .model import Applicant, MatchResult, Policy, Project, Scheme

# The lighter first-timer priority compared with the scheme's own: a quarter of today's 300 lets a
# placement whose fit is better by more than 0.19 (7.5 score points at fit weight 40) go to someone who
# took part before.
LIGHTER_PRIORITY = 75


@dataclass(frozen=True)
class Outcome:
    """What a policy gives on the round's inputs."""

    label: str
    policy: Policy
    placed: int
    first_timers_placed: int
    own_field: int
    mean_fit: float
    applicants: int
    first_timers: int

    @property
    def first_timer_share(self) -> float:
        return self.first_timers_placed / self.placed if self.placed else 0.0

    @property
    def own_field_share(self) -> float:
        return self.own_field / self.placed if self.placed else 0.0

    def as_dict(self) -> dict:
        return {"label": self.label, "policy": self.policy.as_dict(), "placed": self.placed,
                "first_timers_placed": self.first_timers_placed, "first_timer_share": round(self.first_timer_share, 4),
                "own_field": self.own_field, "own_field_share": round(self.own_field_share, 4),
                "mean_fit": round(self.mean_fit, 4), "applicants": self.applicants, "first_timers": self.first_timers}


def alternatives(policy: Policy) -> dict[str, Policy]:
    """The policies a round is compared with: its own, a lighter first-timer priority, and none."""
    out = {"scheme": policy}
    if policy.first_timer_priority > LIGHTER_PRIORITY:
        out["lighter"] = Policy(LIGHTER_PRIORITY, policy.choice_weight, policy.fit_weight)
    if policy.first_timer_priority > 0:
        out["off"] = Policy(0, policy.choice_weight, policy.fit_weight)
    return out


def _outcome(problem: Problem, label: str, app: np.ndarray, proj: np.ndarray, app_sector: np.ndarray,
             proj_sector: np.ndarray, first: np.ndarray) -> Outcome:
    fit = problem.text.pair_fit(app, proj) if len(app) else np.zeros(0)
    return Outcome(label, problem.policy, int(len(app)), int(first[app].sum()),
                   int((app_sector[app] == proj_sector[proj]).sum()),
                   float(np.clip(fit, 0.0, 1.0).mean()) if len(app) else 0.0,
                   len(problem.applicants), int(first.sum()))


def compare(projects: Sequence[Project], applicants: Sequence[Applicant], scheme: Scheme,
            policies: Mapping[str, Policy], *, pinned: Iterable[tuple[str, str]] = (),
            excluded: Iterable[tuple[str, str]] = (), seed: int = DEFAULT_SEED,
            progress: Callable[[float], None] | None = None,
            solved: Mapping[str, MatchResult] | None = None) -> list[Outcome]:
    """Each policy's outcome on these inputs, solved in optimal mode, in the order given.

    `solved`: labels whose optimal-mode result on exactly these inputs the caller already has (the round's
    own, in an optimal round); they are read from it instead of being solved again."""
    base = prepare(projects, applicants, scheme, pinned=pinned, excluded=excluded, seed=seed)
    local = np.unique(base.arc_app, return_inverse=True)[1]
    app_sector, proj_sector = sector_indices(base.applicants, base.projects)
    first = np.array([a.first_timer for a in base.applicants], bool)
    outcomes = []
    aindex = {a.id: i for i, a in enumerate(base.applicants)}
    pindex = {p.id: j for j, p in enumerate(base.projects)}
    for k, (label, policy) in enumerate(policies.items()):
        problem = reweigh(base, policy)
        if solved and label in solved:
            pairs = [(aindex[p.applicant_id], pindex[p.project_id]) for p in solved[label].placements]
            app, proj = (np.array(side, np.int64).reshape(-1) for side in zip(*pairs, strict=True)) if pairs else \
                (np.zeros(0, np.int64), np.zeros(0, np.int64))
        else:
            chosen, _info = optimal.solve(optimal_network(problem, local))
            arcs = np.flatnonzero(chosen)
            app = np.concatenate([problem.arc_app[arcs], np.fromiter(problem.pinned, np.int64)])
            proj = np.concatenate([problem.arc_proj[arcs], np.fromiter(problem.pinned.values(), np.int64)])
        outcomes.append(_outcome(problem, label, app, proj, app_sector, proj_sector, first))
        if progress:
            progress((k + 1) / len(policies))
    return outcomes
