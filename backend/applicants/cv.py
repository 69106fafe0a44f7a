"""CVs: PDF only, judged by content; size enforced while streaming; stored outside the web root.

The upload is copied chunk by chunk into a temporary file in `upload_dir` and reading stops as soon as
the size limit is passed or the first bytes are not a PDF's, so an oversized or hostile upload is never
held in memory. Accepted files get a random name (never the user's file name) and are moved into place.
Files are removed only once the database agrees: an old CV after the commit that replaced it, a new one
after a rollback that forgot it.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from backend.applicants.models import ApplicantProfile
from backend.applicants.profile import own_profile
from backend.audit import service as audit
from backend.core.db import utcnow
from backend.core.errors import DomainError, NotFound, UploadTooLarge
from backend.core.i18n import gettext as _
from backend.core.settings import get_settings
from backend.identity import permissions as authz
from backend.identity.models import User

PDF_MAGIC = b"%PDF-"
CHUNK_BYTES = 64 * 1024
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.pdf$")
# A PDF runs JavaScript from a /JS entry (an action's script) or the /JavaScript name tree; a CV needs neither.
_SCRIPT_NAME = re.compile(rb"/(?:JS|JavaScript)(?=[\s/<>\[\]()%{}]|$)")
_SCRIPT_KEYS = frozenset({"/JS", "/JavaScript"})
# Far more objects than any CV has; a file past it is refused rather than half checked.
MAX_PDF_OBJECTS = 100_000


class CvRejected(DomainError):
    code = "cv_rejected"

    def __init__(self, message: str):
        super().__init__(message, field="cv")


class CvTooLarge(CvRejected, UploadTooLarge):
    """Over the size limit: still a refused CV for the API's callers, answered with 413."""


@dataclass(frozen=True)
class CvInfo:
    size_bytes: int
    uploaded_at: datetime


@dataclass(frozen=True)
class CvFile:
    path: Path
    download_name: str
    size_bytes: int
    media_type: str = "application/pdf"


def _upload_dir() -> Path:
    directory = get_settings().upload_dir
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _too_large() -> CvTooLarge:
    limit = get_settings().cv_max_bytes
    return CvTooLarge(_("The CV must be %(size)s or smaller.", size=_size(limit)))


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


class _Receiver:
    """Writes chunks to the temporary file, refusing as early as the content allows."""

    def __init__(self, handle, limit: int):
        self.handle, self.limit, self.size, self.head = handle, limit, 0, b""

    def want(self) -> int:
        # One byte past the limit is enough to know the file is too large.
        return max(1, min(CHUNK_BYTES, self.limit + 1 - self.size))

    def take(self, chunk: bytes) -> None:
        if not chunk:
            return
        if len(self.head) < len(PDF_MAGIC):
            self.head += chunk[:len(PDF_MAGIC) - len(self.head)]
            if not PDF_MAGIC.startswith(self.head[:len(PDF_MAGIC)]):
                raise CvRejected(_("The CV must be a PDF file. Save it as PDF and upload it again."))
        self.size += len(chunk)
        if self.size > self.limit:
            raise _too_large()
        self.handle.write(chunk)


def _receive_sync(source: Any, receiver: _Receiver) -> None:
    if isinstance(source, bytes | bytearray):
        source = [bytes(source)]
    read = getattr(source, "read", None)
    if read is not None:
        while chunk := read(receiver.want()):
            receiver.take(chunk)
        return
    for chunk in source:
        receiver.take(chunk)


async def _receive_async(source: Any, receiver: _Receiver) -> None:
    read = getattr(source, "read", None)
    if read is not None:  # Starlette's UploadFile: an awaitable read(n)
        while True:
            chunk = read(receiver.want())
            if hasattr(chunk, "__await__"):
                chunk = await chunk
            if not chunk:
                return
            receiver.take(chunk)
    if isinstance(source, AsyncIterable):
        async for chunk in source:
            receiver.take(chunk)
        return
    _receive_sync(source, receiver)


