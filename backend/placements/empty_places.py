"""Why a round left places empty, project by project, in the reader's language.

The matcher judges each project with places left empty on the round's final result and gives the first reason
that applies (`matching.explain.EMPTY_SEAT_REASONS`, docs/matching.md "Empty seats"); the worker stores that list
with the round's figures. This module only words it and pages it for the round page's "Empty places" tab.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.core.formatting import hkd, origin_name, region_name
from backend.core.i18n import gettext as _
from backend.core.i18n import is_chinese, lazy_gettext, localised
from backend.placements.models import MatchRun
from backend.projects.models import Project

REASON_NAMES = {
    "no_applicant": lazy_gettext("No eligible applicant listed it"),
    "all_placed_higher": lazy_gettext("Everyone who listed it got a project they ranked higher"),
    "origin_seats": lazy_gettext("Places kept for one side"),
    "budget": lazy_gettext("The budget ran out"),
    "regional_cap": lazy_gettext("The regional cap was reached"),
    "rationed": lazy_gettext("Places cut to keep the budget or a cap"),
    "placed_elsewhere": lazy_gettext("Those who wanted it were placed elsewhere"),
    "not_selected": lazy_gettext("Applicants who wanted it were not placed"),
}


def reason_name(code: str) -> str:
    return str(REASON_NAMES.get(code, code))


def reason_words(row: dict) -> str:
    """One sentence saying why this project's places stayed empty, with the figures behind it."""
    code = row.get("reason", "")
    if code == "no_applicant":
        return _("No applicant who meets its requirements had it among her choices or suggestions.")
    if code == "all_placed_higher":
        return _("All %(num)s eligible applicants who listed it were placed on projects they ranked higher.",
                 num=row.get("eligible", 0))
    if code == "origin_seats":
        kept = row.get("reserved_empty") or {}
        separator = "、" if is_chinese() else ", "
        return _("The places left are kept for applicants from %(sides)s, and none who wanted it could take them.",
                 sides=separator.join(origin_name(o) for o in sorted(kept)) or _("one side"))
    if code == "budget":
        return _("The budget left, %(left)s, cannot pay for another place at %(cost)s.",
                 left=hkd(row.get("budget_left_hkd", 0)), cost=hkd(row.get("subsidy_per_place", 0)))
    if code == "regional_cap":
        return _("The %(region)s cap of %(cap)s places has been reached.",
                 region=region_name(row.get("region", "")), cap=row.get("cap", 0))
    if code == "rationed":
        return _("Its places were cut to keep within the budget or a regional cap (%(num)s applicants wanted it).",
                 num=row.get("wanting", 0))
    if code == "placed_elsewhere":
        return _("The %(num)s applicants who wanted it more were placed on projects they ranked lower, which the "
                 "matcher valued more.", num=row.get("wanting", 0))
    if code == "not_selected":
        return _("%(num)s applicants who wanted it and could take a place were not placed.", num=row.get("wanting", 0))
    return code


@dataclass(frozen=True)
class EmptyPlace:
    project_id: int
    title: str
    places: int
    placed: int
    empty: int
    reason: str
    why: str


def reasons(run: MatchRun) -> list[tuple[str, int]]:
    """Each reason with the number of places it left empty, most first."""
    counted: Counter = Counter()
    for row in (run.figures or {}).get("empty_seats") or []:
        counted[row.get("reason", "")] += int(row.get("empty", 0))
    return counted.most_common()


def empty_places(db: Session, run: MatchRun, *, reason: str = "", search: str = "") -> list[EmptyPlace]:
    """The round's projects with places left empty (for one reason, or matching a number or words of the title,
    if given), most empty first."""
    rows = [row for row in (run.figures or {}).get("empty_seats") or [] if not reason or row.get("reason") == reason]
    ids = [int(row["project_id"]) for row in rows]
    titles = {p.id: localised(p, "title") for p in db.exec(select(Project).where(col(Project.id).in_(ids)))} \
        if ids else {}
    found = [EmptyPlace(int(row["project_id"]), titles.get(int(row["project_id"]), ""), int(row.get("places", 0)),
                        int(row.get("placed", 0)), int(row.get("empty", 0)), row.get("reason", ""), reason_words(row))
             for row in rows]
    words = search.strip().lstrip("#").lower()
    if words:
        found = [e for e in found if (words.isdigit() and int(words) == e.project_id) or words in e.title.lower()]
    return sorted(found, key=lambda e: (-e.empty, e.project_id))
