"""The auto-coder: a codebook compiled into matchers, run over turns, codings with evidence.

Matching (see ``docs/codebook.md`` for the user-facing description):

- Every term is lemmatised by :mod:`qualcode.nlp`; a word matches a one-word term when their
  lemma-candidate sets intersect (``keyword``), when one of its compound parts does (``compound``,
  if the code allows compounds and the term has 4+ letters), or, for words not in the lexicon, when
  it is a slip of one of the term's forms (``fuzzy``). ``-ing`` nouns also match their verb when
  the code has ``derive: true`` (``forankring`` → ``forankre`` → ``forankret``).
- Multi-word terms are phrases: consecutive words each matching by lemma (``stole på hverandre``
  matches ``stolte på hverandre``); up to two spoken fillers may sit inside (``liksom``, ``altså``).
- ``exclude_terms`` (the code's own and the codebook's global ones) win over every rule: a match
  that overlaps an excluded word or phrase is dropped.
- ``near``: a term of ``a`` within N words of a term of ``b`` in the same unit.
- ``patterns``: case-insensitive regular expressions over the unit's text.
- A code is assigned when the unit has at least ``min_hits`` matches for it. When a code and one
  of its descendants both fire in a turn, only the descendant is stored (reports roll up).

Everything about a word type is computed once and cached, so the hot loop is dictionary look-ups.
"""

from __future__ import annotations

import bisect
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from qualcode.codebook import Code, Codebook
from qualcode.errors import InputError
from qualcode.nlp import (
    FILLERS,
    Pipeline,
    collapse_doubles,
    find_negator,
    get_pipeline,
    max_edits,
    negator_inside,
    pronoun_classes,
)
from qualcode.patterns import TimedPattern
from qualcode.store import AUTO_CODER, Store, now_iso

UNITS = ("turn", "sentence")
MAX_FILLERS_IN_PHRASE = 2
MIN_COMPOUND_TERM = 4
STEM = 4  # letters of a term's start that a compound holding it must contain
_WORD = re.compile(r"\w")
# Noun → verb for -ing nouns ("forankring" → "forankre", "kobling" → "koble").
_ING = re.compile(r"(?:e)?ing$")


@dataclass(frozen=True)
class Match:
    """One piece of evidence: a rule of a code that fired on some words of a text."""

    code: str
    rule: str
    term: str
    start: int
    end: int
    words: str
    negated: bool = False
    negator: str | None = None
    sentence: tuple[int, int] | None = None
    #: Evidence strength of the rule (1: enough on its own with the default threshold).
    weight: float = 1.0
    #: A support term: adds to other evidence, never makes a code on its own.
    support: bool = False

    def evidence(self) -> dict[str, Any]:
        """The shared evidence format (see docs/architecture.md)."""
        item: dict[str, Any] = {
            "rule": self.rule,
            "term": self.term,
            "words": self.words,
            "start": self.start,
            "end": self.end,
            "negated": self.negated,
            "negator": self.negator,
        }
        if self.sentence is not None:
            item["sentence"] = list(self.sentence)
        if self.weight != 1.0 or self.support:
            item["weight"] = self.weight
        if self.support:
            item["support"] = True
        return item


@dataclass
class _Use:
    code: int  # index into CompiledCodebook.codes; -1: the codebook's global exclude list
    role: str  # keyword | exclude | near_a | near_b
    near: int = -1
    compounds: bool = True
    fuzzy: bool = True
    weight: float = 1.0
    support: bool = False


@dataclass
class _Term:
    text: str
    words: list[frozenset[str]]
    uses: list[_Use] = field(default_factory=list)
    # ``uses`` split by role once compiled (see CompiledCodebook._build_terms).
    excludes: tuple[_Use, ...] = ()
    keywords: tuple[_Use, ...] = ()
    near_a: tuple[_Use, ...] = ()
    near_b: tuple[_Use, ...] = ()

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class _TypeInfo:
    single: tuple[tuple[int, str], ...]  # (term id, rule) for one-word terms
    phrase: frozenset[tuple[int, int]]  # (term id, word index) of phrase words it matches
    filler: bool
    interesting: bool  # a match can start here
    starts: tuple[int, ...]  # phrases (term ids) whose first word this is, in ``phrase`` order
    seconds: frozenset[int]  # phrases (term ids) whose second word this is


def is_plain_term(term: str) -> bool:
    """True for a term of letters and single spaces only (``stole på hverandre``)."""
    return term.replace(" ", "").isalpha() and " ".join(term.split()) == term


def _type_info(
    single: tuple[tuple[int, str], ...], phrase: frozenset[tuple[int, int]], filler: bool
) -> _TypeInfo:
    # Sorted, because set order follows string hashing, which changes from process to process:
    # the same text must get the same codings and evidence in every run.
    starts = tuple(sorted(tid for tid, k in phrase if k == 0))
    seconds = frozenset(tid for tid, k in phrase if k == 1)
    return _TypeInfo(single, phrase, filler, bool(single) or bool(starts), starts, seconds)


_NOTHING = _type_info((), frozenset(), False)


@dataclass
class _Hit:
    term: int
    rule: str
    first: int  # token indices, inclusive
    last: int


