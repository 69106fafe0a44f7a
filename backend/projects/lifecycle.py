"""A project's life, one named function per step: each checks who may take it and from which state,
records the step on the project's timeline and in the audit log, and tells the NGO by e-mail.

draft → submitted → under assessment → returned (→ resubmitted) → approved | rejected
      → open for applications → closed → completed. Funding decisions live in funding.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.core import clock, states
from backend.core.db import utcnow
from backend.core.errors import Conflict, InvalidTransition
from backend.core.forms import FormInvalid
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext
from backend.identity.models import User
from backend.identity.permissions import Permission, organisation_id_of, require, require_visible
from backend.organisations.models import Organisation, OrganisationMember
from backend.outbox import service as outbox
from backend.placements import offers
from backend.projects.models import Project, ProjectEvent, ProjectStatus
from backend.projects.validation import check_project
from backend.schemes import kinds
from backend.schemes.models import Scheme

EDITABLE = (ProjectStatus.DRAFT, ProjectStatus.RETURNED)
P = ProjectStatus
# The one table of a project's moves; `move` is the only writer of `Project.status` (funding.py uses it).
TRANSITIONS: states.Transitions = {
    P.DRAFT: frozenset({P.SUBMITTED}),
    P.SUBMITTED: frozenset({P.UNDER_ASSESSMENT}),
    P.UNDER_ASSESSMENT: frozenset({P.APPROVED, P.REJECTED, P.RETURNED}),
    P.RETURNED: frozenset({P.SUBMITTED}),
    P.APPROVED: frozenset({P.OPEN}),
    P.REJECTED: frozenset(),
    P.OPEN: frozenset({P.CLOSED}),
    P.CLOSED: frozenset({P.COMPLETED}),
    P.COMPLETED: frozenset(),
}

_SUBJECTS = {
    ProjectStatus.SUBMITTED: lazy_gettext("Project received: %(title)s"),
    ProjectStatus.RETURNED: lazy_gettext("Changes needed: %(title)s"),
    ProjectStatus.APPROVED: lazy_gettext("Funding approved: %(title)s"),
    ProjectStatus.REJECTED: lazy_gettext("Funding not approved: %(title)s"),
    ProjectStatus.OPEN: lazy_gettext("Now open for applications: %(title)s"),
    ProjectStatus.CLOSED: lazy_gettext("Applications closed: %(title)s"),
    ProjectStatus.COMPLETED: lazy_gettext("Completion report accepted: %(title)s"),
}
_BODY = lazy_gettext("The project \"%(title)s\" is now: %(status)s.\n\n%(comment)s\n\nSee its timeline on internmatch: %(link)s")
STATUS_NAMES = {
    ProjectStatus.DRAFT: lazy_gettext("draft"),
    ProjectStatus.SUBMITTED: lazy_gettext("submitted"),
    ProjectStatus.UNDER_ASSESSMENT: lazy_gettext("under assessment"),
    ProjectStatus.RETURNED: lazy_gettext("returned for changes"),
    ProjectStatus.APPROVED: lazy_gettext("approved"),
    ProjectStatus.REJECTED: lazy_gettext("not approved"),
    ProjectStatus.OPEN: lazy_gettext("open for applications"),
    ProjectStatus.CLOSED: lazy_gettext("closed"),
    ProjectStatus.COMPLETED: lazy_gettext("completed"),
}


class ProjectInvalid(FormInvalid):
    """The project cannot be submitted yet; `details['fields']` says what to fix, field by field."""

    status_code = 422
    code = "project_invalid"


def organisation_recipients(session: Session, project: Project) -> list[tuple[str, str]]:
    """The NGO's contact address and its admins', each with the reader's language."""
    organisation = session.get(Organisation, project.organisation_id)
    recipients = {organisation.contact_email: "en"}
    admins = session.exec(select(User).join(OrganisationMember, OrganisationMember.user_id == User.id)
                          .where(OrganisationMember.organisation_id == organisation.id,
                                 OrganisationMember.is_admin)).all()
    for admin in admins:
        recipients[admin.email] = admin.preferred_language
    return sorted(recipients.items())


