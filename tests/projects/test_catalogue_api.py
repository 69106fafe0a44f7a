"""The catalogue's JSON API: the same results as the page, documented in OpenAPI."""

import re
from datetime import date

from backend.projects.models import ProjectStatus
from tests.factories import make_project


def test_api_lists_the_same_projects_as_the_page_in_the_same_order(client, session, scheme):
    for n in range(25):
        make_project(session, scheme, title_en=f"Intern {n:02d}", title_zh=f"實習生{n:02d}", city="Zhuhai",
                     start_date=date(2027, 6, 1 + n), end_date=date(2027, 8, 31), places=n + 1)
    make_project(session, scheme, title_en="Draft", status=ProjectStatus.DRAFT)

    for query in ("", "sort=places", "q=實習生1", "gba=1&page=2", "sort=title&page=2"):
        body = client.get(f"/api/v1/projects?{query}").json()
        html = client.get(f"/projects?lang=en&{query}").text
        page_ids = [int(i) for i in re.findall(r'<a class="govuk-link" href="/projects/(\d+)"', html)]
        assert [r["id"] for r in body["results"]] == page_ids, query
        assert f"{body['total']} projects found" in html or f"{body['total']} project found" in html


def test_api_results_carry_iso_dates_integers_and_both_languages(client, session, scheme):
    project = make_project(session, scheme, languages={"putonghua": 3})

    body = client.get("/api/v1/projects").json()

    assert body["total"] == 1 and body["page"] == 1 and body["pages"] == 1 and body["page_size"] == 20
    result = body["results"][0]
    assert result["id"] == project.id
    assert result["title_en"] == "Data analytics intern" and result["title_zh"] == "數據分析實習生"
    assert result["start_date"] == "2027-07-05" and result["end_date"] == "2027-08-13"
    assert result["duration_weeks"] == 6 and result["places"] == 10
    assert result["greater_bay_area"] is True
    assert result["languages"] == [{"language": "putonghua", "min_level": 3,
                                    "description": "Putonghua: conversational or better (level 3 of 5)"}]


def test_api_detail_gives_money_as_whole_hkd_and_the_scheme(client, session, scheme):
    project = make_project(session, scheme, subsidy=26_500)

    body = client.get(f"/api/v1/projects/{project.id}").json()

    assert body["subsidy_per_place_hkd"] == 26_500
    assert body["scheme"]["applicant_window_closes"] == "2027-03-31"
    assert body["description_zh"] == "為深圳初創企業分析物流數據。"
    assert body["min_education"] == "secondary" and body["min_age"] == 18


def test_api_hides_unpublished_projects(client, session, scheme):
    draft = make_project(session, scheme, status=ProjectStatus.DRAFT)
    rejected = make_project(session, scheme, status=ProjectStatus.REJECTED)

    assert client.get("/api/v1/projects").json()["total"] == 0
    for project in (draft, rejected):
        response = client.get(f"/api/v1/projects/{project.id}")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_api_explains_a_bad_filter_in_the_requested_language(client, scheme):
    response = client.get("/api/v1/projects?starts_from=2027-02-30")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_filters"
    assert "starts_from" in body["details"]
    assert body["message"].startswith("Enter the earliest start date as a real date")

    chinese = client.get("/api/v1/projects?ends_by=soon", headers={"Accept-Language": "zh-HK"}).json()
    assert chinese["message"].startswith("請以有效日期輸入最遲結束日期")


def test_the_catalogue_api_is_in_the_openapi_spec(client):
    spec = client.get("/api/v1/openapi.json").json()
    listing = spec["paths"]["/api/v1/projects"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"q", "region", "city", "gba", "sector", "starts_from",
                                                          "ends_by", "max_putonghua", "english", "sort", "page"}
    assert "/api/v1/projects/{project_id}" in spec["paths"]
    assert "ProjectResults" in spec["components"]["schemas"]
    assert "ProjectDetail" in spec["components"]["schemas"]