class CompiledCodebook:
    """A codebook ready to match: term tables, per-type caches, compiled patterns."""

    def __init__(self, codebook: Codebook, pipeline: Pipeline | None = None):
        self.codebook = codebook
        self.pipeline = pipeline or get_pipeline()
        self.codes: list[Code] = list(codebook.walk())
        self.index = {code.path: i for i, code in enumerate(self.codes)}
        self.near_rules = [(ci, rule) for ci, code in enumerate(self.codes) for rule in code.near]
        self.patterns = [
            (ci, p, TimedPattern.compile(p))
            for ci, code in enumerate(self.codes)
            for p in code.patterns
        ]
        self.terms: list[_Term] = []
        self._term_ids: dict[str, int] = {}
        self._types: dict[str, _TypeInfo] = {}
        self._by_hash: dict[int, _TypeInfo] = {}  # spaCy's LOWER hash → type info
        self._interesting: set[int] = set()  # hashes of types in a term or phrase, or fillers
        self._wanted: Any = None  # see _wanted_arrays (rebuilt when _interesting grows)
        self._build_terms()
        self._ancestors = {
            i: {self.index[p] for p in _ancestor_paths(code.path)}
            for i, code in enumerate(self.codes)
        }
        self.scoring = codebook.scoring
        self._descendants: dict[int, set[int]] = {i: set() for i in range(len(self.codes))}
        for i, ancestors in self._ancestors.items():
            for a in ancestors:
                self._descendants[a].add(i)
        self._subtree = {i: [i, *sorted(d)] for i, d in self._descendants.items()}
        # Deepest first, so a middle code pools before its own parent looks.
        self._poolers = sorted(
            (i for i, d in self._descendants.items() if d),
            key=lambda i: -self.codes[i].path.count("/"),
        )

    # -- compiling ---------------------------------------------------------------------------
    def _term(self, text: str) -> _Term:
        key = " ".join(text.casefold().split())
        found = self._term_ids.get(key)
        if found is None:
            if is_plain_term(key) and not self.pipeline.spacy_model:
                # spaCy's tokenizer splits these at the spaces and nowhere else (tested), and a
                # codebook has a thousand terms to compile.
                words = key.split(" ")
            else:
                words = [w.key for w in self.pipeline.tokenize(key) if w.is_word or w.text == "&"]
            if not words:
                raise InputError(f"the term '{text}' has no words", path=self.codebook.source_path)
            found = self._term_ids[key] = len(self.terms)
            self.terms.append(_Term(key, [frozenset() for _ in words]))
            self._pending_words.append((found, words))
        return self.terms[found]

    def _build_terms(self) -> None:
        self._pending_words: list[tuple[int, list[str]]] = []
        derive: dict[int, bool] = {}
        for text in self.codebook.exclude_terms:
            self._term(text).uses.append(_Use(-1, "exclude"))
        for ci, code in enumerate(self.codes):
            for kind in ("keyword", "weak", "support"):
                for text in getattr(code, "keywords" if kind == "keyword" else kind):
                    term = self._term(text)
                    term.uses.append(
                        _Use(
                            ci,
                            "keyword",
                            compounds=code.compounds,
                            fuzzy=code.fuzzy,
                            weight=code.term_weight(text, kind),
                            support=kind == "support",
                        )
                    )
                    tid = self._term_ids[term.text]
                    derive[tid] = derive.get(tid, False) or code.derive
            for text in code.exclude_terms:
                self._term(text).uses.append(_Use(ci, "exclude"))
        for ni, (ci, rule) in enumerate(self.near_rules):
            code = self.codes[ci]
            for role, side in (("near_a", rule.a), ("near_b", rule.b)):
                for text in side:
                    self._term(text).uses.append(
                        _Use(ci, role, ni, compounds=code.compounds, fuzzy=code.fuzzy)
                    )
        pending = self._pending_words
        all_words = {w for _, words in pending for w in words}
        verbs = {
            tid: _ING.sub("e", words[0].partition("\t")[0])
            for tid, words in pending
            if len(words) == 1
        }
        self.pipeline.prepare(all_words | set(verbs.values()))
        for tid, words in pending:
            term = self.terms[tid]
            term.words = [
                (len(words) > 1 and pronoun_classes(w)) or self.pipeline.lemmas(w) for w in words
            ]
            verb = verbs.get(tid)
            # Only a real verb of the lexicon: "kobling" → "koble" yes, "ting" → "te" no.
            if (
                verb
                and derive.get(tid)
                and _ING.search(term.text)
                and verb != term.text
                and len(verb) >= 4
                and verb in (self.pipeline.lexicon.get(verb) or ())
            ):
                term.words = [term.words[0] | {verb}]
        for term in self.terms:
            term.excludes = tuple(u for u in term.uses if u.role == "exclude")
            term.keywords = tuple(u for u in term.uses if u.role == "keyword")
            term.near_a = tuple(u for u in term.uses if u.role == "near_a")
            term.near_b = tuple(u for u in term.uses if u.role == "near_b")
        # Indexes: lemma → single-word terms; lemma → (phrase, word index).
        self._single: dict[str, list[int]] = {}
        self._phrase: dict[str, list[tuple[int, int]]] = {}
        for tid, term in enumerate(self.terms):
            if term.is_phrase:
                for k, cands in enumerate(term.words):
                    for lemma in cands:
                        self._phrase.setdefault(lemma, []).append((tid, k))
            else:
                for lemma in term.words[0]:
                    self._single.setdefault(lemma, []).append(tid)
        self._single_lemmas = frozenset(self._single)
        self._phrase_lemmas = frozenset(self._phrase)
        self._compound_ok = {
            tid
            for tid, t in enumerate(self.terms)
            if not t.is_phrase
            and len(t.text) >= MIN_COMPOUND_TERM
            and any(u.compounds or u.role == "exclude" for u in t.uses)
        }
        self._stems = {
            lemma[:STEM]
            for tid in self._compound_ok
            for lemma in (self.terms[tid].text, *self.terms[tid].words[0])
            if len(lemma) >= STEM
        }
        self._fuzzy_targets = self._build_fuzzy_targets()
        self._fuzzy_by_length: dict[int, list[str]] = {}
        for target in self._fuzzy_targets:
            self._fuzzy_by_length.setdefault(len(target), []).append(target)
        self._fuzzy_near: dict[tuple[int, int], list[str]] = {}
        del self._pending_words

    def _may_hold_term(self, word: str) -> bool:
        """Cheap pre-test for the compound split: does ``word`` contain the start of a term?

        Norwegian inflects at the end, so a compound holding a term holds its first letters.
        """
        grams = self._stems
        return any(word[i : i + STEM] in grams for i in range(1, len(word) - STEM + 1)) or (
            "-" in word or word[:STEM] in grams
        )

    def _build_fuzzy_targets(self) -> dict[str, tuple[int, int]]:
        """Collapsed form → (term id, allowed edits) for every inflected form of fuzzy terms."""
        forms: dict[int, set[str]] = {}
        for tid, term in enumerate(self.terms):
            if term.is_phrase or len(term.text) < 5:
                continue
            if not any(u.fuzzy and u.role != "exclude" for u in term.uses):
                continue
            forms[tid] = {term.text, *(lemma for lemma in term.words[0] if len(lemma) >= 5)}
        # Inflected forms by the regular endings, kept only if the lexicon knows them as forms
        # of the term's lemmas (so "konkurentene" is a slip of the form "konkurrentene").
        endings = (
            "en",
            "a",
            "er",
            "ene",
            "et",
            "e",
            "r",
            "es",
            "te",
            "t",
            "de",
            "ane",
            "ar",
            "ast",
        )
        guesses = {tid: {f + e for f in fs for e in endings} for tid, fs in forms.items()}
        self.pipeline.lexicon.prefetch(g for gs in guesses.values() for g in gs)
        targets: dict[str, tuple[int, int]] = {}
        for tid, fs in forms.items():
            lemmas = self.terms[tid].words[0]
            for guess in guesses[tid]:
                found = self.pipeline.lexicon.get(guess)
                if found and found & lemmas:
                    fs.add(guess)
            for form in fs:
                targets.setdefault(collapse_doubles(form), (tid, max_edits(form)))
        return targets

    # -- word types --------------------------------------------------------------------------
    def type_info(self, word: str) -> _TypeInfo:
        """Everything the codebook's terms say about one word type (cached)."""
        found = self._types.get(word)
        if found is None:
            self.prepare([word])
            found = self._types[word]
        return found

    def prepare(self, words: Iterable[str]) -> None:
        """Analyse new word types in one batch."""
        new = [w for w in set(words) if w not in self._types]
        if not new:
            return
        self.pipeline.prepare(new, split=self._may_hold_term)
        for word, info in zip(new, self._analyse_many(new), strict=True):
            self._types[word] = info

    def _analyse_many(self, keys: list[str]) -> list[_TypeInfo]:
        """The type info of each key: lexicon and split look-ups per word, fuzzy in one batch."""
        pipeline_info = self.pipeline.info
        single_index, phrase_index, compound_ok = self._single, self._phrase, self._compound_ok
        single_lemmas, phrase_lemmas = self._single_lemmas, self._phrase_lemmas
        index_lemmas = single_lemmas | phrase_lemmas
        fuzzy_on = bool(self._fuzzy_targets)
        pending: list[tuple[str, frozenset[str], Any, dict[int, str]] | None] = []
        probes: dict[str, str] = {}  # word → its collapsed form, for the fuzzy batch
        for key in keys:
            word = key.partition("\t")[0]
            if not _WORD.search(word):
                pending.append(None)
                continue
            info = pipeline_info(key, parts=False)
            single: dict[int, str] = {}
            # Most types share no lemma with any term: one set intersection says so.
            indexed = info.lemmas & index_lemmas
            for lemma in indexed & single_lemmas:
                for tid in single_index[lemma]:
                    single[tid] = "keyword"
            if info.parts:
                for part in info.part_lemmas:
                    for lemma in part:
                        for tid in single_index.get(lemma, ()):
                            if tid in compound_ok:
                                single.setdefault(tid, "compound")
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
            pending.append((word, indexed, info, single))
        slips = self._fuzzy_many(probes) if probes else {}
        result: list[_TypeInfo] = []
        for item in pending:
            if item is None:
                result.append(_NOTHING)
                continue
            word, indexed, info, single = item
            for tid in slips.get(word, ()):
                single.setdefault(tid, "fuzzy")
            phrase: set[tuple[int, int]] = set()
            for lemma in (indexed | pronoun_classes(word)) & phrase_lemmas:
                phrase.update(phrase_index[lemma])
            filler = word in FILLERS
            if not single and not phrase and not filler:
                result.append(_NOTHING)
            else:
                result.append(_type_info(tuple(sorted(single.items())), frozenset(phrase), filler))
        return result

    def _fuzzy_choices(self, length: int, limit: int) -> list[str]:
        """Fuzzy targets whose length is within ``limit`` of ``length``, in target-table order."""
        key = (length, limit)
        found = self._fuzzy_near.get(key)
        if found is None:
            found = self._fuzzy_near[key] = [
                t
                for n in range(length - limit, length + limit + 1)
                for t in self._fuzzy_by_length.get(n, ())
            ]
        return found

    def _fuzzy_many(self, probes: dict[str, str]) -> dict[str, list[int]]:
        """word → term ids it is a slip of, best first (ties in target-table order).

        One ``cdist`` per (length, allowed edits) group instead of one ``extract`` per word. A
        target more than ``limit`` letters longer or shorter is more than ``limit`` edits away,
        so only the targets of near lengths are compared; the order of the hits is the one a
        per-word ``extract`` over the targets of lengths ±2 gives (distance, then table order).
        """
        import numpy as np
        from rapidfuzz.distance import OSA
        from rapidfuzz.process import cdist

        groups: dict[tuple[int, int], list[str]] = {}
        for word, probe in probes.items():
            groups.setdefault((len(probe), max_edits(word)), []).append(word)
        targets = self._fuzzy_targets
        slips: dict[str, list[int]] = {}
        for (length, limit), words in groups.items():
            choices = self._fuzzy_choices(length, limit)
            if not choices:
                continue
            for i in range(0, len(words), 2000):
                chunk = words[i : i + 2000]
                dist = cdist(
                    [probes[w] for w in chunk],
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
                        slips.setdefault(chunk[r], []).append(tid)
        return slips

    # -- matching one text -------------------------------------------------------------------
    def _hits(self, keys: list[str]) -> list[_Hit]:
        self.prepare(keys)
        infos = [self._types[k] for k in keys]
        hits: list[_Hit] = []
        for i, info in enumerate(infos):
            if not info.interesting:
                continue
            for tid, rule in info.single:
                hits.append(_Hit(tid, rule, i, i))
            if info.starts:
                self._phrase_hits(info, infos, i, hits)
        return hits

    def _phrase_hits(
        self, info: _TypeInfo, infos: Sequence[_TypeInfo], i: int, hits: list[_Hit]
    ) -> None:
        """Add the phrases that start at token ``i`` and complete.

        Only phrases whose second word comes next (after at most the allowed fillers) are
        followed to the end: a common first word ("i", "det") starts dozens of phrases.
        """
        following: set[int] = set()
        for j in range(i + 1, min(i + 2 + MAX_FILLERS_IN_PHRASE, len(infos))):
            after = infos[j]
            following |= after.seconds
            if not after.filler:
                break
        if not following:
            return
        for tid in info.starts:
            if tid in following:
                end = self._extend_phrase(tid, infos, i)
                if end is not None:
                    hits.append(_Hit(tid, "phrase", i, end))

    def _extend_phrase(self, tid: int, infos: Sequence[_TypeInfo], i: int) -> int | None:
        length = len(self.terms[tid].words)
        j, k, skipped = i + 1, 1, 0
        while k < length:
            if j >= len(infos):
                return None
            info = infos[j]
            if (tid, k) in info.phrase:
                k += 1
            elif info.filler and skipped < MAX_FILLERS_IN_PHRASE:
                skipped += 1
            else:
                return None
            j += 1
        return j - 1

    def match(
        self,
        text: str,
        *,
        offset: int = 0,
        base: str | None = None,
        sentence: tuple[int, int] | None = None,
    ) -> list[Match]:
        """Every rule match in ``text`` (one unit), exclusions applied, ``min_hits`` not yet.

        ``offset`` shifts the reported offsets (a sentence inside its turn); ``base`` is the
        turn's text the offsets point into.
        """
        base = text if base is None else base
        tokens = self.pipeline.tokenize(text)
        words = [t.lower for t in tokens]
        hits = self._hits([t.key for t in tokens])
        del base
        return self._resolve(
            text, [t.start for t in tokens], [t.end for t in tokens], words, hits, offset, sentence
        )

    def _resolve(
        self,
        text: str,
        starts: list[int],
        ends: list[int],
        words: Any,
        hits: list[_Hit],
        offset: int,
        sentence: tuple[int, int] | None,
    ) -> list[Match]:
        if not hits and not self.patterns:
            return []
        # Excluded character spans: per code index, and -1 for everyone.
        terms = self.terms
        excluded: dict[int, list[tuple[int, int]]] = {}
        for hit in hits:
            for use in terms[hit.term].excludes:
                excluded.setdefault(use.code, []).append((starts[hit.first], ends[hit.last]))

        def is_excluded(ci: int, start: int, end: int) -> bool:
            for key in (-1, ci):
                for a, b in excluded.get(key, ()):
                    if a < end and start < b:
                        return True
            return False

        def applies(use: _Use, hit: _Hit, start: int, end: int) -> bool:
            if hit.rule == "compound" and not use.compounds:
                return False
            if hit.rule == "fuzzy" and not use.fuzzy:
                return False
            return not (excluded and is_excluded(use.code, start, end))

        matches: list[Match] = []
        near_sides: dict[tuple[int, str], list[_Hit]] = {}
        negators: dict[int, str | None] = {}  # token index → its negator (one search per token)
        for hit in hits:
            term = terms[hit.term]
            start, end = starts[hit.first], ends[hit.last]
            for use in term.near_a:
                if applies(use, hit, start, end):
                    near_sides.setdefault((use.near, "near_a"), []).append(hit)
            for use in term.keywords:
                if applies(use, hit, start, end):
                    if hit.first in negators:
                        negator = negators[hit.first]
                    else:
                        negator = negators[hit.first] = find_negator(words, hit.first)
                    if negator is None and hit.last > hit.first:
                        # A phrase with a negator inside it: "stoler ikke på hverandre".
                        negator = negator_inside(words, hit.first, hit.last)
                    matches.append(
                        Match(
                            self.codes[use.code].path,
                            hit.rule,
                            term.text,
                            start + offset,
                            end + offset,
                            text[start:end],
                            negator is not None,
                            negator,
                            sentence,
                            use.weight,
                            use.support,
                        )
                    )
        if near_sides:
            # The other side only for rules whose first side is there: the second sides are
            # often common words ("hun", "klyngen") that would be collected in every turn.
            wanted = {ni for ni, _ in near_sides}
            for hit in hits:
                for use in terms[hit.term].near_b:
                    if use.near in wanted and applies(use, hit, starts[hit.first], ends[hit.last]):
                        near_sides.setdefault((use.near, "near_b"), []).append(hit)
        for ni, (ci, rule) in enumerate(self.near_rules):
            a_hits = near_sides.get((ni, "near_a"), [])
            b_hits = near_sides.get((ni, "near_b"), [])
            for a in a_hits:
                best = None
                for b in b_hits:
                    gap = max(b.first - a.last, a.first - b.last)
                    if (
                        gap <= rule.within
                        and (a.first, a.last) != (b.first, b.last)
                        and (best is None or gap < best[0])
                    ):
                        best = (gap, b)
                if best is None:
                    continue
                b = best[1]
                first, last = min(a.first, b.first), max(a.last, b.last)
                start, end = starts[first], ends[last]
                # A negator inside the span counts too: "deler aldri prisene".
                negator = find_negator(words, first) or find_negator(words, last)
                matches.append(
                    Match(
                        self.codes[ci].path,
                        "near",
                        rule.label,
                        start + offset,
                        end + offset,
                        text[start:end],
                        negator is not None,
                        negator,
                        sentence,
                        self.codes[ci].weight if rule.weight is None else rule.weight,
                    )
                )
        if self.patterns:
            for ci, source, pattern in self.patterns:
                for m in pattern.finditer(text):
                    if m.end() == m.start() or is_excluded(ci, m.start(), m.end()):
                        continue
                    index = bisect.bisect_right(starts, m.start()) - 1
                    negator = find_negator(words, max(index, 0)) if index >= 0 else None
                    if negator is None:
                        last = bisect.bisect_left(starts, m.end()) - 1
                        negator = negator_inside(words, max(index, 0), last)
                    matches.append(
                        Match(
                            self.codes[ci].path,
                            "pattern",
                            source,
                            m.start() + offset,
                            m.end() + offset,
                            m.group(),
                            negator is not None,
                            negator,
                            sentence,
                            self.codes[ci].weight,
                        )
                    )
        return _dedupe(matches)

    # -- coding a turn -----------------------------------------------------------------------
    def code_text(self, text: str, unit: str = "turn") -> dict[str, list[Match]]:
        """The codes a turn gets, each with the matches that made it (in text order)."""
        if unit not in UNITS:
            raise InputError(f"unknown unit '{unit}'; use turn or sentence")
        if unit == "turn":
            units = [self.match(text)]
        else:
            from qualcode.text import sentence_spans

            units = [
                self.match(text[a:b], offset=a, base=text, sentence=(a, b))
                for a, b in sentence_spans(text)
            ]
        return self._assign(units, text)

    def _assign(self, units: list[list[Match]], text: str) -> dict[str, list[Match]]:
        """Score each unit's matches per code and decide which codes the turn gets.

        A code is assigned when its own evidence reaches its ``threshold`` (and ``min_hits``);
        a code with children that did not fire also pools the evidence of its whole subtree.
        When a code and one of its descendants both fire, only the descendant is kept.
        """
        coded: dict[str, list[Match]] = {}
        scoring = self.scoring
        # Counting words is only needed once a weak match asks.
        short: bool | None = None if scoring.short_turn else False
        echo = _EchoTest(text) if scoring.echo != 1.0 else None
        for matches in units:
            if not matches:
                continue
            by_code: dict[int, list[tuple[Match, float]]] = {}
            for m in matches:
                weight = m.weight
                if weight < 1.0 and short is None:
                    short = len(text.split()) < scoring.short_turn
                if short and weight < 1.0:
                    weight = 0.0
                elif echo is not None and echo(m.start, m.end):
                    weight *= scoring.echo
                by_code.setdefault(self.index[m.code], []).append((m, weight))
            fired: set[int] = set()
            for ci, items in by_code.items():
                if self._fires(ci, items):
                    fired.add(ci)
                    coded.setdefault(self.codes[ci].path, []).extend(m for m, _ in items)
            for ci in self._poolers:
                if ci in fired or fired & self._descendants[ci]:
                    continue
                pooled = [x for d in self._subtree[ci] for x in by_code.get(d, ())]
                if pooled and self._fires(ci, pooled):
                    fired.add(ci)
                    coded.setdefault(self.codes[ci].path, []).extend(m for m, _ in pooled)
        # A code and its descendant both fired: keep the more specific one only.
        present = {self.index[p] for p in coded}
        for ci in list(present):
            for ancestor in self._ancestors[ci]:
                coded.pop(self.codes[ancestor].path, None)
        # A category (codable: false) pools evidence for its parent but is never assigned.
        return {
            p: sorted(set(ms), key=lambda m: (m.start, m.end, m.rule, m.term))
            for p, ms in coded.items()
            if self.codes[self.index[p]].codable
        }

    def _fires(self, ci: int, items: list[tuple[Match, float]]) -> bool:
        """True if these (match, weight) pairs are enough evidence for code ``ci``."""
        code = self.codes[ci]
        if len(items) < code.min_hits or all(m.support for m, _ in items):
            return False
        return evidence_score(items, self.scoring.repeat) >= code.threshold - 1e-9

    def code_many(self, texts: list[str]) -> list[dict[str, list[Match]]]:
        """:meth:`code_text` for many turns, batched through the tokenizer (the fast path).

        New word types of the whole batch are analysed in one go; then only tokens whose type can
        start a match are looked at (a set membership test), so most tokens cost nothing.
        """
        import numpy as np
        from spacy.attrs import IDX, LENGTH, LOWER

        strings = self.pipeline.nlp.vocab.strings
        seen = self._by_hash
        arrays = [
            doc.to_array([LOWER, IDX, LENGTH])
            for doc in self.pipeline.tokenizer.pipe(texts, batch_size=256)
        ]
        flat = np.concatenate([a[:, 0] for a in arrays]) if arrays else np.empty(0, dtype=np.uint64)
        if len(flat):
            batch = np.unique(flat).tolist()
            new = [h for h in batch if h not in seen]
            if new:
                words_new = [strings[h] for h in new]
                self.prepare(words_new)
                for h, w in zip(new, words_new, strict=True):
                    info = seen[h] = self._types[w]
                    if info.interesting or info.phrase or info.filler:
                        self._interesting.add(h)
                        self._wanted = None
        results: list[dict[str, list[Match]]] = []
        # One vectorised membership test for the whole batch (a binary search in the sorted
        # hashes of the types that can start a match): the few positions worth looking at;
        # everything else costs no Python work at all.
        candidates: list[list[int]] = [[] for _ in arrays]
        if self._interesting and len(flat):
            if self._wanted is None:
                self._wanted = self._wanted_arrays()
            single_types, start_types, continue_types = self._wanted
            # A position is looked at if its type matches a one-word term, or if it starts a
            # phrase and the next token can be a phrase's second word or a filler: a phrase has
            # at least two words, so no other start can complete.
            mask = _member(flat, single_types)
            starts = _member(flat, start_types)
            if starts.any():
                follows = np.zeros(len(flat), dtype=bool)
                follows[:-1] = _member(flat[1:], continue_types)
                mask |= starts & follows
            positions = np.flatnonzero(mask)
            bounds = np.cumsum([0] + [len(a) for a in arrays])
            cuts = np.searchsorted(positions, bounds).tolist()
            for d in range(len(arrays)):
                if cuts[d] != cuts[d + 1]:
                    candidates[d] = (positions[cuts[d] : cuts[d + 1]] - bounds[d]).tolist()
        decoded: dict[int, str] = {}
        for text, array, where in zip(texts, arrays, candidates, strict=True):
            if not where and not self.patterns:
                results.append({})
                continue
            hashes = array[:, 0].tolist()
            infos = _InfoView(hashes, seen)
            hits: list[_Hit] = []
            for i in where:
                info = seen[hashes[i]]
                for tid, rule in info.single:
                    hits.append(_Hit(tid, rule, i, i))
                if info.starts:
                    self._phrase_hits(info, infos, i, hits)
            starts = array[:, 1].tolist()
            ends = (array[:, 1] + array[:, 2]).tolist()
            words = _LazyWords(hashes, strings, decoded)
            results.append(
                self._assign([self._resolve(text, starts, ends, words, hits, 0, None)], text)
            )
        return results

    def _wanted_arrays(self) -> tuple[Any, Any, Any]:
        """Sorted hash arrays: types with one-word matches, phrase starts, phrase continuations.

        A continuation is a type that is the second word of some phrase, or a filler.
        """
        import numpy as np

        single, start, cont = [], [], []
        for h in self._interesting:
            info = self._by_hash[h]
            if info.single:
                single.append(h)
            if info.starts:
                start.append(h)
            if info.filler or info.seconds:
                cont.append(h)
        return tuple(np.sort(np.array(x, dtype=np.uint64)) for x in (single, start, cont))  # type: ignore[return-value]


def _member(values: Any, sorted_set: Any) -> Any:
    """Boolean mask: which of ``values`` are in the sorted array ``sorted_set`` (binary search)."""
    import numpy as np

    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_set, values)
    at[at == len(sorted_set)] = 0
    return sorted_set[at] == values


