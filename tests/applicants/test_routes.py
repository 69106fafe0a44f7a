"""Applicant and NGO pages and API through HTTP: profile steps, CV upload abuse, choices, status, tenancy, import."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.accounts.models import OneTimeToken, TokenPurpose
from backend.applicants.models import ApplicantProfile, Choice, ChoiceStatus
from backend.applicants.profile import find_profile
from backend.core.settings import get_settings
from backend.identity.models import Role, User
from tests.accounts.helpers import make_user, sign_in_as
from tests.applicants.helpers import make_applicant, make_ngo
from tests.factories import make_project


def small_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def applicant(session, client):
    user, profile = make_applicant(session)
    csrf = sign_in_as(client, session, user)
    return user, profile, csrf


def post(client, url, csrf, data=None, **kwargs):
    return client.post(url, data={"csrf_token": csrf, **(data or {})}, follow_redirects=False, **kwargs)


# --- profile steps ------------------------------------------------------------------------------------------

def test_a_new_applicant_fills_the_steps_checks_answers_and_submits(session, client):
    user = make_user(session, Role.APPLICANT)
    csrf = sign_in_as(client, session, user)
    assert client.get("/profile").status_code == 200
    answers = {
        "names": {"name_en": "Wong Siu Ming", "date_of_birth-day": "5", "date_of_birth-month": "7",
                  "date_of_birth-year": "2004"},
        "residency": {"origin": "hong_kong"},
        "contact": {"contact_email": "siuming@example.hk", "phone": "9123 4567"},
        "education": {"education_level": "bachelor", "institution": "CUHK"},
        "study": {"field_of_study": "Logistics", "skills": "Python, data analysis"},
        "languages": {"cantonese": "5", "putonghua": "3", "english": "4"},
        "availability": {"available_from-day": "1", "available_from-month": "6", "available_from-year": "2027",
                         "available_to-day": "31", "available_to-month": "8", "available_to-year": "2027"},
        "regions": {},
        "open_to_other": {"open_to_other": "yes"},
        "joined_before": {"joined_before": "no"},
    }
    steps = list(answers)
    for at, step in enumerate(steps):
        assert client.get(f"/profile/steps/{step}").status_code == 200
        response = post(client, f"/profile/steps/{step}", csrf, answers[step])
        assert response.status_code == 303, response.text
        expected = f"/profile/steps/{steps[at + 1]}" if at + 1 < len(steps) else "/profile/check-answers"
        assert response.headers["location"] == expected
    page = client.get("/profile/check-answers")
    assert page.status_code == 200
    assert "Wong Siu Ming" in page.text and "5 July 2004" in page.text and "CUHK" in page.text
    assert 'href="/profile/steps/education?change=1"' in page.text
    response = post(client, "/profile/check-answers", csrf)
    assert response.status_code == 303 and response.headers["location"] == "/profile?done=submitted"
    assert find_profile(session, user).submitted_at is not None


def test_step_errors_are_shown_per_field_and_nothing_typed_is_lost(session, client):
    user = make_user(session, Role.APPLICANT)
    csrf = sign_in_as(client, session, user)
    response = post(client, "/profile/steps/names", csrf, {
        "name_en": "Chan Tai Man", "date_of_birth-day": "31", "date_of_birth-month": "2",
        "date_of_birth-year": "2004"})
    assert response.status_code == 400
    assert "govuk-error-summary" in response.text and 'href="#date_of_birth-day"' in response.text
    assert "Date of birth: enter a real date" in response.text, "the error names the field"
    assert 'value="Chan Tai Man"' in response.text and 'value="31"' in response.text, "what was typed is shown"
    # The valid answer was saved even though the date was wrong.
    assert find_profile(session, user).name_en == "Chan Tai Man"

    response = post(client, "/profile/steps/contact?lang=zh-Hant", csrf, {"contact_email": "not-an-address"})
    assert response.status_code == 400
    assert "<title>錯誤： 聯絡方法" in response.text and "請輸入電郵地址，例如 name@example.com。" in response.text
    assert 'value="not-an-address"' in response.text
    assert "name@example.com" in response.text


def test_change_link_returns_to_check_answers(applicant, client):
    _user, _profile, csrf = applicant
    page = client.get("/profile/steps/contact?change=1")
    assert 'name="return_to" value="check"' in page.text
    response = post(client, "/profile/steps/contact", csrf, {"contact_email": "new@example.hk", "return_to": "check"})
    assert response.headers["location"] == "/profile/check-answers"


def test_submitting_an_incomplete_profile_lists_the_missing_steps(session, client):
    user = make_user(session, Role.APPLICANT)
    csrf = sign_in_as(client, session, user)
    response = post(client, "/profile/check-answers", csrf)
    assert response.status_code == 400
    assert 'href="#step-names"' in response.text and "Your name and date of birth" in response.text


def test_unknown_step_is_not_found(applicant, client):
    assert client.get("/profile/steps/../../etc").status_code == 404
    assert client.get("/profile/steps/password").status_code == 404


# --- CV upload abuse ------------------------------------------------------------------------------------------

def upload(client, csrf, name: str, content: bytes, mime: str = "application/pdf"):
    return client.post("/profile/cv", data={"csrf_token": csrf}, files={"cv": (name, content, mime)},
                       follow_redirects=False)


def test_a_pdf_cv_is_uploaded_and_downloaded_as_an_attachment(applicant, client, session):
    user, profile, csrf = applicant
    pdf = small_pdf()
    response = upload(client, csrf, "my cv.pdf", pdf)
    assert response.status_code == 303, response.text
    session.refresh(profile)
    assert profile.cv_stored_name and profile.cv_stored_name != "my cv.pdf"
    download = client.get("/profile/cv/download")
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["content-type"] == "application/pdf"


def test_cv_abuse_is_refused_with_a_clear_error(applicant, client, session, monkeypatch):
    user, profile, csrf = applicant
    response = upload(client, csrf, "cv.pdf", b"MZ\x90\x00 this is a windows program")
    assert response.status_code == 400 and "must be a PDF" in response.text
    response = upload(client, csrf, "../../../../etc/passwd.pdf", b"%PDF-1.4\n%truncated")
    assert response.status_code == 400 and "could not be read as a PDF" in response.text
    truncated = small_pdf()[:40]
    response = upload(client, csrf, "cv.pdf", truncated)
    assert response.status_code == 400
    monkeypatch.setattr(get_settings(), "cv_max_bytes", 2048)
    response = upload(client, csrf, "big.pdf", b"%PDF-1.4\n" + b"0" * 200_000)
    assert response.status_code == 413 and "must be 2 KB or smaller" in response.text
    session.refresh(profile)
    assert profile.cv_stored_name is None
    leftovers = [p.name for p in get_settings().upload_dir.glob("*") if "passwd" in p.name or p.suffix == ".part"]
    assert leftovers == []


def test_no_file_chosen_is_a_form_error(applicant, client):
    _user, _profile, csrf = applicant
    response = client.post("/profile/cv", data={"csrf_token": csrf}, files={"cv": ("", b"", "application/pdf")},
                           follow_redirects=False)
    assert response.status_code == 400 and "Choose your CV" in response.text


# --- choices and status ----------------------------------------------------------------------------------------

def test_choices_are_added_reordered_withdrawn_and_shown_on_the_status_page(applicant, client, session, scheme):
    user, profile, csrf = applicant
    projects = [make_project(session, scheme, title_en=f"Project {n}") for n in range(3)]
    session.commit()
    for project in projects:
        response = post(client, "/choices", csrf, {"project_id": str(project.id)})
        assert response.status_code == 303, response.text
    page = client.get("/choices")
    assert re.findall(r'href="/projects/\d+">(Project \d)<', page.text) == ["Project 0", "Project 1", "Project 2"]
    choice = session.exec(select(Choice).where(Choice.project_id == projects[2].id)).one()
    response = post(client, f"/choices/{choice.id}/move", csrf, {"direction": "up"})
    assert response.status_code == 303
    session.refresh(choice)
    assert choice.rank == 2
    assert post(client, "/choices", csrf, {"project_id": str(projects[0].id)}).status_code == 409
    assert client.get(f"/choices/{choice.id}/withdraw").status_code == 200
    assert post(client, f"/choices/{choice.id}/withdraw", csrf).status_code == 303
    session.refresh(choice)
    assert choice.status == ChoiceStatus.WITHDRAWN
    status = client.get("/status")
    assert status.status_code == 200
    assert "Project 0" in status.text and "Project 1" in status.text and "Project 2" not in status.text
    assert "What happens next" in status.text
    assert "下一步" in client.get("/status?lang=zh-Hant").text


def test_choices_are_frozen_once_the_window_closes(applicant, client, session):
    from tests.factories import make_scheme

    user, profile, csrf = applicant
    closed = make_scheme(session, applicant_window_opens=__import__("datetime").date(2026, 1, 1),
                         applicant_window_closes=__import__("datetime").date(2026, 2, 1))
    project = make_project(session, closed)
    choice = Choice(applicant_id=profile.id, project_id=project.id, scheme_id=closed.id, rank=1)
    session.add(choice)
    session.commit()
    response = post(client, f"/choices/{choice.id}/withdraw", csrf)
    assert response.status_code == 409 and "closed" in response.text
    assert post(client, "/choices", csrf, {"project_id": str(project.id)}).status_code == 409


def test_an_ineligible_project_cannot_be_chosen_and_the_project_page_says_why(applicant, client, session, scheme):
    user, profile, csrf = applicant
    project = make_project(session, scheme, min_education="master", title_en="Needs a master")
    session.commit()
    page = client.get(f"/projects/{project.id}")
    assert "Can you apply?" in page.text and "Not met:" in page.text and "Master" in page.text
    assert 'action="/choices"' not in page.text
    response = post(client, "/choices", csrf, {"project_id": str(project.id)})
    assert response.status_code == 400 and "You cannot choose this project" in response.text
    fine = make_project(session, scheme)
    session.commit()
    page = client.get(f"/projects/{fine.id}?lang=zh-Hant")
    assert 'action="/choices"' in page.text


def test_the_project_page_names_missing_steps_for_an_incomplete_profile(session, client, scheme):
    user = make_user(session, Role.APPLICANT)
    sign_in_as(client, session, user)
    project = make_project(session, scheme)
    session.commit()
    page = client.get(f"/projects/{project.id}")
    assert "Complete your profile" in page.text and 'href="/profile/steps/names"' in page.text
    anonymous = TestClient(client.app)
    assert "Can you apply?" not in anonymous.get(f"/projects/{project.id}").text


def test_suggestions_show_with_their_reason(applicant, client, session, scheme):
    make_project(session, scheme, title_en="Logistics data analyst", description_en="Python data analysis logistics")
    session.commit()
    page = client.get("/choices")
    assert "Suggested for you" in page.text and "Logistics data analyst" in page.text
    assert "both mention" in page.text


# --- NGO pages and tenancy -------------------------------------------------------------------------------------

@pytest.fixture
def two_ngos(session, scheme):
    ngo, organisation = make_ngo(session)
    other, other_org = make_ngo(session)
    mine = make_project(session, scheme, organisation, title_en="Our project")
    theirs = make_project(session, scheme, other_org, title_en="Their project")
    chose_mine = make_applicant(session, name_en="Lee Mei", cv_stored_name=None)[1]
    chose_theirs = make_applicant(session, name_en="Ho Ka Wai")[1]
    c1 = Choice(applicant_id=chose_mine.id, project_id=mine.id, scheme_id=scheme.id, rank=1)
    c2 = Choice(applicant_id=chose_theirs.id, project_id=theirs.id, scheme_id=scheme.id, rank=1)
    session.add_all([c1, c2])
    session.flush()
    return dict(ngo=ngo, mine=mine, theirs=theirs, chose_mine=chose_mine, chose_theirs=chose_theirs, c1=c1, c2=c2)


def test_an_ngo_sees_only_applicants_who_chose_its_projects(session, client, two_ngos):
    w = two_ngos
    csrf = sign_in_as(client, session, w["ngo"])
    page = client.get("/ngo/applicants")
    assert "Lee Mei" in page.text and "Ho Ka Wai" not in page.text
    assert client.get(f"/ngo/applicants/{w['chose_mine'].id}").status_code == 200
    for url in (f"/ngo/applicants/{w['chose_theirs'].id}", f"/ngo/applicants/{w['chose_theirs'].id}/cv",
                f"/api/v1/ngo/applicants/{w['chose_theirs'].id}", f"/api/v1/ngo/applicants/{w['chose_theirs'].id}/cv",
                f"/ngo/rankings/{w['theirs'].id}", f"/api/v1/ngo/projects/{w['theirs'].id}/ranking",
                "/ngo/applicants/999999", "/api/v1/ngo/applicants/999999"):
        assert client.get(url).status_code == 404, url
    assert post(client, f"/ngo/choices/{w['c2'].id}/interview", csrf, {"outcome": "recommended"}).status_code == 404
    assert post(client, f"/ngo/choices/{w['c2'].id}/ranking", csrf, {"direction": "add"}).status_code == 404
    api = client.get("/api/v1/ngo/applicants").json()
    assert {row["name"] for row in api} == {"Lee Mei"}
    assert client.get(f"/ngo/applicants?project_id={w['theirs'].id}").status_code == 400


def test_an_ngo_records_an_interview_and_ranks_applicants(session, client, two_ngos, scheme):
    w = two_ngos
    csrf = sign_in_as(client, session, w["ngo"])
    second = make_applicant(session, name_en="Second Person")[1]
    c3 = Choice(applicant_id=second.id, project_id=w["mine"].id, scheme_id=scheme.id, rank=1)
    session.add(c3)
    session.commit()
    response = post(client, f"/ngo/choices/{w['c1'].id}/interview", csrf, {"outcome": "recommended", "notes": "Good"})
    assert response.status_code == 303
    session.refresh(w["c1"])
    assert w["c1"].status == ChoiceStatus.INTERVIEWED and w["c1"].interview_outcome == "recommended"
    assert post(client, f"/ngo/choices/{w['c1'].id}/interview", csrf, {"outcome": "maybe"}).status_code == 400
    for choice in (w["c1"], c3):
        assert post(client, f"/ngo/choices/{choice.id}/ranking", csrf, {"direction": "add"}).status_code == 303
    assert post(client, f"/ngo/choices/{c3.id}/ranking", csrf, {"direction": "up"}).status_code == 303
    session.refresh(c3)
    session.refresh(w["c1"])
    assert (c3.ngo_rank, w["c1"].ngo_rank) == (1, 2)
    page = client.get(f"/ngo/rankings/{w['mine'].id}")
    assert page.text.index("Second Person") < page.text.index("Lee Mei")
    filtered = client.get("/ngo/applicants?status=interviewed&sort=name")
    assert "Lee Mei" in filtered.text and "Second Person" not in filtered.text


def test_an_ngo_downloads_a_cv_of_its_applicant(session, client, two_ngos):
    w = two_ngos
    user = session.get(User, w["chose_mine"].user_id)
    applicant_client = TestClient(client.app)
    csrf = sign_in_as(applicant_client, session, user)
    pdf = small_pdf()
    assert upload(applicant_client, csrf, "cv.pdf", pdf).status_code == 303
    sign_in_as(client, session, w["ngo"])
    response = client.get(f"/ngo/applicants/{w['chose_mine'].id}/cv")
    assert response.status_code == 200 and response.content == pdf
    assert response.headers["content-disposition"].startswith("attachment")


# --- API ---------------------------------------------------------------------------------------------------------

def test_the_applicant_api_profile_choices_status(applicant, client, session, scheme):
    user, profile, csrf = applicant
    headers = {"X-CSRF-Token": csrf}
    me = client.get("/api/v1/me/profile").json()
    assert me["name_en"] == "Chan Ka Yan" and me["missing_steps"] == []
    saved = client.put("/api/v1/me/profile/steps/contact", json={"contact_email": "bad", "phone": "9123 4567"},
                       headers=headers)
    assert saved.status_code == 422 and "contact_email" in saved.json()["errors"]
    assert saved.json()["profile"]["phone"] == "9123 4567"
    project = make_project(session, scheme)
    session.commit()
    eligibility = client.get(f"/api/v1/me/eligibility/{project.id}").json()
    assert eligibility["eligible"] is True and eligibility["requirements"]
    added = client.post("/api/v1/me/choices", json={"project_id": project.id}, headers=headers)
    assert added.status_code == 201 and added.json()[0]["rank"] == 1
    status = client.get("/api/v1/me/status").json()
    assert status["choices"][0]["project_id"] == project.id and status["choices"][0]["next_step"]
    assert client.delete(f"/api/v1/me/choices/{added.json()[0]['id']}", headers=headers).json() == []
    pdf = small_pdf()
    put = client.put("/api/v1/me/cv", files={"file": ("cv.pdf", pdf, "application/pdf")}, headers=headers)
    assert put.status_code == 200 and put.json()["size_bytes"] == len(pdf)
    bad = client.put("/api/v1/me/cv", files={"file": ("cv.exe", b"MZ\x90", "application/pdf")}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"] == "cv_rejected"
    assert client.get("/api/v1/me/cv").content == pdf
    assert "/api/v1/me/profile" in client.get("/api/v1/openapi.json").json()["paths"]


# --- import and claiming -------------------------------------------------------------------------------------------

HEADER = ("id,date_of_birth,origin,education,field_of_study,skills,interests,statement,languages,"
          "available_from,available_to,regions,choices,open_to_other,first_timer,name_en,email")


def test_an_ngo_imports_a_csv_sees_rejected_rows_and_downloads_them(session, client, scheme):
    from backend.market.inputs import project_key

    ngo, organisation = make_ngo(session)
    project = make_project(session, scheme, organisation)
    csrf = sign_in_as(client, session, ngo)
    key = project_key(project.id)
    body = "\n".join([
        HEADER,
        f"A1,2004-03-01,hong_kong,bachelor,Data,Python,,,cantonese=5,2027-06-01,2027-08-31,,{key},false,true,"
        "Paper Applicant,paper@example.hk",
        f"A2,not-a-date,true,bachelor,Data,,,,cantonese=5,2027-06-01,2027-08-31,,{key},false,true,Bad Row,",
    ]) + "\n"
    response = client.post("/applicants/import", data={"csrf_token": csrf},
                           files={"file": ("paper.csv", body.encode(), "text/csv")})
    assert response.status_code == 200, response.text
    assert "1 new" in response.text and "date_of_birth" in response.text and "not-a-date" in response.text
    rejections = re.search(r'name="rejections" value="([^"]*)"', response.text).group(1)
    import html
    download = post(client, "/applicants/import/rejections.csv", csrf, {"rejections": html.unescape(rejections)})
    assert download.status_code == 200 and download.headers["content-disposition"].startswith("attachment")
    assert "line,column,reason" in download.content.decode("utf-8-sig") and "date_of_birth" in download.text
    wrong = client.post("/applicants/import", data={"csrf_token": csrf},
                        files={"file": ("x.csv", b"name,age\nx,1\n", "text/csv")})
    assert wrong.status_code == 400 and "Missing" in wrong.text


def test_an_ngo_import_is_limited_to_its_own_projects(session, client, scheme):
    from backend.market.inputs import project_key

    ngo, _organisation = make_ngo(session)
    someone_elses = make_project(session, scheme)
    csrf = sign_in_as(client, session, ngo)
    body = HEADER + (f"\nB1,2004-03-01,hong_kong,bachelor,Data,,,,cantonese=5,2027-06-01,2027-08-31,,"
                     f"{project_key(someone_elses.id)},false,true,X,\n")
    response = client.post("/applicants/import", data={"csrf_token": csrf},
                           files={"file": ("a.csv", body.encode(), "text/csv")})
    assert response.status_code == 200
    assert session.exec(select(Choice).where(Choice.project_id == someone_elses.id)).first() is None


def test_an_imported_applicant_claims_the_account_with_the_e_mailed_link(session, client, scheme):
    from backend.accounts.tokens import issue_one_time_token

    _none, profile = make_applicant(session, user=False, contact_email="claim@example.hk")
    raw = issue_one_time_token(session, TokenPurpose.CLAIM_ACCOUNT, email="claim@example.hk", hours=24)
    session.commit()
    page = client.get(f"/claim-account/{raw}")
    assert page.status_code == 200 and "claim@example.hk" in page.text
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
    short = post(client, f"/claim-account/{raw}", csrf, {"display_name": "Claimer", "password": "short"})
    assert short.status_code == 400 and 'value="Claimer"' in short.text
    done = post(client, f"/claim-account/{raw}", csrf,
                {"display_name": "Claimer", "password": "a long enough pass phrase"})
    assert done.status_code == 303 and done.headers["location"] == "/profile/check-answers"
    session.refresh(profile)
    user = session.get(User, profile.user_id)
    assert user.email == "claim@example.hk" and user.email_verified_at is not None
    assert client.get("/profile/check-answers").status_code == 200
    assert session.exec(select(OneTimeToken).where(OneTimeToken.email == "claim@example.hk")).one().used_at
    assert TestClient(client.app).get(f"/claim-account/{raw}").status_code == 404


def test_other_roles_cannot_reach_applicant_pages(session, client, two_ngos):
    sign_in_as(client, session, two_ngos["ngo"])
    assert client.get("/profile").status_code == 403
    assert client.get("/api/v1/me/choices").status_code == 403
    assert session.exec(select(ApplicantProfile).where(ApplicantProfile.user_id == two_ngos["ngo"].id)).first() is None


def test_an_applicant_cannot_touch_another_applicants_choices(applicant, client, session, scheme):
    _user, _profile, csrf = applicant
    _other_user, other = make_applicant(session)
    project = make_project(session, scheme)
    theirs = Choice(applicant_id=other.id, project_id=project.id, scheme_id=scheme.id, rank=1)
    session.add(theirs)
    session.commit()
    assert client.get(f"/choices/{theirs.id}/withdraw").status_code == 404
    assert post(client, f"/choices/{theirs.id}/withdraw", csrf).status_code == 404
    assert post(client, f"/choices/{theirs.id}/move", csrf, {"direction": "up"}).status_code == 404
    headers = {"X-CSRF-Token": csrf}
    assert client.delete(f"/api/v1/me/choices/{theirs.id}", headers=headers).status_code == 404
    session.refresh(theirs)
    assert theirs.status == ChoiceStatus.SUBMITTED


def test_an_oversized_cv_through_the_api_is_413(applicant, client, monkeypatch):
    _user, _profile, csrf = applicant
    monkeypatch.setattr(get_settings(), "cv_max_bytes", 1024)
    response = client.put("/api/v1/me/cv", files={"file": ("cv.pdf", b"%PDF-1.4\n" + b"0" * 50_000, "application/pdf")},
                          headers={"X-CSRF-Token": csrf})
    assert response.status_code == 413 and response.json()["error"] == "cv_rejected"


def test_the_navigation_offers_applicants_and_ngos_their_pages(session, client):
    from tests.factories import make_organisation

    user, _profile = make_applicant(session)
    sign_in_as(client, session, user)
    nav = client.get("/?lang=zh-Hant").text
    assert 'href="/profile">我的個人資料' in nav and 'href="/choices">我的選擇' in nav and 'href="/status"' in nav
    client.cookies.clear()
    sign_in_as(client, session, make_user(session, Role.NGO, organisation=make_organisation(session)))
    nav = client.get("/?lang=en").text
    assert 'href="/ngo/applicants"' in nav and 'href="/applicants/import"' in nav and 'href="/profile"' not in nav


def test_the_pages_are_in_traditional_chinese(applicant, client, session, scheme):
    project = make_project(session, scheme)
    session.commit()
    assert "檢查你的答案" in client.get("/profile/check-answers?lang=zh-Hant").text
    assert "你可以申請嗎？" in client.get(f"/projects/{project.id}?lang=zh-Hant").text
    assert "為你推薦" in client.get("/choices?lang=zh-Hant").text
    assert "你的履歷" in client.get("/profile/cv?lang=zh-Hant").text
