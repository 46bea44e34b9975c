"""Passages (a coding covering part of a turn) and progress (a coder marks a transcript done)."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

import pytest
from docx import Document

from qualcode.agreement import agreement
from qualcode.cli.main import app
from qualcode.evaluate import evaluate
from qualcode.export.codings import export_codings, import_codings
from qualcode.ingest import ingest_paths
from qualcode.progress import mark_done, progress_rows
from qualcode.reports import freq
from qualcode.store import SCHEMA_VERSION, Store, open_store

DATA = Path(__file__).resolve().parents[1] / "data"

R1 = """\
I: Stoler dere på de andre i klyngen?
R1: Ja, vi stoler på hverandre. Vi har jobbet sammen i mange år, og vi stoler på dem.
I: Og konkurrentene?
R1: Konkurrentene sitter i samme rom, men priser deler vi aldri.
"""
R2 = """\
I: Hva gjør klyngeledelsen?
R2: Klyngeledelsen arrangerer samlinger. Altså, de er limet i det hele.
I: Noe mer?
R2: Nei, egentlig ikke.
"""


@pytest.fixture
def two(project: Store, tmp_path: Path, make_codes) -> Store:  # type: ignore[no-untyped-def]
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    (folder / "R1.txt").write_text(R1, encoding="utf-8")
    (folder / "R2.txt").write_text(R2, encoding="utf-8")
    ingest_paths(project, [folder], command="test: ingest")
    make_codes(project, ["tillit", "samkonkurranse", "fasilitering"])
    return project


def turn(store: Store, transcript: str, position: int) -> tuple[int, str]:
    return store.conn.execute(
        "SELECT s.id, s.text FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
        " WHERE t.name = ? AND s.position = ?",
        (transcript, position),
    ).fetchone()


def run(runner, store: Store, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--project", str(store.folder), *args])


def passages(store: Store, coder: str) -> list[tuple[int, str, int | None, int | None]]:
    return store.conn.execute(
        "SELECT c.segment_id, k.path, c.quote_start, c.quote_end FROM codings c"
        " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id WHERE d.name = ?"
        " ORDER BY c.segment_id, k.path, c.quote_start",
        (coder,),
    ).fetchall()


# -- the store ---------------------------------------------------------------------------------
def test_migration_from_a_store_of_the_previous_release(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    shutil.copy(DATA / "store_v1.db", folder / "qualcode.db")
    raw = sqlite3.connect(folder / "qualcode.db")
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
    before = raw.execute(
        "SELECT id, segment_id, code_id, coder_id, source, evidence, memo FROM codings ORDER BY id"
    ).fetchall()
    sequence = raw.execute("SELECT seq FROM sqlite_sequence WHERE name = 'codings'").fetchone()
    raw.close()
    with open_store(folder) as store:
        conn = store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        after = conn.execute(
            "SELECT id, segment_id, code_id, coder_id, source, evidence, memo FROM codings"
            " ORDER BY id"
        ).fetchall()
        assert after == before  # every coding kept, with its id
        assert conn.execute(
            "SELECT COUNT(*) FROM codings WHERE quote_start IS NOT NULL"
        ).fetchone() == (0,)
        assert (
            conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'codings'").fetchone()
            == sequence
        )
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # What the old rule counted as coded by the students is done now: figures unchanged.
        done = {
            (coder, n)
            for coder, n in conn.execute(
                "SELECT d.name, COUNT(*) FROM transcripts_done t JOIN coders d"
                " ON d.id = t.coder_id GROUP BY d.name"
            )
        }
        assert done == {("kari", 4), ("jonas", 4)}
        report = agreement(store, ["kari", "jonas"])
        assert report.n_units > 0 and report.not_seen_by_all == []
        # The migrated store takes passages, and undo still finds the old codings by id.
        seg = conn.execute("SELECT id FROM segments WHERE role = 'respondent' LIMIT 1").fetchone()
        with store.write("test: passage", coder="kari") as tx:
            assert store.add_coding(tx, seg[0], "tillit", "kari", quote=(0, 5))


def test_overlapping_passages_merge_and_undo_restores_them(two: Store, runner) -> None:  # type: ignore[no-untyped-def]
    seg, text = turn(two, "R1.txt", 2)
    first = text.index("vi stoler på hverandre")
    with two.write("test", coder="kari") as tx:
        assert two.add_coding(tx, seg, "tillit", "kari", quote=(first, first + 10), memo="a")
    result = run(
        runner,
        two,
        "recode",
        str(seg),
        "--add",
        "tillit",
        "--span",
        f"{first + 5}:{first + 22}",
        "-m",
        "b",
        "-c",
        "kari",
    )
    assert result.exit_code == 0, result.output
    assert passages(two, "kari") == [(seg, "tillit", first, first + 22)]
    memo = two.conn.execute("SELECT memo FROM codings").fetchone()[0]
    assert memo == "a"  # the coding's own memo is kept; -m writes a memo on the segment
    # A passage inside one already coded changes nothing.
    with two.write("test", coder="kari") as tx:
        assert not two.add_coding(tx, seg, "tillit", "kari", quote=(first + 1, first + 4))
    assert run(runner, two, "undo", "-c", "kari").exit_code == 0
    assert passages(two, "kari") == [(seg, "tillit", first, first + 10)]


def test_quote_not_found_ambiguous_and_occurrence(two: Store, runner) -> None:  # type: ignore[no-untyped-def]
    seg, text = turn(two, "R1.txt", 2)
    before = two.dump()
    missing = run(
        runner, two, "recode", str(seg), "-a", "tillit", "-q", "vi stoler ikke", "-c", "kari"
    )
    assert missing.exit_code == 2
    assert f"segment {seg}" in missing.stderr and "does not occur" in missing.stderr
    assert "Traceback" not in missing.output
    twice = run(runner, two, "recode", str(seg), "-a", "tillit", "-q", "vi stoler på", "-c", "kari")
    assert twice.exit_code == 2 and "2 times" in twice.stderr and "--occurrence" in twice.stderr
    outside = run(runner, two, "recode", str(seg), "-a", "tillit", "--span", "3:9999", "-c", "kari")
    assert outside.exit_code == 2 and f"outside segment {seg}" in outside.stderr
    assert two.dump() == before
    picked = run(
        runner,
        two,
        "recode",
        str(seg),
        "-a",
        "tillit",
        "-q",
        "vi stoler på",
        "--occurrence",
        "2",
        "-c",
        "kari",
    )
    assert picked.exit_code == 0, picked.output
    second = text.rindex("vi stoler på")
    assert passages(two, "kari") == [(seg, "tillit", second, second + len("vi stoler på"))]


# -- reports and files -----------------------------------------------------------------------
def test_a_passage_in_the_word_quote_table_is_the_passage(
    two: Store, runner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    seg, _ = turn(two, "R1.txt", 2)
    passage = "Vi har jobbet sammen i mange år"
    assert (
        run(runner, two, "recode", str(seg), "-a", "tillit", "-q", passage, "-c", "kari").exit_code
        == 0
    )
    mark_done(two, ["R1"], "kari")
    out = tmp_path / "sitater.docx"
    result = run(runner, two, "report", "quotes", "--coder", "kari", "-o", str(out))
    assert result.exit_code == 0, result.output
    cells = [c.text for t in Document(str(out)).tables for row in t.rows for c in row.cells]
    quoted = [c for c in cells if "jobbet sammen" in c]
    assert quoted and all(passage in c for c in quoted)
    assert all("stoler på hverandre" not in c for c in quoted)  # not the whole turn
    assert any(c.strip(' “”"«»').startswith("… " + passage + " …") for c in quoted), quoted


def test_codings_csv_round_trip_with_passages(two: Store, tmp_path: Path) -> None:
    seg, text = turn(two, "R1.txt", 2)
    start = text.index("stoler på hverandre")
    with two.write("test", coder="kari") as tx:
        two.add_coding(tx, seg, "tillit", "kari", quote=(start, start + 19))
        two.add_coding(tx, seg, "samkonkurranse", "kari")
    path = tmp_path / "kari.csv"
    export_codings(two, path, "kari", pseudonymise=False)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    assert header[-3:] == ["quote_start", "quote_end", "quote"]
    by_code = {r["code"]: r for r in rows}
    assert by_code["tillit"]["quote"] == "stoler på hverandre"
    assert (by_code["tillit"]["quote_start"], by_code["tillit"]["quote_end"]) == (
        str(start),
        str(start + 19),
    )
    assert by_code["samkonkurranse"]["quote"] == ""
    # Into another layer (the coder column emptied): exactly the same passages.
    for row in rows:
        row["coder"] = ""
    start_file = tmp_path / "start.csv"
    with start_file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    import_codings(two, start_file, "jonas")
    assert passages(two, "jonas") == passages(two, "kari")
    # A quote only (no offsets) is found in the turn; one that is not there names the row.
    edited = tmp_path / "edited.csv"
    rows[0].update(quote_start="", quote_end="", quote="jobbet sammen")
    with edited.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    plan = import_codings(two, edited, "jonas", dry_run=True)
    found = text.index("jobbet sammen")
    assert any(k[2:] == (found, found + 13) for k in plan.added)
    rows[0].update(quote_start=str(start), quote_end=str(start + 19), quote="helt andre ord")
    with edited.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    before = two.dump()
    with pytest.raises(Exception, match=r"edited.csv:2: .*no longer matches segment"):
        import_codings(two, edited, "jonas")
    assert two.dump() == before


# -- progress --------------------------------------------------------------------------------
def test_half_coded_transcript_is_left_out_until_done(two: Store, runner) -> None:  # type: ignore[no-untyped-def]
    r1, _ = turn(two, "R1.txt", 2)
    r1b, _ = turn(two, "R1.txt", 4)
    r2, _ = turn(two, "R2.txt", 2)
    with two.write("test", coder="kari") as tx:
        two.add_coding(tx, r1, "tillit", "kari")
        two.add_coding(tx, r1b, "samkonkurranse", "kari")
        two.add_coding(tx, r2, "fasilitering", "kari")
    with two.write("test", coder="jonas") as tx:
        two.add_coding(tx, r1, "tillit", "jonas")
        two.add_coding(tx, r2, "fasilitering", "jonas")
    mark_done(two, ["R1.txt"], "kari")
    mark_done(two, ["R1.txt"], "jonas")
    # R2 is in progress for both: left out of frequencies, agreement and evaluate, with a note.
    table = freq(two, coder="kari")
    assert "R2" not in table.columns and "R1" in table.columns
    assert table.attrs["in_progress"] == ["R2.txt"]
    assert agreement(two, ["kari", "jonas"]).n_units == 2
    assert evaluate(two, "kari", "jonas").n_units == 2
    shown = run(runner, two, "report", "freq", "--coder", "kari")
    assert shown.exit_code == 0 and "R2.txt" in shown.stderr
    noted = run(runner, two, "agreement", "kari", "jonas")
    assert "kari: R2.txt" in noted.stderr and "--include-in-progress" in noted.stderr
    counted = run(runner, two, "agreement", "kari", "jonas", "--include-in-progress", "-f", "json")
    assert counted.exit_code == 0 and '"n_units": 4' in counted.stdout
    # Marking it done includes it.
    assert run(runner, two, "done", "R2", "-c", "kari").exit_code == 0
    assert run(runner, two, "done", "R2.txt", "-c", "jonas").exit_code == 0
    assert "R2" in freq(two, coder="kari").columns
    assert agreement(two, ["kari", "jonas"]).n_units == 4
    assert evaluate(two, "kari", "jonas").n_units == 4
    statuses = {(r.transcript, r.coder): r.status for r in progress_rows(two)}
    assert set(statuses.values()) == {"done"}
    listed = run(runner, two, "progress", "-f", "csv")
    assert listed.stdout.splitlines()[0] == "transcript,respondent,coder,status,coded_turns,turns"
    assert "R2.txt,R2,kari,done,1,2" in listed.stdout
    # Undo takes the last mark back, and says what it was.
    undone = run(runner, two, "undo", "-c", "jonas")
    assert undone.exit_code == 0 and "1 done mark" in undone.stderr
    assert "coding change" not in undone.stderr
    assert agreement(two, ["kari", "jonas"]).n_units == 2


def test_read_with_nothing_to_code_by_done_and_by_import(
    two: Store, runner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    r1, _ = turn(two, "R1.txt", 2)
    r2, _ = turn(two, "R2.txt", 2)
    with two.write("test", coder="kari") as tx:
        two.add_coding(tx, r1, "tillit", "kari")
        two.add_coding(tx, r2, "fasilitering", "kari")
    mark_done(two, ["R1", "R2"], "kari")
    # Jonas read R1 and found nothing: `done` alone records it.
    assert run(runner, two, "done", "R1", "-c", "jonas", "--new-coder").exit_code == 0
    assert agreement(two, ["kari", "jonas"]).n_units == 2
    # Ola read R2 and found nothing: a codings file row with a segment id and no code.
    sheet = tmp_path / "ola.csv"
    sheet.write_text(f"segment_id,code\n{r2},\n", encoding="utf-8")
    plan = import_codings(two, sheet, "ola")
    assert not plan.changed and plan.to_mark_done
    statuses = {(r.transcript, r.coder): r.status for r in progress_rows(two)}
    assert statuses[("R2.txt", "ola")] == "done" and statuses[("R1.txt", "ola")] == "not started"
    report = agreement(two, ["kari", "ola"])
    assert report.n_units == 2  # R2's two respondent turns, compared as "no code" for Ola


def test_done_errors_leave_the_store_unchanged(two: Store, runner) -> None:  # type: ignore[no-untyped-def]
    before = two.dump()
    unknown = run(runner, two, "done", "R1", "R9", "-c", "kari", "--new-coder")
    assert unknown.exit_code == 2 and "R9" in unknown.stderr and "Traceback" not in unknown.output
    assert run(runner, two, "done", "R1", "-c", "auto").exit_code == 2
    assert two.dump() == before


def test_review_marks_the_transcript_done_when_its_last_item_is_decided(two: Store) -> None:
    from qualcode.review import start_review

    r1, _ = turn(two, "R1.txt", 2)
    r1b, _ = turn(two, "R1.txt", 4)
    with two.write("test: draft") as tx:
        two.add_coding(tx, r1, "tillit", "auto", source="auto")
        two.add_coding(tx, r1b, "samkonkurranse", "auto", source="auto")
    session = start_review(two, "kari", "auto", respondent="R1")
    session.accept()
    assert {r.status for r in progress_rows(two, "kari") if r.transcript == "R1.txt"} == {
        "in progress"
    }
    session.reject()
    assert {r.status for r in progress_rows(two, "kari") if r.transcript == "R1.txt"} == {"done"}


def test_in_progress_note_in_a_report_file_names_no_firm(project: Store, tmp_path: Path) -> None:
    import zipfile

    from qualcode.export.report_files import write_full_report

    folder = tmp_path / "intervjuer"
    folder.mkdir()
    (folder / "R1_fjordal.txt").write_text(R1, encoding="utf-8")
    (folder / "R2_vestbymek.txt").write_text(R2, encoding="utf-8")
    ingest_paths(project, [folder], command="test: ingest")
    with project.write("test: codes") as tx:
        project.upsert_code(tx, "tillit")
    r1, _ = turn(project, "R1_fjordal.txt", 2)
    r2, _ = turn(project, "R2_vestbymek.txt", 2)
    with project.write("test", coder="kari") as tx:
        project.add_coding(tx, r1, "tillit", "kari")
        project.add_coding(tx, r2, "tillit", "kari")
    mark_done(project, ["R1"], "kari")  # R2 is still in progress
    docx, xlsx = write_full_report(project, tmp_path / "rapport", coder="kari", lang="nb")
    for path in (docx, xlsx):
        with zipfile.ZipFile(path) as archive:
            xml = " ".join(
                archive.read(n).decode("utf-8", "replace").casefold()
                for n in archive.namelist()
                if n.endswith(".xml")
            )
        assert "vestby" not in xml and "fjordal" not in xml, path
        assert "ferdig" in xml and "r2.txt" in xml  # the note, in bokmål, by respondent


def test_analyze_keeps_the_codebook_the_project_has(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    (folder / "R1.txt").write_text(R1, encoding="utf-8")
    out = tmp_path / "prosjekt"
    first = runner.invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert "no pseudonyms.csv in the project" in first.stderr  # the report holds every name
    mine = tmp_path / "min.yaml"
    mine.write_text(
        "name: Min kodebok\ncodes:\n  - id: tillit\n    keywords: [stoler]\n", encoding="utf-8"
    )
    loaded = runner.invoke(app, ["-p", str(out), "codebook", "load", str(mine)])
    assert loaded.exit_code == 0, loaded.output
    again = runner.invoke(app, ["analyze", str(folder), "--out", str(out)])
    assert again.exit_code == 0, again.output
    with open_store(out) as store:
        assert store.code_paths() == ["tillit"]  # not swapped back to the shipped codebook


def test_code_with_a_codebook_without_rules_leaves_the_draft(two: Store, runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r1, _ = turn(two, "R1.txt", 2)
    with two.write("test: draft") as tx:
        two.add_coding(tx, r1, "tillit", "auto", source="auto")
    bare = tmp_path / "fra-nvivo.yaml"
    bare.write_text("name: Fra NVivo\ncodes:\n  - id: tillit\n    name: Tillit\n", encoding="utf-8")
    before = two.dump()
    result = run(runner, two, "code", "--codebook", str(bare))
    assert result.exit_code == 2 and "no matching rules" in result.stderr
    assert passages(two, "auto") == [(r1, "tillit", None, None)]
    assert two.dump() == before  # nothing installed either


def test_consistency_order_leaves_out_transcripts_in_progress(two: Store) -> None:
    from qualcode.consistency import coding_order

    r1, _ = turn(two, "R1.txt", 2)
    r2, _ = turn(two, "R2.txt", 2)
    with two.write("test", coder="kari") as tx:
        two.add_coding(tx, r1, "tillit", "kari")
        two.add_coding(tx, r2, "fasilitering", "kari")
    mark_done(two, ["R1"], "kari")
    assert [name for _, name in coding_order(two, "kari")] == ["R1.txt"]
    names = [n for _, n in coding_order(two, "kari", include_in_progress=True)]
    assert names == ["R1.txt", "R2.txt"]


def test_codebook_load_says_warning_once(two: Store, runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    book = tmp_path / "bok.yaml"
    book.write_text(
        "name: Bok\ncodes:\n  - id: tillit\n    keywords: [stoler]\n  - id: tom\n    name: Tom\n",
        encoding="utf-8",
    )
    result = run(runner, two, "codebook", "load", str(book))
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stderr.splitlines() if "'tom'" in x)
    assert line.count("warning:") == 1 and line.startswith("warning: ") and "bok.yaml:5" in line
