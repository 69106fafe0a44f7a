"""Synthetic data looks like the Mainland internship scheme and is reproducible."""

from __future__ import annotations

from matching.geography import CITIES, GBA_CITIES, REGIONS
from matching.io import format_applicants, format_projects
from matching.synthetic import generate


def test_demo_scale_shape():
    projects, applicants, sch = generate()
    places = sum(p.places for p in projects)
    gd = sum(p.places for p in projects if p.region == "Guangdong")
    cost = sum(p.places * p.subsidy_per_place for p in projects)
    assert len(projects) == 120 and 3400 <= places <= 3600
    assert 0.25 <= gd / places <= 0.42
    assert 20_000 <= cost / places <= 32_000
    assert all(p.subsidy_per_place % 100 == 0 for p in projects)
    assert all(28 <= (p.end_date - p.start_date).days + 1 <= 56 for p in projects)
    assert 85_000_000 <= sch.budget_hkd <= 100_000_000 and "Guangdong" in sch.region_caps
    assert any("實習" in p.title and "intern" in p.title for p in projects)
    assert 0.5 <= sum(a.open_to_other for a in applicants) / len(applicants) <= 0.7
    assert 0.6 <= sum(a.first_timer for a in applicants) / len(applicants) <= 0.8
    assert any(not a.origin for a in applicants)


def test_same_seed_same_data_and_tight_scheme_binds():
    a = generate(n_projects=20, n_applicants=300, seed=9)
    b = generate(n_projects=20, n_applicants=300, seed=9)
    assert format_projects(a[0]) == format_projects(b[0])
    assert format_applicants(a[1]) == format_applicants(b[1])
    projects, _, tight = generate(n_projects=20, n_applicants=300, seed=9, tight=True)
    assert tight.budget_hkd < sum(p.places * p.subsidy_per_place for p in projects)
    gd = sum(p.places for p in projects if p.region == "Guangdong")
    assert tight.region_caps["Guangdong"] < gd


def test_geography_has_the_nine_gba_cities_and_known_regions():
    assert len(GBA_CITIES) == 9 and all(c.region == "Guangdong" for c in GBA_CITIES)
    names = {r.name_en for r in REGIONS}
    assert all(c.region in names for c in CITIES)
    assert {"Beijing", "Shanghai", "Sichuan", "Guangdong"} <= names
