"""Complaints: raised by an applicant or intern, handled by staff as a case, shared with the organisation at will."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from backend.accounts import privacy
from backend.applicants.models import Choice
from backend.audit.models import AuditEvent
from backend.complaints import case
from backend.complaints.models import Complaint, ComplaintStatus
from backend.complaints.working_days import add_working_days, is_working_day
from backend.core import clock
from backend.core.db import utcnow
from backend.core.errors import InvalidTransition
from backend.identity.models import Role
from backend.outbox.models import OutboxEmail
from tests.accounts.helpers import make_user
from tests.applicants.helpers import make_applicant
from tests.factories import make_project
from tests.workflow.helpers import build_world, signed_in, zh


@pytest.fixture
def world(app, session):
    return build_world(app, session)


@pytest.fixture
def applicant(app, session, world):
    """An applicant (reading Chinese) who chose a project of the world's organisation."""
    user, profile = make_applicant(session)
    user.preferred_language = "zh-Hant"
    project = make_project(session, world.scheme, world.organisation)
    session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=world.scheme.id, rank=1))
    session.commit()
    actor = signed_in(app, session, user)
    actor.project = project
    return actor


def _raise(session, applicant, **overrides) -> Complaint:
    form = {"about": f"project:{applicant.project.id}", "subject": "Allowance not paid",
            "details": "The NGO promised HK$3,000 and paid nothing."}
    form.update(overrides)
    return case.raise_complaint(session, applicant.user, form)


def _emails_to(session, address: str) -> list[OutboxEmail]:
    return list(session.exec(select(OutboxEmail).where(OutboxEmail.to_address == address)
                             .order_by(col(OutboxEmail.id))).all())


# --- working days ------------------------------------------------------------------------------------------------

def test_acknowledgement_is_due_in_working_days_skipping_weekends_and_hong_kong_holidays():
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)        # Friday → Monday
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 20)      # Lunar New Year, 17-19 February
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 8)        # Good Friday, Easter Monday, Ching Ming
    assert add_working_days(date(2027, 12, 24), 1) == date(2027, 12, 28)    # Christmas on a Saturday, the 27th off
    assert not is_working_day(date(2026, 10, 1)) and is_working_day(date(2026, 10, 2))


# --- raising -----------------------------------------------------------------------------------------------------

def test_an_applicant_raises_a_complaint_about_a_project_they_chose_and_is_told_in_their_language(session, applicant,
                                                                                                   world):
    complaint = _raise(session, applicant)

    assert (complaint.status, complaint.organisation_id, complaint.project_id, complaint.user_id) == (
        ComplaintStatus.RECEIVED, world.organisation.id, applicant.project.id, applicant.user.id)
    received_day = complaint.received_at.astimezone(clock.HONG_KONG).date()
    assert complaint.acknowledge_by == add_working_days(received_day, 5)
    [email] = _emails_to(session, applicant.user.email)
    assert email.language == "zh-Hant" and "Allowance not paid" in email.subject
    assert zh("We have received your complaint: %(title)s").split("%")[0] in email.subject
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "complaint.received",
                                                 AuditEvent.object_id == str(complaint.id))).one()


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_a_complaint_form_with_mistakes_is_refused_field_by_field_keeping_what_was_typed(session, applicant, language):
    response = applicant.post(f"/complaints/new?lang={language}",
                              {"about": "", "subject": "", "details": "Nobody met us at the station." + "!" * 5000})

    assert response.status_code == 400
    page = html.unescape(response.text)
    for message in ("Choose the project or organisation the complaint is about.", "Give your complaint a short title.",
                    "Use %(limit)s characters or fewer."):
        expected = message if language == "en" else zh(message)
        assert expected.replace("%(limit)s", "5000") in page
    assert "Nobody met us at the station." in page
    assert session.exec(select(Complaint)).first() is None


def test_a_project_the_applicant_never_chose_cannot_be_named(session, applicant, world):
    stranger_project = make_project(session, world.scheme)
    response = applicant.post("/complaints/new", {"about": f"project:{stranger_project.id}", "subject": "x",
                                                  "details": "y"})

    assert response.status_code == 400
    assert "Choose the project or organisation the complaint is about." in html.unescape(response.text)


