"""The public catalogue of open projects: search, filters, paging and the detail page, without signing in."""

import re
from datetime import date

import pytest

from backend.projects.models import ProjectStatus
from tests.factories import make_project


def titles(html: str) -> list[str]:
    return re.findall(r'<a class="govuk-link" href="/projects/\d+"[^>]*>([^<]+)</a>', html)


def listed(client, query: str = "", lang: str = "en") -> list[str]:
    page = client.get(f"/projects?lang={lang}&{query}")
    assert page.status_code == 200, page.text
    return titles(page.text)


@pytest.fixture
def catalogue(session, scheme):
    """Four open projects across the Mainland, plus projects the public must never see."""
    projects = dict(
        data=make_project(session, scheme, title_en="Data analytics intern", title_zh="數據分析實習生",
                          city="Shenzhen", region="Guangdong", sector="technology", places=12,
                          start_date=date(2027, 7, 5), end_date=date(2027, 8, 13), languages={"putonghua": 3}),
        museum=make_project(session, scheme, title_en="Museum guide", title_zh="博物館導賞員",
                            description_en="Guide visitors around the Palace Museum.",
                            description_zh="帶領訪客參觀故宮博物院。", host_organisation_en="Palace Museum",
                            host_organisation_zh="故宮博物院", city="Beijing", region="Beijing",
                            sector="heritage and museums", places=4, start_date=date(2027, 6, 1),
                            end_date=date(2027, 7, 9), languages={"putonghua": 4, "english": 3}),
        zhuhai=make_project(session, scheme, title_en="Port logistics trainee", title_zh="港口物流見習生",
                            description_en="Plan container flows.", description_zh="規劃貨櫃流程。",
                            host_organisation_en="Zhuhai Port", host_organisation_zh="珠海港",
                            city="Zhuhai", region="Guangdong", sector="logistics", places=30,
                            start_date=date(2027, 6, 14), end_date=date(2027, 7, 23), languages={}),
        shantou=make_project(session, scheme, title_en="Ceramics workshop assistant", title_zh="陶瓷工作坊助理",
                             description_en="Help in a ceramics workshop.", description_zh="在陶瓷工作坊協助。",
                             host_organisation_en="Shantou Crafts", host_organisation_zh="汕頭工藝",
                             city="Shantou", region="Guangdong", sector="manufacturing", places=8,
                             start_date=date(2027, 7, 19), end_date=date(2027, 8, 27), languages={"english": 2}),
    )
    hidden = dict(
        draft=make_project(session, scheme, title_en="Secret draft internship", status=ProjectStatus.DRAFT),
        rejected=make_project(session, scheme, title_en="Rejected internship", status=ProjectStatus.REJECTED),
        submitted=make_project(session, scheme, title_en="Submitted internship", status=ProjectStatus.SUBMITTED),
        closed=make_project(session, scheme, title_en="Closed internship", status=ProjectStatus.CLOSED),
    )
    return projects, hidden


def test_anyone_can_browse_open_projects_without_signing_in(client, catalogue):
    page = client.get("/projects?lang=en")

    assert page.status_code == 200
    assert "4 projects found" in page.text
    assert listed(client) == ["Museum guide", "Port logistics trainee", "Data analytics intern",
                              "Ceramics workshop assistant"], "earliest start first by default"


def test_drafts_rejected_submitted_and_closed_projects_are_not_listed(client, catalogue):
    shown = listed(client)
    for title in ("Secret draft internship", "Rejected internship", "Submitted internship", "Closed internship"):
        assert title not in shown


def test_search_finds_chinese_text_inside_a_sentence(client, catalogue):
    assert listed(client, "q=數據") == ["Data analytics intern"]
    assert listed(client, "q=故宮") == ["Museum guide"], "Chinese description and host are searched"


def test_search_finds_english_words_whatever_their_case(client, catalogue):
    assert listed(client, "q=DATA") == ["Data analytics intern"]
    assert listed(client, "q=palace+museum") == ["Museum guide"]
    assert listed(client, "q=port+PLAN") == ["Port logistics trainee"], "every word must match"


def test_search_finds_chinese_place_and_sector_names(client, catalogue):
    assert listed(client, "q=珠海") == ["Port logistics trainee"]
    assert listed(client, "q=製造業") == ["Ceramics workshop assistant"], "the sector named in Chinese"


def test_search_treats_like_wildcards_as_ordinary_characters(client, catalogue):
    assert listed(client, "q=%25") == []
    assert listed(client, "q=_") == []


