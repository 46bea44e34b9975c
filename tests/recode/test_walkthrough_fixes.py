"""Fixes from a user walkthrough: names in exports, coder checks, memos, review, log and undo."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from qualcode.export.codings import export_codings
from qualcode.ingest import ingest_paths
from qualcode.pseudonyms import check, project_pseudonyms
from qualcode.recode import copy_layer, recode
from qualcode.review import latest_decisions, start_review
from qualcode.store import Store

NAMED = """\
Intervjuer: Hvordan jobber dere med klyngen?
Geir Tangen: Hos Fjordal Aluminium stoler vi på de andre. Hilde Brekke ringte meg.
Intervjuer: Takk.
Geir Tangen: Fjordal-ansatte deltar på samlinger, og Hilde er med.
"""
PSEUDONYMS = """\
original,replacement
Fjordal Aluminium,[bedriften]
Fjordal,[bedriften]
Geir Tangen,[navn]
Hilde Brekke,[navn]
Hilde,[navn]
"""


@pytest.fixture
def named(project: Store, tmp_path: Path, make_codes) -> Store:
    """A project whose file name, speaker and text hold names listed in pseudonyms.csv.

    Kari has coded both answers (one coding with a memo naming Hilde); the file's respondent has
    numeric attributes and one id with a leading zero.
    """
    folder = tmp_path / "named"
    folder.mkdir()
    (folder / "R2_fjordal.txt").write_text(NAMED, encoding="utf-8")
    (folder / "respondents.csv").write_text(
        "respondent,file,size,membership_years,id_no\nR2,R2_fjordal.txt,900,2.5,007\n",
        encoding="utf-8",
    )
    ingest_paths(project, [folder], command="test: ingest")
    (project.folder / "pseudonyms.csv").write_text(PSEUDONYMS, encoding="utf-8")
    make_codes(project, ["tillit", "fasilitering", "fasilitering/møteplasser"])
    answers = [
        r[0] for r in project.conn.execute("SELECT id FROM segments WHERE role = 'respondent'")
    ]
    with project.write("test: kari codes", coder="kari") as tx:
        project.ensure_coder(tx, "kari")
        project.add_coding(tx, answers[0], "tillit", "kari", memo="Hilde som døråpner")
        project.add_coding(tx, answers[1], "fasilitering/møteplasser", "kari")
    return project


def run(runner: Any, store: Store, *args: str, **kwargs: Any) -> Any:
    from qualcode.cli.main import app

    return runner.invoke(app, ["--project", str(store.folder), *args], **kwargs)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# -- 1. export codings replaces names by default ----------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_codings_applies_pseudonyms_by_default(runner, named, tmp_path, suffix):
    path = tmp_path / f"leak{suffix}"
    result = run(runner, named, "export", "codings", "-o", str(path))
    assert result.exit_code == 0, result.output
    assert "Pseudonyms applied: 5 names" in result.output
    assert check([path], project_pseudonyms(named)) == []
    raw = path.read_bytes() if suffix == ".csv" else b""
    assert b"fjordal" not in raw.lower() and b"Tangen" not in raw

    kept = tmp_path / f"real{suffix}"
    result = run(runner, named, "export", "codings", "-o", str(kept), "--keep-names")
    assert result.exit_code == 0 and "--keep-names" in result.output
    found = {f.original for f in check([kept], project_pseudonyms(named))}
    assert {"Geir Tangen", "Fjordal Aluminium", "Hilde"} <= found


def test_pseudonymised_csv_names_and_evidence_offsets(named, tmp_path):
    seg = named.conn.execute("SELECT id, text FROM segments WHERE position = 2").fetchone()
    start = seg[1].index("stoler")
    evidence = [
        {
            "rule": "keyword",
            "term": "stole",
            "words": "stoler",
            "start": start,
            "end": start + 6,
            "negated": False,
            "negator": None,
        }
    ]
    with named.write("test: draft", coder="auto") as tx:
        named.add_coding(tx, seg[0], "tillit", "auto", source="auto", evidence=evidence)
    path = tmp_path / "auto.csv"
    export_codings(named, path, "auto")
    (row,) = read_rows(path)
    assert row["transcript"] == "R2.txt" and row["speaker"] == "R2"
    assert row["text"].startswith("Hos [bedriften] stoler vi på de andre. [navn] ringte")
    moved = json.loads(row["evidence"])[0]
    # The match still points at its words in the replaced text.
    assert row["text"][moved["start"] : moved["end"]] == "stoler"


def test_no_pseudonym_list_is_said(runner, named, tmp_path):
    (named.folder / "pseudonyms.csv").unlink()
    result = run(runner, named, "export", "codings", "-o", str(tmp_path / "k.csv"))
    assert result.exit_code == 0
    assert "no pseudonyms.csv" in result.output
    assert read_rows(tmp_path / "k.csv")[0]["transcript"] == "R2.txt"  # the label, still


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_pseudonymised_export_imports_back(runner, named, tmp_path, suffix):
    """export (names replaced) → delete a row → import: exactly that coding goes, no warnings."""
    path = tmp_path / f"k{suffix}"
    assert run(runner, named, "export", "codings", "-o", str(path), "-c", "kari").exit_code == 0
    unchanged = run(runner, named, "import", "codings", str(path), "-c", "kari")
    assert unchanged.exit_code == 0 and "no changes" in unchanged.output
    assert "is not segment" not in unchanged.output  # replaced text is still the segment's
    if suffix == ".csv":
        rows = read_rows(path)
        header = list(rows[0])
        gone = rows.pop(0)
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
    else:
        from openpyxl import load_workbook

        workbook = load_workbook(path)
        sheet = workbook["codings"]
        header = [c.value for c in sheet[1]]
        gone = {h: str(c.value) for h, c in zip(header, sheet[2], strict=True)}
        sheet.delete_rows(2)
        workbook.save(path)
    result = run(runner, named, "import", "codings", str(path), "-c", "kari")
    assert result.exit_code == 0, result.output
    assert "kari: 0 added, 1 removed" in result.output
    assert "is not segment" not in result.output
    left = named.conn.execute(
        "SELECT c.segment_id, k.path FROM codings c JOIN codes k ON k.id = c.code_id"
    ).fetchall()
    assert (int(gone["segment_id"]), gone["code"]) not in left and len(left) == 1


# -- 7. numbers in Excel --------------------------------------------------------------------
def test_xlsx_attribute_numbers_are_numbers(named, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "k.xlsx"
    export_codings(named, path, "kari")
    sheet = load_workbook(path)["codings"]
    header = [c.value for c in sheet[1]]
    row = {h: c.value for h, c in zip(header, sheet[2], strict=True)}
    assert row["size"] == 900 and isinstance(row["size"], int)
    assert row["membership_years"] == 2.5
    assert row["id_no"] == "007"  # a leading zero stays text
    assert isinstance(row["text"], str)
    csv_path = tmp_path / "k.csv"
    export_codings(named, csv_path, "kari")
    assert read_rows(csv_path)[0]["size"] == "900"


# -- 2. import codings refuses another coder's file ------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_import_of_another_coders_file_is_refused(cli, coded, seg, tmp_path, suffix):
    copy_layer(coded, "auto", "kari")
    recode(coded, [seg(coded, "R1.txt", 2)], "jonas", add=["tillit"])
    path = tmp_path / f"kari{suffix}"
    export_codings(coded, path, "kari")
    before = coded.dump()
    for extra in (["--dry-run"], []):
        result = cli("import", "codings", str(path), "--coder", "jonas", *extra)
        assert result.exit_code == 2, result.output
        message = " ".join(result.output.split())
        assert f"kari{suffix}" in message and "kari's layer, not 'jonas'" in message
        assert "--coder kari" in message and "would be added" not in message
    assert coded.dump() == before
    # The draft alone still starts anyone's layer (as 'coder copy' does).
    draft = tmp_path / f"draft{suffix}"
    export_codings(coded, draft, "auto")
    assert cli("import", "codings", str(draft), "--coder", "ola", "--dry-run").exit_code == 0


# -- 3. coding memos -------------------------------------------------------------------------
def test_coding_memos_are_counted_and_listed(runner, named):
    result = run(runner, named, "coder", "list", "-f", "json")
    (kari,) = [r for r in json.loads(result.stdout) if r["coder"] == "kari"]
    assert kari["memos"] == 0 and kari["coding memos"] == 1
    result = run(runner, named, "memo", "--list", "-f", "json")
    rows = json.loads(result.stdout)
    assert [(r["kind"], r["code"], r["coder"], r["text"]) for r in rows] == [
        ("coding", "tillit", "kari", "Hilde som døråpner")
    ]
    run(runner, named, "memo", "--code", "tillit", "Kodenotat", "-c", "kari")
    rows = json.loads(run(runner, named, "memo", "--list", "--code", "tillit", "-f", "json").stdout)
    assert sorted(r["kind"] for r in rows) == ["code", "coding"]


# -- 4. review --------------------------------------------------------------------------------
def test_review_skipped_counts_the_skipped_items(cli, coded):
    session = start_review(coded, "kari")
    session.skip()
    session.skip()
    result = cli("review", "--coder", "kari", "--skipped", input="")
    assert result.exit_code == 0, result.output
    assert "2 of 2 items left" in result.output
    result = cli("review", "--coder", "kari", "--skipped", input="a\n")
    assert "1 decision saved this session; 1 item left" in result.output
    # Resuming means the same walk: the hint keeps --skipped (and the coder).
    assert "run 'qualcode review --coder kari --skipped' to resume" in result.output


class CtrlCAfterInput(io.BytesIO):
    """Standard input that, once its lines are read, is interrupted as by Ctrl-C."""

    def read1(self, size: int = -1) -> bytes:
        data = super().read1(size)
        if not data:
            raise KeyboardInterrupt
        return data

    read = read1


def test_review_ctrl_c_in_the_prompt_is_interrupted(cli, coded, monkeypatch):
    """Click turns Ctrl-C at the prompt into Abort; it must not read as the end of the input."""
    import typer.testing

    monkeypatch.setattr(typer.testing, "make_input_stream", lambda *_: CtrlCAfterInput(b"a\n"))
    result = cli("review", "--coder", "kari")
    assert result.exit_code == 130, result.output
    assert "interrupted: 1 decision saved" in result.output
    assert list(latest_decisions(coded, "kari", "auto").values()) == ["accept"]
    monkeypatch.undo()
    ended = cli("review", "--coder", "kari", input="")
    assert ended.exit_code == 0 and "input ended" in ended.output


# -- 5. coder typos and interviewer turns -----------------------------------------------------
def test_coder_typo_is_refused_and_new_layers_are_announced(cli, coded, seg, content):
    answer = str(seg(coded, "R1.txt", 2))
    assert cli("recode", answer, "--add", "tillit", "-c", "kari").exit_code == 0
    before = content(coded)
    for typo in ("karri", "Kari", "kair"):
        result = cli("recode", answer, "--add", "fasilitering", "-c", typo)
        assert result.exit_code == 2, result.output
        assert f"unknown coder '{typo}'; did you mean 'kari'?" in result.output
        assert "--new-coder" in result.output
    result = cli("memo", answer, "notat", "-c", "karri")
    assert result.exit_code == 2
    assert content(coded) == before
    result = cli("recode", answer, "--add", "tillit", "-c", "karri", "--new-coder")
    assert result.exit_code == 0 and "new coder layer 'karri'" in result.output
    result = cli("recode", answer, "--add", "tillit", "-c", "per")
    assert result.exit_code == 0 and "new coder layer 'per'" in result.output
    again = cli("recode", answer, "--add", "fasilitering", "-c", "per")
    assert "new coder layer" not in again.output
    result = cli("coder", "set", "pers")
    assert result.exit_code == 2 and "did you mean 'per'?" in result.output


def test_recode_on_interviewer_turn_warns(cli, coded, seg):
    question = str(seg(coded, "R1.txt", 1))
    result = cli("recode", question, "--add", "tillit", "-c", "kari")
    assert result.exit_code == 0
    assert f"segment {question} is an interviewer turn" in " ".join(result.output.split())
    answer = str(seg(coded, "R1.txt", 2))
    result = cli("recode", answer, "--add", "tillit", "-c", "kari")
    assert "interviewer turn" not in result.output


# -- 6. log ------------------------------------------------------------------------------------
def test_log_table_one_line_per_entry_and_full_detail_in_json(cli, coded, seg, monkeypatch):
    answer = str(seg(coded, "R1.txt", 2))
    long_memo = "konkurrent i klyngen, " * 12 + "\nslutt"
    argv = ["qualcode", "recode", answer, "--add", "tillit", "-c", "kari", "--memo", long_memo]
    monkeypatch.setattr(sys, "argv", argv)
    assert cli(*argv[1:]).exit_code == 0
    # A terminal as wide as the table: then every entry is exactly one line.
    from rich.console import Console

    from qualcode.cli import state

    monkeypatch.setattr(state, "console", lambda: Console(width=200, highlight=False))
    table = cli("log", "--coder", "kari").output
    body = [line for line in table.splitlines() if line.startswith("│")]
    entries = json.loads(cli("log", "--coder", "kari", "-f", "json").stdout)
    assert len(body) == len(entries) == 3  # create_coder, add_coding, add_memo
    assert any("konkurrent i klyngen, konkurr…" in line for line in body)
    memo_entry = next(e for e in entries if e["action"] == "add_memo")
    assert memo_entry["detail"]["text"] == long_memo.strip()
    # The command is recorded as typed, quoting kept.
    assert memo_entry["command"].endswith("--memo 'konkurrent i klyngen, " + long_memo[22:] + "'")
    rows = list(csv.DictReader(cli("log", "--coder", "kari", "-f", "csv").stdout.splitlines()))
    assert json.loads(rows[-1]["detail"])["text"] == long_memo.strip()


# -- 8. undo lists a long command briefly -------------------------------------------------------
def test_undo_dry_run_caps_the_listing(cli, coded):
    segments = [str(r[0]) for r in coded.conn.execute("SELECT id FROM segments")]
    assert len(segments) == 10
    args = ["--add", "tillit", "--add", "fasilitering", "--add", "samkonkurranse"]
    assert cli("recode", *segments, *args, "-c", "kari").exit_code == 0
    result = cli("undo", "-c", "kari", "--dry-run")
    assert result.exit_code == 0
    listed = [line for line in result.output.splitlines() if line.startswith("  add_coding")]
    assert len(listed) == 19  # 20 changes shown: create_coder first
    assert "… and 11 more (--all lists them)" in result.output
    everything = cli("undo", "-c", "kari", "--dry-run", "--all").output
    assert len([line for line in everything.splitlines() if "add_coding" in line]) == 30
    rows = list(
        csv.DictReader(cli("undo", "-c", "kari", "--dry-run", "-f", "csv").stdout.splitlines())
    )
    assert len(rows) == 31


def test_the_audit_log_records_the_command_with_its_quoting(monkeypatch) -> None:
    from qualcode.store import command_line

    monkeypatch.setattr(
        "sys.argv", ["/usr/bin/qualcode", "recode", "5", "--memo", "konkurrent i klyngen"]
    )
    assert command_line() == "qualcode recode 5 --memo 'konkurrent i klyngen'"
