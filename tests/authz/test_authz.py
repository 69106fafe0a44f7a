"""The permission table, tenancy scoping and the four-eyes rule."""

import pytest

from backend.applicants.models import ApplicantProfile
from backend.core.errors import Forbidden, NotFound
from backend.identity import permissions as authz
from backend.identity.models import Role
from backend.identity.permissions import Permission, can, require, require_different_person, require_visible
from tests.accounts.helpers import make_user
from tests.factories import make_organisation, make_project


def test_every_role_has_an_entry_and_only_admins_manage_staff(session):
    assert set(authz.ROLE_PERMISSIONS) == set(Role)
    assert [r for r, perms in authz.ROLE_PERMISSIONS.items() if Permission.STAFF_MANAGE in perms] == [Role.ADMIN]


def test_anonymous_visitors_may_only_browse(session):
    assert can(None, Permission.PROJECT_BROWSE)
    assert not any(can(None, p) for p in Permission if p != Permission.PROJECT_BROWSE)


def test_assessing_and_deciding_belong_to_different_roles(session):
    officer, approver = make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)
    assert can(officer, Permission.PROJECT_ASSESS) and not can(officer, Permission.PROJECT_DECIDE)
    assert can(approver, Permission.PROJECT_DECIDE) and not can(approver, Permission.PROJECT_ASSESS)
    assert can(approver, Permission.PLACEMENT_APPROVE) and not can(officer, Permission.PLACEMENT_APPROVE)


def test_an_ngo_edits_its_own_organisations_projects_and_not_anothers(session, scheme):
    mine, theirs = make_organisation(session), make_organisation(session)
    ngo = make_user(session, Role.NGO, organisation=mine)
    own_project, other_project = make_project(session, scheme, mine), make_project(session, scheme, theirs)
    assert can(ngo, Permission.PROJECT_EDIT_OWN, own_project)
    assert not can(ngo, Permission.PROJECT_EDIT_OWN, other_project)
    with pytest.raises(NotFound):
        require_visible(ngo, Permission.PROJECT_EDIT_OWN, other_project)
    assert require_visible(ngo, Permission.PROJECT_EDIT_OWN, own_project) is own_project


def test_an_unverified_organisation_cannot_post_projects(session):
    unverified = make_organisation(session, verified=False)
    ngo = make_user(session, Role.NGO, organisation=unverified)
    assert not can(ngo, Permission.PROJECT_CREATE, unverified)
    unverified.verified_at = unverified.created_at
    assert can(ngo, Permission.PROJECT_CREATE, unverified)


def test_an_applicant_sees_only_their_own_profile(session):
    me, someone = make_user(session), make_user(session)
    mine, theirs = ApplicantProfile(user_id=me.id), ApplicantProfile(user_id=someone.id)
    assert can(me, Permission.APPLICANT_VIEW_OWN, mine)
    assert not can(me, Permission.APPLICANT_VIEW_OWN, theirs)
    officer = make_user(session, Role.OFFICER)
    assert can(officer, Permission.APPLICANT_VIEW_ALL, theirs)


def test_require_refuses_with_403_and_a_deactivated_user_has_no_permissions(session):
    applicant = make_user(session)
    with pytest.raises(Forbidden):
        require(applicant, Permission.AUDIT_READ)
    admin = make_user(session, Role.ADMIN, is_active=False)
    assert not can(admin, Permission.STAFF_MANAGE)


def test_four_eyes_a_different_person_must_approve_what_someone_proposed(session):
    officer, approver = make_user(session, Role.OFFICER), make_user(session, Role.APPROVER)
    with pytest.raises(authz.SegregationOfDutiesError) as refused:
        require_different_person(officer.id, officer)
    assert refused.value.status_code == 403
    assert str(refused.value) == "A different person must approve what you proposed."
    require_different_person(officer.id, approver)  # no error: someone else approves


def test_the_four_eyes_message_is_translated(session):
    from backend.core.i18n import set_language

    officer = make_user(session, Role.OFFICER)
    set_language("zh-Hant")
    try:
        with pytest.raises(authz.SegregationOfDutiesError) as refused:
            require_different_person(officer.id, officer)
    finally:
        set_language("en")
    assert "另一人" in refused.value.message


def test_an_ngo_sees_only_applicants_who_chose_one_of_its_projects(session, scheme):
    from backend.applicants.models import Choice

    mine, theirs = make_organisation(session), make_organisation(session)
    ngo = make_user(session, Role.NGO, organisation=mine)
    chose_mine = ApplicantProfile(user_id=make_user(session).id)
    chose_theirs = ApplicantProfile(user_id=make_user(session).id)
    session.add_all([chose_mine, chose_theirs])
    session.flush()
    session.add(Choice(applicant_id=chose_mine.id, project_id=make_project(session, scheme, mine).id,
                       scheme_id=scheme.id, rank=1))
    session.add(Choice(applicant_id=chose_theirs.id, project_id=make_project(session, scheme, theirs).id,
                       scheme_id=scheme.id, rank=1))
    session.flush()
    assert can(ngo, Permission.APPLICANT_VIEW_FOR_OWN_PROJECTS, chose_mine)
    assert not can(ngo, Permission.APPLICANT_VIEW_FOR_OWN_PROJECTS, chose_theirs)
    with pytest.raises(NotFound):
        require_visible(ngo, Permission.APPLICANT_VIEW_FOR_OWN_PROJECTS, chose_theirs)
