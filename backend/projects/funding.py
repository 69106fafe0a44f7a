"""Funding decisions: an officer proposes, a different person confirms, within budget and caps.

Budget and regional caps are checked inside the confirming transaction after locking the scheme row,
so two approvers confirming at the same moment are serialised and can never overshoot together.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import Conflict, InvalidTransition
from backend.core.i18n import gettext as _
from backend.identity.models import User
from backend.identity.permissions import Permission, require, require_different_person
from backend.projects.lifecycle import move
from backend.projects.models import Assessment, AssessmentDecision, Project, ProjectStatus
from backend.schemes.facts import headroom, lock_scheme


class BudgetExceeded(Conflict):
    code = "budget_exceeded"


class RegionalCapExceeded(Conflict):
    code = "regional_cap_exceeded"


def propose_decision(session: Session, actor: User, project: Project, *, decision: AssessmentDecision,
                     scores: dict[str, int], comments: str, places: int | None = None,
                     subsidy_per_place: int | None = None) -> Assessment:
    require(actor, Permission.PROJECT_ASSESS)
    # Under the scheme lock, as confirming is: an approver confirming the proposal this one replaces
    # either finishes first (and the project is no longer under assessment) or sees it replaced.
    lock_scheme(session, project.scheme_id)
    session.refresh(project)
    if project.status not in (ProjectStatus.SUBMITTED, ProjectStatus.UNDER_ASSESSMENT):
        raise InvalidTransition(_("Only a submitted project can be assessed."))
    if decision == AssessmentDecision.APPROVE:
        places = project.places_requested if places is None else places
        subsidy_per_place = project.subsidy_requested_per_place if subsidy_per_place is None else subsidy_per_place
        if not 0 < places <= project.places_requested:
            raise Conflict(_("Places granted must be between 1 and the %(n)s requested.", n=project.places_requested),
                           field="places")
        if not 0 < subsidy_per_place <= project.subsidy_requested_per_place:
            raise Conflict(_("The subsidy per place cannot be more than the HK$%(n)s asked.",
                             n=f"{project.subsidy_requested_per_place:,}"), field="subsidy_per_place")
    elif not comments.strip():
        raise Conflict(_("Give the reasons for returning or rejecting the project."), field="comments")
    for earlier in session.exec(select(Assessment).where(Assessment.project_id == project.id,
                                                         col(Assessment.confirmed_at).is_(None))):
        earlier.superseded = True
    assessment = Assessment(project_id=project.id, officer_id=actor.id, scores=scores, comments=comments,
                            proposed_decision=decision, proposed_places=places,
                            proposed_subsidy_per_place=subsidy_per_place)
    session.add(assessment)
    if project.status == ProjectStatus.SUBMITTED:
        move(session, actor, project, ProjectStatus.UNDER_ASSESSMENT, action="project.assessment_started")
    session.flush()
    audit.record(session, actor, "project.decision_proposed", "project", project.id,
                 after={"decision": decision, "places": places, "subsidy_per_place": subsidy_per_place})
    return assessment


def _require_undecided(assessment: Assessment) -> None:
    if assessment.confirmed_at is not None or assessment.superseded:
        raise InvalidTransition(_("This proposal has already been decided or replaced."))


def confirm_decision(session: Session, actor: User, assessment: Assessment) -> Project:
    """The approver's confirmation: four-eyes, then budget and caps checked under the scheme lock."""
    require(actor, Permission.PROJECT_DECIDE)
    require_different_person(assessment.officer_id, actor)
    _require_undecided(assessment)
    project = session.get(Project, assessment.project_id)
    scheme = lock_scheme(session, project.scheme_id)
    # What was read before the lock may have changed while waiting for it (the officer replaced the
    # proposal, another approver decided it): read it all again and check it all again.
    session.refresh(assessment)
    session.refresh(project)
    require_different_person(assessment.officer_id, actor)
    _require_undecided(assessment)
    if project.status != ProjectStatus.UNDER_ASSESSMENT:
        raise InvalidTransition(_("The project is no longer under assessment."))

    if assessment.proposed_decision == AssessmentDecision.APPROVE:
        places, subsidy = assessment.proposed_places, assessment.proposed_subsidy_per_place
        room = headroom(session, scheme, project.region, excluding_project_id=project.id)
        if places * subsidy > room.budget_remaining:
            raise BudgetExceeded(
                _("Approving HK$%(asked)s would exceed the scheme's budget: only HK$%(left)s is left.",
                  asked=f"{places * subsidy:,}", left=f"{max(room.budget_remaining, 0):,}"))
        if room.region_places_remaining is not None and places > room.region_places_remaining:
            raise RegionalCapExceeded(
                _("Granting %(n)s places would exceed the regional cap: only %(left)s places are left.",
                  n=places, left=max(room.region_places_remaining, 0)))
        project.places_granted, project.subsidy_granted_per_place = places, subsidy
        to = ProjectStatus.APPROVED
    elif assessment.proposed_decision == AssessmentDecision.REJECT:
        to = ProjectStatus.REJECTED
    else:
        to = ProjectStatus.RETURNED
    now = utcnow()
    project.decided_at = now
    assessment.confirmed_by_id, assessment.confirmed_at = actor.id, now
    return move(session, actor, project, to, comment=assessment.comments, action="project.decision_confirmed")
