"""The ranked list of a scheme's projects awaiting a funding decision: weighted score first.

What an officer reads before deciding (or before asking the portfolio optimiser): each submitted or
under-assessment project with its weighted score out of 100 (`scoring.project_scores`), the places and
subsidy per place it asks, its region, whether it is in the Greater Bay Area, and the organisation's
track record. In a double-scored scheme a project counts as scored once both independent scores are in and,
where they differ by more than the threshold, moderated; until then the list says which is missing. Scored
projects come first, best score first (ties: fewer HK$ per place, then the earlier
submission); projects not yet scored follow in the order they were submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.organisations import track_record
from backend.organisations.models import Organisation
from backend.projects.catalogue import is_gba
from backend.projects.models import Project, ProjectStatus
from backend.projects.scoring import Scoring, ScoringStatus, scorings
from backend.schemes.models import Scheme

AWAITING_DECISION = (ProjectStatus.SUBMITTED, ProjectStatus.UNDER_ASSESSMENT)


@dataclass(frozen=True)
class RankedProject:
    position: int | None  # 1 = best score; None while not scored
    project: Project
    organisation: Organisation
    score: float | None
    record: track_record.TrackRecord
    scoring: Scoring

    @property
    def scoring_status(self) -> ScoringStatus:
        return self.scoring.status

    @property
    def places(self) -> int:
        return self.project.places_requested

    @property
    def subsidy_per_place(self) -> int:
        return self.project.subsidy_requested_per_place

    @property
    def gba(self) -> bool:
        return is_gba(self.project.city)


def ranked_projects(session: Session, scheme: Scheme) -> list[RankedProject]:
    rows = list(session.exec(
        select(Project, Organisation).join(Organisation, col(Organisation.id) == Project.organisation_id)
        .where(Project.scheme_id == scheme.id, col(Project.status).in_(AWAITING_DECISION))
        .order_by(col(Project.submitted_at), col(Project.id))))
    where = scorings(session, scheme, [project.id for project, _organisation in rows])
    scores = {project_id: s.score for project_id, s in where.items() if s.score is not None}
    records = track_record.track_record(session, {organisation.id for _project, organisation in rows})
    scored = sorted((row for row in rows if row[0].id in scores),
                    key=lambda row: (-scores[row[0].id], row[0].subsidy_requested_per_place))
    unscored = [row for row in rows if row[0].id not in scores]
    ranked = [RankedProject(k, project, organisation, scores[project.id], records[organisation.id],
                            where[project.id]) for k, (project, organisation) in enumerate(scored, start=1)]
    return ranked + [RankedProject(None, project, organisation, None, records[organisation.id],
                                   where.get(project.id, Scoring())) for project, organisation in unscored]