class _InfoView:
    """The type analyses of a doc's tokens, looked up by hash only when a phrase needs them."""

    __slots__ = ("hashes", "seen")

    def __init__(self, hashes: list[int], seen: dict[int, _TypeInfo]):
        self.hashes = hashes
        self.seen = seen

    def __len__(self) -> int:
        return len(self.hashes)

    def __getitem__(self, index: int) -> _TypeInfo:
        return self.seen[self.hashes[index]]


class _LazyWords:
    """Lower-case words of a doc, decoded from spaCy's string store only when looked at."""

    __slots__ = ("decoded", "hashes", "strings")

    def __init__(self, hashes: list[int], strings: Any, decoded: dict[int, str]):
        self.hashes = hashes
        self.strings = strings
        self.decoded = decoded  # hash → string, shared by the batch

    def __len__(self) -> int:
        return len(self.hashes)

    def __getitem__(self, index: int) -> str:
        h = self.hashes[index]
        found = self.decoded.get(h)
        if found is None:
            found = self.decoded[h] = self.strings[h]
        return found


def evidence_score(items: Iterable[tuple[Match, float]], repeat: float = 0.0) -> float:
    """The evidence of (match, weight) pairs: each distinct term counts once at its best weight;
    further matches of the same term add ``repeat`` times their weight."""
    per_term: dict[str, list[float]] = {}
    for m, weight in items:
        per_term.setdefault(m.term, []).append(weight)
    total = 0.0
    for weights in per_term.values():
        weights.sort(reverse=True)
        total += weights[0] + repeat * sum(weights[1:])
    return total


