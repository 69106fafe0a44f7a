"""Importing paper applications in the applicants.csv format: row errors reported, re-imports idempotent."""

import pytest
from sqlmodel import select

from backend.accounts.models import OneTimeToken, TokenPurpose
from backend.applicants import csv_import
from backend.applicants.models import ApplicantProfile, Choice
from backend.core.errors import Forbidden
from backend.outbox.models import OutboxEmail
from tests.accounts.helpers import make_user
from tests.applicants.helpers import TODAY, make_ngo
from tests.factories import make_project

HEADER = ("id,date_of_birth,hk_resident,education,field_of_study,skills,interests,statement,languages,"
          "available_from,available_to,regions,choices,open_to_other,first_timer,email,name_en")


def _file(project_ids, *rows) -> bytes:
    first, second = project_ids
    good = [
        f"A001,2003-05-02,true,bachelor,Data Science,Python,fintech,,cantonese=5;putonghua=3,2027-06-01,"
        f"2027-08-31,,{first};{second},true,true,a001@example.hk,Chan Tai Man",
        f"A002,2004-11-20,true,bachelor,History,,museums,,cantonese=5,2027-06-01,2027-08-31,,{second};999999,"
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
    data = _file(ids, "A003,2004-02-30,true,bachelor,,,,,cantonese=5,2027-06-01,2027-08-31,,,false,true,,",
                 "A004,2004-01-01,maybe,phd,,,,,cantonese=9,2027-06-01,2027-08-31,,,false,true,,",
                 "A005,2004-01-01,true,bachelor,,,,,,2027-06-01,2027-08-31,,,false,true,not-an-email,")

    result = csv_import.import_applicants(session, ngo, data, today=TODAY)

    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert [(p.line, p.column) for p in result.rejected] == [
        (4, "date_of_birth"), (5, "education"), (5, "hk_resident"), (5, "languages"), (6, "email")]
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