def notify_organisation(session: Session, project: Project, comment: str = "") -> None:
    """E-mail the NGO's contact and admins, each in their own language."""
    for address, language in organisation_recipients(session, project):
        with outbox.speaking(language):
            status = str(STATUS_NAMES[project.status])
        outbox.enqueue(session, to=address, subject=_SUBJECTS[project.status], body=_BODY, language=language,
                       template=f"project.{project.status}",
                       title=outbox.in_language(language, project, "title"), status=status, comment=comment,
                       link=outbox.link(f"/ngo/projects/{project.id}"))


def record_step(session: Session, actor: User | None, project: Project, before: ProjectStatus, *,
                comment: str = "", action: str) -> None:
    project.updated_at = utcnow()
    session.add(ProjectEvent(project_id=project.id, from_status=before, to_status=project.status,
                             actor_id=getattr(actor, "id", None), comment=comment))
    session.flush()
    audit.record(session, actor, action, "project", project.id, before={"status": before},
                 after={"status": project.status, "comment": comment} if comment else {"status": project.status})
    if project.status in _SUBJECTS:
        notify_organisation(session, project, comment)


def _not_possible_now(project: Project) -> str:
    return _("The project is %(status)s; that step is not possible now.", status=str(STATUS_NAMES[project.status]))


def move(session: Session, actor: User | None, project: Project, to: ProjectStatus, *, action: str,
         comment: str = "", message: str = "") -> Project:
    """The project's one way to change status: checked against TRANSITIONS, then a conditional UPDATE on
    the status read, so of two people taking a step at once the second is told it is no longer possible;
    then the timeline, the audit event and the NGO's e-mail (`record_step`)."""
    before = ProjectStatus(project.status)
    states.check(TRANSITIONS, before, to, message or _not_possible_now(project))
    if not states.move_if(session, Project, project.id, TRANSITIONS, to, where=[col(Project.status) == before]):
        session.refresh(project)
        raise InvalidTransition(message or _not_possible_now(project))
    set_committed_value(project, "status", to)
    record_step(session, actor, project, before, comment=comment, action=action)
    return project


def _organisation_for(session: Session, actor: User) -> Organisation:
    organisation = session.get(Organisation, organisation_id_of(actor) or 0)
    if organisation is not None and not organisation.is_verified:
        if organisation.is_guangdong_host:
            raise Conflict(_("Your organisation must be verified by the Guangdong coordinating office before it can "
                             "offer places."))
        raise Conflict(_("Your organisation must be verified by staff before it can post projects."))
    require(actor, Permission.PROJECT_CREATE, organisation)
    return organisation


def _scheme_takes_places_from(scheme: Scheme, organisation: Organisation | None) -> None:
    if organisation is not None and not kinds.takes_places_from(scheme, organisation):
        raise Conflict(str(kinds.rules_of(scheme).offered_by_only))


def _scheme_takes_projects(scheme: Scheme, today: date | None = None) -> None:
    today = today or clock.today()
    if not scheme.ngo_window_opens <= today <= scheme.ngo_window_closes:
        raise Conflict(_("This scheme takes project applications from %(opens)s to %(closes)s.",
                         opens=scheme.ngo_window_opens.isoformat(), closes=scheme.ngo_window_closes.isoformat()))


def check_may_post(session: Session, actor: User, scheme: Scheme) -> None:
    """Before a new project's form: the organisation is verified, the scheme takes places from its kind of
    organisation and is taking projects now (each refused with a plain 409 the page shows)."""
    _scheme_takes_places_from(scheme, _organisation_for(session, actor))
    _scheme_takes_projects(scheme)


def create_draft(session: Session, actor: User, scheme: Scheme, raw: Mapping[str, str]
                 ) -> tuple[Project, dict[str, str]]:
    """The draft with every valid field, and a message for each field that was not saved."""
    organisation = _organisation_for(session, actor)
    _scheme_takes_places_from(scheme, organisation)
    _scheme_takes_projects(scheme)
    values, errors = check_project(session, scheme, raw, complete=False)
    project = Project(scheme_id=scheme.id, organisation_id=organisation.id, **values)
    session.add(project)
    session.flush()
    session.add(ProjectEvent(project_id=project.id, to_status=ProjectStatus.DRAFT, actor_id=actor.id))
    audit.record(session, actor, "project.drafted", "project", project.id, after={"title_en": project.title_en})
    return project, errors


