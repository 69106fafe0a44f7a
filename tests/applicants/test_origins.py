"""Where participants come from: an applicant declares Hong Kong or Guangdong (with her city), a scheme says
whom it admits, and one rule in the matcher decides. No identity-card number is asked or kept."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.applicants import profile as profiles
from backend.applicants.eligibility import check_project
from backend.identity.models import Role
from backend.market import inputs
from backend.outbox.service import speaking
from backend.schemes.models import Scheme
from tests.accounts.helpers import make_user
from tests.applicants.helpers import make_applicant
from tests.factories import make_project, make_scheme
from tests.schemes.test_scheme_pages import scheme_form
from tests.workflow.helpers import build_world


def test_an_applicant_from_guangdong_declares_her_city_and_sees_it_in_her_answers(session):
    user = make_user(session, Role.APPLICANT)
    _profile, errors = profiles.save_step(session, user, "residency", {"origin": "guangdong"})
    assert errors == {"guangdong_city": "Choose the city in Guangdong where you live, study or work."}
    assert profiles.find_profile(session, user).origin == ""  # no half answer is kept

    saved, errors = profiles.save_step(session, user, "residency", {"origin": "guangdong", "guangdong_city": "Foshan"})
    assert errors == {} and (saved.origin, saved.guangdong_city) == ("guangdong", "Foshan")
    answers = {a.field: a.value for a in profiles.check_answers(session, user)}
    assert answers["origin"] == "From Guangdong (Foshan)"
    with speaking("zh-Hans"):
        assert {a.field: a.value for a in profiles.check_answers(session, user)}["origin"] == "来自广东（佛山）"

    saved, errors = profiles.save_step(session, user, "residency", {"origin": "hong_kong", "guangdong_city": "Foshan"})
    assert errors == {} and (saved.origin, saved.guangdong_city) == ("hong_kong", "")
    saved, errors = profiles.save_step(session, user, "residency", {"origin": "neither"})
    assert errors == {} and saved.origin == "" and saved.origin_declared_at is not None


def test_the_funding_scheme_admits_hong_kong_youth_and_a_mixed_programme_admits_both(session):
    hong_kong_only = make_scheme(session)
    palace_museum = make_scheme(session, name_en="Palace Museum internship", name_zh="故宮實習計劃",
                                admitted_origins=["hong_kong", "guangdong"])
    funded, thematic = make_project(session, hong_kong_only), make_project(session, palace_museum)
    guangdong_user, _ = make_applicant(session, origin="guangdong", guangdong_city="Guangzhou")
    hong_kong_user, _ = make_applicant(session)

    refused = check_project(session, guangdong_user, funded.id)
    assert not refused.eligible
    assert [r.message for r in refused.requirements if r.rule == "origin"] == [
        "This scheme is for Hong Kong residents; you have not declared that you are one."]
    admitted = check_project(session, guangdong_user, thematic.id)
    assert admitted.eligible and admitted.requirements[0].message == (
        "You have declared that you are from Guangdong, and this scheme admits youth from Guangdong.")
    assert check_project(session, hong_kong_user, thematic.id).eligible
    assert inputs.to_matching_project(thematic).origins == ("hong_kong", "guangdong")


def test_a_round_stored_before_origins_existed_still_reads_its_residency_flag():
    stored = {"scheme": {"name": "old", "budget_hkd": 1_000_000, "region_caps": {}}, "rankings": {},
              "projects": [], "applicants": [
                  {"id": "1", "date_of_birth": "2004-03-01", "hk_resident": True, "education": "bachelor",
                   "field_of_study": "", "skills": "", "interests": "", "statement": "", "languages": {},
                   "available_from": "2027-06-01", "available_to": "2027-08-31", "regions": [], "choices": [],
                   "open_to_other": True, "first_timer": True},
                  {"id": "2", "date_of_birth": "2004-03-01", "hk_resident": False, "education": "bachelor",
                   "field_of_study": "", "skills": "", "interests": "", "statement": "", "languages": {},
                   "available_from": "2027-06-01", "available_to": "2027-08-31", "regions": [], "choices": [],
                   "open_to_other": True, "first_timer": True}]}
    assert [a.origin for a in inputs.from_snapshot(stored).applicants] == ["hong_kong", ""]
    again = inputs.from_snapshot(inputs.snapshot(inputs.from_snapshot(stored)))
    assert [a.origin for a in again.applicants] == ["hong_kong", ""]


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def test_staff_say_who_may_take_part_and_a_scheme_must_admit_someone(world, session):
    response = world.officer.post("/staff/schemes/new", scheme_form(admits_guangdong="on"))
    assert response.status_code == 303
    scheme = session.exec(select(Scheme).where(Scheme.name_en == "Youth Internship Scheme 2028")).one()
    assert scheme.admitted_origins == ["hong_kong", "guangdong"]
    page = world.officer.client.get(response.headers["location"]).text
    assert "Youth from Hong Kong" in page and "Youth from Guangdong" in page

    refused = world.officer.post("/staff/schemes/new?lang=zh-Hant", scheme_form(name_en="Nobody", admits_hong_kong=""))
    assert refused.status_code == 400
    assert "請說明誰可參加：香港青年、廣東青年，或兩者皆可。" in refused.text

    answer = world.admin.api("PATCH", f"/api/v1/schemes/{scheme.id}", {"admitted_origins": ["guangdong"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["admitted_origins"] == ["guangdong"]
    assert world.admin.api("PATCH", f"/api/v1/schemes/{scheme.id}", {"admitted_origins": []}).status_code == 422
    assert world.admin.api("PATCH", f"/api/v1/schemes/{scheme.id}", {"admitted_origins": ["macao"]}).status_code == 422


@pytest.mark.parametrize("language, staff_words, applicant_words", [
    ("en", "A place was free on an eligible project but its 20 seats for applicants from Hong Kong were taken.",
     "A project you are eligible for had a free place, but its seats for applicants from Hong Kong were all taken."),
    ("zh-Hans", "一个符合资格的项目尚有名额，但其供香港申请人的 20 个名额已满。",
     "一个你符合资格的项目尚有名额，但供香港申请人的名额已全部用完。"),
])
def test_an_applicant_kept_out_by_her_sides_seats_is_told_so(language, staff_words, applicant_words):
    from backend.placements.outcomes import reason_for_applicant
    from backend.placements.review import describe_unplaced

    params = {"project_id": "12", "origin": "hong_kong", "seats": 20}
    with speaking(language):
        assert describe_unplaced("origin_seats_full", params) == staff_words
        assert reason_for_applicant("origin_seats_full", params)[0] == applicant_words


@pytest.fixture
def mixed_world(app, session):
    return build_world(app, session, admitted_origins=["hong_kong", "guangdong"])


def test_a_project_in_a_mixed_programme_sets_places_for_each_side_checked_box_by_box(mixed_world, session):
    from backend.projects.models import Project
    from tests.workflow.helpers import valid_project_form

    world = mixed_world
    page = world.ngo.client.get(f"/ngo/projects/new?scheme_id={world.scheme.id}").text
    assert "seats_guangdong_fewest" in page and "Places for each side" in page
    wrong = valid_project_form(places_requested="40", seats_hong_kong_fewest="25", seats_hong_kong_most="20",
                               seats_guangdong_most="45", action="save")
    response = world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", wrong)
    assert response.status_code == 400
    assert "The fewest places must not be more than the most." in response.text
    assert "This is more than the 40 places requested." in response.text
    too_many = valid_project_form(places_requested="40", seats_hong_kong_fewest="25", seats_guangdong_fewest="25",
                                  action="save")
    response = world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", too_many)
    assert "The places kept for each side add up to more than the 40 places requested." in response.text

    half = valid_project_form(title_en="Palace Museum cohort", places_requested="40", seats_hong_kong_fewest="20",
                              seats_hong_kong_most="20", seats_guangdong_fewest="20", seats_guangdong_most="20",
                              action="save")
    assert world.ngo.post(f"/ngo/projects/new?scheme_id={world.scheme.id}", half).status_code == 303
    project = session.exec(select(Project).where(Project.title_en == "Palace Museum cohort")).one()
    assert project.origin_seats == {"hong_kong": [20, 20], "guangdong": [20, 20]}
    # granted fewer places than asked, the sides keep their shares of what there is
    project.places_granted = 30
    assert inputs.to_matching_project(project).origin_seats == {"hong_kong": (15, 20), "guangdong": (15, 20)}


def test_a_funding_scheme_for_hong_kong_youth_asks_no_places_per_side(world, session):
    page = world.ngo.client.get(f"/ngo/projects/new?scheme_id={world.scheme.id}").text
    assert "seats_guangdong_fewest" not in page


def test_staff_choose_what_happens_to_places_one_side_leaves_empty(world, session):
    response = world.officer.post("/staff/schemes/new", scheme_form(admits_guangdong="on", reserved_seats="release"))
    assert response.status_code == 303
    scheme = session.exec(select(Scheme).where(Scheme.name_en == "Youth Internship Scheme 2028")).one()
    assert scheme.reserved_seats == "release"
    assert inputs.to_matching_scheme(session, scheme).reserved_seats == "release"
    page = world.officer.client.get(response.headers["location"]).text
    assert "Go to the other side" in page
    refused = world.officer.post("/staff/schemes/new", scheme_form(name_en="Other", reserved_seats="share"))
    assert refused.status_code == 400
    assert "Say whether places kept for one side stay empty or go to the other side." in refused.text
