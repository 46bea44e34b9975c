"""Keyword in context (``qualcode search``) and the auto-coder's explanation of one turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qualcode.errors import InputError

if TYPE_CHECKING:  # search needs neither at run time: a look-up starts quicker without them
    from qualcode.codebook import Codebook
    from qualcode.store import Store

KWIC_COLUMNS = ("segment_id", "respondent", "transcript", "turn", "role", "left", "match", "right")


@dataclass(frozen=True)
class KwicRow:
    """One hit of a concordance search, with its context."""

    segment_id: int
    respondent: str
    transcript: str
    turn: int
    role: str
    left: str
    match: str
    right: str
    start: int
    end: int

    def as_tuple(self) -> tuple:
        """The values in :data:`KWIC_COLUMNS` order."""
        return (self.segment_id, self.respondent, self.transcript, self.turn, self.role,
                self.left, self.match, self.right)


def _query_words(term: str) -> list[str]:
    words = term.casefold().split()
    if not words:
        raise InputError("empty search term")
    return words


def search(
    store: Store,
    terms: list[str],
    *,
    lemma: bool = False,
    respondent: str | None = None,
    role: str | None = None,
    width: int = 60,
) -> list[KwicRow]:
    """Every occurrence of any of ``terms`` in the project's turns, with left and right context.

    Without ``lemma`` a word matches case-insensitively as written (``tillit*`` matches any word
    starting with ``tillit``); with ``lemma`` it matches when the lemma candidates intersect, so
    ``stole på`` finds ``stolte på``. A term of several words is a phrase. ``width``: characters
    of context on each side (0: none).
    """
    import re

    if width < 0:
        raise InputError(f"the context width must be 0 or more characters, not {width}")

    from qualcode.corpus import segments
    from qualcode.nlp import get_pipeline
    from qualcode.tokens import turn_spans

    queries = [_query_words(t) for t in terms]
    pipeline = get_pipeline()
    if lemma:
        pipeline.prepare(w.rstrip("*") for q in queries for w in q)
    rows = segments(store, respondent=respondent, role=role)
    spans = turn_spans(store, [row.segment_id for row in rows])  # stored at ingest: no spaCy
    wordlike = re.compile(r"\w").search  # the test of Token.is_word
    turns = []
    for row in rows:
        text = row.text
        # (lower-case form, start, end) of the turn's words: punctuation is no word.
        tokens = [
            (text[a:b].lower(), a, b)
            for a, b in zip(*spans[row.segment_id], strict=True)
            if wordlike(text, a, b)
        ]
        if tokens:
            turns.append((row, tokens))
    vocabulary = {w for _, tokens in turns for w, _, _ in tokens}
    shared: dict[str, set[str]] = {}
    if lemma:
        words = {q for query in queries for q in query if not _is_prefix(q)}
        shared = _lemma_sharers(store, pipeline, vocabulary, words)
    # Which of the project's words each query word matches: asked once per word type.
    matching = {
        q: {w for w in vocabulary if _word_matches(q, w)} | shared.get(q, set())
        for query in queries
        for q in query
    }
    found: list[KwicRow] = []
    for row, tokens in turns:
        for query in queries:
            sets = [matching[q] for q in query]
            for i in range(len(tokens) - len(query) + 1):
                if all(tokens[i + k][0] in words for k, words in enumerate(sets)):
                    start, end = tokens[i][1], tokens[i + len(query) - 1][2]
                    found.append(KwicRow(
                        row.segment_id, row.respondent, row.transcript, row.position, row.role,
                        _clip_left(row.text[:start], width), row.text[start:end],
                        _clip_right(row.text[end:], width), start, end,
                    ))
    found.sort(key=lambda r: (r.segment_id, r.start))
    return found


def _is_prefix(query: str) -> bool:
    return query.endswith("*") and len(query) > 1


def _word_matches(query: str, word: str) -> bool:
    """``word`` as written matches ``query``: the same, or starting with a ``prefix*``."""
    return word.startswith(query[:-1]) if _is_prefix(query) else word == query


def _lemma_sharers(  # type: ignore[no-untyped-def]
    store: Store, pipeline, vocabulary: set[str], queries: set[str]
) -> dict[str, set[str]]:
    """query word → the project's words that share a lemma candidate with it.

    From the word analyses kept in the store (one indexed query per query word). Words it has
    no current analysis of are analysed here in one batch; only unknown words need the (costly)
    compound split: it adds lemmas to unknown compounds alone (klyngeledelsen → klyngeledelse).
    """
    from qualcode.word_analyses import is_current, lemma_sharers, stored_among

    conn = store.conn
    stored = stored_among(conn, vocabulary) if is_current(conn) else set()
    missing = vocabulary - stored
    if missing:
        pipeline.lexicon.prefetch(missing)
        pipeline.prepare(missing, split=lambda word: pipeline.lexicon.get(word) is None)
    found: dict[str, set[str]] = {}
    for query in queries:
        lemmas = pipeline.lemmas(query)
        sharers = lemma_sharers(conn, lemmas, stored) if stored else set()
        # parts=False: a known word's lemmas never depend on its compound split (see above).
        sharers.update(w for w in missing if pipeline.info(w, parts=False).lemmas & lemmas)
        found[query] = sharers
    return found


def _clip_left(text: str, width: int) -> str:
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    # Not text[-width:]: with width 0 that slice is the whole text.
    return "…" + text[len(text) - width :].split(" ", 1)[-1]


def _clip_right(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + "…"


@dataclass
class Explanation:
    """Why the auto-coder would code one turn as it does."""

    segment_id: int
    respondent: str
    transcript: str
    turn: int
    speaker: str
    role: str
    text: str
    #: Every rule match (before ``min_hits`` and the parent/child rule), in text order.
    matches: list = field(default_factory=list)
    #: The codes the turn gets, with the matches that made them.
    codes: dict = field(default_factory=dict)
    #: Codes in the project's auto layer for this turn (what was stored last time).
    stored: list[str] = field(default_factory=list)


def explain(store: Store, segment_id: int, codebook: Codebook, *, unit: str = "turn",
            spacy_model: str | None = None) -> Explanation:
    """Every match of ``codebook`` in one turn, with its rule, term, offsets and negation."""
    from qualcode.autocode import CompiledCodebook
    from qualcode.autocode.compiled import UNITS
    from qualcode.corpus import segments
    from qualcode.nlp import get_pipeline
    from qualcode.text import sentence_spans

    if unit not in UNITS:
        raise InputError(f"unknown unit '{unit}'; use turn or sentence")
    rows = segments(store, segment_ids=[segment_id])
    if not rows:
        raise InputError(f"no segment {segment_id} in the project (see 'qualcode segments')")
    row = rows[0]
    compiled = CompiledCodebook(codebook, get_pipeline(spacy_model) if spacy_model else None)
    if unit == "sentence" or spacy_model:
        matches = [
            m for a, b in sentence_spans(row.text)
            for m in compiled.match(row.text[a:b], offset=a, base=row.text, sentence=(a, b))
        ] if unit == "sentence" else compiled.match(row.text)
        codes = compiled.code_text(row.text, unit)
    else:
        from qualcode.tokens import lower_words, turn_spans

        # The turn's tokens as stored at ingest: explaining a turn needs no spaCy, and its
        # words' analyses too: no lexicon either.
        starts, ends = turn_spans(store, [segment_id])[segment_id]
        compiled.types.prepare_stored(store.conn, lower_words(row.text, starts, ends))
        matches = compiled.match_tokens(row.text, starts, ends)
        codes = compiled.scorer.assign([matches], row.text)
    stored = [
        r[0] for r in store.conn.execute(
            "SELECT k.path FROM codings c JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
            " WHERE c.segment_id = ? AND d.name = 'auto' ORDER BY k.sort_order", (segment_id,)
        )
    ]
    return Explanation(
        row.segment_id, row.respondent, row.transcript, row.position, row.speaker, row.role, row.text,
        sorted(matches, key=lambda m: (m.start, m.end, m.code)), codes, stored,
    )
