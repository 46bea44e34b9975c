"""Word analyses kept in the store: the migration, ingest keeping them, older stores getting them
on first need, and coding from them matching exactly what analysing the words afresh gives."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualcode.autocode import CompiledCodebook, autocode_project
from qualcode.autocode.wordtypes import TypeAnalyser
from qualcode.codebook import install_codebook, load_codebook, loads_codebook
from qualcode.ingest import ingest_paths
from qualcode.nlp import Pipeline, get_pipeline
from qualcode.store import (
    DB_NAME,
    MIGRATIONS,
    SCHEMA_VERSION,
    _migrate_add_word_types,
    create_store,
    open_store,
)
from qualcode.tokens import decode_spans, lower_words
from qualcode.word_analyses import (
    current_key,
    is_current,
    read_analyses,
    start_afresh,
    store_word_analyses,
)

from .conftest import SMALL_CODEBOOK

PREVIOUS_RELEASE_STORE = Path(__file__).resolve().parents[1] / "data" / "store_v1.db"
KLYNGE = Path(__file__).resolve().parents[2] / "codebooks" / "klynge.yaml"


def _store_words(conn: sqlite3.Connection) -> set[str]:
    """Every lower-case word type of the store's tokenized turns."""
    words: set[str] = set()
    for text, blob in conn.execute(
        "SELECT s.text, t.spans FROM segments s JOIN segment_tokens t ON t.segment_id = s.id"
    ):
        words.update(lower_words(text, *decode_spans(blob)))
    return words


def _auto_codings(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT c.segment_id, k.path, c.negated, c.evidence FROM codings c"
        " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
        " WHERE d.name = 'auto' ORDER BY 1, 2"
    ).fetchall()


@pytest.mark.skipif(not PREVIOUS_RELEASE_STORE.is_file(), reason="no store of the previous release")
def test_migration_adds_empty_tables_and_keeps_everything_else(tmp_path: Path) -> None:
    folder = tmp_path / "prosjekt"
    folder.mkdir()
    shutil.copyfile(PREVIOUS_RELEASE_STORE, folder / DB_NAME)
    with open_store(folder) as store:
        before = store.dump()
    # The schema as it was just before this migration (the earlier ones have run already).
    with sqlite3.connect(folder / DB_NAME) as conn:
        conn.execute("DROP TABLE word_types")
        conn.execute("DROP TABLE word_lemmas")
        conn.execute("DROP TABLE word_types_key")
        conn.execute(f"PRAGMA user_version = {MIGRATIONS.index(_migrate_add_word_types)}")
        codings = conn.execute("SELECT * FROM codings ORDER BY id").fetchall()
        segments = conn.execute("SELECT * FROM segments ORDER BY id").fetchall()
    with open_store(folder) as store:
        conn = store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        # Opening stays instant: nothing is analysed by the migration itself.
        assert conn.execute("SELECT count(*) FROM word_types").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM word_lemmas").fetchone()[0] == 0
        assert not is_current(conn)
        assert conn.execute("SELECT * FROM codings ORDER BY id").fetchall() == codings
        assert conn.execute("SELECT * FROM segments ORDER BY id").fetchall() == segments
        assert store.dump() == before


@pytest.mark.skipif(not PREVIOUS_RELEASE_STORE.is_file(), reason="no store of the previous release")
def test_previous_release_store_gets_tokens_and_analyses_on_first_code(tmp_path: Path) -> None:
    folder = tmp_path / "prosjekt"
    folder.mkdir()
    shutil.copyfile(PREVIOUS_RELEASE_STORE, folder / DB_NAME)
    book = load_codebook(KLYNGE)
    with open_store(folder) as store:
        human = store.conn.execute(
            "SELECT * FROM codings WHERE coder_id != (SELECT id FROM coders WHERE name = 'auto')"
            " ORDER BY id"
        ).fetchall()
        install_codebook(store, book, "test: codebook")
        autocode_project(store, book, command="test: code")
        conn = store.conn
        assert is_current(conn)
        stored = {w for (w,) in conn.execute("SELECT word FROM word_types")}
        assert stored == _store_words(conn)
        assert conn.execute(
            "SELECT * FROM codings WHERE coder_id != (SELECT id FROM coders WHERE name = 'auto')"
            " ORDER BY id"
        ).fetchall() == human
        coded = _auto_codings(conn)
        texts = dict(conn.execute("SELECT id, text FROM segments"))
    # The same codings as coding each turn's text from scratch.
    compiled = CompiledCodebook(book)
    expected = []
    for segment_id in sorted({row[0] for row in coded}):
        for path, matches in sorted(compiled.code_text(texts[segment_id]).items()):
            expected.append((segment_id, path, [m.evidence() for m in matches]))
    assert [(s, p, json.loads(e)) for s, p, _, e in coded] == expected


