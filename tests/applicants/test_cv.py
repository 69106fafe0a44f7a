"""CV uploads: PDF by content, size stopped while streaming, random names inside upload_dir, tenancy on download."""

import asyncio
import io
import re

import pytest
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from backend.applicants import cv
from backend.applicants.models import Choice
from backend.core.errors import NotFound
from backend.core.settings import get_settings
from tests.accounts.helpers import make_user, sign_in_as
from tests.applicants.helpers import blank_pdf, make_applicant, make_ngo
from tests.factories import make_project


def _files():
    return sorted(p.name for p in get_settings().upload_dir.iterdir())


class CountingStream(io.BytesIO):
    """A file-like upload that remembers how much was read from it."""

    def read(self, size=-1):
        data = super().read(size)
        self.consumed = getattr(self, "consumed", 0) + len(data)
        return data


def test_a_pdf_is_stored_under_a_random_name_never_the_users(session):
    user, profile = make_applicant(session, name_en="Chan Ka Yan")
    upload = CountingStream(blank_pdf())
    upload.name = "../../etc/passwd.pdf"

    info = cv.save_cv(session, user, upload)

    assert info.size_bytes == len(blank_pdf())
    assert profile.cv_stored_name.endswith(".pdf") and len(profile.cv_stored_name) == 36
    assert "passwd" not in "".join(_files()) and profile.cv_stored_name in _files()
    opened = cv.open_cv(session, user, profile)
    assert opened.path.parent == get_settings().upload_dir and opened.download_name == "cv-chan-ka-yan.pdf"


def test_an_oversized_upload_is_stopped_while_streaming(session, monkeypatch):
    monkeypatch.setattr(get_settings(), "cv_max_bytes", 100_000)
    user, profile = make_applicant(session)
    before = _files()
    stream = CountingStream(blank_pdf() + b"0" * 5_000_000)

    with pytest.raises(cv.CvRejected, match="must be 97 KB or smaller"):
        cv.save_cv(session, user, stream)

    assert stream.consumed <= 100_001, "reading stops one byte past the limit"
    assert _files() == before and profile.cv_stored_name is None


def test_an_async_chunk_stream_is_stopped_too(session, monkeypatch):
    monkeypatch.setattr(get_settings(), "cv_max_bytes", 1000)
    user, _profile = make_applicant(session)
    sent = []

    async def chunks():
        for _ in range(1000):
            sent.append(1)
            yield b"%PDF-" + b"x" * 495

    with pytest.raises(cv.CvRejected):
        asyncio.run(cv.upload_cv(session, user, chunks()))
    assert len(sent) == 3


def test_a_renamed_executable_is_refused_after_its_first_bytes(session):
    user, _profile = make_applicant(session)
    stream = CountingStream(b"MZ\x90\x00" + b"\x00" * 1_000_000)
    stream.name = "cv.pdf"
    with pytest.raises(cv.CvRejected, match="must be a PDF file"):
        cv.save_cv(session, user, stream)
    assert stream.consumed <= 64 * 1024


def test_a_truncated_pdf_is_refused(session):
    user, profile = make_applicant(session)
    before = _files()
    with pytest.raises(cv.CvRejected, match="could not be read as a PDF"):
        cv.save_cv(session, user, blank_pdf()[:200])
    with pytest.raises(cv.CvRejected, match="empty"):
        cv.save_cv(session, user, b"")
    assert _files() == before and profile.cv_stored_name is None


def test_replace_and_delete_remove_the_old_file_once_committed(session):
    user, profile = make_applicant(session)
    cv.save_cv(session, user, blank_pdf())
    session.commit()
    first = profile.cv_stored_name
    cv.save_cv(session, user, [blank_pdf()[:100], blank_pdf()[100:]])
    assert first in _files(), "kept until the replacement is committed"
    session.commit()
    second = profile.cv_stored_name
    assert first not in _files() and second in _files()

    cv.delete_cv(session, user)
    session.commit()
    assert second not in _files() and profile.cv_stored_name is None


