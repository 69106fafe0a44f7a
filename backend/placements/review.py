"""Reviewing a round: officers' pins and exclusions, and the views pages and the API show.

Pins and exclusions belong to the scheme, not to one round: they carry over to every later round until
removed, each with the reason an officer gave (kept in the audit log too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from backend.applicants.models import ApplicantProfile, Choice
from backend.audit import service as audit
from backend.core.db import LIKE_ESCAPE, contains_pattern, utcnow
from backend.core.errors import Conflict, InvalidTransition, NotFound
from backend.core.formatting import origin_name, region_name
from backend.core.i18n import gettext as _
from backend.core.i18n import is_chinese, lazy_gettext, ngettext
from backend.identity.models import User
from backend.identity.permissions import Permission, require
from backend.market import inputs as round_inputs
from backend.placements import rounds
from backend.placements.models import (
    AdjustmentKind,
    MatchAdjustment,
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    MatchUnplaced,
    ProposalStatus,
)
from backend.projects.models import Project
from backend.schemes.models import Scheme
from matching.rules import check_all

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
        # A round drops such a pin (it never offers the pair again): say so now, not by its silence later.
        if (applicant.id, project.id) in rounds.settled_pairs(session, scheme.id):
            raise Conflict(_("This applicant declined an offer on this project, or let it lapse, so it is not "
                             "offered to her again and she cannot be pinned to it."))
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

    @property
    def reasons(self) -> list[dict]:
        return proposal_reasons(self.proposal)


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

    @property
    def reasons(self) -> list[dict]:
        return proposal_reasons(self.proposal)

    @property
    def why(self) -> str:
        """The first two reasons in one line, as the round page's "Why" column shows them."""
        return _separator("; ", "；").join(r["text"] for r in self.reasons[:2])


@dataclass
class UnplacedView:
    applicant: ApplicantProfile
    reason_code: str
    params: dict
    text: str


def _finished(run: MatchRun) -> None:
    if run.status != MatchRunStatus.SUCCEEDED:
        raise InvalidTransition(_("This round has not finished yet."))


def proposals_by_project(session: Session, run: MatchRun, *, projects: list[int] | None = None
                         ) -> list[ProjectProposals]:
    """Each project of the round with the applicants proposed for it, best score first.

    `projects`: only these (a page of `proposed_projects`), so a page never reads the whole round.
    """
    _finished(run)
    query = (select(MatchProposal, ApplicantProfile, Project)
             .join(ApplicantProfile, col(ApplicantProfile.id) == MatchProposal.applicant_id)
             .join(Project, col(Project.id) == MatchProposal.project_id)
             .where(MatchProposal.run_id == run.id)
             .order_by(col(Project.id), col(MatchProposal.score).desc(), col(MatchProposal.applicant_id)))
    if projects is not None:
        query = query.where(col(MatchProposal.project_id).in_(projects))
    grouped: dict[int, ProjectProposals] = {}
    for proposal, applicant, project in session.exec(query).all():
        grouped.setdefault(project.id, ProjectProposals(project)).proposals.append(ProposalView(proposal, applicant))
    return list(grouped.values())


# Searches run in the database: a national round has ~50,000 proposals and ~50,000 applicants not placed.

def _found(search: str, number_column, *text_columns) -> ColumnElement[bool]:
    """Rows whose number is `search` (with or without '#') or whose texts contain it, in any letter case."""
    search = search.strip()
    pattern = contains_pattern(search)
    conditions = [col(column).ilike(pattern, escape=LIKE_ESCAPE) for column in text_columns]
    if search.lstrip("#").isdigit():
        conditions.append(col(number_column) == int(search.lstrip("#")))
    return or_(*conditions)


def applicant_found(search: str) -> ColumnElement[bool]:
    return _found(search, ApplicantProfile.id, ApplicantProfile.name_en, ApplicantProfile.name_zh)


def project_found(search: str) -> ColumnElement[bool]:
    return _found(search, Project.id, Project.title_en, Project.title_zh)


