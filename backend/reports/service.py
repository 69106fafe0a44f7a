"""The figures staff report on for a scheme, as tables: one source for the pages, the charts, CSV and Excel.

"Placed" means an offer accepted (or an internship completed); "offered" an offer still awaiting an answer.
Money is integer HKD. Each table says how its columns are kinds (text, int, hkd, percent) so the page,
the CSV and the workbook can each show a value the right way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from backend.applicants.models import ApplicantProfile, Choice
from backend.core.errors import NotFound
from backend.core.formatting import city_name, origin_name, region_name
from backend.core.i18n import gettext as _
from backend.core.i18n import lazy_gettext, localised
from backend.placements.models import MatchRun, MatchRunStatus, MatchUnplaced, Placement, PlacementStatus
from backend.placements.origins import CHOICE, OFFICER, SUGGESTED, offer_origins
from backend.placements.review import describe_unplaced
from backend.projects import completion
from backend.projects.catalogue import sector_name
from backend.projects.models import CompletionReport, CompletionReportStatus, Project
from backend.schemes.facts import FUNDED_STATUSES, HOLDING_STATUSES, region_caps
from backend.schemes.models import Scheme

PLACED_STATUSES = (PlacementStatus.ACCEPTED, PlacementStatus.COMPLETED, PlacementStatus.LEFT_EARLY,
                   PlacementStatus.NO_SHOW)
TABLES = ("projects", "regions", "sectors", "budget", "choices", "first_timers", "origins", "cohorts", "completion",
          "unplaced")


@dataclass
class Column:
    key: str
    label: str
    kind: str = "int"  # text | int | hkd | percent (a share 0..1)


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    chart: str = "bar"  # bar | doughnut
    chart_series: list[str] = field(default_factory=list)  # column keys drawn; the first column is the label
    empty: str = ""  # what a download shows for a figure with nothing to measure yet

    def as_dicts(self) -> list[dict]:
        return [dict(zip([c.key for c in self.columns], row, strict=True)) for row in self.rows]


@dataclass
class SchemeReport:
    scheme: Scheme
    tables: list[Table]

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise NotFound(_("There is no such report table."))


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _counts_by_project(session: Session, scheme_id: int) -> tuple[dict[int, int], dict[int, int]]:
    rows = session.exec(select(Placement.project_id, Placement.status, func.count())
                        .where(Placement.scheme_id == scheme_id)
                        .group_by(Placement.project_id, Placement.status)).all()
    placed: Counter = Counter()
    offered: Counter = Counter()
    for project_id, status, n in rows:
        if status in PLACED_STATUSES:
            placed[project_id] += int(n)
        elif status == PlacementStatus.OFFERED:
            offered[project_id] += int(n)
    return placed, offered


def build(session: Session, scheme: Scheme) -> SchemeReport:
    projects = list(session.exec(select(Project).where(Project.scheme_id == scheme.id,
                                                       col(Project.status).in_(FUNDED_STATUSES))
                                 .order_by(col(Project.id))))
    placed, offered = _counts_by_project(session, scheme.id)
    caps = region_caps(session, scheme.id)

    by_project = Table("projects", _("Fill rate by project"), [
        Column("project", _("Project"), "text"), Column("region", _("Region"), "text"),
        Column("places", _("Places")), Column("placed", _("Placed")), Column("offered", _("Offered, awaiting answer")),
        Column("fill_rate", _("Fill rate"), "percent")], chart_series=["fill_rate"])
    regions: dict[str, list[int]] = {}
    sectors: dict[str, list[int]] = {}
    for p in projects:
        places = p.places_granted or 0
        by_project.rows.append([f"#{p.id} {localised(p, 'title')}", region_name(p.region), places,
                                placed[p.id], offered[p.id], _share(placed[p.id], places)])
        for bucket, key in ((regions, p.region), (sectors, p.sector)):
            entry = bucket.setdefault(key, [0, 0, 0])
            entry[0] += places
            entry[1] += placed[p.id]
            entry[2] += offered[p.id]

    by_region = Table("regions", _("Fill rate by region"), [
        Column("region", _("Region"), "text"), Column("places", _("Places")), Column("placed", _("Placed")),
        Column("offered", _("Offered, awaiting answer")), Column("cap", _("Regional cap")),
        Column("fill_rate", _("Fill rate"), "percent")], chart_series=["places", "placed"])
    for region, (places, n_placed, n_offered) in sorted(regions.items(), key=lambda kv: (-kv[1][0], kv[0])):
        by_region.rows.append([region_name(region), places, n_placed, n_offered, caps.get(region),
                               _share(n_placed, places)])

    by_sector = Table("sectors", _("Fill rate by sector"), [
        Column("sector", _("Sector"), "text"), Column("places", _("Places")), Column("placed", _("Placed")),
        Column("offered", _("Offered, awaiting answer")), Column("fill_rate", _("Fill rate"), "percent")],
        chart_series=["places", "placed"])
    for sector, (places, n_placed, n_offered) in sorted(sectors.items(), key=lambda kv: (-kv[1][0], kv[0])):
        by_sector.rows.append([sector_name(sector), places, n_placed, n_offered, _share(n_placed, places)])

    money = dict(session.exec(select(Placement.status, func.coalesce(func.sum(Placement.subsidy_hkd), 0))
                              .where(Placement.scheme_id == scheme.id).group_by(Placement.status)).all())
    accepted_hkd = sum(int(money.get(s, 0)) for s in PLACED_STATUSES)
    offered_hkd = int(money.get(PlacementStatus.OFFERED, 0))
    committed = sum(int(money.get(s, 0)) for s in HOLDING_STATUSES)
    budget = Table("budget", _("Budget"), [Column("item", _("Item"), "text"), Column("amount", _("Amount (HK$)"), "hkd"),
                                          Column("share", _("Share of the budget"), "percent")],
                   chart="doughnut", chart_series=["amount"])
    budget.rows = [
        [_("Committed to interns who accepted"), accepted_hkd, _share(accepted_hkd, scheme.budget_hkd)],
        [_("Committed to offers awaiting an answer"), offered_hkd, _share(offered_hkd, scheme.budget_hkd)],
        [_("Left"), scheme.budget_hkd - committed, _share(scheme.budget_hkd - committed, scheme.budget_hkd)],
    ]

    holding = list(session.exec(select(Placement).where(Placement.scheme_id == scheme.id,
                                                        col(Placement.status).in_(PLACED_STATUSES))))
    # One of her ranked choices by its rank; an officer's placement on a project she never chose, and a
    # suggestion, each apart: neither is a ranked choice, nor one another.
    how = offer_origins(session, holding)
    ranks = Counter(o.rank if o.kind == CHOICE else o.kind for o in how.values())
    choices = Table("choices", _("Placed interns by the choice they got"), [
        Column("choice", _("Choice"), "text"), Column("interns", _("Interns")), Column("share", _("Share"), "percent")],
        chart_series=["interns"])
    labels = {OFFICER: _("Placed by an officer (not among their choices)"),
              SUGGESTED: _("Suggested (not among their choices)")}
    for rank in sorted(ranks, key=lambda r: (0, r, "") if isinstance(r, int) else (1, 0, r)):
        label = labels[rank] if rank in labels else _("Choice %(n)s", n=rank)
        choices.rows.append([label, ranks[rank], _share(ranks[rank], len(holding))])

    applied = session.exec(select(ApplicantProfile).where(col(ApplicantProfile.id).in_(
        select(Choice.applicant_id).where(Choice.scheme_id == scheme.id)))).all()
    placed_ids = {p.applicant_id for p in holding}
    first_timers = Table("first_timers", _("First-timers"), [
        Column("group", _("Group"), "text"), Column("applied", _("Applied")), Column("placed", _("Placed")),
        Column("placed_share", _("Share placed"), "percent"), Column("share_of_interns", _("Share of interns"),
                                                                      "percent")],
        chart_series=["applied", "placed"])
    for label, wanted in ((_("First-timers"), True), (_("Joined before"), False)):
        group = [p for p in applied if p.first_timer == wanted]
        n_placed = sum(1 for p in group if p.id in placed_ids)
        first_timers.rows.append([label, len(group), n_placed, _share(n_placed, len(group)),
                                  _share(n_placed, len(placed_ids))])

    unplaced = Table("unplaced", _("Why applicants were not placed (latest round)"), [
        Column("reason", _("Reason"), "text"), Column("applicants", _("Applicants"))], chart_series=["applicants"])
    latest = session.exec(select(MatchRun).where(MatchRun.scheme_id == scheme.id,
                                                 MatchRun.status == MatchRunStatus.SUCCEEDED)
                          .order_by(col(MatchRun.id).desc()).options(defer(MatchRun.input_snapshot))).first()
    if latest is not None:
        reasons = session.exec(select(MatchUnplaced.reason_code, func.count()).where(MatchUnplaced.run_id == latest.id)
                               .group_by(MatchUnplaced.reason_code)).all()
        for code, n in sorted(reasons, key=lambda r: (-int(r[1]), r[0])):
            unplaced.rows.append([reason_label(code), int(n)])
    return SchemeReport(scheme, [by_project, by_region, by_sector, budget, choices, first_timers,
                                 *_origin_tables(session, scheme, projects, applied, holding, placed_ids),
                                 _completion_table(session, scheme), unplaced])


def _origin_tables(session: Session, scheme: Scheme, projects: list[Project], applied: list[ApplicantProfile],
                   holding: list[Placement], placed_ids: set[int]) -> list[Table]:
    """For a programme admitting both sides: participants by where they come from (Guangdong by city), and for
    projects with seats per origin (a thematic programme's cohorts) the seats each side filled against its
    quota and whether the cohort mixed. A programme for one side has nothing to compare."""
    if len(scheme.admitted_origins) < 2:
        return []
    origins = Table("origins", _("Participants by where they come from"), [
        Column("origin", _("From"), "text"), Column("applied", _("Applied")), Column("placed", _("Placed")),
        Column("share_of_interns", _("Share of interns"), "percent")], chart_series=["applied", "placed"])
    # An officer may place someone who chose nothing here: she holds a seat for her side all the same.
    applied_ids = {p.id for p in applied}
    placed_without_choosing = placed_ids - applied_ids
    people = [*applied, *(session.exec(select(ApplicantProfile).where(
        col(ApplicantProfile.id).in_(placed_without_choosing))).all() if placed_without_choosing else [])]
    groups: dict[tuple[str, str], list[ApplicantProfile]] = {}
    for profile in people:
        city = profile.guangdong_city if profile.origin == "guangdong" else ""
        groups.setdefault((profile.origin, city), []).append(profile)
    for (origin, city), group in sorted(groups.items(), key=lambda kv: (kv[0][0] != "hong_kong", kv[0])):
        label = origin_name(origin) if origin else _("Not declared")
        if city:
            label = _("%(side)s: %(city)s", side=label, city=city_name(city))
        n_applied = sum(1 for p in group if p.id in applied_ids)
        n_placed = sum(1 for p in group if p.id in placed_ids)
        origins.rows.append([label, n_applied, n_placed, _share(n_placed, len(placed_ids))])

    cohorts = Table("cohorts", _("Seats per side in each cohort"), [
        Column("project", _("Project"), "text"), Column("places", _("Places")),
        *[column for origin in scheme.admitted_origins for column in (
            Column(f"{origin}_placed", _("Placed from %(side)s", side=origin_name(origin))),
            Column(f"{origin}_quota", _("Quota for %(side)s", side=origin_name(origin)), "text"))],
        Column("mixed", _("Both sides together"), "text")],
        chart_series=[f"{origin}_placed" for origin in scheme.admitted_origins])
    origin_of = {p.id: p.origin for p in people}
    by_project: dict[int, Counter] = {}
    for placement in holding:
        by_project.setdefault(placement.project_id, Counter())[origin_of.get(placement.applicant_id, "")] += 1
    for project in projects:
        if not project.origin_seats:
            continue
        filled = by_project.get(project.id, Counter())
        row = [f"#{project.id} {localised(project, 'title')}", project.places_granted or 0]
        for origin in scheme.admitted_origins:
            fewest, most = project.origin_seats.get(origin, (0, project.places_granted or 0))
            row += [filled[origin], _("%(fewest)s to %(most)s", fewest=fewest, most=most)]
        mixed = sum(1 for origin in scheme.admitted_origins if filled[origin]) > 1
        row.append(_("Yes") if mixed else _("No"))
        cohorts.rows.append(row)
    return [origins, cohorts]


def _completion_table(session: Session, scheme: Scheme) -> Table:
    """Each completion report sent to staff: its figures, counted from the interns' outcomes, and its evaluation."""
    table = Table("completion", _("Completion reports"), [
        Column("project", _("Project"), "text"), Column("report", _("Report"), "text"),
        Column("interns", _("Interns")), Column("completed", _("Completed")), Column("left_early", _("Left early")),
        Column("no_show", _("Did not show")), Column("completion_rate", _("Completion rate"), "percent"),
        Column("evaluation", _("Evaluation"), "text")], chart_series=["completed", "left_early", "no_show"])
    reports = session.exec(select(Project, CompletionReport).join(CompletionReport,
                                                                   col(CompletionReport.project_id) == Project.id)
                           .where(Project.scheme_id == scheme.id,
                                  CompletionReport.status != CompletionReportStatus.DRAFT)
                           .order_by(col(Project.id))).all()
    counts: Counter = Counter()
    if reports:
        for project_id, status, n in session.exec(
                select(Placement.project_id, Placement.status, func.count())
                .where(col(Placement.project_id).in_([p.id for p, _r in reports]),
                       col(Placement.status).in_(PLACED_STATUSES))
                .group_by(Placement.project_id, Placement.status)).all():
            counts[(project_id, status)] = int(n)
    for project, report in reports:
        by = [counts[(project.id, s)] for s in PLACED_STATUSES]
        interns = sum(by)
        completed = counts[(project.id, PlacementStatus.COMPLETED)]
        table.rows.append([f"#{project.id} {localised(project, 'title')}", str(completion.STATUS_NAMES[report.status]),
                           interns, completed, counts[(project.id, PlacementStatus.LEFT_EARLY)],
                           counts[(project.id, PlacementStatus.NO_SHOW)], _share(completed, interns),
                           report.evaluation])
    return table



REASON_LABELS = {
    "ineligible": lazy_gettext("Not eligible for any project considered"),
    "no_choices": lazy_gettext("No valid choices"),
    "budget_exhausted": lazy_gettext("The budget ran out"),
    "regional_cap_exhausted": lazy_gettext("A regional cap was reached"),
    "origin_seats_full": lazy_gettext("The seats for their side (Hong Kong or Guangdong) were taken"),
    "outcompeted": lazy_gettext("Places went to other applicants"),
    "excluded": lazy_gettext("Excluded by an officer"),
    "not_selected": lazy_gettext("Eligible but not selected"),
}


def reason_label(code: str) -> str:
    label = REASON_LABELS.get(code)
    return str(label) if label is not None else describe_unplaced(code, {})


def scheme_for(session: Session, scheme_id: int | None) -> Scheme:
    """The scheme asked for, else the newest one."""
    if scheme_id:
        scheme = session.get(Scheme, scheme_id)
    else:
        scheme = session.exec(select(Scheme).order_by(col(Scheme.id).desc())).first()
    if scheme is None:
        raise NotFound(_("We could not find that scheme."))
    return scheme
