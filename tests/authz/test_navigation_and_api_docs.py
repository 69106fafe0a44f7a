"""Pages show each role only the links it may use; the accounts API is documented with response models."""

from backend.identity.models import Role
from tests.accounts.helpers import make_user, sign_in_as
from tests.factories import make_organisation


def _nav(html: str) -> str:
    return html.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]


def test_visitors_are_offered_sign_in_and_sign_up(client):
    nav = _nav(client.get("/?lang=en").text)
    assert 'href="/sign-in"' in nav and 'href="/sign-up"' in nav and "Sign out" not in nav


def test_each_role_sees_only_its_own_links(client, session):
    expectations = {
        Role.APPLICANT: ({"/account"}, {"/organisation", "/staff/organisations", "/staff/accounts", "/staff/audit"}),
        Role.NGO: ({"/account", "/organisation"}, {"/staff/organisations", "/staff/accounts", "/staff/audit"}),
        Role.OFFICER: ({"/staff/organisations", "/staff/audit"}, {"/organisation", "/staff/accounts"}),
        Role.ADMIN: ({"/staff/organisations", "/staff/accounts", "/staff/audit"},
                     {"/organisation", "/guangdong-office/participants"}),
        Role.GUANGDONG_OFFICE: ({"/account", "/guangdong-office/participants", "/guangdong-office/cohorts"},
                                {"/staff/todo", "/staff/audit", "/staff/projects", "/ngo/applicants", "/status"}),
    }
    for role, (shown, hidden) in expectations.items():
        organisation = make_organisation(session) if role == Role.NGO else None
        client.cookies.clear()
        sign_in_as(client, session, make_user(session, role, organisation=organisation))
        nav = _nav(client.get("/?lang=en").text)
        assert all(f'href="{link}"' in nav for link in shown), (role, nav)
        assert not any(f'href="{link}"' in nav for link in hidden), (role, nav)
        assert 'action="/sign-out"' in nav and 'name="csrf_token"' in nav


def test_the_navigation_is_translated(client, session):
    sign_in_as(client, session, make_user(session, Role.ADMIN))
    nav = _nav(client.get("/?lang=zh-Hant").text.replace('aria-label="主要導覽"', 'aria-label="Main"'))
    assert "審計記錄" in nav and "登出" in nav


def test_the_accounts_api_is_documented_with_response_models(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, method in (("/api/v1/me", "get"), ("/api/v1/me/tokens", "post"), ("/api/v1/me/export", "get"),
                         ("/api/v1/audit", "get"), ("/api/v1/organisations", "get"),
                         ("/api/v1/organisations/{organisation_id}/verify", "post")):
        operation = paths[path][method]
        success = next(code for code in operation["responses"] if code.startswith("2"))
        assert "schema" in operation["responses"][success]["content"]["application/json"], path
