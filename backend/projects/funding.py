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
from backend.projects import conflicts, scoring
from backend.projects.lifecycle import move
from backend.projects.models import Assessment, AssessmentDecision, Project, ProjectStatus
from backend.schemes.facts import GBA_CITY_NAMES, gba_places, granted_by_organisation, headroom, lock_scheme
from backend.schemes.models import Scheme


class BudgetExceeded(Conflict):
    code = "budget_exceeded"


class RegionalCapExceeded(Conflict):
    code = "regional_cap_exceeded"


class OrganisationLimitExceeded(Conflict):
    code = "organisation_limit_exceeded"


class GbaShareBroken(Conflict):
    code = "gba_share_broken"


def check_share_and_organisation(session: Session, scheme: Scheme, grants: list[tuple[Project, int]]) -> None:
    """Refuse grants that would take an organisation past the scheme's per-organisation limit, or the Greater
    Bay Area's share of funded places below the scheme's minimum. Call under `lock_scheme`; `grants` are
    (project, places) for projects not yet funded, about to be."""
    if scheme.max_places_per_organisation is not None:
        granted = granted_by_organisation(session, scheme.id)
        asked: dict[int, int] = {}
        for project, places in grants:
            asked[project.organisation_id] = asked.get(project.organisation_id, 0) + places
        for organisation_id, places in sorted(asked.items()):
            total = granted.get(organisation_id, 0) + places
            if total > scheme.max_places_per_organisation:
                raise OrganisationLimitExceeded(
                    _("This would give one organisation %(n)s places in this scheme; the scheme allows at most "
                      "%(limit)s per organisation.", n=total, limit=scheme.max_places_per_organisation))
    if scheme.gba_min_share_percent:
        before = gba_places(session, scheme.id)
        total = sum(places for _project, places in grants)
        gba = sum(places for project, places in grants if project.city in GBA_CITY_NAMES)
        if not before.meets(scheme.gba_min_share_percent, gba, total):
            raise GbaShareBroken(
                _("Funding this would leave %(share)s%% of the scheme's funded places in the Greater Bay Area, below "
                  "its minimum of %(min)s%%. Fund Greater Bay Area projects first, or confirm a portfolio that holds "
                  "the share.", share=f"{before.share_with(gba, total):.0f}", min=scheme.gba_min_share_percent))


def propose_decision(session: Session, actor: User, project: Project, *, decision: AssessmentDecision,
                     scores: dict[str, int], comments: str, places: int | None = None,
                     subsidy_per_place: int | None = None) -> Assessment:
    require(actor, Permission.PROJECT_ASSESS)
    conflicts.bar_if_conflicted(session, actor, [project.organisation_id])
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
        # A place may ask Hong Kong for nothing (the host bears the cost); otherwise a grant pays something.
        lowest = 1 if project.subsidy_requested_per_place else 0
        if not lowest <= subsidy_per_place <= project.subsidy_requested_per_place:
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
    conflicts.bar_if_conflicted(session, actor, [project.organisation_id])
    scheme = lock_scheme(session, project.scheme_id)
    # What was read before the lock may have changed while waiting for it (the officer replaced the
    # proposal, another approver decided it): read it all again and check it all again.
    session.refresh(assessment)
    session.refresh(project)
    require_different_person(assessment.officer_id, actor)
    _require_undecided(assessment)
    if project.status != ProjectStatus.UNDER_ASSESSMENT:
        raise InvalidTransition(_("The project is no longer under assessment."))
    if assessment.proposed_decision != AssessmentDecision.RETURN:  # returning asks for changes, not a verdict
        scoring.require_scoring_done(session, project)

    if assessment.proposed_decision == AssessmentDecision.APPROVE:
        grant(session, actor, scheme, project, assessment.proposed_places, assessment.proposed_subsidy_per_place,
              comment=assessment.comments, action="project.decision_confirmed")
    else:
        project.decided_at = utcnow()
        move(session, actor, project,
             ProjectStatus.REJECTED if assessment.proposed_decision == AssessmentDecision.REJECT
             else ProjectStatus.RETURNED, comment=assessment.comments, action="project.decision_confirmed")
    assessment.confirmed_by_id, assessment.confirmed_at = actor.id, project.decided_at
    return project


def grant(session: Session, actor: User, scheme: Scheme, project: Project, places: int, subsidy: int, *,
          comment: str, action: str, check_share: bool = True) -> Project:
    """Fund `project` (under assessment) with `places` at `subsidy` each: budget and its region's cap checked,
    then (unless the caller checked a whole portfolio at once) the organisation limit and the GBA share.
    The caller holds `lock_scheme` and has re-read the project after taking it."""
    room = headroom(session, scheme, project.region, excluding_project_id=project.id)
    if places * subsidy > room.budget_remaining:
        raise BudgetExceeded(
            _("Approving HK$%(asked)s would exceed the scheme's budget: only HK$%(left)s is left.",
              asked=f"{places * subsidy:,}", left=f"{max(room.budget_remaining, 0):,}"))
    if room.region_places_remaining is not None and places > room.region_places_remaining:
        raise RegionalCapExceeded(
            _("Granting %(n)s places would exceed the regional cap: only %(left)s places are left.",
              n=places, left=max(room.region_places_remaining, 0)))
    if check_share:
        check_share_and_organisation(session, scheme, [(project, places)])
    project.places_granted, project.subsidy_granted_per_place = places, subsidy
    project.decided_at = utcnow()
    return move(session, actor, project, ProjectStatus.APPROVED, comment=comment, action=action)
