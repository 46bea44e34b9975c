"""The Word and Excel reports, opened with python-docx and openpyxl, against SQL counts."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
from docx.oxml.ns import qn

from qualcode.export.report_files import write_full_report
from qualcode.report_sections import ReportSection
from qualcode.store import create_store

from .conftest import PSEUDONYMS, build_project

LABELS = ["R1", "R2", "R3"]


@pytest.fixture(scope="module")
def report_nb(tmp_path_factory):
    """One coded project with pseudonyms and its Norwegian report, built once per module."""
    folder = tmp_path_factory.mktemp("report")
    store = build_project(create_store(folder / "project"), folder / "interviews")
    (folder / "project" / "pseudonyms.csv").write_text(PSEUDONYMS, encoding="utf-8")
    section = ReportSection(
        title="Kodingskonsistens",
        intro="Samsvar mellom koderne. Fjordal er nevnt her med vilje.",
        tables=[
            (
                "Samsvar per kode",
                pd.DataFrame(
                    {
                        "kode": ["tillit"],
                        "kappa": [0.71],
                        # A "string" column, as agreement tables may have: pseudonymised too.
                        "eksempel": pd.array(["Fjordal Aluminium sa ja"], dtype="string"),
                    }
                ),
            )
        ],
    )
    docx_path, xlsx_path = write_full_report(store, folder / "out", extra_sections=[section])
    yield store, docx_path, xlsx_path
    store.close()


def table_after_header(document, first_cells: list[str]):
    for table in document.tables:
        if [c.text for c in table.rows[0].cells][: len(first_cells)] == first_cells:
            return table
    raise AssertionError(f"no table starting with {first_cells}")


def test_docx_frequency_table_matches_sql(report_nb, sql_counts):
    store, docx_path, _ = report_nb
    document = docx.Document(str(docx_path))
    table = table_after_header(document, ["Kode", *LABELS])
    header = [c.text for c in table.rows[0].cells]
    assert header == ["Kode", *LABELS, "Totalt", "Respondenter"]
    expected = sql_counts(store)
    body = table.rows[1:-1]
    assert [r.cells[0].text for r in body] == store.code_paths()
    for row in body:
        path = row.cells[0].text
        counts = [int(c.text) for c in row.cells[1:4]]
        assert counts == [expected[(path, label)] for label in LABELS], path
        assert int(row.cells[4].text) == sum(counts)
        assert int(row.cells[5].text) == sum(1 for n in counts if n)
    # Header row repeats on every page; totals in bold; numbers right-aligned.
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    total = table.rows[-1]
    assert total.cells[0].text == "Kodede segmenter (unike)"
    assert all(run.bold for cell in total.cells for p in cell.paragraphs for run in p.runs)
    assert table.rows[1].cells[1].paragraphs[0].alignment == 2  # WD_ALIGN_PARAGRAPH.RIGHT
    assert table.style.name == "Light List Accent 1"


def test_docx_has_chart_codebook_quotes_and_appendix(report_nb):
    _, docx_path, _ = report_nb
    document = docx.Document(str(docx_path))
    assert len(document.inline_shapes) == 1
    with zipfile.ZipFile(docx_path) as archive:
        images = [n for n in archive.namelist() if n.startswith("word/media/")]
        assert len(images) == 1 and archive.read(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "Kodebok",
        "Kodefrekvenser",
        "Samforekomst",
        "Sitater",
        "Kodingskonsistens",
        "Vedlegg: Respondenter",
    ]
    texts = [p.text for p in document.paragraphs]
    assert "Koderlag: auto" in texts
    assert "Definisjon av åpenhet." in texts
    quotes = table_after_header(document, ["Respondent", "Sitat", "Segment"])
    assert quotes.rows[1].cells[1].text.startswith("«")  # bokmål quotation marks
    # A quote is never split over two pages (the second part would lose respondent and segment).
    assert all(row._tr.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None
               for row in quotes.rows)
    appendix = table_after_header(document, ["Respondent", "sector", "size"])
    assert [r.cells[0].text for r in appendix.rows[1:]] == LABELS
    consistency = table_after_header(document, ["kode", "kappa"])
    assert consistency.rows[1].cells[1].text == "0,71"  # as stored, Norwegian decimal comma
    assert consistency.rows[1].cells[2].text == "[bedriften] sa ja"


def test_xlsx_sheets_match_sql(report_nb, sql_counts):
    store, _, xlsx_path = report_nb
    workbook = openpyxl.load_workbook(xlsx_path)
    assert workbook.sheetnames[:3] == ["Oversikt", "Frekvens", "Frekvens %"]
    assert {"Etter sector", "Sitater", "Respondenter", "Kodebok", "Kodingskonsistens"} <= set(
        workbook.sheetnames
    )
    sheet = workbook["Frekvens"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] == "Kode")
    assert rows[start] == ["Kode", *LABELS, "Totalt", "Respondenter"]
    expected = sql_counts(store)
    data = rows[start + 1 :]
    assert [r[0] for r in data[:-1]] == store.code_paths()
    for row in data[:-1]:
        assert row[1:4] == [expected[(row[0], label)] for label in LABELS], row[0]
        assert row[4] == sum(row[1:4])
    assert data[-1][0] == "Kodede segmenter (unike)"
    assert sheet.cell(row=start + 1 + len(data), column=2).font.b
    # By sector: R1 and R3 are leverandør.
    by = [list(r) for r in workbook["Etter sector"].iter_rows(values_only=True)]
    head = next(r for r in by if r[0] == "Kode")
    column = head.index("leverandør (n=2)")
    line = next(r for r in by if r[0] == "tillit")
    assert line[column] == sum(expected[("tillit", lb)] for lb in ("R1", "R3"))
    assert line[column + 1] == 100.0


def test_lang_en_changes_headings(coded, tmp_path):
    docx_path, xlsx_path = write_full_report(coded, tmp_path / "en", lang="en", quote_style="block")
    document = docx.Document(str(docx_path))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "Codebook",
        "Code frequencies",
        "Co-occurrence",
        "Quotes",
        "Appendix: Respondents",
    ]
    assert table_after_header(document, ["Code", *LABELS]).rows[0].cells[-1].text == "Respondents"
    block = [p.text for p in document.paragraphs if p.style.name == "Quote"]
    assert block and all(t.startswith("“") and "” – R" in t for t in block)
    assert openpyxl.load_workbook(xlsx_path).sheetnames[:2] == ["Overview", "Frequency"]


def test_pseudonyms_applied_in_docx_and_xlsx(report_nb, tmp_path):
    store, docx_path, xlsx_path = report_nb
    from qualcode.pseudonyms import check, project_pseudonyms

    names = project_pseudonyms(store)
    assert check([docx_path, xlsx_path], names) == []
    whole_turns = write_full_report(store, tmp_path / "full", full=True)
    assert check(whole_turns, names) == []
    cells = " ".join(
        c.text for t in docx.Document(str(whole_turns[0])).tables for r in t.rows for c in r.cells
    )
    assert "[navn] på [bedriften] ringte" in cells
    sheet = openpyxl.load_workbook(whole_turns[1])["Sitater"]
    assert any(
        "[navn] på [bedriften]" in str(v) for r in sheet.iter_rows(values_only=True) for v in r
    )
    document = docx.Document(str(docx_path))
    cells = " ".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    # Genitive kept: "Fjordal Aluminiums ledelse" → "[bedriften]s ledelse".
    assert "[bedriften]s ledelse" in cells
    # The extra section's text is pseudonymised as well.
    assert any("[bedriften] er nevnt" in p.text for p in document.paragraphs)


def test_unknown_lang_and_style_are_errors(coded, tmp_path):
    from qualcode.errors import InputError

    with pytest.raises(InputError, match="language"):
        write_full_report(coded, tmp_path / "x", lang="de")
    with pytest.raises(InputError, match="quote style"):
        write_full_report(coded, tmp_path / "x", quote_style="fancy")
    assert not (tmp_path / "x").exists()


@pytest.mark.skipif(
    not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice not installed"
)
def test_libreoffice_converts_docx_to_pdf(report_nb, tmp_path):
    _, docx_path, _ = report_nb
    office = shutil.which("soffice") or shutil.which("libreoffice")
    result = subprocess.run(
        [
            office,
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            str(docx_path),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    pdf = tmp_path / "pdf" / "rapport.pdf"
    assert result.returncode == 0 and pdf.is_file(), result.stderr
    assert Path(pdf).read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize("length, kept_whole", [(300, True), (4000, False)])
def test_only_a_quote_too_long_for_a_page_may_split(length: int, kept_whole: bool) -> None:
    from qualcode.export.report_docx import _quote_table
    from qualcode.export.report_text import words
    from qualcode.export.tables import setup_document

    doc = setup_document("nb")
    text = ("Vi stoler på hverandre, og det har tatt tid å bygge opp. " * 80)[:length]
    quotes = pd.DataFrame([{"respondent": "R1", "text": text, "segment": 7, "negated": False}])
    _quote_table(doc, quotes, words("nb"), "tillit", "nb")
    rows = doc.tables[-1].rows
    assert all((row._tr.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None) == kept_whole
               for row in rows[1:])
