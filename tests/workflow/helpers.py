"""A small funding world for workflow tests: a scheme taking projects today, an NGO, staff, signed-in clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fastapi.testclient import TestClient

from backend.core.i18n import translations_for
from backend.identity.models import Role, User
from backend.organisations.models import Organisation
from backend.projects.models import ConflictDeclaration
from backend.schemes.models import AssessmentCriterion, Scheme
from tests.accounts.helpers import make_user, sign_in_as
from tests.factories import make_organisation, make_scheme

CRITERIA = (("learning", "Learning plan", "學習計劃"), ("host", "Host quality", "接待機構質素"))


@dataclass
class Actor:
    user: User
    client: TestClient
    csrf: str

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, follow_redirects=False,
                                **kwargs)

    def api(self, method: str, path: str, json: dict | None = None):
        return self.client.request(method, path, json=json if json is not None else {},
                                   headers={"X-CSRF-Token": self.csrf})


@dataclass
class World:
    scheme: Scheme
    organisation: Organisation
    ngo: Actor
    other_ngo: Actor
    officer: Actor
    approver: Actor
    admin: Actor


def signed_in(app, session, user: User) -> Actor:
    client = TestClient(app, base_url="http://testserver")
    return Actor(user=user, client=client, csrf=sign_in_as(client, session, user))


def open_scheme(session, **overrides) -> Scheme:
    today = date.today()
    values = dict(ngo_window_opens=today - timedelta(days=10), ngo_window_closes=today + timedelta(days=20),
                  applicant_window_opens=today + timedelta(days=30), applicant_window_closes=today + timedelta(days=90))
    values.update(overrides)
    scheme = make_scheme(session, **values)
    for code, name_en, name_zh in CRITERIA:
        session.add(AssessmentCriterion(scheme_id=scheme.id, code=code, name_en=name_en, name_zh=name_zh))
    session.flush()
    return scheme


def build_world(app, session, **scheme_overrides) -> World:
    scheme = open_scheme(session, **scheme_overrides)
    organisation = make_organisation(session)
    other = make_organisation(session)
    users = dict(ngo=make_user(session, Role.NGO, organisation=organisation),
                 other_ngo=make_user(session, Role.NGO, organisation=other),
                 officer=make_user(session, Role.OFFICER), approver=make_user(session, Role.APPROVER),
                 admin=make_user(session, Role.ADMIN))
    # The officer and the approver have declared no conflict of interest with the world's organisation.
    for role in ("officer", "approver"):
        session.add(ConflictDeclaration(user_id=users[role].id, organisation_id=organisation.id, has_conflict=False))
    session.commit()
    return World(scheme=scheme, organisation=organisation,
                 **{name: signed_in(app, session, user) for name, user in users.items()})


def valid_project_form(**overrides) -> dict[str, str]:
    today = date.today()
    start = date(today.year + 1, 7, 5)
    form = dict(title_en="Data analytics intern", title_zh="數據分析實習生",
                description_en="Analyse logistics data for a Shenzhen start-up.",
                description_zh="為深圳初創企業分析物流數據。",
                host_organisation_en="Qianhai Logistics Lab", host_organisation_zh="前海物流實驗室",
                sector="technology", city="Shenzhen", start_date=start.isoformat(),
                end_date=(start + timedelta(days=41)).isoformat(), places_requested="10", cost_travel="3,000",
                cost_accommodation="12000", cost_insurance="1000", cost_allowance="8000", cost_other="1000",
                language_putonghua="3", language_english="0", language_cantonese="0", min_education="secondary",
                min_age="18", max_age="29")
    form.update(overrides)
    return form


def zh(message: str) -> str:
    return translations_for("zh-Hant").gettext(message)