#: A respondent's question sentence of at most this many words that holds a match is an echo
#: of the interviewer ("Tillit? Ja, …", "Om vi stoler på hverandre?").
ECHO_WORDS = 6
_SENTENCE_END = re.compile(r"[.!?…\n]")


def _in_echo_question(text: str, start: int, end: int) -> bool:
    """True if ``text[start:end]`` sits in a short sentence that ends with a question mark."""
    before = max(text.rfind(ch, 0, start) for ch in ".!?…\n")
    after = _SENTENCE_END.search(text, end)
    if after is None or after.group() != "?":
        return False
    return len(text[before + 1 : after.start()].split()) <= ECHO_WORDS


class _EchoTest:
    """:func:`_in_echo_question` for many spans of one text: sentence ends found once."""

    __slots__ = ("ends", "text")

    def __init__(self, text: str):
        self.text = text
        self.ends: list[int] | None = None  # found on the first call: most turns never ask

    def __call__(self, start: int, end: int) -> bool:
        ends = self.ends
        if ends is None:
            ends = self.ends = [m.start() for m in _SENTENCE_END.finditer(self.text)]
        i = bisect.bisect_left(ends, start)  # the last end before ``start`` is ends[i - 1]
        before = ends[i - 1] if i else -1
        j = bisect.bisect_left(ends, end)  # the first end at or after ``end``
        if j == len(ends) or self.text[ends[j]] != "?":
            return False
        return len(self.text[before + 1 : ends[j]].split()) <= ECHO_WORDS


