"""After the internship: interns confirm what they received, staff see mismatches, and the track record counts them."""

from __future__ import annotations

import html
import io
import json
import threading
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from backend.accounts import privacy
from backend.applicants.models import Choice
from backend.audit.models import AuditEvent
from backend.cli import _cmd_ask_confirmations, build_parser
from backend.complaints.models import Complaint, ComplaintStatus
from backend.core import clock
from backend.core.db import utcnow
from backend.core.errors import NotFound
from backend.identity.models import Role, User
from backend.organisations.track_record import of_organisation, track_record
from backend.outbox.models import OutboxEmail
from backend.placements import confirmations
from backend.placements.models import InternConfirmation, Placement, PlacementStatus
from backend.projects.models import ProjectStatus
from tests.accounts.helpers import make_user
from tests.applicants.helpers import make_applicant
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_organisation, make_project, make_scheme
from tests.workflow.helpers import build_world, signed_in, zh

ALLOWANCE, TRAVEL, ACCOMMODATION = 8_000, 3_000, 12_000


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def _today() -> date:
    return clock.today()


def _ended_project(session, world, *, days_ago: int = 3, organisation=None, **overrides):
    end = _today() - timedelta(days=days_ago)
    values = dict(status=ProjectStatus.CLOSED, start_date=end - timedelta(days=40), end_date=end,
                  cost_allowance=ALLOWANCE, cost_travel=TRAVEL, cost_accommodation=ACCOMMODATION, cost_insurance=0)
    values.update(overrides)
    return make_project(session, world.scheme, organisation or world.organisation, **values)


def _intern(app, session, project, *, language: str = "en", status: PlacementStatus = PlacementStatus.ACCEPTED):
    user, profile = make_applicant(session)
    user.preferred_language = language
    session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=project.scheme_id, rank=1))
    placement = Placement(scheme_id=project.scheme_id, project_id=project.id, applicant_id=profile.id,
                          subsidy_hkd=25_000, status=status, offer_deadline=utcnow())
    session.add(placement)
    session.commit()
    actor = signed_in(app, session, user)
    actor.placement, actor.profile, actor.project = placement, profile, project
    return actor


@pytest.fixture
def intern(app, session, world):
    return _intern(app, session, _ended_project(session, world), language="zh-Hant")


def _full(**overrides) -> dict[str, str]:
    form = {"allowance_received": "full", "travel_received": "full", "accommodation_received": "full",
            "rating": "4", "comments": "A good summer."}
    form.update(overrides)
    return form


def _emails_to(session, address: str) -> list[OutboxEmail]:
    return list(session.exec(select(OutboxEmail).where(OutboxEmail.to_address == address)
                             .order_by(col(OutboxEmail.id))).all())


# --- asking and reminding ----------------------------------------------------------------------------------------

def test_interns_are_asked_once_in_their_language_when_the_internship_has_ended_then_reminded_twice_at_most(
        app, session, world, intern):
    running = _intern(app, session, _ended_project(session, world, days_ago=-5))  # ends in five days
    now = utcnow()

    first = confirmations.ask_and_remind(session, now=now)
    assert (first.asked, first.reminded) == (1, 0)
    [email] = _emails_to(session, intern.user.email)
    assert email.language == "zh-Hant" and email.template == "confirmation_asked"
    assert email.subject == zh("Your internship has ended: tell us what you received")
    assert f"/status/confirmations/{intern.placement.id}" in email.body_text
    assert _emails_to(session, running.user.email) == []

    again = confirmations.ask_and_remind(session, now=now + timedelta(days=1))
    assert (again.asked, again.reminded) == (0, 0)
    for days in (7, 14, 21, 28):
        confirmations.ask_and_remind(session, now=now + timedelta(days=days))
    templates = [e.template for e in _emails_to(session, intern.user.email)]
    assert templates == ["confirmation_asked", "confirmation_reminder", "confirmation_reminder"]


def test_an_intern_who_has_answered_is_not_reminded(session, intern):
    now = utcnow()
    confirmations.ask_and_remind(session, now=now)
    confirmations.save(session, intern.user, intern.placement.id, _full(), send=True)
    assert confirmations.ask_and_remind(session, now=now + timedelta(days=8)).reminded == 0


def test_interns_who_did_not_show_or_declined_are_not_asked(app, session, world):
    project = _ended_project(session, world)
    _intern(app, session, project, status=PlacementStatus.NO_SHOW)
    _intern(app, session, project, status=PlacementStatus.DECLINED)
    assert confirmations.ask_and_remind(session).asked == 0


