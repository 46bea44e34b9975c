"""`qualcode report …` and `qualcode pseudonyms check` through the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import docx
import openpyxl
import pytest

from qualcode.cli.main import app


def run(runner, store, *args):
    return runner.invoke(app, ["--project", str(store.folder), *args])


def test_freq_csv_matches_sql(runner, coded, sql_counts):
    result = run(runner, coded, "report", "freq", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = sql_counts(coded)
    by_code = {r["code"]: r for r in rows}
    for path in coded.code_paths():
        for label in ("R1", "R2", "R3"):
            assert int(by_code[path][label]) == expected[(path, label)]


def test_freq_by_json_and_filters(runner, coded):
    result = run(
        runner,
        coded,
        "report",
        "freq",
        "--by",
        "sector",
        "--codes",
        "tillit",
        "--codes",
        "samkonkurranse/deling",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["code"] for r in records] == [
        "tillit",
        "tillit/relasjoner",
        "tillit/erfaring",
        "tillit/åpenhet",
        "tillit/mistillit",
        "samkonkurranse/deling",
        "total",
    ]
    deling = records[-2]
    assert deling["leverandør (n=2)"] == 1 and deling["leverandør (n=2) % resp."] == 50.0


@pytest.mark.parametrize("suffix", ["csv", "md", "xlsx", "docx"])
def test_exported_quotes_are_pseudonymised(runner, with_pseudonyms, tmp_path, suffix):
    out = tmp_path / f"quotes.{suffix}"
    result = run(runner, with_pseudonyms, "report", "quotes", "--full", "-o", str(out))
    assert result.exit_code == 0, result.output
    if suffix in ("csv", "md"):
        text = out.read_text(encoding="utf-8-sig")
    elif suffix == "xlsx":
        sheet = openpyxl.load_workbook(out).active
        text = " ".join(str(v) for r in sheet.iter_rows(values_only=True) for v in r)
    else:
        text = " ".join(
            c.text for t in docx.Document(str(out)).tables for r in t.rows for c in r.cells
        )
    assert "[bedriften]s ledelse" in text and "Fjordal" not in text
    check = run(runner, with_pseudonyms, "pseudonyms", "check", str(out))
    assert check.exit_code == 0, check.output


def test_pseudonyms_check_reports_leftover_names(runner, with_pseudonyms, tmp_path):
    leaky = tmp_path / "notat.txt"
    leaky.write_text("Intervju med Ola Sørheim.\n", encoding="utf-8")
    result = run(runner, with_pseudonyms, "pseudonyms", "check", str(leaky), "-f", "csv")
    assert result.exit_code == 1
    assert "Ola Sørheim" in result.stdout and "line 1" in result.stdout


def test_pseudonyms_check_of_a_clean_file_prints_an_empty_table_for_scripts(
    runner, with_pseudonyms, tmp_path
):
    clean = tmp_path / "notat.txt"
    clean.write_text("Intervju med [navn].\n", encoding="utf-8")
    as_json = run(runner, with_pseudonyms, "pseudonyms", "check", str(clean), "-f", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == []
    as_csv = run(runner, with_pseudonyms, "pseudonyms", "check", str(clean), "-f", "csv")
    assert as_csv.stdout.splitlines() == ["file,where,original,context"]


def test_report_all_writes_both_files(runner, coded, tmp_path):
    out = tmp_path / "rapport"
    result = run(
        runner,
        coded,
        "report",
        "all",
        "--out",
        str(out),
        "--lang",
        "en",
        "--quote-style",
        "block",
        "--coder",
        "auto",
    )
    assert result.exit_code == 0, result.output
    assert (out / "rapport.docx").is_file() and (out / "rapport.xlsx").is_file()
    headings = [
        p.text
        for p in docx.Document(str(out / "rapport.docx")).paragraphs
        if p.style.name == "Heading 1"
    ]
    assert "Code frequencies" in headings


@pytest.mark.parametrize(
    "args, message",
    [
        (["report", "freq", "--coder", "nobody"], "no coder layer 'nobody'"),
        (["report", "quotes", "--codes", "tilit"], "unknown code 'tilit'"),
        (["report", "summary", "-r", "R9"], "no respondent 'R9'"),
        (["report", "freq", "-f", "xlsx"], "give -o FILE"),
        (["report", "freq", "-o", "table.pdf"], "cannot tell the format"),
        (["report", "cooc", "--within", "turn"], "within must be"),
        (["pseudonyms", "check", "missing.docx"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(runner, with_pseudonyms, args, message):
    before = with_pseudonyms.dump()
    result = run(runner, with_pseudonyms, *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert with_pseudonyms.dump() == before


def test_bad_pseudonym_list_names_file_and_line(runner, coded, tmp_path):
    (Path(coded.folder) / "pseudonyms.csv").write_text(
        "original,replacement\nOla,\n", encoding="utf-8"
    )
    before = coded.dump()
    result = run(runner, coded, "report", "all", "--out", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert "pseudonyms.csv:2: no replacement for 'Ola'" in result.stderr
    assert not (tmp_path / "r").exists()
    assert coded.dump() == before