def test_filter_by_region_and_city(client, catalogue):
    assert listed(client, "region=Beijing") == ["Museum guide"]
    assert set(listed(client, "region=Guangdong")) == {"Port logistics trainee", "Data analytics intern",
                                                        "Ceramics workshop assistant"}
    assert listed(client, "city=Zhuhai") == ["Port logistics trainee"]


def test_greater_bay_area_only_leaves_out_guangdong_cities_outside_it(client, catalogue):
    assert listed(client, "gba=1") == ["Port logistics trainee", "Data analytics intern"]


def test_filter_by_sector(client, catalogue):
    assert listed(client, "sector=manufacturing") == ["Ceramics workshop assistant"]


def test_filter_by_dates(client, catalogue):
    assert listed(client, "starts_from=2027-07-01") == ["Data analytics intern", "Ceramics workshop assistant"]
    assert listed(client, "ends_by=2027-07-23") == ["Museum guide", "Port logistics trainee"]
    assert listed(client, "starts_from=2027-06-10&ends_by=2027-08-20") == ["Port logistics trainee",
                                                                          "Data analytics intern"]


def test_filter_by_language_requirements(client, catalogue):
    assert listed(client, "max_putonghua=0") == ["Port logistics trainee", "Ceramics workshop assistant"]
    assert listed(client, "max_putonghua=3") == ["Port logistics trainee", "Data analytics intern",
                                                 "Ceramics workshop assistant"]
    assert listed(client, "english=required") == ["Museum guide", "Ceramics workshop assistant"]
    assert listed(client, "english=not_required") == ["Port logistics trainee", "Data analytics intern"]


def test_combined_filters_narrow_together(client, catalogue):
    assert listed(client, "region=Guangdong&english=not_required&max_putonghua=0") == ["Port logistics trainee"]
    assert listed(client, "gba=1&q=數據&sector=technology") == ["Data analytics intern"]
    assert listed(client, "gba=1&sector=manufacturing") == []


def test_no_results_says_so_and_offers_all_projects(client, catalogue):
    html = client.get("/projects?lang=en&q=astronaut").text
    assert "0 projects found" in html
    assert "No open projects match these filters." in html


def test_sort_by_places_and_by_title_in_the_page_language(client, catalogue):
    assert listed(client, "sort=places") == ["Port logistics trainee", "Data analytics intern",
                                             "Ceramics workshop assistant", "Museum guide"]
    assert listed(client, "sort=title") == ["Ceramics workshop assistant", "Data analytics intern",
                                            "Museum guide", "Port logistics trainee"]
    assert len(listed(client, "sort=title", lang="zh-Hant")) == 4


def test_pages_of_twenty_with_links_that_keep_the_filters(client, session, scheme):
    for n in range(45):
        make_project(session, scheme, title_en=f"Intern {n:02d}", start_date=date(2027, 6, 1 + n % 28),
                     end_date=date(2027, 8, 31))

    first = client.get("/projects?lang=en&region=Guangdong").text
    assert "45 projects found" in first and len(titles(first)) == 20
    assert 'class="govuk-pagination"' in first
    assert 'href="/projects?region=Guangdong&amp;page=2" rel="next"' in first

    third = client.get("/projects?lang=en&region=Guangdong&page=3").text
    assert len(titles(third)) == 5
    assert 'aria-current="page">3<' in third
    assert "Showing 41 to 45 of 45" in third
    all_titles = set(titles(first)) | set(titles(client.get("/projects?region=Guangdong&page=2").text)) \
        | set(titles(third))
    assert len(all_titles) == 45, "every project appears on exactly one page"

    beyond = client.get("/projects?lang=en&region=Guangdong&page=99")
    assert beyond.status_code == 200 and len(titles(beyond.text)) == 5, "a page past the end shows the last"


def test_the_form_keeps_the_chosen_filters(client, catalogue):
    html = client.get("/projects?lang=en&q=data&region=Guangdong&gba=1&sort=places&english=required").text
    assert 'name="q" type="search" value="data"' in html
    assert '<option value="Guangdong" selected>' in html
    assert 'id="gba" name="gba" type="checkbox" value="1" checked' in html
    assert '<option value="places" selected>' in html
    assert '<option value="required" selected>' in html


def test_a_bad_date_gets_a_specific_message_in_english(client, catalogue):
    page = client.get("/projects?lang=en&starts_from=2027-13-45&region=Beijing")

    assert page.status_code == 400
    assert "There is a problem with the filters" in page.text
    assert "Enter the earliest start date as a real date, like" in page.text
    assert 'href="#starts_from-day"' in page.text
    assert titles(page.text) == ["Museum guide"], "the filters that could be used still apply"


def test_a_bad_date_gets_a_specific_message_in_chinese(client, catalogue):
    page = client.get("/projects?lang=zh-Hant&ends_by=tomorrow")

    assert page.status_code == 400
    assert "篩選條件有問題" in page.text
    assert "請以有效日期輸入最遲結束日期" in page.text


