"""How each offer came about: one of her ranked choices, a suggestion (she was open to other projects), or an
officer's placement, with the officer's reason, never dressed up as her choice.

One answer for her status and offers pages, the JSON API and the staff report's choice figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.applicants.models import Choice, ChoiceStatus
from backend.core.i18n import gettext as _
from backend.placements.models import AdjustmentKind, MatchAdjustment, MatchProposal, MatchRun, Placement

CHOICE, OFFICER, SUGGESTED = "choice", "officer", "suggested"
# Beyond this many applicants the choices are read for their schemes at once, not by a list of ids.
_BY_ID_LIMIT = 500


@dataclass(frozen=True)
class OfferOrigin:
    kind: str  # CHOICE, OFFICER or SUGGESTED
    rank: int | None = None  # her rank of the project, for one of her choices
    reason: str = ""  # the officer's reason, for an officer's placement

    @property
    def text(self) -> str:
        if self.kind == CHOICE:
            return _("One of your choices")
        if self.kind == OFFICER:
            return _("Placed by an officer: %(reason)s", reason=self.reason) if self.reason else _("Placed by an officer")
        return _("Suggested for you: you said you were open to other projects")


def offer_origins(session: Session, placements: Iterable[Placement]) -> dict[int, OfferOrigin]:
    """Placement id → how it came about. A project she still has among her choices is her choice (whoever
    placed her there); otherwise a pinned proposal is the officer's, and anything else a suggestion."""
    placements = list(placements)
    if not placements:
        return {}
    applicant_ids = sorted({p.applicant_id for p in placements})
    scheme_ids = sorted({p.scheme_id for p in placements})
    whose = (col(Choice.applicant_id).in_(applicant_ids) if len(applicant_ids) <= _BY_ID_LIMIT
             else col(Choice.scheme_id).in_(scheme_ids))
    ranks = {(a, p): r for a, p, r in session.exec(select(Choice.applicant_id, Choice.project_id, Choice.rank).where(
        whose, Choice.status != ChoiceStatus.WITHDRAWN))}
    # Pinned proposals and pins are few (an officer's hand-made decisions): read them per scheme.
    pinned = set(session.exec(select(MatchProposal.id).join(MatchRun, col(MatchRun.id) == MatchProposal.run_id).where(
        col(MatchRun.scheme_id).in_(scheme_ids), col(MatchProposal.pinned).is_(True))))
    reasons = {(a.scheme_id, a.applicant_id, a.project_id): a.reason for a in session.exec(
        select(MatchAdjustment).where(col(MatchAdjustment.scheme_id).in_(scheme_ids),
                                      MatchAdjustment.kind == AdjustmentKind.PIN).order_by(MatchAdjustment.id))}
    origins = {}
    for p in placements:
        rank = ranks.get((p.applicant_id, p.project_id))
        if rank is not None:
            origins[p.id] = OfferOrigin(CHOICE, rank)
        elif p.proposal_id is not None and p.proposal_id in pinned:
            origins[p.id] = OfferOrigin(OFFICER, reason=reasons.get((p.scheme_id, p.applicant_id, p.project_id), ""))
        else:
            origins[p.id] = OfferOrigin(SUGGESTED)
    return origins
