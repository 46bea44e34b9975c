"""A piece of evidence (:class:`Match`), its stored form, and one match per code and span."""

from __future__ import annotations

from typing import Any, NamedTuple

#: Which rule wins when several match the same span of one code (lowest first).
RULE_RANK = {"phrase": 0, "keyword": 1, "near": 2, "compound": 3, "pattern": 4, "fuzzy": 5}


class Match(NamedTuple):
    """One piece of evidence: a rule of a code that fired on some words of a text.

    A named tuple, immutable and compared by value like the frozen dataclass it was, but made
    several times faster: a big corpus makes tens of thousands of them in the hot loop.
    """

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


def dedupe(matches: list[Match]) -> list[Match]:
    """One match per (code, span): a phrase and the keyword inside it are one piece of evidence."""
    rank = RULE_RANK
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
