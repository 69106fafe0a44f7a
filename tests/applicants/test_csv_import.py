"""Importing paper applications in the applicants.csv format: row errors reported, re-imports idempotent."""

import pytest
from sqlmodel import select

from backend.accounts.models import OneTimeToken, TokenPurpose
from backend.applicants import csv_import
from backend.applicants.models import ApplicantProfile, Choice
from backend.core.errors import Forbidden
from backend.core.settings import get_settings
from backend.outbox.models import OutboxEmail
from tests.accounts.helpers import make_user, sign_in_as
from tests.applicants.helpers import TODAY, make_ngo
from tests.factories import make_project

HEADER = ("id,date_of_birth,origin,education,field_of_study,skills,interests,statement,languages,"
          "available_from,available_to,regions,choices,open_to_other,first_timer,email,name_en")


def _file(project_ids, *rows) -> bytes:
    first, second = project_ids
    good = [
        f"A001,2003-05-02,hong_kong,bachelor,Data Science,Python,fintech,,cantonese=5;putonghua=3,2027-06-01,"
        f"2027-08-31,,{first};{second},true,true,a001@example.hk,Chan Tai Man",
        f"A002,2004-11-20,hong_kong,bachelor,History,,museums,,cantonese=5,2027-06-01,2027-08-31,,{second};999999,"
        "false,false,,",
    ]
    return ("\n".join([HEADER, *good, *rows]) + "\n").encode()


@pytest.fixture
def setup(session, scheme):
    ngo, organisation = make_ngo(session)
    projects = [make_project(session, scheme, organisation), make_project(session, scheme, organisation)]
    return ngo, organisation, [p.id for p in projects]


def test_good_rows_are_saved_and_bad_rows_reported_with_line_column_and_reason(session, setup):
    ngo, organisation, ids = setup
    data = _file(ids, "A003,2004-02-30,hong_kong,bachelor,,,,,cantonese=5,2027-06-01,2027-08-31,,,false,true,,",
                 "A004,2004-01-01,macao,phd,,,,,cantonese=9,2027-06-01,2027-08-31,,,false,true,,",
                 "A005,2004-01-01,hong_kong,bachelor,,,,,,2027-06-01,2027-08-31,,,false,true,not-an-email,")

    result = csv_import.import_applicants(session, ngo, data, today=TODAY)

    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert [(p.line, p.column) for p in result.rejected] == [
        (4, "date_of_birth"), (5, "education"), (5, "languages"), (5, "origin"), (6, "email")]
    assert result.rejected[0].reason == "'2004-02-30' is not a date like 2005-03-31."
    assert result.rejections_csv().splitlines()[:2] == ["line,column,reason",
                                                        "4,date_of_birth,'2004-02-30' is not a date like 2005-03-31."]
    assert [(w.line, w.column) for w in result.warnings] == [(3, "choices")], "unknown project 999999"
    profile = session.exec(select(ApplicantProfile).where(
        ApplicantProfile.external_ref == f"{organisation.id}:A001")).one()
    assert profile.user_id is None and profile.name_en == "Chan Tai Man" and profile.contact_email == "a001@example.hk"
    ranks = session.exec(select(Choice.project_id, Choice.rank).where(Choice.applicant_id == profile.id)
                         .order_by(Choice.rank)).all()
    assert [tuple(r) for r in ranks] == [(ids[0], 1), (ids[1], 2)]
    assert result.invited == 1
    token = session.exec(select(OneTimeToken).where(OneTimeToken.email == "a001@example.hk")).one()
    assert token.purpose == TokenPurpose.CLAIM_ACCOUNT
    email = session.exec(select(OutboxEmail).where(OutboxEmail.to_address == "a001@example.hk")).one()
    assert "/claim-account/" in email.body_text


def test_importing_the_same_file_twice_creates_no_duplicates(session, setup):
    ngo, _organisation, ids = setup
    csv_import.import_applicants(session, ngo, _file(ids), today=TODAY)
    again = csv_import.import_applicants(session, ngo, _file(ids), today=TODAY)
    assert (again.created, again.updated, again.unchanged, again.invited) == (0, 0, 2, 0)
    assert len(session.exec(select(ApplicantProfile)).all()) == 2
    assert len(session.exec(select(Choice)).all()) == 3

    changed = _file(ids).replace(b"Data Science", b"Statistics")
    result = csv_import.import_applicants(session, ngo, changed, today=TODAY)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)


def test_two_organisations_ids_do_not_collide(session, scheme, setup):
    ngo, _organisation, ids = setup
    officer = make_user(session, "officer")
    csv_import.import_applicants(session, ngo, _file(ids), today=TODAY)
    result = csv_import.import_applicants(session, officer, _file(ids), today=TODAY)
    assert result.created == 2
    refs = sorted(session.exec(select(ApplicantProfile.external_ref)).all())
    assert [r.split(":")[0] for r in refs].count("staff") == 2


