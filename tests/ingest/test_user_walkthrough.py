"""Fixes from a user walkthrough: --replace, analyze, the respondent table, labels, init errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qualcode.cli.main import app
from qualcode.store import DEFAULT_INTERVIEWER_LABELS, open_store

R3 = """\
I: Hvordan bruker dere klyngen?
R3: Vi har snakket med kanskje ti av dem, og vi stoler på de fleste.
I: Og forumet?
R3: Workplace-forumet bruker vi mye, men vi er de eneste som poster noe der.
"""


@pytest.fixture
def proj(tmp_path: Path, runner) -> Path:
    folder = tmp_path / "proj"
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    return folder


def run(runner, proj: Path, *args: str):
    return runner.invoke(app, ["--project", str(proj), *args])


def one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith("error:") and "Traceback" not in result.output
    return lines[0]


def dump(proj: Path) -> dict:
    with open_store(proj) as store:
        return store.dump()


def corpus(tmp_path: Path, table: str | None = None) -> Path:
    """A folder with R3's interview (file R3_kvernes.txt) and, if given, a respondents.csv."""
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    (folder / "R3_kvernes.txt").write_text(R3, encoding="utf-8")
    (folder / "R4_forskning.txt").write_text("I: Hei?\nR4: Hei, hei.\n", encoding="utf-8")
    if table is not None:
        (folder / "respondents.csv").write_text(table, encoding="utf-8")
    return folder


TABLE = (
    "respondent,file,sector\n"
    "R3,R3_kvernes.txt,teknologi\n"
    "R4,R4_forskning.txt,FoU\n"
    "R5,R5_klyngeleder.txt,klynge\n"
)


def respondents_json(runner, proj: Path) -> list[dict]:
    result = run(runner, proj, "respondents", "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def add_coding(proj: Path, position: int, code: str, coder: str = "kari") -> None:
    with open_store(proj) as store:
        with store.write("test: codes") as tx:
            store.upsert_code(tx, code)
        seg = store.conn.execute(
            "SELECT s.id FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
            " WHERE t.name = 'R3_kvernes.txt' AND s.position = ?",
            (position,),
        ).fetchone()[0]
        with store.write("test: code", coder=coder) as tx:
            store.add_coding(tx, seg, code, coder)
            tx.conn.execute(
                "INSERT INTO memos (segment_id, coder, text, created_at) VALUES (?, ?, ?, '')",
                (seg, coder, f"memo on {position}"),
            )


# -- 1. --replace keeps the transcript's respondent ----------------------------------------------
def test_replace_of_a_single_file_keeps_its_respondent(runner, proj, tmp_path):
    folder = corpus(tmp_path, TABLE)
    assert run(runner, proj, "ingest", str(folder)).exit_code == 0
    # The corrected file sits in another folder, without a respondents.csv.
    fixed = tmp_path / "rettet"
    fixed.mkdir()
    (fixed / "R3_kvernes.txt").write_text(R3.replace("kanskje ti", "kanskje tolv"), "utf-8")
    result = run(runner, proj, "ingest", str(fixed / "R3_kvernes.txt"), "--replace")
    assert result.exit_code == 0, result.output
    people = {p["respondent"]: p for p in respondents_json(runner, proj)}
    assert sorted(people) == ["R3", "R4"]
    assert people["R3"]["transcripts"] == 1 and people["R3"]["turns"] == 2
    assert people["R3"]["sector"] == "teknologi"


def test_replace_with_respondent_named_moves_the_transcript(runner, proj, tmp_path):
    folder = corpus(tmp_path, TABLE)
    run(runner, proj, "ingest", str(folder))
    path = folder / "R3_kvernes.txt"
    path.write_text(R3.replace("R3:", "R9:"), encoding="utf-8")
    (folder / "respondents.csv").unlink()
    result = run(runner, proj, "ingest", str(path), "--replace", "--respondent", "R9")
    assert result.exit_code == 0, result.output
    people = {p["respondent"]: p for p in respondents_json(runner, proj)}
    assert people["R9"]["transcripts"] == 1 and people["R3"]["transcripts"] == 0


# -- 2. analyze refuses a changed transcript unless --replace ------------------------------------
def test_analyze_refuses_a_changed_transcript_like_ingest(runner, proj, tmp_path):
    folder = corpus(tmp_path, TABLE)
    assert run(runner, proj, "ingest", str(folder)).exit_code == 0
    (folder / "R3_kvernes.txt").write_text(R3 + "R3: Og en ting til.\n", encoding="utf-8")
    before = dump(proj)
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(proj)])
    line = one_error_line(result)
    assert "R3_kvernes.txt: changed since it was ingested" in line and "--replace" in line
    assert dump(proj) == before


