"""Eligibility for one project, requirement by requirement, worded from the matcher's own rule checks."""

from datetime import date

import pytest

from backend.applicants.eligibility import check_project
from backend.core.errors import NotFound
from backend.outbox.service import speaking
from backend.projects.models import ProjectStatus
from tests.applicants.helpers import make_applicant
from tests.factories import make_project


def _messages(result):
    return {r.rule: r.message for r in result.requirements}


def test_all_met_lists_every_requirement_except_choosing_the_project(session, scheme):
    project = make_project(session, scheme, languages={"putonghua": 3})
    user, _profile = make_applicant(session)

    result = check_project(session, user, project.id)

    assert result.complete and result.eligible
    assert [r.rule for r in result.requirements] == ["origin", "age", "education", "languages", "dates",
                                                     "region"]
    messages = _messages(result)
    assert messages["age"] == "You will be 23 on 5 July 2027; this project takes ages 18 to 29."
    assert messages["languages"] == "You meet the language requirements."
    assert messages["dates"] == "You are available for the whole internship, 5 July 2027 to 13 August 2027."
    assert messages["region"] == "You accept any region."


@pytest.mark.parametrize(("overrides", "project_values", "rule", "english", "chinese_fragment"), [
    ({"date_of_birth": date(2009, 12, 1)}, {}, "age",
     "You will be 17 on 5 July 2027; this project takes ages 18 to 29.", "2027年7月5日"),
    ({"date_of_birth": date(1990, 1, 1)}, {}, "age",
     "You will be 37 on 5 July 2027; this project takes ages 18 to 29.", "2027年7月5日"),
    ({"education_level": "secondary"}, {"min_education": "bachelor"}, "education",
     "This project needs at least Bachelor's degree; you have Secondary school.", "學士學位"),
    ({"languages": {"cantonese": 5, "putonghua": 2}}, {"languages": {"putonghua": 3}}, "languages",
     "Putonghua level 3 needed; you have 2.", "普通話"),
    ({"available_from": date(2027, 7, 10)}, {}, "dates",
     "The internship starts on 5 July 2027; you are available only from 10 July 2027.", "2027年7月10日"),
    ({"available_to": date(2027, 8, 1)}, {}, "dates",
     "The internship ends on 13 August 2027; you are available only until 1 August 2027.", "2027年8月1日"),
    ({"regions": ["Beijing"]}, {}, "region",
     "This project is in Guangdong, which is not among the regions you accept.", "廣東"),
    ({"origin": ""}, {}, "origin",
     "This scheme is for Hong Kong residents; you have not declared that you are one.", ""),
])
def test_each_failing_rule_says_why_in_english_and_in_chinese(session, scheme, overrides, project_values, rule,
                                                               english, chinese_fragment):
    project = make_project(session, scheme, **project_values)
    user, _profile = make_applicant(session, **overrides)

    result = check_project(session, user, project.id)

    assert result.complete and not result.eligible
    assert [r.rule for r in result.unmet] == [rule]
    assert _messages(result)[rule] == english
    with speaking("zh-Hant"):
        chinese = _messages(check_project(session, user, project.id))[rule]
    assert chinese_fragment in chinese, "dates, places, levels and languages follow the page's language"


def test_every_language_shortfall_is_named(session, scheme):
    project = make_project(session, scheme, languages={"putonghua": 4, "english": 5})
    user, _profile = make_applicant(session, languages={"putonghua": 3, "english": 2})

    message = _messages(check_project(session, user, project.id))["languages"]

    assert message == "English level 5 needed; you have 2. Putonghua level 4 needed; you have 3."


def test_an_incomplete_profile_names_what_to_complete(session, scheme):
    project = make_project(session, scheme)
    user, _profile = make_applicant(session, date_of_birth=None, available_to=None, origin_declared_at=None)

    result = check_project(session, user, project.id)

    assert not result.complete and not result.eligible and result.requirements == []
    assert [m.step for m in result.missing] == ["names", "residency", "availability"]
    assert result.summary == ("Complete your profile first: Your name and date of birth; Where you are from; "
                              "When you are available.")


def test_an_applicant_without_a_profile_is_told_to_start_it(session, scheme):
    from tests.accounts.helpers import make_user

    project = make_project(session, scheme)
    result = check_project(session, make_user(session), project.id)
    assert not result.complete and result.missing


def test_unpublished_projects_are_not_found(session, scheme):
    project = make_project(session, scheme, status=ProjectStatus.DRAFT)
    user, _profile = make_applicant(session)
    with pytest.raises(NotFound):
        check_project(session, user, project.id)
