"""The one writer of `Choice.status`: every move a choice can make, named, checked against one table.

The applicant ranks and withdraws, the NGO shortlists and interviews, a CSV import revives or drops,
approving a round offers, and the answer to the offer (or its lapse) settles the choice. Each move is a
conditional UPDATE on the status the caller read, so an NGO shortlisting while the applicant withdraws
ends with one of them told plainly that the choice has just changed. The NGO's steps and withdrawals are
audited here; a revival is audited by its caller as the choice added or the import that brought it back,
and the offer's moves by the offer's own audit event. The applicant's e-mail confirms the whole list of
choices, so it stays with choices.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from backend.applicants import demand
from backend.applicants.models import Choice, ChoiceStatus
from backend.audit import service as audit
from backend.core import states
from backend.core.db import utcnow
from backend.core.errors import InvalidTransition
from backend.core.i18n import gettext as _
from backend.identity.models import User

S = ChoiceStatus
# What the code allows today. A withdrawn choice comes back only as a fresh application; NGO steps stop
# once matching has made an offer; an offer's answer or lapse settles the choice for good: a declined or
# lapsed pair is never offered again. Accepting a place closes the applicant's other open choices in the
# scheme. The applicant may withdraw anything still in the list.
OPEN_STATUSES = (S.SUBMITTED, S.SHORTLISTED, S.INTERVIEWED)
TRANSITIONS: states.Transitions = {
    S.SUBMITTED: frozenset({S.SHORTLISTED, S.INTERVIEWED, S.OFFERED, S.WITHDRAWN, S.CLOSED}),
    S.SHORTLISTED: frozenset({S.SHORTLISTED, S.INTERVIEWED, S.OFFERED, S.WITHDRAWN, S.CLOSED}),
    S.INTERVIEWED: frozenset({S.INTERVIEWED, S.OFFERED, S.WITHDRAWN, S.CLOSED}),
    S.OFFERED: frozenset({S.ACCEPTED, S.DECLINED, S.NOT_PLACED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.WITHDRAWN}),
    S.DECLINED: frozenset({S.WITHDRAWN}),
    S.NOT_PLACED: frozenset({S.WITHDRAWN}),
    S.CLOSED: frozenset({S.WITHDRAWN}),
    S.WITHDRAWN: frozenset({S.SUBMITTED}),
}


def _changed_meanwhile() -> str:
    return _("This choice was changed by someone else a moment ago. Reload the page to see where it stands.")


def _move(session: Session, choice: Choice, to: ChoiceStatus, message: str, now: datetime | None,
          **values: Any) -> Choice:
    read = ChoiceStatus(choice.status)
    states.check(TRANSITIONS, read, to, message)
    values["updated_at"] = now or utcnow()
    if not states.move_if(session, Choice, choice.id, TRANSITIONS, to, where=[col(Choice.status) == read],
                          **values):
        raise InvalidTransition(_changed_meanwhile())
    for name, value in {"status": to, **values}.items():
        set_committed_value(choice, name, value)
    return choice


def revive(session: Session, choice: Choice, rank: int, *, in_scramble: bool = False,
           now: datetime | None = None) -> Choice:
    """A withdrawn choice chosen again is a fresh application: the NGO's earlier view no longer applies."""
    _move(session, choice, S.SUBMITTED, _changed_meanwhile(), now, rank=rank, ngo_rank=None,
          interview_outcome=None, in_scramble=in_scramble)
    demand.chosen(session, choice.project_id)
    return choice


def withdraw(session: Session, actor: User | None, choice: Choice, *, now: datetime | None = None) -> Choice:
    """Out of the applicant's ranking (rank 0) and out of the NGO's."""
    before = {"project_id": choice.project_id, "rank": choice.rank, "status": str(choice.status)}
    _move(session, choice, S.WITHDRAWN, _changed_meanwhile(), now, rank=0, ngo_rank=None)
    demand.unchosen(session, choice.project_id)
    audit.record(session, actor, "choice.withdrawn", "choice", choice.id, before=before)
    return choice


