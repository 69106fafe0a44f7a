"""/docs runs Swagger UI from our own static files, under a policy that allows no inline script and no CDN."""

import re

from backend.core.middleware import DOCS_CONTENT_SECURITY_POLICY


def test_the_docs_page_names_no_other_host_and_runs_no_inline_script(client):
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the docs page loads something from another host"
    assert "<script>" not in html and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    for address in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(address).status_code == 200, address
    policy = response.headers["content-security-policy"]
    assert policy == DOCS_CONTENT_SECURITY_POLICY
    script_src = re.search(r"script-src ([^;]+)", policy).group(1).split()
    assert script_src == ["'self'"]
    assert "http" not in policy and "cdn" not in policy


def test_the_docs_page_points_swagger_ui_at_the_openapi_document(client):
    html = client.get("/docs").text
    assert 'data-openapi-url="/api/v1/openapi.json"' in html
    assert client.get("/static/swagger/init.js").status_code == 200
