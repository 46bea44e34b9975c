"""Resolving a turn's term hits into evidence: exclusions, negation, ``near`` rules and patterns.

The result is every rule match of one unit (a turn or a sentence) as :class:`Match` objects, one
per code and span, before scoring decides which codes the unit gets.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from qualcode.autocode.hits import Hit
from qualcode.autocode.matches import Match, dedupe
from qualcode.autocode.terms import TermTable, Use
from qualcode.nlp import find_negator, negator_inside
from qualcode.patterns import TimedPattern


class Resolver:
    """Turns hits into matches for one compiled codebook."""

    def __init__(self, table: TermTable):
        self.table = table
        self.terms = table.terms
        self.codes = table.codes
        self.paths = [code.path for code in table.codes]
        self.near_rules = table.near_rules
        #: Terms that exclude something (most hits are of terms that do not).
        self.excluding = frozenset(tid for tid, term in enumerate(self.terms) if term.excludes)
        self.patterns = [
            (ci, p, TimedPattern.compile(p))
            for ci, code in enumerate(table.codes)
            for p in code.patterns
        ]

    def resolve(
        self,
        text: str,
        starts: Sequence[int],
        ends: Sequence[int],
        words: Any,
        hits: list[Hit],
        offset: int = 0,
        sentence: tuple[int, int] | None = None,
    ) -> list[Match]:
        """Every match of ``hits`` (and of the patterns) in ``text``, exclusions applied.

        ``words`` are the lower-case tokens (for negation), ``starts``/``ends`` their offsets;
        ``offset`` shifts the reported offsets (a sentence inside its turn).
        """
        if not hits and not self.patterns:
            return []
        terms = self.terms
        paths = self.paths
        # Excluded character spans: per code index, and -1 for everyone.
        excluded: dict[int, list[tuple[int, int]]] = {}
        excluding = self.excluding
        for tid, _, first, last in hits:
            if tid in excluding:
                for use in terms[tid].excludes:
                    excluded.setdefault(use.code, []).append((starts[first], ends[last]))

        def is_excluded(ci: int, start: int, end: int) -> bool:
            for key in (-1, ci):
                for a, b in excluded.get(key, ()):
                    if a < end and start < b:
                        return True
            return False

        def applies(use: Use, rule: str, start: int, end: int) -> bool:
            if rule == "compound" and not use.compounds:
                return False
            if rule == "fuzzy" and not use.fuzzy:
                return False
            return not (excluded and is_excluded(use.code, start, end))

        matches: list[Match] = []
        near_sides: dict[tuple[int, str], list[Hit]] = {}
        negators: dict[int, str | None] = {}  # token index → its negator (one search per token)
        for hit in hits:
            tid, rule, first, last = hit
            term = terms[tid]
            if not term.keywords and not term.near_a:
                continue
            start, end = starts[first], ends[last]
            for use in term.near_a:
                if applies(use, rule, start, end):
                    near_sides.setdefault((use.near, "near_a"), []).append(hit)
            for use in term.keywords:
                # applies(), inlined: this is the hot loop of a big corpus.
                if (
                    (rule == "compound" and not use.compounds)
                    or (rule == "fuzzy" and not use.fuzzy)
                    or (excluded and is_excluded(use.code, start, end))
                ):
                    continue
                if first in negators:
                    negator = negators[first]
                else:
                    negator = negators[first] = find_negator(words, first)
                if negator is None and last > first:
                    # A phrase with a negator inside it: "stoler ikke på hverandre".
                    negator = negator_inside(words, first, last)
                matches.append(
                    Match(
                        paths[use.code],
                        rule,
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
            matches.extend(self._near(text, starts, ends, words, hits, near_sides, applies,
                                      offset, sentence))
        if self.patterns:
            matches.extend(self._patterns(text, starts, words, is_excluded, offset, sentence))
        return dedupe(matches)

    def _near(self, text: str, starts: Sequence[int], ends: Sequence[int], words: Any,
              hits: list[Hit], near_sides: dict[tuple[int, str], list[Hit]], applies: Any,
              offset: int, sentence: tuple[int, int] | None) -> list[Match]:
        """Matches of ``near`` rules whose first side is among ``near_sides``."""
        terms = self.terms
        # The other side only for rules whose first side is there: the second sides are often
        # common words ("hun", "klyngen") that would be collected in every turn.
        wanted = {ni for ni, _ in near_sides}
        for hit in hits:
            tid, rule, first, last = hit
            for use in terms[tid].near_b:
                if use.near in wanted and applies(use, rule, starts[first], ends[last]):
                    near_sides.setdefault((use.near, "near_b"), []).append(hit)
        matches: list[Match] = []
        for ni, (ci, near) in enumerate(self.near_rules):
            if ni not in wanted:
                continue
            a_hits = near_sides.get((ni, "near_a"), [])
            b_hits = near_sides.get((ni, "near_b"), [])
            for a in a_hits:
                best = None
                for b in b_hits:
                    gap = max(b[2] - a[3], a[2] - b[3])
                    if (
                        gap <= near.within
                        and (a[2], a[3]) != (b[2], b[3])
                        and (best is None or gap < best[0])
                    ):
                        best = (gap, b)
                if best is None:
                    continue
                b = best[1]
                first, last = min(a[2], b[2]), max(a[3], b[3])
                start, end = starts[first], ends[last]
                # A negator inside the span counts too: "deler aldri prisene".
                negator = find_negator(words, first) or find_negator(words, last)
                matches.append(
                    Match(
                        self.paths[ci],
                        "near",
                        near.label,
                        start + offset,
                        end + offset,
                        text[start:end],
                        negator is not None,
                        negator,
                        sentence,
                        self.codes[ci].weight if near.weight is None else near.weight,
                    )
                )
        return matches

    def _patterns(self, text: str, starts: Sequence[int], words: Any, is_excluded: Any,
                  offset: int, sentence: tuple[int, int] | None) -> list[Match]:
        """Matches of the codes' regular expressions in ``text``."""
        matches: list[Match] = []
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
                        self.paths[ci],
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
        return matches
