"""The NGO's applicants list at real sizes (a page from the database, search, filters, sorting by a column,
CSV and Excel downloads of the filtered list) and its ranking (move to a position, order by a column)."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from backend.applicants.models import Choice, ChoiceStatus
from tests.accounts.helpers import sign_in_as
from tests.applicants.helpers import make_applicant, make_ngo
from tests.factories import make_project

COUNT = 120


@pytest.fixture
def crowd(session, scheme, client):
    ngo, organisation = make_ngo(session)
    project = make_project(session, scheme, organisation)
    other = make_project(session, scheme, organisation)
    choices = []
    for n in range(COUNT):
        _user, profile = make_applicant(session, user=False, name_en=f"Applicant {n:03d}", name_zh=f"申請人{n:03d}",
                                        contact_email="")
        choice = Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=1 + n % 3,
                        status=ChoiceStatus.SHORTLISTED if n % 10 == 0 else ChoiceStatus.SUBMITTED)
        session.add(choice)
        choices.append((profile, choice))
    _user, lee = make_applicant(session, user=False, name_en="Lee Siu Ming", name_zh="李小明", contact_email="")
    session.add(Choice(applicant_id=lee.id, project_id=other.id, scheme_id=scheme.id, rank=1))
    session.flush()
    csrf = sign_in_as(client, session, ngo)
    return dict(ngo=ngo, project=project, other=other, choices=choices, lee=lee, csrf=csrf)


def _names(html: str) -> list[str]:
    return re.findall(r'href="/ngo/applicants/\d+">([^<]+)</a>', html)


def test_the_list_is_one_page_of_fifty_with_the_total_and_page_links(client, crowd):
    page = client.get("/ngo/applicants")
    assert page.status_code == 200
    assert len(_names(page.text)) == 50, "one page, not every row"
    assert f"{COUNT + 1} applications" in page.text
    assert 'aria-label="Page 3"' in page.text and 'rel="next"' in page.text
    last = client.get("/ngo/applicants?page=3")
    assert len(_names(last.text)) == COUNT + 1 - 100
    assert "showing 101 to 121" in last.text
    # A page past the end shows the last page; a silly one is refused as the bounds say.
    assert len(_names(client.get("/ngo/applicants?page=99").text)) == COUNT + 1 - 100
    assert client.get("/ngo/applicants?page=0").status_code in (404, 422)


def test_search_by_name_or_number_and_the_shortlisted_filter(client, crowd):
    found = client.get("/ngo/applicants", params={"q": "siu ming"})
    assert _names(found.text) == ["Lee Siu Ming"]
    assert _names(client.get("/ngo/applicants", params={"q": str(crowd["lee"].id)}).text) == ["Lee Siu Ming"]
    assert _names(client.get("/ngo/applicants", params={"q": "100%_"}).text) == [], "wildcards are plain text"
    shortlisted = client.get("/ngo/applicants", params={"shortlisted": "yes"})
    assert len(_names(shortlisted.text)) == COUNT // 10 and "12 applications" in shortlisted.text
    project = client.get("/ngo/applicants", params={"project_id": crowd["other"].id})
    assert _names(project.text) == ["Lee Siu Ming"]
    chinese = client.get("/ngo/applicants", params={"q": "小明", "lang": "zh-Hant"})
    assert _names(chinese.text) == ["李小明"]


def test_a_column_heading_sorts_the_list_and_keeps_the_filters(client, crowd):
    page = client.get("/ngo/applicants", params={"q": "Applicant 00"})
    link = re.search(r'href="(/ngo/applicants\?[^"]*sort=name[^"]*)"', page.text)
    assert link, "the Applicant heading links to the list sorted by name"
    sorted_page = client.get(link.group(1).replace("&amp;", "&"))
    assert _names(sorted_page.text) == [f"Applicant {n:03d}" for n in range(10)]
    assert 'aria-sort="ascending"' in sorted_page.text
    by_choice = _names(client.get("/ngo/applicants", params={"sort": "choice", "q": "Applicant 00"}).text)
    assert by_choice[:4] == ["Applicant 000", "Applicant 003", "Applicant 006", "Applicant 009"]


def test_csv_and_excel_downloads_hold_every_row_of_the_filtered_list(client, crowd):
    everything = client.get("/ngo/applicants", params={"export": "csv"})
    assert everything.status_code == 200 and everything.headers["content-type"].startswith("text/csv")
    assert "attachment" in everything.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(everything.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Applicant number", "Applicant"] and len(rows) == COUNT + 2
    shortlisted = client.get("/ngo/applicants", params={"export": "xlsx", "shortlisted": "yes", "sort": "name"})
    assert shortlisted.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(shortlisted.content)).active
    values = list(sheet.values)
    assert len(values) == 1 + COUNT // 10 and values[1][1] == "Applicant 000"
    chinese = client.get("/ngo/applicants", params={"export": "csv", "lang": "zh-Hant", "q": "李"})
    rows = list(csv.reader(io.StringIO(chinese.content.decode("utf-8-sig"))))
    assert rows[0][1] == "申請人" and rows[1][1] == "李小明" and len(rows) == 2
    page = client.get("/ngo/applicants", params={"shortlisted": "yes"})
    assert "export=csv" in page.text and "export=xlsx" in page.text and "shortlisted=1" in page.text


def test_a_formula_in_a_name_is_written_as_text(session, client, crowd, scheme):
    _user, sly = make_applicant(session, user=False, name_en="=HYPERLINK(\"x\")", contact_email="")
    session.add(Choice(applicant_id=sly.id, project_id=crowd["other"].id, scheme_id=scheme.id, rank=2))
    session.flush()
    body = client.get("/ngo/applicants", params={"export": "csv", "q": "hyperlink"}).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in body


def _rank(session, choice_id):
    session.expire_all()
    return session.get(Choice, choice_id).ngo_rank


def test_move_an_applicant_straight_to_a_position_and_order_by_a_column(session, client, crowd):
    csrf, project = crowd["csrf"], crowd["project"]
    ranked = [choice for _profile, choice in crowd["choices"][:15]]
    for choice in ranked:
        client.post(f"/ngo/choices/{choice.id}/ranking", data={"csrf_token": csrf, "direction": "add"})
    assert _rank(session, ranked[14].id) == 15
    page = client.get(f"/ngo/rankings/{project.id}")
    assert f'id="position-{ranked[14].id}"' in page.text and "ranking.js" in page.text
    moved = client.post(f"/ngo/choices/{ranked[14].id}/ranking",
                        data={"csrf_token": csrf, "direction": "to", "position": "12"}, follow_redirects=False)
    assert moved.status_code == 303
    assert _rank(session, ranked[14].id) == 12 and _rank(session, ranked[11].id) == 13
    assert _rank(session, ranked[0].id) == 1
    # Past the end means last; nonsense is a field error naming the field.
    client.post(f"/ngo/choices/{ranked[0].id}/ranking", data={"csrf_token": csrf, "direction": "to", "position": "99"})
    assert _rank(session, ranked[0].id) == 15
    wrong = client.post(f"/ngo/choices/{ranked[1].id}/ranking",
                        data={"csrf_token": csrf, "direction": "to", "position": "first"})
    assert wrong.status_code == 400 and f'href="#position-{ranked[1].id}"' in wrong.text
    assert "Position: enter a whole number from 1 to 15" in wrong.text
    ordered = client.post(f"/ngo/rankings/{project.id}/order", data={"csrf_token": csrf, "by": "name"},
                          follow_redirects=False)
    assert ordered.status_code == 303
    assert [_rank(session, c.id) for c in ranked] == list(range(1, 16))
    refused = client.post(f"/ngo/rankings/{project.id}/order", data={"csrf_token": csrf, "by": "age"})
    assert refused.status_code == 400 and 'href="#by"' in refused.text


def test_another_organisation_cannot_order_a_ranking(session, client, crowd):
    rival, _organisation = make_ngo(session)
    csrf = sign_in_as(client, session, rival)
    response = client.post(f"/ngo/rankings/{crowd['project'].id}/order", data={"csrf_token": csrf, "by": "name"})
    assert response.status_code == 404
