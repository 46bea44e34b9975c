"""The analysis of each word type of the project, made once when its turns are tokenized and kept
in the store, so that ``code`` analyses no word at all.

An analysis is what :class:`qualcode.nlp.WordInfo` holds for a lower-case word type: its lemma
candidates, whether the lexicon knows it, and its compound split with the parts' lemmas. It does
not depend on any codebook. The store keeps the *full* analysis (split included) of every word;
a codebook that wants a word without its split takes :meth:`WordInfo.without_split`, which is
exactly the analysis made without it.

Tables (see ``store._migrate_add_word_types``):

- ``word_types``: one row per word type: ``known``, the number of compound parts, its fuzzy
  probe (the form a slip is compared by: unknown words of five or more letters without a hyphen,
  doubled letters collapsed; NULL for others) with the edits a slip of it may have
  (:func:`qualcode.nlp.max_edits`), and the analysis as JSON
  ``[lemmas other than the word, parts, [each part's lemmas]]``;
- ``word_lemmas``: ``(lemma, part, word)`` for every lemma of a word other than the word itself
  (``part`` 0) and every lemma of its compound parts (``part`` 1), so the few words a codebook's
  lemmas can match are found by an indexed query instead of a look at every word
  (:func:`lemma_rows`);
- ``word_types_key``: the lexicon and analysis version the rows were made with. A store whose
  key is not the current one (an older store, or a new lexicon or analysis) gets every word
  analysed anew on first need (:func:`qualcode.tokens.store_missing_tokens`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

from qualcode.nlp import (
    WordInfo,
    analysis_key,
    collapse_doubles,
    get_pipeline,
    lexicon_key,
    max_edits,
)

#: Bumped whenever this module's rows change layout or content rules.
ROWS_FORMAT = 1
#: Word types analysed and stored per step (the lexicon's memo is dropped between steps).
ANALYSE_BATCH = 20_000
#: The progress step of :func:`store_word_analyses`, as a progress display names it.
ANALYSE_STEP = "Analysing new words"
_WORDLIKE = re.compile(r"\w")
_ROW_CHUNK = 30_000
#: One encoder for every row, not one per ``json.dumps`` call (ingest writes tens of thousands).
_json_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: The analysis of a word that is its own only lemma and no compound.
_BARE = "[[],[],[]]"


def current_key() -> str:
    """The version of the analyses this qualcode makes: the rows' format, the lexicon's and the
    analysis' keys (a hash of :mod:`qualcode.nlp`)."""
    return f"{ROWS_FORMAT}-{lexicon_key()}-{analysis_key()}"


def is_current(conn: Any) -> bool:
    """True if the store's analyses were made by this qualcode's lexicon and analysis."""
    row = conn.execute("SELECT key FROM word_types_key").fetchone()
    return row is not None and row[0] == current_key()


def start_afresh(conn: Any) -> None:
    """Drop the store's analyses and record the current version (inside the caller's
    transaction); the caller then analyses every word of the store's tokenized turns."""
    conn.execute("DELETE FROM word_lemmas")
    conn.execute("DELETE FROM word_types")
    conn.execute("DELETE FROM word_types_key")
    conn.execute("INSERT INTO word_types_key (key) VALUES (?)", (current_key(),))


def store_word_analyses(
    conn: Any, words: Iterable[str], on_step: Callable[[str, int, int], None] | None = None
) -> int:
    """Analyse and keep the ``words`` the store has no analysis of; returns how many.

    Inside the caller's transaction (see :func:`qualcode.tokens.store_missing_tokens`);
    ``on_step(ANALYSE_STEP, done, total)`` after each batch of words.
    """
    wanted = set(words)
    new = sorted(wanted - stored_among(conn, wanted))
    if not new:
        return 0
    pipeline = get_pipeline()
    for i in range(0, len(new), ANALYSE_BATCH):
        analyses = pipeline.analyse_words(new[i : i + ANALYSE_BATCH])
        conn.executemany(
            "INSERT INTO word_types (word, known, parts, probe, edits, analysis)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [_row(info) for info in analyses.values()],
        )
        conn.executemany(
            "INSERT INTO word_lemmas (lemma, part, word) VALUES (?, ?, ?)",
            [row for info in analyses.values() for row in _indexed(info)],
        )
        if on_step is not None:
            on_step(ANALYSE_STEP, min(i + ANALYSE_BATCH, len(new)), len(new))
    return len(new)


def stored_among(conn: Any, words: Iterable[str]) -> set[str]:
    """Those of ``words`` the store has an analysis of."""
    found: set[str] = set()
    for chunk in _chunks(words):
        found.update(w for (w,) in conn.execute(
            "SELECT word FROM word_types WHERE word IN (SELECT value FROM json_each(?))",
            (_json(chunk),),
        ))
    return found


def stored_words(conn: Any) -> list[str]:
    """Every word type the store has an analysis of."""
    return [w for (w,) in conn.execute("SELECT word FROM word_types")]


