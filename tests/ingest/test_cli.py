"""The project commands through Typer's runner on a temporary project."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from qualcode.cli.main import app
from qualcode.store import open_store


@pytest.fixture
def proj(tmp_path: Path, runner) -> Path:
    folder = tmp_path / "proj"
    result = runner.invoke(app, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "qualcode.db").is_file()
    return folder


def run(runner, proj: Path, *args: str):
    return runner.invoke(app, ["--project", str(proj), *args])


def test_ingest_segments_csv_interface(runner, proj, small_corpus):
    result = run(runner, proj, "ingest", str(small_corpus))
    assert result.exit_code == 0, result.output
    assert "2 added" in result.output
    result = run(runner, proj, "segments", "--respondent", "R2", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "segment_id",
        "transcript",
        "respondent",
        "position",
        "speaker",
        "role",
        "start",
        "end",
        "text",
    ]
    assert [r[5] for r in rows[1:]] == ["interviewer", "respondent", "interviewer", "respondent"]
    assert rows[2][8].startswith("Ja, [konkurrent] er jo en konkurrent")


def test_segments_role_filter_json(runner, proj, small_corpus):
    run(runner, proj, "ingest", str(small_corpus))
    result = run(runner, proj, "segments", "--role", "interviewer", "-f", "json")
    records = json.loads(result.stdout)
    assert {r["role"] for r in records} == {"interviewer"} and len(records) == 5


def test_respondents_list_and_set(runner, proj, small_corpus):
    run(runner, proj, "ingest", str(small_corpus))
    result = run(runner, proj, "respondents", "set", "R1", "sector=verksted", "mode=video")
    assert result.exit_code == 0, result.output
    records = json.loads(run(runner, proj, "respondents", "-f", "json").stdout)
    r1 = next(r for r in records if r["respondent"] == "R1")
    assert r1["sector"] == "verksted" and r1["mode"] == "video" and r1["turns"] == 3
    result = run(runner, proj, "respondents", "set", "R99", "sector=x")
    assert result.exit_code != 0 and "R99" in result.output


def test_respondents_set_with_several_pairs_is_one_command(runner, proj, small_corpus):
    from qualcode.store import open_store

    run(runner, proj, "ingest", str(small_corpus))
    result = run(runner, proj, "respondents", "set", "R1", "sector=verksted", "mode=video")
    assert result.exit_code == 0, result.output
    with open_store(proj) as store:
        last = store.conn.execute("SELECT max(command_id) FROM audit_log").fetchone()[0]
        commands = store.conn.execute(
            "SELECT command_id FROM audit_log WHERE action = 'set_attribute' AND command_id = ?",
            (last,),
        ).fetchall()
    # One transaction and one audit command for both changes, so one undo step reverts both.
    assert len(commands) == 2


def test_show_prints_turns_with_ids(runner, proj, small_corpus):
    run(runner, proj, "ingest", str(small_corpus))
    result = run(runner, proj, "show", "R1")
    assert result.exit_code == 0
    assert "R1.txt" in result.output and "[2] R1: Altså" in result.output


@pytest.mark.parametrize(
    "setup, args, message",
    [
        (None, ["ingest", "{d}/missing.txt"], "missing.txt: no such file"),
        ("empty.txt", ["ingest", "{d}/empty.txt"], "empty.txt: empty file"),
        ("binary.txt", ["ingest", "{d}/binary.txt"], "binary.txt: binary data"),
        ("corrupt.docx", ["ingest", "{d}/corrupt.docx"], "corrupt.docx: not a readable .docx"),
        ("notes.pdf", ["ingest", "{d}/notes.pdf"], "notes.pdf: unknown file type"),
        ("nolabels.txt", ["ingest", "{d}/nolabels.txt"], "nolabels.txt: no speaker labels"),
    ],
)
def test_bad_input_is_one_line_nonzero_store_unchanged(
    runner, proj, tmp_path, setup, args, message
):
    content = {
        "empty.txt": b"",
        "binary.txt": b"\x00\xff\x10" * 100,
        "corrupt.docx": b"PK\x03\x04garbage",
        "notes.pdf": b"%PDF",
        "nolabels.txt": b"Bare fritekst uten navn.\n",
    }
    if setup:
        (tmp_path / setup).write_bytes(content[setup])
    with open_store(proj) as store:
        before = store.dump()
    result = run(runner, proj, *[a.format(d=tmp_path) for a in args])
    assert result.exit_code == 2
    assert message in result.output
    error_lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(error_lines) == 1 and error_lines[0].startswith("error:")
    assert "Traceback" not in result.output
    with open_store(proj) as store:
        assert store.dump() == before


def test_no_project_is_a_clear_error(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["segments"])
    assert result.exit_code == 2 and "no qualcode project" in result.output


def test_project_found_from_a_subfolder(runner, proj, small_corpus, monkeypatch):
    run(runner, proj, "ingest", str(small_corpus))
    sub = proj / "notater"
    sub.mkdir()
    monkeypatch.chdir(sub)
    result = runner.invoke(app, ["segments", "-f", "json"])
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 10


def test_config_interviewer_labels(runner, proj, tmp_path):
    assert run(runner, proj, "config", "interviewer", "Moderator", "I").exit_code == 0
    path = tmp_path / "R1.txt"
    path.write_text("Moderator: Hei?\nR1: Hei.\n", encoding="utf-8")
    run(runner, proj, "ingest", str(path))
    records = json.loads(run(runner, proj, "segments", "-f", "json").stdout)
    assert [r["role"] for r in records] == ["interviewer", "respondent"]


def test_version_and_help(runner):
    assert runner.invoke(app, ["--version"]).output.startswith("qualcode ")
    assert "ingest" in runner.invoke(app, ["--help"]).output


@pytest.mark.parametrize(
    "files, message",
    [
        ({"R1.txt": b"I: hei\nR1: \x81\x8d\x8f\n"}, "R1.txt:2: cannot decode"),
        (
            {"R1.txt": b"I: hei\nR1: ja\n", "respondents.csv": b"navn,file\nR1,R1.txt\n"},
            "respondents.csv:1: missing the column 'respondent'",
        ),
        (
            {
                "R1.txt": b"I: hei\nR1: ja\n",
                "respondents.csv": b"respondent,file\nR1,R1.txt\nR1,\n",
            },
            "respondents.csv:3: duplicate respondent R1",
        ),
        ({"R1.txt": b"I: hei\nR1: ja\n", "R2.txt": b""}, "R2.txt: empty file"),
    ],
)
def test_bad_folder_input_is_one_line_and_stores_nothing(runner, proj, tmp_path, files, message):
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    with open_store(proj) as store:
        before = store.dump()
    result = run(runner, proj, "ingest", str(folder))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    with open_store(proj) as store:
        assert store.dump() == before


def test_analyze_reports_a_bad_file_and_creates_no_half_project(runner, tmp_path):
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    (folder / "R1.txt").write_text("I: Hei?\nR1: Vi stoler på hverandre.\n", encoding="utf-8")
    (folder / "R2.docx").write_bytes(b"PK\x03\x04 broken")
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert result.exit_code == 2 and "R2.docx" in result.output
    with open_store(out) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM transcripts").fetchone()[0] == 0
