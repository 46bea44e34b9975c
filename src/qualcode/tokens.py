"""The tokens of each turn, found once by spaCy's tokenizer and kept in the store.

``code``, ``search`` and ``explain`` read a turn's token offsets from the table
``segment_tokens`` instead of tokenizing again, so they never import spaCy (its import alone
costs more than a student's whole auto-coding run). The forms are slices of the turn's text.

A turn's offsets are one compact blob, about two bytes a token:

- ``b"\\x01"`` followed by ``(gap, length)`` byte pairs: the whitespace before each token and the
  token's length, when every one of them is below 256 (almost every turn);
- ``b"\\x04"`` followed by ``(start, end)`` pairs of little-endian unsigned 32-bit integers
  otherwise (a run of blank lines, a pasted URL).

Turns stored before this table existed (an older store, or a turn added by a command that does not
tokenize) get their tokens on first need, once (:func:`turn_spans`).

Whenever turns are tokenized, their new word types are analysed and kept too
(:mod:`qualcode.word_analyses`): every tokenized turn's words have a stored analysis.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate

from qualcode.store import Store

_SMALL = 1
#: Turns tokenized and stored per step.
TOKENIZE_BATCH = 2000
#: Progress steps of :func:`store_missing_tokens`, as a progress display names them.
TOKENIZE_STEP = "Tokenizing turns"
_WIDE = 4
Spans = tuple[list[int], list[int]]


def encode_spans(starts: Sequence[int], ends: Sequence[int]) -> bytes:
    """The blob of one turn's token offsets (see the module's docstring)."""
    pairs: list[int] = []
    previous = 0
    for start, end in zip(starts, ends, strict=True):
        pairs.append(start - previous)
        pairs.append(end - start)
        previous = end
    if all(0 <= value < 256 for value in pairs):
        return bytes([_SMALL]) + bytes(pairs)
    wide = array("I", [x for pair in zip(starts, ends, strict=True) for x in pair])
    if sys.byteorder == "big":
        wide.byteswap()
    return bytes([_WIDE]) + wide.tobytes()


def decode_spans(blob: bytes) -> Spans:
    """``(starts, ends)`` of one turn's tokens from its blob."""
    if not blob:
        return [], []
    if blob[0] == _SMALL:
        bounds = list(accumulate(blob[1:]))
    elif blob[0] == _WIDE:
        wide = array("I")
        wide.frombytes(blob[1:])
        if sys.byteorder == "big":
            wide.byteswap()
        bounds = wide.tolist()
    else:
        raise ValueError(f"unknown token blob format {blob[0]}")
    return bounds[0::2], bounds[1::2]


def tokenize_spans(texts: Iterable[str]) -> list[Spans]:
    """Token offsets of each text by spaCy's tokenizer (the one place that needs spaCy)."""
    from spacy.attrs import IDX, LENGTH

    from qualcode.nlp import get_pipeline

    result: list[Spans] = []
    for doc in get_pipeline().tokenizer.pipe(texts, batch_size=256):
        array_ = doc.to_array([IDX, LENGTH])
        starts = array_[:, 0].tolist() if len(doc) else []
        ends = (array_[:, 0] + array_[:, 1]).tolist() if len(doc) else []
        result.append((starts, ends))
    return result


def tokenize_blobs(texts: Sequence[str], words: set[str] | None = None) -> list[bytes]:
    """:func:`encode_spans` of each text's tokens, computed for the whole batch at once (numpy).

    Ingest stores every turn's tokens: a loop in Python per token would cost more than the rest
    of ingest. ``words``: gets the batch's distinct lower-case word types (spaCy's ``LOWER``,
    ``str.lower`` of each token: what :func:`lower_words` gives), found once per type.
    """
    import numpy as np
    from spacy.attrs import IDX, LENGTH, LOWER

    from qualcode.nlp import get_pipeline

    tokenizer = get_pipeline().tokenizer
    arrays = [
        doc.to_array([IDX, LENGTH, LOWER]).reshape(-1, 3)
        for doc in tokenizer.pipe(texts, batch_size=256)
    ]
    counts = np.array([len(a) for a in arrays], dtype=np.int64)
    if not counts.sum():
        return [bytes([_SMALL]) for _ in arrays]
    table = np.concatenate(arrays)
    if words is not None:
        strings = tokenizer.vocab.strings
        words.update(strings[h] for h in np.unique(table[:, 2]).tolist())
    flat = table[:, :2].astype(np.int64)
    starts, lengths = flat[:, 0], flat[:, 1]
    ends = starts + lengths
    firsts = np.cumsum(counts) - counts  # each doc's first token in ``flat``
    previous = np.empty_like(ends)
    previous[1:] = ends[:-1]
    previous[firsts[counts > 0]] = 0  # a turn's first gap counts from its own start
    gaps = starts - previous
    small = np.empty(2 * len(flat), dtype=np.uint8)
    wide = (gaps > 255) | (lengths > 255) | (gaps < 0)
    small[0::2] = np.clip(gaps, 0, 255)
    small[1::2] = np.clip(lengths, 0, 255)
    small_bytes = small.tobytes()
    wide_docs = np.zeros(len(arrays), dtype=bool)
    if wide.any():
        owner = np.repeat(np.arange(len(arrays)), counts)
        wide_docs[np.unique(owner[wide])] = True
    blobs = []
    for d, (first, count) in enumerate(zip(firsts.tolist(), counts.tolist(), strict=True)):
        if wide_docs[d]:
            blobs.append(encode_spans(starts[first : first + count].tolist(),
                                      ends[first : first + count].tolist()))
        else:
            blobs.append(bytes([_SMALL]) + small_bytes[2 * first : 2 * (first + count)])
    return blobs


