"""Matching word types: what the codebook's terms say about one lower-case word, computed once per
type (keyword, compound part, fuzzy slip, phrase word, filler) and cached, so the hot loop over a
turn's tokens is dictionary look-ups."""

from __future__ import annotations

import marshal
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualcode.autocode.terms import TermTable, write_cache_file
from qualcode.errors import InputError
from qualcode.nlp import (
    FILLERS,
    OBJECT_PRONOUNS,
    SUBJECT_PRONOUNS,
    WordInfo,
    collapse_doubles,
    max_edits,
    pronoun_classes,
)

_WORD = re.compile(r"\w")
#: What matching needs of one word's analysis: the word, its lemma candidates and the lemmas of
#: its compound parts (all parts' together; empty without a split).
Entry = tuple[str, AbstractSet[str], AbstractSet[str]]
#: Fuzzy probes by (probe length, allowed edits): (words, their probes), in the same order.
ProbeGroups = dict[tuple[int, int], tuple[list[str], list[str]]]
#: Words that may match whatever their lemmas: fillers, and pronouns (which stand for their role
#: inside a phrase).
_SPECIAL_WORDS = FILLERS | SUBJECT_PRONOUNS | OBJECT_PRONOUNS
#: Up to this many fuzzy probes are compared one by one, without numpy.
SMALL_FUZZY_BATCH = 50


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """What one word type can match."""

    single: tuple[tuple[int, str], ...]  # (term id, rule) for one-word terms
    phrase: frozenset[tuple[int, int]]  # (term id, word index) of phrase words it matches
    filler: bool
    interesting: bool  # a match can start here
    starts: tuple[int, ...]  # phrases (term ids) whose first word this is, in ``phrase`` order
    seconds: frozenset[int]  # phrases (term ids) whose second word this is
    #: The next token may carry a phrase on: the second word of some phrase, or a filler.
    continues: bool
    #: ``starts`` as a set, to test a start against the next token's ``seconds`` at C speed.
    start_set: frozenset[int]


def type_info(
    single: tuple[tuple[int, str], ...], phrase: frozenset[tuple[int, int]], filler: bool
) -> TypeInfo:
    """A :class:`TypeInfo` with its derived fields."""
    # Sorted, because set order follows string hashing, which changes from process to process:
    # the same text must get the same codings and evidence in every run.
    starts = tuple(sorted(tid for tid, k in phrase if k == 0))
    seconds = frozenset(tid for tid, k in phrase if k == 1)
    return TypeInfo(
        single, phrase, filler, bool(single) or bool(starts), starts, seconds,
        filler or bool(seconds), frozenset(starts),
    )


NOTHING = type_info((), frozenset(), False)


#: From this many new word types in one batch, their word analyses are not kept in memory.
FORGET_BATCH = 1000
#: Word types kept in a codebook's type-match cache (see TypeAnalyser.load_cache).
CODEBOOK_CACHE_MAX = 300_000