# --- the intern's form -------------------------------------------------------------------------------------------

def test_the_status_page_asks_and_the_form_asks_only_about_what_the_project_stated(intern):
    page = intern.client.get("/status")
    assert f"/status/confirmations/{intern.placement.id}" in page.text
    form = intern.client.get(f"/status/confirmations/{intern.placement.id}")
    assert form.status_code == 200
    assert 'name="allowance_received"' in form.text and 'name="accommodation_received"' in form.text
    assert "insurance_received" not in form.text  # the project stated no insurance
    assert "HK$8,000" in form.text


def test_a_draft_is_kept_even_with_errors_and_can_be_finished_later(session, intern):
    path = f"/status/confirmations/{intern.placement.id}"
    saved = intern.post(path, {"action": "save", "allowance_received": "part", "allowance_amount": "abc",
                               "comments": "Half-written thoughts"})
    assert saved.status_code == 303
    page = intern.client.get(path)
    assert "Half-written thoughts" in page.text and 'value="abc"' in page.text

    refused = intern.post(path, {"action": "send", "allowance_received": "part", "allowance_amount": "9000",
                                 "comments": "Still typing"})
    assert refused.status_code == 400
    assert 'value="9000"' in refused.text and "Still typing" in refused.text
    assert 'href="#travel_received"' in refused.text and 'href="#rating"' in refused.text
    confirmation = session.exec(select(InternConfirmation)).one()
    assert confirmation.submitted_at is None and confirmation.draft["comments"] == "Still typing"

    sent = intern.post(path, {"action": "send", **_full(allowance_received="part", allowance_amount="3,000")})
    assert sent.status_code == 303
    session.refresh(confirmation)
    assert confirmation.submitted_at is not None and confirmation.mismatch and confirmation.draft == {}
    assert confirmation.answers["allowance"] == {"received": "part", "amount": 3_000}
    assert confirmation.answers["travel"] == {"received": "full", "amount": TRAVEL}
    assert confirmation.rating == 4
    again = intern.post(path, {"action": "send", **_full()})
    assert again.status_code == 400
    assert intern.client.get(path).text.count("HK$3,000") >= 1


def test_received_in_full_everywhere_is_no_mismatch_and_part_must_be_less_than_promised(session, intern):
    with pytest.raises(confirmations.ConfirmationInvalid) as error:
        confirmations.save(session, intern.user, intern.placement.id,
                           _full(travel_received="part", travel_amount=str(TRAVEL)), send=True)
    assert set(error.value.errors) == {"travel_amount"}
    confirmation = confirmations.save(session, intern.user, intern.placement.id, _full(), send=True)
    assert confirmation.mismatch is False


def test_a_project_that_stated_no_amounts_asks_only_the_survey(app, session, world):
    quiet = _intern(app, session, _ended_project(session, world, cost_allowance=0, cost_travel=0,
                                                  cost_accommodation=0))
    page = quiet.client.get(f"/status/confirmations/{quiet.placement.id}")
    assert "_received" not in page.text and "there is no amount to confirm" in page.text
    confirmation = confirmations.save(session, quiet.user, quiet.placement.id, {"rating": "5"}, send=True)
    assert (confirmation.promised, confirmation.answers, confirmation.mismatch) == ({}, {}, False)


def test_nobody_else_opens_an_interns_form_and_nothing_is_asked_before_the_end(app, session, world, intern):
    other = _intern(app, session, _ended_project(session, world))
    assert other.client.get(f"/status/confirmations/{intern.placement.id}").status_code == 404
    running = _intern(app, session, _ended_project(session, world, days_ago=-1))
    assert running.client.get(f"/status/confirmations/{running.placement.id}").status_code == 404
    with pytest.raises(NotFound):
        confirmations.save(session, running.user, running.placement.id, _full(), send=True)
    assert world.ngo.client.get(f"/status/confirmations/{intern.placement.id}").status_code == 403


def test_the_form_reads_in_chinese(intern):
    page = intern.client.get(f"/status/confirmations/{intern.placement.id}?lang=zh-Hant")
    assert html.escape(zh("What you received")) in page.text and zh("Save and finish later") in page.text


# --- staff -------------------------------------------------------------------------------------------------------