def test_a_complaint_about_an_organisation_through_the_api(session, applicant, world):
    response = applicant.api("POST", "/api/v1/me/complaints",
                             {"organisation_id": world.organisation.id, "subject": "Rude staff", "details": "At the interview."})

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["organisation_id"], body["project_id"], body["overdue"]) == (
        "received", world.organisation.id, None, False)
    bad = applicant.api("POST", "/api/v1/me/complaints", {"subject": "", "details": "x"})
    assert bad.status_code == 400 and set(bad.json()["details"]["fields"]) == {"about", "subject"}


# --- handling the case -------------------------------------------------------------------------------------------

def test_staff_take_a_case_from_received_to_upheld_and_the_complainant_follows_each_step(session, applicant, world):
    complaint = _raise(session, applicant)
    session.commit()
    officer = world.officer

    assert officer.post(f"/staff/complaints/{complaint.id}/acknowledge").status_code == 303
    assert officer.post(f"/staff/complaints/{complaint.id}/investigate").status_code == 303
    refused = officer.post(f"/staff/complaints/{complaint.id}/decide", {"outcome": "", "reply": ""})
    assert refused.status_code == 400
    assert "Write the reply the complainant will read." in html.unescape(refused.text)
    decided = officer.post(f"/staff/complaints/{complaint.id}/decide",
                           {"outcome": "upheld", "reply": "The NGO will pay the allowance by Friday."})
    assert decided.status_code == 303

    session.refresh(complaint)
    assert complaint.status == ComplaintStatus.UPHELD
    assert complaint.acknowledged_at and complaint.investigating_at and complaint.decided_at
    emails = _emails_to(session, applicant.user.email)
    assert len(emails) == 4 and all(e.language == "zh-Hant" for e in emails)
    assert "The NGO will pay the allowance by Friday." in emails[-1].body_text
    page = html.unescape(applicant.client.get(f"/complaints/{complaint.id}?lang=zh-Hant").text)
    assert "The NGO will pay the allowance by Friday." in page and zh("Upheld") in page
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.object_type == "complaint",
                                                           AuditEvent.object_id == str(complaint.id))).all()
    assert set(actions) >= {"complaint.received", "complaint.acknowledged", "complaint.investigating",
                            "complaint.upheld"}


def test_a_step_out_of_order_is_refused(session, applicant, world):
    complaint = _raise(session, applicant)
    with pytest.raises(InvalidTransition):
        case.decide(session, world.officer.user, complaint, {"outcome": "upheld", "reply": "Yes"})
    response = world.officer.post(f"/staff/complaints/{complaint.id}/investigate")
    assert response.status_code == 409
    session.refresh(complaint)
    assert complaint.status == ComplaintStatus.RECEIVED


def test_of_two_officers_acknowledging_at_once_one_wins_and_the_other_is_told(session, applicant, world):
    complaint = _raise(session, applicant)
    session.flush()
    # The other officer's request committed first; this one still holds the case as it read it.
    session.execute(update(Complaint).where(col(Complaint.id) == complaint.id)
                    .values(status=ComplaintStatus.ACKNOWLEDGED).execution_options(synchronize_session=False))
    assert complaint.status == ComplaintStatus.RECEIVED

    with pytest.raises(InvalidTransition, match="Someone else"):
        case.acknowledge(session, world.approver.user, complaint)
    assert len(_emails_to(session, applicant.user.email)) == 1  # only the receipt


def test_a_case_not_acknowledged_in_time_is_flagged_overdue_on_the_staff_list(session, applicant, world):
    late = _raise(session, applicant, subject="Late one")
    late.acknowledge_by = clock.today() - timedelta(days=1)
    on_time = _raise(session, applicant, subject="Fresh one")
    session.commit()

    page = world.officer.client.get("/staff/complaints?status=overdue").text
    assert "Late one" in page and "Fresh one" not in page
    assert case.is_overdue(late) and not case.is_overdue(on_time)
    assert world.officer.client.get("/staff/complaints").text.count('class="govuk-tag govuk-tag--red overdue"') == 1
    assert [c["overdue"] for c in world.officer.api("GET", "/api/v1/complaints?status=overdue").json()] == [True]


# --- who sees it -------------------------------------------------------------------------------------------------

