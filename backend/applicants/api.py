"""JSON API for applicants (their own profile, CV, choices, status, suggestions, eligibility) and for NGOs
(the applicants who chose their projects, interview outcomes, ranking) and CSV import. Same services as the pages.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from backend.applicants import choices, csv_import, cv, eligibility, ngo_view, profile, scramble, suggestions
from backend.applicants.profile_routes import cv_response
from backend.core.db import DbSession
from backend.core.errors import error_responses
from backend.core.params import BodyId, Id, QueryId
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission

router = APIRouter(tags=["applicants"], responses=error_responses(403))
Editor = Annotated[User, require_permission(Permission.APPLICANT_EDIT_OWN)]
Viewer = Annotated[User, require_permission(Permission.APPLICANT_VIEW_OWN)]
Chooser = Annotated[User, require_permission(Permission.APPLICANT_CHOOSE_PROJECTS)]
NgoUser = Annotated[User, require_permission(Permission.APPLICANT_VIEW_FOR_OWN_PROJECTS)]
Importer = Annotated[User, require_permission(Permission.APPLICANT_IMPORT)]


class ProfileOut(BaseModel):
    id: int | None
    name_en: str = ""
    name_zh: str = ""
    date_of_birth: date | None = None
    origin: str = Field(default="", description='"hong_kong", "guangdong" or "" (neither declared)')
    guangdong_city: str = ""
    contact_email: str = ""
    phone: str = ""
    education_level: str = ""
    institution: str = ""
    programme: str = ""
    study_year: str = ""
    field_of_study: str = ""
    skills: str = ""
    interests: str = ""
    statement: str = ""
    languages: dict[str, int] = Field(default_factory=dict)
    available_from: date | None = None
    available_to: date | None = None
    regions: list[str] = Field(default_factory=list)
    open_to_other: bool = False
    joined_before: bool = False
    has_cv: bool = False
    cv_size_bytes: int | None = None
    submitted_at: datetime | None = None
    missing_steps: list[str] = Field(default_factory=list, description="Steps still to complete before submitting")


class StepSaved(BaseModel):
    profile: ProfileOut
    errors: dict[str, str] = Field(description="Field → message for answers that were not saved")


class EligibilityOut(BaseModel):
    project_id: int
    complete: bool
    eligible: bool
    requirements: list[eligibility.Requirement]
    missing_steps: list[str]


class ChoiceOut(BaseModel):
    id: int
    project_id: int
    scheme_id: int
    title: str
    rank: int
    status: str
    status_label: str
    movable: bool = Field(description="Still open, and no place accepted in the scheme: the order can change")
    settled: bool = Field(description="She holds a place in the scheme: the choice can no longer be moved or "
                                      "withdrawn, and no choice can be added there")
    in_scramble: bool = Field(False, description="An application for an unfilled place, made after match day")


class NewChoice(BaseModel):
    project_id: BodyId


class Move(BaseModel):
    direction: str = Field(description='"up" or "down"')


class Interview(BaseModel):
    outcome: str = Field("", description="recommended, reserve, not_suitable or did_not_attend")
    notes: str = ""


class Ranking(BaseModel):
    choice_ids: list[BodyId] = Field(default_factory=list,
                                  description="The project's choices in the NGO's order, most wanted first")


def _profile_out(p) -> ProfileOut:
    if p is None:
        return ProfileOut(id=None, missing_steps=profile.missing_steps(None))
    data = {name: getattr(p, name) for name in ProfileOut.model_fields
            if name not in ("has_cv", "missing_steps") and hasattr(p, name)}
    return ProfileOut(**data, has_cv=p.cv_stored_name is not None, missing_steps=profile.missing_steps(p))


# --- the applicant's own ----------------------------------------------------------------------------------

@router.get("/me/profile", response_model=ProfileOut, summary="Your applicant profile and what is still missing")
def read_profile(db: DbSession, user: Viewer):
    return _profile_out(profile.find_profile(db, user))


@router.put("/me/profile/steps/{step}", response_model=StepSaved,
            responses={**error_responses(404), 422: {"model": StepSaved, "description": "Some answers were not saved"}},
            summary="Save one step of your profile (valid answers are kept even when others are wrong)")
def save_step(step: str, body: dict[str, Any], db: DbSession, user: Editor):
    form = {k: v for k, v in body.items() if isinstance(v, str | int | bool | list) and v is not None}
    form = {k: (v if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in form.items()}
    p, errors = profile.save_step(db, user, step, form)
    out = StepSaved(profile=_profile_out(p), errors=errors)
    # 422 with the errors, yet the valid answers are committed: the response is returned, not raised.
    return JSONResponse(out.model_dump(mode="json"), status_code=422 if errors else 200)


@router.post("/me/profile/submit", response_model=ProfileOut, summary="Submit your completed profile",
             responses=error_responses(404, 409))
def submit_profile(db: DbSession, user: Editor):
    return _profile_out(profile.submit(db, user))


@router.put("/me/cv", response_model=cv.CvInfo, summary="Upload your CV (PDF, streamed; replaces the previous one)",
            responses=error_responses(404, 413))
async def upload_cv(request: Request, db: DbSession, user: Editor, file: Annotated[UploadFile, File()]):
    try:
        return await cv.upload_cv(db, user, file)
    finally:
        await file.close()


@router.get("/me/cv", response_class=Response, summary="Download your CV",
            responses={200: {"content": {"application/pdf": {}}}, **error_responses(404)})
def download_cv(db: DbSession, user: Viewer):
    return cv_response(cv.open_cv(db, user, profile.own_profile(db, user)))


@router.delete("/me/cv", status_code=204, response_class=Response, summary="Remove your CV",
               responses=error_responses(404))
def delete_cv(db: DbSession, user: Editor):
    cv.delete_cv(db, user)
    return Response(status_code=204)


@router.get("/me/eligibility/{project_id}", response_model=EligibilityOut,
            summary="Whether you meet a project's requirements, requirement by requirement",
            responses=error_responses(404))
def project_eligibility(project_id: Id, db: DbSession, user: Viewer):
    result = eligibility.check_project(db, user, project_id)
    return EligibilityOut(project_id=result.project_id, complete=result.complete, eligible=result.eligible,
                          requirements=result.requirements,
                          missing_steps=[m.step for m in result.missing])


def _choice_list(items) -> list[ChoiceOut]:
    return [ChoiceOut(**{name: getattr(item, name) for name in ChoiceOut.model_fields}) for item in items]


@router.get("/me/choices", response_model=list[ChoiceOut], summary="Your ranked choices of projects")
def list_choices(db: DbSession, user: Chooser):
    return _choice_list(choices.list_choices(db, user))


@router.post("/me/choices", response_model=list[ChoiceOut], status_code=201,
             summary="Choose a project (added at the bottom of your ranking)",
             responses=error_responses(404, 409))
def add_choice(body: NewChoice, db: DbSession, user: Chooser):
    return _choice_list(choices.add_choice(db, user, body.project_id))


@router.post("/me/choices/{choice_id}/move", response_model=list[ChoiceOut], summary="Move a choice up or down",
             responses=error_responses(404, 409))
def move_choice(choice_id: Id, body: Move, db: DbSession, user: Chooser):
    return _choice_list(choices.move_choice(db, user, choice_id, body.direction))


@router.delete("/me/choices/{choice_id}", response_model=list[ChoiceOut], summary="Withdraw a choice",
               responses=error_responses(404, 409))
def withdraw_choice(choice_id: Id, db: DbSession, user: Chooser):
    return _choice_list(choices.withdraw_choice(db, user, choice_id))


@router.get("/me/scramble", response_model=list[scramble.SchemeScramble],
            summary="Unfilled places you may apply for, in each scheme whose scramble is open")
def scramble_openings(db: DbSession, user: Chooser):
    return scramble.where_she_may_apply(db, user)


@router.post("/me/scramble", response_model=list[scramble.SchemeScramble], status_code=201,
             summary="Apply for an unfilled place (after match day, while the scheme's scramble is open)",
             responses=error_responses(400, 404, 409))
def apply_in_scramble(body: NewChoice, db: DbSession, user: Chooser):
    scramble.apply(db, user, body.project_id)
    return scramble.where_she_may_apply(db, user)


@router.delete("/me/scramble/{choice_id}", response_model=list[scramble.SchemeScramble],
               summary="Withdraw an application for an unfilled place", responses=error_responses(404, 409))
def withdraw_in_scramble(choice_id: Id, db: DbSession, user: Chooser):
    scramble.withdraw(db, user, choice_id)
    return scramble.where_she_may_apply(db, user)


# GET /me/status (every offer, then each choice) is with the offers, in placements/api.py, since it shows them.


@router.get("/me/suggestions", response_model=list[suggestions.Suggestion], summary="Open projects suggested for you, with why")
def suggested(db: DbSession, user: Chooser, limit: Annotated[int, Query(ge=1, le=20)] = 5):
    return suggestions.suggest(db, user, limit=max(1, min(limit, 20)))


# --- an NGO's view of its applicants ------------------------------------------------------------------------

@router.get("/ngo/applicants", response_model=list[ngo_view.ApplicantRow],
            summary="Applicants who chose your organisation's projects (one row per choice)",
            responses=error_responses(404, e404="No such project of your organisation"))
def ngo_applicants(db: DbSession, user: NgoUser, project_id: QueryId = None, status: str | None = None,
                   education: str | None = None, language: str | None = None,
                   min_level: Annotated[int | None, Query(ge=0, le=5)] = None,
                   sort: str = "rank"):
    return ngo_view.list_applicants(db, user, project_id=project_id, status=status, education=education,
                                    language=language, min_level=min_level, sort=sort)


@router.get("/ngo/applicants/{applicant_id}", response_model=ngo_view.ApplicantDetail,
            summary="One applicant who chose your projects, with those choices only",
            responses=error_responses(404))
def ngo_applicant(applicant_id: Id, db: DbSession, user: NgoUser):
    return ngo_view.read_applicant(db, user, applicant_id)


@router.get("/ngo/applicants/{applicant_id}/cv", response_class=Response, summary="Download an applicant's CV",
            responses={200: {"content": {"application/pdf": {}}}, **error_responses(404)})
def ngo_applicant_cv(applicant_id: Id, db: DbSession, user: NgoUser):
    return cv_response(ngo_view.download_cv(db, user, applicant_id))


@router.post("/ngo/choices/{choice_id}/shortlist", response_model=ngo_view.ApplicantRow, summary="Shortlist an applicant",
             responses=error_responses(404, 409))
def ngo_shortlist(choice_id: Id, db: DbSession, user: NgoUser):
    return ngo_view.shortlist(db, user, choice_id)


@router.post("/ngo/choices/{choice_id}/interview", response_model=ngo_view.ApplicantRow,
             summary="Record the interview outcome", responses=error_responses(404, 409))
def ngo_interview(choice_id: Id, body: Interview, db: DbSession, user: NgoUser):
    # Notes left out of the body keep the ones saved; sent (even empty) they replace them.
    return ngo_view.record_interview(db, user, choice_id, body.outcome,
                                     body.notes if "notes" in body.model_fields_set else None)


@router.get("/ngo/projects/{project_id}/ranking", response_model=list[ngo_view.ApplicantRow],
            summary="A project's applicants in your order", responses=error_responses(404))
def ngo_ranking(project_id: Id, db: DbSession, user: NgoUser):
    return ngo_view.ranking(db, user, project_id)


@router.put("/ngo/projects/{project_id}/ranking", response_model=list[ngo_view.ApplicantRow],
            summary="Set a project's ranking of its applicants", responses=error_responses(404, 409))
def ngo_set_ranking(project_id: Id, body: Ranking, db: DbSession, user: NgoUser):
    return ngo_view.set_ranking(db, user, project_id, body.choice_ids)


# --- import -------------------------------------------------------------------------------------------------

@router.post("/applicants/import", response_model=csv_import.ImportResult,
             summary="Import applicants from a CSV in the matcher's applicants.csv format",
             responses=error_responses(413))
async def import_applicants(db: DbSession, user: Importer, file: Annotated[UploadFile, File()]):
    try:
        data = await file.read(csv_import.MAX_IMPORT_BYTES + 1)
    finally:
        await file.close()
    return csv_import.import_applicants(db, user, data, filename=(file.filename or "applicants.csv")[-100:])

