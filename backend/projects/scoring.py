"""A project's assessment score: the criteria's scores weighted by the scheme's weights, out of 100.

One place computes it, so the assessment page, the ranked list and the funding portfolio agree.
A criterion scores 0..max_score; each counts in proportion to its weight:

    total = 100 * sum(weight_c * score_c / max_score_c) / sum(weight_c)

A project's score is that of its latest assessment that holds scores (superseded or not: replacing a
decision proposal does not unscore the project).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlmodel import Session, col, select

from backend.projects.models import Assessment, Project
from backend.schemes.models import AssessmentCriterion


def weighted_total(scores: Mapping[str, int], criteria: Iterable[AssessmentCriterion]) -> float | None:
    """Points out of 100, one decimal; None when a criterion has no score (the total would mislead)."""
    criteria = list(criteria)
    weights = sum(c.weight for c in criteria)
    if not criteria or weights <= 0 or any(c.code not in scores for c in criteria):
        return None
    points = sum(c.weight * scores[c.code] / c.max_score for c in criteria)
    return round(100 * points / weights, 1)


def project_scores(session: Session, scheme_id: int) -> dict[int, float]:
    """Each assessed project of the scheme and its score; projects never scored are absent."""
    criteria = list(session.exec(select(AssessmentCriterion).where(AssessmentCriterion.scheme_id == scheme_id)))
    rows = session.exec(select(Assessment).join(Project, col(Project.id) == Assessment.project_id)
                        .where(Project.scheme_id == scheme_id).order_by(col(Assessment.id)))
    scores: dict[int, float] = {}
    for assessment in rows:
        total = weighted_total(assessment.scores or {}, criteria)
        if total is not None:
            scores[assessment.project_id] = total  # later assessments replace earlier ones
    return scores