def test_analyze_with_replace_re_segments(runner, proj, tmp_path):
    folder = corpus(tmp_path, TABLE)
    assert run(runner, proj, "ingest", str(folder)).exit_code == 0
    (folder / "R3_kvernes.txt").write_text(R3 + "R3: Og en ting til.\n", encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(folder), "--out", str(proj), "--replace"])
    assert result.exit_code == 0, result.output
    assert "1 replaced" in result.output
    people = {p["respondent"]: p for p in respondents_json(runner, proj)}
    assert people["R3"]["turns"] == 3
    # The same words as `code`: the turns that got a code, of the turns looked at.
    with open_store(proj) as store:
        coded, looked_at = store.conn.execute(
            "SELECT (SELECT count(DISTINCT c.segment_id) FROM codings c JOIN coders d"
            " ON d.id = c.coder_id WHERE d.name = 'auto'),"
            " (SELECT count(*) FROM segments WHERE role = 'respondent')"
        ).fetchone()
    assert f"Auto-coded {coded} of {looked_at} turns" in result.output


# -- 3, 5. the respondent table: a `file` column, no reserved attribute names --------------------
@pytest.mark.parametrize(
    "table, message",
    [
        (
            "respondent,sector\nR3,teknologi\nR4,FoU\n",
            "respondents.csv:1: missing the column 'file'",
        ),
        (
            "respondent,file,words\nR3,R3_kvernes.txt,mange\nR4,R4_forskning.txt,få\n",
            "respondents.csv:1: 'words' cannot be an attribute name",
        ),
        (
            "respondent;file;Turns\nR3;R3_kvernes.txt;2\nR4;R4_forskning.txt;1\n",
            "respondents.csv:1: 'turns' cannot be an attribute name",
        ),
        (
            "respondent,file,coded\nR3,R3_kvernes.txt,ja\nR4,R4_forskning.txt,nei\n",
            "respondents.csv:1: 'coded' cannot be an attribute name",
        ),
        (
            # A missing separator would shift the values into the wrong columns.
            "respondent,file,sector,size\nR3,R3_kvernes.txt,teknologi,12\nR4,R4_forskning.txt,FoU\n",
            "respondents.csv:3: 3 fields but the header has 4",
        ),
    ],
)
def test_bad_respondent_table_is_one_line_and_stores_nothing(
    runner, proj, tmp_path, table, message
):
    folder = corpus(tmp_path, table)
    before = dump(proj)
    assert message in one_error_line(run(runner, proj, "ingest", str(folder)))
    assert dump(proj) == before


@pytest.mark.parametrize("name", ["respondent", "file", "transcripts", "Words", "codes"])
def test_respondents_set_refuses_reserved_names(runner, proj, tmp_path, name):
    run(runner, proj, "ingest", str(corpus(tmp_path, TABLE)))
    before = dump(proj)
    # A good pair before the bad one: nothing of the command may land.
    result = run(runner, proj, "respondents", "set", "R3", "size=6", f"{name}=R9")
    line = one_error_line(result)
    assert f"{name}=R9" in line and "cannot be an attribute name" in line
    assert dump(proj) == before


