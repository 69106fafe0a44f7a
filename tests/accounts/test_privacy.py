"""Personal data: applicants can take a copy of it and delete it; unplaced applicants are purged in time."""

import json
from datetime import date, timedelta

from sqlmodel import select

from backend.accounts.privacy import purge_unplaced
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.audit.models import AuditEvent
from backend.core.db import utcnow
from backend.identity.models import ApiToken, User, UserSession
from backend.placements.models import Placement, PlacementStatus
from tests.accounts.helpers import PASSWORD, make_user, sign_in_as
from tests.factories import make_project, make_scheme


def _applicant_with_history(session, scheme, *, placed: bool = False):
    user = make_user(session)
    profile = ApplicantProfile(user_id=user.id, name_en="Chan Siu Ming", name_zh="陳小明", contact_email=user.email,
                               phone="91234567", date_of_birth=date(2004, 5, 1), institution="HKU",
                               statement="I love logistics.", languages={"cantonese": 5}, regions=["Guangdong"])
    session.add(profile)
    session.flush()
    first, second = make_project(session, scheme), make_project(session, scheme)
    session.add(Choice(applicant_id=profile.id, project_id=first.id, scheme_id=scheme.id, rank=1,
                       status=ChoiceStatus.ACCEPTED if placed else ChoiceStatus.SUBMITTED))
    session.add(Choice(applicant_id=profile.id, project_id=second.id, scheme_id=scheme.id, rank=2))
    session.add(Placement(scheme_id=scheme.id, project_id=first.id, applicant_id=profile.id, subsidy_hkd=25_000,
                          status=PlacementStatus.ACCEPTED if placed else PlacementStatus.OFFERED,
                          offer_deadline=utcnow() + timedelta(days=7)))
    session.flush()
    return user, profile


def test_an_applicant_downloads_everything_held_about_them(client, session, scheme):
    user, profile = _applicant_with_history(session, scheme)
    sign_in_as(client, session, user)
    response = client.get("/account/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.text)
    assert data["account"]["email"] == user.email and "password_hash" not in data["account"]
    assert data["profile"]["name_zh"] == "陳小明" and data["profile"]["phone"] == "91234567"
    assert [c["rank"] for c in data["choices"]] == [1, 2]
    assert data["placements"][0]["subsidy_hkd"] == 25_000
    assert any(e["action"] == "account.exported" for e in client.get("/api/v1/me/export").json()["audit_events"])


def test_the_export_holds_nobody_elses_data(client, session, scheme):
    user, _profile = _applicant_with_history(session, scheme)
    other, _other_profile = _applicant_with_history(session, scheme)
    sign_in_as(client, session, user)
    text = client.get("/account/export").text
    assert other.email not in text


def test_deleting_an_account_erases_personal_data_and_withdraws_what_is_in_progress(client, session, scheme):
    user, profile = _applicant_with_history(session, scheme)
    user_id = user.id
    csrf = sign_in_as(client, session, user)
    client.post("/account/tokens", data={"token_name": "t", "csrf_token": csrf})

    refused = client.post("/account/delete?lang=en", data={"password": PASSWORD, "csrf_token": csrf})
    assert refused.status_code == 400 and "Confirm that you want to delete your account." in refused.text
    wrong = client.post("/account/delete", data={"password": "not mine at all", "confirm": "yes", "csrf_token": csrf})
    assert wrong.status_code == 400 and session.get(User, user_id) is not None

    done = client.post("/account/delete", data={"password": PASSWORD, "confirm": "yes", "csrf_token": csrf})
    assert done.status_code == 200
    session.expire_all()
    assert session.get(User, user_id) is None
    assert session.exec(select(UserSession).where(UserSession.user_id == user_id)).first() is None
    assert session.exec(select(ApiToken).where(ApiToken.user_id == user_id)).first() is None
    erased = session.get(ApplicantProfile, profile.id)
    assert erased.user_id is None and erased.name_en == erased.name_zh == erased.phone == erased.statement == ""
    assert erased.date_of_birth is None and erased.languages == {}
    choices = session.exec(select(Choice).where(Choice.applicant_id == profile.id)).all()
    assert {c.status for c in choices} == {ChoiceStatus.WITHDRAWN}
    placement = session.exec(select(Placement).where(Placement.applicant_id == profile.id)).one()
    assert placement.status == PlacementStatus.WITHDRAWN, "an unanswered offer goes back to the pool"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "account.deleted",
                                                 AuditEvent.actor_id == user_id)).one()
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_staff_cannot_delete_their_own_account_from_the_page(client, session):
    officer = make_user(session, "officer")
    csrf = sign_in_as(client, session, officer)
    assert client.post("/account/delete", data={"password": PASSWORD, "confirm": "yes",
                                                "csrf_token": csrf}).status_code == 403


def test_purge_erases_unplaced_applicants_only_after_the_retention_period(session):
    scheme = make_scheme(session, applicant_window_closes=date(2026, 3, 31))
    _unplaced_user, unplaced = _applicant_with_history(session, scheme)
    _placed_user, placed = _applicant_with_history(session, scheme, placed=True)
    close = date(2026, 3, 31)

    assert purge_unplaced(session, today=close + timedelta(days=365)) == 0, "not yet past the retention period"
    assert unplaced.name_en == "Chan Siu Ming"

    assert purge_unplaced(session, today=close + timedelta(days=366)) == 1
    assert unplaced.name_en == "" and unplaced.phone == "" and unplaced.user_id is None
    assert placed.name_en == "Chan Siu Ming", "placed interns are kept for the scheme's records"
    assert purge_unplaced(session, today=close + timedelta(days=400)) == 0, "running it again finds nothing new"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "applicant.purged")).one().object_id == str(unplaced.id)


def test_purge_keeps_an_applicant_who_also_applies_to_a_later_scheme(session):
    old = make_scheme(session, applicant_window_closes=date(2024, 3, 31))
    new = make_scheme(session, applicant_window_closes=date(2027, 3, 31))
    _user, profile = _applicant_with_history(session, old)
    session.add(Choice(applicant_id=profile.id, project_id=make_project(session, new).id, scheme_id=new.id, rank=1))
    session.flush()
    assert purge_unplaced(session, today=date(2026, 1, 1)) == 0


def test_the_purge_unplaced_command_runs(engine, capsys):
    from backend.cli import main

    assert main(["purge-unplaced"]) == 0
    assert "applicant(s) who were not placed" in capsys.readouterr().out
