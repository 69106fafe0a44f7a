"""The applicant's panel on a public project page: eligibility requirement by requirement, and "chosen"."""

from __future__ import annotations

from sqlmodel import Session, select

from backend.applicants.eligibility import evaluate
from backend.applicants.models import Choice, ChoiceStatus
from backend.applicants.profile import find_profile
from backend.identity import permissions as authz
from backend.identity.models import User


def applicant_panel(session: Session, user: User | None, project) -> dict:
    if user is None or not authz.can(user, authz.Permission.APPLICANT_CHOOSE_PROJECTS):
        return {"eligibility": None, "chosen": False}
    profile = find_profile(session, user)
    chosen = profile is not None and session.exec(select(Choice.id).where(
        Choice.applicant_id == profile.id, Choice.project_id == project.id,
        Choice.status != ChoiceStatus.WITHDRAWN)).first() is not None
    return {"eligibility": evaluate(profile, project), "chosen": chosen}
