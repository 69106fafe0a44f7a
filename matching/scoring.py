"""A proposal's score out of 100: points for how highly the applicant ranked the project, plus text fit.

The engine scores every arc with it and the explanation re-scores pinned placements with it, so it sits
below both.
"""

from __future__ import annotations

import numpy as np

CHOICE_POINTS = {1: 60, 2: 48, 3: 38, 4: 30, 5: 24}  # score points; later choices get 20
LATER_CHOICE_POINTS = 20
FIT_POINTS = 40  # score = choice points + FIT_POINTS * cosine fit, in [0, 100]


def choice_points(rank: np.ndarray) -> np.ndarray:
    points = np.zeros(len(rank), np.float64)
    for r, pts in CHOICE_POINTS.items():
        points[rank == r] = pts
    points[rank > max(CHOICE_POINTS)] = LATER_CHOICE_POINTS
    return points