# -- 6. configured interviewer labels are added to the defaults ----------------------------------
def test_config_interviewer_adds_to_the_defaults(runner, proj, tmp_path):
    result = run(runner, proj, "config", "interviewer", "I", "Intervjuer", "Moderator")
    assert result.exit_code == 0, result.output
    assert "I, Int, Intervjuer, Interviewer, Q, Moderator" in result.output
    path = tmp_path / "R1.txt"
    path.write_text(
        "Moderator: Hei?\nR1: Hei.\nInterviewer: Stoler dere på dem?\nR1: Ja.\nQ: Takk.\n",
        encoding="utf-8",
    )
    assert run(runner, proj, "ingest", str(path)).exit_code == 0
    records = json.loads(run(runner, proj, "segments", "-f", "json").stdout)
    assert [r["role"] for r in records] == [
        "interviewer",
        "respondent",
        "interviewer",
        "respondent",
        "interviewer",
    ]
    shown = run(runner, proj, "config", "show", "-f", "json").stdout
    assert "Interviewer" in shown and "Moderator" in shown


def test_a_project_set_without_the_defaults_still_reads_them(runner, proj, tmp_path):
    # A project configured before the defaults always counted holds only its own labels.
    with open_store(proj) as store, store.write("old config") as tx:
        store.set_setting(tx, "interviewer_labels", ["Moderator"])
    path = tmp_path / "R1.txt"
    path.write_text("Moderator: Hei?\nR1: Hei.\nQ: Og tillit?\nR1: Ja.\n", encoding="utf-8")
    run(runner, proj, "ingest", str(path))
    records = json.loads(run(runner, proj, "segments", "-f", "json").stdout)
    assert [r["role"] for r in records] == ["interviewer", "respondent"] * 2
    settings = json.loads(run(runner, proj, "config", "show", "-f", "json").stdout)
    shown = next(s["value"] for s in settings if s["setting"] == "interviewer_labels")
    assert shown.split(", ") == [*DEFAULT_INTERVIEWER_LABELS, "Moderator"]


# -- 7. no warnings about the table's other rows when single files are named --------------------
def test_single_file_ingest_does_not_warn_about_other_rows(runner, proj, tmp_path):
    folder = corpus(tmp_path, TABLE)
    result = run(runner, proj, "ingest", str(folder / "R3_kvernes.txt"))
    assert result.exit_code == 0 and "warning" not in result.output, result.output
    # A named folder still gets the warning for the row whose file is missing.
    result = run(runner, proj, "ingest", str(folder))
    assert "R5's file R5_klyngeleder.txt was not among the files" in result.output
    assert "R3_kvernes" not in result.output.split("warning")[-1]


# -- 8. codings follow a turn with a small correction -------------------------------------------
def test_replace_carries_codings_to_a_corrected_turn(runner, proj, tmp_path):
    folder = corpus(tmp_path, TABLE)
    run(runner, proj, "ingest", str(folder))
    add_coding(proj, 2, "tillit")
    add_coding(proj, 4, "forum")
    # One word fixed in turn 2, turn 4 rewritten: turn 2's coding follows, turn 4's is lost.
    (folder / "R3_kvernes.txt").write_text(
        R3.replace("kanskje ti av dem", "kanskje tolv av dem").replace(
            "Workplace-forumet bruker vi mye, men vi er de eneste som poster noe der.",
            "Vi bruker ikke forumet.",
        ),
        encoding="utf-8",
    )
    result = run(runner, proj, "ingest", str(folder), "--replace")
    assert result.exit_code == 0, result.output
    assert "kari's coding tillit was carried over to the corrected turn 2" in result.output
    assert "kari's coding forum could not be carried over" in result.output
    assert "0 codings carried over, 1 carried over to a corrected turn, 1 not carried" in (
        result.output
    )
    with open_store(proj) as store:
        coded = store.conn.execute(
            "SELECT s.position, s.text FROM codings c JOIN segments s ON s.id = c.segment_id"
        ).fetchall()
        assert coded == [(2, R3.splitlines()[1][4:].replace("ti av", "tolv av"))]
        memos = store.conn.execute(
            "SELECT s.position, m.text FROM memos m JOIN segments s ON s.id = m.segment_id"
        ).fetchall()
        assert memos == [(2, "memo on 2")]
        logged = store.conn.execute(
            "SELECT action, code_path, detail FROM audit_log WHERE action LIKE 'replace_%'"
            " ORDER BY id"
        ).fetchall()
    actions = [(action, code) for action, code, _ in logged]
    assert ("replace_corrected_coding", "tillit") in actions
    assert ("replace_lost_coding", "forum") in actions
    detail = json.loads(next(d for a, _, d in logged if a == "replace_corrected_coding"))
    assert "ti av dem" in detail["old_text"] and "tolv av dem" in detail["new_text"]