def update_draft(session: Session, actor: User, project: Project, raw: Mapping[str, str]) -> dict[str, str]:
    require_visible(actor, Permission.PROJECT_EDIT_OWN, project)
    if project.status not in EDITABLE:
        raise InvalidTransition(_("Only a draft or a project returned for changes can be edited."))
    scheme = session.get(Scheme, project.scheme_id)
    values, errors = check_project(session, scheme, raw, complete=False,
                                   saved_dates={"start_date": project.start_date, "end_date": project.end_date})
    before = {name: getattr(project, name) for name in values}
    for name, value in values.items():
        setattr(project, name, value)
    project.updated_at = utcnow()
    session.flush()
    changed = {k: v for k, v in values.items() if before.get(k) != v}
    if changed:
        audit.record(session, actor, "project.edited", "project", project.id,
                     before={k: _jsonable(before[k]) for k in changed}, after={k: _jsonable(v) for k, v in changed.items()})
    return errors


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


def form_values(project: Project) -> dict[str, str]:
    """The project as the strings a form shows, so a saved draft re-renders exactly."""
    values = {name: getattr(project, name) or "" for name in
              ("title_en", "title_zh", "description_en", "description_zh", "host_organisation_en",
               "host_organisation_zh", "host_provides_en", "host_provides_zh", "sector", "city", "min_education")}
    for name in ("start_date", "end_date"):
        day = getattr(project, name)
        values[name] = day.isoformat() if day else ""
    for name in ("places_requested", "cost_travel", "cost_accommodation", "cost_insurance", "cost_allowance",
                 "cost_other", "min_age", "max_age"):
        values[name] = str(getattr(project, name) or 0)
    values["min_places"] = "" if project.min_places is None else str(project.min_places)
    for language, level in (project.languages or {}).items():
        values[f"language_{language}"] = str(level)
    for origin, (fewest, most) in (project.origin_seats or {}).items():
        values[f"seats_{origin}_fewest"], values[f"seats_{origin}_most"] = str(fewest), str(most)
    return values


def submit(session: Session, actor: User, project: Project) -> Project:
    require_visible(actor, Permission.PROJECT_SUBMIT, project)
    if project.status not in EDITABLE:
        raise InvalidTransition(_("This project has already been submitted."))
    scheme = session.get(Scheme, project.scheme_id)
    if project.status == ProjectStatus.DRAFT:
        _scheme_takes_projects(scheme)
    _scheme_takes_places_from(scheme, _organisation_for(session, actor))
    _values, errors = check_project(session, scheme, form_values(project), complete=True)
    if errors:
        raise ProjectInvalid(errors, _("The project cannot be submitted yet: fix the fields shown."))
    project.submitted_at = utcnow()
    return move(session, actor, project, ProjectStatus.SUBMITTED, action="project.submitted",
                message=_("This project has already been submitted."))


def open_for_applications(session: Session, actor: User, project: Project) -> Project:
    require(actor, Permission.PROJECT_ASSESS)
    return move(session, actor, project, ProjectStatus.OPEN, action="project.opened")


def close_applications(session: Session, actor: User, project: Project) -> Project:
    """No more applications or acceptances: offers still unanswered are withdrawn and their applicants told."""
    require(actor, Permission.PROJECT_ASSESS)
    move(session, actor, project, ProjectStatus.CLOSED, action="project.closed")
    offers.withdraw_open_offers(session, project_id=project.id, reason="project_closed", tell=True)
    return project


def complete(session: Session, actor: User, project: Project) -> Project:
    """Closed → completed, when staff accept the completion report (projects/completion.py, its only caller)."""
    require(actor, Permission.PROJECT_ASSESS)
    move(session, actor, project, ProjectStatus.COMPLETED, action="project.completed",
         message=_("A project is completed only once applications have closed."))
    offers.withdraw_open_offers(session, project_id=project.id, reason="project_completed", tell=True)
    return project


def timeline(session: Session, project: Project) -> list[ProjectEvent]:
    return list(session.exec(select(ProjectEvent).where(ProjectEvent.project_id == project.id)
                             .order_by(ProjectEvent.created_at, ProjectEvent.id)))
