"""NGOs see only applicants who chose their projects; their interview order becomes the matcher's ranking."""

import pytest

from backend.applicants import ngo_view
from backend.applicants.models import Choice, ChoiceStatus
from backend.core.errors import DomainError, InvalidTransition, NotFound
from backend.market.inputs import load_round_inputs
from tests.applicants.helpers import make_applicant, make_ngo
from tests.factories import make_project


@pytest.fixture
def world(session, scheme):
    ngo, organisation = make_ngo(session)
    rival, rival_org = make_ngo(session)
    ours, theirs = make_project(session, scheme, organisation), make_project(session, scheme, rival_org)
    _u1, alice = make_applicant(session, name_en="Alice", education_level="bachelor",
                                languages={"putonghua": 4})
    _u2, bob = make_applicant(session, name_en="Bob", education_level="secondary", languages={"putonghua": 2})
    _u3, carol = make_applicant(session, name_en="Carol")  # chose only the rival's project
    choices = {}
    for profile, project, rank in ((alice, ours, 2), (bob, ours, 1), (alice, theirs, 1), (carol, theirs, 1)):
        choice = Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=rank)
        session.add(choice)
        session.flush()
        choices[(profile.name_en, project.id)] = choice
    return dict(ngo=ngo, rival=rival, ours=ours, theirs=theirs, alice=alice, bob=bob, carol=carol,
                choices=choices, scheme=scheme)


def test_an_ngo_lists_only_applicants_of_its_own_projects_with_filters_and_sorts(session, world):
    ngo = world["ngo"]
    rows = ngo_view.list_applicants(session, ngo, sort="name")
    assert [(r.name, r.project_id) for r in rows] == [("Alice", world["ours"].id), ("Bob", world["ours"].id)]
    assert [r.name for r in ngo_view.list_applicants(session, ngo)] == ["Bob", "Alice"], "by the applicants' rank"
    assert [r.name for r in ngo_view.list_applicants(session, ngo, education="bachelor")] == ["Alice"]
    assert [r.name for r in ngo_view.list_applicants(session, ngo, language="putonghua", min_level=3)] == ["Alice"]
    assert ngo_view.list_applicants(session, ngo, status="shortlisted") == []
    with pytest.raises(NotFound):
        ngo_view.list_applicants(session, ngo, project_id=world["theirs"].id)
    with pytest.raises(DomainError):
        ngo_view.list_applicants(session, ngo, sort="age")


def test_an_ngo_cannot_read_or_download_applicants_who_did_not_choose_it_even_by_id(session, world):
    ngo = world["ngo"]
    detail = ngo_view.read_applicant(session, ngo, world["alice"].id)
    assert [c.project_id for c in detail.choices] == [world["ours"].id], "not the rival's choice"
    with pytest.raises(NotFound):
        ngo_view.read_applicant(session, ngo, world["carol"].id)
    with pytest.raises(NotFound):
        ngo_view.read_applicant(session, ngo, 10**9)
    with pytest.raises(NotFound):
        ngo_view.download_cv(session, ngo, world["carol"].id)
    with pytest.raises(NotFound):
        ngo_view.shortlist(session, ngo, world["choices"][("Carol", world["theirs"].id)].id)


def test_interview_outcomes_and_order_become_the_rounds_rankings(session, world):
    ngo, ours = world["ngo"], world["ours"]
    alice = world["choices"][("Alice", ours.id)]
    bob = world["choices"][("Bob", ours.id)]

    assert ngo_view.shortlist(session, ngo, alice.id).status == "shortlisted"
    row = ngo_view.record_interview(session, ngo, alice.id, "recommended", "Strong Putonghua.")
    assert (row.status, row.interview_outcome) == ("interviewed", "recommended")
    with pytest.raises(DomainError):
        ngo_view.record_interview(session, ngo, bob.id, "great")

    ranked = ngo_view.set_ranking(session, ngo, ours.id, [alice.id, bob.id])
    assert [(r.name, r.ngo_rank) for r in ranked] == [("Alice", 1), ("Bob", 2)]
    ranked = ngo_view.move_in_ranking(session, ngo, bob.id, "up")
    assert [(r.name, r.ngo_rank) for r in ranked] == [("Bob", 1), ("Alice", 2)]
    inputs = load_round_inputs(session, world["scheme"])
    assert inputs.rankings[str(ours.id)] == [str(world["bob"].id), str(world["alice"].id)]

    ngo_view.record_interview(session, ngo, bob.id, "not_suitable")
    assert [(r.name, r.ngo_rank) for r in ngo_view.ranking(session, ngo, ours.id)] == [("Alice", 1), ("Bob", None)]
    with pytest.raises(DomainError):
        ngo_view.set_ranking(session, ngo, ours.id, [world["choices"][("Carol", world["theirs"].id)].id])
    with pytest.raises(NotFound):
        ngo_view.set_ranking(session, ngo, world["theirs"].id, [])

    alice.status = ChoiceStatus.OFFERED
    session.add(alice)
    session.flush()
    with pytest.raises(InvalidTransition):
        ngo_view.record_interview(session, ngo, alice.id, "reserve")
