"""Reviewing a round: officers' pins and exclusions, and the views pages and the API show.

Pins and exclusions belong to the scheme, not to one round: they carry over to every later round until
removed, each with the reason an officer gave (kept in the audit log too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from backend.accounts.models import User
from backend.applicants.models import ApplicantProfile, Choice
from backend.audit import service as audit
from backend.authz import Permission, require
from backend.core.db import utcnow
from backend.core.errors import Conflict, InvalidTransition, NotFound
from backend.core.i18n import gettext as _
from backend.core.i18n import ngettext
from backend.placements import inputs as round_inputs
from backend.placements.models import (
    AdjustmentKind,
    MatchAdjustment,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    MatchUnplaced,
)
from backend.projects.models import Project
from backend.schemes.models import Scheme

# --- adjustments ------------------------------------------------------------------------------------


def _reason_given(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Conflict(_("Give a reason: it is kept with the change."), field="reason")
    return reason


def _pair(session: Session, scheme: Scheme, applicant_id: int, project_id: int
          ) -> tuple[ApplicantProfile, Project]:
    applicant = session.get(ApplicantProfile, applicant_id)
    project = session.get(Project, project_id)
    if applicant is None or project is None or project.scheme_id != scheme.id:
        raise NotFound(_("We could not find that."))
    return applicant, project


def _active(session: Session, scheme: Scheme, applicant_id: int) -> list[MatchAdjustment]:
    return list(session.exec(select(MatchAdjustment).where(
        MatchAdjustment.scheme_id == scheme.id, MatchAdjustment.applicant_id == applicant_id,
        col(MatchAdjustment.removed_at).is_(None))))


def _failing_rules(session: Session, applicant: ApplicantProfile, project: Project) -> list[str] | None:
    """The rules the pair breaks (None: the profile lacks facts the rules need)."""
    from matching.rules import check_all

    chosen = [c.project_id for c in session.exec(
        select(Choice).where(Choice.applicant_id == applicant.id, Choice.scheme_id == project.scheme_id)
        .order_by(Choice.rank))]
    # A pin is the officer's choice for her: the "choices" rule is met by the pin itself.
    matchable = round_inputs.to_matching_applicant(applicant, chosen + [project.id])
    if matchable is None:
        return None
    checks = check_all(matchable, round_inputs.to_matching_project(project))
    return [c.rule for c in checks if not c.passed]


def _add(session: Session, actor: User, scheme: Scheme, kind: AdjustmentKind, applicant_id: int,
         project_id: int, reason: str) -> MatchAdjustment:
    require(actor, Permission.MATCH_RUN)
    reason = _reason_given(reason)
    applicant, project = _pair(session, scheme, applicant_id, project_id)
    for existing in _active(session, scheme, applicant_id):
        if existing.project_id == project_id:
            raise Conflict(_("This applicant is already pinned to or excluded from this project."))
        if kind == AdjustmentKind.PIN and existing.kind == AdjustmentKind.PIN:
            raise Conflict(_("This applicant is already pinned to another project: remove that pin first."))
    if kind == AdjustmentKind.PIN:
        failing = _failing_rules(session, applicant, project)
        if failing is None:
            raise Conflict(_("The applicant's profile is incomplete, so she cannot be pinned yet."))
        if failing:
            raise Conflict(_("The applicant does not meet this project's requirements (%(rules)s), so she "
                             "cannot be pinned to it.", rules=", ".join(failing)))
    adjustment = MatchAdjustment(scheme_id=scheme.id, applicant_id=applicant_id, project_id=project_id,
                                 kind=kind, reason=reason, created_by_id=actor.id)
    session.add(adjustment)
    session.flush()
    audit.record(session, actor, f"match.{kind}", "match_adjustment", adjustment.id,
                 after={"scheme_id": scheme.id, "applicant_id": applicant_id, "project_id": project_id,
                        "reason": reason})
    return adjustment


def pin(session: Session, actor: User, scheme: Scheme, applicant_id: int, project_id: int,
        reason: str) -> MatchAdjustment:
    """Fix this placement in every later round of the scheme (it uses a place, budget and cap)."""
    return _add(session, actor, scheme, AdjustmentKind.PIN, applicant_id, project_id, reason)


def exclude(session: Session, actor: User, scheme: Scheme, applicant_id: int, project_id: int,
            reason: str) -> MatchAdjustment:
    """Never propose this applicant for this project in later rounds of the scheme."""
    return _add(session, actor, scheme, AdjustmentKind.EXCLUDE, applicant_id, project_id, reason)


def remove_adjustment(session: Session, actor: User, adjustment: MatchAdjustment, reason: str) -> MatchAdjustment:
    require(actor, Permission.MATCH_RUN)
    reason = _reason_given(reason)
    if adjustment.removed_at is not None:
        raise InvalidTransition(_("This has already been removed."))
    adjustment.removed_at = utcnow()
    session.add(adjustment)
    session.flush()
    audit.record(session, actor, f"match.{adjustment.kind}_removed", "match_adjustment", adjustment.id,
                 before={"applicant_id": adjustment.applicant_id, "project_id": adjustment.project_id,
                         "reason": adjustment.reason},
                 after={"removal_reason": reason})
    return adjustment


def adjustments(session: Session, scheme: Scheme) -> list[MatchAdjustment]:
    """Pins and exclusions in force for the scheme, oldest first."""
    return list(session.exec(select(MatchAdjustment).where(
        MatchAdjustment.scheme_id == scheme.id, col(MatchAdjustment.removed_at).is_(None))
        .order_by(MatchAdjustment.id)))


def mark_reviewed(session: Session, actor: User, run: MatchRun) -> MatchRun:
    """The officer has checked the round; approvers then see who reviewed it (and may not be that person)."""
    require(actor, Permission.MATCH_RUN)
    _finished(run)
    run.reviewed_by_id = actor.id
    session.add(run)
    session.flush()
    audit.record(session, actor, "match.round_reviewed", "match_run", run.id)
    return run


# --- views of a round ---------------------------------------------------------------------------------


@dataclass
class ProposalView:
    proposal: MatchProposal
    applicant: ApplicantProfile


@dataclass
class ProjectProposals:
    project: Project
    proposals: list[ProposalView] = field(default_factory=list)

    @property
    def places(self) -> int:
        return self.project.places_granted or 0


@dataclass
class ApplicantProposal:
    applicant: ApplicantProfile
    proposal: MatchProposal
    project: Project


@dataclass
class UnplacedView:
    applicant: ApplicantProfile
    reason_code: str
    params: dict
    text: str


def _finished(run: MatchRun) -> None:
    if run.status != MatchRunStatus.SUCCEEDED:
        raise InvalidTransition(_("This round has not finished yet."))


def proposals_by_project(session: Session, run: MatchRun) -> list[ProjectProposals]:
    """Each project of the round with the applicants proposed for it, best score first."""
    _finished(run)
    rows = session.exec(
        select(MatchProposal, ApplicantProfile, Project)
        .join(ApplicantProfile, col(ApplicantProfile.id) == MatchProposal.applicant_id)
        .join(Project, col(Project.id) == MatchProposal.project_id)
        .where(MatchProposal.run_id == run.id)
        .order_by(col(Project.id), col(MatchProposal.score).desc(), col(MatchProposal.applicant_id))
    ).all()
    grouped: dict[int, ProjectProposals] = {}
    for proposal, applicant, project in rows:
        grouped.setdefault(project.id, ProjectProposals(project)).proposals.append(ProposalView(proposal, applicant))
    return list(grouped.values())


def proposals_by_applicant(session: Session, run: MatchRun) -> list[ApplicantProposal]:
    _finished(run)
    rows = session.exec(
        select(MatchProposal, ApplicantProfile, Project)
        .join(ApplicantProfile, col(ApplicantProfile.id) == MatchProposal.applicant_id)
        .join(Project, col(Project.id) == MatchProposal.project_id)
        .where(MatchProposal.run_id == run.id)
        .order_by(col(MatchProposal.applicant_id))
    ).all()
    return [ApplicantProposal(applicant, proposal, project) for proposal, applicant, project in rows]


def describe_unplaced(code: str, params: dict) -> str:
    """The reason in the reader's language (the matcher's own text is English only)."""
    if code == "ineligible":
        return _("Not eligible for any project considered: %(rule)s fails for %(failed)s of %(considered)s.",
                 rule=params.get("rule", ""), failed=params.get("failed", ""),
                 considered=params.get("considered", ""))
    if code == "no_choices":
        return _("Made no valid choices and is not open to other projects.")
    if code == "budget_exhausted":
        return _("A place was free on an eligible project but the budget left (HK$%(left)s) could not fund it.",
                 left=f"{params.get('budget_left', 0):,}")
    if code == "regional_cap_exhausted":
        return _("A place was free on an eligible project but the %(region)s cap of %(cap)s places was reached.",
                 region=params.get("region", ""), cap=params.get("cap", ""))
    if code == "outcompeted":
        n = int(params.get("eligible_projects") or 0)
        return ngettext("Eligible for %(num)s project, but its places went to other applicants.",
                        "Eligible for %(num)s projects, but their places went to other applicants.", n)
    if code == "excluded":
        return _("Eligible only for projects excluded for this applicant.")
    return _("Eligible but not selected.")


def unplaced_with_reasons(session: Session, run: MatchRun) -> list[UnplacedView]:
    _finished(run)
    rows = session.exec(
        select(MatchUnplaced, ApplicantProfile)
        .join(ApplicantProfile, col(ApplicantProfile.id) == MatchUnplaced.applicant_id)
        .where(MatchUnplaced.run_id == run.id).order_by(col(MatchUnplaced.applicant_id))
    ).all()
    return [UnplacedView(applicant, row.reason_code, row.reason_params,
                         describe_unplaced(row.reason_code, row.reason_params)) for row, applicant in rows]


# --- comparing rounds ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    applicant_id: int
    from_project_id: int
    to_project_id: int


@dataclass
class RoundComparison:
    """What a round changed against an earlier one, by applicant (profile) id."""

    newly_placed: dict[int, int] = field(default_factory=dict)  # applicant -> project
    no_longer_placed: dict[int, int] = field(default_factory=dict)  # applicant -> project she had
    moved: list[Move] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return len(self.newly_placed) + len(self.no_longer_placed) + len(self.moved)


def placed_in(session: Session, run: MatchRun) -> dict[int, int]:
    """Applicant → project: the round's proposals plus the placements it held fixed."""
    placed = {h["applicant_id"]: h["project_id"] for h in (run.parameters or {}).get("held", [])}
    placed.update(session.exec(select(MatchProposal.applicant_id, MatchProposal.project_id)
                               .where(MatchProposal.run_id == run.id)).all())
    return placed


def compare(session: Session, run: MatchRun, previous_run: MatchRun) -> RoundComparison:
    _finished(run)
    _finished(previous_run)
    now, before = placed_in(session, run), placed_in(session, previous_run)
    comparison = RoundComparison()
    for applicant_id in sorted(now.keys() | before.keys()):
        new, old = now.get(applicant_id), before.get(applicant_id)
        if old is None:
            comparison.newly_placed[applicant_id] = new
        elif new is None:
            comparison.no_longer_placed[applicant_id] = old
        elif new != old:
            comparison.moved.append(Move(applicant_id, old, new))
        else:
            comparison.unchanged += 1
    return comparison

