"""The track record report: every organisation's record across schemes and years, as one table with a chart.

The figures come from `organisations.track_record`; this only lays them out for the page, CSV and Excel.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from backend.core.i18n import gettext as _
from backend.core.i18n import localised
from backend.organisations.models import Organisation
from backend.organisations.track_record import track_record
from backend.reports.service import Column, Table


def none_yet() -> str:
    return _("none yet")


def build(session: Session) -> Table:
    """One row per organisation with any history, the most places filled first."""
    organisations = {o.id: o for o in session.exec(select(Organisation).order_by(col(Organisation.id)))}
    records = track_record(session, organisations)
    table = Table("track_record", _("Organisations' track record"), [
        Column("organisation", _("Organisation"), "text"), Column("schemes", _("Schemes")),
        Column("projects_funded", _("Projects funded")), Column("places_granted", _("Places granted")),
        Column("places_filled", _("Places filled")), Column("completed", _("Completed")),
        Column("completion_rate", _("Completion rate"), "percent"), Column("no_shows", _("Did not show")),
        Column("left_early", _("Left early")), Column("confirmations", _("Allowance confirmations")),
        Column("mismatches", _("Allowance mismatches")), Column("survey_score", _("Survey score (out of 5)"), "score"),
        Column("complaints_upheld", _("Complaints upheld"))],
        chart_series=["completion_rate"], empty=none_yet())
    shown = [r for r in records.values() if r.has_history]
    shown.sort(key=lambda r: (-r.places_filled, -r.projects_funded, r.organisation_id))
    for r in shown:
        table.rows.append([localised(organisations[r.organisation_id], "name"), r.schemes, r.projects_funded,
                           r.places_granted, r.places_filled, r.completed, r.completion_rate, r.no_shows, r.left_early,
                           r.confirmations, r.mismatches, r.survey_score, r.complaints_upheld])
    return table
