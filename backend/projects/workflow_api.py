"""The project lifecycle as JSON: an NGO's own projects (draft, edit, submit) and staff funding decisions
(propose, confirm, open, close). The same services as the /ngo and /staff pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from backend.core.db import DbSession
from backend.core.errors import NotFound, error_responses
from backend.core.i18n import gettext as _
from backend.core.params import BodyId, Count, Id, Money
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, organisation_id_of
from backend.projects import funding, lifecycle, ranking, scoring
from backend.projects.models import Assessment, Project
from backend.projects.ngo_routes import own_project
from backend.projects.scoring import weighted_total
from backend.projects.staff_routes import declare_conflict, moderate, propose, staff_project
from backend.schemes import admin as schemes
from backend.schemes.models import Scheme

router = APIRouter(tags=["project workflow"], responses=error_responses(403))
NgoUser = Annotated[User, require_permission(Permission.PROJECT_EDIT_OWN)]
Assessor = Annotated[User, require_permission(Permission.PROJECT_ASSESS)]
Decider = Annotated[User, require_permission(Permission.PROJECT_DECIDE)]
Staff = Annotated[User, require_permission(Permission.PROJECT_VIEW_ALL)]
Declarer = Annotated[User, require_permission(Permission.PROJECT_ASSESS, Permission.PROJECT_DECIDE)]


class EventOut(BaseModel):
    from_status: str | None
    to_status: str
    comment: str
    created_at: datetime


class ProjectOut(BaseModel):
    id: int
    scheme_id: int
    organisation_id: int
    status: str
    title_en: str
    title_zh: str
    description_en: str
    description_zh: str
    host_organisation_en: str
    host_organisation_zh: str
    host_provides_en: str = Field(description="What the host provides each intern (summer programme places)")
    host_provides_zh: str
    sector: str
    city: str
    region: str
    start_date: date | None
    end_date: date | None
    places_requested: int
    min_places: int = Field(description="The fewest places the project can run with (the places requested unless set)")
    cost_travel: int
    cost_accommodation: int
    cost_insurance: int
    cost_allowance: int
    cost_other: int
    subsidy_requested_per_place: int = Field(description="The total of the cost breakdown")
    places_granted: int | None
    subsidy_granted_per_place: int | None
    languages: dict[str, int]
    min_education: str
    min_age: int
    max_age: int
    timeline: list[EventOut] = Field(default_factory=list)


class DraftResult(BaseModel):
    project: ProjectOut
    errors: dict[str, str] = Field(description="Fields not saved and why, in the request language")


class ProjectIn(BaseModel):
    """Any subset of the project form's fields; numbers may be given as numbers or strings."""

    scheme_id: BodyId | None = Field(default=None, description="Required when creating")
    title_en: str | None = None
    title_zh: str | None = None
    description_en: str | None = None
    description_zh: str | None = None
    host_organisation_en: str | None = None
    host_organisation_zh: str | None = None
    host_provides_en: str | None = Field(default=None, description="Required in a summer internship programme")
    host_provides_zh: str | None = None
    sector: str | None = None
    city: str | None = Field(default=None, description="English city name; the region follows from it")
    start_date: date | str | None = None
    end_date: date | str | None = None
    places_requested: int | str | None = None
    min_places: int | str | None = Field(default=None, description="Fewest places the project can run with; "
                                                                   "empty: every place requested")
    cost_travel: int | str | None = None
    cost_accommodation: int | str | None = None
    cost_insurance: int | str | None = None
    cost_allowance: int | str | None = None
    cost_other: int | str | None = None
    languages: dict[str, int] | None = Field(default=None, description="Minimum level 0-5 by language")
    min_education: str | None = None
    min_age: int | str | None = None
    max_age: int | str | None = None


class ProposalIn(BaseModel):
    decision: str = Field(description="approve, return or reject")
    scores: dict[str, Count] = Field(default_factory=dict, description="Score by criterion code")
    comments: str = ""
    places: Count | None = Field(default=None, description="For an approval; defaults to the places requested")
    subsidy_per_place: Money | None = Field(default=None, description="For an approval; defaults to the amount asked")


class AssessmentOut(BaseModel):
    id: int
    project_id: int
    officer_id: int | None
    proposed_decision: str
    proposed_places: int | None
    proposed_subsidy_per_place: int | None
    scores: dict[str, int]
    weighted_score: float | None = Field(description="The scores weighted by the scheme's criteria, out of 100")
    comments: str
    confirmed_by_id: int | None
    confirmed_at: datetime | None