def test_ingest_keeps_every_words_analysis(small_corpus: Path, project) -> None:  # type: ignore[no-untyped-def]
    ingest_paths(project, [small_corpus], command="test: ingest")
    conn = project.conn
    assert is_current(conn)
    words = _store_words(conn)
    stored = read_analyses(conn, words)
    assert set(stored) == words
    assert stored == get_pipeline().analyse_words(words)
    # Every lemma row points at a stored word, and a word's own lemmas are all indexed.
    for word, info in stored.items():
        own = {lemma for (lemma,) in conn.execute(
            "SELECT lemma FROM word_lemmas WHERE word = ? AND part = 0", (word,))}
        assert own == set(info.lemmas) - {word}
    # A second ingest of new text analyses only its new words.
    extra = small_corpus.parent / "extra"
    extra.mkdir()
    (extra / "R3.txt").write_text(
        "I: Hvordan går det?\nR: Klyngesekretariatet ordner alt, og vi stoler blindt på dem.\n",
        encoding="utf-8",
    )
    ingest_paths(project, [extra], command="test: ingest")
    assert {"klyngesekretariatet", "blindt"} <= set(read_analyses(conn, ["klyngesekretariatet",
                                                                           "blindt"]))
    assert set(read_analyses(conn, _store_words(conn))) == _store_words(conn)


def test_analyses_of_another_version_are_made_again(small_corpus: Path, tmp_path: Path) -> None:
    book = loads_codebook(SMALL_CODEBOOK, "small.yaml")
    with create_store(tmp_path / "p") as store:
        ingest_paths(store, [small_corpus], command="test: ingest")
        install_codebook(store, book, "test: codebook")
        autocode_project(store, book, command="test: code")
        first = _auto_codings(store.conn)
        words = _store_words(store.conn)
        # As if an older lexicon had made them: a wrong analysis and another key.
        with store.write("test: stale") as tx:
            tx.conn.execute("UPDATE word_types_key SET key = 'older'")
            tx.conn.execute("UPDATE word_types SET analysis = '[[],[],[]]', known = 1")
            tx.conn.execute("DELETE FROM word_lemmas")
        assert not is_current(store.conn)
        autocode_project(store, book, command="test: code")
        conn = store.conn
        assert conn.execute("SELECT key FROM word_types_key").fetchall() == [(current_key(),)]
        assert read_analyses(conn, words) == get_pipeline().analyse_words(words)
        assert _auto_codings(conn) == first


def test_store_without_analyses_codes_the_same(small_corpus: Path, tmp_path: Path) -> None:
    """A store whose analyses are missing gets them on the first code, and the same codings."""
    book = loads_codebook(SMALL_CODEBOOK, "small.yaml")
    with create_store(tmp_path / "p") as store:
        ingest_paths(store, [small_corpus], command="test: ingest")
        install_codebook(store, book, "test: codebook")
        autocode_project(store, book, command="test: code")
        first = _auto_codings(store.conn)
        with store.write("test: forget") as tx:
            for table in ("word_lemmas", "word_types", "word_types_key"):
                tx.conn.execute(f"DELETE FROM {table}")
        autocode_project(store, book, command="test: code")
        assert is_current(store.conn)
        assert {w for (w,) in store.conn.execute("SELECT word FROM word_types")} == _store_words(
            store.conn
        )
        assert _auto_codings(store.conn) == first


# -- stored analyses match as fresh ones do ----------------------------------------------------
_KNOWN = [
    "tillit", "klynge", "leder", "ledelse", "konkurrent", "samarbeid", "pris", "deling",
    "stole", "hverandre", "møte", "kompetanse", "bedrift", "prosjekt", "forankring", "topp",
    "mistenksom", "leverandør", "region", "fasilitering", "frokost", "verksted", "dele",
]
_ENDINGS = ["", "en", "a", "er", "ene", "et", "s", "e", "ane", "ar"]


