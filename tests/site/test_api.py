def test_health_reports_the_database_in_use(client, database_url):
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["database"] == ("postgresql" if database_url.startswith("postgresql") else "sqlite")


def test_the_api_is_documented_in_openapi_under_api_v1(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/health" in spec["paths"]
    assert all(path.startswith("/api/v1/") for path in spec["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
