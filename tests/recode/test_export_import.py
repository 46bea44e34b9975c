"""export codings / import codings: layout, exact text, the Excel round trip, all-or-nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import mark_coded_transcripts_done

from qualcode.errors import InputError
from qualcode.export.codings import LONG_COLUMNS, export_codings, import_codings, plan_import
from qualcode.ingest import ingest_paths
from qualcode.recode import copy_layer, recode
from qualcode.store import Store

TRICKY = [
    "=SUM(A1:A3) er ikke en formel",
    "-minus først, og “anførsel” … æøå ÆØÅ",
    "+pluss og @krøll",
    "  innrykk og _x0041_ escape-lignende\tmed tab",
]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]], header: list[str]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def test_csv_layout_bom_and_exact_text(coded, tmp_path):
    path = tmp_path / "k.csv"
    result = export_codings(coded, path, "auto")
    assert result.rows == 4
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert tuple(header[: len(LONG_COLUMNS)]) == LONG_COLUMNS
    # then the respondent's attributes, then the memo columns
    assert header[len(LONG_COLUMNS) :] == [
        "sector", "size", "memo", "segment_memos", "quote_start", "quote_end", "quote"
    ]
    stored = dict(coded.conn.execute("SELECT id, text FROM segments").fetchall())
    rows = read_rows(path)
    for row in rows:
        assert row["text"] == stored[int(row["segment_id"])]
        assert json.loads(row["evidence"])[0]["words"] in row["text"]
    r1 = [r for r in rows if r["respondent"] == "R1"]
    assert {r["sector"] for r in r1} == {"leverandør"}
    negated = [r for r in rows if r["code"] == "forankring/mål"]
    assert negated[0]["negated"] == "1" and negated[0]["source"] == "auto"


def test_export_errors(cli, coded, tmp_path):
    assert cli("export", "codings", "-o", str(tmp_path / "k.txt")).exit_code == 2
    result = cli("export", "codings", "-o", str(tmp_path / "k.csv"), "--coder", "nobody")
    assert result.exit_code == 2 and "no coder layer" in result.output


@pytest.fixture
def tricky(project: Store, tmp_path: Path, make_codes) -> Store:
    """A project whose turns start with =, -, +, @ and hold characters Excel might mangle."""
    folder = tmp_path / "tricky"
    folder.mkdir()
    lines = ["I: Spørsmål?"] + [f"R1: {t}" for t in TRICKY]
    (folder / "R1.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest_paths(project, [folder], command="test: ingest")
    make_codes(project, ["tillit", "tillit/åpenhet", "fasilitering"])
    ids = [r[0] for r in project.conn.execute("SELECT id FROM segments WHERE role = 'respondent'")]
    recode(project, ids, "kari", add=["tillit/åpenhet"])
    return project


def test_xlsx_text_cells_are_strings_never_formulas(tricky, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "k.xlsx"
    mark_coded_transcripts_done(tricky)  # a finished layer: an unchanged import writes nothing
    export_codings(tricky, path, "kari")
    stored = [
        r[0] for r in tricky.conn.execute("SELECT text FROM segments WHERE role = 'respondent'")
    ]
    assert any(t.startswith("=") for t in stored)
    workbook = load_workbook(path)
    sheet = workbook["codings"]
    header = [c.value for c in sheet[1]]
    text_col = header.index("text")
    cells = [row[text_col] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert sorted(cell.value for cell in cells) == sorted(stored)
    matrix = workbook["matrix"]
    assert [c.value for c in matrix[1]][:6] == [
        "transcript",
        "respondent",
        "segment_id",
        "speaker",
        "role",
        "text",
    ]
    assert workbook["_qualcode"].sheet_state == "hidden"
    # Unedited, the file imports as no change at all.
    before = tricky.dump()
    plan = import_codings(tricky, path, "kari")
    assert not plan.changed and tricky.dump() == before


def test_xlsx_edit_in_excel_style_round_trip(tricky, tmp_path, layer):
    """Saving the workbook again (as Excel would) and editing the matrix: '=' text survives."""
    from openpyxl import load_workbook

    path = tmp_path / "k.xlsx"
    export_codings(tricky, path, "kari")
    workbook = load_workbook(path)
    matrix = workbook["matrix"]
    header = [c.value for c in matrix[1]]
    col = header.index("fasilitering") + 1
    first_answer = next(r for r in matrix.iter_rows(min_row=2) if r[4].value == "respondent")
    matrix.cell(row=first_answer[0].row, column=col, value=1)
    workbook.save(path)
    plan = import_codings(tricky, path, "kari")
    assert plan.sheet == "matrix"
    assert plan.added == [(first_answer[2].value, "fasilitering", None, None)] and plan.removed == []
    # And the text cells are still plain strings after the second save.
    again = load_workbook(path)["codings"]
    texts = [row[9] for row in again.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in texts)
    assert any(str(c.value).startswith("=") for c in texts)


def test_unedited_round_trip_changes_nothing(cli, coded, tmp_path):
    copy_layer(coded, "auto", "kari")
    for name in ("k.csv", "k.xlsx"):
        path = tmp_path / name
        assert cli("export", "codings", "-o", str(path), "--coder", "kari").exit_code == 0
        before = coded.dump()
        result = cli("import", "codings", str(path), "--coder", "kari")
        assert result.exit_code == 0, result.output
        assert "no changes" in result.output
        assert coded.dump() == before


def test_csv_edit_adds_and_removes_with_dry_run(cli, coded, seg, tmp_path, layer):
    copy_layer(coded, "auto", "kari")
    path = tmp_path / "k.csv"
    export_codings(coded, path, "kari")
    rows = read_rows(path)
    header = list(rows[0])
    removed = rows.pop(0)  # delete a row: remove that coding
    new = dict(rows[0], code="fasilitering/kobling", source="", evidence="", memo="ny kode")
    rows[1]["code"] = ""  # an emptied code cell also removes
    write_rows(path, [*rows, new], header)
    before = coded.dump()
    result = cli("import", "codings", str(path), "--coder", "kari", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "fasilitering/kobling" in result.output and removed["code"] in result.output
    assert coded.dump() == before
    result = cli("import", "codings", str(path), "--coder", "kari")
    assert result.exit_code == 0, result.output
    kari = layer(coded, "kari")
    added = kari[(int(new["segment_id"]), "fasilitering/kobling")]
    assert added[0] == "manual" and added[3] == "ny kode"
    assert (int(removed["segment_id"]), removed["code"]) not in kari
    assert len(kari) == 4 - 2 + 1


def test_one_bad_row_changes_nothing(cli, coded, tmp_path):
    copy_layer(coded, "auto", "kari")
    path = tmp_path / "k.csv"
    export_codings(coded, path, "kari")
    rows = read_rows(path)
    header = list(rows[0])
    rows.append(dict(rows[0], code="fasilitering/kobling"))
    rows.append(dict(rows[0], code="tilit/åpen"))
    rows.append(dict(rows[0], segment_id="99999"))
    rows[0]["code"] = "fasilitering/digitalt"
    write_rows(path, rows, header)
    before = coded.dump()
    result = cli("import", "codings", str(path), "--coder", "kari")
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    # Rows are named by the file line they end on (a turn's text may span lines).
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        ends = [reader.line_num for _ in reader][1:]
    assert f"line {ends[5]}: unknown code 'tilit/åpen'" in out
    assert "tillit/åpenhet" in out  # the closest code is suggested
    assert f"line {ends[6]}: no segment with id 99999" in out
    assert f"k.csv:{ends[5]}" in out
    assert coded.dump() == before


def test_bad_matrix_cell_changes_nothing(coded, tmp_path):
    from openpyxl import load_workbook

    copy_layer(coded, "auto", "kari")
    path = tmp_path / "k.xlsx"
    export_codings(coded, path, "kari")
    workbook = load_workbook(path)
    workbook["matrix"].cell(row=3, column=8, value="ja takk")
    workbook["matrix"].cell(row=1, column=9, value="ikke/en/kode")
    workbook.save(path)
    before = coded.dump()
    with pytest.raises(InputError) as info:
        import_codings(coded, path, "kari")
    message = str(info.value)
    assert "row 3" in message and "'ja takk' is not 0 or 1" in message
    assert "'ikke/en/kode' is not a code" in message
    assert coded.dump() == before


def test_both_sheets_edited_differently_is_refused(coded, tmp_path):
    from openpyxl import load_workbook

    copy_layer(coded, "auto", "kari")
    path = tmp_path / "k.xlsx"
    export_codings(coded, path, "kari")
    workbook = load_workbook(path)
    workbook["codings"].delete_rows(2)
    matrix = workbook["matrix"]
    header = [c.value for c in matrix[1]]
    matrix.cell(row=2, column=header.index("tillit") + 1, value=1)
    workbook.save(path)
    before = coded.dump()
    with pytest.raises(InputError, match="both the 'codings' and the 'matrix' sheet were edited"):
        import_codings(coded, path, "kari")
    assert coded.dump() == before


def test_export_of_draft_imported_as_person_keeps_evidence(coded, tmp_path, layer):
    """export --coder auto, import --coder kari: like 'coder copy', draft rows keep their evidence."""
    path = tmp_path / "draft.xlsx"
    export_codings(coded, path, "auto")
    plan = import_codings(coded, path, "kari")
    assert len(plan.added) == 4
    assert layer(coded, "kari") == layer(coded, "auto")


def test_the_draft_does_not_replace_a_layer_with_work_in_it(coded, seg, tmp_path, layer):
    recode(coded, [seg(coded, "R1.txt", 6)], "kari", add=["tillit"])
    path = tmp_path / "draft.xlsx"
    export_codings(coded, path, "auto")
    before = coded.dump()
    with pytest.raises(
        InputError, match=r"kari's layer already has 1 coding that .* coder copy auto kari"
    ):
        import_codings(coded, path, "kari")
    assert coded.dump() == before


def test_all_layers_export_and_import_one(coded, seg, tmp_path, layer):
    from openpyxl import load_workbook

    recode(coded, [seg(coded, "R1.txt", 2)], "kari", add=["tillit"])
    path = tmp_path / "all.xlsx"
    mark_coded_transcripts_done(coded)  # a finished layer: an unchanged import writes nothing
    result = export_codings(coded, path)
    assert result.layers == ["auto", "kari"]
    assert {"matrix_auto", "matrix_kari"} <= set(load_workbook(path).sheetnames)
    before = coded.dump()
    plan = import_codings(coded, path, "kari")
    assert not plan.changed and plan.ignored_rows == 4 and coded.dump() == before
    with pytest.raises(InputError, match="none is 'ola'"):
        plan_import(coded, path, "ola")


def test_import_errors(cli, coded, tmp_path):
    before = coded.dump()
    assert cli("import", "codings", str(tmp_path / "none.csv"), "--coder", "kari").exit_code == 2
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    result = cli("import", "codings", str(bad), "--coder", "kari")
    assert result.exit_code == 2 and "bad.xlsx" in result.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    result = cli("import", "codings", str(wrong), "--coder", "kari")
    assert result.exit_code == 2 and "segment_id" in result.output
    assert cli("import", "codings", str(wrong), "--coder", "auto").exit_code == 2
    assert coded.dump() == before


def test_import_is_undone_as_a_whole(coded, tmp_path, content):
    from qualcode.audit import undo

    path = tmp_path / "draft.csv"
    export_codings(coded, path, "auto")
    before = content(coded)
    import_codings(coded, path, "kari")
    undo(coded, "kari")
    assert content(coded) == before


# -- property: any edit of the long table imports to exactly that layer -----------------------
PAIRS = st.sets(
    st.tuples(
        st.integers(min_value=0, max_value=10),
        st.sampled_from(
            ["tillit", "tillit/åpenhet", "fasilitering/kobling", "samkonkurranse", "forankring/mål"]
        ),
    ),
    max_size=12,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(start=PAIRS, target=PAIRS, xlsx=st.booleans())
def test_round_trip_property(coded, tmp_path_factory, layer, start, target, xlsx):
    segments = [r[0] for r in coded.conn.execute("SELECT id FROM segments ORDER BY id")]
    start = {(segments[i % len(segments)], c) for i, c in start}
    target = {(segments[i % len(segments)], c) for i, c in target}
    # Reset kari's layer to ``start``.
    with coded.write("test: reset", coder="kari") as tx:
        coded.ensure_coder(tx, "kari")
        for seg_id, code in layer(coded, "kari"):
            coded.remove_coding(tx, seg_id, code, "kari")
        for seg_id, code in start:
            coded.add_coding(tx, seg_id, code, "kari")
    folder = tmp_path_factory.mktemp("rt")
    path = folder / ("k.xlsx" if xlsx else "k.csv")
    export_codings(coded, path, "kari")
    before = coded.dump()
    assert not plan_import(coded, path, "kari").changed
    assert coded.dump() == before
    # Write the target state as the long table, as a student editing rows would.
    csv_path = folder / "edited.csv"
    export_codings(coded, csv_path, "kari")
    rows = read_rows(csv_path)
    header = list(rows[0]) if rows else list(LONG_COLUMNS)
    template = {h: "" for h in header}
    edited = [r for r in rows if (int(r["segment_id"]), r["code"]) in target]
    edited += [dict(template, segment_id=str(s), code=c) for s, c in sorted(target - start)]
    write_rows(csv_path, edited, header)
    plan = import_codings(coded, csv_path, "kari")
    assert {(k[0], k[1]) for k in plan.added} == target - start
    assert {(k[0], k[1]) for k in plan.removed} == start - target
    assert set(layer(coded, "kari")) == target