def test_a_wrong_header_or_encoding_refuses_the_whole_file(session, setup):
    ngo, _organisation, ids = setup
    with pytest.raises(csv_import.ImportRefused, match="Missing: first_timer"):
        csv_import.import_applicants(session, ngo, _file(ids).replace(b",first_timer", b",first_time"), today=TODAY)
    with pytest.raises(csv_import.ImportRefused, match="not saved as UTF-8"):
        csv_import.import_applicants(session, ngo, _file(ids).decode().replace("Data", "數據").encode("big5"),
                                     today=TODAY)
    assert session.exec(select(ApplicantProfile)).all() == []


def test_an_ngo_cannot_import_choices_of_another_organisations_projects(session, scheme, setup):
    ngo, _organisation, ids = setup
    other = make_project(session, scheme)
    result = csv_import.import_applicants(session, ngo, _file((other.id, ids[1])), today=TODAY)
    assert any(w.column == "choices" and str(other.id) in w.reason for w in result.warnings)
    with pytest.raises(Forbidden):
        csv_import.import_applicants(session, make_user(session), _file(ids), today=TODAY)


GOOD = "{id},2004-01-01,hong_kong,bachelor,Data,,,,cantonese=5,2027-06-01,2027-08-31,,,false,true,,"
BAD_DATE = "{id},2004-02-30,hong_kong,bachelor,Data,,,,cantonese=5,2027-06-01,2027-08-31,,,false,true,,"


