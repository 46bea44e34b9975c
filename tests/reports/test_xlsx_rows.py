"""The quick row writer (qualcode.export.xlsx_rows) writes the same sheet XML as openpyxl."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook

from qualcode.export import tables, xlsx_rows


def _sheet_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("xl/") and name.endswith(".xml")
        }


def _write(frame: pd.DataFrame, path: Path, **options: object) -> None:
    wb = Workbook(write_only=True)
    tables.write_frame_sheet(wb.create_sheet("Ark"), frame, **options)
    tables.write_frame_sheet(wb.create_sheet("Ark 2"), frame.iloc[::-1], title="Igjen")
    wb.save(path)


FRAME = pd.DataFrame(
    {
        "kode": ["tillit", "  innrykk ", "=SUM(A1)", "#N/A", "", None, "a & b <c> \r\n\"d\"", "total"],
        "antall": [3, 0, -2, 10**17, 5, 7, 1, 18],
        "andel": [12.5, float("nan"), 0.333, 1.0, math.inf, 2.25, -0.5, 100.0],
        "sitat": ["Vi stoler på hverandre, det er jo det som er poenget med klyngen."] * 8,
        "ja": [True, False, True, False, True, False, True, False],
        "tall som tekst": ["12", "007", "3.5", "", "4", "5", "6", "7"],
    }
)


@pytest.mark.parametrize("bold_last_row", [False, True])
def test_quick_rows_write_what_openpyxl_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bold_last_row: bool
) -> None:
    options = dict(
        title="Tabell", notes=["Merknad"], bold_last_row=bold_last_row,
        wrap_columns=("sitat",), percent_columns=("andel",),
    )
    _write(FRAME, tmp_path / "quick.xlsx", **options)
    monkeypatch.setattr(tables, "open_row_stream", lambda ws: None)
    _write(FRAME, tmp_path / "openpyxl.xlsx", **options)
    quick, plain = _sheet_parts(tmp_path / "quick.xlsx"), _sheet_parts(tmp_path / "openpyxl.xlsx")
    assert quick.keys() == plain.keys()
    for name in plain:
        assert quick[name] == plain[name], name
    assert b"<f>" not in quick["xl/worksheets/sheet1.xml"]  # the formula stays text


def test_unusual_values_go_the_openpyxl_way() -> None:
    assert not xlsx_rows.writes_as_openpyxl("#N/A", styled=False)
    assert xlsx_rows.writes_as_openpyxl("#N/A", styled=True)
    assert not xlsx_rows.writes_as_openpyxl(math.inf, styled=True)
    assert not xlsx_rows.writes_as_openpyxl(pd.Timestamp("2026-01-01"), styled=False)
    assert xlsx_rows.cell_tail(" a&b ", 4) == (
        '" s="4" t="inlineStr"><is><t xml:space="preserve"> a&amp;b </t></is></c>'
    )


def test_a_sheet_with_nothing_unusual_is_written_the_quick_way(tmp_path: Path) -> None:
    plain = FRAME[~FRAME["kode"].isin(["=SUM(A1)", "#N/A"])].copy()
    plain["andel"] = plain["andel"].replace(math.inf, 3.0)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Ark")
    tables.write_frame_sheet(ws, plain, title="Tabell", bold_last_row=True)
    assert isinstance(ws._rows, xlsx_rows.RowStream)
    assert ws._rows.next_row == 4 + len(plain)  # title, blank line, header, rows
    wb.save(tmp_path / "quick.xlsx")


#: Letters beyond ASCII (written as character references), a character beyond the BMP, white
#: space inside and at the edges, markup and what looks like it.
WIDE_TEXTS = pd.DataFrame(
    {
        "tekst": ["blåbærsyltetøy", "«sitat» – … ’", "😀 og 漢字", "tab\there\nny linje",
                  " kant ", "a]]>b &amp; <!-- x -->", "\u2028\u00a0", ""],
        "antall": [1, 2, 3, 4, 5, 6, 7, 8],
    }
)


def test_ready_rows_written_straight_into_the_file_are_what_openpyxl_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parsing(body: str) -> None:
        raise AssertionError("ready rows were parsed, not written straight into the file")

    with monkeypatch.context() as patch:
        patch.setattr(xlsx_rows, "_parse_rows", no_parsing)
        _write(WIDE_TEXTS, tmp_path / "quick.xlsx", title="Tegn", wrap_columns=("tekst",))
    monkeypatch.setattr(tables, "open_row_stream", lambda ws: None)
    _write(WIDE_TEXTS, tmp_path / "openpyxl.xlsx", title="Tegn", wrap_columns=("tekst",))
    quick, plain = _sheet_parts(tmp_path / "quick.xlsx"), _sheet_parts(tmp_path / "openpyxl.xlsx")
    assert quick.keys() == plain.keys()
    for name in plain:
        assert quick[name] == plain[name], name
    sheet = quick["xl/worksheets/sheet1.xml"]
    assert b"&#128512;" in sheet and b"bl&#229;b&#230;r" in sheet
    assert openpyxl.load_workbook(tmp_path / "quick.xlsx")["Ark"]["A6"].value == "😀 og 漢字"


def test_ready_rows_go_through_lxml_where_the_sheet_has_its_own_writer(tmp_path: Path) -> None:
    from openpyxl.worksheet._writer import WorksheetWriter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Ark")
    ws._writer = WorksheetWriter(ws)  # openpyxl's own, with no file of ours to write into
    ws._writer.write_top()
    tables.write_frame_sheet(ws, WIDE_TEXTS)
    assert isinstance(ws._rows, xlsx_rows.RowStream)
    wb.save(tmp_path / "lxml.xlsx")
    rows = list(openpyxl.load_workbook(tmp_path / "lxml.xlsx")["Ark"].iter_rows(values_only=True))
    assert rows[1:] == [
        (None if t == "" else t, n) for t, n in zip(WIDE_TEXTS["tekst"], WIDE_TEXTS["antall"], strict=True)
    ]