def proposed_projects(session: Session, run: MatchRun, *, search: str = "") -> list[int]:
    """The ids of the projects with proposals in the round, in the order `proposals_by_project` gives them.

    `search`: only projects whose number or title matches it.
    """
    _finished(run)
    query = select(MatchProposal.project_id).where(MatchProposal.run_id == run.id)
    if search.strip():
        query = query.join(Project, col(Project.id) == MatchProposal.project_id).where(project_found(search))
    return list(session.exec(query.distinct().order_by(col(MatchProposal.project_id))))


def _proposal_filters(query, run: MatchRun, project_id: int | None, status: ProposalStatus | None, search: str):
    query = query.where(MatchProposal.run_id == run.id)
    if project_id is not None:
        query = query.where(MatchProposal.project_id == project_id)
    if status is not None:
        query = query.where(MatchProposal.status == status)
    if search.strip():  # the applicant's number or name, or the project's number or title
        query = query.where(or_(applicant_found(search), project_found(search)))
    return query


def count_proposals(session: Session, run: MatchRun, *, project_id: int | None = None,
                    status: ProposalStatus | None = None, search: str = "") -> int:
    _finished(run)
    query = select(func.count()).select_from(MatchProposal)
    if search.strip():  # the names and titles searched live in these tables
        query = (query.join(ApplicantProfile, col(ApplicantProfile.id) == MatchProposal.applicant_id)
                 .join(Project, col(Project.id) == MatchProposal.project_id))
    return session.exec(_proposal_filters(query, run, project_id, status, search)).one()


def proposals_by_applicant(session: Session, run: MatchRun, *, project_id: int | None = None,
                           status: ProposalStatus | None = None, search: str = "", offset: int = 0,
                           limit: int | None = None) -> list[ApplicantProposal]:
    """The round's proposals by applicant number; `offset` and `limit` read one page of them."""
    _finished(run)
    query = (select(MatchProposal, ApplicantProfile, Project)
             .join(ApplicantProfile, col(ApplicantProfile.id) == MatchProposal.applicant_id)
             .join(Project, col(Project.id) == MatchProposal.project_id))
    query = (_proposal_filters(query, run, project_id, status, search)
             .order_by(col(MatchProposal.applicant_id)).offset(offset).limit(limit))
    return [ApplicantProposal(applicant, proposal, project) for proposal, applicant, project in session.exec(query)]


# The matcher's rule names (matching.rules.RULES) as a reader says them.
RULE_NAMES = {
    "origin": lazy_gettext("who the scheme admits (Hong Kong, Guangdong)"),
    "residency": lazy_gettext("Hong Kong residency requirement"),  # as rounds stored before origins name it
    "age": lazy_gettext("age requirement"),
    "education": lazy_gettext("education requirement"),
    "languages": lazy_gettext("language requirement"),
    "dates": lazy_gettext("dates available"),
    "region": lazy_gettext("regions wanted"),
    "choices": lazy_gettext("choices made"),
}


def rule_name(code: str) -> str:
    name = RULE_NAMES.get(code)
    return str(name) if name is not None else code


def describe_unplaced(code: str, params: dict) -> str:
    """The reason in the reader's language (the matcher's own text is English only): no rule codes, no
    English region names."""
    if code == "ineligible":
        return _("Not eligible for any project considered: %(rule)s fails for %(failed)s of %(considered)s.",
                 rule=rule_name(params.get("rule", "")), failed=params.get("failed", ""),
                 considered=params.get("considered", ""))
    if code == "no_choices":
        return _("Made no valid choices and is not open to other projects.")
    if code == "budget_exhausted":
        return _("A place was free on an eligible project but the budget left (HK$%(left)s) could not fund it.",
                 left=f"{params.get('budget_left', 0):,}")
    if code == "regional_cap_exhausted":
        return _("A place was free on an eligible project but the %(region)s cap of %(cap)s places was reached.",
                 region=region_name(params.get("region", "")), cap=params.get("cap", ""))
    if code == "origin_seats_full":
        return _("A place was free on an eligible project but its %(seats)s seats for applicants from %(origin)s "
                 "were taken.", seats=params.get("seats", ""), origin=origin_name(str(params.get("origin", ""))))
    if code == "outcompeted":
        n = int(params.get("eligible_projects") or 0)
        return ngettext("Eligible for %(num)s project, but its places went to other applicants.",
                        "Eligible for %(num)s projects, but their places went to other applicants.", n)
    if code == "excluded":
        return _("Eligible only for projects excluded for this applicant.")
    return _("Eligible but not selected.")


