"""Normalising text while keeping a map from positions in the raw text to positions in the result.

REFI-QDA selections give positions in a source's raw text; the store holds normalised text
(:func:`qualcode.textfile.normalise`: CRLF and CR to LF, then NFC). A list of one Python integer
per character took about 100 bytes per character (a 20 MB source grew past 2 GB); the map here
keeps only where positions shift: one entry per CRLF, and one per character of the few spans
NFC changes, so memory stays a small multiple of the text.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from array import array

from qualcode.textfile import normalise


def _composes_into_previous(text: str, i: int) -> bool:
    """True if NFC may join ``text[i]`` with what comes before it."""
    ch = text[i]
    if ch.isascii():
        return False  # no ASCII character is the second half of a composition
    if unicodedata.combining(ch) or 0x1160 <= ord(ch) <= 0x11FF or 0xD7B0 <= ord(ch) <= 0xD7FF:
        return True  # combining marks and Hangul vowel/final jamo
    prev = text[i - 1]
    # A starter can only compose with the character right before it.
    return unicodedata.normalize("NFC", prev + ch) != unicodedata.normalize("NFC", prev) + ch


class PositionMap:
    """Position ``i`` of the raw text (``0..len(raw)``) → its position in the normalised text."""

    def __init__(self, raw_length: int, crlf_ends: array, nfc_points: array, nfc_shift: array):
        self._length = raw_length + 1
        self._crlf_ends = crlf_ends  # raw index of the LF of each CRLF, ascending
        self._nfc_points = nfc_points  # positions (after step 1) where the NFC shift changes
        self._nfc_shift = nfc_shift  # the shift from each of those positions on

    def __len__(self) -> int:
        return self._length

    def __eq__(self, other: object) -> bool:
        """Equal to a sequence of the same positions (a list, as the map used to be)."""
        try:
            return list(self) == list(other)  # type: ignore[call-overload]
        except TypeError:
            return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, index: int) -> int:
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        # Between CR and LF maps to before the line end: the LF itself counts as removed.
        step1 = index - bisect.bisect_right(self._crlf_ends, index)
        k = bisect.bisect_right(self._nfc_points, step1) - 1
        return step1 + (self._nfc_shift[k] if k >= 0 else 0)


def normalise_with_map(raw: str) -> tuple[str, PositionMap]:
    """The normalised text (as :func:`qualcode.textfile.normalise`) and, for every position
    ``0..len(raw)`` of ``raw``, the corresponding position in it.

    CRLF and CR become LF; NFC may merge a letter and its combining marks (or reorder marks). The
    text is normalised in chunks that NFC cannot join with each other, so a position between
    chunks maps exactly; a position inside a chunk that NFC changed (between a letter and its
    accent) maps to the length of the normalised text before it.
    """
    crlf_ends = array("q", (m.end() - 1 for m in re.finditer("\r\n", raw)))
    text1 = raw.replace("\r\n", "\n").replace("\r", "\n")
    points, shifts = array("q"), array("q")
    if unicodedata.is_normalized("NFC", text1):
        text = text1
    else:
        out: list[str] = []
        length = 0  # of the normalised text so far
        start, m = 0, len(text1)
        plain_from = 0  # text1[plain_from:start] is unchanged by NFC
        while start < m:
            end = start + 1
            while end < m and _composes_into_previous(text1, end):
                end += 1
            chunk = text1[start:end]
            normal = chunk if chunk.isascii() else unicodedata.normalize("NFC", chunk)
            if normal != chunk:
                out.append(text1[plain_from:start])
                length += start - plain_from
                last = 0
                for k in range(len(chunk)):
                    last = max(last, min(len(unicodedata.normalize("NFC", chunk[:k])), len(normal)))
                    points.append(start + k)
                    shifts.append(length + last - (start + k))
                out.append(normal)
                length += len(normal)
                points.append(end)
                shifts.append(length - end)
                plain_from = end
            start = end
        out.append(text1[plain_from:])
        text = "".join(out)
    if text != normalise(raw):  # cannot happen by the reasoning above; never guess positions
        raise RuntimeError("normalising a source in chunks gave a different text")
    return text, PositionMap(len(raw), crlf_ends, points, shifts)
