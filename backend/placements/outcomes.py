"""An applicant's own outcome of the matching: not placed, and why, in words for them ("you"), in their language.

Staff read the matcher's reasons on the round pages (review.describe_unplaced); an applicant is told only once an
approver has decided the round (some of its proposals approved), and only while they hold no offer or place in
the scheme: a later round or an officer's adjustment may still place them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlmodel import Session, col, select

from backend.applicants.choices import ChoiceState
from backend.applicants.eligibility import RULE_STEPS
from backend.applicants.models import ChoiceStatus
from backend.applicants.profile import step_title
from backend.core.clock import HONG_KONG
from backend.core.formatting import origin_name, region_name
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.placements.models import (
    MatchProposal,
    MatchRun,
    MatchRunStatus,
    MatchUnplaced,
    Placement,
    ProposalStatus,
)
from backend.schemes.facts import HOLDING_STATUSES

RULE_WORDS = {
    "origin": lazy_gettext("where you are from (Hong Kong or Guangdong)"),
    "residency": lazy_gettext("Hong Kong residency"),  # as rounds stored before origins name it
    "age": lazy_gettext("your age on the start date"),
    "education": lazy_gettext("your level of education"),
    "languages": lazy_gettext("the language levels needed"),
    "dates": lazy_gettext("the dates you are available"),
    "region": lazy_gettext("the regions you accept"),
}


@dataclass(frozen=True)
class NotPlaced:
    scheme_id: int
    run_id: int
    decided_on: date | None
    reason: str  # in the reader's language
    step: str | None = None  # the profile step whose answer this reason depends on, if one does

    @property
    def step_title(self) -> str:
        return step_title(self.step) if self.step else ""


def reason_for_applicant(code: str, params: dict) -> tuple[str, str | None]:
    """The matcher's reason worded for the applicant, and the profile step that would change it."""
    params = params or {}
    if code == "ineligible":
        rule = str(params.get("rule", ""))
        words = RULE_WORDS.get(rule)
        if words is None:
            return _("You did not meet the requirements of any project you chose."), None
        return (_("You did not meet the requirements of any project you chose: %(what)s did not fit.",
                  what=str(words)), RULE_STEPS.get(rule))
    if code == "no_choices":
        return _("None of your choices could be considered, and you had not said you are open to other "
                 "projects."), "open_to_other"
    if code == "budget_exhausted":
        return _("A project you are eligible for had a free place, but the scheme's budget was used up."), None
    if code == "regional_cap_exhausted":
        return (_("A project you are eligible for had a free place, but the scheme's limit on places in "
                  "%(region)s was reached.", region=region_name(str(params.get("region", "")))), None)
    if code == "origin_seats_full":
        return (_("A project you are eligible for had a free place, but its seats for applicants from %(origin)s "
                  "were all taken.", origin=origin_name(str(params.get("origin", "")))), None)
    if code == "outcompeted":
        return _("The places on the projects you are eligible for went to other applicants."), None
    if code == "excluded":
        return _("The projects you are eligible for could not take you in this round."), None
    return _("You were not selected in this round."), None


def not_placed(session: Session, applicant_id: int, scheme_ids) -> dict[int, NotPlaced]:
    """Scheme id → why this applicant was not placed in its latest decided round, for schemes where that holds."""
    scheme_ids = sorted(set(scheme_ids))
    if not scheme_ids:
        return {}
    holding = set(session.exec(select(Placement.scheme_id).where(
        Placement.applicant_id == applicant_id, col(Placement.scheme_id).in_(scheme_ids),
        col(Placement.status).in_(HOLDING_STATUSES))))
    decided = (select(MatchProposal.run_id).where(MatchProposal.status == ProposalStatus.APPROVED).distinct())
    rows = session.exec(
        select(MatchRun.id, MatchRun.scheme_id, MatchRun.finished_at, MatchUnplaced.reason_code,
               MatchUnplaced.reason_params)
        .join(MatchUnplaced, col(MatchUnplaced.run_id) == MatchRun.id)
        .where(MatchUnplaced.applicant_id == applicant_id, col(MatchRun.scheme_id).in_(scheme_ids),
               MatchRun.status == MatchRunStatus.SUCCEEDED, col(MatchRun.id).in_(decided))
        .order_by(col(MatchRun.id))).all()
    # A newer decided round in which the applicant was proposed (placed) replaces an older "not placed".
    proposed_in = dict(session.exec(
        select(MatchRun.scheme_id, MatchRun.id)
        .join(MatchProposal, col(MatchProposal.run_id) == MatchRun.id)
        .where(MatchProposal.applicant_id == applicant_id, col(MatchRun.scheme_id).in_(scheme_ids),
               col(MatchRun.id).in_(decided)).order_by(col(MatchRun.id))).all())
    outcomes = {}
    for run_id, scheme_id, finished_at, code, params in rows:  # oldest first: the newest wins
        if scheme_id in holding or proposed_in.get(scheme_id, 0) > run_id:
            outcomes.pop(scheme_id, None)
            continue
        reason, step = reason_for_applicant(code, params)
        outcomes[scheme_id] = NotPlaced(scheme_id, run_id, finished_at.astimezone(HONG_KONG).date() if finished_at else None, reason, step)
    return outcomes


# A choice still waiting in one of these states is told "not placed" once its scheme's round has been decided.
WAITING = (ChoiceStatus.SUBMITTED, ChoiceStatus.SHORTLISTED, ChoiceStatus.INTERVIEWED)


def where_she_stands(session: Session, applicant_id: int | None, states: list[ChoiceState]
                     ) -> tuple[list[ChoiceState], list[NotPlaced]]:
    """Her choices as her status page and the API tell them: once a decided round left her out, a choice still
    waiting reads "not placed"; and each scheme's "not placed", with why."""
    outcomes = not_placed(session, applicant_id, {c.scheme_id for c in states}) if applicant_id else {}
    told = [replace(c, status=str(ChoiceStatus.NOT_PLACED), status_label=_("Not placed"),
                    next_step=_("You were not placed on this project in this year's matching."))
            if outcomes.get(c.scheme_id) is not None and c.status in WAITING and not c.in_scramble else c
            for c in states]
    return told, list(outcomes.values())
