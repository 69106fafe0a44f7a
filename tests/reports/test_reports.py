"""Staff reports: fill rates, budget, choices, first-timers and unplaced reasons as tables, CSV and Excel."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from backend.applicants.models import Choice
from backend.core.db import utcnow
from backend.identity.models import Role
from backend.placements.models import MatchRun, MatchRunStatus, MatchUnplaced, Placement, PlacementStatus
from tests.accounts.helpers import make_user, sign_in_as
from tests.applicants.helpers import make_applicant
from tests.factories import make_organisation, make_project, make_scheme


def season(session):
    """Two projects (Guangdong 4 places, Beijing 2): three interns accepted, one offer open, one unplaced."""
    scheme = make_scheme(session, budget_hkd=1_000_000, caps={"Guangdong": 3},
                         name_en="Report Scheme", name_zh="報告計劃")
    organisation = make_organisation(session)
    shenzhen = make_project(session, scheme, organisation, places=4, subsidy=25_000, title_zh="深圳數據實習")
    beijing = make_project(session, scheme, organisation, region="Beijing", city="Beijing", places=2,
                           subsidy=30_000, sector="culture")
    rows = [(shenzhen, PlacementStatus.ACCEPTED, 1, False), (shenzhen, PlacementStatus.ACCEPTED, 2, True),
            (beijing, PlacementStatus.ACCEPTED, 1, False), (shenzhen, PlacementStatus.OFFERED, 1, False),
            (beijing, PlacementStatus.DECLINED, 1, False)]
    for project, status, rank, joined_before in rows:
        _user, profile = make_applicant(session, joined_before=joined_before)
        session.add(Choice(applicant_id=profile.id, project_id=project.id, scheme_id=scheme.id, rank=rank))
        session.add(Placement(scheme_id=scheme.id, project_id=project.id, applicant_id=profile.id, status=status,
                              subsidy_hkd=project.subsidy_granted_per_place, offer_deadline=utcnow() + timedelta(days=7)))
    _user, left_out = make_applicant(session)
    session.add(Choice(applicant_id=left_out.id, project_id=beijing.id, scheme_id=scheme.id, rank=1))
    run = MatchRun(scheme_id=scheme.id, mode="optimal", status=MatchRunStatus.SUCCEEDED, figures={})
    session.add(run)
    session.flush()
    session.add(MatchUnplaced(run_id=run.id, applicant_id=left_out.id, reason_code="regional_cap_exhausted"))
    session.flush()
    return scheme, shenzhen, beijing


def test_the_report_page_has_a_table_and_a_chart_hook_for_each_figure(client, session):
    scheme, _shenzhen, _beijing = season(session)
    sign_in_as(client, session, make_user(session, Role.APPROVER))
    page = client.get(f"/staff/reports?scheme={scheme.id}").text
    for title in ("Fill rate by project", "Fill rate by region", "Fill rate by sector", "Budget",
                  "Placed interns by the choice they got", "First-timers", "Why applicants were not placed"):
        assert title in page
    assert page.count('data-chart="') == 7 and "charts.js" in page and "chart.umd.min.js" in page
    assert 'data-value="0.5"' in page  # Shenzhen: 2 of 4 places filled
    assert "<script>" not in page


def test_the_csv_has_a_byte_order_mark_and_whole_numbers(client, session):
    scheme, _shenzhen, _beijing = season(session)
    sign_in_as(client, session, make_user(session, Role.OFFICER))
    response = client.get(f"/staff/reports/download.csv?scheme={scheme.id}&table=budget")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Item", "Amount (HK$)", "Share of the budget (%)"]
    assert rows[1] == ["Committed to interns who accepted", "80000", "8.0"]
    assert rows[2] == ["Committed to offers awaiting an answer", "25000", "2.5"]
    assert rows[3] == ["Left", "895000", "89.5"]
    regions = list(csv.reader(io.StringIO(client.get(
        f"/staff/reports/download.csv?scheme={scheme.id}&table=regions").content.decode("utf-8-sig"))))
    assert regions[1] == ["Guangdong", "4", "2", "1", "3", "50.0"]
    assert regions[2] == ["Beijing", "2", "1", "0", "", "50.0"]


def test_the_csv_in_chinese_keeps_chinese_text(client, session):
    scheme, _shenzhen, _beijing = season(session)
    sign_in_as(client, session, make_user(session, Role.OFFICER))
    client.get("/staff/reports?lang=zh-Hant")
    text = client.get(f"/staff/reports/download.csv?scheme={scheme.id}&table=projects").content.decode("utf-8-sig")
    assert "深圳數據實習" in text and "廣東" in text


def test_the_workbook_has_a_sheet_per_table_with_numbers_as_numbers(client, session):
    scheme, _shenzhen, _beijing = season(session)
    sign_in_as(client, session, make_user(session, Role.OFFICER))
    response = client.get(f"/staff/reports/download.xlsx?scheme={scheme.id}")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 8
    budget = workbook["Budget"]
    assert budget["A1"].value == "Report Scheme"
    assert [c.value for c in budget[4]][:2] == ["Committed to interns who accepted", 80_000]
    assert isinstance(budget["B4"].value, int) and budget["C4"].number_format == "0.0%"
    first_timers = workbook["First-timers"]
    assert [c.value for c in first_timers[4]] == ["First-timers", 5, 2, 0.4, 0.6667]
    unplaced = workbook[workbook.sheetnames[-1]]
    assert [c.value for c in unplaced[4]] == ["A regional cap was reached", 1]


def test_the_api_gives_the_same_figures_as_json_csv_and_xlsx(client, session):
    scheme, _shenzhen, _beijing = season(session)
    sign_in_as(client, session, make_user(session, Role.ADMIN))
    body = client.get(f"/api/v1/reports?scheme_id={scheme.id}").json()
    choices = next(t for t in body["tables"] if t["key"] == "choices")
    assert choices["rows"] == [{"choice": "Choice 1", "interns": 2, "share": 0.6667},
                               {"choice": "Choice 2", "interns": 1, "share": 0.3333}]
    assert client.get(f"/api/v1/reports/csv?scheme_id={scheme.id}&table=sectors").content.startswith(b"\xef\xbb\xbf")
    assert load_workbook(io.BytesIO(client.get(f"/api/v1/reports/xlsx?scheme_id={scheme.id}").content))
    assert client.get(f"/api/v1/reports/csv?scheme_id={scheme.id}&table=nonsense").status_code == 404


def test_applicants_and_ngos_cannot_read_reports(client, session):
    scheme, _shenzhen, _beijing = season(session)
    sign_in_as(client, session, make_user(session, Role.APPLICANT))
    assert client.get(f"/staff/reports?scheme={scheme.id}").status_code == 403


def test_a_programme_for_both_sides_reports_participants_by_origin_and_each_cohorts_seats_per_side(client, session):
    scheme = make_scheme(session, name_en="Palace Museum programme", name_zh="故宮博物院實習計劃",
                         kind="thematic_programme", host_institution_en="the Palace Museum", host_institution_zh="故宮博物院",
                         admitted_origins=["hong_kong", "guangdong"])
    host = make_organisation(session, name_en="Palace Museum", name_zh="故宮博物院")
    mixed = make_project(session, scheme, host, places=4, city="Beijing", region="Beijing", title_en="Cohort 1",
                         origin_seats={"hong_kong": [2, 2], "guangdong": [2, 2]})
    one_sided = make_project(session, scheme, host, places=4, city="Beijing", region="Beijing", title_en="Cohort 2",
                             origin_seats={"hong_kong": [0, 4], "guangdong": [0, 4]})
    people = [(mixed, "hong_kong", ""), (mixed, "guangdong", "Guangzhou"), (mixed, "guangdong", "Shenzhen"),
              (one_sided, "hong_kong", ""), (None, "guangdong", "Guangzhou")]
    for project, origin, city in people:
        _user, profile = make_applicant(session, origin=origin, guangdong_city=city)
        session.add(Choice(applicant_id=profile.id, project_id=(project or mixed).id, scheme_id=scheme.id, rank=1))
        if project is not None:
            session.add(Placement(scheme_id=scheme.id, project_id=project.id, applicant_id=profile.id,
                                  status=PlacementStatus.ACCEPTED, subsidy_hkd=25_000,
                                  offer_deadline=utcnow() + timedelta(days=7)))
    session.flush()
    sign_in_as(client, session, make_user(session, Role.OFFICER))
    data = client.get(f"/api/v1/reports?scheme_id={scheme.id}").json()
    tables = {t["key"]: t for t in data["tables"]}
    assert [(r["origin"], r["applied"], r["placed"]) for r in tables["origins"]["rows"]] == [
        ("Hong Kong", 2, 2), ("Guangdong: Guangzhou", 2, 1), ("Guangdong: Shenzhen", 1, 1)]
    assert [list(r.values()) for r in tables["cohorts"]["rows"]] == [
        [f"#{mixed.id} Cohort 1", 4, 1, "2 to 2", 2, "2 to 2", "Yes"],
        [f"#{one_sided.id} Cohort 2", 4, 1, "0 to 4", 0, "0 to 4", "No"]]
    page = client.get(f"/staff/reports?scheme={scheme.id}&lang=zh-Hans").text
    assert "按来源地划分的参加者" in page and "广东：广州" in page


def test_an_intern_placed_by_an_officer_without_choosing_counts_for_her_side(client, session):
    """She chose nothing in the programme, yet holds a cohort seat: the seat is Guangdong's, and she is a
    Guangdong participant placed (though not one who applied)."""
    scheme = make_scheme(session, name_en="Wolong programme", name_zh="臥龍實習計劃", kind="thematic_programme",
                         host_institution_en="Wolong reserve", host_institution_zh="臥龍保護區",
                         admitted_origins=["hong_kong", "guangdong"])
    host = make_organisation(session, name_en="Wolong reserve", name_zh="臥龍保護區")
    cohort = make_project(session, scheme, host, places=4, city="Chengdu", region="Sichuan", title_en="Cohort",
                          origin_seats={"hong_kong": [0, 2], "guangdong": [0, 2]})
    _user, chooser = make_applicant(session, origin="hong_kong")
    session.add(Choice(applicant_id=chooser.id, project_id=cohort.id, scheme_id=scheme.id, rank=1))
    _user, placed_by_officer = make_applicant(session, origin="guangdong", guangdong_city="Foshan")
    session.add(Placement(scheme_id=scheme.id, project_id=cohort.id, applicant_id=placed_by_officer.id,
                          status=PlacementStatus.ACCEPTED, subsidy_hkd=0, offer_deadline=utcnow() + timedelta(days=7)))
    session.flush()
    sign_in_as(client, session, make_user(session, Role.OFFICER))
    tables = {t["key"]: t for t in client.get(f"/api/v1/reports?scheme_id={scheme.id}").json()["tables"]}
    assert [(r["origin"], r["applied"], r["placed"]) for r in tables["origins"]["rows"]] == [
        ("Hong Kong", 1, 0), ("Guangdong: Foshan", 0, 1)]
    assert [list(r.values()) for r in tables["cohorts"]["rows"]] == [
        [f"#{cohort.id} Cohort", 4, 0, "0 to 2", 1, "0 to 2", "No"]]
