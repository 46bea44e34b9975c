"""Token offsets kept in the store: the blob format, ingest, older stores, and coding from them."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualcode.autocode import CompiledCodebook, autocode_project
from qualcode.autocode.terms import TermTable, _splits_at_spaces
from qualcode.codebook import install_codebook, loads_codebook
from qualcode.ingest import ingest_paths
from qualcode.nlp import get_pipeline
from qualcode.store import (
    DB_NAME,
    MIGRATIONS,
    SCHEMA_VERSION,
    _migrate_add_segment_tokens,
    open_store,
)
from qualcode.tokens import decode_spans, encode_spans, turn_spans

from .conftest import SMALL_CODEBOOK


@st.composite
def _spans(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    pieces = draw(st.lists(st.tuples(st.integers(0, 600), st.integers(1, 600)), max_size=40))
    starts, ends, at = [], [], 0
    for gap, length in pieces:
        starts.append(at + gap)
        ends.append(at + gap + length)
        at += gap + length
    return starts, ends


@given(_spans())
def test_spans_survive_the_blob(spans: tuple[list[int], list[int]]) -> None:
    assert decode_spans(encode_spans(*spans)) == spans


def test_small_blob_is_two_bytes_a_token() -> None:
    blob = encode_spans([0, 4, 8], [3, 7, 12])
    assert len(blob) == 1 + 2 * 3


def _spacy_spans(text: str) -> tuple[list[int], list[int]]:
    tokens = get_pipeline().tokenize(text)
    return [t.start for t in tokens], [t.end for t in tokens]


def test_ingest_stores_spacys_tokens(small_corpus: Path, project) -> None:  # type: ignore[no-untyped-def]
    ingest_paths(project, [small_corpus], command="test: ingest")
    rows = project.conn.execute("SELECT id, text FROM segments").fetchall()
    stored = turn_spans(project, [sid for sid, _ in rows])
    assert len(stored) == len(rows)
    for sid, text in rows:
        assert stored[sid] == _spacy_spans(text)


def _make_old_store(corpus: Path, folder: Path) -> Path:
    """A store as the release before tokens were kept would leave it (the schema before them)."""
    with open_store_created(folder) as store:
        ingest_paths(store, [corpus], command="test: ingest")
    conn = sqlite3.connect(folder / DB_NAME)
    conn.execute("DROP TABLE segment_tokens")
    conn.execute(f"PRAGMA user_version = {MIGRATIONS.index(_migrate_add_segment_tokens)}")
    conn.commit()
    conn.close()
    return folder


def open_store_created(folder: Path):  # type: ignore[no-untyped-def]
    from qualcode.store import create_store

    return create_store(folder)


def test_older_store_gets_its_tokens_once_and_codes_as_before(
    small_corpus: Path, tmp_path: Path
) -> None:
    folder = _make_old_store(small_corpus, tmp_path / "old")
    book = loads_codebook(SMALL_CODEBOOK, "small.yaml")
    with open_store(folder) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        # The migration itself tokenizes nothing: opening an old store stays instant.
        assert store.conn.execute("SELECT count(*) FROM segment_tokens").fetchone()[0] == 0
        install_codebook(store, book, "test: codebook")
        summary = autocode_project(store, book, command="test: code")
        turns = store.conn.execute("SELECT count(*) FROM segments").fetchone()[0]
        assert store.conn.execute("SELECT count(*) FROM segment_tokens").fetchone()[0] == turns
        rows = store.conn.execute(
            "SELECT s.text, k.path, c.evidence FROM codings c JOIN segments s ON s.id = c.segment_id"
            " JOIN codes k ON k.id = c.code_id ORDER BY s.id, k.path"
        ).fetchall()
        texts = [t for (t,) in store.conn.execute(
            "SELECT text FROM segments WHERE role = 'respondent' ORDER BY transcript_id, position")]
    assert summary.codings == len(rows) > 0
    compiled = CompiledCodebook(book)
    expected = []
    for text in texts:
        for path, matches in sorted(compiled.code_text(text).items()):
            expected.append((text, path, [m.evidence() for m in matches]))
    import json

    assert [(t, p, json.loads(e)) for t, p, e in rows] == expected


def test_search_and_explain_do_not_import_spacy(small_corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "p"
    with open_store_created(folder) as store:
        ingest_paths(store, [small_corpus], command="test: ingest")
        book = loads_codebook(SMALL_CODEBOOK, "small.yaml")
        install_codebook(store, book, "test: codebook")
        autocode_project(store, book, command="test: code")
        segment = store.conn.execute("SELECT id FROM segments WHERE text LIKE '%stoler%'").fetchone()[0]
    codebook = tmp_path / "small.yaml"
    codebook.write_text(SMALL_CODEBOOK, encoding="utf-8")
    probe = (
        "import sys; from typer.testing import CliRunner; from qualcode.cli.main import app;"
        "r = CliRunner();"
        f"a = r.invoke(app, ['-p', {str(folder)!r}, 'search', '--lemma', 'stole på']);"
        f"b = r.invoke(app, ['-p', {str(folder)!r}, 'code', '-c', {str(codebook)!r}]);"
        f"c = r.invoke(app, ['-p', {str(folder)!r}, 'explain', '{segment}', '-c', {str(codebook)!r}]);"
        "assert a.exit_code == b.exit_code == c.exit_code == 0, (a.output, b.output, c.output);"
        "assert 'stoler på' in a.output and 'tillit' in c.output, (a.output, c.output);"
        "print('spacy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@given(st.lists(st.from_regex(r"[a-zæøå]{1,6}(-[a-zæøå]{1,6}){0,2}", fullmatch=True),
                min_size=1, max_size=3))
def test_terms_compiled_without_the_tokenizer_split_as_spacy_does(words: list[str]) -> None:
    term = " ".join(words)
    assert _splits_at_spaces(term)
    assert [t.lower for t in get_pipeline().tokenize(term)] == term.split(" ")


def test_fuzzy_batches_big_and_small_find_the_same_slips(compiled: CompiledCodebook) -> None:
    """The numpy batch (a corpus) and the one-by-one comparison (a look-up) agree."""
    from qualcode.autocode.wordtypes import SMALL_FUZZY_BATCH
    from qualcode.nlp import collapse_doubles

    targets = sorted(compiled._fuzzy_targets)
    slips = [t[:i] + t[i + 1 :] for t in targets for i in range(1, len(t) - 1)]
    slips += [t[:i] + t[i] + t[i:] for t in targets for i in range(1, len(t), 2)]
    probes = {w: collapse_doubles(w) for w in dict.fromkeys(slips) if len(w) >= 5}
    assert len(probes) > SMALL_FUZZY_BATCH
    batched = compiled._fuzzy_many(probes)
    assert batched
    for word, probe in probes.items():
        assert compiled._fuzzy_many({word: probe}).get(word) == batched.get(word), word


def test_rerun_with_the_codebook_type_cache_codes_the_same(
    small_corpus: Path, tmp_path: Path
) -> None:
    """The second run takes every word type's matches from the codebook's cache: same codings."""
    from qualcode.autocode.compiled import CompiledCodebook as Compiled
    from qualcode.store import create_store

    book = loads_codebook(SMALL_CODEBOOK, "small.yaml")
    with create_store(tmp_path / "p") as store:
        ingest_paths(store, [small_corpus], command="test: ingest")
        install_codebook(store, book, "test: codebook")

        def coded() -> list[tuple]:
            autocode_project(store, book, command="test: code")
            return store.conn.execute(
                "SELECT segment_id, code_id, negated, evidence FROM codings ORDER BY 1, 2"
            ).fetchall()

        first = coded()
        fresh = Compiled(book)  # its compiled terms come from the codebook's term cache
        assert fresh.table.cache_path("terms").is_file()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(TermTable, "_read_cache", lambda self: None)
            compiled_anew = Compiled(book)
        assert [t.words for t in fresh.terms] == [t.words for t in compiled_anew.terms]
        assert list(fresh._fuzzy_targets.items()) == list(compiled_anew._fuzzy_targets.items())
        cache = fresh.types
        assert cache.cache_path().is_file()
        cache.load_cache()
        assert cache._cached and "stoler" in cache._cached
        assert coded() == first
    other = loads_codebook(SMALL_CODEBOOK.replace("mistenksom", "mistenkelig"), "small.yaml")
    assert Compiled(other).types.cache_path() != cache.cache_path()


@given(st.lists(st.text(alphabet=st.sampled_from("ab ,.\n\t-ø"), max_size=40), max_size=6))
def test_batched_blobs_equal_one_encoding_per_turn(texts: list[str]) -> None:
    from qualcode.tokens import tokenize_blobs

    long = "x" * 300 + "  " + " " * 280 + "y."
    texts = [*texts, long]
    assert tokenize_blobs(texts) == [encode_spans(*_spacy_spans(t)) for t in texts]
