"""Matching a turn's words and phrases: the term hits among its tokens, from their type infos.

A hit is ``(term id, rule, first token, last token)``, a plain tuple: a big corpus has hundreds of
thousands of them, most dropped a step later (one-sided ``near`` hits, hits no code wants).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from qualcode.autocode.terms import TermTable
from qualcode.autocode.wordtypes import TypeInfo

MAX_FILLERS_IN_PHRASE = 2

#: ``(term id, rule, first token index, last token index)``; the indices are inclusive.
Hit = tuple[int, str, int, int]


def candidate_positions(infos: Sequence[TypeInfo]) -> list[int]:
    """Token positions where a match can start.

    A one-word term's type, or a phrase's first word followed by a filler or by the second word
    of one of the phrases it starts: no other start can complete.
    """
    last = len(infos) - 1
    return [
        i
        for i, info in enumerate(infos)
        if info.interesting
        and (
            info.single
            or (
                i < last
                and (infos[i + 1].filler or not info.start_set.isdisjoint(infos[i + 1].seconds))
            )
        )
    ]


def find_hits(table: TermTable, infos: Sequence[TypeInfo], positions: Iterable[int]) -> list[Hit]:
    """The term hits starting at ``positions`` (one-word terms, then phrases), in order."""
    hits: list[Hit] = []
    for i in positions:
        info = infos[i]
        for tid, rule in info.single:
            hits.append((tid, rule, i, i))
        if info.starts:
            phrase_hits(table, info, infos, i, hits)
    return hits


def phrase_hits(
    table: TermTable, info: TypeInfo, infos: Sequence[TypeInfo], i: int, hits: list[Hit]
) -> None:
    """Add the phrases that start at token ``i`` and complete.

    Only phrases whose second word comes next (after at most the allowed fillers) are followed
    to the end: a common first word ("i", "det") starts dozens of phrases.
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
            end = extend_phrase(len(table.terms[tid].words), tid, infos, i)
            if end is not None:
                hits.append((tid, "phrase", i, end))


def extend_phrase(length: int, tid: int, infos: Sequence[TypeInfo], i: int) -> int | None:
    """The last token of phrase ``tid`` (``length`` words) starting at ``i``, or None."""
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