def _has_script(reader) -> bool:
    """Walks every object reachable from the trailer (so also inside compressed object streams, and with names
    spelt in #xx escapes, which pypdf decodes) looking for JavaScript."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject  # noqa: PLC0415 - see _check_pdf

    seen: set[tuple[int, int]] = set()
    stack: list = [reader.trailer]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            if len(seen) > MAX_PDF_OBJECTS:
                return True
            try:
                item = item.get_object()
            except Exception:  # noqa: BLE001, S112 - a dangling reference in a damaged file holds no script
                continue
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in _SCRIPT_KEYS or (key == "/S" and value == "/JavaScript"):
                    return True
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return False


def _check_pdf(path: Path, size: int) -> None:
    if size == 0:
        raise CvRejected(_("The file is empty. Choose your CV, saved as a PDF."))
    if size < len(PDF_MAGIC):
        raise CvRejected(_("The CV must be a PDF file. Save it as PDF and upload it again."))
    from pypdf import PdfReader  # noqa: PLC0415 - heavy, needed only when a CV is uploaded

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # a damaged upload is the user's problem, not a server warning
    scripted = _SCRIPT_NAME.search(path.read_bytes()) is not None
    try:
        reader = PdfReader(path, strict=False)
        pages = len(reader.pages)
        scripted = scripted or (pages > 0 and _has_script(reader))
    except Exception:  # noqa: BLE001 - pypdf raises many kinds of error for damaged files
        pages = 0
    finally:
        pypdf_log.setLevel(level)
    if pages < 1:
        raise CvRejected(_("The file could not be read as a PDF: it may be damaged or incomplete. "
                           "Save it as PDF again and upload it."))
    if scripted:
        raise CvRejected(_("The PDF contains JavaScript, which a CV does not need and which could harm the "
                           "people who open it. Print or export it to PDF again without scripts and upload that."))


def _after_outcome(session: Session, *, on_commit: Path | None = None, on_rollback: Path | None = None) -> None:
    """Deletes `on_commit` once the transaction commits, `on_rollback` if it rolls back."""
    pending = session.info.setdefault("cv_files", {"commit": [], "rollback": []})
    if on_commit:
        pending["commit"].append(on_commit)
    if on_rollback:
        pending["rollback"].append(on_rollback)
    if session.info.get("cv_listening"):
        return
    session.info["cv_listening"] = True

    def settle(which: str) -> None:
        files = session.info.get("cv_files") or {"commit": [], "rollback": []}
        for path in files[which]:
            path.unlink(missing_ok=True)
        files["commit"].clear()
        files["rollback"].clear()

    event.listen(session, "after_commit", lambda _session: settle("commit"))

    def rolled_back(_session, previous_transaction):
        if previous_transaction.parent is None:  # the request's transaction, not an inner savepoint
            settle("rollback")

    event.listen(session, "after_soft_rollback", rolled_back)


def _stored_path(name: str | None) -> Path | None:
    if not name or not _STORED_NAME.match(name):
        return None
    return get_settings().upload_dir / name


def _begin(actor: User, session: Session):
    authz.require(actor, authz.Permission.APPLICANT_EDIT_OWN)
    profile = own_profile(session, actor, create=True)
    directory = _upload_dir()
    handle = tempfile.NamedTemporaryFile(dir=directory, prefix=".incoming-", suffix=".part", delete=False)  # noqa: SIM115
    return profile, directory, handle, _Receiver(handle, get_settings().cv_max_bytes)


def _finish(session: Session, actor: User, profile: ApplicantProfile, directory: Path, handle,
            receiver: _Receiver) -> CvInfo:
    temp = Path(handle.name)
    try:
        handle.close()
        _check_pdf(temp, receiver.size)
        name = secrets.token_hex(16) + ".pdf"
        os.replace(temp, directory / name)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    old = _stored_path(profile.cv_stored_name)
    replaced = old is not None
    profile.cv_stored_name, profile.cv_size_bytes, profile.cv_uploaded_at = name, receiver.size, utcnow()
    profile.updated_at = profile.cv_uploaded_at
    session.add(profile)
    session.flush()
    _after_outcome(session, on_commit=old, on_rollback=directory / name)
    audit.record(session, actor, "applicant_cv.replaced" if replaced else "applicant_cv.uploaded",
                 "applicant_profile", profile.id, after={"size_bytes": receiver.size})
    return CvInfo(receiver.size, profile.cv_uploaded_at)


def _abort(handle) -> None:
    handle.close()
    Path(handle.name).unlink(missing_ok=True)


def save_cv(session: Session, actor: User, source: bytes | Iterable[bytes] | Any) -> CvInfo:
    """From bytes, an iterable of chunks or a file-like object (`UploadFile.file`); the name is ignored."""
    profile, directory, handle, receiver = _begin(actor, session)
    try:
        _receive_sync(source, receiver)
    except BaseException:
        _abort(handle)
        raise
    return _finish(session, actor, profile, directory, handle, receiver)


async def upload_cv(session: Session, actor: User, source: Any) -> CvInfo:
    """From Starlette's `UploadFile`, an async iterator of chunks, or anything `save_cv` takes."""
    profile, directory, handle, receiver = _begin(actor, session)
    try:
        await _receive_async(source, receiver)
    except BaseException:
        _abort(handle)
        raise
    return _finish(session, actor, profile, directory, handle, receiver)


def delete_cv(session: Session, actor: User) -> None:
    authz.require(actor, authz.Permission.APPLICANT_EDIT_OWN)
    profile = own_profile(session, actor)
    old = _stored_path(profile.cv_stored_name)
    if profile.cv_stored_name is None:
        raise NotFound(_("You have not uploaded a CV."))
    profile.cv_stored_name = profile.cv_size_bytes = profile.cv_uploaded_at = None
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    _after_outcome(session, on_commit=old)
    audit.record(session, actor, "applicant_cv.deleted", "applicant_profile", profile.id)


def _download_name(profile: ApplicantProfile) -> str:
    ascii_name = unicodedata.normalize("NFKD", profile.name_en or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()[:60]
    return f"cv-{slug}.pdf" if slug else f"cv-{profile.id}.pdf"


def open_cv(session: Session, actor: User, profile: ApplicantProfile | int) -> CvFile:
    """The file to send, for the applicant, staff, and NGOs the applicant chose; anyone else: not found."""
    if isinstance(profile, int):
        profile = session.get(ApplicantProfile, profile)
    authz.require_applicant_visible(actor, profile)
    path = _stored_path(profile.cv_stored_name)
    if path is None or not path.is_file():
        raise NotFound(_("No CV has been uploaded."))
    return CvFile(path, _download_name(profile), profile.cv_size_bytes or path.stat().st_size)


def cv_info(session: Session, actor: User) -> CvInfo | None:
    profile = own_profile(session, actor, create=True)
    if profile.cv_stored_name is None:
        return None
    return CvInfo(profile.cv_size_bytes or 0, profile.cv_uploaded_at)
