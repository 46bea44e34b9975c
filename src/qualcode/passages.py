"""Passages: the part of a turn a coding covers, found from the text a coder quotes.

A coding covers its whole turn or a passage of it (character offsets into the turn's text). The
coder names a passage by quoting it; whitespace may differ (a line break copied from a reader
view), so the quote is matched with any run of white space standing for any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qualcode.errors import InputError
from qualcode.store import Store

ELLIPSIS = "…"


def _pattern(quote: str) -> re.Pattern[str]:
    words = quote.split()
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def quote_positions(text: str, quote: str) -> list[tuple[int, int]]:
    """Every ``(start, end)`` where ``quote`` stands in ``text`` (white space matched loosely)."""
    if not quote.split():
        return []
    return [(m.start(), m.end()) for m in _pattern(quote).finditer(text)]


def find_quote(text: str, quote: str, occurrence: int | None = None) -> tuple[int, int]:
    """The passage of ``text`` that ``quote`` names; ``occurrence`` (1-based) picks one of several.

    An :class:`InputError` when the quote is empty, not in the text, or there more than once
    without ``occurrence``.
    """
    if not quote.strip():
        raise InputError("the quote is empty")
    found = quote_positions(text, quote)
    if not found:
        raise InputError(f"the text «{_short(quote)}» does not occur in the turn")
    if occurrence is not None:
        if not 1 <= occurrence <= len(found):
            raise InputError(
                f"--occurrence {occurrence}: «{_short(quote)}» occurs {len(found)} "
                f"time{'' if len(found) == 1 else 's'} in the turn"
            )
        return found[occurrence - 1]
    if len(found) > 1:
        raise InputError(
            f"the text «{_short(quote)}» occurs {len(found)} times in the turn; pick one with "
            "--occurrence N, or quote more of it"
        )
    return found[0]


def parse_span(span: str) -> tuple[int, int]:
    """``START:END`` as two offsets; an :class:`InputError` for anything else."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*:\s*(\d{1,9})\s*", span)
    if match is None:
        raise InputError(f"--span '{span}' is not START:END (character offsets, e.g. 12:58)")
    start, end = int(match[1]), int(match[2])
    if start >= end:
        raise InputError(f"--span '{span}': the end must be after the start")
    return start, end


def check_span(text: str, span: tuple[int, int], segment_id: int) -> tuple[int, int]:
    """The span if it lies inside the turn, else an error naming the segment."""
    start, end = span
    if not 0 <= start < end <= len(text):
        raise InputError(
            f"the passage {start}:{end} is outside segment {segment_id}, "
            f"whose text has {len(text)} characters"
        )
    return span


def passage_text(text: str, start: int | None, end: int | None) -> str:
    """The passage as quoted: its text, with «…» only where the turn's text was cut."""
    if start is None or end is None:
        return text.strip()
    piece = text[start:end].strip()
    before = ELLIPSIS + " " if text[:start].strip() else ""
    after = " " + ELLIPSIS if text[end:].strip() else ""
    return f"{before}{piece}{after}"


def _short(text: str, width: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + ELLIPSIS


def human_codings(store: Store, segment_ids: list[int]) -> dict[int, list[CodedPassage]]:
    """The people's codings of these segments (not the auto draft), passages in text order."""
    found: dict[int, list[CodedPassage]] = {}
    ids = sorted(set(segment_ids))
    for begin in range(0, len(ids), 500):
        chunk = ids[begin : begin + 500]
        for seg, path, coder, start, end in store.conn.execute(
            "SELECT c.segment_id, k.path, d.name, c.quote_start, c.quote_end FROM codings c"
            " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
            f" WHERE d.kind = 'human' AND c.segment_id IN ({','.join('?' * len(chunk))})"
            " ORDER BY d.name, ifnull(c.quote_start, -1), k.sort_order, k.path",
            chunk,
        ):
            found.setdefault(seg, []).append(CodedPassage(path, coder, start, end))
    return found


@dataclass(frozen=True)
class CodedPassage:
    """One person's coding of a turn: the whole turn (no offsets) or a passage of it."""

    code: str
    coder: str
    start: int | None
    end: int | None

    @property
    def whole_turn(self) -> bool:
        return self.start is None
