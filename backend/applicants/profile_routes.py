"""The applicant's profile pages: one topic per page, saved as they go, "check your answers", submit, and the CV.

Thin handlers over `applicants.profile` and `applicants.cv`. Every form works without JavaScript; what the
applicant typed is shown again when a page has errors, so nothing is lost.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlmodel import Session
from starlette.datastructures import UploadFile

from backend.applicants import cv, profile
from backend.applicants.models import ApplicantProfile
from backend.core.db import DbSession
from backend.core.errors import DomainError, NotFound
from backend.core.formatting import city_name
from backend.core.i18n import gettext as _
from backend.core.settings import get_settings
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.projects import catalogue
from matching.geography import REGIONS

router = APIRouter(include_in_schema=False)
ApplicantUser = Annotated[User, require_permission(Permission.APPLICANT_EDIT_OWN)]
# Multipart framing around the file: a body larger than the limit plus this is refused before reading the file.
UPLOAD_OVERHEAD_BYTES = 64 * 1024
DATE_FIELDS = {"names": ("date_of_birth",), "availability": ("available_from", "available_to")}


def step_words() -> dict:
    return dict(
        steps=profile.STEPS, step_title=profile.step_title,
        educations=[(key, str(name)) for key, name in catalogue.EDUCATION_NAMES.items()],
        main_languages=[(key, str(catalogue.LANGUAGE_NAMES[key])) for key in profile.MAIN_LANGUAGES],
        levels=[(str(n), f"{n} – {name}") for n, name in catalogue.LEVEL_NAMES.items()],
        regions=REGIONS,
        guangdong_cities=[(name, city_name(name)) for name in profile.GUANGDONG_CITIES],
    )


def _iso_parts(value: date | None) -> dict[str, str]:
    if value is None:
        return {"day": "", "month": "", "year": ""}
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}


def values_from_profile(p: ApplicantProfile | None, step: str) -> dict:
    """What the step's fields show when the page is first opened: the saved answers."""
    if p is None:
        return {"regions": []}
    values: dict = {
        "name_en": p.name_en, "name_zh": p.name_zh, "contact_email": p.contact_email, "phone": p.phone,
        "education_level": p.education_level, "institution": p.institution, "programme": p.programme,
        "study_year": p.study_year, "field_of_study": p.field_of_study, "skills": p.skills,
        "interests": p.interests, "statement": p.statement, "regions": list(p.regions or []),
        "origin": (p.origin or "neither") if p.origin_declared_at else "", "guangdong_city": p.guangdong_city,
        "open_to_other": "yes" if p.open_to_other else "no",
        "joined_before": "yes" if p.joined_before else "no",
    }
    for name in ("date_of_birth", "available_from", "available_to"):
        for part, text in _iso_parts(getattr(p, name)).items():
            values[f"{name}-{part}"] = text
    languages = dict(p.languages or {})
    for language in profile.MAIN_LANGUAGES:
        values[language] = str(languages.pop(language, "") or "")
    other = next(iter(languages.items()), None)
    values["other_language"], values["other_level"] = (other[0], str(other[1])) if other else ("", "")
    return values


def values_from_form(form) -> dict:
    """What was typed, to show again beside the errors."""
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    values["regions"] = [v for v in form.getlist("regions") if isinstance(v, str)]
    return values


def date_errors(step: str, errors: dict[str, str]) -> dict[str, str]:
    """A date's error links to its day field, where the GOV.UK date input puts focus."""
    out = {}
    for field, message in errors.items():
        out[f"{field}-day" if field in DATE_FIELDS.get(step, ()) else field] = message
    return out


def _next_url(step: str, return_to: str) -> str:
    if return_to == "check":
        return "/profile/check-answers"
    at = profile.STEPS.index(step)
    return f"/profile/steps/{profile.STEPS[at + 1]}" if at + 1 < len(profile.STEPS) else "/profile/check-answers"


def _step_page(request: Request, step: str, values: dict, errors: dict, return_to: str, status_code: int = 200):
    at = profile.STEPS.index(step)
    back = "/profile/check-answers" if return_to == "check" else (
        f"/profile/steps/{profile.STEPS[at - 1]}" if at > 0 else "/profile")
    return render(request, "applicants/step.html", {
        **step_words(), "step": step, "number": at + 1, "form": values, "errors": date_errors(step, errors),
        "field_errors": errors, "return_to": return_to, "back": back}, status_code=status_code)


@router.get("/profile", response_class=HTMLResponse)
def overview(request: Request, db: DbSession, user: ApplicantUser, done: str = ""):
    p = profile.find_profile(db, user)
    missing = profile.missing_steps(p)
    notice = {"submitted": _("Your profile has been submitted. You can now choose projects."),
              "cv": _("Your CV has been uploaded."), "cv_removed": _("Your CV has been removed.")}.get(done)
    return render(request, "applicants/overview.html", {
        **step_words(), "profile": p, "missing": missing, "notice": notice,
        "states": {step: profile.step_state(p, step) for step in profile.STEPS}})