def _rows(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def test_good_rows_after_more_than_a_hundred_bad_ones_are_imported(session, setup):
    """Parsing used to stop after 100 errors: 120 bad rows then 5 good ones imported and reported nothing of them."""
    ngo, _organisation, _ids = setup
    data = _rows(*(BAD_DATE.format(id=f"B{n}") for n in range(120)), *(GOOD.format(id=f"G{n}") for n in range(5)))
    result = csv_import.import_applicants(session, ngo, data, today=TODAY)
    assert result.created == 5
    assert [p.line for p in result.rejected] == list(range(2, 122))
    assert result.rejected_rows + result.accepted == 125, "every row is imported or reported"


def test_every_copy_of_a_repeated_id_is_reported_and_none_imported(session, setup):
    """The rule: an id on several rows refuses all of them, each naming the other lines. The first copy used
    to be dropped without a word."""
    ngo, _organisation, _ids = setup
    data = _rows(GOOD.format(id="A1"), GOOD.format(id="A2"), GOOD.format(id="A1"), GOOD.format(id="A1"))
    result = csv_import.import_applicants(session, ngo, data, today=TODAY)
    assert result.created == 1
    assert [(p.line, p.column) for p in result.rejected] == [(2, "id"), (4, "id"), (5, "id")]
    assert "also on line 4, 5" in result.rejected[0].reason and "also on line 2, 5" in result.rejected[1].reason
    assert result.rejected_rows + result.accepted == 4


def test_a_bad_row_is_reported_with_all_its_errors(session, setup):
    ngo, _organisation, _ids = setup
    data = _rows("X" * 80 + ",2004-13-01,yes,phd,,,,,cantonese=7;klingon,2027-06-01,2027-02-30,,,perhaps,0,"
                 "not-an-email,", ",,,,,,,,,,,,,,,,",
                 "A3,2004-01-01,hong_kong,bachelor,,,,,,2027-08-31,2027-06-01,,,false,true,bad@,")
    result = csv_import.import_applicants(session, ngo, data, today=TODAY)
    assert result.accepted == 0
    by_line: dict[int, set[str]] = {}
    for p in result.rejected:
        by_line.setdefault(p.line, set()).add(p.column)
    assert by_line[2] == {"id", "date_of_birth", "origin", "education", "languages", "available_to",
                          "open_to_other", "first_timer", "email"}
    assert by_line[4] == {"available_to", "email"}
    assert 3 not in by_line, "a blank line is not a row"


def test_a_byte_order_mark_is_ignored(session, setup):
    ngo, _organisation, ids = setup
    result = csv_import.import_applicants(session, ngo, b"\xef\xbb\xbf" + _file(ids), today=TODAY)
    assert (result.created, result.rejected) == (2, [])


def test_a_wrong_header_names_the_missing_and_unknown_columns(session, setup):
    ngo, _organisation, ids = setup
    wrong = _file(ids).replace(b",first_timer,email", b",first_time,emial")
    with pytest.raises(csv_import.ImportRefused) as refused:
        csv_import.import_applicants(session, ngo, wrong, today=TODAY)
    assert "Missing: first_timer." in refused.value.message
    assert "Not known: first_time, emial" in refused.value.message
    assert session.exec(select(ApplicantProfile)).all() == []


def test_bytes_that_are_not_utf8_are_refused_naming_their_line(session, setup):
    ngo, _organisation, _ids = setup
    data = _rows(GOOD.format(id="A1"), GOOD.format(id="A2").replace("Data", "Donn\xe9es"))
    data = data.replace("Donn\xe9es".encode(), "Donn\xe9es".encode("latin-1"))
    with pytest.raises(csv_import.ImportRefused, match="Line 3 is not UTF-8"):
        csv_import.import_applicants(session, ngo, data, today=TODAY)
    assert session.exec(select(ApplicantProfile)).all() == []


def test_a_ten_megabyte_file_is_refused_whole(session, setup):
    ngo, _organisation, _ids = setup
    data = _rows(*(GOOD.format(id=f"A{n}") for n in range(140_000)))
    assert len(data) > 10 * 1024 * 1024
    with pytest.raises(csv_import.ImportRefused, match="larger than 5 MB"):
        csv_import.import_applicants(session, ngo, data, today=TODAY)
    assert session.exec(select(ApplicantProfile)).all() == []


def test_reimporting_a_file_with_good_and_bad_rows_creates_nothing_new(session, setup):
    ngo, _organisation, ids = setup
    data = _file(ids, BAD_DATE.format(id="A3"), GOOD.format(id="A4"), GOOD.format(id="A4"))
    first = csv_import.import_applicants(session, ngo, data, today=TODAY)
    again = csv_import.import_applicants(session, ngo, data, today=TODAY)
    assert (first.created, first.rejected_rows) == (2, 3)
    assert (again.created, again.updated, again.unchanged, again.rejected_rows) == (0, 0, 2, 3)
    assert len(session.exec(select(ApplicantProfile)).all()) == 2


def test_the_page_does_not_show_a_file_whose_rows_all_failed_as_a_success(session, client, setup):
    ngo, _organisation, _ids = setup
    csrf = sign_in_as(client, session, ngo)
    data = _rows(BAD_DATE.format(id="A1"), GOOD.format(id="A2").replace("hong_kong,bachelor", "macao,bachelor"))
    response = client.post("/applicants/import", data={"csrf_token": csrf},
                           files={"file": ("paper.csv", data, "text/csv")})
    assert response.status_code == 422, "a file whose rows all failed is not a success"
    assert "Nothing was imported from paper.csv" in response.text and "govuk-panel--confirmation" not in response.text
    assert "2 rows were not imported" in response.text
    assert "<td class=\"govuk-table__cell\">2</td>" in response.text and "origin" in response.text


def test_a_ten_megabyte_upload_is_refused_before_it_is_read(session, client, setup):
    ngo, _organisation, _ids = setup
    csrf = sign_in_as(client, session, ngo)
    before = sorted(get_settings().upload_dir.glob("*"))
    data = _rows(*(GOOD.format(id=f"A{n}") for n in range(140_000)))
    response = client.post("/applicants/import?lang=zh-Hant", data={"csrf_token": csrf},
                           files={"file": ("big.csv", data, "text/csv")})
    assert response.status_code == 413 and "檔案大於 5 MB" in response.text
    assert sorted(get_settings().upload_dir.glob("*")) == before
    assert session.exec(select(ApplicantProfile)).all() == []


def test_the_template_has_english_and_chinese_headers_and_accepted_values(session, client, setup):
    ngo, _organisation, _ids = setup
    sign_in_as(client, session, ngo)
    response = client.get("/applicants/import/template.csv")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    header = text.splitlines()[0]
    assert header.startswith("id (申請人參考編號),date_of_birth (出生日期),origin (申請人來自),education (最高學歷)")
    assert "bachelor（學士）" in text and "secondary, diploma, associate, bachelor, master, doctorate" in text
    assert "Guangdong（廣東）" in text and "true（是）或 false（否）" in text
    page = client.get("/applicants/import")
    assert 'href="/applicants/import/template.csv"' in page.text and "bachelor（學士）" in page.text


def test_a_filled_in_template_imports_and_reports_the_files_own_line_numbers(session, client, setup):
    ngo, _organisation, ids = setup
    csrf = sign_in_as(client, session, ngo)
    template = client.get("/applicants/import/template.csv").content.decode("utf-8-sig")
    lines = template.splitlines()
    good = (f"T001,2003-05-02,hong_kong,bachelor,Data,Python,fintech,,cantonese=5,2027-06-01,2027-08-31,,{ids[0]},"
            "true,true,Chan Tai Man,陳大文,,")
    bad = "T002,2003-02-30,yes,bachelor,,,,,cantonese=5,2027-06-01,2027-08-31,,,true,true,,,,"
    data = "\r\n".join([*lines, good, bad]) + "\r\n"
    response = client.post("/applicants/import", data={"csrf_token": csrf},
                           files={"file": ("template.csv", data.encode("utf-8-sig"), "text/csv")})
    assert response.status_code == 200, response.text[:2000]
    assert "1 new" in response.text
    bad_line = len(lines) + 2
    assert f'<td class="govuk-table__cell">{bad_line}</td><td class="govuk-table__cell">date_of_birth</td>' in response.text
    assert f'<td class="govuk-table__cell">{bad_line}</td><td class="govuk-table__cell">origin</td>' in response.text
    profile = session.exec(select(ApplicantProfile).where(ApplicantProfile.name_zh == "陳大文")).one()
    assert profile.education_level == "bachelor"