def lower_words(text: str, starts: Sequence[int], ends: Sequence[int]) -> list[str]:
    """The lower-case forms of a turn's tokens (spaCy's ``LOWER``: ``str.lower`` of each).

    These are the word types that are analysed (:mod:`qualcode.word_analyses`) and matched.
    """
    low = text.lower()
    # Σ lower-cases by its context (final ς), so only a sigma-free text slices the same.
    if len(low) == len(text) and "Σ" not in text:
        return [low[a:b] for a, b in zip(starts, ends, strict=True)]
    # A letter whose lower case is longer ("İ"): offsets of the lower-cased text would shift.
    return [text[a:b].lower() for a, b in zip(starts, ends, strict=True)]


def store_missing_tokens(
    conn: object, on_step: Callable[[str, int, int], None] | None = None
) -> int:
    """Tokenize every turn that has no stored tokens yet, inside the caller's transaction, and
    keep the analyses of their new word types.

    Returns how many turns were tokenized. Called by ingest (the turns it just added), by
    ``code`` and by :func:`turn_spans` for older stores. A store whose word analyses are missing
    or of another version gets every turn's words analysed here, once. ``on_step(step, done,
    total)`` is told the progress of each step (:data:`TOKENIZE_STEP` in turns, then
    :data:`qualcode.word_analyses.ANALYSE_STEP` in words), for a progress display.
    """
    from qualcode.word_analyses import is_current, start_afresh, store_word_analyses

    current = is_current(conn)

    ids = [
        sid
        for (sid,) in conn.execute(  # type: ignore[attr-defined]
            "SELECT s.id FROM segments s"
            " WHERE NOT EXISTS (SELECT 1 FROM segment_tokens t WHERE t.segment_id = s.id)"
        )
    ]
    words: set[str] = set()
    if not current:
        # Analyses of an older lexicon or analysis, or none yet (a store from before them): the
        # words of the turns tokenized before are analysed anew too.
        start_afresh(conn)
        words = _tokenized_words(conn)
    # In batches, so a corpus of thousands of interviews never holds all its offsets at once.
    for i in range(0, len(ids), TOKENIZE_BATCH):
        rows = conn.execute(  # type: ignore[attr-defined]
            "SELECT id, text FROM segments WHERE id IN (SELECT value FROM json_each(?))",
            (_json_ids(ids[i : i + TOKENIZE_BATCH]),),
        ).fetchall()
        blobs = tokenize_blobs([text for _, text in rows], words)
        conn.executemany(  # type: ignore[attr-defined]
            "INSERT INTO segment_tokens (segment_id, spans) VALUES (?, ?)",
            [(sid, blob) for (sid, _), blob in zip(rows, blobs, strict=True)],
        )
        if on_step is not None:
            on_step(TOKENIZE_STEP, min(i + TOKENIZE_BATCH, len(ids)), len(ids))
    store_word_analyses(conn, words, on_step)
    return len(ids)


def _tokenized_words(conn: object) -> set[str]:
    """Every word type of the store's turns whose tokens are stored."""
    words: set[str] = set()
    for text, blob in conn.execute(  # type: ignore[attr-defined]
        "SELECT s.text, t.spans FROM segments s JOIN segment_tokens t ON t.segment_id = s.id"
    ):
        words.update(lower_words(text, *decode_spans(blob)))
    return words


def turn_spans(store: Store, segment_ids: Sequence[int]) -> dict[int, Spans]:
    """Token offsets of these turns, from the store.

    Turns without stored tokens (a store made before they were kept) are tokenized once, all of
    the store's at a time, and kept, so later commands find them; a store that cannot be written
    just now (read-only, or locked past the busy timeout) gets them in memory only.
    """
    found = _read(store, segment_ids)
    if len(found) == len(set(segment_ids)):
        return found
    import sqlite3

    conn = store.conn
    try:
        if conn.in_transaction:
            store_missing_tokens(conn)
        else:
            conn.execute("BEGIN IMMEDIATE")
            try:
                store_missing_tokens(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
    except sqlite3.OperationalError:
        missing = [i for i in segment_ids if i not in found]
        marks = ",".join("?" * len(missing))
        rows = conn.execute(
            f"SELECT id, text FROM segments WHERE id IN ({marks})", missing
        ).fetchall()
        found.update(
            zip((sid for sid, _ in rows), tokenize_spans(text for _, text in rows), strict=True)
        )
        return found
    return _read(store, segment_ids)


def _read(store: Store, segment_ids: Sequence[int]) -> dict[int, Spans]:
    found: dict[int, Spans] = {}
    ids = list(segment_ids)
    for i in range(0, len(ids), 30_000):
        chunk = ids[i : i + 30_000]
        for sid, blob in store.conn.execute(
            "SELECT segment_id, spans FROM segment_tokens WHERE segment_id IN"
            " (SELECT value FROM json_each(?))",
            (_json_ids(chunk),),
        ):
            found[sid] = decode_spans(blob)
    return found


def _json_ids(ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
