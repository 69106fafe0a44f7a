"""One rule for who may see an applicant, whichever way the applicant is read.

An NGO sees an applicant only while the applicant has an active choice of one of its projects: once the
choice is withdrawn the applicant is "not found" for that NGO on every page, API route and CV download.
"""


import pytest

from backend.applicants import cv, ngo_view
from backend.applicants.models import Choice, ChoiceStatus
from backend.core.errors import NotFound
from backend.identity import permissions as authz
from backend.identity.models import Role
from tests.accounts.helpers import make_user, sign_in_as
from tests.applicants.helpers import blank_pdf, make_applicant, make_ngo
from tests.factories import make_project


@pytest.fixture
def withdrawn(session, scheme):
    """An applicant with a CV whose only link to the NGO is a withdrawn choice of one of its projects."""
    user, profile = make_applicant(session)
    cv.save_cv(session, user, blank_pdf())
    ngo, organisation = make_ngo(session)
    choice = Choice(applicant_id=profile.id, project_id=make_project(session, scheme, organisation).id,
                    scheme_id=scheme.id, rank=1, status=ChoiceStatus.WITHDRAWN)
    session.add(choice)
    session.flush()
    return dict(ngo=ngo, applicant=user, profile=profile, choice=choice)


def test_a_withdrawn_choice_does_not_show_the_applicant_to_the_ngo(session, withdrawn):
    ngo, profile = withdrawn["ngo"], withdrawn["profile"]
    assert not authz.may_see_applicant(ngo, profile)
    assert not authz.can(ngo, authz.Permission.APPLICANT_VIEW_FOR_OWN_PROJECTS, profile)
    with pytest.raises(NotFound):
        authz.require_applicant_visible(ngo, profile)
    with pytest.raises(NotFound):
        ngo_view.read_applicant(session, ngo, profile.id)
    with pytest.raises(NotFound):
        ngo_view.download_cv(session, ngo, profile.id)
    with pytest.raises(NotFound):
        cv.open_cv(session, ngo, profile.id)


def test_the_applicant_and_staff_still_see_them_and_an_active_choice_shows_them_again(session, withdrawn):
    ngo, profile = withdrawn["ngo"], withdrawn["profile"]
    assert authz.may_see_applicant(withdrawn["applicant"], profile)
    assert authz.may_see_applicant(make_user(session, Role.OFFICER), profile)
    assert not authz.may_see_applicant(make_user(session), profile), "another applicant"
    assert not authz.may_see_applicant(None, profile)
    withdrawn["choice"].status = ChoiceStatus.SUBMITTED
    session.add(withdrawn["choice"])
    session.flush()
    assert authz.may_see_applicant(ngo, profile)
    assert ngo_view.read_applicant(session, ngo, profile.id).applicant_id == profile.id
    assert cv.open_cv(session, ngo, profile.id).path.is_file()


@pytest.mark.parametrize("path", [
    "/ngo/applicants/{id}", "/ngo/applicants/{id}/cv",
    "/api/v1/ngo/applicants/{id}", "/api/v1/ngo/applicants/{id}/cv",
])
def test_every_page_and_api_route_answers_not_found(client, session, withdrawn, path):
    sign_in_as(client, session, withdrawn["ngo"])
    url = path.format(id=withdrawn["profile"].id)
    assert client.get(url).status_code == 404
    withdrawn["choice"].status = ChoiceStatus.SUBMITTED
    session.add(withdrawn["choice"])
    session.commit()
    assert client.get(url).status_code == 200, "the same route shows an applicant with an active choice"
