"""Fixes from a user walkthrough: localised single-table files, decimals of coefficients, terminal
tables that keep every column, partly coded human layers, numbers in Excel, grouped attributes."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest

from qualcode import reports
from qualcode.cli import state
from qualcode.cli.main import app
from qualcode.export.report_files import write_full_report
from qualcode.report_sections import ReportSection
from qualcode.reports import freq


def run(runner, store, *args):
    return runner.invoke(app, ["--project", str(store.folder), *args])


@pytest.fixture
def columns(monkeypatch):
    """Set the terminal width the results console sees (it is created once and cached)."""

    def set_width(width: int) -> None:
        monkeypatch.setenv("COLUMNS", str(width))
        state.console.cache_clear()

    yield set_width
    state.console.cache_clear()


def docx_cells(path: Path) -> list[list[str]]:
    table = docx.Document(str(path)).tables[0]
    return [[c.text for c in row.cells] for row in table.rows]


# -- 1. --lang and reader-friendly labels in single-table files ------------------------------------
def test_quotes_docx_is_localised_and_shows_what_a_reader_needs(runner, coded, tmp_path):
    out = tmp_path / "sitater.docx"
    result = run(
        runner, coded, "report", "quotes", "--codes", "forankring", "-o", str(out), "--lang", "nb"
    )
    assert result.exit_code == 0, result.output
    document = docx.Document(str(out))
    assert document.paragraphs[0].text == "Sitater (koderlag auto)"
    rows = docx_cells(out)
    assert rows[0] == ["Kode", "Respondent", "Sitat", "Segment"]
    text = " ".join(" ".join(r) for r in rows)
    assert "False" not in text and "True" not in text
    # R1's "ledelsen har ikke satt av tid" is negated: marked as in the full report.
    negated = [r for r in rows[1:] if r[1] == "R1" and r[0] == "forankring/ledelse"]
    assert negated and negated[0][3].endswith("· negert")
    assert all(r[2].startswith("«") and r[2].count("«") == 1 for r in rows[1:])


def test_freq_files_use_the_report_labels_and_a_readable_sheet_name(runner, coded, tmp_path):
    word = tmp_path / "f.docx"
    result = run(runner, coded, "report", "freq", "-o", str(word), "--lang", "nb")
    assert result.exit_code == 0, result.output
    heading = docx.Document(str(word)).paragraphs[0].text
    assert heading == "Kodede segmenter per kode og respondent (koderlag auto)"
    assert docx_cells(word)[0] == ["Kode", "R1", "R2", "R3", "Totalt", "Respondenter"]

    # Without --lang a file is in the project's language: bokmål unless set otherwise.
    excel = tmp_path / "f.xlsx"
    result = run(runner, coded, "report", "freq", "--percent", "-o", str(excel))
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(excel).sheetnames == ["Frekvens %"]
    assert run(runner, coded, "config", "language", "en").exit_code == 0
    result = run(runner, coded, "report", "freq", "--percent", "-o", str(excel))
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(excel)
    assert book.sheetnames == ["Frequency %"]
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0].startswith("Share (%) of turns per code and respondent")
    assert rows[2] == ("Code", "R1", "R2", "R3", "Total", "Respondents")
    assert rows[-1][0] == "Coded segments (distinct)"

    # CSV keeps the machine names scripts rely on.
    result = run(runner, coded, "report", "freq", "-f", "csv")
    assert result.stdout.splitlines()[0] == "code,R1,R2,R3,total,respondents"


def test_sheet_names_are_cut_at_a_word():
    from qualcode.export.tables import xlsx_sheet_name

    name = xlsx_sheet_name("Frequency: coded segments per code and respondent", ())
    assert len(name) <= 31 and name.endswith("…")
    assert name.removesuffix("…").split()[-1] in {"code", "per", "segments"}
    assert xlsx_sheet_name("Frequency", ["Frequency"]) == "Frequency (2)"


# -- 2. agreement coefficients keep their decimals ----------------------------------------------
def test_coefficients_keep_three_decimals_in_word_and_excel(coded, tmp_path):
    section = ReportSection(
        title="Kodingskonsistens",
        tables=[
            (
                "Samsvar",
                pd.DataFrame(
                    {"Kode": ["forankring", "tillit"], "Prosent": [90.4, 93.3], "κ": [0.778, 0.8]}
                ),
            )
        ],
    )
    docx_path, _ = write_full_report(coded, tmp_path / "out", extra_sections=[section])
    table = next(t for t in docx.Document(str(docx_path)).tables if t.rows[0].cells[-1].text == "κ")
    assert [[c.text for c in r.cells] for r in table.rows[1:]] == [
        ["forankring", "90,4", "0,778"],
        ["tillit", "93,3", "0,800"],
    ]


def test_decimals_follow_the_column_in_every_writer(tmp_path):
    from qualcode.export.tables import column_decimals, frame_to_markdown, write_table

    assert column_decimals([90.4, 50.0]) == 1
    assert column_decimals([0.778, 0.8]) == 3
    assert column_decimals([0.85, 1.0]) == 2  # a coefficient never shows as 0.8 or 1.0
    frame = pd.DataFrame({"code": ["a", "b"], "kappa": [0.778, 0.8]})
    assert "| 0.800 |" in frame_to_markdown(frame)
    path = write_table(frame, tmp_path / "k.xlsx", index=False)
    cell = openpyxl.load_workbook(path).active["B2"]
    assert cell.value == 0.778 and cell.number_format == "0.000"


# -- 3. terminal tables never lose a column -----------------------------------------------------
def test_terminal_table_keeps_every_column_or_says_it_is_too_wide(runner, coded, columns):
    columns(70)
    result = run(runner, coded, "report", "freq", "--by", "sector")
    assert result.exit_code == 0, result.output
    header = result.stdout
    for word in ("leverandør", "prosessindustri", "(n=2)", "(n=1)", "total", "respondents"):
        assert word in header
    assert "┳┳" not in header
    assert "wider window" in result.stderr or max(map(len, header.splitlines())) <= 70

    columns(200)
    result = run(runner, coded, "report", "freq", "--by", "sector")
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 200 and "┳┳" not in result.stdout
    assert "Frequency: coded segments per code by sector (coder auto)" in result.stdout
    # Every count is there: the tillit row of leverandør (n=2) holds R1's and R3's turns.
    tillit = next(line for line in lines if line.startswith("│ tillit "))
    assert [c.strip() for c in tillit.split("│")[1:-1]][1:3] == ["3", "100.0"]


def test_long_text_wraps_to_the_terminal_and_numbers_stay_whole(columns, capsys):
    from qualcode.cli.output import emit_rows

    columns(60)
    long_text = "ord " * 40
    emit_rows(["code", "segment", "quote"], [["tillit/erfaring", 123456, long_text]])
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert "123456" in out.out and "tillit/erfaring" in out.out
    assert "wider" not in out.err

    # Ten numbers of eight digits cannot fit 60 columns: printed in parts that fit, every number
    # whole, after a warning that says how to get the whole table.
    emit_rows([f"c{i}" for i in range(10)], [[12345678 + i for i in range(10)]])
    out = capsys.readouterr()
    assert all(str(12345678 + i) in out.out for i in range(10))
    assert max(len(line) for line in out.out.splitlines()) <= 60
    assert "printed in parts" in out.err and "-f csv" in out.err


def test_cooc_level_deeper_than_the_codes_is_an_error(runner, coded):
    result = run(runner, coded, "report", "cooc", "--level", "3")
    assert result.exit_code == 2
    assert "level 3 is deeper than the codes" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert run(runner, coded, "report", "cooc", "--level", "2").exit_code == 0


# -- 4. a partly coded human layer --------------------------------------------------------------
def test_respondents_a_coder_has_not_coded_are_left_out(runner, coded):
    # kari has coded R1's and R2's interviews, not R3's (a leverandør like R1).
    result = run(
        runner,
        coded,
        "report",
        "freq",
        "--by",
        "sector",
        "-c",
        "kari",
        "--codes",
        "tillit",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    tillit = json.loads(result.stdout)[0]
    assert tillit["leverandør (n=1)"] == 1 and tillit["leverandør (n=1) % resp."] == 100.0
    assert "leverandør (n=2)" not in tillit
    assert "kari has coded 2 of 3 respondents" in result.stderr and "R3" in result.stderr

    table = run(runner, coded, "report", "freq", "-c", "kari")
    title, header = table.stdout.split("┏")[0], table.stdout.split("┡")[0]
    assert "(coder kari, 2 of 3 respondents coded)" in " ".join(title.split())
    assert "R1" in header and "R3" not in header

    # Percentages count only the turns of transcripts the coder has coded.
    shares = freq(coded, coder="kari", percent=True)
    assert list(shares.columns) == ["R1", "R2", "total", "respondents"]

    # The auto layer codes everything: no one is left out.
    auto = freq(coded, by="sector")
    assert "leverandør (n=2)" in auto.columns and auto.attrs["coverage"] is None


def test_full_report_says_how_many_respondents_the_layer_has_coded(coded, tmp_path):
    docx_path, xlsx_path = write_full_report(coded, tmp_path / "out", coder="kari", lang="en")
    paragraphs = [p.text for p in docx.Document(str(docx_path)).paragraphs]
    assert any(p.startswith("kari has coded 2 of 3 respondents") and "R3" in p for p in paragraphs)
    overview = [
        r[0] for r in openpyxl.load_workbook(xlsx_path)["Overview"].iter_rows(values_only=True)
    ]
    assert any(str(v).startswith("kari has coded 2 of 3 respondents") for v in overview)


# -- 5 and 6. numbers in Excel, grouped numeric attributes, labels ------------------------------
def test_excel_report_keeps_numbers_as_numbers(coded, tmp_path):
    _, xlsx_path = write_full_report(coded, tmp_path / "out")
    book = openpyxl.load_workbook(xlsx_path)
    people = [r for r in book["Respondenter"].iter_rows(values_only=True)]
    header = next(r for r in people if r and r[0] == "Respondent")
    size = header.index("size")
    r1 = next(r for r in people if r[0] == "R1")
    assert r1[size] == 45 and isinstance(r1[size], int)
    overview = list(book["Oversikt"].iter_rows(values_only=True))
    assert ("Respondenter", 3) in overview
    # No header row of blank names on a list of facts.
    assert all(v not in ("", " ") for row in overview for v in row)
    quotes = [r for r in book["Sitater"].iter_rows(values_only=True)]
    assert (
        "Kode",
        "Respondent",
        "Segment",
        "Transkripsjon",
        "Tur nr.",
        "Negert",
        "Sitat",
    ) in quotes


def test_numeric_attribute_with_many_values_is_grouped_into_ranges(coded):
    sizes = {"R1": "45", "R2": "900", "R3": "12", "R4": "3", "R5": "250", "R6": "60", "R7": "7"}
    ranges = reports.value_ranges(sizes)
    assert ranges is not None
    assert list(dict.fromkeys(ranges.values())) == ["3–7", "12–60", "250–900"]
    assert ranges["R1"] == "12–60" and ranges["R2"] == "250–900"
    # Few values, or a value that is not a number: one group per value, as before.
    assert reports.value_ranges({"R1": "1", "R2": "2", "R3": "3"}) is None
    assert reports.value_ranges({**sizes, "R8": "ukjent"}) is None
    # Equal values never straddle two ranges.
    tied = reports.value_ranges(
        {f"R{i}": v for i, v in enumerate(["1", "1", "1", "1", "2", "3", "4", "5", "6"])}
    )
    assert tied is not None and len({tied[f"R{i}"] for i in range(4)}) == 1


def test_freq_by_a_numeric_attribute_groups_into_ranges(runner, coded, tmp_path):
    # Four more respondents (not yet interviewed) give size seven values; ranges are drawn over
    # every respondent of the project, so they do not change with the layer or the filters.
    with coded.write("test: more respondents") as tx:
        for label, size in (("R4", "3"), ("R5", "250"), ("R6", "60"), ("R7", "7")):
            tx.conn.execute("INSERT INTO respondents (label) VALUES (?)", (label,))
            tx.conn.execute(
                "INSERT INTO respondent_attributes (respondent_id, name, value)"
                " SELECT id, 'size', ? FROM respondents WHERE label = ?",
                (size, label),
            )
    frame = freq(coded, by="size")
    groups = [c for c in frame.columns if "%" not in c and c not in ("total", "respondents")]
    # Thirds of 3, 7, 12, 45, 60, 250, 900: R3 (12) and R1 (45) in 12–60, R2 (900) in 250–900.
    assert groups == ["12–60 (n=2)", "250–900 (n=1)"]
    assert frame.attrs["ranges"] == ["3–7", "12–60", "250–900"]

    result = run(runner, coded, "report", "freq", "--by", "size", "-f", "csv")
    assert "grouped by value into 3 ranges" in result.stderr

    _, xlsx_path = write_full_report(coded, tmp_path / "out")
    sheet = openpyxl.load_workbook(xlsx_path)["Etter size"]
    assert sheet["A1"].value == "Etter size (3–7, 12–60, 250–900)"