@st.composite
def _words(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["known", "compound", "slip", "random", "hyphen"]))
    first = draw(st.sampled_from(_KNOWN)) + draw(st.sampled_from(_ENDINGS))
    if kind == "known":
        return first
    second = draw(st.sampled_from(_KNOWN)) + draw(st.sampled_from(_ENDINGS))
    if kind == "compound":
        return first + draw(st.sampled_from(["", "s", "e"])) + second
    if kind == "hyphen":
        return f"{first}-{second}"
    if kind == "slip":
        i = draw(st.integers(1, max(1, len(first) - 1)))
        return first[:i] + draw(st.sampled_from("aeiknrst")) + first[i + 1 :]
    return draw(st.text(alphabet="abdefgiklmnorstuvæøå019:.-", min_size=1, max_size=14))


@pytest.fixture(scope="module")
def klynge() -> CompiledCodebook:
    return CompiledCodebook(load_codebook(KLYNGE))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(_words(), min_size=1, max_size=25, unique=True))
def test_stored_analyses_give_the_type_info_of_fresh_ones(
    words: list[str], klynge: CompiledCodebook, compiled: CompiledCodebook
) -> None:
    conn = sqlite3.connect(":memory:")
    _migrate_add_word_types(conn)
    start_afresh(conn)
    store_word_analyses(conn, words)
    # Without the split, a stored analysis is exactly what analysing without it gives.
    unsplit = Pipeline(lexicon=get_pipeline().lexicon)
    unsplit.prepare(words, split=lambda word: False)
    stored = read_analyses(conn, words)
    for word in words:
        assert stored[word].without_split() == unsplit.info(word, parts=False)
    for book in (klynge, compiled):
        fresh = TypeAnalyser(book.table)
        fresh._cached = {}  # neither path may take the codebook's cache
        expected = dict(zip(words, fresh.analyse_many(words), strict=True))
        from_store = TypeAnalyser(book.table)
        from_store._cached = {}
        from_store.prepare_stored(conn)
        assert {w: from_store.types[w] for w in words} == expected
        # A look-up of a few words (explain) reads their analyses by key: the same.
        look_up = TypeAnalyser(book.table)
        look_up.prepare_stored(conn, words)
        assert {w: look_up.types[w] for w in words} == expected
        # The codebook's cache knows the first word: the others are matched by restricted
        # queries.
        first = expected[words[0]]
        partly = TypeAnalyser(book.table)
        partly._cached = {
            words[0]: (first.single, tuple(sorted(first.phrase)), first.filler)
        }
        partly.prepare_stored(conn)
        assert {w: partly.types[w] for w in words} == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("aBcØåΣσİı -.,:\n"), max_size=30), max_size=5))
def test_ingest_finds_the_word_types_coding_slices(texts: list[str]) -> None:
    """The word types kept at ingest (spaCy's LOWER per type) are the forms coding slices."""
    from qualcode.tokens import tokenize_blobs

    words: set[str] = set()
    blobs = tokenize_blobs(texts, words)
    expected: set[str] = set()
    for text, blob in zip(texts, blobs, strict=True):
        expected.update(lower_words(text, *decode_spans(blob)))
    assert words == expected


def _forget_analyses(store) -> None:  # type: ignore[no-untyped-def]
    with store.write("test: forget") as tx:
        for table in ("word_lemmas", "word_types", "word_types_key"):
            tx.conn.execute(f"DELETE FROM {table}")


def test_search_and_explain_read_the_stored_analyses_and_find_the_same(
    tmp_path: Path,
) -> None:
    """``search --lemma`` and ``explain`` take the words' analyses from the store: the same
    rows and matches as analysing the words afresh (a store without current analyses)."""
    from qualcode.concordance import explain, search

    sample = Path(__file__).resolve().parents[2] / "sample_transcripts"
    book = load_codebook(KLYNGE)
    terms = ["stole på", "klyngeledelse", "konkurrent", "tillit*", "samarbeid"]
    with create_store(tmp_path / "p") as store:
        ingest_paths(store, [sample], command="test: ingest")
        segments = [sid for (sid,) in store.conn.execute(
            "SELECT id FROM segments WHERE role = 'respondent' ORDER BY id LIMIT 40")]

        def look_ups() -> tuple[list, list]:
            found = search(store, terms, lemma=True)
            explained = [explain(store, sid, book) for sid in segments]
            return found, [(e.matches, e.codes) for e in explained]

        stored = look_ups()
        assert is_current(store.conn)
        _forget_analyses(store)
        assert not is_current(store.conn)
        assert look_ups() == stored
    found, explained = stored
    assert {r.match.lower() for r in found} >= {"stoler på", "klyngeledelsen"}
    assert sum(len(matches) for matches, _ in explained) > 20
