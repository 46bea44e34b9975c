"""Scoring a turn's matches: which codes it gets (thresholds, weak and support terms, echoes of the
interviewer's question, pooling over a code's subtree, the most specific code kept)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from qualcode.autocode.matches import Match
from qualcode.codebook import Code, Scoring

#: A respondent's question sentence of at most this many words that holds a match is an echo
#: of the interviewer ("Tillit? Ja, …", "Om vi stoler på hverandre?").
ECHO_WORDS = 6
_SENTENCE_END = re.compile(r"[.!?…\n]")


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


def in_echo_question(text: str, start: int, end: int) -> bool:
    """True if ``text[start:end]`` sits in a short sentence that ends with a question mark."""
    before = max(text.rfind(ch, 0, start) for ch in ".!?…\n")
    after = _SENTENCE_END.search(text, end)
    if after is None or after.group() != "?":
        return False
    return len(text[before + 1 : after.start()].split()) <= ECHO_WORDS


class EchoTest:
    """:func:`in_echo_question` for many spans of one text: sentence ends found once."""

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


def ancestor_paths(path: str) -> list[str]:
    """The paths above ``path`` (``a/b/c`` → ``a``, ``a/b``)."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


class Scorer:
    """Decides which codes a turn gets from its units' matches."""

    def __init__(self, codes: list[Code], scoring: Scoring):
        self.codes = codes
        self.scoring = scoring
        self.index = {code.path: i for i, code in enumerate(codes)}
        self.ancestors = {
            i: {self.index[p] for p in ancestor_paths(code.path)} for i, code in enumerate(codes)
        }
        self.descendants: dict[int, set[int]] = {i: set() for i in range(len(codes))}
        for i, ancestors in self.ancestors.items():
            for a in ancestors:
                self.descendants[a].add(i)
        self.subtree = {i: [i, *sorted(d)] for i, d in self.descendants.items()}
        # Deepest first, so a middle code pools before its own parent looks.
        self.poolers = sorted(
            (i for i, d in self.descendants.items() if d),
            key=lambda i: -codes[i].path.count("/"),
        )

    def assign(self, units: list[list[Match]], text: str) -> dict[str, list[Match]]:
        """Score each unit's matches per code and decide which codes the turn gets.

        A code is assigned when its own evidence reaches its ``threshold`` (and ``min_hits``);
        a code with children that did not fire also pools the evidence of its whole subtree.
        When a code and one of its descendants both fire, only the descendant is kept.
        """
        coded: dict[str, list[Match]] = {}
        scoring = self.scoring
        codes, index = self.codes, self.index
        # Counting words is only needed once a weak match asks.
        short: bool | None = None if scoring.short_turn else False
        echo = EchoTest(text) if scoring.echo != 1.0 else None
        for matches in units:
            if not matches:
                continue
            by_code: dict[int, list[tuple[Match, float]]] = {}
            for m in matches:
                weight = m.weight
                if weight < 1.0 and short is None:
                    # Fewer words than short_turn: splitting beyond that many says nothing more.
                    short = len(text.split(None, scoring.short_turn)) < scoring.short_turn
                if short and weight < 1.0:
                    weight = 0.0
                elif echo is not None and echo(m.start, m.end):
                    weight *= scoring.echo
                by_code.setdefault(index[m.code], []).append((m, weight))
            fired: set[int] = set()
            for ci, items in by_code.items():
                if self.fires(ci, items):
                    fired.add(ci)
                    coded.setdefault(codes[ci].path, []).extend(m for m, _ in items)
            for ci in self.poolers:
                if ci in fired or fired & self.descendants[ci]:
                    continue
                pooled = [x for d in self.subtree[ci] for x in by_code.get(d, ())]
                if pooled and self.fires(ci, pooled):
                    fired.add(ci)
                    coded.setdefault(codes[ci].path, []).extend(m for m, _ in pooled)
        # A code and its descendant both fired: keep the more specific one only.
        present = {index[p] for p in coded}
        for ci in list(present):
            for ancestor in self.ancestors[ci]:
                coded.pop(codes[ancestor].path, None)
        # A category (codable: false) pools evidence for its parent but is never assigned.
        return {
            p: sorted(set(ms), key=lambda m: (m.start, m.end, m.rule, m.term))
            for p, ms in coded.items()
            if codes[index[p]].codable
        }

    def fires(self, ci: int, items: list[tuple[Match, float]]) -> bool:
        """True if these (match, weight) pairs are enough evidence for code ``ci``."""
        code = self.codes[ci]
        if len(items) < code.min_hits or all(m.support for m, _ in items):
            return False
        # One match (the common case) scores its weight: no per-term tally needed.
        score = items[0][1] if len(items) == 1 else evidence_score(items, self.scoring.repeat)
        return score >= code.threshold - 1e-9
