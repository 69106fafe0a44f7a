"""Following the public money to each intern, end to end through the services: funding approved, advance paid,
offers accepted, applications closed (an unanswered offer withdrawn), the internship over, outcomes recorded, the
completion report sent and accepted, and the balance paid for the interns who completed, proposed by one person
and approved by another. One intern reports that the allowance never came: the officer assessing the
organisation's next application sees it on its track record."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlmodel import select

from backend.core.errors import Forbidden, InvalidTransition
from backend.organisations.track_record import of_organisation
from backend.outbox.models import OutboxEmail
from backend.placements import approvals, confirmations, offers
from backend.placements.models import Placement, PlacementStatus
from backend.projects import completion, funding, lifecycle
from backend.projects.models import AssessmentDecision, ProjectStatus
from backend.schemes import payments
from backend.schemes.models import PaymentStatus, PaymentTranche
from tests.placements.test_approvals import make_applicant, make_run, propose
from tests.workflow.helpers import build_world, valid_project_form

P = PlacementStatus


def test_from_funding_to_the_balance_paid_pro_rata_to_the_interns_who_completed(app, session):
    world = build_world(app, session)
    ngo, officer, approver, scheme = world.ngo.user, world.officer.user, world.approver.user, world.scheme

    # funding: the NGO submits, an officer proposes five places at HK$25,000, an approver confirms
    project, errors = lifecycle.create_draft(session, ngo, scheme, valid_project_form(places_requested="5"))
    assert errors == {}
    lifecycle.submit(session, ngo, project)
    assessment = funding.propose_decision(session, officer, project, decision=AssessmentDecision.APPROVE,
                                          scores={"learning": 4, "host": 4}, comments="Sound plan.", places=5,
                                          subsidy_per_place=25_000)
    funding.confirm_decision(session, approver, assessment)
    assert (project.status, project.funding_granted) == (ProjectStatus.APPROVED, 125_000)

    # the advance: half the grant, proposed by the officer and paid by the approver
    advance = payments.propose(session, officer, scheme, {"project_id": str(project.id), "tranche": "advance"})
    payments.approve(session, approver, advance)
    assert (advance.status, advance.amount_hkd) == (PaymentStatus.PAID, 62_500)

    # a round's proposals become five offers; four are accepted, one is still unanswered at closing
    lifecycle.open_for_applications(session, officer, project)
    people = [make_applicant(session, name_en=f"Intern {n}") for n in range(5)]
    run = make_run(session, scheme, officer)
    proposals = [propose(session, run, profile, project) for profile, _user in people]
    approvals.approve_proposals(session, approver, run, [p.id for p in proposals])
    placements = {profile.id: session.exec(select(Placement).where(Placement.applicant_id == profile.id)).one()
                  for profile, _user in people}
    for profile, user in people[:4]:
        offers.accept_offer(session, user, placements[profile.id])
    late_profile, late_user = people[4]
    lifecycle.close_applications(session, officer, project)
    late = placements[late_profile.id]
    assert late.status == P.WITHDRAWN
    assert session.exec(select(OutboxEmail).where(OutboxEmail.template == "placement_withdrawn",
                                                  OutboxEmail.to_address == late_user.email)).one()
    with pytest.raises(InvalidTransition):
        offers.accept_offer(session, late_user, late)


    # the internship is over: three completed, one left early; nothing can be sent before the end date
    after = project.end_date + timedelta(days=1)
    interns = [placements[profile.id] for profile, _user in people[:4]]
    with pytest.raises(InvalidTransition):
        offers.record_outcome(session, ngo, project, interns[0].id, P.COMPLETED, today=project.end_date)
    for intern in interns[:3]:
        offers.record_outcome(session, ngo, project, intern.id, P.COMPLETED, today=after)
    offers.record_outcome(session, ngo, project, interns[3].id, P.LEFT_EARLY, today=after,
                          left_on=project.start_date + timedelta(days=6), reason="Returned to Hong Kong for family")
    assert payments.amount_due(session, project, PaymentTranche.BALANCE) == \
        "The completion report has not been accepted yet."

    # the interns confirm what they received: one says the allowance never came
    for n, (_profile, user) in enumerate(people[:4]):
        answers = {f"{item}_received": "full" for item in confirmations.promised_of(project)}
        if n == 0:
            answers["allowance_received"] = "none"
        confirmations.save(session, user, interns[n].id, {**answers, "rating": "2" if n == 0 else "4",
                                                           "comments": "Good mentors."}, send=True, today=after)

    completion.send(session, ngo, project, "Three interns finished the data project; one left in week 1.", today=after)
    assert completion.figures(session, project).as_dict() == {
        "interns": 4, "completed": 3, "left_early": 1, "no_show": 0, "awaiting_outcome": 0}
    completion.accept(session, officer, project)
    assert project.status == ProjectStatus.COMPLETED
    assert payments.completed_interns(session, project) == 3

    # the balance: 3 completed × HK$25,000, less the HK$62,500 advanced; the proposer cannot pay it
    balance = payments.propose(session, officer, scheme, {"project_id": str(project.id), "tranche": "balance"})
    assert balance.amount_hkd == 3 * 25_000 - 62_500
    with pytest.raises(Forbidden):
        payments.approve(session, officer, balance)
    payments.approve(session, approver, balance)
    money = payments.scheme_money(session, scheme)
    assert (balance.status, money.paid, money.recovered) == (PaymentStatus.PAID, 75_000, 0)
    # and a completed project takes no more interns
    with pytest.raises(InvalidTransition):
        offers.accept_offer(session, late_user, late)

    # the organisation's next application: its officer reads the year's record beside the assessment
    following, errors = lifecycle.create_draft(session, ngo, scheme, valid_project_form(places_requested="8"))
    assert errors == {}
    lifecycle.submit(session, ngo, following)
    record = of_organisation(session, project.organisation_id)
    assert (record.places_filled, record.completed, record.left_early, record.completion_rate) == (4, 3, 1, 0.75)
    assert (record.confirmations, record.mismatches, record.survey_score) == (4, 1, 3.5)
    session.commit()
    page = html.unescape(world.officer.client.get(f"/staff/projects/{following.id}?lang=en").text)
    section = page[page.index('id="track-record"'):]
    mismatches = section[section.index("Allowance mismatches"):][:200]
    assert ">1<" in mismatches.replace(" ", "").replace("\n", "")