def describe_reason(code: str, params: dict, fallback: str = "") -> str:
    """One reason for a proposal (matching/explain.py) in the reader's language.

    An unknown code (a matcher newer than this list) shows the matcher's own English text, `fallback`.
    """
    params = params or {}
    if code == "pinned":
        if params.get("reason"):
            return _("Pinned by an officer: %(reason)s", reason=str(params["reason"]))
        return _("Pinned by an officer")
    if code == "choice":
        rank = _number(params.get("rank"))
        if rank == 1:
            return _("Their first choice")
        if rank is not None:
            return _("Their choice number %(rank)s", rank=rank)
    if code == "open_to_other":
        return _("Suggested: they are open to other projects")
    if code == "shared_terms":
        terms = [str(t) for t in params.get("terms") or []]
        if terms:
            return _("Shared interests: %(terms)s", terms=_separator(", ", "、").join(terms))
    if code == "first_timer":
        return _("Priority as a first-time participant")
    if code == "rules_passed":
        rules = params.get("rules")
        if isinstance(rules, list) and rules:
            return ngettext("Meets the %(num)s requirement", "Meets all %(num)s requirements", len(rules))
        return _("Meets every requirement")
    return fallback or code


def _separator(english: str, chinese: str) -> str:
    """Punctuation between listed items: Chinese text uses full-width marks."""
    return chinese if is_chinese() else english


def _number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def proposal_reasons(proposal: MatchProposal) -> list[dict]:
    """The proposal's stored reasons with `text` in the reader's language; code and params as stored."""
    out = []
    for reason in proposal.reasons or []:
        if not isinstance(reason, dict):
            continue
        code, params = str(reason.get("code", "")), reason.get("params") or {}
        out.append({"code": code, "params": params,
                    "text": describe_reason(code, params, str(reason.get("text") or ""))})
    return out


def _unplaced_filters(query, run: MatchRun, reason: str | None, search: str):
    query = query.where(MatchUnplaced.run_id == run.id)
    if reason:
        query = query.where(MatchUnplaced.reason_code == reason)
    if search.strip():
        query = query.where(applicant_found(search))
    return query


def count_unplaced(session: Session, run: MatchRun, *, reason: str | None = None, search: str = "") -> int:
    _finished(run)
    query = select(func.count()).select_from(MatchUnplaced)
    if search.strip():
        query = query.join(ApplicantProfile, col(ApplicantProfile.id) == MatchUnplaced.applicant_id)
    return session.exec(_unplaced_filters(query, run, reason, search)).one()


def unplaced_with_reasons(session: Session, run: MatchRun, *, reason: str | None = None, search: str = "",
                          offset: int = 0, limit: int | None = None) -> list[UnplacedView]:
    """Who was not placed and why, by applicant number; only `reason` and `search` if given; one page."""
    _finished(run)
    query = (select(MatchUnplaced, ApplicantProfile)
             .join(ApplicantProfile, col(ApplicantProfile.id) == MatchUnplaced.applicant_id))
    query = (_unplaced_filters(query, run, reason, search).order_by(col(MatchUnplaced.applicant_id))
             .offset(offset).limit(limit))
    return [UnplacedView(applicant, row.reason_code, row.reason_params,
                         describe_unplaced(row.reason_code, row.reason_params)) for row, applicant in session.exec(query)]


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