def _require_step(step: str) -> None:
    if step not in profile.STEPS:
        raise NotFound(_("We could not find that."))


@router.get("/profile/steps/{step}", response_class=HTMLResponse)
def step_page(request: Request, db: DbSession, user: ApplicantUser, step: str, change: str = ""):
    _require_step(step)
    return _step_page(request, step, values_from_profile(profile.find_profile(db, user), step), {},
                      "check" if change else "")


@router.post("/profile/steps/{step}", response_class=HTMLResponse)
async def save_step(request: Request, db: DbSession, user: ApplicantUser, step: str):
    _require_step(step)
    form = await request.form()
    _p, errors = profile.save_step(db, user, step, form)
    return_to = "check" if form.get("return_to") == "check" else ""
    if errors:
        # The valid answers are saved (the transaction commits); the page shows what to fix next to each field.
        return _step_page(request, step, values_from_form(form), errors, return_to, status_code=400)
    return RedirectResponse(_next_url(step, return_to), status_code=303)


def _check_page(request: Request, db: Session, user: User, errors: dict | None = None, status_code: int = 200):
    p = profile.own_profile(db, user, create=True)
    answers = profile.check_answers(db, user)
    sections = []
    for answer in answers:
        if not sections or sections[-1]["step"] != answer.step:
            sections.append({"step": answer.step, "title": profile.step_title(answer.step), "answers": []})
        sections[-1]["answers"].append(answer)
    return render(request, "applicants/check_answers.html", {
        **step_words(), "profile": p, "sections": sections, "missing": profile.missing_steps(p),
        "errors": errors or {}, "cv_info": cv.cv_info(db, user)}, status_code=status_code)


@router.get("/profile/check-answers", response_class=HTMLResponse)
def check_answers(request: Request, db: DbSession, user: ApplicantUser):
    return _check_page(request, db, user)


@router.post("/profile/check-answers", response_class=HTMLResponse)
def submit(request: Request, db: DbSession, user: ApplicantUser):
    profile.own_profile(db, user, create=True)
    try:
        profile.submit(db, user)
    except DomainError as error:
        missing = error.details.get("missing") or []
        errors = {f"step-{step}": _("Complete this part: %(step)s", step=profile.step_title(step))
                  for step in missing} or {"profile": error.message}
        return _check_page(request, db, user, errors=errors, status_code=400)
    return RedirectResponse("/profile?done=submitted", status_code=303)


# --- CV -----------------------------------------------------------------------------------------------------

def _cv_page(request: Request, db: Session, user: User, errors: dict | None = None, status_code: int = 200):
    limit = get_settings().cv_max_bytes
    return render(request, "applicants/cv.html", {
        "cv_info": cv.cv_info(db, user), "errors": errors or {}, "limit_mb": max(1, limit // (1024 * 1024))},
        status_code=status_code)


@router.get("/profile/cv", response_class=HTMLResponse)
def cv_page(request: Request, db: DbSession, user: ApplicantUser):
    return _cv_page(request, db, user)


@router.post("/profile/cv", response_class=HTMLResponse)
async def upload_cv(request: Request, db: DbSession, user: ApplicantUser):
    limit = get_settings().cv_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + UPLOAD_OVERHEAD_BYTES:
        return _cv_page(request, db, user, errors={"cv": cv._too_large().message}, status_code=413)
    # Starlette spools the upload to a temporary file; upload_cv copies it in chunks and stops at the limit.
    form = await request.form()
    upload = form.get("cv")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _cv_page(request, db, user, errors={"cv": _("Choose your CV, saved as a PDF.")}, status_code=400)
    try:
        await cv.upload_cv(db, user, upload)
    except cv.CvRejected as error:
        return _cv_page(request, db, user, errors={"cv": error.message}, status_code=error.status_code)
    finally:
        await upload.close()
    return RedirectResponse("/profile?done=cv", status_code=303)


@router.get("/profile/cv/download")
def download_own_cv(db: DbSession, user: Annotated[User, require_permission(Permission.APPLICANT_VIEW_OWN)]):
    p = profile.own_profile(db, user)
    return cv_response(cv.open_cv(db, user, p))


@router.post("/profile/cv/delete")
def delete_cv(db: DbSession, user: ApplicantUser):
    cv.delete_cv(db, user)
    return RedirectResponse("/profile?done=cv_removed", status_code=303)


def cv_response(found: cv.CvFile) -> FileResponse:
    """Always a download, never shown inline: the PDF came from a user."""
    return FileResponse(found.path, media_type=found.media_type, filename=found.download_name,
                        content_disposition_type="attachment",
                        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})
