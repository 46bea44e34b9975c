"""Small text utilities shared by the auto-coder and the reports: sentences and word boundaries."""

from __future__ import annotations

import re

# Abbreviations that end in a full stop without ending the sentence (bokmål and nynorsk).
_ABBREVIATIONS = frozenset(
    [
        "f.eks",
        "bl.a",
        "dvs",
        "osv",
        "mfl",
        "m.fl",
        "ca",
        "evt",
        "el.l",
        "o.l",
        "mht",
        "jf",
        "pga",
        "ift",
        "iflg",
        "nr",
        "kl",
        "tlf",
        "mm",
        "etc",
        "vs",
        "ev",
    ]
)
_SENTENCE_END = re.compile(r"(?:[.!?]+|…|\.\.\.)[\"”»)\]]*(?=\s+|$)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in ``text`` (stripped of surrounding white space).

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` followed by white space, unless the full stop
    closes a known abbreviation or the next word starts in lower case after ``…`` (a pause in
    speech, not a new sentence). Line breaks with a blank line always end a sentence.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        token = text[max(0, match.start() - 8) : match.start()].split()
        word = token[-1].casefold().strip('("«') if token else ""
        if match.group().startswith(".") and len(match.group()) == 1 and word in _ABBREVIATIONS:
            continue
        following = text[end:].lstrip()
        if match.group().startswith(("…", "...")) and following[:1].islower():
            continue
        _append(spans, text, start, end)
        start = end
    _append(spans, text, start, len(text))
    result: list[tuple[int, int]] = []
    for a, b in spans:
        piece_start = a
        for gap in re.finditer(r"\n[ \t]*\n", text[a:b]):
            _append(result, text, piece_start, a + gap.start())
            piece_start = a + gap.end()
        _append(result, text, piece_start, b)
    return result


def _append(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def word_boundary_before(text: str, index: int) -> int:
    """The start of the word containing ``index`` (or ``index`` if it is already at a boundary)."""
    while 0 < index < len(text) and text[index - 1].isalnum() and text[index].isalnum():
        index -= 1
    return index


def word_boundary_after(text: str, index: int) -> int:
    """The end of the word containing position ``index - 1`` (never cuts a word)."""
    while 0 < index < len(text) and text[index - 1].isalnum() and text[index].isalnum():
        index += 1
    return index
