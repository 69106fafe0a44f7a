"""Numbers beyond the database's range and text no database can store are bad input, never a server error.

Ids are INTEGER columns: an id above 2,147,483,647 (or beyond 64 bits) used to reach the database and fail
there with a 500. A NUL character or an unpaired surrogate did the same on PostgreSQL, or while the answer was
written. Now the API answers 422 (bounds) or 400 (text), and pages answer 404 for an address out of range.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.core.params import ID_MAX
from backend.identity.models import Role
from backend.identity.tokens import create_api_token
from tests.accounts.helpers import form_token, make_user, sign_in_as

HUGE = "7507892008489689911257284476928"


@pytest.fixture
def anonymous(app):
    return TestClient(app, raise_server_exceptions=False)


def bearer(session, role: Role) -> dict[str, str]:
    raw = create_api_token(session, make_user(session, role), "bounds")[1]
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.parametrize("number", [str(ID_MAX + 1), "99999999999999999999", HUGE])
def test_an_api_id_beyond_the_integer_range_is_refused_not_a_server_error(anonymous, number):
    response = anonymous.get(f"/api/v1/projects/{number}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "project_id"]


def test_an_api_id_at_the_top_of_the_range_is_simply_not_found(anonymous):
    assert anonymous.get(f"/api/v1/projects/{ID_MAX}").status_code == 404


@pytest.mark.parametrize("url", [
    f"/api/v1/rounds/{HUGE}/proposals",
    f"/api/v1/rounds/{HUGE}/unplaced",
    "/api/v1/rounds?scheme_id=13541158844074",
    "/api/v1/rounds/1/proposals?project_id=99999999999999999999",
    "/api/v1/audit?actor_id=-9999999999999999",
    "/api/v1/audit?page=99999999999999999999",
    f"/api/v1/reports?scheme_id={HUGE}",
    f"/api/v1/schemes/{HUGE}",
    f"/api/v1/schemes/{HUGE}/adjustments",
    f"/api/v1/assessments/{HUGE}/confirm",
    f"/api/v1/projects/{HUGE}/close",
])
def test_staff_api_ids_out_of_range_are_refused_as_bad_input(anonymous, session, url):
    headers = bearer(session, Role.OFFICER if "confirm" not in url else Role.APPROVER)
    method = "POST" if url.endswith(("/confirm", "/close")) else "GET"
    assert anonymous.request(method, url, headers=headers).status_code == 422


@pytest.mark.parametrize("body", [{"scheme_id": 2**63}, {"scheme_id": int(HUGE)}])
def test_an_id_in_a_json_body_beyond_the_range_is_refused(anonymous, session, body):
    response = anonymous.post("/api/v1/rounds", json=body, headers=bearer(session, Role.OFFICER))
    assert response.status_code == 422


def test_an_ngo_choice_id_out_of_range_is_refused(anonymous, session):
    response = anonymous.post(f"/api/v1/ngo/choices/{HUGE}/shortlist", headers=bearer(session, Role.NGO))
    assert response.status_code == 422


@pytest.mark.parametrize("url", ["/projects/99999999999", f"/projects/{HUGE}", "/projects/abc"])
def test_a_page_address_out_of_range_is_page_not_found(anonymous, url):
    response = anonymous.get(url)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]


@pytest.mark.parametrize("url", [f"/staff/rounds/{HUGE}", f"/staff/reports?scheme={HUGE}", f"/staff/projects?scheme_id={HUGE}",
                                 f"/staff/audit?page={HUGE}"])
def test_staff_page_addresses_out_of_range_are_page_not_found(app, session, url):
    client = TestClient(app, raise_server_exceptions=False)
    sign_in_as(client, session, make_user(session, Role.OFFICER))
    assert client.get(url).status_code == 404


def test_ids_typed_into_page_filters_beyond_the_range_are_ignored_or_refused(app, session):
    client = TestClient(app, raise_server_exceptions=False)
    sign_in_as(client, session, make_user(session, Role.OFFICER))
    # reported on the filter form (400), not a server error
    assert client.get(f"/staff/audit?actor={HUGE}").status_code == 400
    assert client.get("/staff/audit?actor=%C2%B2").status_code == 400  # a superscript two is no number


@pytest.mark.parametrize("url", ["/projects?q=abc%00", "/api/v1/projects?q=abc%00", "/api/v1/projects?sort=%00"])
def test_a_nul_in_a_query_string_is_bad_input(anonymous, url):
    response = anonymous.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.json()["error"] == "invalid"
        assert set(response.json()["details"]["fields"]) <= {"q", "sort"}


def test_the_message_is_in_the_users_language(anonymous):
    response = anonymous.get("/api/v1/projects?q=abc%00&lang=zh-Hant")
    assert response.status_code == 400
    assert "NUL" in response.json()["message"] and "字元" in response.json()["message"]


@pytest.mark.parametrize(("path", "fields"), [
    ("/sign-in", {"email": "a\x00@example.hk", "password": "x"}),
    ("/sign-up", {"display_name": "Ann\x00", "email": "ann@example.hk", "password": "a long enough password"}),
])
def test_a_nul_in_a_form_field_is_bad_input(app, path, fields):
    client = TestClient(app, raise_server_exceptions=False)
    token = form_token(client, path)
    response = client.post(path, data={**fields, "csrf_token": token})
    assert response.status_code == 400


def test_a_lone_surrogate_or_nul_in_json_is_bad_input(anonymous, session):
    headers = {**bearer(session, Role.APPLICANT), "Content-Type": "application/json"}
    for text in ('{"name_en": "Ann \\ud800"}', '{"name_en": "Ann \\u0000"}', '{"\\udfff": "x"}'):
        response = anonymous.put("/api/v1/me/profile/steps/names", content=text.encode(), headers=headers)
        assert response.status_code == 400, text
        assert response.json()["details"]["fields"]


def test_a_paired_surrogate_is_an_ordinary_character(anonymous, session):
    headers = {**bearer(session, Role.APPLICANT), "Content-Type": "application/json"}
    response = anonymous.put("/api/v1/me/profile/steps/names", content=b'{"name_en": "Ann \\ud83d\\ude00"}',
                             headers=headers)
    assert response.status_code in (200, 422)


def test_the_openapi_document_declares_the_bounds_and_the_statuses(anonymous):
    document = anonymous.get("/api/v1/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert {"400", "401"} <= statuses, (method, path)
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"].get("anyOf", [parameter["schema"]])[0]
                if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                    assert schema["maximum"] == ID_MAX and schema["minimum"] == 1, (method, path)
                    assert "404" in statuses and "422" in statuses, (method, path)
                if schema.get("type") == "integer":
                    assert "maximum" in schema, (method, path, parameter["name"])
