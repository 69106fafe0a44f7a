"""The Guangdong coordinating office: it confirms (or refuses, with a reason) each Guangdong participant before she
can be matched, sees the cohorts of programmes admitting Guangdong youth, and never a Hong Kong applicant."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlmodel import select

from backend.accounts import service as accounts
from backend.applicants import choices, origin_confirmation
from backend.applicants import profile as profiles
from backend.applicants.models import ApplicantProfile, Choice
from backend.audit.models import AuditEvent
from backend.core.errors import InvalidTransition, NotFound
from backend.core.forms import FormInvalid
from backend.identity import second_factor
from backend.identity.models import Role, User
from backend.market.inputs import load_round_inputs
from backend.outbox.service import speaking
from backend.projects.models import ProjectStatus
from tests.accounts.helpers import make_user
from tests.applicants.helpers import make_applicant
from tests.factories import make_project, make_scheme
from tests.workflow.helpers import signed_in

S = origin_confirmation.OriginConfirmation


def _guangdong(session, **overrides):
    values = dict(origin="guangdong", guangdong_city="Shenzhen", name_en="Li Xiaomei", name_zh="李小梅",
                  institution="Shenzhen University", programme="BA Museum Studies", statement="GD-statement-secret")
    values.update(overrides)
    return make_applicant(session, **values)


def _actions(session, profile_id: int) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_id == str(profile_id))
                                           .order_by(AuditEvent.id)) if e.action.startswith("applicant.origin")]


@pytest.fixture
def office(session) -> User:
    return make_user(session, Role.GUANGDONG_OFFICE)


def test_the_office_confirms_a_guangdong_applicant_once(session, office):
    _user, applicant = _guangdong(session)
    assert origin_confirmation.state_of(applicant) == S.AWAITING
    assert [a.id for a in origin_confirmation.list_awaiting(session, office)] == [applicant.id]

    decision = origin_confirmation.confirm(session, office, applicant.id)

    assert decision.state == "confirmed" and applicant.origin_confirmed_by_id == office.id
    assert origin_confirmation.list_awaiting(session, office) == []
    with pytest.raises(InvalidTransition):
        origin_confirmation.confirm(session, office, applicant.id)
    with pytest.raises(InvalidTransition):
        origin_confirmation.refuse(session, office, applicant.id, "too late")
    assert _actions(session, applicant.id) == ["applicant.origin_confirmed"]


def test_a_refusal_needs_a_reason_and_the_applicant_reads_it_in_her_language(session, office):
    user, applicant = _guangdong(session)
    with pytest.raises(FormInvalid) as error:
        origin_confirmation.refuse(session, office, applicant.id, "   ")
    assert list(error.value.errors) == ["reason"]
    with pytest.raises(FormInvalid):
        origin_confirmation.refuse(session, office, applicant.id, "x" * 501)
    assert origin_confirmation.state_of(applicant) == S.AWAITING

    origin_confirmation.refuse(session, office, applicant.id, "Not enrolled at a Guangdong institution.")

    overview = choices.status_overview(session, user)
    assert (overview.origin_confirmation, overview.origin_refusal_reason) == (
        "refused", "Not enrolled at a Guangdong institution.")
    assert _actions(session, applicant.id) == ["applicant.origin_refused"]


def test_declaring_again_or_changing_to_hong_kong_resets_the_confirmation(session, office):
    user = make_user(session, Role.APPLICANT)
    saved, errors = profiles.save_step(session, user, "residency", {"origin": "guangdong", "guangdong_city": "Foshan"})
    assert errors == {} and origin_confirmation.state_of(saved) == S.AWAITING
    origin_confirmation.confirm(session, office, saved.id)
    assert origin_confirmation.state_of(saved) == S.CONFIRMED

    saved, _errors = profiles.save_step(session, user, "residency",
                                        {"origin": "guangdong", "guangdong_city": "Zhuhai"})
    assert origin_confirmation.state_of(saved) == S.AWAITING
    assert saved.origin_confirmed_at is None and saved.origin_confirmed_by_id is None
    origin_confirmation.refuse(session, office, saved.id, "Wrong city")

    saved, _errors = profiles.save_step(session, user, "residency", {"origin": "hong_kong"})
    assert origin_confirmation.state_of(saved) == S.NOT_APPLICABLE
    assert (saved.origin_refused_at, saved.origin_refusal_reason) == (None, "")
    assert _actions(session, saved.id) == ["applicant.origin_confirmed", "applicant.origin_confirmation_reset",
                                           "applicant.origin_refused", "applicant.origin_confirmation_reset"]
    # Back to Guangdong: she waits for the office again, and the office sees her again (once she could be matched).
    saved.date_of_birth = date(2004, 3, 1)
    profiles.save_step(session, user, "residency", {"origin": "guangdong", "guangdong_city": "Zhuhai"})
    assert [a.id for a in origin_confirmation.list_awaiting(session, office)] == [saved.id]


def test_the_office_cannot_reach_a_hong_kong_applicant_and_nobody_else_may_confirm(session, office):
    _user, hong_kong = make_applicant(session)
    with pytest.raises(NotFound):
        origin_confirmation.confirm(session, office, hong_kong.id)
    with pytest.raises(NotFound):
        origin_confirmation.refuse(session, office, hong_kong.id, "no")
    assert origin_confirmation.list_awaiting(session, office) == []
    _user, guangdong = _guangdong(session)
    for role in (Role.OFFICER, Role.ADMIN, Role.APPLICANT):
        with pytest.raises(Exception) as refused:  # noqa: PT011 - Forbidden, or NotFound for the row
            origin_confirmation.confirm(session, make_user(session, role), guangdong.id)
        assert getattr(refused.value, "status_code", None) in (403, 404)
    assert origin_confirmation.state_of(guangdong) == S.AWAITING


def test_a_round_leaves_out_guangdong_applicants_the_office_has_not_confirmed(session, office):
    scheme = make_scheme(session, admitted_origins=["hong_kong", "guangdong"])
    project = make_project(session, scheme, status=ProjectStatus.OPEN)
    _u, hong_kong = make_applicant(session)
    _u, waiting = _guangdong(session)
    _u, confirmed = _guangdong(session, name_en="Confirmed")
    _u, refused = _guangdong(session, name_en="Refused")
    for rank_holder in (hong_kong, waiting, confirmed, refused):
        session.add(Choice(applicant_id=rank_holder.id, project_id=project.id, scheme_id=scheme.id, rank=1))
    session.flush()
    origin_confirmation.confirm(session, office, confirmed.id)
    origin_confirmation.refuse(session, office, refused.id, "No")

    matched = {a.id for a in load_round_inputs(session, scheme).applicants}

    assert matched == {str(hong_kong.id), str(confirmed.id)}


def test_the_status_page_tells_a_waiting_applicant_why_she_is_not_matched(app, session, office):
    user, applicant = _guangdong(session)
    user.preferred_language = "zh-Hans"
    session.commit()
    page = signed_in(app, session, user).client.get("/status?lang=en")
    assert "You are waiting for the Guangdong office to confirm you." in page.text
    hans = signed_in(app, session, user).client.get("/status?lang=zh-Hans")
    with speaking("zh-Hans"):
        from backend.core.i18n import gettext
        waiting = gettext("You are waiting for the Guangdong office to confirm you. Until it does, you are not "
                          "matched to any internship.")
    assert waiting != "You are waiting for the Guangdong office to confirm you. Until it does, you are not " \
                      "matched to any internship.", "translated"
    assert waiting in hans.text

    origin_confirmation.refuse(session, office, applicant.id, "Student card not from Guangdong")
    session.commit()
    page = signed_in(app, session, user).client.get("/status?lang=en")
    assert "could not confirm you" in page.text and "Student card not from Guangdong" in page.text


def test_the_office_pages_show_only_what_confirming_needs_and_refuse_bad_input(app, session, office):
    _u, applicant = _guangdong(session)
    _u, hong_kong = make_applicant(session, name_en="HK-Resident-Name")
    session.commit()
    actor = signed_in(app, session, office)

    page = actor.client.get("/guangdong-office/participants?lang=en")
    assert page.status_code == 200
    assert "李小梅" in page.text and "Shenzhen University" in page.text and "BA Museum Studies" in page.text
    assert "GD-statement-secret" not in page.text and applicant.contact_email not in page.text
    assert "HK-Resident-Name" not in page.text

    empty = actor.post(f"/guangdong-office/participants/{applicant.id}/refuse?lang=en", {"reason": " "})
    assert empty.status_code == 400 and "Say why you cannot confirm this applicant" in empty.text
    assert actor.post(f"/guangdong-office/participants/{hong_kong.id}/confirm").status_code == 404

    done = actor.post(f"/guangdong-office/participants/{applicant.id}/confirm")
    assert done.status_code == 303
    session.refresh(applicant)
    assert origin_confirmation.state_of(applicant) == S.CONFIRMED


def test_the_office_api_confirms_refuses_and_lists_within_its_bounds(app, session, office):
    _u, first = _guangdong(session)
    _u, second = _guangdong(session, name_en="Second")
    _u, hong_kong = make_applicant(session, name_en="HK-Resident-Name")
    both = make_scheme(session, admitted_origins=["hong_kong", "guangdong"])
    cohort = make_project(session, both, status=ProjectStatus.OPEN, title_en="Wolong cohort",
                          origin_seats={"guangdong": [5, 10]})
    hong_kong_only = make_project(session, make_scheme(session), status=ProjectStatus.OPEN, title_en="HK-only")
    session.commit()
    actor = signed_in(app, session, office)

    listed = actor.client.get("/api/v1/guangdong-office/participants").json()
    assert {row["id"] for row in listed} == {first.id, second.id}
    assert set(listed[0]) == {"id", "name", "city", "institution", "programme", "declared_on"}
    assert actor.api("POST", f"/api/v1/guangdong-office/participants/{hong_kong.id}/confirm").status_code == 404
    assert actor.api("POST", f"/api/v1/guangdong-office/participants/{first.id}/refuse",
                     {"reason": ""}).status_code in (400, 422)
    assert actor.api("POST", f"/api/v1/guangdong-office/participants/{first.id}/refuse",
                     {"reason": "x" * 501}).status_code in (400, 422)

    confirmed = actor.api("POST", f"/api/v1/guangdong-office/participants/{first.id}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    assert actor.api("POST", f"/api/v1/guangdong-office/participants/{first.id}/confirm").status_code == 409
    refused = actor.api("POST", f"/api/v1/guangdong-office/participants/{second.id}/refuse", {"reason": "No"})
    assert refused.status_code == 200 and refused.json() == {
        "id": second.id, "state": "refused", "confirmed_at": None, "refusal_reason": "No"}

    cohorts = actor.client.get("/api/v1/guangdong-office/cohorts").json()
    assert [(c["id"], c["guangdong_seats"]) for c in cohorts] == [(cohort.id, [5, 10])]
    assert hong_kong_only.title_en not in actor.client.get("/guangdong-office/cohorts").text


def test_an_admin_creates_a_guangdong_office_account_which_needs_a_second_factor(app, session):
    admin = signed_in(app, session, make_user(session, Role.ADMIN))
    page = admin.client.get("/staff/accounts?lang=en")
    assert 'value="guangdong_office"' in page.text and "Guangdong coordinating office" in page.text
    created = admin.post("/staff/accounts", {"display_name": "GD Office", "email": "gd-office@example.cn",
                                             "role": "guangdong_office", "password": "a-long-first-password"})
    assert created.status_code == 303
    user = session.exec(select(User).where(User.email == "gd-office@example.cn")).one()
    assert user.role == Role.GUANGDONG_OFFICE
    assert second_factor.required(user)
    assert user in accounts.list_staff(session)
    assert ApplicantProfile  # the office has no profile of its own
    assert session.exec(select(ApplicantProfile).where(ApplicantProfile.user_id == user.id)).first() is None


def test_an_erased_applicant_leaves_the_office_list_and_keeps_no_refusal_text(session, office):
    from backend.accounts.privacy import erase_profile

    _u, waiting = _guangdong(session)
    _u, refused = _guangdong(session, name_en="Refused")
    origin_confirmation.refuse(session, office, refused.id, "Reason naming her school")
    assert [a.id for a in origin_confirmation.list_awaiting(session, office)] == [waiting.id]

    erase_profile(session, waiting)
    erase_profile(session, refused)
    session.flush()

    assert origin_confirmation.list_awaiting(session, office) == []
    assert refused.origin_refusal_reason == ""


# --- nominations ---------------------------------------------------------------------------------------------


def test_a_nominated_participant_is_confirmed_as_soon_as_she_declares_guangdong(session, office):
    origin_confirmation.nominate(session, office, " Li.Xiaomei@SZU.example.cn ", "Shenzhen")
    user = make_user(session, Role.APPLICANT, email="li.xiaomei@szu.example.cn")

    saved, errors = profiles.save_step(session, user, "residency", {"origin": "guangdong", "guangdong_city": "Shenzhen"})

    assert errors == {} and origin_confirmation.state_of(saved) == S.CONFIRMED
    assert saved.origin_confirmed_by_id == office.id and origin_confirmation.may_be_matched(saved)
    [nomination] = origin_confirmation.list_nominations(session, office)
    assert (nomination.email, nomination.city, nomination.used) == ("li.xiaomei@szu.example.cn", "Shenzhen", True)
    confirmed = session.exec(select(AuditEvent).where(AuditEvent.action == "applicant.origin_confirmed",
                                                      AuditEvent.object_id == str(saved.id))).one()
    assert confirmed.after["nominated"] is True
    assert saved.id not in [a.id for a in origin_confirmation.list_awaiting(session, office)]


def test_nominating_someone_already_waiting_confirms_her_now_and_someone_else_still_waits(session, office):
    nominated = make_user(session, Role.APPLICANT, email="chen.jie@example.cn")
    other = make_user(session, Role.APPLICANT, email="wang.fang@example.cn")
    waiting, _errors = profiles.save_step(session, nominated, "residency",
                                          {"origin": "guangdong", "guangdong_city": "Foshan"})
    not_nominated, _errors = profiles.save_step(session, other, "residency",
                                                {"origin": "guangdong", "guangdong_city": "Foshan"})

    origin_confirmation.nominate(session, office, "chen.jie@example.cn", "Foshan")

    assert origin_confirmation.state_of(waiting) == S.CONFIRMED
    assert origin_confirmation.state_of(not_nominated) == S.AWAITING


@pytest.mark.parametrize(("language", "missing_email"), [("en", "Enter the participant's e-mail address."),
                                                         ("zh-Hant", "請輸入參加者的電郵地址。"),
                                                         ("zh-Hans", "请输入参加者的电子邮件地址。")])
def test_a_nomination_is_refused_field_by_field_keeping_what_was_typed(app, session, office, language, missing_email):
    origin_confirmation.nominate(session, office, "taken@example.cn", "Zhuhai")
    actor = signed_in(app, session, office)

    empty = actor.client.post(f"/guangdong-office/nominations?lang={language}",
                              data={"csrf_token": actor.csrf, "email": "", "guangdong_city": "Hong Kong"})
    assert empty.status_code == 400 and missing_email in html.unescape(empty.text)
    assert 'href="#email"' in empty.text and 'href="#guangdong_city"' in empty.text

    taken = actor.client.post("/guangdong-office/nominations?lang=en",
                              data={"csrf_token": actor.csrf, "email": "TAKEN@example.cn", "guangdong_city": "Zhuhai"})
    assert taken.status_code == 400 and "already been nominated" in taken.text
    assert 'value="TAKEN@example.cn"' in taken.text
    api = actor.client.post("/api/v1/guangdong-office/nominations", headers={"X-CSRF-Token": actor.csrf},
                            json={"email": "not-an-address", "guangdong_city": "Zhuhai"})
    assert api.status_code == 400 and "email" in api.json()["details"]["fields"]

    done = actor.client.post("/guangdong-office/nominations", data={
        "csrf_token": actor.csrf, "email": "new@example.cn", "guangdong_city": "Zhuhai"}, follow_redirects=False)
    assert done.status_code == 303
    page = actor.client.get("/guangdong-office/participants?lang=en").text
    assert "new@example.cn" in page and "Not signed up yet" in page


def test_deleting_her_account_deletes_the_nomination_of_her_address(session, office):
    from backend.accounts import privacy
    from backend.applicants.models import ParticipantNomination
    from tests.accounts.helpers import PASSWORD

    origin_confirmation.nominate(session, office, "leaving@example.cn", "Jiangmen")
    user = make_user(session, Role.APPLICANT, email="leaving@example.cn")
    profiles.save_step(session, user, "residency", {"origin": "guangdong", "guangdong_city": "Jiangmen"})
    privacy.delete_account(session, user, password=PASSWORD, confirmed=True)
    assert session.exec(select(ParticipantNomination)).all() == []
