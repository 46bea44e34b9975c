"""A codebook compiled for matching: terms (:mod:`.terms`), word types (:mod:`.wordtypes`), hits
(:mod:`.hits`), their resolution into evidence (:mod:`.resolve`) and scoring (:mod:`.scoring`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from qualcode.autocode.hits import candidate_positions, find_hits
from qualcode.autocode.matches import Match
from qualcode.autocode.resolve import Resolver
from qualcode.autocode.scoring import Scorer
from qualcode.autocode.terms import Term, TermTable
from qualcode.autocode.wordtypes import TypeAnalyser, TypeInfo
from qualcode.codebook import Code, Codebook
from qualcode.errors import InputError
from qualcode.nlp import Pipeline, get_pipeline
from qualcode.tokens import lower_words

UNITS = ("turn", "sentence")


class CompiledCodebook:
    """A codebook ready to match: term tables, per-type caches, compiled patterns."""

    def __init__(self, codebook: Codebook, pipeline: Pipeline | None = None):
        self.codebook = codebook
        self.pipeline = pipeline or get_pipeline()
        self.codes: list[Code] = list(codebook.walk())
        self.table = TermTable(codebook, self.codes, self.pipeline)
        self.types = TypeAnalyser(self.table)
        self.resolver = Resolver(self.table)
        self.scorer = Scorer(self.codes, codebook.scoring)
        self.index = self.scorer.index
        self.near_rules = self.table.near_rules
        self.patterns = self.resolver.patterns

    # -- the parts' tables, for tests and tools ----------------------------------------------
    @property
    def terms(self) -> list[Term]:
        return self.table.terms

    @property
    def _fuzzy_targets(self) -> dict[str, tuple[int, int]]:
        return self.table.fuzzy_targets

    @property
    def _fuzzy_by_length(self) -> dict[int, list[str]]:
        return self.table.fuzzy_by_length

    def _fuzzy_many(self, probes: dict[str, str]) -> dict[str, list[int]]:
        return self.types.fuzzy_many(probes)

    def type_info(self, word: str) -> TypeInfo:
        """Everything the codebook's terms say about one word type (cached)."""
        return self.types.info(word)

    def prepare(self, words: Iterable[str]) -> None:
        """Analyse new word types in one batch."""
        self.types.prepare(words)

    # -- one text ----------------------------------------------------------------------------
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
        del base
        tokens = self.pipeline.tokenize(text)
        keys = [t.key for t in tokens]
        self.types.prepare(keys)
        types = self.types.types
        infos = [types[k] for k in keys]
        hits = find_hits(self.table, infos, [i for i, info in enumerate(infos) if info.interesting])
        return self.resolver.resolve(
            text, [t.start for t in tokens], [t.end for t in tokens], [t.lower for t in tokens],
            hits, offset, sentence,
        )

    def match_tokens(self, text: str, starts: list[int], ends: list[int]) -> list[Match]:
        """:meth:`match` of a whole turn whose token offsets are known (stored at ingest)."""
        words = lower_words(text, starts, ends)
        self.types.prepare(words)
        types = self.types.types
        infos = list(map(types.__getitem__, words))
        hits = find_hits(self.table, infos, candidate_positions(infos))
        return self.resolver.resolve(text, starts, ends, words, hits)

    def code_text(self, text: str, unit: str = "turn") -> dict[str, list[Match]]:
        """The codes a turn gets, each with the matches that made them (in text order)."""
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
        return self.scorer.assign(units, text)

    # -- many turns --------------------------------------------------------------------------
    def code_many(self, texts: list[str]) -> list[dict[str, list[Match]]]:
        """:meth:`code_text` for many turns, tokenized in one batch (see :meth:`code_tokens`)."""
        from qualcode.tokens import tokenize_spans

        return self.code_tokens(texts, tokenize_spans(texts))

    def code_tokens(
        self, texts: Sequence[str], spans: Sequence[tuple[list[int], list[int]]]
    ) -> list[dict[str, list[Match]]]:
        """:meth:`code_text` for many turns whose token offsets are known (the fast path).

        New word types of the whole batch are analysed in one go; then only tokens whose type can
        start a match are looked at, so most tokens cost one dictionary look-up.
        """
        if self.pipeline.spacy_model:
            return [self.code_text(text) for text in texts]
        all_words = [
            lower_words(text, starts, ends) for text, (starts, ends) in zip(texts, spans, strict=True)
        ]
        types = self.types.types
        new = set().union(*all_words).difference(types)
        if new:
            self.types.load_cache()
            self.types.reuse_cached(new)
            self.types.prepare(w for w in new if w not in types)
        lookup = types.__getitem__
        table, resolve, assign = self.table, self.resolver.resolve, self.scorer.assign
        patterns = bool(self.patterns)
        results: list[dict[str, list[Match]]] = []
        for text, (starts, ends), words in zip(texts, spans, all_words, strict=True):
            infos = list(map(lookup, words))
            positions = candidate_positions(infos)
            if not positions and not patterns:
                results.append({})
                continue
            hits = find_hits(table, infos, positions)
            matches = resolve(text, starts, ends, words, hits)
            results.append(assign([matches], text) if matches else {})
        return results

