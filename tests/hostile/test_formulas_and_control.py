"""Formula injection in every CSV and XLSX writer, and control characters replaced at ingest."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualcode.formulas import FORMULA_TRIGGERS, neutralise_formula, restore_formula

from .conftest import FORMULA_TURNS


@given(st.text(max_size=40))
def test_neutralise_then_restore_is_exact(value):
    guarded = neutralise_formula(value)
    assert restore_formula(guarded) == value
    assert not guarded.startswith(FORMULA_TRIGGERS)


def csv_cells(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def assert_no_formula(cells):
    bad = [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_TRIGGERS)]
    assert not bad, bad


def test_export_codings_csv_neutralises_and_import_restores_exactly(formula_project, tmp_path):
    from qualcode.export.codings import export_codings, import_codings, layer_state

    path = tmp_path / "k.csv"
    export_codings(formula_project, path, "kari")
    cells = csv_cells(path)
    assert_no_formula(cells)
    assert ["'" + t for t in FORMULA_TURNS] == [c for c in cells if c.lstrip("'") in FORMULA_TURNS]
    before = layer_state(formula_project, "kari")
    plan = import_codings(formula_project, path, "kari")
    assert not plan.changed and plan.warnings == []  # the text matched: apostrophes removed
    assert layer_state(formula_project, "kari") == before


def test_export_codings_xlsx_has_only_string_cells(formula_project, tmp_path):
    from openpyxl import load_workbook

    from qualcode.export.codings import export_codings, import_codings

    path = tmp_path / "k.xlsx"
    export_codings(formula_project, path, "kari")
    workbook = load_workbook(path)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_TRIGGERS):
                    assert cell.data_type == "s" and cell.quotePrefix
    assert not import_codings(formula_project, path, "kari").changed


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".docx"])
def test_disagreements_files_hold_no_formula(formula_project, runner, tmp_path, suffix):
    from qualcode.cli.main import app

    out = tmp_path / f"uenig{suffix}"
    result = runner.invoke(
        app, ["--project", str(formula_project.folder), "disagreements", "kari", "ola", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    if suffix == ".csv":
        cells = csv_cells(out)
        assert_no_formula(cells)
        assert "'" + FORMULA_TURNS[0] in cells  # the disagreement is there, guarded
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        cells = [c for row in load_workbook(out).active.iter_rows() for c in row]
        assert all(c.data_type != "f" for c in cells)
        assert any(c.quotePrefix and c.value == FORMULA_TURNS[0] for c in cells)


def test_every_format_csv_table_is_neutralised(formula_project, runner):
    from qualcode.cli.main import app

    result = runner.invoke(
        app, ["--project", str(formula_project.folder), "segments", "-f", "csv"]
    )
    assert result.exit_code == 0, result.output
    cells = [c for row in csv.reader(io.StringIO(result.stdout)) for c in row]
    assert_no_formula(cells)
    assert any(c == "'" + FORMULA_TURNS[1] or c.startswith("'+47") for c in cells)


def test_report_csv_is_neutralised(formula_project, runner, tmp_path):
    from qualcode.cli.main import app

    out = tmp_path / "sitater.csv"
    result = runner.invoke(
        app,
        ["--project", str(formula_project.folder), "report", "quotes", "-c", "kari", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    cells = csv_cells(out)
    assert_no_formula(cells)
    assert any(c.startswith("'=HYPERLINK") for c in cells), cells


def test_control_characters_are_replaced_at_ingest_with_a_warning(cli, tmp_path, ingested):
    folder = tmp_path / "kontroll"
    folder.mkdir()
    filler = "I: " + "Hvordan går det med klyngen? " * 300 + "\n"  # past the 8 KB binary sniff
    (folder / "R3.txt").write_bytes(
        (filler + "R3: Det går bra\x00 altså,\x07 vi\x1b samarbeider.\n").encode("utf-8")
    )
    result = cli("ingest", str(folder))
    assert result.exit_code == 0, result.output
    assert "R3.txt:2: 3 control characters" in " ".join(result.output.split())
    text = ingested.conn.execute(
        "SELECT text FROM segments WHERE speaker = 'R3'"
    ).fetchone()[0]
    assert text == "Det går bra\ufffd altså,\ufffd vi\ufffd samarbeider."


def test_disagreement_files_of_an_old_store_with_control_characters_are_written(
    formula_project, runner, tmp_path
):
    """A store from before this fix may hold them: the Word and Excel writers drop them."""
    from qualcode.cli.main import app

    formula_project.conn.execute("UPDATE segments SET text = text || char(0, 7)")
    for suffix in (".docx", ".xlsx"):
        out = tmp_path / f"uenig{suffix}"
        result = runner.invoke(
            app,
            ["--project", str(formula_project.folder), "disagreements", "kari", "ola", "-o", str(out)],
        )
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0


def test_control_characters_in_a_qdpx_source_are_replaced(tmp_path, make):
    import zipfile

    from qualcode.refiqda.importer import import_qdpx
    from qualcode.store import open_store

    path = tmp_path / "kontroll.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", make.qdpx_project_xml("kilde.txt"))
        archive.writestr("sources/kilde.txt", "I: Hei.\nR1: Det går bra\x07.\n")
    report = import_qdpx(path, tmp_path / "p")
    assert any("intervju1:2: 1 control character" in key for key in report.skipped)
    with open_store(tmp_path / "p") as store:
        texts = [r[0] for r in store.conn.execute("SELECT text FROM segments")]
    assert texts == ["Hei.", "Det går bra\ufffd."]
