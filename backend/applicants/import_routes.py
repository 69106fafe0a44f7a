"""Importing applicants from paper forms (CSV) for NGOs and officers, and the claim-account page that
the import's e-mail links to: the imported applicant sets a password and their profile becomes theirs.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile

from backend.accounts import service as accounts
from backend.accounts.models import TokenPurpose
from backend.accounts.passwords import hash_password
from backend.accounts.routes import message_page, signed_in_redirect
from backend.accounts.tokens import consume_one_time_token, find_one_time_token
from backend.applicants import csv_import, import_template
from backend.applicants.models import ApplicantProfile
from backend.audit import service as audit
from backend.core.db import DbSession, utcnow
from backend.core.forms import FormInvalid, check
from backend.core.i18n import get_language
from backend.core.i18n import gettext as _
from backend.core.templating import render
from backend.identity.deps import client_address, require_permission
from backend.identity.models import Role, User
from backend.identity.permissions import Permission
from matching.io import APPLICANT_COLUMNS

router = APIRouter(include_in_schema=False)
Importer = Annotated[User, require_permission(Permission.APPLICANT_IMPORT)]
FormStr = Annotated[str, Form()]
MAX_REJECTION_ROWS = 10_000


def _import_page(request: Request, *, result=None, errors=None, filename: str = "", status_code: int = 200):
    return render(request, "ngo_applicants/import.html", {
        "result": result, "errors": errors or {}, "filename": filename, "columns": APPLICANT_COLUMNS,
        "extra_columns": csv_import.EXTRA_COLUMNS, "max_mb": csv_import.MAX_IMPORT_BYTES // (1024 * 1024),
        "column_help": import_template.COLUMNS},
        status_code=status_code)


@router.get("/applicants/import", response_class=HTMLResponse)
def import_page(request: Request, user: Importer):
    return _import_page(request)


@router.post("/applicants/import", response_class=HTMLResponse)
async def import_file(request: Request, db: DbSession, user: Importer):
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(request, errors={"file": _("Choose a CSV file to import.")}, status_code=400)
    try:
        # One byte past the limit is enough for the service to refuse the file as too large.
        data = await upload.read(csv_import.MAX_IMPORT_BYTES + 1)
    finally:
        await upload.close()
    filename = (upload.filename or "applicants.csv").replace("\\", "/").rsplit("/", 1)[-1][:100]
    try:
        result = csv_import.import_applicants(db, user, data, filename=filename)
    except csv_import.ImportRefused as error:
        return _import_page(request, errors={"file": error.message}, filename=filename, status_code=400)
    # A file whose every row failed is not a success (422), though the page still lists each row's problems.
    failed = result.rejected and not (result.accepted or result.skipped)
    return _import_page(request, result=result, filename=filename, status_code=422 if failed else 200)


@router.get("/applicants/import/template.csv")
def import_template_csv(user: Importer):
    """An empty applicants.csv whose header and notes are in English and Chinese; it imports as it is."""
    return Response(import_template.template_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="applicants-template.csv"'})


@router.post("/applicants/import/rejections.csv")
def rejections_csv(user: Importer, rejections: FormStr = ""):
    """The rejected rows of the import just shown, as a CSV to fix and send again (rewritten, not echoed)."""
    rows = list(csv.reader(io.StringIO(rejections)))[:MAX_REJECTION_ROWS + 1]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("line", "column", "reason"))
    for row in rows[1:]:
        if len(row) >= 3 and row[0].strip().isdigit():
            # A leading =, +, - or @ would make a spreadsheet run the cell as a formula.
            writer.writerow([row[0].strip()] + [("'" + v if v[:1] in "=+-@" else v)[:500] for v in row[1:3]])
    return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="rejected-rows.csv"',
                             "Cache-Control": "private, no-store"})


# --- claiming an imported profile ------------------------------------------------------------------------

def _unclaimed_profile(db: Session, email: str) -> ApplicantProfile | None:
    return db.exec(select(ApplicantProfile).where(ApplicantProfile.contact_email == email.lower(),
                                                  col(ApplicantProfile.user_id).is_(None))
                   .order_by(col(ApplicantProfile.id))).first()


def claim_account(db: Session, raw: str, *, display_name: str, password: str, client: str = "") -> User:
    """Creates the applicant's account from the link's e-mail address and links the imported profile."""
    token = find_one_time_token(db, raw, TokenPurpose.CLAIM_ACCOUNT)
    if token is None:
        consume_one_time_token(db, raw, TokenPurpose.CLAIM_ACCOUNT)  # raises LinkInvalid
    errors = accounts.new_account_errors(db, email=token.email, password=password, display_name=display_name)
    check(errors)
    consume_one_time_token(db, raw, TokenPurpose.CLAIM_ACCOUNT)
    # The link went to this address, so it is proven.
    user = User(email=accounts.normalise_email(token.email), password_hash=hash_password(password),
                role=Role.APPLICANT, display_name=display_name.strip(), preferred_language=get_language(),
                email_verified_at=utcnow())
    db.add(user)
    db.flush()
    profile = _unclaimed_profile(db, token.email)
    if profile is not None:
        profile.user_id = user.id
        profile.updated_at = utcnow()
        db.add(profile)
        db.flush()
    audit.record(db, user, "account.claimed", "user", user.id,
                 after={"profile_id": profile.id if profile else None}, client_address=client)
    return user


def _claim_page(request: Request, db: Session, token, raw: str, *, form=None, errors=None, status_code=200):
    profile = _unclaimed_profile(db, token.email)
    return render(request, "applicants/claim.html", {
        "token": raw, "email": token.email, "profile": profile, "form": form or {
            "display_name": (profile.name_en or profile.name_zh) if profile else ""},
        "errors": errors or {}}, status_code=status_code)


def _claim_link_invalid(request: Request):
    return message_page(request, _("This link cannot be used"),
                        _("This link has expired or has already been used. Ask the organisation that entered "
                          "your application to send a new one, or create an account yourself."),
                        link=("/sign-up", _("Create an applicant account")), status_code=404)


@router.get("/claim-account/{token}", response_class=HTMLResponse)
def claim_page(request: Request, db: DbSession, token: str):
    found = find_one_time_token(db, token, TokenPurpose.CLAIM_ACCOUNT)
    if found is None:
        return _claim_link_invalid(request)
    return _claim_page(request, db, found, token)


@router.post("/claim-account/{token}", response_class=HTMLResponse)
def claim(request: Request, db: DbSession, token: str, display_name: FormStr = "", password: FormStr = ""):
    found = find_one_time_token(db, token, TokenPurpose.CLAIM_ACCOUNT)
    if found is None:
        return _claim_link_invalid(request)
    try:
        user = claim_account(db, token, display_name=display_name, password=password,
                             client=client_address(request))
    except FormInvalid as error:
        return _claim_page(request, db, found, token, form={"display_name": display_name}, errors=error.errors,
                           status_code=400)
    return signed_in_redirect(db, request, user, "/profile/check-answers")
