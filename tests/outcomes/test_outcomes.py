"""Each intern's outcome, the completion report counted from the outcomes, staff's review, and a closed project
that takes no more interns. Runs on SQLite and, with DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import html
import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlmodel import Session, select

from backend.audit.models import AuditEvent
from backend.core import clock
from backend.core.errors import Forbidden, InvalidTransition, NotFound
from backend.identity.models import Role
from backend.outbox.models import OutboxEmail
from backend.placements import offers
from backend.placements.models import Placement, PlacementStatus
from backend.projects import completion, lifecycle
from backend.projects.models import CompletionReportStatus, ProjectStatus
from backend.schemes import payments
from tests.accounts.helpers import make_user
from tests.conftest import IS_POSTGRES, migrated_database
from tests.factories import make_project
from tests.outcomes.helpers import add_intern, finished_project
from tests.workflow.helpers import build_world, zh

P = PlacementStatus


@pytest.fixture
def world(app, session):
    return build_world(app, session)


# --- outcomes -----------------------------------------------------------------------------------------------

def test_the_ngo_records_each_interns_outcome_after_the_end_date(session, world):
    project = finished_project(session, world)
    done, left, absent = (add_intern(session, project) for _ in range(3))
    ngo = world.ngo.user

    offers.record_outcome(session, ngo, project, done.id, P.COMPLETED)
    left_on = project.start_date + timedelta(days=12)
    offers.record_outcome(session, ngo, project, left.id, P.LEFT_EARLY, left_on=left_on, reason="Family illness")
    offers.record_outcome(session, ngo, project, absent.id, P.NO_SHOW)

    assert (done.status, left.status, absent.status) == (P.COMPLETED, P.LEFT_EARLY, P.NO_SHOW)
    assert (left.left_on, left.outcome_reason) == (left_on, "Family illness")
    assert completion.figures(session, project).as_dict() == {
        "interns": 3, "completed": 1, "left_early": 1, "no_show": 1, "awaiting_outcome": 0}
    recorded = session.exec(select(AuditEvent).where(AuditEvent.action == "placement.outcome_recorded",
                                                     AuditEvent.object_id == str(left.id))).one()
    assert recorded.after == {"status": "left_early", "left_on": left_on.isoformat(), "reason": "Family illness"}

    # a mistake is corrected before the report is sent: the date and reason go with the old outcome
    offers.record_outcome(session, ngo, project, left.id, P.COMPLETED)
    assert (left.status, left.left_on, left.outcome_reason) == (P.COMPLETED, None, None)


def test_an_outcome_before_the_end_date_is_refused(session, world):
    project = finished_project(session, world)
    intern = add_intern(session, project)
    with pytest.raises(InvalidTransition, match="only after the internship ends"):
        offers.record_outcome(session, world.ngo.user, project, intern.id, P.COMPLETED, today=project.end_date)
    assert intern.status == P.ACCEPTED


def test_the_end_date_is_a_hong_kong_day_whatever_the_servers_own_day(session, world):
    project = finished_project(session, world)
    intern = add_intern(session, project)
    end = project.end_date
    # 23:30 on the last day in Hong Kong: the internship has not ended
    clock.set_now(datetime.combine(end, time(23, 30), clock.HONG_KONG))
    with pytest.raises(InvalidTransition, match="only after the internship ends"):
        offers.record_outcome(session, world.ngo.user, project, intern.id, P.COMPLETED)
    # 00:30 the next morning in Hong Kong, still the last day in UTC (16:30): it has
    clock.set_now(datetime.combine(end + timedelta(days=1), time(0, 30), clock.HONG_KONG))
    assert clock.now().astimezone(UTC).date() == end
    offers.record_outcome(session, world.ngo.user, project, intern.id, P.COMPLETED)
    assert intern.status == P.COMPLETED


def test_an_outcome_for_someone_who_is_not_an_accepted_intern_of_the_project_is_refused(session, world):
    project = finished_project(session, world)
    other_project = finished_project(session, world)
    offered = add_intern(session, project, status=P.OFFERED)
    declined = add_intern(session, project, status=P.DECLINED)
    elsewhere = add_intern(session, other_project)
    for placement in (offered, declined, elsewhere):
        with pytest.raises(NotFound, match="not an accepted intern of this project"):
            offers.record_outcome(session, world.ngo.user, project, placement.id, P.COMPLETED)
    with pytest.raises(NotFound):
        offers.record_outcome(session, world.ngo.user, project, 2_000_000_000, P.COMPLETED)
    assert (offered.status, declined.status, elsewhere.status) == (P.OFFERED, P.DECLINED, P.ACCEPTED)


def test_another_organisation_cannot_record_an_outcome(session, world):
    project = finished_project(session, world)
    intern = add_intern(session, project)
    for stranger in (world.other_ngo.user, world.officer.user):
        with pytest.raises(NotFound):
            offers.record_outcome(session, stranger, project, intern.id, P.COMPLETED)
    assert intern.status == P.ACCEPTED


@pytest.mark.parametrize(("offset", "accepted"), [(-1, False), (0, True), (39, True), (40, False), (41, False)])
def test_a_left_early_date_must_fall_within_the_internship(session, world, offset, accepted):
    project = finished_project(session, world)  # 40 days from start to end
    intern = add_intern(session, project)
    left_on = project.start_date + timedelta(days=offset)
    call = lambda: offers.record_outcome(session, world.ngo.user, project, intern.id, P.LEFT_EARLY,  # noqa: E731
                                         left_on=left_on, reason="Homesick")
    if accepted:
        call()
        assert intern.left_on == left_on
    else:
        with pytest.raises(offers.OutcomeInvalid) as refused:
            call()
        assert set(refused.value.errors) == {"left_on"}
        assert intern.status == P.ACCEPTED


def test_leaving_early_needs_a_day_and_a_reason(session, world):
    project = finished_project(session, world)
    intern = add_intern(session, project)
    with pytest.raises(offers.OutcomeInvalid) as refused:
        offers.record_outcome(session, world.ngo.user, project, intern.id, P.LEFT_EARLY)
    assert set(refused.value.errors) == {"left_on", "reason"}


# --- the completion report ----------------------------------------------------------------------------------

def _all_completed(session, world, project, n: int) -> list[Placement]:
    interns = [add_intern(session, project) for _ in range(n)]
    for intern in interns:
        offers.record_outcome(session, world.ngo.user, project, intern.id, P.COMPLETED)
    return interns


def test_the_report_is_sent_only_after_the_end_date_with_every_outcome_recorded(session, world):
    project = finished_project(session, world)
    first, second = add_intern(session, project), add_intern(session, project)
    ngo = world.ngo.user

    with pytest.raises(InvalidTransition, match="only after the internship ends"):
        completion.send(session, ngo, project, "Went well.", today=project.end_date)
    offers.record_outcome(session, ngo, project, first.id, P.COMPLETED)
    with pytest.raises(InvalidTransition, match="1 still to record"):
        completion.send(session, ngo, project, "Went well.")
    offers.record_outcome(session, ngo, project, second.id, P.NO_SHOW, reason="Never arrived")
    with pytest.raises(completion.ReportInvalid) as refused:
        completion.send(session, ngo, project, "  ")
    assert set(refused.value.errors) == {"evaluation"}

    report = completion.send(session, ngo, project, "Went well.")
    assert (report.status, report.evaluation) == (CompletionReportStatus.SENT, "Went well.")
    sent = session.exec(select(AuditEvent).where(AuditEvent.action == "completion_report.sent")).one()
    assert (sent.after["completed"], sent.after["no_show"]) == (1, 1)
    # once sent, the outcomes it counts are fixed
    with pytest.raises(InvalidTransition, match="has been sent"):
        offers.record_outcome(session, ngo, project, second.id, P.COMPLETED)


def test_a_report_on_a_project_still_open_for_applications_is_refused(session, world):
    project = finished_project(session, world, status=ProjectStatus.OPEN)
    _all_completed(session, world, project, 1)
    with pytest.raises(InvalidTransition, match="once applications have closed"):
        completion.send(session, world.ngo.user, project, "Went well.")


def test_staff_return_the_report_with_comments_and_accept_it_when_sent_again(session, world):
    project = finished_project(session, world)
    interns = _all_completed(session, world, project, 2)
    ngo, officer = world.ngo.user, world.officer.user
    completion.send(session, ngo, project, "Went well.")
    assert payments.completed_interns(session, project) is None

    with pytest.raises(completion.ReportInvalid):
        completion.return_report(session, officer, project, "")
    with pytest.raises(Forbidden):
        completion.accept(session, ngo, project)
    report = completion.return_report(session, officer, project, "One intern left in week 2: correct it.")
    assert (report.status, report.staff_comments) == (CompletionReportStatus.RETURNED,
                                                      "One intern left in week 2: correct it.")
    returned = session.exec(select(OutboxEmail).where(OutboxEmail.template == "completion_report.returned")).all()
    assert returned and all("correct it" in email.body_text for email in returned)

    offers.record_outcome(session, ngo, project, interns[1].id, P.LEFT_EARLY,
                          left_on=project.start_date + timedelta(days=8), reason="Found a job")
    completion.send(session, ngo, project, "Went well; one left for a job.")
    completion.accept(session, officer, project)

    assert project.status == ProjectStatus.COMPLETED
    assert completion.report_of(session, project).status == CompletionReportStatus.ACCEPTED
    assert payments.completed_interns(session, project) == 1
    with pytest.raises(InvalidTransition):
        completion.accept(session, officer, project)
    with pytest.raises(InvalidTransition):
        completion.send(session, ngo, project, "again")
    assert session.exec(select(OutboxEmail).where(OutboxEmail.template == "project.completed")).first()


def test_the_report_page_shows_counts_and_staff_review_it_in_both_languages(session, world):
    project = finished_project(session, world)
    add_intern(session, project, name_en="Lee Siu Ming", name_zh="李小明")
    session.commit()
    intern = session.exec(select(Placement).where(Placement.project_id == project.id)).one()

    refused = world.ngo.post(f"/ngo/projects/{project.id}/outcomes/{intern.id}?lang=zh-Hant",
                             {"outcome": "left_early", "left_on-day": "1", "left_on-month": "1",
                              "left_on-year": "1990", "reason": ""})
    assert refused.status_code == 400
    assert zh("Say why the intern left early.") in html.unescape(refused.text)
    saved = world.ngo.post(f"/ngo/projects/{project.id}/outcomes/{intern.id}", {"outcome": "completed"})
    assert saved.status_code == 303
    outcomes = world.ngo.client.get(f"/ngo/projects/{project.id}/outcomes?lang=en").text
    assert "Lee Siu Ming" in outcomes and "Completed the internship" in outcomes

    sent = world.ngo.post(f"/ngo/projects/{project.id}/report", {"action": "send", "evaluation": "Valuable."})
    assert sent.status_code == 303
    queue = world.officer.client.get(f"/staff/projects?scheme_id={world.scheme.id}&lang=en").text
    assert "completion reports to come or to review" in queue and f"/staff/projects/{project.id}" in queue
    review = world.officer.client.get(f"/staff/projects/{project.id}/report?lang=zh-Hant").text
    assert 'id="figure-completed">1<' in review and "Valuable." in review
    assert zh("Accept the completion report") in review
    assert 'id="figure-completed">1<' in world.officer.client.get(f"/staff/projects/{project.id}").text
    assert world.approver.post(f"/staff/projects/{project.id}/report/accept").status_code == 403
    assert world.officer.post(f"/staff/projects/{project.id}/report/accept").status_code == 303
    session.expire_all()
    assert session.get(type(project), project.id).status == ProjectStatus.COMPLETED
    api = world.officer.api("GET", f"/api/v1/projects/{project.id}/completion-report").json()
    assert (api["status"], api["figures"]["completed"], api["evaluation"]) == ("accepted", 1, "Valuable.")


# --- a closed project takes no more interns -----------------------------------------------------------------

def test_an_offer_on_a_closed_project_cannot_be_accepted(session, world):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.CLOSED)
    offer = add_intern(session, project, status=P.OFFERED)
    applicant = session.get(type(world.officer.user), _user_id_of(session, offer))
    with pytest.raises(InvalidTransition, match="takes no more interns"):
        offers.accept_offer(session, applicant, offer)
    assert offer.status == P.OFFERED


def _user_id_of(session, placement):
    from backend.applicants.models import ApplicantProfile

    return session.get(ApplicantProfile, placement.applicant_id).user_id


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_closing_applications_withdraws_open_offers_and_tells_each_applicant(session, world, language):
    project = make_project(session, world.scheme, world.organisation, status=ProjectStatus.OPEN)
    offer = add_intern(session, project, status=P.OFFERED)
    kept = add_intern(session, project)
    applicant = session.get(type(world.officer.user), _user_id_of(session, offer))
    applicant.preferred_language = language
    session.flush()

    lifecycle.close_applications(session, world.officer.user, project)

    assert (offer.status, kept.status) == (P.WITHDRAWN, P.ACCEPTED)
    email = session.exec(select(OutboxEmail).where(OutboxEmail.template == "placement_withdrawn")).one()
    assert email.to_address == applicant.email
    subject = "Your internship offer has been withdrawn: %(project)s"
    expected = subject if language == "en" else zh(subject)
    assert email.subject == expected % {"project": project.title_en if language == "en" else project.title_zh}
    withdrawn = session.exec(select(AuditEvent).where(AuditEvent.action == "placement.withdrawn")).one()
    assert withdrawn.after["reason"] == "project_closed"


# --- races --------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not IS_POSTGRES, reason="concurrent transactions need PostgreSQL")
def test_two_officers_accepting_the_same_report_at_once_complete_the_project_once():
    with migrated_database("outcomes_race") as (_url, engine):
        with Session(engine) as session:
            world = _plain_world(session)
            project = finished_project(session, world)
            _all_completed(session, world, project, 2)
            completion.send(session, world.ngo.user, project, "Went well.")
            officers = [make_user(session, Role.OFFICER) for _ in range(2)]
            session.commit()
            project_id, officer_ids = project.id, [o.id for o in officers]

        barrier, results = threading.Barrier(2), []

        def review(officer_id):
            with Session(engine) as own:
                officer = own.get(type(officers[0]), officer_id)
                target = own.get(type(project), project_id)
                barrier.wait()
                try:
                    completion.accept(own, officer, target)
                    own.commit()
                    results.append("accepted")
                except InvalidTransition:
                    own.rollback()
                    results.append("refused")

        threads = [threading.Thread(target=review, args=(officer_id,)) for officer_id in officer_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["accepted", "refused"]
        with Session(engine) as session:
            completed = session.exec(select(AuditEvent).where(AuditEvent.action == "project.completed")).all()
            assert len(completed) == 1


def _plain_world(session):
    """The parts of a workflow world the services need, without signed-in clients."""
    from types import SimpleNamespace

    from tests.factories import make_organisation
    from tests.workflow.helpers import open_scheme

    scheme, organisation = open_scheme(session), make_organisation(session)
    ngo = make_user(session, Role.NGO, organisation=organisation)
    return SimpleNamespace(scheme=scheme, organisation=organisation, ngo=SimpleNamespace(user=ngo))



def test_the_schemes_reports_show_each_sent_reports_figures_and_evaluation(session, world):
    project = finished_project(session, world)
    interns = _all_completed(session, world, project, 3)
    offers.record_outcome(session, world.ngo.user, project, interns[2].id, P.NO_SHOW)
    completion.send(session, world.ngo.user, project, "Strong hosts; one intern never arrived.")
    draft = finished_project(session, world)
    completion.save_draft(session, world.ngo.user, draft, "Not finished")
    session.commit()

    body = world.officer.api("GET", f"/api/v1/reports?scheme_id={world.scheme.id}").json()
    table = next(t for t in body["tables"] if t["key"] == "completion")
    assert [(r["report"], r["interns"], r["completed"], r["no_show"], r["evaluation"]) for r in table["rows"]] == [
        ("sent to Home Affairs", 3, 2, 1, "Strong hosts; one intern never arrived.")]
    csv_text = world.officer.client.get(f"/api/v1/reports/csv?scheme_id={world.scheme.id}&table=completion").text
    assert "Strong hosts" in csv_text


def test_the_api_records_outcomes_sends_the_report_and_staff_return_it(session, world):
    project = finished_project(session, world)
    intern = add_intern(session, project)
    not_started = make_project(session, world.scheme, world.organisation, status=ProjectStatus.CLOSED)
    early = add_intern(session, not_started)
    session.commit()
    base = f"/api/v1/ngo/projects/{project.id}"

    bad = world.ngo.api("POST", f"{base}/interns/{intern.id}/outcome",
                        {"outcome": "left_early", "left_on": (project.end_date + timedelta(days=3)).isoformat()})
    assert bad.status_code == 422 and set(bad.json()["details"]["fields"]) == {"left_on", "reason"}
    too_soon = world.ngo.api("POST", f"/api/v1/ngo/projects/{not_started.id}/interns/{early.id}/outcome",
                             {"outcome": "completed"})
    assert too_soon.status_code == 409
    stranger = world.other_ngo.api("POST", f"{base}/interns/{intern.id}/outcome", {"outcome": "completed"})
    assert stranger.status_code == 404
    done = world.ngo.api("POST", f"{base}/interns/{intern.id}/outcome", {"outcome": "no_show", "reason": "Ill"})
    assert done.status_code == 200 and done.json()["outcome"] == "no_show"

    sent = world.ngo.api("POST", f"{base}/completion-report", {"evaluation": "Short.", "send": True})
    assert sent.status_code == 200
    assert (sent.json()["status"], sent.json()["figures"]["no_show"]) == ("sent", 1)
    returned = world.officer.api("POST", f"/api/v1/projects/{project.id}/completion-report/return",
                                 {"comments": "Say more about the hosts."})
    assert returned.status_code == 200 and returned.json()["staff_comments"] == "Say more about the hosts."
    mine = world.ngo.api("GET", f"/api/v1/projects/{project.id}/completion-report").json()
    assert mine["status"] == "returned"
    assert world.other_ngo.api("GET", f"/api/v1/projects/{project.id}/completion-report").status_code == 404


def test_a_returned_report_shows_staffs_comments_and_is_sent_again_from_the_page(session, world):
    project = finished_project(session, world)
    _all_completed(session, world, project, 1)
    completion.send(session, world.ngo.user, project, "First try.")
    session.commit()

    empty = world.officer.post(f"/staff/projects/{project.id}/report/return", {"comments": " "})
    assert empty.status_code == 400 and "Say what the organisation should change." in html.unescape(empty.text)
    assert world.officer.post(f"/staff/projects/{project.id}/report/return",
                              {"comments": "Describe the host's supervision."}).status_code == 303
    page = world.ngo.client.get(f"/ngo/projects/{project.id}/report?lang=en").text
    assert "Describe the host&#39;s supervision." in page and 'value="send"' in page and "First try." in page
    blank = world.ngo.post(f"/ngo/projects/{project.id}/report", {"action": "send", "evaluation": ""})
    assert blank.status_code == 400 and "Write a short evaluation" in blank.text
    assert world.ngo.post(f"/ngo/projects/{project.id}/report",
                          {"action": "send", "evaluation": "Supervised daily by the host."}).status_code == 303
    session.expire_all()
    report = completion.report_of(session, project)
    assert (report.status, report.evaluation) == (CompletionReportStatus.SENT, "Supervised daily by the host.")