def test_dates_in_the_wrong_order_and_unknown_choices_are_explained(client, catalogue):
    html = client.get("/projects?lang=en&starts_from=2027-08-01&ends_by=2027-07-01&region=Atlantis&sort=x").text
    assert "The latest end date must be on or after the earliest start date." in html
    assert "Choose a region from the list." in html
    assert "Choose how to sort the projects from the list." in html


def test_each_result_shows_what_a_young_person_needs_in_english(client, catalogue):
    html = client.get("/projects?lang=en&q=museum").text
    assert "Palace Museum" in html
    assert "Beijing" in html and "Beijing, Beijing" not in html, "a city that is its own region is named once"
    assert "1 June 2027 to 9 July 2027 (6 weeks)" in html
    assert "Putonghua: fluent or better (level 4 of 5)" in html
    assert "English: conversational or better (level 3 of 5)" in html


def test_each_result_in_chinese_shows_place_names_and_the_greater_bay_area_in_chinese(client, catalogue):
    html = client.get("/projects?lang=zh-Hant&city=Shenzhen").text
    assert "數據分析實習生" in html
    assert "廣東深圳" in html and "大灣區" in html
    assert "2027年7月5日至2027年8月13日" in html and "6 星期" in html
    assert "普通話：日常會話或以上（第 3 級，共 5 級）" in html


def test_a_missing_chinese_title_falls_back_to_english_marked_as_english(client, session, scheme):
    make_project(session, scheme, title_en="English only internship", title_zh="")
    html = client.get("/projects?lang=zh-Hant").text
    assert re.search(r'lang="en">English only internship<', html)


def test_detail_page_in_english(client, catalogue):
    museum = catalogue[0]["museum"]
    page = client.get(f"/projects/{museum.id}?lang=en")

    assert page.status_code == 200
    html = page.text
    assert "<h1" in html and "Museum guide" in html
    assert "Guide visitors around the Palace Museum." in html
    assert "HK$25,000" in html, "cost per place covered by the scheme, formatted"
    assert "Heritage and museums" in html
    assert "Putonghua: fluent or better (level 4 of 5)" in html
    assert "Secondary school or above" in html
    assert "18 to 29 years old" in html
    assert "Funding Scheme for Youth Internship in the Mainland 2027" in html
    assert "Applications open 1 November 2026 and close 31 March 2027." in html
    assert re.search(r'<div lang="zh-Hant">\s*<h3 class="govuk-heading-s">博物館導賞員</h3>', html), \
        "the Chinese text is offered too, marked as Chinese"


def test_detail_page_in_chinese(client, catalogue):
    data = catalogue[0]["data"]
    html = client.get(f"/projects/{data.id}?lang=zh-Hant").text

    assert "數據分析實習生" in html
    assert "HK$25,000" in html
    assert "計劃資助每個名額的費用" in html
    assert "廣東深圳" in html and "大灣區" in html
    assert "普通話：日常會話或以上（第 3 級，共 5 級）" in html
    assert "中學或以上" in html
    assert "科技" in html
    assert re.search(r'<div lang="en">\s*<h3 class="govuk-heading-s">Data analytics intern</h3>', html)


def test_a_closed_project_still_has_a_public_page_saying_it_is_closed(client, catalogue):
    closed = catalogue[1]["closed"]
    page = client.get(f"/projects/{closed.id}?lang=en")
    assert page.status_code == 200
    assert "This project is no longer taking applications." in page.text


@pytest.mark.parametrize("status", ["draft", "rejected", "submitted"])
def test_unpublished_projects_are_not_found_for_the_public(client, catalogue, status):
    hidden = catalogue[1][status]
    page = client.get(f"/projects/{hidden.id}?lang=en")
    assert page.status_code == 404
    assert "Page not found" in page.text
    assert hidden.title_en not in page.text


def test_the_home_page_links_to_the_catalogue(client):
    html = client.get("/?lang=en").text
    assert re.search(r'<a href="/projects"[^>]*class="govuk-button govuk-button--start"', html)
    assert "Browse internships" in html


def test_the_date_filters_read_the_day_month_and_year_boxes(client, catalogue):
    boxes = "starts_from-day=1&starts_from-month=7&starts_from-year=2027"
    assert listed(client, boxes) == listed(client, "starts_from=2027-07-01")
    page = client.get("/projects?lang=en&ends_by-day=31&ends_by-month=2&ends_by-year=2027")
    assert page.status_code == 400
    assert f"like 1 7 {date.today().year + 1}" in page.text and 'value="31"' in page.text
