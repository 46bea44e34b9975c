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
_NEXT_CHARACTER = re.compile(r"\s*(\S)")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


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
        mark = match.group()
        if mark == ".":
            token = text[max(0, match.start() - 8) : match.start()].split()
            if token and token[-1].casefold().strip('("«') in _ABBREVIATIONS:
                continue
        elif mark.startswith(("…", "...")):
            # Only the first character after the white space matters: no copy of the rest.
            following = _NEXT_CHARACTER.match(text, end)
            if following is not None and following.group(1).islower():
                continue
        _append(spans, text, start, end)
        start = end
    _append(spans, text, start, len(text))
    if "\n" not in text:
        return spans
    result: list[tuple[int, int]] = []
    for a, b in spans:
        piece_start = a
        for gap in _BLANK_LINE.finditer(text, a, b):
            _append(result, text, piece_start, gap.start())
            piece_start = gap.end()
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
