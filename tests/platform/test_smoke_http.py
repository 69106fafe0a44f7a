"""Smoke test: the real command starts a real server that answers over HTTP with the demo data."""

import json
import urllib.request

from tests.live import live_server


def _get(url: str, **headers) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, dict(response.headers), response.read().decode("utf-8")


def test_the_platform_serves_pages_api_and_static_files_over_http():
    with live_server() as base_url:
        status, headers, body = _get(base_url + "/?lang=en")
        assert status == 200
        assert "Funding Scheme for Youth Internship in the Mainland" in body
        assert "frame-ancestors 'none'" in headers["content-security-policy"]

        status, _headers, body = _get(base_url + "/", **{"Accept-Language": "zh-HK"})
        assert status == 200 and "青年內地實習資助計劃" in body

        status, _headers, body = _get(base_url + "/api/v1/health")
        assert json.loads(body)["status"] == "ok"

        status, headers, body = _get(base_url + "/static/css/internmatch.css")
        assert status == 200 and headers["content-type"].startswith("text/css") and ".govuk-" in body