def test_the_organisation_sees_a_complaint_only_once_staff_share_it(session, applicant, world):
    complaint = _raise(session, applicant)
    session.commit()
    assert world.ngo.client.get(f"/complaints/{complaint.id}").status_code == 404
    assert "Allowance not paid" not in world.ngo.client.get("/ngo/complaints").text

    assert world.officer.post(f"/staff/complaints/{complaint.id}/share").status_code == 303

    assert world.ngo.client.get(f"/complaints/{complaint.id}").status_code == 200
    assert "Allowance not paid" in world.ngo.client.get("/ngo/complaints").text
    assert world.other_ngo.client.get(f"/complaints/{complaint.id}").status_code == 404
    assert world.ngo.api("GET", f"/api/v1/complaints/{complaint.id}").json()["shared_with_organisation"] is True
    assert applicant.user.email not in world.ngo.client.get(f"/complaints/{complaint.id}").text
    other_applicant = signed_in(world.ngo.client.app, session, make_user(session, Role.APPLICANT))
    assert other_applicant.client.get(f"/complaints/{complaint.id}").status_code == 404


def test_upheld_complaints_are_counted_by_organisation(session, applicant, world):
    first, second, third = (_raise(session, applicant, subject=s) for s in ("a", "b", "c"))
    for complaint, outcome in ((first, "upheld"), (second, "not_upheld"), (third, "upheld")):
        case.acknowledge(session, world.officer.user, complaint)
        case.start_investigation(session, world.officer.user, complaint)
        if complaint is not third:
            case.decide(session, world.officer.user, complaint, {"outcome": outcome, "reply": "Done"})

    assert case.upheld_complaints_by_organisation(session, [world.organisation.id, 999_999]) == {
        world.organisation.id: 1, 999_999: 0}


# --- personal data -----------------------------------------------------------------------------------------------

def test_the_data_export_holds_the_complainants_complaints(session, applicant):
    complaint = _raise(session, applicant)
    exported = privacy.export_personal_data(session, applicant.user)
    assert [(c["id"], c["subject"]) for c in exported["complaints"]] == [(complaint.id, "Allowance not paid")]


def test_deleting_the_account_erases_the_complaint_text_but_keeps_its_outcome(session, applicant, world):
    complaint = _raise(session, applicant)
    case.acknowledge(session, world.officer.user, complaint)
    case.start_investigation(session, world.officer.user, complaint)
    case.decide(session, world.officer.user, complaint, {"outcome": "upheld", "reply": "Sorry."})

    privacy.delete_account(session, applicant.user, password="correct horse battery staple", confirmed=True)

    session.refresh(complaint)
    assert (complaint.user_id, complaint.subject, complaint.details, complaint.reply) == (None, "", "", "")
    assert complaint.status == ComplaintStatus.UPHELD and complaint.erased_at is not None
    assert case.upheld_complaints_by_organisation(session, [world.organisation.id])[world.organisation.id] == 1


def test_the_retention_purge_empties_complaints_decided_long_ago_only(session, applicant, world):
    old, recent = _raise(session, applicant, subject="Old"), _raise(session, applicant, subject="Recent")
    for complaint in (old, recent):
        case.acknowledge(session, world.officer.user, complaint)
        case.start_investigation(session, world.officer.user, complaint)
        case.decide(session, world.officer.user, complaint, {"outcome": "not_upheld", "reply": "No."})
    old.decided_at = utcnow() - timedelta(days=800)
    session.flush()

    privacy.purge_unplaced(session)

    session.refresh(old)
    session.refresh(recent)
    assert (old.subject, old.details, old.user_id, old.status) == ("", "", None, ComplaintStatus.NOT_UPHELD)
    assert recent.subject == "Recent" and recent.user_id == applicant.user.id


def test_the_organisations_api_lists_only_the_complaints_shared_with_it(session, applicant, world):
    shared, kept = _raise(session, applicant, subject="Shared one"), _raise(session, applicant, subject="Kept one")
    case.share(session, world.officer.user, shared)
    case.share(session, world.officer.user, shared)  # sharing twice changes nothing
    session.commit()

    assert [c["subject"] for c in world.ngo.api("GET", "/api/v1/ngo/complaints").json()] == ["Shared one"]
    assert world.other_ngo.api("GET", "/api/v1/ngo/complaints").json() == []
    assert world.ngo.api("GET", f"/api/v1/complaints/{kept.id}").status_code == 404
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "complaint.shared")).all()) == 1
