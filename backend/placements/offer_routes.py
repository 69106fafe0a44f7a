"""Offers as people see them: an applicant's "My offers" (accept or decline), an NGO's accepted interns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from backend.applicants import choices, eligibility, profile, scramble
from backend.applicants.models import ApplicantProfile
from backend.core.db import DbSession
from backend.core.errors import DomainError, NotFound
from backend.core.formatting import long_date
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext, localised, ngettext
from backend.core.params import Id
from backend.core.templating import render
from backend.identity.deps import require_permission
from backend.identity.models import User
from backend.identity.permissions import Permission, organisation_id_of
from backend.organisations.models import Organisation
from backend.outbox.service import hong_kong_time
from backend.placements import confirmations, offers, origins
from backend.placements import outcomes as outcomes_of_matching
from backend.placements.models import Placement, PlacementStatus
from backend.projects.models import Project
from backend.schemes import service as schemes_service
from backend.schemes import timetable
from backend.schemes.models import Scheme

router = APIRouter(include_in_schema=False)
Applicant = Annotated[User, require_permission(Permission.PLACEMENT_RESPOND)]
NgoUser = Annotated[User, require_permission(Permission.ORGANISATION_VIEW_OWN)]
Viewer = Annotated[User, require_permission(Permission.APPLICANT_VIEW_OWN)]

OFFER_STATUS_NAMES = {
    PlacementStatus.OFFERED: lazy_gettext("Waiting for your answer"),
    PlacementStatus.ACCEPTED: lazy_gettext("Accepted"),
    PlacementStatus.DECLINED: lazy_gettext("Declined"),
    PlacementStatus.EXPIRED: lazy_gettext("Expired"),
    PlacementStatus.WITHDRAWN: lazy_gettext("Withdrawn"),
    PlacementStatus.COMPLETED: lazy_gettext("Completed"),
    PlacementStatus.LEFT_EARLY: lazy_gettext("Left early"),
    PlacementStatus.NO_SHOW: lazy_gettext("Did not show"),
}
OFFER_STATUS_COLOURS = {PlacementStatus.OFFERED: "blue", PlacementStatus.ACCEPTED: "green",
                        PlacementStatus.DECLINED: "grey", PlacementStatus.EXPIRED: "grey",
                        PlacementStatus.WITHDRAWN: "grey", PlacementStatus.COMPLETED: "green",
                        PlacementStatus.LEFT_EARLY: "grey", PlacementStatus.NO_SHOW: "grey"}
NOTICES = {"accepted": lazy_gettext("You have accepted the offer. The organisation will contact you."),
           "declined": lazy_gettext("You have declined the offer. Your place goes to another applicant.")}


def offer_status_name(status: str) -> str:
    return str(OFFER_STATUS_NAMES.get(PlacementStatus(status), status))


def my_offers(db: Session, user: User) -> list[tuple[Placement, Project, Organisation | None]]:
    rows = db.exec(select(Placement, Project)
                   .join(ApplicantProfile, col(ApplicantProfile.id) == Placement.applicant_id)
                   .join(Project, col(Project.id) == Placement.project_id)
                   .where(ApplicantProfile.user_id == user.id)
                   .order_by(col(Placement.offered_at).desc(), col(Placement.id).desc())).all()
    return [(placement, project, db.get(Organisation, project.organisation_id)) for placement, project in rows]


def offer_origins(db: Session, placements: list[Placement]) -> dict[int, str]:
    """How each offer came about, in plain words (`placements/origins.py`)."""
    return {pid: origin.text for pid, origin in origins.offer_origins(db, placements).items()}


def _words() -> dict:
    return {"offer_status_name": offer_status_name, "offer_status_colours": OFFER_STATUS_COLOURS,
            "hong_kong_time": hong_kong_time}


def _offers_page(request: Request, db: Session, user: User, *, done: str = "", error: str | None = None,
                 status_code: int = 200):
    rows = my_offers(db, user)
    return render(request, "offers/list.html", {
        **_words(), "user": user, "offers": rows, "error": error, "origins": offer_origins(db, [r[0] for r in rows]),
        "notice": str(NOTICES[done]) if done in NOTICES else None}, status_code=status_code)


@router.get("/placements", response_class=HTMLResponse)
def offer_list(request: Request, db: DbSession, user: Applicant, done: str = ""):
    return _offers_page(request, db, user, done=done)


@router.get("/placements/{placement_id}", response_class=HTMLResponse)
def offer_page(request: Request, db: DbSession, user: Applicant, placement_id: Id):
    """The page the offer e-mail links to: the same list, this offer first."""
    own = [row for row in my_offers(db, user) if row[0].id == placement_id]
    if not own:
        raise NotFound(_("We could not find that offer."))
    return render(request, "offers/list.html", {**_words(), "user": user, "offers": own, "single": True,
                                                "origins": offer_origins(db, [r[0] for r in own])})


def _answer(request: Request, db: Session, user: User, placement_id: int, accept: bool):
    try:
        if accept:
            offers.accept_offer(db, user, placement_id)
        else:
            offers.decline_offer(db, user, placement_id)
    except DomainError as error:
        if error.status_code in (403, 404):
            raise
        return _offers_page(request, db, user, error=error.message, status_code=error.status_code)
    return RedirectResponse(f"/placements?done={'accepted' if accept else 'declined'}", status_code=303)


@router.post("/placements/{placement_id}/accept", response_class=HTMLResponse)
def accept(request: Request, db: DbSession, user: Applicant, placement_id: Id):
    return _answer(request, db, user, placement_id, True)


def _decline_confirmation(request: Request, db: Session, user: User, placement: Placement, project: Project,
                          organisation: Organisation | None):
    """What declining gives up, in numbers, before anything happens."""
    others = sum(1 for row in my_offers(db, user)
                 if row[0].id != placement.id and row[0].status == PlacementStatus.OFFERED)
    title = localised(project, "title")
    lines = [
        _("You give up your place on %(project)s (%(organisation)s), %(start)s to %(end)s.",
          project=title, organisation=localised(organisation, "name") if organisation else "–",
          start=long_date(project.start_date), end=long_date(project.end_date)),
        _("The place goes to another applicant, and you cannot take the offer back afterwards."),
        ngettext("You will still have %(num)s other offer waiting for your answer.",
                 "You will still have %(num)s other offers waiting for your answer.", others) if others
        else _("You have no other offer waiting for your answer."),
    ]
    return render(request, "confirm.html", {
        "heading": _("Decline this offer?"), "caption": title, "lines": lines,
        "action": f"/placements/{placement.id}/decline", "confirm_label": _("Yes, decline this offer"),
        "cancel_href": f"/placements/{placement.id}", "cancel_label": _("Keep this offer"), "warning": True})


@router.post("/placements/{placement_id}/decline", response_class=HTMLResponse)
def decline(request: Request, db: DbSession, user: Applicant, placement_id: Id,
            confirmed: Annotated[str, Form()] = ""):
    """Without `confirmed=yes` (a first post, without JavaScript too) the confirmation page; then the decision."""
    own = [row for row in my_offers(db, user) if row[0].id == placement_id]
    if not own:
        raise NotFound(_("We could not find that offer."))
    if confirmed != "yes" and own[0][0].status == PlacementStatus.OFFERED:
        return _decline_confirmation(request, db, user, *own[0])
    return _answer(request, db, user, placement_id, False)


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request, db: DbSession, user: Viewer):
    """The applicant's status: every offer (whichever way it came), then each choice and what happens next.

    It lives with the offers because it shows them; the choices' part comes from the applicants domain."""
    overview = choices.status_overview(db, user)
    p = profile.find_profile(db, user)
    rows = my_offers(db, user)
    states, not_placed = outcomes_of_matching.where_she_stands(db, p.id if p else None, overview.choices)
    scheme_ids = {c.scheme_id for c in overview.choices} | {r[0].scheme_id for r in rows}
    # Key dates: each scheme she takes part in, or else the current one, so a newcomer knows when to choose.
    newcomer = schemes_service.scheme_for_applicants(db)
    key_dates = [newcomer] if newcomer is not None and newcomer.id not in scheme_ids else []
    key_dates += db.exec(select(Scheme).where(col(Scheme.id).in_(scheme_ids)).order_by(Scheme.id)).all()
    return render(request, "applicants/status.html", {
        **_words(), "overview": overview, "states": states, "not_placed": not_placed,
        "offers": rows, "origins": offer_origins(db, [r[0] for r in rows]),
        "key_dates": [(scheme, timetable.steps(scheme)) for scheme in key_dates],
        "eligibility": eligibility.for_projects(db, user, [c.project_id for c in overview.choices]),
        "missing": profile.missing_steps(p), "step_title": profile.step_title,
        "owed_confirmations": confirmations.owed_by(db, user), "scramble_open": scramble.open_to(db, p)})


@router.get("/organisation/interns", response_class=HTMLResponse)
def interns(request: Request, db: DbSession, user: NgoUser):
    organisation_id = organisation_id_of(user)
    if organisation_id is None:
        raise NotFound(_("We could not find that."))
    organisation = db.get(Organisation, organisation_id)
    return render(request, "offers/interns.html", {
        **_words(), "user": user, "organisation": organisation,
        "interns": offers.accepted_interns(db, organisation_id)})