def shortlist(session: Session, actor: User, choice: Choice, *, now: datetime | None = None) -> Choice:
    before = str(choice.status)
    _move(session, choice, S.SHORTLISTED, _("This applicant has already been interviewed."), now)
    audit.record(session, actor, "choice.shortlisted", "choice", choice.id, before={"status": before},
                 after={"status": str(choice.status)})
    return choice


def record_interview(session: Session, actor: User, choice: Choice, outcome: str, notes: str, *,
                     ngo_rank: int | None, now: datetime | None = None) -> Choice:
    before = {"status": str(choice.status), "interview_outcome": choice.interview_outcome}
    _move(session, choice, S.INTERVIEWED,
          _("This application has moved on to matching and can no longer be changed here."), now,
          interview_outcome=outcome, interview_notes=notes, ngo_rank=ngo_rank)
    audit.record(session, actor, "choice.interviewed", "choice", choice.id, before=before,
                 after={"status": str(choice.status), "interview_outcome": outcome})
    return choice


def offer(session: Session, choice: Choice, *, now: datetime | None = None) -> Choice:
    return _move(session, choice, S.OFFERED, _("The applicant has withdrawn from this project."), now)


def offer_many(session: Session, choices: list[Choice], *, now: datetime | None = None) -> None:
    """`offer` for a whole batch of an approval: one conditional UPDATE per status the choices were read in."""
    message = _("The applicant has withdrawn from this project.")
    values = {"updated_at": now or utcnow()}
    by_status: dict[ChoiceStatus, list[Choice]] = {}
    for choice in choices:
        by_status.setdefault(ChoiceStatus(choice.status), []).append(choice)
    for read, group in by_status.items():
        states.check(TRANSITIONS, read, S.OFFERED, message)
        moved = session.execute(update(Choice).where(col(Choice.id).in_([c.id for c in group]),
                                                     col(Choice.status) == read)
                                .values(status=S.OFFERED, **values)
                                .execution_options(synchronize_session=False)).rowcount
        if moved != len(group):
            raise InvalidTransition(_changed_meanwhile())
        for choice in group:
            for name, value in {"status": S.OFFERED, **values}.items():
                set_committed_value(choice, name, value)


def _follow_offer(session: Session, applicant_id: int, project_id: int, to: ChoiceStatus,
                  now: datetime | None) -> Choice | None:
    """The choice behind an offer follows the offer's outcome, unless the applicant withdrew it meanwhile."""
    choice = session.exec(select(Choice).where(Choice.applicant_id == applicant_id,
                                               Choice.project_id == project_id)).first()
    if choice is None or not states.allowed(TRANSITIONS, ChoiceStatus(choice.status), to):
        return choice
    return _move(session, choice, to, _changed_meanwhile(), now)


def accept(session: Session, applicant_id: int, project_id: int, *, now: datetime | None = None) -> Choice | None:
    return _follow_offer(session, applicant_id, project_id, S.ACCEPTED, now)


def decline(session: Session, applicant_id: int, project_id: int, *, now: datetime | None = None) -> Choice | None:
    return _follow_offer(session, applicant_id, project_id, S.DECLINED, now)


def lapse(session: Session, applicant_id: int, project_id: int, *, now: datetime | None = None) -> Choice | None:
    """The offer expired: the applicant did not take the place, and the choice is settled."""
    return _follow_offer(session, applicant_id, project_id, S.NOT_PLACED, now)


def close_others(session: Session, applicant_id: int, scheme_id: int, accepted_project_id: int, *,
                 now: datetime | None = None) -> list[Choice]:
    """The applicant accepted a place: her other open choices in the scheme are closed (no NGO step, no
    round, no reordering touches them any more). Each is a conditional move; one changed meanwhile is left."""
    closed = []
    for choice in session.exec(select(Choice).where(
            Choice.applicant_id == applicant_id, Choice.scheme_id == scheme_id,
            Choice.project_id != accepted_project_id, col(Choice.status).in_(OPEN_STATUSES))
            .order_by(Choice.rank, Choice.id)).all():
        read = ChoiceStatus(choice.status)
        if states.move_if(session, Choice, choice.id, TRANSITIONS, S.CLOSED, where=[col(Choice.status) == read],
                          updated_at=now or utcnow()):
            set_committed_value(choice, "status", S.CLOSED)
            closed.append(choice)
    return closed
