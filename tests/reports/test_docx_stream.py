"""Long Word tables written row by row at save (qualcode.export.docx_stream) make the same file."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest
from docx.oxml.ns import qn

from qualcode.export import docx_stream
from qualcode.export.docx_stream import ROWS_PER_BATCH, streamed_tables
from qualcode.export.report_files import write_full_report
from qualcode.export.tables import add_caption, add_docx_table, setup_document
from qualcode.report_sections import ReportSection

_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")

#: Texts that test the serialiser: markup, a comment and our own marker, spaces at the edges,
#: a carriage return, a control character Word cannot hold, letters beyond ASCII, nothing.
ODD_TEXTS = [
    "a & b <c> \"d\" 'e'",
    "<!--qualcode-rows-0--> -->",
    "  innrykk ",
    "linje\r\nto",
    "tab\there\x07",
    "blåbærsyltetøy «sitat» – … ✓",
    "",
]


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: _TIMES.sub(rb"\1\3", archive.read(name)) if name == "docProps/core.xml"
            else archive.read(name)
            for name in archive.namelist()
        }


def _rows(n: int) -> list[list[str]]:
    return [
        [f"R{i + 1}", ODD_TEXTS[i % len(ODD_TEXTS)], str(i * 7), f"{i / 3:.1f}".replace(".", ",")]
        for i in range(n)
    ]


def _build(doc) -> None:
    """A document with tables short and long, between paragraphs, captions and a landscape page."""
    from docx.enum.section import WD_ORIENT, WD_SECTION

    doc.add_heading("Tabeller", level=1)
    add_caption(doc, "Tabell", "Kort")
    add_docx_table(doc, ["kode", "n"], [["tillit", "3"], ["tillit/relasjoner", "2"]],
                   numeric=[False, True], indents={1: 227}, bold_rows={1}, last_row_total=True)
    doc.add_paragraph("Mellom tabellene.")
    long_rows = _rows(2 * ROWS_PER_BATCH + 17)  # more than two batches, the last one partial
    add_caption(doc, "Tabell", "Lang")
    add_docx_table(doc, ["respondent", "sitat", "antall", "andel"], long_rows,
                   numeric=[False, False, True, True], bold_rows={len(long_rows) - 1},
                   indents={3: 454}, font_size=8)
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    add_docx_table(doc, ["a", "b"], [["x", "y"]] * ROWS_PER_BATCH, cant_split=False)
    doc.add_paragraph("Slutt.")


def test_streamed_tables_write_the_same_document(tmp_path: Path) -> None:
    plain = setup_document("nb")
    _build(plain)
    plain.save(str(tmp_path / "plain.docx"))
    streamed_doc = setup_document("nb")
    with streamed_tables(streamed_doc, min_rows=1) as streamed:
        _build(streamed_doc)
        # Only the tables' properties and grids are in the tree until the document is saved.
        assert not list(streamed_doc.element.body.iter(qn("w:tr")))
        streamed.save(tmp_path / "streamed.docx")
    before, after = _parts(tmp_path / "plain.docx"), _parts(tmp_path / "streamed.docx")
    assert list(before) == list(after)
    for name in before:
        assert after[name] == before[name], name
    assert b"<!--qualcode-rows-" not in after["word/document.xml"]


def test_streamed_table_reads_back_row_by_row(tmp_path: Path) -> None:
    doc = setup_document("en")
    rows = _rows(ROWS_PER_BATCH + 3)
    with streamed_tables(doc, min_rows=10) as streamed:
        add_docx_table(doc, ["kode", "n"], [["tillit", "3"]], numeric=[False, True])
        add_docx_table(doc, ["respondent", "sitat", "antall", "andel"], rows,
                       numeric=[False, False, True, True])
        streamed.save(tmp_path / "t.docx")
    short, long_table = docx.Document(str(tmp_path / "t.docx")).tables
    assert [[c.text for c in r.cells] for r in short.rows] == [["kode", "n"], ["tillit", "3"]]
    assert len(long_table.rows) == len(rows) + 1
    assert [c.text for c in long_table.rows[0].cells] == ["respondent", "sitat", "antall", "andel"]
    # The header row repeats on every page; the text is cleaned of what Word cannot hold.
    assert long_table.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
    got = [[c.text for c in r.cells] for r in long_table.rows[1:]]
    assert got[0] == rows[0]
    assert got[4][1] == "tab\there"
    assert got[-1] == rows[-1]
    assert [r[1] for r in got] == [r[1].replace("\x07", "") for r in rows]


def test_a_document_saved_without_a_marker_is_refused(tmp_path: Path) -> None:
    doc = setup_document("nb")
    with streamed_tables(doc, min_rows=1) as streamed:
        tbl = add_docx_table(doc, ["a"], [["b"]])
        tbl.remove(tbl[-1])  # the marker, as if python-docx had dropped it
        with pytest.raises(RuntimeError, match="lost their rows"):
            streamed.save(tmp_path / "t.docx")


def test_tables_outside_the_block_are_built_whole(tmp_path: Path) -> None:
    doc = setup_document("nb")
    with streamed_tables(doc, min_rows=1):
        pass
    add_docx_table(doc, ["a"], [["b"]] * 3)
    assert len(list(doc.element.body.iter(qn("w:tr")))) == 4


@pytest.fixture(scope="module")
def long_report(tmp_path_factory: pytest.TempPathFactory):
    """The test project's reports (with an extra section), written with every table streamed and
    with none."""
    from qualcode.store import create_store

    from .conftest import PSEUDONYMS, build_project

    folder = tmp_path_factory.mktemp("stream")
    store = build_project(create_store(folder / "project"), folder / "interviews")
    (folder / "project" / "pseudonyms.csv").write_text(PSEUDONYMS, encoding="utf-8")
    section = ReportSection(
        title="Samsvar", intro="Fjordal er nevnt.",
        tables=[("Per kode", pd.DataFrame({"kode": ["tillit", "<b>"], "kappa": [0.71, 0.5]}))],
    )
    outputs = {}
    with pytest.MonkeyPatch.context() as patch:
        for name, min_rows in (("whole", 10**9), ("streamed", 1)):
            patch.setattr(docx_stream, "STREAMED_MIN_ROWS", min_rows)
            for style in ("table", "block"):
                outputs[name, style] = write_full_report(
                    store, folder / f"{name}-{style}", quote_style=style,
                    extra_sections=[section], max_quotes_per_code=None,
                )[0]
    yield outputs
    store.close()


@pytest.mark.parametrize("style", ["table", "block"])
def test_full_report_is_the_same_with_streamed_tables(long_report, style: str) -> None:
    whole, streamed = _parts(long_report["whole", style]), _parts(long_report["streamed", style])
    assert list(whole) == list(streamed)
    for name in whole:
        assert streamed[name] == whole[name], name
    assert len(docx.Document(str(long_report["streamed", style])).tables) > 5


@pytest.mark.skipif(
    not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice not installed"
)
def test_libreoffice_reads_a_streamed_report(long_report, tmp_path: Path) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    result = subprocess.run(
        [office, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "txt:Text", "--outdir", str(tmp_path),
         str(long_report["streamed", "table"])],
        capture_output=True, timeout=180, check=False,
    )
    text_file = tmp_path / "rapport.txt"
    assert result.returncode == 0 and text_file.is_file(), result.stderr
    text = text_file.read_text(encoding="utf-8-sig")
    # The rows written at save are in the document LibreOffice reads, pseudonymised.
    assert "Respondenter" in text and "R3" in text
    assert "Fjordal" not in text