def lemma_rows(
    conn: Any, lemmas: Iterable[str], part_lemmas: Iterable[str]
) -> Iterator[tuple[str, str, int, int]]:
    """``(word, lemma, part, known)`` for every stored word with one of ``lemmas`` among its own
    lemmas other than itself (``part`` 0) or one of ``part_lemmas`` among its compound parts'
    lemmas (``part`` 1); ``known``: the lexicon knows the word.

    Driven by the lemmas (the table's key): a condition on the words as well would let SQLite
    look them up in a table that has no index on them.
    """
    query = (
        "SELECT l.word, l.lemma, l.part, w.known FROM word_lemmas l"
        " JOIN word_types w ON w.word = l.word"
        " WHERE l.part = ? AND l.lemma IN (SELECT value FROM json_each(?))"
    )
    return conn.execute(
        f"{query} UNION ALL {query}",
        (0, _json(sorted(lemmas)), 1, _json(sorted(part_lemmas))),
    )


def lemma_sharers(conn: Any, lemmas: Iterable[str], words: Collection[str]) -> set[str]:
    """Those of ``words`` that have one of ``lemmas`` among their own lemmas (with the compound
    lemma an unknown word gets from its split), the word itself included."""
    lemmas = set(lemmas)
    found = {w for w in words if w in lemmas}
    found.update(w for (w,) in conn.execute(
        "SELECT word FROM word_lemmas WHERE part = 0 AND lemma IN (SELECT value FROM json_each(?))",
        (_json(sorted(lemmas)),),
    ) if w in words)
    return found


def fuzzy_probe_groups(
    conn: Any, *, two_parts: bool
) -> dict[tuple[int, int], tuple[list[str], list[str]]]:
    """The words that may be slips (unknown, with a letter or digit, five letters or more, no
    hyphen), of the two-part compounds or of all others, grouped by (probe length, allowed
    edits): (words, their probes)."""
    groups: dict[tuple[int, int], tuple[list[str], list[str]]] = {}
    # Grouped by SQLite: tens of thousands of unknown words cost no Python loop here.
    for length, edits, found, probes in conn.execute(
        "SELECT length(probe), edits, json_group_array(word), json_group_array(probe)"
        " FROM word_types WHERE probe IS NOT NULL AND (parts = 2) = ? GROUP BY 1, 2",
        (int(two_parts),),
    ):
        groups[length, edits] = (json.loads(found), json.loads(probes))
    return groups


def read_analyses(conn: Any, words: Collection[str]) -> dict[str, WordInfo]:
    """The stored analyses of ``words`` (those the store has)."""
    found: dict[str, WordInfo] = {}
    for chunk in _chunks(words):
        for word, known, analysis in conn.execute(
            "SELECT word, known, analysis FROM word_types"
            " WHERE word IN (SELECT value FROM json_each(?))",
            (_json(chunk),),
        ):
            found[word] = decode(word, known, analysis)
    return found


def fuzzy_probe(info: WordInfo) -> str | None:
    """The form ``info``'s word is compared by as a possible slip, or None (see the module)."""
    word = info.word
    if info.known or len(word) < 5 or "-" in word or not _WORDLIKE.search(word):
        return None
    return collapse_doubles(word)


def encode(info: WordInfo) -> str:
    """The ``analysis`` column of one word type."""
    if not info.parts and len(info.lemmas) == 1:
        return _BARE  # most words of a big corpus: unknown, no compound
    return _json_compact(
        [sorted(info.lemmas - {info.word}), list(info.parts), [sorted(p) for p in info.part_lemmas]]
    )


def decode(word: str, known: int, analysis: str) -> WordInfo:
    """The :class:`WordInfo` of one stored row."""
    lemmas, parts, part_lemmas = json.loads(analysis)
    return WordInfo(
        word,
        frozenset((word, *lemmas)),
        bool(known),
        tuple(parts),
        tuple(frozenset(p) for p in part_lemmas),
    )


def _row(info: WordInfo) -> tuple[str, int, int, str | None, int, str]:
    probe = fuzzy_probe(info)
    return (
        info.word,
        int(info.known),
        len(info.parts),
        probe,
        max_edits(info.word) if probe is not None else 0,
        encode(info),
    )


def _indexed(info: WordInfo) -> list[tuple[str, int, str]]:
    """The ``word_lemmas`` rows of one word (see :func:`lemma_rows`)."""
    word = info.word
    rows = [(lemma, 0, word) for lemma in info.lemmas if lemma != word]
    rows.extend((lemma, 1, word) for lemma in set().union(*info.part_lemmas))
    return rows


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    values = list(values)
    for i in range(0, len(values), _ROW_CHUNK):
        yield values[i : i + _ROW_CHUNK]


def _json(values: list[str]) -> str:
    return json.dumps(values, ensure_ascii=False)
