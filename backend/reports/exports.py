"""Report tables as downloads: UTF-8 CSV with a byte-order mark (so Excel shows Chinese) and an Excel workbook.

Numbers stay numbers: integer HKD and counts are written as integers, shares as fractions formatted as
percentages in Excel and as percentages with one decimal in CSV.
"""

from __future__ import annotations

import csv
import io
import re

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from backend.reports.service import SchemeReport, Table

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def _csv_value(value, kind: str, empty: str = ""):
    if value is None:
        return empty
    if kind == "percent":
        return f"{100 * value:.1f}"
    return value


def _csv_header(column) -> str:
    return f"{column.label} (%)" if column.kind == "percent" else column.label


def table_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_header(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(v, c.kind, table.empty) for v, c in zip(row, table.columns, strict=True)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", title)[:31].strip() or "Sheet"
    base, n = name, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def report_xlsx(report: SchemeReport, scheme_name: str) -> bytes:
    return tables_xlsx(report.tables, scheme_name)


def tables_xlsx(tables: list[Table], heading: str) -> bytes:
    """Tables as one workbook, a sheet per table, each under `heading` and its own title."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, used))
        sheet.append([heading])
        sheet["A1"].font = bold
        sheet.append([table.title])
        sheet.append([c.label for c in table.columns])
        for cell in sheet[3]:
            cell.font = bold
        for row in table.rows:
            sheet.append([(table.empty or None) if v is None else v for v in row])
            for index, column in enumerate(table.columns, start=1):
                cell = sheet.cell(row=sheet.max_row, column=index)
                if column.kind == "hkd":
                    cell.number_format = '"HK$"#,##0'
                elif column.kind == "percent":
                    cell.number_format = "0.0%"
                elif column.kind == "int":
                    cell.number_format = "#,##0"
        for index, column in enumerate(table.columns, start=1):
            width = max([len(str(column.label))] + [len(str(r[index - 1] or "")) for r in table.rows])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 10), 60)
        sheet.freeze_panes = "A4"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
