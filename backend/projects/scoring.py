"""A project's assessment score: the criteria's scores weighted by the scheme's weights, out of 100.

One place computes it, so the assessment page, the ranked list and the funding portfolio agree.
A criterion scores 0..max_score; each counts in proportion to its weight:

    total = 100 * sum(weight_c * score_c / max_score_c) / sum(weight_c)

Each officer's score of a project is that of their latest assessment that holds scores (superseded or
not: replacing a decision proposal does not unscore the project).

A scheme scored once takes the latest officer's score. A scheme with independent double scoring
(`Scheme.double_scoring`) needs two officers' scores, each given without seeing the other's: the
project's score is their mean, unless the two differ by more than the scheme's moderation threshold;
then it has no score until someone records a moderation note with the agreed score. A note answers the
two scores it was written about: when either officer re-scores, the pair is judged afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.core.errors import Conflict, InvalidTransition
from backend.core.i18n import gettext as _
from backend.identity.models import User
from backend.identity.permissions import Permission, can
from backend.projects import conflicts
from backend.projects.models import Assessment, Project, ProjectStatus, ScoreModeration
from backend.schemes.models import AssessmentCriterion, Scheme

MAX_NOTE = 2000


def weighted_total(scores: Mapping[str, int], criteria: Iterable[AssessmentCriterion]) -> float | None:
    """Points out of 100, one decimal; None when a criterion has no score (the total would mislead)."""
    criteria = list(criteria)
    weights = sum(c.weight for c in criteria)
    if not criteria or weights <= 0 or any(c.code not in scores for c in criteria):
        return None
    points = sum(c.weight * scores[c.code] / c.max_score for c in criteria)
    return round(100 * points / weights, 1)


class ScoringStatus(StrEnum):
    UNSCORED = "unscored"
    SECOND_SCORE_MISSING = "second_score_missing"
    NEEDS_MODERATION = "needs_moderation"
    MODERATED = "moderated"
    SCORED = "scored"


@dataclass(frozen=True)
class OfficerScore:
    assessment: Assessment
    total: float

    @property
    def officer_id(self) -> int | None:
        return self.assessment.officer_id


@dataclass
class Scoring:
    """Where one project's scoring stands, and its score once there is one."""

    status: ScoringStatus = ScoringStatus.UNSCORED
    score: float | None = None
    by_officer: list[OfficerScore] = field(default_factory=list)  # the scores that count, latest first
    moderation: ScoreModeration | None = None

    @property
    def difference(self) -> float | None:
        if len(self.by_officer) < 2:
            return None
        return round(abs(self.by_officer[0].total - self.by_officer[1].total), 1)

    def scored_by(self, user_id: int) -> bool:
        return any(s.officer_id == user_id for s in self.by_officer)

    def shows_scores_to(self, user: User) -> bool:
        """Independence: an officer who may still score the project does not see another's score first."""
        return (self.status != ScoringStatus.SECOND_SCORE_MISSING or self.scored_by(user.id)
                or not can(user, Permission.PROJECT_ASSESS))


def _judge(scheme: Scheme, latest: list[OfficerScore], moderation: ScoreModeration | None) -> Scoring:
    if not latest:
        return Scoring()
    if not scheme.double_scoring:
        return Scoring(ScoringStatus.SCORED, latest[0].total, latest[:1])
    pair = latest[:2]
    if len(pair) < 2:
        return Scoring(ScoringStatus.SECOND_SCORE_MISSING, None, pair)
    if moderation is not None and {moderation.first_assessment_id, moderation.second_assessment_id} == {
            s.assessment.id for s in pair}:
        return Scoring(ScoringStatus.MODERATED, float(moderation.agreed_score), pair, moderation)
    scoring = Scoring(ScoringStatus.SCORED, round((pair[0].total + pair[1].total) / 2, 1), pair)
    if scoring.difference > scheme.moderation_threshold:
        return Scoring(ScoringStatus.NEEDS_MODERATION, None, pair)
    return scoring


