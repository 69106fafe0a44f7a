"""An NGO's filtered applicants list as a download: UTF-8 CSV with a byte-order mark (so Excel shows Chinese)
and an Excel workbook (openpyxl). Headers and values are in the reader's language; text that a spreadsheet
would run as a formula (starting with =, +, -, @) is written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from backend.applicants.ngo_view import ApplicantRow
from backend.core.i18n import gettext as _

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _table(rows: list[ApplicantRow], words: dict) -> tuple[list[str], list[list]]:
    header = [_("Applicant number"), _("Applicant"), _("Project"), _("Their choice"), _("Your ranking"),
              _("Status"), _("Interview outcome"), _("Education"), _("Date chosen"), _("CV")]
    body = [[r.applicant_id, _safe(r.name), _safe(r.project_title), r.choice_rank, r.ngo_rank,
             words["status_label"](r.status), words["outcome_label"](r.interview_outcome),
             words["education_name"](r.education_level) if r.education_level else "",
             r.chosen_at.date().isoformat(), _("Yes") if r.has_cv else _("No")] for r in rows]
    return header, body


def applicants_csv(rows: list[ApplicantRow], words: dict) -> bytes:
    header, body = _table(rows, words)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in body)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def applicants_xlsx(rows: list[ApplicantRow], words: dict) -> bytes:
    header, body = _table(rows, words)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Applicants")[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in body:
        sheet.append(row)
    for index, label in enumerate(header, start=1):
        width = max([len(str(label))] + [len(str(row[index - 1] or "")) for row in body])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 10), 60)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
