"""Request bodies over their route's limit are refused before sign-in, CSRF or the form parser read them.

Before the limit, an anonymous POST /sign-in with a 1 GB file part spooled 988 MB to disk before its 403,
and a 2 GB CV upload 2 GB before its 413.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.formparsers import MultiPartParser

from backend.core.settings import CSV_IMPORT_MAX_BYTES, FORM_MAX_BYTES, MULTIPART_OVERHEAD_BYTES, get_settings
from tests.accounts.helpers import make_user, sign_in_as

CHUNK = 64 * 1024
BOUNDARY = "internmatch-test-boundary"


def _uploads() -> list[str]:
    directory = get_settings().upload_dir
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.fixture
def parsed(monkeypatch):
    """Counts the multipart parses started: the parser is what spools file parts to disk."""
    calls = []
    original = MultiPartParser.parse

    async def parse(self):
        calls.append(1)
        return await original(self)

    monkeypatch.setattr(MultiPartParser, "parse", parse)
    return calls


def _multipart(field: str, size: int, head: bytes = b"%PDF-1.4\n") -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"big.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + head + b"0" * size + f"\r\n--{BOUNDARY}--\r\n".encode()


def _post(client, path: str, body: bytes, **headers):
    return client.post(path, content=body, headers={
        "content-type": f"multipart/form-data; boundary={BOUNDARY}", **headers}, follow_redirects=False)


def test_the_limit_table_gives_each_route_its_own_limit():
    settings = get_settings()
    assert settings.body_limit("/sign-in").max_bytes == FORM_MAX_BYTES
    assert settings.body_limit("/api/v1/projects").max_bytes == FORM_MAX_BYTES
    for path in ("/profile/cv", "/api/v1/me/cv"):
        assert settings.body_limit(path).max_bytes == settings.cv_max_bytes + MULTIPART_OVERHEAD_BYTES
    for path in ("/applicants/import", "/api/v1/applicants/import", "/applicants/import/rejections.csv"):
        assert settings.body_limit(path).max_bytes == CSV_IMPORT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES
    assert settings.body_limit("/profile/cv/delete").kind == "form"


def test_an_anonymous_sign_in_with_a_large_file_part_is_refused_unread(client, parsed):
    before = _uploads()
    response = _post(client, "/sign-in?lang=zh-Hant", _multipart("file", 3 * 1024 * 1024))
    assert response.status_code == 413
    assert "256 KB" in response.text and 'lang="zh-Hant"' in response.text
    assert parsed == [] and _uploads() == before


def test_a_cv_over_the_limit_is_refused_from_its_content_length(session, client, parsed):
    user = make_user(session, "applicant")
    sign_in_as(client, session, user)
    before = _uploads()
    body = _multipart("cv", get_settings().cv_max_bytes + MULTIPART_OVERHEAD_BYTES)
    response = _post(client, "/profile/cv", body)
    assert response.status_code == 413 and "The CV must be 5 MB or smaller." in response.text
    assert parsed == [] and _uploads() == before

    response = client.put("/api/v1/me/cv", content=body, headers={
        "content-type": f"multipart/form-data; boundary={BOUNDARY}", "x-csrf-token": "irrelevant"})
    assert response.status_code == 413
    assert response.json()["error"] == "upload_too_large"
    assert response.json()["message"] == "The CV must be 5 MB or smaller."
    assert parsed == [] and _uploads() == before


def test_an_ordinary_form_over_the_default_limit_is_refused(client):
    response = client.post("/sign-in", content=b"email=a%40b.hk&password=" + b"x" * FORM_MAX_BYTES,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and "Shorten it" in response.text


def test_a_long_bilingual_form_under_the_limit_goes_through(client):
    """Six project texts in Chinese, percent-encoded, are well under the default limit."""
    text = "中" * 5000
    response = client.post("/sign-in", data={"email": "a@b.hk", "password": "x", "description_en": text,
                                             "description_zh": text, "title_zh": "中" * 200},
                           follow_redirects=False)
    assert response.status_code != 413


def _run_streamed(app, method: str, path: str, field: str, total: int) -> tuple[int, int, bytes]:
    """Sends a file part of `total` bytes in 64 KB chunks with no Content-Length (chunked).

    Returns the status, how many chunks the app pulled, and the response body.
    """
    pulled = 0
    sent: list[dict] = []
    opening = _multipart(field, 0).rsplit(b"\r\n--", 1)[0]

    async def receive():
        nonlocal pulled
        pulled += 1
        more = pulled * CHUNK < total
        return {"type": "http.request", "body": opening if pulled == 1 else b"0" * CHUNK, "more_body": more}

    async def send(message):
        sent.append(message)

    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "server": ("testserver", 80), "client": ("127.0.0.1", 1234),
             "headers": [(b"host", b"testserver"), (b"content-type", content_type.encode()),
                         (b"transfer-encoding", b"chunked")]}
    # In a thread of its own: after the browser tests, Playwright's loop may be running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], pulled, body


def test_a_streamed_gigabyte_without_content_length_is_stopped_at_the_limit(app, parsed):
    before = _uploads()
    status, pulled, body = _run_streamed(app, "POST", "/sign-in", "file", 1024 ** 3)
    assert status == 413 and "256 KB" in body.decode()
    assert pulled <= FORM_MAX_BYTES // CHUNK + 2, "reading stops at the first chunk past the limit"
    assert _uploads() == before


def test_a_streamed_cv_is_stopped_just_past_the_cv_limit(app):
    before = _uploads()
    status, pulled, body = _run_streamed(app, "PUT", "/api/v1/me/cv", "file", 2 * 1024 ** 3)
    limit = get_settings().cv_max_bytes + MULTIPART_OVERHEAD_BYTES
    assert status == 413 and b"upload_too_large" in body
    assert pulled <= limit // CHUNK + 2
    assert _uploads() == before