class RankedProjectOut(BaseModel):
    position: int | None = Field(description="1 = the best weighted score; null while not scored")
    project_id: int
    title_en: str
    title_zh: str
    organisation_id: int
    organisation_name_en: str
    weighted_score: float | None
    scoring: str = Field(description="unscored, scored, second_score_missing, needs_moderation or moderated")
    places_requested: int
    subsidy_per_place: int = Field(description="HK$ asked per place")
    region: str
    greater_bay_area: bool
    projects_funded_before: int
    completion_rate: float | None = Field(description="Interns who completed / places filled, earlier projects")


def project_out(session: Session, project: Project, *, with_timeline: bool = False) -> ProjectOut:
    data = {name: getattr(project, name) for name in ProjectOut.model_fields if name != "timeline"}
    data["status"] = str(project.status)
    data["min_places"] = project.min_viable_places
    data["timeline"] = [EventOut(from_status=e.from_status, to_status=e.to_status, comment=e.comment,
                                 created_at=e.created_at) for e in lifecycle.timeline(session, project)] if with_timeline else []
    return ProjectOut(**data)


def _raw(body: ProjectIn, base: dict[str, str]) -> dict[str, str]:
    raw = dict(base)
    for name, value in body.model_dump(exclude_unset=True, exclude={"scheme_id", "languages"}).items():
        raw[name] = "" if value is None else (value.isoformat() if isinstance(value, date) else str(value))
    if body.languages is not None:
        raw = {k: v for k, v in raw.items() if not k.startswith("language_")}
        raw.update({f"language_{key}": str(level) for key, level in body.languages.items()})
    return raw


@router.get("/ngo/projects", response_model=list[ProjectOut])
def list_own(db: DbSession, user: NgoUser):
    projects = db.exec(select(Project).where(Project.organisation_id == (organisation_id_of(user) or 0))
                       .order_by(col(Project.id)))
    return [project_out(db, p) for p in projects]


@router.post("/ngo/projects", response_model=DraftResult, status_code=201, responses=error_responses(409))
def create_draft(db: DbSession, user: Annotated[User, require_permission(Permission.PROJECT_CREATE)], body: ProjectIn):
    scheme = db.get(Scheme, body.scheme_id or 0)
    if scheme is None:
        message = _("Choose a scheme that takes project applications.")
        raise lifecycle.ProjectInvalid({"scheme_id": message}, message)
    project, errors = lifecycle.create_draft(db, user, scheme, _raw(body, {}))
    return DraftResult(project=project_out(db, project), errors=errors)


@router.get("/ngo/projects/{project_id}", response_model=ProjectOut, responses=error_responses(404))
def get_own(db: DbSession, user: NgoUser, project_id: Id):
    return project_out(db, own_project(db, user, project_id), with_timeline=True)


@router.patch("/ngo/projects/{project_id}", response_model=DraftResult, responses=error_responses(404, 409))
def edit_draft(db: DbSession, user: NgoUser, project_id: Id, body: ProjectIn):
    project = own_project(db, user, project_id)
    errors = lifecycle.update_draft(db, user, project, _raw(body, lifecycle.form_values(project)))
    return DraftResult(project=project_out(db, project), errors=errors)


@router.post("/ngo/projects/{project_id}/submit", response_model=ProjectOut, responses=error_responses(404, 409))
def submit(db: DbSession, user: Annotated[User, require_permission(Permission.PROJECT_SUBMIT)], project_id: Id):
    project = lifecycle.submit(db, user, own_project(db, user, project_id))
    return project_out(db, project, with_timeline=True)


@router.post("/projects/{project_id}/assessments", response_model=AssessmentOut, status_code=201,
             responses=error_responses(404, 409))
def propose_decision(db: DbSession, user: Assessor, project_id: Id, body: ProposalIn):
    project = staff_project(db, user, project_id)
    assessment = propose(db, user, project, body.model_dump())
    data = {name: getattr(assessment, name) for name in AssessmentOut.model_fields if name != "weighted_score"}
    criteria = schemes.criteria_of(db, db.get(Scheme, project.scheme_id))
    return AssessmentOut(**{**data, "proposed_decision": str(assessment.proposed_decision),
                            "weighted_score": weighted_total(assessment.scores, criteria)})


class ConflictDeclarationIn(BaseModel):
    conflict_of_interest: Literal["none", "conflict"]
    conflict_description: str = Field(default="", max_length=1000, description="What the conflict is (required with one)")


class ConflictDeclarationOut(BaseModel):
    organisation_id: int
    has_conflict: bool
    description: str
    declared_at: datetime


@router.put("/projects/{project_id}/conflict-of-interest", response_model=ConflictDeclarationOut,
            responses=error_responses(404))