def test_a_rolled_back_upload_leaves_no_file(session):
    user, profile = make_applicant(session)
    session.commit()
    cv.save_cv(session, user, blank_pdf())
    stored = profile.cv_stored_name
    session.rollback()
    assert stored not in _files()


def test_only_the_applicant_staff_and_chosen_ngos_can_open_a_cv(session, scheme):
    user, profile = make_applicant(session)
    cv.save_cv(session, user, blank_pdf())
    ngo, organisation = make_ngo(session)
    other_ngo, _other = make_ngo(session)
    project = make_project(session, scheme, organisation)
    session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=1))
    session.flush()

    assert cv.open_cv(session, user, profile.id).path.is_file()
    assert cv.open_cv(session, make_user(session, "officer"), profile.id).path.is_file()
    assert cv.open_cv(session, ngo, profile.id).path.is_file()
    for outsider in (other_ngo, make_user(session)):
        with pytest.raises(NotFound):
            cv.open_cv(session, outsider, profile.id)


# --- every refusal through the page, in both languages, leaving nothing behind -----------------------------------

def _scripted_pdf(where: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert('hi')")})
    if where == "names":  # a document-level script in the /Names tree
        tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("x"),
                                                                     writer._add_object(action)])})
        writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})
    else:
        writer._root_object[NameObject("/OpenAction")] = action
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    if where == "escaped":  # the same names spelt with #xx escapes, which a plain byte search misses
        data = data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
        assert b"/JS" not in data and b"/JavaScript" not in data
    return data


REFUSALS = {
    "renamed executable": (b"MZ\x90\x00" + b"\x00" * 4000, 400, "must be a PDF file", "必須是 PDF 檔案"),
    "open action script": (lambda: _scripted_pdf("open_action"), 400, "contains JavaScript", "含有 JavaScript"),
    "document script": (lambda: _scripted_pdf("names"), 400, "contains JavaScript", "含有 JavaScript"),
    "escaped script names": (lambda: _scripted_pdf("escaped"), 400, "contains JavaScript", "含有 JavaScript"),
    "zero bytes": (b"", 400, "The file is empty", "檔案是空的"),
    "fifty megabytes": (lambda: blank_pdf() + b"0" * (50 * 1024 * 1024), 413, "must be 5 MB or smaller", "履歷必須是 5 MB"),
}


@pytest.mark.parametrize("case", REFUSALS)
@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_each_abuse_is_refused_clearly_and_nothing_is_stored(session, client, case, language):
    content, status, english, chinese = REFUSALS[case]
    content = content() if callable(content) else content
    user, profile = make_applicant(session, cv_stored_name=None)
    csrf = sign_in_as(client, session, user)
    before = _files()
    response = client.post(f"/profile/cv?lang={language}", data={"csrf_token": csrf},
                           files={"cv": ("../../etc/passwd.pdf", content, "application/pdf")}, follow_redirects=False)
    assert response.status_code == status
    assert f'lang="{language}"' in response.text
    assert (english if language == "en" else chinese) in response.text
    if language == "zh-Hant":
        assert english not in response.text, "the refusal is translated"
    assert _files() == before, "no file is left in upload_dir, not even a partial one"
    session.refresh(profile)
    assert profile.cv_stored_name is None and profile.cv_size_bytes is None


def test_a_traversal_file_name_never_becomes_the_stored_name(session, client):
    user, profile = make_applicant(session, cv_stored_name=None)
    csrf = sign_in_as(client, session, user)
    response = client.post("/profile/cv", data={"csrf_token": csrf},
                           files={"cv": ("../../etc/passwd.pdf", blank_pdf(), "application/pdf")},
                           follow_redirects=False)
    assert response.status_code == 303
    session.refresh(profile)
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", profile.cv_stored_name)
    assert (get_settings().upload_dir / profile.cv_stored_name).is_file()
    assert not (get_settings().upload_dir.parent.parent / "etc" / "passwd.pdf").exists()
    assert all(re.fullmatch(r"[0-9a-f]{32}\.pdf", name) for name in _files())
