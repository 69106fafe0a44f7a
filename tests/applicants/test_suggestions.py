"""Suggested for you: eligible, not yet chosen, best text fit first, with the shared terms as the reason."""

from backend.applicants import choices, suggestions
from tests.applicants.helpers import TODAY, make_applicant
from tests.factories import make_project


def test_suggestions_exclude_ineligible_and_chosen_projects_and_show_shared_terms(session, scheme):
    data = make_project(session, scheme, title_en="Data science intern", title_zh="數據科學實習生",
                        description_en="Python and SQL for logistics data.", description_zh="分析物流數據。")
    chosen = make_project(session, scheme, title_en="Data science analyst", title_zh="數據科學分析員")
    putonghua = make_project(session, scheme, title_en="Data science in Beijing", languages={"putonghua": 5})
    museum = make_project(session, scheme, title_en="Museum guide", title_zh="導賞員",
                          description_en="Guide visitors.", description_zh="導賞。")
    user, _profile = make_applicant(session, field_of_study="Data Science 數據科學", skills="Python, SQL",
                                    interests="logistics 物流", statement="")
    choices.add_choice(session, user, chosen.id, today=TODAY)

    found = suggestions.suggest(session, user, today=TODAY)

    ids = [s.project_id for s in found]
    assert ids[0] == data.id
    assert chosen.id not in ids and putonghua.id not in ids, "chosen and ineligible projects are left out"
    assert museum.id not in ids, "no shared words, no suggestion"
    assert "data science" in found[0].shared_terms and "數據科學" in found[0].reason
    assert found[0].reason == " · ".join(found[0].shared_terms) and 0 < found[0].fit <= 1


def test_the_model_is_fitted_once_until_open_projects_change(session, scheme, monkeypatch):
    monkeypatch.setattr(suggestions, "RECHECK_SECONDS", 0.0)
    make_project(session, scheme, title_en="Data science intern")
    user, _profile = make_applicant(session)
    suggestions.suggest(session, user, today=TODAY)
    fitted = suggestions._cache
    suggestions.suggest(session, user, today=TODAY)
    assert suggestions._cache is fitted
    make_project(session, scheme, title_en="Logistics data intern")
    found = suggestions.suggest(session, user, today=TODAY)
    assert suggestions._cache is not fitted and len(found) == 2


def test_an_incomplete_profile_gets_no_suggestions(session, scheme):
    make_project(session, scheme)
    user, _profile = make_applicant(session, education_level="")
    assert suggestions.suggest(session, user, today=TODAY) == []
