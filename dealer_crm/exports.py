"""A page's tables as shown, and as CSV or Excel downloads (`?export=csv|xlsx`, one table
with `&table=<key>`, else all of the page's): the one export of every dashboard table.

Headers and texts are those of the page, in the request's language; CSV carries a UTF-8 byte
order mark so that Excel opens Chinese text right; Excel gets numbers with their formats."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpResponse
from django.utils.text import slugify

EXPORT_FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Cell:
    """What a table shows in one place: its text, and the number behind it for Excel."""

    text: str
    number: Decimal | int | float | None = None
    number_format: str = ""
    url: str = ""
    css: str = ""
    title: str = ""

    def __str__(self) -> str:
        return self.text


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    # Columns whose cells are right-aligned (numbers).
    numeric_from: int = 1


def cell(value) -> Cell:
    return value if isinstance(value, Cell) else Cell("" if value is None else str(value))


def wanted_tables(request, tables: list[Table]) -> list[Table]:
    key = request.GET.get("table", "")
    chosen = [table for table in tables if table.key == key]
    return chosen or tables


def export_format(request) -> str | None:
    fmt = request.GET.get("export", "")
    return fmt if fmt in EXPORT_FORMATS else None


def _filename(name: str, fmt: str) -> str:
    return f"{slugify(name) or 'export'}.{fmt}"


def tables_csv(tables: list[Table], filename: str) -> HttpResponse:
    """The tables one after another (each after a row with its title when there are several),
    UTF-8 with a byte order mark."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for position, table in enumerate(tables):
        if len(tables) > 1:
            if position:
                writer.writerow([])
            writer.writerow([table.title])
        writer.writerow([str(column) for column in table.columns])
        for row in table.rows:
            writer.writerow([cell(value).text for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(filename, "csv")}"'
    return response


def _sheet_title(title: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", str(title)).strip()[:28] or "Sheet"
    name, number = base, 2
    while name in taken:
        name, number = f"{base[:25]} {number}", number + 1
    taken.add(name)
    return name


def tables_xlsx(tables: list[Table], filename: str) -> HttpResponse:
    """One sheet per table: its header row in bold, numbers as numbers in their formats."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, taken))
        sheet.append([str(column) for column in table.columns])
        for header in sheet[1]:
            header.font = Font(bold=True)
        for row in table.rows:
            cells = [cell(value) for value in row]
            sheet.append([float(c.number) if c.number is not None else c.text for c in cells])
            for column, c in enumerate(cells, start=1):
                if c.number is not None and c.number_format:
                    sheet.cell(row=sheet.max_row, column=column).number_format = c.number_format
        for column, width in enumerate(_widths(table), start=1):
            sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = width
        sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(filename, "xlsx")}"'
    return response


def _widths(table: Table) -> list[int]:
    texts = [[str(column) for column in table.columns]] + [
        [cell(value).text for value in row] for row in table.rows
    ]
    # A Chinese character is about two Latin ones wide.
    return [
        min(60, max(8, *(len(text) + sum(ord(ch) > 0x2E80 for ch in text) for text in column)))
        for column in zip(*texts, strict=False)
    ]


def export_response(request, tables: list[Table], filename: str) -> HttpResponse | None:
    """The download the query asks for (`?export=csv|xlsx`, `&table=`), else None."""
    fmt = export_format(request)
    if fmt is None:
        return None
    chosen = wanted_tables(request, tables)
    name = filename if len(chosen) != 1 or len(tables) == 1 else f"{filename}-{chosen[0].key}"
    return (tables_csv if fmt == "csv" else tables_xlsx)(chosen, name)
