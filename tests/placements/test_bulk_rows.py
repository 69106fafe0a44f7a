"""A round's rows written in bulk come out as an ORM insert would write them, on either database."""

from sqlmodel import col, select

from backend.core.bulk import insert_rows
from backend.identity.models import Role
from backend.placements.models import MatchProposal, ProposalStatus
from tests.applicants.helpers import make_applicant
from tests.factories import make_project, make_scheme
from tests.placements.test_approvals import make_run, make_user


def test_left_out_columns_get_their_defaults_and_enums_are_stored_by_value(session):
    scheme = make_scheme(session)
    project = make_project(session, scheme)
    run = make_run(session, scheme, make_user(session, Role.OFFICER))
    first, second = make_applicant(session)[1], make_applicant(session)[1]
    insert_rows(session, MatchProposal.__table__,
                [dict(run_id=run.id, applicant_id=first.id, project_id=project.id, score=70.0)])
    insert_rows(session, MatchProposal.__table__,
                [dict(run_id=run.id, applicant_id=second.id, project_id=project.id, score=60.0,
                      status=ProposalStatus.REFUSED, reasons=[{"code": "choice", "params": {"rank": 2}}])])
    session.expire_all()
    defaulted, given = session.exec(select(MatchProposal).where(MatchProposal.run_id == run.id)
                                    .order_by(col(MatchProposal.score).desc())).all()
    assert (defaulted.status, defaulted.pinned, defaulted.reasons) == ("proposed", False, [])
    assert given.status == "refused" and given.reasons == [{"code": "choice", "params": {"rank": 2}}]