class TypeAnalyser:
    """The :class:`TypeInfo` of every word type seen, analysed in batches."""

    def __init__(self, table: TermTable):
        self.table = table
        self.pipeline = table.pipeline
        self.types: dict[str, TypeInfo] = {}
        self._fuzzy_near: dict[tuple[int, int], list[str]] = {}
        self._cached: dict[str, Any] | None = None  # see load_cache

    # -- the codebook's type-match cache ------------------------------------------------------
    def cache_path(self) -> Path:
        """Where this codebook's word-type matches are kept between runs."""
        return self.table.cache_path("types")

    def load_cache(self) -> None:
        """Take the matches of word types seen by an earlier run with this very codebook.

        A re-run on the same corpus then analyses no word at all. Best effort: an unreadable
        cache is an empty one.
        """
        if self._cached is not None or self.pipeline.spacy_model:
            return
        self._cached = {}
        try:
            found = marshal.loads(self.cache_path().read_bytes())
        except (OSError, EOFError, ValueError, TypeError, InputError):
            return
        if isinstance(found, dict):
            self._cached = found

    def reuse_cached(self, words: Iterable[str]) -> None:
        """Fill :attr:`types` for the ``words`` the loaded cache knows."""
        cached, types = self._cached, self.types
        if not cached:
            return
        for word in words:
            entry = cached.get(word)
            if entry is not None and word not in types:
                types[word] = NOTHING if entry == 0 else type_info(
                    entry[0], frozenset(entry[1]), entry[2]
                )

    def save_cache(self) -> None:
        """Keep this run's word-type matches for the next run with the same codebook."""
        if self.pipeline.spacy_model or not self.types:
            return
        # The earlier runs' entries stay: the student's corpus is often coded part by part.
        entries: dict[str, Any] = dict(self._cached or {})
        if len(entries) + len(self.types) > CODEBOOK_CACHE_MAX:
            entries = {}
        if len(entries) + len(self.types) <= CODEBOOK_CACHE_MAX:
            # Most words match nothing (0): those in one go, only the others one by one.
            entries.update(dict.fromkeys(self.types, 0))
            kept = [(w, info) for w, info in self.types.items() if info is not NOTHING]
        else:
            kept = list(self.types.items())[: CODEBOOK_CACHE_MAX - len(entries)]
        for word, info in kept:
            entries[word] = (
                0 if info is NOTHING else (info.single, tuple(sorted(info.phrase)), info.filler)
            )
        write_cache_file(self.cache_path(), entries)

    def info(self, word: str) -> TypeInfo:
        """Everything the codebook's terms say about one word type (cached)."""
        found = self.types.get(word)
        if found is None:
            self.prepare([word])
            found = self.types[word]
        return found

    def prepare(self, words: Iterable[str]) -> None:
        """Analyse new word types in one batch."""
        types = self.types
        new = [w for w in set(words) if w not in types]
        if not new:
            return
        self.pipeline.prepare(new, split=self.table.may_hold_term)
        for word, info in zip(new, self.analyse_many(new), strict=True):
            types[word] = info
        if len(new) >= FORGET_BATCH:
            # A corpus batch: this type info is all the coding needs of these words.
            self.pipeline.forget(new)

    def analyse_many(self, keys: list[str]) -> list[TypeInfo]:
        """The type info of each key: lexicon and split look-ups per word, fuzzy in one batch."""
        pipeline_info = self.pipeline.info
        analyses = [
            (word, pipeline_info(key, parts=False) if _WORD.search(word) else None)
            for key in keys
            for word in (key.partition("\t")[0],)
        ]
        return self._match_analyses(analyses)

    def _match_analyses(self, analyses: list[tuple[str, WordInfo | None]]) -> list[TypeInfo]:
        """The type info of each (word, analysis): the analysis as this codebook uses it, then
        the lemma indexes, and the fuzzy comparison in one batch (None: no word)."""
        may_split = self.table.may_hold_term
        entries: list[Entry | None] = []
        probes: dict[str, str] = {}  # word → its collapsed form, for the fuzzy batch
        fuzzy_on = bool(self.table.fuzzy_targets)
        for word, info in analyses:
            if info is None:
                entries.append(None)
                continue
            if info.parts and not may_split(word):
                # Split for someone else (a term's word, a search), or stored with its split:
                # this codebook matches the word as it would have analysed it, so the codings
                # never depend on what was analysed before.
                info = info.without_split()
            entries.append((word, info.lemmas, frozenset().union(*info.part_lemmas)))
            # A slip is an unknown word that is no two-part compound of known words (real words
            # never match); three-part splits of unknown words are mostly nonsense
            # ("konk+urent+ene").
            if (
                fuzzy_on
                and not info.known
                and len(info.parts) != 2
                and len(word) >= 5
                and "-" not in word
            ):
                probes[word] = collapse_doubles(word)
        slips = self.fuzzy_many(probes) if probes else {}
        return self._type_infos(entries, slips)

    def prepare_stored(self, conn: Any, words: Iterable[str] | None = None) -> None:
        """The type info of every word type whose analysis the store keeps (of ``words`` only,
        if given: a look-up of one turn).

        The same as :meth:`prepare` (which a property test checks), but without a look at most
        words: a word can match only through a lemma of the codebook's indexes, a compound part
        that is a compound term (one indexed query finds both), a fuzzy slip (the store's
        unknown words, compared in one batch), or as a pronoun or filler. Every other word
        matches nothing. The store keeps each word's full analysis; a word the codebook's
        :meth:`TermTable.may_hold_term` rejects is matched without its compound split, as
        :meth:`prepare` does.
        """
        from qualcode import word_analyses

        if self.pipeline.spacy_model or not word_analyses.is_current(conn):
            # A trained model's lemmas are not the stored ones; analyses of another lexicon or
            # analysis are made again by the next ingest or code (store_missing_tokens).
            return
        types = self.types
        if words is not None:
            # A look-up: the few words' analyses by their keys, matched one by one.
            found = word_analyses.read_analyses(conn, set(words) - types.keys())
            chosen = sorted(found)
            analyses = [(w, found[w] if _WORD.search(w) else None) for w in chosen]
            types.update(zip(chosen, self._match_analyses(analyses), strict=True))
            return
        new = [w for w in word_analyses.stored_words(conn) if w not in types]
        if not new:
            return
        self.load_cache()
        self.reuse_cached(new)
        left = {w for w in new if w not in types}
        if not left:
            return
        from concurrent.futures import ThreadPoolExecutor  # not for look-ups: their start-up

        # The whole store's rows, kept to these words if the cache matched some already.
        only = left if len(left) < len(new) else None
        table = self.table
        probes: tuple[ProbeGroups, ProbeGroups] | None = None
        if table.fuzzy_targets:
            probes = (
                word_analyses.fuzzy_probe_groups(conn, two_parts=False),
                word_analyses.fuzzy_probe_groups(conn, two_parts=True),
            )
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The fuzzy comparison runs in C without holding the GIL: on a second core it
            # overlaps the matching of the other words below.
            comparing = pool.submit(self._stored_slips, *probes, only) if probes else None
            own, parts = self._stored_lemmas(conn, only)
            candidates = own.keys() | parts.keys() | (left & (table.index_lemmas | _SPECIAL_WORDS))
            slips = comparing.result() if comparing else {}
        chosen = sorted(candidates | slips.keys())
        entries: list[Entry | None] = [
            (word, own.get(word, frozenset()) | {word}, parts.get(word, frozenset()))
            if _WORD.search(word)
            else None
            for word in chosen
        ]
        types.update(dict.fromkeys(left, NOTHING))
        types.update(zip(chosen, self._type_infos(entries, slips), strict=True))

    def _stored_lemmas(
        self, conn: Any, only: set[str] | None
    ) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """The codebook's lemmas among the stored words' own lemmas and among their parts'
        lemmas (of the words ``only``, if given), as this codebook matches each word (with or
        without its split)."""
        from qualcode import word_analyses

        table = self.table
        may_split = table.may_hold_term
        # A part matches only the one-word terms a compound may hold.
        compound_lemmas = [
            lemma for lemma, tids in table.single.items() if not table.compound_ok.isdisjoint(tids)
        ]
        own: dict[str, set[str]] = {}
        parts: dict[str, set[str]] = {}
        split: dict[str, bool] = {}
        for word, lemma, part, known in word_analyses.lemma_rows(
            conn, table.index_lemmas, compound_lemmas
        ):
            if only is not None and word not in only:
                continue
            splits = split.get(word)
            if splits is None:
                splits = split[word] = may_split(word)
            if part:
                if splits:
                    parts.setdefault(word, set()).add(lemma)
            elif known or splits:
                # An unknown word's other lemmas come from its split (the compound's lemma).
                own.setdefault(word, set()).add(lemma)
        return own, parts

    def _stored_slips(
        self, others: ProbeGroups, two_parts: ProbeGroups, only: set[str] | None
    ) -> dict[str, list[int]]:
        """:meth:`fuzzy_groups` of the stored fuzzy probes (of the words ``only``, if given)."""
        may_split = self.table.may_hold_term
        groups = others  # fresh from the store: extended in place
        # An unknown two-part compound is no slip, but only where its split is used.
        for group, (words, forms) in two_parts.items():
            kept, kept_forms = groups.setdefault(group, ([], []))
            for word, form in zip(words, forms, strict=True):
                if not may_split(word):
                    kept.append(word)
                    kept_forms.append(form)
        if only is not None:
            for group, (words, forms) in list(groups.items()):
                pairs = [(w, f) for w, f in zip(words, forms, strict=True) if w in only]
                groups[group] = ([w for w, _ in pairs], [f for _, f in pairs])
        count = sum(len(words) for words, _ in groups.values())
        return self.fuzzy_groups(groups, small=count <= SMALL_FUZZY_BATCH) if count else {}

    def _type_infos(
        self, entries: list[Entry | None], slips: dict[str, list[int]]
    ) -> list[TypeInfo]:
        """The type info of each word from its entry (None: no word) and its fuzzy slips."""
        table = self.table
        single_index, phrase_index, compound_ok = table.single, table.phrase, table.compound_ok
        single_lemmas, phrase_lemmas = table.single_lemmas, table.phrase_lemmas
        index_lemmas = table.index_lemmas
        result: list[TypeInfo] = []
        for entry in entries:
            if entry is None:
                result.append(NOTHING)
                continue
            word, lemmas, part_lemmas = entry
            single: dict[int, str] = {}
            # Most types share no lemma with any term: one set intersection says so.
            indexed = index_lemmas.intersection(lemmas)
            for lemma in indexed & single_lemmas:
                for tid in single_index[lemma]:
                    single[tid] = "keyword"
            for lemma in part_lemmas:
                for tid in single_index.get(lemma, ()):
                    if tid in compound_ok:
                        single.setdefault(tid, "compound")
            for tid in slips.get(word, ()):
                single.setdefault(tid, "fuzzy")
            phrase: set[tuple[int, int]] = set()
            for lemma in (indexed | pronoun_classes(word)) & phrase_lemmas:
                phrase.update(phrase_index[lemma])
            filler = word in FILLERS
            if not single and not phrase and not filler:
                result.append(NOTHING)
            else:
                result.append(type_info(tuple(sorted(single.items())), frozenset(phrase), filler))
        return result

    # -- fuzzy -------------------------------------------------------------------------------
    def _fuzzy_choices(self, length: int, limit: int) -> list[str]:
        """Fuzzy targets whose length is within ``limit`` of ``length``, in target-table order.

        Left out: targets whose own allowed edits are fewer than the difference in length, which
        no probe of this length can be within (a slip is at least that many edits away).
        """
        key = (length, limit)
        found = self._fuzzy_near.get(key)
        if found is None:
            by_length, targets = self.table.fuzzy_by_length, self.table.fuzzy_targets
            found = self._fuzzy_near[key] = [
                t
                for n in range(length - limit, length + limit + 1)
                for t in by_length.get(n, ())
                if abs(n - length) <= targets[t][1]
            ]
        return found

    def fuzzy_many(self, probes: dict[str, str]) -> dict[str, list[int]]:
        """word → term ids it is a slip of, best first (ties in target-table order).

        ``probes``: word → its form with doubled letters collapsed (see :func:`fuzzy_groups`).
        """
        groups: ProbeGroups = {}
        for word, probe in probes.items():
            words, forms = groups.setdefault((len(probe), max_edits(word)), ([], []))
            words.append(word)
            forms.append(probe)
        return self.fuzzy_groups(groups, small=len(probes) <= SMALL_FUZZY_BATCH)

    def fuzzy_groups(self, groups: ProbeGroups, *, small: bool = False) -> dict[str, list[int]]:
        """:meth:`fuzzy_many` of probes grouped by (probe length, allowed edits).

        One ``cdist`` per group instead of one ``extract`` per word. A target more than
        ``limit`` letters longer or shorter is more than ``limit`` edits away, so only the
        targets of near lengths are compared; the order of the hits is the one a per-word
        ``extract`` over the targets of lengths ±2 gives (distance, then table order).
        ``small``: a look-up (explain, a few sentences), compared pair by pair, since numpy's
        import would cost more than the work.
        """
        from rapidfuzz.distance import OSA

        targets = self.table.fuzzy_targets
        slips: dict[str, list[int]] = {}
        if small:
            for (length, limit), (words, forms) in groups.items():
                choices = self._fuzzy_choices(length, limit)
                for word, form in zip(words, forms, strict=True):
                    found = []
                    for c, choice in enumerate(choices):
                        d = OSA.distance(form, choice, score_cutoff=limit)
                        if d <= limit:
                            found.append((d, c))
                    for d, c in sorted(found):
                        tid, allowed = targets[choices[c]]
                        if d <= allowed:
                            slips.setdefault(word, []).append(tid)
            return slips
        import numpy as np
        from rapidfuzz.process import cdist

        for (length, limit), (words, forms) in groups.items():
            choices = self._fuzzy_choices(length, limit)
            if not choices:
                continue
            # 500 probes a chunk: the distance matrix stays a few MB against thousands of targets.
            for i in range(0, len(words), 500):
                chunk = forms[i : i + 500]
                dist = cdist(
                    chunk,
                    choices,
                    scorer=OSA.distance,
                    score_cutoff=limit,
                    # Threads only pay off for big batches (the sentence path asks for few words).
                    dtype=np.int32,
                    workers=-1 if len(chunk) * len(choices) > 200_000 else 1,
                )
                rows, cols = np.nonzero(dist <= limit)
                if not len(rows):
                    continue
                values = dist[rows, cols]
                order = np.lexsort((cols, values, rows))
                for r, c, d in zip(
                    rows[order].tolist(), cols[order].tolist(), values[order].tolist(), strict=True
                ):
                    tid, allowed = targets[choices[c]]
                    if d <= allowed:
                        slips.setdefault(words[i + r], []).append(tid)
        return slips
