"""What a newcomer ran into after the performance round: an edited codebook file used without a
word, an interrupted lexicon build, and look-up options taken as they came."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qualcode.cli.main import app
from qualcode.codebook import Codebook, edited_since_loaded, load_codebook
from qualcode.store import Store

REPO = Path(__file__).resolve().parents[2]
KLYNGE = REPO / "codebooks" / "klynge.yaml"


def _run(runner, store: Store, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["-p", str(store.folder), *args])


def test_code_says_when_the_loaded_codebook_file_was_edited(runner, ingested: Store, tmp_path: Path):
    mine = tmp_path / "mine.yaml"
    shutil.copy(KLYNGE, mine)
    first = _run(runner, ingested, "code", "--codebook", str(mine))
    assert first.exit_code == 0, first.output
    again = _run(runner, ingested, "code")
    assert "has changed since it was loaded" not in again.output

    mine.write_text(mine.read_text(encoding="utf-8") + "\n# ny kommentar\n", encoding="utf-8")
    edited = _run(runner, ingested, "code")
    assert edited.exit_code == 0, edited.output
    assert (
        f"warning: {mine} has changed since it was loaded; this uses the loaded version "
        f"(load the edit: qualcode codebook load {mine})"
    ) in " ".join(edited.output.split())

    load = _run(runner, ingested, "codebook", "load", str(mine))
    assert load.exit_code == 0, load.output
    # No code was added or changed, but the file was: not "0 added, 0 updated".
    assert "installed (version 2): the same codes, with changed rules or texts." in " ".join(
        load.output.split()
    )
    loaded = _run(runner, ingested, "code")
    assert "has changed since it was loaded" not in loaded.output


def test_only_a_yaml_source_is_compared(tmp_path: Path):
    book = load_codebook(KLYNGE)
    assert not edited_since_loaded(book)
    # A codebook imported from a REFI-QDA file is stored as YAML made from it: never "edited".
    qdpx = tmp_path / "prosjekt.qdpx"
    qdpx.write_bytes(b"PK\x03\x04 not yaml")
    imported = Codebook(name=book.name, codes=book.codes, content=book.content,
                        source_path=str(qdpx))
    assert not edited_since_loaded(imported)
    gone = Codebook(name=book.name, codes=book.codes, content=book.content,
                    source_path=str(tmp_path / "borte.yaml"))
    assert not edited_since_loaded(gone)


def test_explain_refuses_an_unknown_unit(runner, ingested: Store):
    result = _run(runner, ingested, "explain", "2", "--codebook", str(KLYNGE), "--unit", "avsnitt")
    assert result.exit_code == 2
    assert result.output.strip() == "error: unknown unit 'avsnitt'; use turn or sentence"


def test_search_context_width(runner, ingested: Store):
    negative = _run(runner, ingested, "search", "klyngen", "--width", "-5")
    assert negative.exit_code == 2
    assert "context width must be 0 or more" in negative.output
    rows = json.loads(_run(runner, ingested, "search", "klyngen", "--width", "0", "-f", "json").output)
    assert rows and all(r["left"] in ("", "…") and r["right"] in ("", "…") for r in rows)


def test_an_interrupted_lexicon_build_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from qualcode import nlp

    def stop(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(nlp, "lexicon_build_listeners", [stop])
    with pytest.raises(KeyboardInterrupt):
        nlp.build_lexicon(tmp_path / "lexicon.sqlite")
    assert list(tmp_path.iterdir()) == []


# The console script, with the lexicon missing and its build interrupted by Ctrl-C once started.
_INTERRUPTED = """
import sys
from qualcode import nlp

def build_then_ctrl_c(path):
    for listener in nlp.lexicon_build_listeners:
        listener(0, 6)
    raise KeyboardInterrupt

nlp.build_lexicon = build_then_ctrl_c
sys.argv = ["qualcode", *sys.argv[1:]]
from qualcode.cli.main import run
run()
"""


def test_ctrl_c_in_the_lexicon_build_is_one_line(ingested: Store, tmp_path: Path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "empty-cache"), "COLUMNS": "200"}
    child = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED, "-p", str(ingested.folder), "explain", "2",
         "--codebook", str(KLYNGE)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert child.returncode == 130
    lines = [line for line in child.stderr.splitlines() if line.strip()]
    assert lines == [
        "interrupted: the unfinished command changed nothing (finished steps are kept)"
    ], child.stderr


def test_ingest_takes_the_folders_pseudonyms_like_analyze(runner, project: Store, small_corpus: Path):
    (small_corpus / "pseudonyms.csv").write_text(
        "original,replacement\nFjordal Aluminium,[bedriften]\n", encoding="utf-8"
    )
    result = _run(runner, project, "ingest", str(small_corpus))
    assert result.exit_code == 0, result.output
    kept = project.folder / "pseudonyms.csv"
    assert kept.read_text(encoding="utf-8") == (small_corpus / "pseudonyms.csv").read_text(
        encoding="utf-8"
    )
    assert f"Pseudonyms: {kept} (applied to every report and export)" in " ".join(
        result.output.split()
    )
    # The project's own list wins once it exists: the student may have extended it there.
    kept.write_text("original,replacement\nFjordal Aluminium,[firma]\nKari,[navn]\n", encoding="utf-8")
    (small_corpus / "R3.txt").write_text("I: Og så?\nR3: Ja, det går fint.\n", encoding="utf-8")
    again = _run(runner, project, "ingest", str(small_corpus))
    assert again.exit_code == 0, again.output
    assert "Kari,[navn]" in kept.read_text(encoding="utf-8")
    assert "Pseudonyms:" not in again.output


def test_a_bad_pseudonym_list_stops_the_ingest_before_anything_is_stored(
    runner, project: Store, small_corpus: Path
):
    (small_corpus / "pseudonyms.csv").write_text(
        "original,replacement\nFjordal Aluminium,\n", encoding="utf-8"
    )
    before = project.dump()
    result = _run(runner, project, "ingest", str(small_corpus))
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "pseudonyms.csv" in line and ":2" in line, line
    assert project.dump() == before
    assert not (project.folder / "pseudonyms.csv").exists()


def test_explain_shows_weights_and_what_matched_without_being_assigned(runner, ingested: Store):
    """A weak term reads as "keyword" in the rule column: its weight says it needs company. The
    answer (codes now, matched but not assigned) is on stdout, so a pipe keeps it."""
    from qualcode.concordance import explain

    book = load_codebook(KLYNGE)
    turns = [sid for (sid,) in ingested.conn.execute(
        "SELECT id FROM segments WHERE role = 'respondent' ORDER BY id")]
    seen_unassigned = False
    for sid in turns:
        expected = explain(ingested, sid, book)
        table = _run(runner, ingested, "explain", str(sid), "--codebook", str(KLYNGE))
        assert table.exit_code == 0, table.output
        out = " ".join(table.stdout.split())
        assert f"Codes now: {', '.join(expected.codes) or '(none)'}." in out
        unassigned = list(dict.fromkeys(
            m.code for m in expected.matches if m.code not in expected.codes))
        if unassigned:
            seen_unassigned = True
            assert f"Matched, not assigned: {', '.join(unassigned)} (" in out
        else:
            assert "Matched, not assigned" not in out
        rows = json.loads(_run(runner, ingested, "explain", str(sid), "--codebook", str(KLYNGE),
                               "-f", "json").stdout)
        assert [(r["term"], r["weight"], r["support"]) for r in rows] == [
            (m.term, m.weight, m.support) for m in expected.matches]
    assert seen_unassigned  # the small corpus has such a turn: the line is really tested
