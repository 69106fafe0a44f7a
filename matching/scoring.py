"""A proposal's score out of 100: points for how highly the applicant ranked the project, plus text fit.

The engine scores every arc with it and the explanation re-scores pinned placements with it, so it sits
below both.
"""

from __future__ import annotations

import numpy as np

from .model import Policy

CHOICE_POINTS = {1: 60, 2: 48, 3: 38, 4: 30, 5: 24}  # score points; later choices get 20
LATER_CHOICE_POINTS = 20
FIT_POINTS = Policy().fit_weight  # by default score = choice points + 40 x cosine fit, in [0, 100]


def choice_points(rank: np.ndarray, weight: int = 100) -> np.ndarray:
    """Points for each choice rank (0 = not chosen: none), at `weight` percent of CHOICE_POINTS."""
    points = np.zeros(len(rank), np.float64)
    for r, pts in CHOICE_POINTS.items():
        points[rank == r] = pts
    points[rank > max(CHOICE_POINTS)] = LATER_CHOICE_POINTS
    return points * (weight / 100) if weight != 100 else points


def scores(rank: np.ndarray, fit: np.ndarray, policy: Policy) -> np.ndarray:
    """The score of each pair under `policy`: weighted choice points plus fit_weight x text fit."""
    return choice_points(rank, policy.choice_weight) + policy.fit_weight * fit
