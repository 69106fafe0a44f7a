"""CV uploads: PDF by content, size stopped while streaming, random names inside upload_dir, tenancy on download."""

import asyncio
import io

import pytest

from backend.applicants import cv
from backend.applicants.models import Choice
from backend.core.errors import NotFound
from backend.core.settings import get_settings
from tests.accounts.helpers import make_user
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
