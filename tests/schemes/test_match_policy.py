"""A scheme's match policy: staff set how first-timers, choice rank and fit weigh, within bounds."""

from __future__ import annotations

import html

import pytest
from sqlmodel import select

from backend.core.i18n import translations_for
from backend.schemes.models import Scheme
from tests.schemes.test_scheme_pages import scheme_form
from tests.workflow.helpers import build_world


@pytest.fixture
def world(app, session):
    return build_world(app, session)


def created(session) -> Scheme | None:
    return session.exec(select(Scheme).where(Scheme.name_en == "Youth Internship Scheme 2028")).first()


def test_a_new_scheme_keeps_the_weights_rounds_always_used_and_staff_may_set_others(world, session):
    assert world.officer.post("/staff/schemes/new", scheme_form()).status_code == 303
    scheme = created(session)
    assert (scheme.first_timer_priority, scheme.choice_weight, scheme.fit_weight) == (300, 100, 40)

    form = scheme_form(first_timer_priority="75", choice_weight="150", fit_weight="0")
    assert world.officer.post(f"/staff/schemes/{scheme.id}/edit", form).status_code == 303
    session.refresh(scheme)
    assert (scheme.first_timer_priority, scheme.choice_weight, scheme.fit_weight) == (75, 150, 0)
    page = world.officer.client.get(f"/staff/schemes/{scheme.id}/edit").text
    assert 'name="first_timer_priority"' in page and 'value="75"' in page


MSGIDS = {"first_timer_priority": ("Enter the priority for first-time participants: a whole number from %(low)s to "
                                    "%(high)s (300 by default, 0 for none).", 0, 5000),
          "choice_weight": ("Enter the weight of the applicant's choice rank: a whole number of percent from %(low)s to "
                            "%(high)s (100 by default).", 0, 200),
          "fit_weight": ("Enter the weight of text fit: a whole number of points from %(low)s to %(high)s "
                         "(40 by default).", 0, 100)}


def message(name: str, language: str = "en") -> str:
    msgid, low, high = MSGIDS[name]
    words = msgid if language == "en" else translations_for(language).gettext(msgid)
    assert language == "en" or words != msgid, f"no {language} translation"
    return words % {"low": low, "high": high}


@pytest.mark.parametrize("language", ["en", "zh-Hant", "zh-Hans"])
def test_a_weight_out_of_bounds_is_shown_on_its_own_field_in_the_users_language(world, session, language):
    form = scheme_form(first_timer_priority="6000", choice_weight="-1", fit_weight="lots")
    response = world.admin.post(f"/staff/schemes/new?lang={language}", form)

    assert response.status_code == 400
    page = html.unescape(response.text)
    for name in MSGIDS:
        assert message(name, language) in page
        assert f'id="{name}-error"' in page
    assert 'value="6000"' in page and 'value="lots"' in page
    assert created(session) is None


def test_the_scheme_api_reads_and_sets_the_policy_and_refuses_a_weight_out_of_bounds(world, session):
    body = dict(name_en="API scheme", name_zh="API 計劃", budget_hkd=5_000_000, ngo_window_opens="2027-09-01",
                ngo_window_closes="2027-10-31", applicant_window_opens="2027-11-01",
                applicant_window_closes="2028-03-31", min_age=18, max_age=29, max_subsidy_per_place=40_000)
    made = world.officer.api("POST", "/api/v1/schemes", body)
    assert made.status_code == 201, made.text
    scheme = made.json()
    assert (scheme["first_timer_priority"], scheme["choice_weight"], scheme["fit_weight"]) == (300, 100, 40)

    patched = world.officer.api("PATCH", f"/api/v1/schemes/{scheme['id']}", {"first_timer_priority": 0})
    assert patched.status_code == 200 and patched.json()["first_timer_priority"] == 0
    assert patched.json()["fit_weight"] == 40, "PATCH keeps the weights it was not given"

    refused = world.officer.api("PATCH", f"/api/v1/schemes/{scheme['id']}", {"fit_weight": 101, "choice_weight": 201})
    assert refused.status_code == 422
    fields = refused.json()["details"]["fields"]
    assert fields["fit_weight"] == message("fit_weight") and fields["choice_weight"] == message("choice_weight")