def test_exact_match_is_preferred_to_a_corrected_turn(runner, proj, tmp_path):
    folder = corpus(tmp_path, TABLE)
    run(runner, proj, "ingest", str(folder))
    add_coding(proj, 2, "tillit")
    # A near copy of turn 2 is inserted before it: the coding stays on the unchanged text.
    turn = R3.splitlines()[1]
    near = turn.replace("ti av", "tolv av")
    (folder / "R3_kvernes.txt").write_text(
        R3.replace(turn, f"{near}\nI: Og så?\n{turn}"), encoding="utf-8"
    )
    result = run(runner, proj, "ingest", str(folder), "--replace")
    assert "1 codings carried over" in result.output and "corrected" not in result.output
    with open_store(proj) as store:
        assert store.conn.execute(
            "SELECT s.position FROM codings c JOIN segments s ON s.id = c.segment_id"
        ).fetchall() == [(4,)]


# -- 9. init errors are one line -----------------------------------------------------------------
def test_init_where_no_folder_can_be_made_is_one_line(runner, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    line = one_error_line(runner.invoke(app, ["init", str(blocker / "thesis")]))
    assert "a-file/thesis: cannot create the project folder" in line


def test_init_without_permission_is_one_line(runner, tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    line = one_error_line(runner.invoke(app, ["init", str(tmp_path / "thesis")]))
    assert "thesis: cannot create the project folder: Permission denied" in line


# -- 10. respondents in natural order, attributes in the table's order ---------------------------
def test_respondents_natural_order_and_table_column_order(runner, proj, tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    rows = []
    for n in (1, 2, 10, 11):
        (folder / f"P{n}.txt").write_text(f"I: Hei?\nP{n}: Hei.\n", encoding="utf-8")
        rows.append(f"P{n},P{n}.txt,{n},sektor{n},a{n}")
    (folder / "respondents.csv").write_text(
        "respondent,file,size,sector,alder\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    assert run(runner, proj, "ingest", str(folder)).exit_code == 0
    header, *lines = run(runner, proj, "respondents", "-f", "csv").stdout.splitlines()
    assert header == "respondent,size,sector,alder,transcripts,turns,words"
    assert [line.split(",")[0] for line in lines] == ["P1", "P2", "P10", "P11"]


# -- 11. a label-less note in the folder: the error says where notes belong ----------------------
def test_a_note_in_the_folder_is_an_error_that_says_where_notes_go(runner, proj, tmp_path):
    folder = corpus(tmp_path, TABLE)
    (folder / "notater.md").write_text("Husk å spørre R4 om forumet.\n", encoding="utf-8")
    before = dump(proj)
    line = one_error_line(run(runner, proj, "ingest", str(folder)))
    assert "notater.md: no speaker labels found" in line
    assert "notes that are not transcripts in a README file, a subfolder" in line
    assert dump(proj) == before