def _ancestor_paths(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _dedupe(matches: list[Match]) -> list[Match]:
    """One match per (code, span): a phrase and the keyword inside it are one piece of evidence."""
    rank = {"phrase": 0, "keyword": 1, "near": 2, "compound": 3, "pattern": 4, "fuzzy": 5}
    best: dict[tuple[str, int, int], Match] = {}
    for m in matches:
        key = (m.code, m.start, m.end)
        # Ties go to the lowest (rank, term): never to whichever match happened to come first.
        if key not in best or (rank[m.rule], m.term) < (rank[best[key].rule], best[key].term):
            best[key] = m
    kept = sorted(best.values(), key=lambda m: (m.code, m.start, -m.end))
    result: list[Match] = []
    for m in kept:
        # A keyword inside a longer phrase or near-span of the same code adds nothing.
        if (
            result
            and result[-1].code == m.code
            and result[-1].start <= m.start
            and m.end <= result[-1].end
        ):
            continue
        result.append(m)
    return result


# -- the project ----------------------------------------------------------------------------
@dataclass
class CodeSummary:
    """One code's result in an auto-coding run."""

    path: str
    segments: int = 0
    matches: int = 0
    negated: int = 0


@dataclass
class AutocodeSummary:
    """What :func:`autocode_project` did."""

    segments: int
    coded_segments: int
    codings: int
    removed: int
    unit: str
    seconds: float
    codes: list[CodeSummary] = field(default_factory=list)
    #: Patterns that ran out of time on some turns (see qualcode.patterns).
    warnings: list[str] = field(default_factory=list)


def autocode_project(
    store: Store,
    codebook: Codebook,
    *,
    unit: str = "turn",
    include_interviewer: bool = False,
    spacy_model: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    command: str = "code",
    compiled: CompiledCodebook | None = None,
) -> AutocodeSummary:
    """Auto-code the project's turns, replacing only the ``auto`` layer (one transaction).

    The codebook must be installed (:func:`qualcode.codebook.install_codebook`) so its codes exist.
    Interviewer turns are skipped unless ``include_interviewer``. Human layers are never touched.
    ``compiled``: the codebook already compiled (a caller that compiles before installing it).
    """
    if unit not in UNITS:
        raise InputError(f"unknown unit '{unit}'; use turn or sentence")
    known = set(store.code_paths(active_only=True))
    missing = [p for p in codebook.paths() if p not in known]
    if missing:
        raise InputError(
            f"code '{missing[0]}' is not in the project; load the codebook first "
            "('qualcode codebook load FILE')",
            path=codebook.source_path,
        )
    began = time.perf_counter()
    if compiled is None:
        compiled = CompiledCodebook(codebook, get_pipeline(spacy_model) if spacy_model else None)
    sql = "SELECT id, text FROM segments"
    if not include_interviewer:
        sql += " WHERE role = 'respondent'"
    sql += " ORDER BY transcript_id, position"

    def code_rows(rows: list[tuple[int, str]], progress: bool) -> list[dict[str, list[Match]]]:
        results: list[dict[str, list[Match]]] = []
        batch = 500
        for i in range(0, len(rows), batch):
            texts = [text for _, text in rows[i : i + batch]]
            if unit == "turn" and not spacy_model:
                results.extend(compiled.code_many(texts))
            else:
                results.extend(compiled.code_text(t, unit) for t in texts)
            if on_progress and progress:
                on_progress(min(i + batch, len(rows)), len(rows))
        return results

    # Coded outside the write lock (it takes a while), then checked inside it: turns that another
    # command replaced meanwhile (ingest --replace) are coded again there, never written stale.
    first_rows = store.conn.execute(sql).fetchall()
    coded_by_row = dict(zip(first_rows, code_rows(first_rows, True), strict=True))
    with store.write(command, coder=AUTO_CODER) as tx:
        rows = tx.conn.execute(sql).fetchall()
        changed = [row for row in rows if row not in coded_by_row]
        coded_by_row.update(zip(changed, code_rows(changed, False), strict=True))
        results = [coded_by_row[row] for row in rows]
        code_ids = {path: store.code_id(path) for path in codebook.paths()}
        created = now_iso()
        inserts = []
        per_code = {path: CodeSummary(path) for path in codebook.paths()}
        for (seg_id, _), coded in zip(rows, results, strict=True):
            for path, matches in coded.items():
                negated = all(m.negated for m in matches)
                evidence = json.dumps([m.evidence() for m in matches], ensure_ascii=False)
                inserts.append((seg_id, code_ids[path], "auto", int(negated), evidence, created))
                summary = per_code[path]
                summary.segments += 1
                summary.matches += len(matches)
                summary.negated += int(negated)
        coder_id = store.ensure_coder(tx, AUTO_CODER)
        removed = tx.conn.execute("DELETE FROM codings WHERE coder_id = ?", (coder_id,)).rowcount
        tx.conn.executemany(
            "INSERT INTO codings (segment_id, code_id, coder_id, source, negated, evidence, created_at)"
            f" VALUES (?, ?, {coder_id}, ?, ?, ?, ?)",
            inserts,
        )
        tx.audit(
            "replace_auto_layer",
            coder=AUTO_CODER,
            detail={
                "codebook": codebook.name,
                "codebook_sha256": codebook.sha256,
                "unit": unit,
                "include_interviewer": include_interviewer,
                "spacy_model": spacy_model,
                "segments": len(rows),
                "removed": removed,
                "added": len(inserts),
                "per_code": {p: s.segments for p, s in per_code.items() if s.segments},
            },
        )
    compiled.pipeline.save_type_cache()
    return AutocodeSummary(
        segments=len(rows),
        coded_segments=sum(1 for r in results if r),
        codings=len(inserts),
        removed=removed,
        unit=unit,
        seconds=time.perf_counter() - began,
        codes=list(per_code.values()),
        warnings=[w for _, _, p in compiled.patterns if (w := p.warning())],
    )


def top_codes(paths: Iterable[str]) -> set[str]:
    """The top codes of some code paths (``tillit/åpenhet`` → ``tillit``)."""
    return {p.split("/", 1)[0] for p in paths}


def negation_counts(matches: Iterable[Match]) -> Counter[bool]:
    """How many matches are negated (True) and not (False)."""
    return Counter(m.negated for m in matches)