def test_a_missing_allowance_is_flagged_to_staff(session, world, intern):
    confirmations.save(session, intern.user, intern.placement.id, _full(allowance_received="none"), send=True)
    session.commit()
    listing = world.officer.client.get("/staff/confirmations")
    assert listing.status_code == 200
    assert "Chan Ka Yan" in listing.text and "HK$8,000" in listing.text and "HK$0" in listing.text
    project_page = world.officer.client.get(f"/staff/projects/{intern.project.id}")
    assert "1 of 1 interns have confirmed what they received; 1 reported" in project_page.text


# --- the track record --------------------------------------------------------------------------------------------

def test_the_track_record_counts_every_outcome_across_schemes(app, session, world, intern):
    other_scheme_project = _ended_project(session, world)
    other_scheme_project.scheme_id = build_world(app, session).scheme.id
    session.add(other_scheme_project)
    for status in (PlacementStatus.COMPLETED, PlacementStatus.COMPLETED, PlacementStatus.NO_SHOW,
                   PlacementStatus.LEFT_EARLY, PlacementStatus.DECLINED):
        _intern(app, session, other_scheme_project, status=status)
    confirmations.save(session, intern.user, intern.placement.id, _full(allowance_received="none", rating="2"),
                       send=True)
    session.add(Complaint(organisation_id=world.organisation.id, status=ComplaintStatus.UPHELD,
                          acknowledge_by=_today()))
    session.add(Complaint(organisation_id=world.organisation.id, status=ComplaintStatus.NOT_UPHELD,
                          acknowledge_by=_today()))
    session.flush()

    record = of_organisation(session, world.organisation.id)
    assert (record.schemes, record.projects_funded, record.places_granted) == (2, 2, 20)
    assert (record.places_filled, record.completed, record.no_shows, record.left_early) == (5, 2, 1, 1)
    assert record.completion_rate == 0.4
    assert (record.confirmations, record.mismatches, record.survey_score) == (1, 1, 2.0)
    assert record.complaints_upheld == 1


def test_an_organisation_with_nothing_yet_has_no_rates(session):
    newcomer = make_organisation(session)
    record = track_record(session, [newcomer.id])[newcomer.id]
    assert record.completion_rate is None and record.survey_score is None and not record.has_history


def test_the_staff_organisations_page_shows_none_yet_not_zero_percent(session, world):
    page = world.officer.client.get("/staff/organisations")
    assert page.status_code == 200 and "none yet" in page.text and "0%" not in page.text
    chinese = world.officer.client.get("/staff/organisations?lang=zh-Hant")
    assert zh("none yet") in chinese.text


def test_the_track_record_report_has_a_chart_table_csv_excel_and_api(session, world, intern):
    confirmations.save(session, intern.user, intern.placement.id, _full(allowance_received="none"), send=True)
    newcomer = make_organisation(session, name_en="Newcomer Youth Club")
    make_project(session, world.scheme, newcomer)  # funded, no intern yet
    session.commit()
    officer = world.officer.client
    page = officer.get("/staff/reports/track-record")
    assert page.status_code == 200 and 'data-chart="bar"' in page.text
    assert world.organisation.name_en in page.text and "none yet" in page.text
    csv_text = officer.get("/staff/reports/track-record.csv").content.decode("utf-8-sig")
    header, *rows = csv_text.splitlines()
    assert header.startswith("Organisation,") and "Allowance mismatches" in header
    [row] = [r for r in rows if r.startswith(world.organisation.name_en + ",")]
    assert row.split(",")[9:12] == ["1", "1", "4.0"]  # one confirmation, one mismatch, rated 4
    [empty] = [r for r in rows if r.startswith("Newcomer Youth Club")]
    assert empty.split(",")[6] == "none yet"  # completion rate: no place filled yet
    workbook = load_workbook(io.BytesIO(officer.get("/staff/reports/track-record.xlsx").content))
    names = [row[0] for row in workbook.active.iter_rows(min_row=4, values_only=True)]
    assert world.organisation.name_en in names and "Newcomer Youth Club" in names
    api = world.officer.api("GET", "/api/v1/reports/track-record").json()
    [mine] = [r for r in api["rows"] if r["organisation"] == world.organisation.name_en]
    assert (mine["mismatches"], mine["completion_rate"]) == (1, 0.0)
    assert world.ngo.client.get("/staff/reports/track-record").status_code == 403


# --- personal data -----------------------------------------------------------------------------------------------

