"""The adapter from rows to the matcher: one mapping, faithful, and a snapshot that round-trips exactly."""

from datetime import date

import matching
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.market.inputs import from_snapshot, load_round_inputs, snapshot, to_matching_applicant
from backend.projects.models import ProjectStatus
from tests.factories import make_project, make_scheme


def _profile(session, **overrides) -> ApplicantProfile:
    values = dict(name_en="Chan Ka Yan", date_of_birth=date(2004, 3, 1), origin="hong_kong",
                  education_level="bachelor", field_of_study="Data Science 數據科學", skills="Python",
                  languages={"cantonese": 5, "putonghua": 3}, available_from=date(2027, 6, 1),
                  available_to=date(2027, 8, 31), regions=["Guangdong"], open_to_other=True)
    values.update(overrides)
    profile = ApplicantProfile(**values)
    session.add(profile)
    session.flush()
    return profile


def test_round_inputs_hold_open_projects_and_applicants_with_active_choices_in_rank_order(session):
    scheme = make_scheme(session, caps={"Guangdong": 100})
    first, second = make_project(session, scheme), make_project(session, scheme, places=4, subsidy=30_000)
    make_project(session, scheme, status=ProjectStatus.DRAFT)
    chooser, idle = _profile(session), _profile(session, name_en="Idle")
    withdrawn = _profile(session, name_en="Withdrawn")
    session.add_all([
        Choice(applicant_id=chooser.id, project_id=second.id, scheme_id=scheme.id, rank=1, ngo_rank=2),
        Choice(applicant_id=chooser.id, project_id=first.id, scheme_id=scheme.id, rank=2),
        Choice(applicant_id=withdrawn.id, project_id=first.id, scheme_id=scheme.id, rank=1,
               status=ChoiceStatus.WITHDRAWN),
    ])
    session.flush()

    inputs = load_round_inputs(session, scheme)

    assert [p.id for p in inputs.projects] == [str(first.id), str(second.id)], "drafts are not matched"
    assert [a.id for a in inputs.applicants] == [str(chooser.id)], f"{idle.id} and {withdrawn.id} have no active choice"
    assert inputs.applicants[0].choices == (str(second.id), str(first.id))
    assert inputs.projects[1].places == 4 and inputs.projects[1].subsidy_per_place == 30_000
    assert inputs.scheme.region_caps == {"Guangdong": 100}
    assert inputs.rankings == {str(second.id): [str(chooser.id)]}


def test_a_profile_missing_the_facts_the_rules_need_is_not_matchable(session):
    assert to_matching_applicant(_profile(session, date_of_birth=None)) is None
    assert to_matching_applicant(_profile(session, available_to=None)) is None
    applicant = to_matching_applicant(_profile(session))
    assert applicant.education == matching.Education.BACHELOR and applicant.first_timer


def test_a_snapshot_round_trips_to_identical_inputs(session):
    scheme = make_scheme(session, caps={"Guangdong": 9})
    project = make_project(session, scheme, languages={"putonghua": 3})
    profile = _profile(session)
    session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=1, ngo_rank=1))
    session.flush()
    inputs = load_round_inputs(session, scheme)

    again = from_snapshot(snapshot(inputs))

    assert again.projects == inputs.projects and again.applicants == inputs.applicants
    assert again.scheme == inputs.scheme and again.rankings == inputs.rankings