def declare_conflict_of_interest(db: DbSession, user: Declarer, project_id: Id, body: ConflictDeclarationIn):
    """The caller's declaration of any conflict of interest with the project's organisation: needed before
    scoring it; a declared conflict bars the caller from its funding decisions."""
    project = staff_project(db, user, project_id)
    found = declare_conflict(db, user, project.organisation_id, body.model_dump())
    return ConflictDeclarationOut(organisation_id=found.organisation_id, has_conflict=found.has_conflict,
                                  description=found.description, declared_at=found.declared_at)


class OfficerScoreOut(BaseModel):
    officer_id: int | None
    assessment_id: int
    weighted_score: float


class ScoringOut(BaseModel):
    project_id: int
    double_scoring: bool
    status: str = Field(description="unscored, scored, second_score_missing, needs_moderation or moderated")
    score: float | None = Field(description="The score that ranks the project, out of 100; null until scoring is done")
    scores: list[OfficerScoreOut] = Field(description="The scores that count, latest first; empty for an officer "
                                                      "who has yet to give the independent second score")
    difference: float | None
    moderation_threshold: int
    agreed_score: int | None
    moderation_note: str | None


class ModerationIn(BaseModel):
    agreed_score: int = Field(ge=0, le=100, description="The agreed score, a whole number out of 100")
    moderation_note: str = Field(min_length=1, max_length=scoring.MAX_NOTE)


def scoring_out(db: Session, user: User, project: Project) -> ScoringOut:
    where = scoring.scoring_of(db, project)
    scheme = db.get(Scheme, project.scheme_id)
    shown = where.shows_scores_to(user)
    return ScoringOut(
        project_id=project.id, double_scoring=scheme.double_scoring, status=str(where.status), score=where.score,
        scores=[OfficerScoreOut(officer_id=s.officer_id, assessment_id=s.assessment.id, weighted_score=s.total)
                for s in where.by_officer] if shown else [],
        difference=where.difference if shown else None, moderation_threshold=scheme.moderation_threshold,
        agreed_score=where.moderation.agreed_score if where.moderation else None,
        moderation_note=where.moderation.note if where.moderation else None)


@router.get("/projects/{project_id}/scoring", response_model=ScoringOut, responses=error_responses(404))
def project_scoring(db: DbSession, user: Staff, project_id: Id):
    """Where the project's scoring stands. In a double-scored scheme an officer who has not scored the project
    yet does not see the other officer's score, so that the two scores stay independent."""
    return scoring_out(db, user, staff_project(db, user, project_id))


@router.post("/projects/{project_id}/moderation", response_model=ScoringOut, status_code=201,
             responses=error_responses(404, 409))
def moderate_scores(db: DbSession, user: Declarer, project_id: Id, body: ModerationIn):
    """Record the agreed score of two independent scores that differ by more than the scheme's threshold,
    with the note saying why (audited)."""
    project = staff_project(db, user, project_id)
    moderate(db, user, project, body.model_dump())
    return scoring_out(db, user, project)


@router.get("/schemes/{scheme_id}/ranking", response_model=list[RankedProjectOut], responses=error_responses(404))
def ranked_list(db: DbSession, user: Staff, scheme_id: Id):
    """Projects awaiting a funding decision, best weighted score first; projects not yet scored last."""
    scheme = db.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound(_("We could not find that scheme."))
    return [RankedProjectOut(
        position=r.position, project_id=r.project.id, title_en=r.project.title_en, title_zh=r.project.title_zh,
        organisation_id=r.organisation.id, organisation_name_en=r.organisation.name_en, weighted_score=r.score,
        scoring=str(r.scoring_status),
        places_requested=r.places, subsidy_per_place=r.subsidy_per_place, region=r.project.region,
        greater_bay_area=r.gba, projects_funded_before=r.record.projects_funded,
        completion_rate=r.record.completion_rate) for r in ranking.ranked_projects(db, scheme)]


@router.post("/assessments/{assessment_id}/confirm", response_model=ProjectOut, responses=error_responses(404, 409))
def confirm_decision(db: DbSession, user: Decider, assessment_id: Id):
    assessment = db.get(Assessment, assessment_id)
    if assessment is None:
        raise NotFound(_("We could not find that."))
    project = funding.confirm_decision(db, user, assessment)
    return project_out(db, project, with_timeline=True)


@router.post("/projects/{project_id}/open", response_model=ProjectOut, responses=error_responses(404, 409))
def open_for_applications(db: DbSession, user: Assessor, project_id: Id):
    return project_out(db, lifecycle.open_for_applications(db, user, staff_project(db, user, project_id)))


@router.post("/projects/{project_id}/close", response_model=ProjectOut, responses=error_responses(404, 409))
def close_applications(db: DbSession, user: Assessor, project_id: Id):
    return project_out(db, lifecycle.close_applications(db, user, staff_project(db, user, project_id)))