def scorings(session: Session, scheme: Scheme, project_ids: Iterable[int] | None = None) -> dict[int, Scoring]:
    """Each project of the scheme (or just these) that anyone has scored, and where its scoring stands."""
    criteria = list(session.exec(select(AssessmentCriterion).where(AssessmentCriterion.scheme_id == scheme.id)))
    query = (select(Assessment).join(Project, col(Project.id) == Assessment.project_id)
             .where(Project.scheme_id == scheme.id).order_by(col(Assessment.id).desc()))
    notes = select(ScoreModeration).join(Project, col(Project.id) == ScoreModeration.project_id).where(
        Project.scheme_id == scheme.id).order_by(col(ScoreModeration.id))
    if project_ids is not None:
        ids = list(project_ids)
        query = query.where(col(Assessment.project_id).in_(ids))
        notes = notes.where(col(ScoreModeration.project_id).in_(ids))
    latest: dict[int, list[OfficerScore]] = {}
    seen: set[tuple[int, int | None]] = set()
    for assessment in session.exec(query):  # newest first: each officer's first one met is their latest
        total = weighted_total(assessment.scores or {}, criteria)
        key = (assessment.project_id, assessment.officer_id)
        if total is None or key in seen:
            continue
        seen.add(key)
        latest.setdefault(assessment.project_id, []).append(OfficerScore(assessment, total))
    moderations = {note.project_id: note for note in session.exec(notes)}  # the latest note per project
    return {project_id: _judge(scheme, officer_scores, moderations.get(project_id))
            for project_id, officer_scores in latest.items()}


def scoring_of(session: Session, project: Project) -> Scoring:
    return scorings(session, session.get(Scheme, project.scheme_id), [project.id]).get(project.id, Scoring())


def project_scores(session: Session, scheme_id: int) -> dict[int, float]:
    """Each project of the scheme with a score that counts; projects whose scoring is not done are absent."""
    return {project_id: scoring.score
            for project_id, scoring in scorings(session, session.get(Scheme, scheme_id)).items()
            if scoring.score is not None}


def require_scoring_done(session: Session, project: Project) -> None:
    """Before a funding decision that rests on the score (approve or reject) in a double-scored scheme."""
    scheme = session.get(Scheme, project.scheme_id)
    if not scheme.double_scoring:
        return
    scoring = scoring_of(session, project)
    if scoring.status == ScoringStatus.SECOND_SCORE_MISSING:
        raise InvalidTransition(_("This scheme needs two officers to score each project independently: the second "
                                  "score is missing."))
    if scoring.status == ScoringStatus.NEEDS_MODERATION:
        raise InvalidTransition(_("The two scores differ by %(difference)s points, more than the scheme's %(threshold)s: "
                                  "record a moderation note with the agreed score first.",
                                  difference=scoring.difference, threshold=scheme.moderation_threshold))


def moderate(session: Session, actor: User, project: Project, *, agreed_score: int, note: str) -> ScoreModeration:
    """Record the agreed score of two scores that differ by more than the scheme's threshold (audited)."""
    conflicts.require_may_declare(actor)  # those who score or decide moderate
    conflicts.require_declared_without_conflict(session, actor, project.organisation_id)
    if project.status not in (ProjectStatus.SUBMITTED, ProjectStatus.UNDER_ASSESSMENT):
        raise InvalidTransition(_("Only a project awaiting a funding decision can be moderated."))
    scoring = scoring_of(session, project)
    if scoring.status != ScoringStatus.NEEDS_MODERATION:
        raise InvalidTransition(_("This project's scores do not need moderation."))
    note = note.strip()
    if not note:
        raise Conflict(_("Say why the agreed score is what it is."), field="moderation_note")
    if len(note) > MAX_NOTE:
        raise Conflict(_("Use %(limit)s characters or fewer.", limit=MAX_NOTE), field="moderation_note")
    if not 0 <= agreed_score <= 100:
        raise Conflict(_("Give the agreed score as a whole number from 0 to 100."), field="agreed_score")
    first, second = scoring.by_officer
    moderation = ScoreModeration(project_id=project.id, moderator_id=actor.id, agreed_score=agreed_score, note=note,
                                 first_assessment_id=first.assessment.id, second_assessment_id=second.assessment.id)
    session.add(moderation)
    session.flush()
    audit.record(session, actor, "project.scores_moderated", "project", project.id,
                 before={"scores": [first.total, second.total]}, after={"agreed_score": agreed_score})
    return moderation