def test_the_export_covers_the_answers_and_erasure_keeps_only_the_figures(session, intern):
    confirmations.save(session, intern.user, intern.placement.id, _full(allowance_received="none",
                                                                         comments="They never paid me."), send=True)
    exported = json.loads(json.dumps(privacy.export_personal_data(session, intern.user)))
    [answer] = exported["internship_confirmations"]
    assert answer["comments"] == "They never paid me." and answer["answers"]["allowance"]["received"] == "none"

    privacy.erase_profile(session, intern.profile)
    confirmation = session.exec(select(InternConfirmation)).one()
    assert confirmation.comments == "" and confirmation.erased_at is not None
    assert confirmation.mismatch and confirmation.rating == 4  # still counts for the track record


def test_the_retention_purge_erases_old_comments_and_drafts(session, intern, world):
    confirmations.save(session, intern.user, intern.placement.id, {"comments": "draft words"}, send=False)
    confirmation = session.exec(select(InternConfirmation)).one()
    confirmation.updated_at = utcnow() - timedelta(days=800)
    session.add(confirmation)
    session.flush()
    privacy.purge_unplaced(session)
    session.refresh(confirmation)
    assert confirmation.draft == {} and confirmation.erased_at is not None


# --- the journey: a missing allowance reaches the next funding application ---------------------------------------

def test_a_missing_allowance_shows_on_the_track_record_at_the_organisations_next_application(session, world,
                                                                                             intern):
    path = f"/status/confirmations/{intern.placement.id}"
    assert intern.post(path, {"action": "send", **_full(allowance_received="none")}).status_code == 303
    next_application = make_project(session, world.scheme, world.organisation, status=ProjectStatus.SUBMITTED)
    fresh = make_project(session, world.scheme, make_organisation(session), status=ProjectStatus.SUBMITTED)
    session.commit()

    page = world.officer.client.get(f"/staff/projects/{next_application.id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "The organisation's track record" in text
    section = text[text.index('id="track-record"'):]
    mismatch_row = section[section.index("Allowance mismatches"):][:200]
    assert ">1<" in mismatch_row.replace(" ", "").replace("\n", "")
    newcomer = html.unescape(world.officer.client.get(f"/staff/projects/{fresh.id}").text)
    newcomer_section = newcomer[newcomer.index('id="track-record"'):]
    assert "none yet" in newcomer_section[:4000] and "0%" not in newcomer_section[:4000]
    chinese = world.officer.client.get(f"/staff/projects/{next_application.id}?lang=zh-Hant").text
    assert html.escape(zh("The organisation's track record")) in chinese


def test_staff_only_see_the_mismatch_list(session, world, app):
    applicant = make_user(session, Role.APPLICANT)
    session.commit()
    assert signed_in(app, session, applicant).client.get("/staff/confirmations").status_code == 403


def test_the_daily_task_is_a_command():
    assert build_parser().parse_args(["ask-confirmations"]).func is _cmd_ask_confirmations


# --- the race ----------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not IS_POSTGRES, reason="two connections racing for one row need PostgreSQL (set DATABASE_URL)")
def test_two_sends_at_once_from_two_tabs_record_the_answers_once():
    with migrated_database("internmatch_confirmation_race") as (_url, engine):
        with Session(engine, expire_on_commit=False) as setup:
            end = _today() - timedelta(days=3)
            project = make_project(setup, make_scheme(setup), make_organisation(setup), status=ProjectStatus.CLOSED,
                                   start_date=end - timedelta(days=40), end_date=end, cost_insurance=0)
            user, profile = make_applicant(setup)
            placement = Placement(scheme_id=project.scheme_id, project_id=project.id, applicant_id=profile.id,
                                  subsidy_hkd=25_000, status=PlacementStatus.ACCEPTED, offer_deadline=utcnow())
            setup.add(placement)
            setup.commit()

        outcomes: list = []
        barrier = threading.Barrier(2)

        def send(rating: str) -> None:
            with Session(engine, expire_on_commit=False) as db:
                intern = db.get(User, user.id)
                barrier.wait()
                try:
                    confirmations.save(db, intern, placement.id, _full(rating=rating), send=True)
                    db.commit()
                    outcomes.append("sent")
                except confirmations.ConfirmationInvalid:
                    db.rollback()
                    outcomes.append("already sent")

        threads = [threading.Thread(target=send, args=(rating,)) for rating in ("2", "5")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(outcomes) == ["already sent", "sent"]
        with Session(engine) as check:
            [confirmation] = check.exec(select(InternConfirmation)).all()
            assert confirmation.submitted_at is not None and confirmation.draft == {}
            assert len(check.exec(select(AuditEvent).where(AuditEvent.action == "confirmation.sent")).all()) == 1
