"""Staff page for a scheme's funding portfolio: the best portfolio, the greedy beside it, what binds, decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session

from backend.core.db import DbSession
from backend.core.errors import DomainError, NotFound
from backend.core.formatting import moment_in_words
from backend.core.forms import FormData
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.core.params import Id
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission
from backend.projects import portfolio
from backend.projects.models import Project
from backend.projects.words import common_words
from backend.schemes.models import Scheme

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, require_permission(Permission.PROJECT_VIEW_ALL)]
Assessor = Annotated[User, require_permission(Permission.PROJECT_ASSESS)]
Decider = Annotated[User, require_permission(Permission.PROJECT_DECIDE)]

NOTICES = {
    "queued": lazy_gettext("The portfolio is being worked out. This page shows its progress: refresh it to see "
                           "the answer."),
    "proposed": lazy_gettext("The portfolio has been proposed. Another person must confirm it."),
    "confirmed": lazy_gettext("The portfolio has been confirmed: its projects are funded."),
}


def get_scheme(db: Session, scheme_id: int) -> Scheme:
    scheme = db.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound(_("We could not find that scheme."))
    return scheme


def binding_lines(analysis: portfolio.Analysis | None) -> list[str]:
    """What binds, one plain sentence per limit."""
    if analysis is None or analysis.binds is None:
        return [_("Not worked out yet: work out the funding portfolio on its page.")]
    lines = []
    for b in analysis.binds:
        if b.limit == "budget":
            if b.binds:
                lines.append(_("Budget: +HK$%(step)s would fund %(places)s more places and add %(value)s to the "
                               "value.", step=f"{int(b.step):,}", places=f"{b.places_gain:+d}",
                               value=f"{b.value_gain:,.0f}"))
            else:
                lines.append(_("Budget: more money would fund nothing more of value."))
        elif b.limit == "region":
            if b.binds:
                lines.append(_("%(region)s cap: +%(step)s places of cap would fund %(places)s more places and add "
                               "%(value)s to the value.", region=b.name, step=int(b.step),
                               places=f"{b.places_gain:+d}", value=f"{b.value_gain:,.0f}"))
            else:
                lines.append(_("%(region)s cap: does not hold anything back.", region=b.name))
        elif b.limit == "gba_share":
            if b.binds:
                lines.append(_("Greater Bay Area share: %(step)s points lower would fund %(places)s more places and "
                               "add %(value)s to the value.", step=int(b.step), places=f"{b.places_gain:+d}",
                               value=f"{b.value_gain:,.0f}"))
            else:
                lines.append(_("Greater Bay Area share: lowering it would fund nothing more of value."))
    return lines or [_("The scheme has no limits to weigh.")]


def portfolio_page(request: Request, db: Session, user: User, scheme: Scheme, *, done: str = "",
                   error: str = "", status_code: int = 200):
    seen = portfolio.shown(db, scheme)
    analysis = seen.analysis
    proposal = portfolio.open_proposal(db, scheme.id)
    proposal_lines = portfolio.lines_of(db, proposal) if proposal else []
    inputs = analysis.inputs if analysis else portfolio.inputs_for(db, scheme)
    projects = list(inputs.projects.values()) + inputs.unscored
    for line in proposal_lines:
        if line.project_id not in {p.id for p in projects}:
            projects.append(db.get(Project, line.project_id))
    return render(request, "schemes/portfolio.html", {
        **common_words(), "user": user, "scheme": scheme, "seen": seen, "analysis": analysis, "inputs": inputs,
        "binding_lines": binding_lines(analysis), "proposal": proposal, "proposal_lines": proposal_lines,
        "titles": {p.id: p for p in projects}, "moment_in_words": moment_in_words,
        "reason": "" if analysis is None or (analysis.feasible and analysis.lines)
        else portfolio.reason_in_words(analysis),
        "share_broken": "" if inputs.funded_hold_share else portfolio.share_already_broken(inputs),
        "notice": str(NOTICES[done]) if done in NOTICES else None, "error": error}, status_code=status_code)


@router.get("/staff/schemes/{scheme_id}/portfolio", response_class=HTMLResponse)
def show(request: Request, db: DbSession, user: StaffUser, scheme_id: Id, done: str = ""):
    return portfolio_page(request, db, user, get_scheme(db, scheme_id), done=done)


@router.post("/staff/schemes/{scheme_id}/portfolio/work-out", response_class=HTMLResponse)
def work_out(db: DbSession, user: StaffUser, scheme_id: Id):
    portfolio.queue_analysis(db, user, get_scheme(db, scheme_id))
    return RedirectResponse(f"/staff/schemes/{scheme_id}/portfolio?done=queued", status_code=303)


@router.post("/staff/schemes/{scheme_id}/portfolio/propose", response_class=HTMLResponse)
def propose(request: Request, db: DbSession, user: Assessor, scheme_id: Id, data: FormData):
    scheme = get_scheme(db, scheme_id)
    try:
        portfolio.propose(db, user, scheme, comments=str(data.get("comments") or ""))
    except DomainError as error:
        db.rollback()
        return portfolio_page(request, db, user, scheme, error=str(error.message), status_code=error.status_code)
    return RedirectResponse(f"/staff/schemes/{scheme.id}/portfolio?done=proposed", status_code=303)


@router.post("/staff/portfolio-proposals/{proposal_id}/confirm", response_class=HTMLResponse)
def confirm(request: Request, db: DbSession, user: Decider, proposal_id: Id):
    proposal = portfolio.get_proposal(db, proposal_id)
    scheme = get_scheme(db, proposal.scheme_id)
    try:
        portfolio.confirm(db, user, proposal)
    except DomainError as error:
        db.rollback()
        return portfolio_page(request, db, user, scheme, error=str(error.message), status_code=error.status_code)
    return RedirectResponse(f"/staff/schemes/{scheme.id}/portfolio?done=confirmed", status_code=303)
