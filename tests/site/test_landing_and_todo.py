"""Signing in lands where the work is, and staff find a to-do list gathered from every domain's provider."""

from __future__ import annotations

import html
from datetime import date

from backend.accounts.routes import home_for
from backend.complaints.models import Complaint
from backend.core import todo
from backend.identity.models import Role
from backend.projects.models import CompletionReport, CompletionReportStatus
from backend.schemes.models import GrantPayment, PaymentTranche
from tests.accounts.helpers import PASSWORD, form_token, make_user, sign_in_as
from tests.factories import make_organisation, make_project
from tests.rounds_web.test_round_pages import finished_round


def _sign_in(client, email: str):
    return client.post("/sign-in", data={"email": email, "password": PASSWORD,
                                         "csrf_token": form_token(client, "/sign-in")}, follow_redirects=False)


def test_signing_in_lands_applicants_on_their_status_and_ngos_on_their_projects(client, session):
    applicant = make_user(session, Role.APPLICANT)
    assert _sign_in(client, applicant.email).headers["location"] == "/status"
    client.cookies.clear()
    ngo = make_user(session, Role.NGO, organisation=make_organisation(session))
    assert _sign_in(client, ngo.email).headers["location"] == "/ngo/projects"
    for role in (Role.OFFICER, Role.APPROVER, Role.ADMIN):
        assert home_for(make_user(session, role)) == "/staff/todo", role


def test_every_domain_registers_its_to_do_provider():
    import backend.app  # noqa: F401  (the routes modules register the providers)

    assert {"organisations", "projects", "rounds", "complaints", "payments"} <= set(todo.provider_names())


def _scene(session):
    officer = make_user(session, Role.OFFICER)
    scheme, project, run, _people, organisation = finished_round(session, started_by=officer)
    make_organisation(session, verified=False)
    session.add(Complaint(organisation_id=organisation.id, subject="Late allowance", details="Not paid",
                          acknowledge_by=date(2020, 1, 2)))
    session.add(GrantPayment(scheme_id=scheme.id, project_id=project.id, organisation_id=organisation.id,
                             tranche=PaymentTranche.ADVANCE, amount_hkd=120_000, proposed_by_id=officer.id))
    session.flush()
    return officer, run, scheme


def test_an_approver_sees_rounds_payments_and_complaints_waiting_in_numbers(client, session):
    _officer, run, scheme = _scene(session)
    approver = make_user(session, Role.APPROVER)
    sign_in_as(client, session, approver)
    page = client.get("/staff/todo?lang=en")
    assert page.status_code == 200
    text = " ".join(html.unescape(page.text).split())
    assert 'id="todo-rounds-approve"' in page.text and f'href="/staff/rounds/{run.id}/approval"' in page.text
    assert "2 proposed placements wait for a decision." in text
    assert 'id="todo-payments-approve"' in page.text and "HK$120,000 in all." in text
    assert f'href="/staff/schemes/{scheme.id}/payments"' in page.text
    assert 'id="todo-complaints-open"' in page.text and "1 is overdue for acknowledgement." in text
    assert 'id="todo-organisations-verify"' not in page.text, "approvers do not verify organisations"
    zh = client.get("/staff/todo?lang=zh-Hant").text
    assert "待辦事項" in zh and "等待批核的配對輪次" in zh


def test_an_officer_sees_organisations_to_verify_and_rounds_to_review(client, session):
    officer, run, _scheme = _scene(session)
    sign_in_as(client, session, officer)
    page = client.get("/staff/todo").text
    assert 'id="todo-organisations-verify"' in page and 'id="todo-rounds-review"' in page
    assert 'id="todo-rounds-approve"' not in page and 'id="todo-payments-approve"' not in page


def test_a_completion_report_sent_for_review_waits_on_the_officers_list_until_reviewed(client, session):
    officer, _run, scheme = _scene(session)
    project = make_project(session, scheme, make_organisation(session, name="Report NGO"))
    report = CompletionReport(project_id=project.id, status=CompletionReportStatus.SENT, evaluation="Went well")
    session.add(report)
    session.flush()
    sign_in_as(client, session, officer)
    page = client.get("/staff/todo?lang=en").text
    assert 'id="todo-reports-review"' in page and "Completion reports to review" in page
    report.status = CompletionReportStatus.ACCEPTED
    session.add(report)
    session.flush()
    assert 'id="todo-reports-review"' not in client.get("/staff/todo?lang=en").text


def test_nothing_waiting_says_so(client, session):
    sign_in_as(client, session, make_user(session, Role.ADMIN))
    page = client.get("/staff/todo").text
    assert 'id="nothing-to-do"' in page
