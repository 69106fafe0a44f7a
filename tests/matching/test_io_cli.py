"""Interchange files and the CLI: row-level errors, atomic outputs, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matching.cli import main
from matching.io import (
    format_applicants,
    format_projects,
    format_scheme,
    parse_applicants,
    parse_projects,
    parse_scheme,
)
from matching.synthetic import generate, generate_rankings, write_csv
from tests.matching.matchkit import applicant, project, scheme


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    projects, applicants, sch = generate(n_projects=10, n_applicants=500, seed=4)
    paths = write_csv(d, projects, applicants, sch, generate_rankings(projects, applicants))
    return d, paths


def run(paths, out: Path, *extra: str) -> int:
    return main(["--projects", str(paths["projects"]), "--applicants", str(paths["applicants"]),
                 "--scheme", str(paths["scheme"]), "--out", str(out / "placements.csv"),
                 "--unplaced", str(out / "unplaced.csv"), "--report", str(out / "report.json"),
                 "--quiet", *extra])


def test_bad_date_error_names_file_line_and_column():
    text = format_applicants([applicant("A1"), applicant("A2")]).splitlines()
    text[2] = text[2].replace("2003-01-01", "1999-02-30")
    rows, errors = parse_applicants("\n".join(text) + "\n")
    assert [a.id for a in rows] == ["A1"]
    (err,) = errors
    assert (err.line, err.column, err.code) == (3, "date_of_birth", "invalid_date")
    assert str(err) == ("applicants.csv line 3, column date_of_birth: '1999-02-30' is not a "
                        "valid date (YYYY-MM-DD)")


def test_all_row_errors_are_collected_not_just_the_first():
    lines = format_applicants([applicant(f"A{k}") for k in range(4)]).splitlines()
    lines[1] = lines[1].replace(",hong_kong,", ",macao,", 1)
    lines[3] = lines[3].replace("bachelor", "phd")
    lines[4] = lines[4].replace("A3", "A0", 1)
    rows, errors = parse_applicants("\n".join(lines) + "\n")
    found = {(e.line, e.column, e.code) for e in errors}
    assert (2, "origin", "invalid_origin") in found
    assert (4, "education", "invalid_education") in found
    assert (5, "id", "duplicate_id") in found


def test_unknown_choice_is_a_warning_not_an_error():
    rows, errors = parse_applicants(format_applicants([applicant("A1", choices=("P9",))]),
                                    project_ids=["P1"])
    assert len(rows) == 1
    assert [(e.severity, e.code, e.params["project_id"]) for e in errors] == [
        ("warning", "unknown_project", "P9")]


def test_missing_column_and_bad_project_values():
    rows, errors = parse_projects("id,title\nP1,x\n")
    assert rows == [] and {e.column for e in errors} >= {"region", "places"}
    assert all(e.line == 1 for e in errors)
    scheme, errs = parse_scheme('{"name": "x", "budget_hkd": 1.5}')
    assert scheme is None and errs[0].column == "budget_hkd"


def test_cli_rejects_bad_file_with_exit_code_2_and_writes_nothing(instance, tmp_path, capsys):
    _, paths = instance
    bad = tmp_path / "applicants.csv"
    lines = paths["applicants"].read_text(encoding="utf-8").splitlines()
    lines[13] = lines[13].replace(lines[13].split(",")[1], "1999-02-30", 1)
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "placements.csv").write_text("previous run\n")
    code = run({**paths, "applicants": bad}, out)
    assert code == 2
    err = capsys.readouterr().err
    assert "applicants.csv line 14, column date_of_birth: '1999-02-30' is not a valid date" in err
    assert (out / "placements.csv").read_text() == "previous run\n"
    assert sorted(p.name for p in out.iterdir()) == ["placements.csv"]


def test_cli_end_to_end_writes_consistent_outputs(instance, tmp_path):
    _, paths = instance
    assert run(paths, tmp_path) == 0
    placements = (tmp_path / "placements.csv").read_text(encoding="utf-8").splitlines()
    unplaced = (tmp_path / "unplaced.csv").read_text(encoding="utf-8").splitlines()
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert placements[0] == "applicant_id,project_id,score,choice_rank,reasons"
    assert unplaced[0] == "applicant_id,reason"
    assert report["placed"] == len(placements) - 1 == report["places_total"]
    assert report["placed"] + len(unplaced) - 1 == report["applicants"] == 500
    assert report["gap"] is not None and report["gap"] < 0.005
    assert "choice" in placements[1] and "requirements" in placements[1]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize("mode", ["optimal", "stable"])
def test_same_input_gives_byte_identical_output(instance, tmp_path, mode):
    _, paths = instance
    outs = []
    for k in range(2):
        d = tmp_path / f"run{k}"
        d.mkdir()
        extra = ["--mode", mode, "--rankings", str(paths["rankings"]), "--seed", "99"]
        assert run(paths, d, *extra) == 0
        report = json.loads((d / "report.json").read_text())
        report.pop("timings_s")  # wall-clock times are the only varying field
        outs.append(((d / "placements.csv").read_bytes(), (d / "unplaced.csv").read_bytes(),
                     json.dumps(report, sort_keys=True)))
    assert outs[0] == outs[1]


def test_cli_prints_every_input_warning_with_file_line_and_column(tmp_path, capsys):
    """An unknown choice used to be only inside report.json; the console said 'placed 0 of 1' and no more."""
    (tmp_path / "projects.csv").write_text(format_projects([project("P1")]), encoding="utf-8")
    (tmp_path / "applicants.csv").write_text(format_applicants([applicant("A1", choices=("P999",))]),
                                             encoding="utf-8")
    (tmp_path / "scheme.json").write_text(format_scheme(scheme()), encoding="utf-8")
    paths = {name: tmp_path / f"{name}.{'json' if name == 'scheme' else 'csv'}"
             for name in ("projects", "applicants", "scheme")}
    out = tmp_path / "out"
    out.mkdir()
    assert run(paths, out) == 0
    err = capsys.readouterr().err
    assert ("warning: applicants.csv line 2, column choices: choice 'P999' is not a known project id "
            "(ignored)") in err
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["input_warning_count"] == 1
    assert report["input_warnings"] == [
        "applicants.csv line 2, column choices: choice 'P999' is not a known project id (ignored)"]


def test_a_projects_file_names_the_origins_each_project_admits_and_without_the_column_admits_hong_kong():
    mixed = project("P1", origins=("hong_kong", "guangdong"))
    text = format_projects([mixed, project("P2")])
    rows, errors = parse_projects(text)
    assert errors == [] and [p.origins for p in rows] == [("hong_kong", "guangdong"), ("hong_kong",)]
    header, *lines = text.splitlines()
    without = "\n".join([header.replace(",origins,origin_seats", "")] + [line.rsplit(",", 2)[0] for line in lines]) + "\n"
    rows, errors = parse_projects(without)
    assert errors == [] and {p.origins for p in rows} == {("hong_kong",)}
    broken = text.replace("hong_kong;guangdong", "hong_kong;macao")
    rows, errors = parse_projects(broken)
    assert [(e.line, e.column, e.code) for e in errors] == [(2, "origins", "invalid_origin")]
