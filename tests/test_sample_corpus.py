"""The shipped sample corpus: formats, respondents, and coding files that fit its turns."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from qualcode.corpus import count_words, segments
from qualcode.ingest import ingest_paths, read_transcript
from qualcode.ingest.turns import parse_labelled_text
from qualcode.layers import read_layer_file, resolve_layer
from qualcode.store import DEFAULT_INTERVIEWER_LABELS, Store

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_transcripts"
SOURCES = REPO / "scripts" / "sample_sources"
LAYER_FILES = sorted((SAMPLES / "koding").glob("*.csv")) + sorted(
    (REPO / "tests" / "data").glob("gold_*.csv")
)


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> Store:
    from qualcode.store import create_store

    store = create_store(tmp_path_factory.mktemp("sample") / "project")
    report = ingest_paths(store, [SAMPLES], command="test: sample")
    assert report.warnings == []
    assert len(report.added) == 8
    return store


def test_formats_required_by_the_brief():
    formats = Counter(
        p.suffix for p in SAMPLES.iterdir() if p.is_file() and p.name != "respondents.csv"
    )
    assert (
        formats[".txt"] >= 3
        and formats[".docx"] >= 2
        and formats[".vtt"] >= 2
        and formats[".srt"] >= 1
    )


@pytest.mark.parametrize("source", sorted(SOURCES.glob("*.txt")), ids=lambda p: p.stem)
def test_generated_files_hold_exactly_the_source_turns(source: Path):
    generated = [p for p in SAMPLES.glob(source.stem + ".*")]
    assert len(generated) == 1, (
        f"no generated file for {source.name}; run scripts/make_sample_formats.py"
    )
    text = source.read_text(encoding="utf-8")
    turns, _ = parse_labelled_text(text, DEFAULT_INTERVIEWER_LABELS)
    expected = [(t.speaker, " ".join(text[t.char_start : t.char_end].split())) for t in turns]
    parsed = read_transcript(generated[0], DEFAULT_INTERVIEWER_LABELS)
    got = [(t.speaker, " ".join(parsed.turn_text(t).split())) for t in parsed.turns]
    assert got == expected


def test_respondents_and_attributes(sample_store: Store):
    rows = sample_store.conn.execute(
        "SELECT r.label, a.name, a.value FROM respondents r JOIN respondent_attributes a"
        " ON a.respondent_id = r.id"
    ).fetchall()
    labels = {label for label, _, _ in rows}
    assert labels == {f"R{i}" for i in range(1, 9)}
    names = {name for _, name, _ in rows}
    assert {"sector", "size", "membership_years", "mode"} <= names


def test_each_interview_has_1500_to_4000_words(sample_store: Store):
    words = Counter()
    for row in segments(sample_store):
        words[row.transcript] += count_words(row.text)
    assert len(words) == 8
    assert all(1500 <= n <= 4000 for n in words.values()), words


def test_interviewer_questions_use_code_words(sample_store: Store):
    questions = " ".join(r.text.lower() for r in segments(sample_store, role="interviewer"))
    assert re.search(r"forankr|tillit|konkurr|klyngeledelse|samarbeid", questions)


def test_pitfalls_are_present(sample_store: Store):
    said = " ".join(r.text.lower() for r in segments(sample_store, role="respondent"))
    for word in [
        "konkurransedyktig",
        "tillitsvalgt",
        "fasiliteter",
        "ikkje",
        "[bedriften]",
        "business",
    ]:
        assert word in said, word


@pytest.mark.parametrize("path", LAYER_FILES, ids=lambda p: p.name)
def test_coding_files_fit_the_turns(sample_store: Store, path: Path, make_codes):
    rows = read_layer_file(path)
    codes = sorted({r.code for r in rows if r.code})
    make_codes(sample_store, sorted({c.split("/")[0] for c in codes} | set(codes)))
    resolved = resolve_layer(sample_store, path, rows)
    assert len(resolved) == len(rows)


def test_gold_covers_every_respondent_turn(sample_store: Store):
    gold = [
        row
        for path in LAYER_FILES
        if path.name.startswith("gold_")
        for row in read_layer_file(path)
    ]
    judged = {(row.file, row.turn) for row in gold}
    respondent_turns = {
        (r.transcript, r.position) for r in segments(sample_store, role="respondent")
    }
    assert judged == respondent_turns
