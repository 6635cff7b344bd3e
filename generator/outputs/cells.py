"""Spreadsheet cells from untrusted text: no spreadsheet may evaluate what staff typed (issue 11).

A CSV or XLSX cell whose text begins with = + - @ (or a tab or carriage return, which some
spreadsheets skip before looking for a formula) is a formula to Excel and LibreOffice:
``=HYPERLINK("https://evil.example", "点此报名")`` in an activity title would become a live link.
Following OWASP's CSV-injection advice, CSV text cells that begin so get a leading single quote,
and XLSX text cells are written as strings (data type "s"), which no spreadsheet evaluates and
which read back unchanged (`kepu export` → `kepu import --update` round-trips). Numbers are
written as numbers and never changed: only text is untrusted, and a count is never negative.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value for ``csv.writer``: text that a spreadsheet would take for a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_row(values: list[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def set_cell(cell: Any, value: Any) -> None:
    """Write ``value`` into an openpyxl cell; text is always a text cell, never a formula."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters XML cannot hold
        cell.data_type = "s"  # never a formula, even when the text starts with =
        cell.number_format = "@"  # text: Excel must not turn 09:30 or 0519-… into numbers
    else:
        cell.value = value


def append_row(ws: Any, values: list[Any]) -> None:
    """``ws.append(values)`` with every cell written by ``set_cell``."""
    row = ws.max_row + 1 if ws.max_row > 1 or ws.cell(1, 1).value is not None else 1
    for col, value in enumerate(values, 1):
        set_cell(ws.cell(row, col), value)
