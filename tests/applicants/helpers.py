"""Applicants for tests: a signed-up user with a complete profile, and an NGO user for an organisation."""

import io
from datetime import date

from pypdf import PdfWriter
from sqlmodel import Session

from backend.applicants.models import ApplicantProfile
from backend.core.db import utcnow
from backend.identity.models import Role, User
from tests.accounts.helpers import make_user
from tests.factories import make_organisation

TODAY = date(2026, 11, 25)  # inside make_scheme's applicant window (1 Nov 2026 - 31 Mar 2027)


def make_applicant(session: Session, *, user: bool = True, **overrides) -> tuple[User | None, ApplicantProfile]:
    account = make_user(session, Role.APPLICANT) if user else None
    values = dict(
        user_id=account.id if account else None, name_en="Chan Ka Yan", name_zh="陳嘉欣",
        date_of_birth=date(2004, 3, 1), origin="hong_kong", origin_declared_at=utcnow(),
        contact_email=account.email if account else "", education_level="bachelor", institution="HKU",
        field_of_study="Data Science 數據科學", skills="Python, SQL, data analysis",
        interests="logistics data 物流數據", statement="I want to analyse data.",
        languages={"cantonese": 5, "putonghua": 3, "english": 4}, available_from=date(2027, 6, 1),
        available_to=date(2027, 8, 31), regions=[], open_to_other=False)
    values.update(overrides)
    profile = ApplicantProfile(**values)
    session.add(profile)
    session.flush()
    return account, profile


def make_ngo(session: Session, organisation=None) -> tuple[User, object]:
    organisation = organisation or make_organisation(session)
    return make_user(session, Role.NGO, organisation=organisation), organisation


def blank_pdf() -> bytes:
    """A one-page PDF that passes the CV checks."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
