"""Finding speaker turns in labelled text (``R7: …``, ``[00:03:12] Kari: …``, ``Kari (00:03:12): …``).

A line starting with ``Word:`` is not always a speaker label: ``Det er sånn: vi …`` or ``Altså: …``
open ordinary sentences. A candidate is taken as a label only when it has a speaker's shape
(capitalised words, at most three) and some corroboration: it is an interviewer label, looks like a
respondent code (``R7``, ``IP12``), carries a timestamp, is bold in the source document, or opens
at least two turns in the file. An interviewer label has a speaker's shape in any case (``i:``,
``int:``), but only as the whole label: ``i fjor: …`` is a sentence ("i" is Norwegian for "in").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

from qualcode.ingest.model import Turn
from qualcode.limits import MAX_TIMESTAMP_SECONDS

_TIME = r"\d{1,2}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?"
_MD = r"(?:\*\*|__)?"
_LABEL_LINE = re.compile(
    rf"""^[ \t]*
    (?:\[(?P<ts>{_TIME})\][ \t]*)?
    {_MD}
    (?P<label>[^\W_][\w.'’-]*(?:[ \t]+[\w.'’-]+){{0,2}}?)
    {_MD}
    (?:[ \t]*\((?P<ts2>{_TIME})\))?
    {_MD}[ \t]*:{_MD}
    (?:[ \t]+|$)
    """,
    re.VERBOSE,
)
_RESPONDENT_CODE = re.compile(r"^[A-ZÆØÅ]{1,4}[ -]?\d{1,3}$")
MAX_LABEL_LENGTH = 40

# Words that open ordinary sentences; "Altså: …" or "Men: …" at a line start is speech, not a
# speaker. Compared case-insensitively against a candidate label's first word.
_SENTENCE_OPENERS = frozenset(
    [
        "det",
        "den",
        "de",
        "dei",
        "dette",
        "disse",
        "der",
        "her",
        "da",
        "nå",
        "så",
        "men",
        "og",
        "eller",
        "altså",
        "ja",
        "nei",
        "jo",
        "vel",
        "hmm",
        "eh",
        "ehm",
        "vi",
        "jeg",
        "eg",
        "du",
        "han",
        "hun",
        "ho",
        "me",
        "dere",
        "de",
        "hva",
        "kva",
        "hvem",
        "kven",
        "hvorfor",
        "kvifor",
        "hvordan",
        "korleis",
        "når",
        "kor",
        "hvor",
        "om",
        "fordi",
        "som",
        "for",
        "til",
        "med",
        "på",
        "et",
        "en",
        "ei",
        "ein",
        "eit",
        "noe",
        "noko",
        "ingen",
        "alle",
        "mange",
        "mye",
        "poenget",
        "problemet",
        "spørsmålet",
        "svaret",
        "tanken",
        "konklusjonen",
        "nb",
        "merk",
        "obs",
        "eksempel",
        "liksom",
        "sånn",
        "typ",
        "tja",
        "okei",
        "ok",
        "ikke",
        "ikkje",
        "aldri",
        "the",
        "so",
        "and",
        "but",
        "yes",
        "no",
        "note",
        "well",
    ]
)


class _Candidate(NamedTuple):
    line_start: int
    text_start: int
    label: str
    seconds: float | None
    has_time: bool


# Up to three parts of at most 6 digits each, a fraction of at most 9 digits on the last.
_TIME_STAMP = re.compile(r"\d{1,6}(?::\d{1,6}){0,2}(?:\.\d{1,9})?")


def parse_time(value: str) -> float:
    """Seconds from ``hh:mm:ss``, ``mm:ss`` or either with a fraction (``.`` or ``,``).

    A ValueError for anything else, and for a time past
    :data:`~qualcode.limits.MAX_TIMESTAMP_SECONDS` (an hour of 100,000 digits would be infinity).
    """
    value = value.strip().replace(",", ".")
    if not _TIME_STAMP.fullmatch(value):
        raise ValueError(f"not a time stamp: {value[:40]!r}")
    seconds = 0.0
    for part in value.split(":"):
        seconds = seconds * 60 + float(part)
    if not math.isfinite(seconds) or seconds > MAX_TIMESTAMP_SECONDS:
        raise ValueError(f"time stamp past {MAX_TIMESTAMP_SECONDS / 3600:g} hours: {value[:40]!r}")
    # Time stamps have at most millisecond precision; without rounding, 00:01:21.909 would be
    # stored (and exported) as 81.90899999999999.
    return round(seconds, 3)


def is_interviewer(label: str, interviewer_labels: Iterable[str]) -> bool:
    """True if ``label`` names the interviewer (case-insensitive)."""
    return label.casefold() in {other.casefold() for other in interviewer_labels}


def _has_speaker_shape(label: str, interviewer: frozenset[str]) -> bool:
    # Transcribers often type the interviewer's label in lower case ("i:", "int:"); a known label
    # that is the whole candidate is a label whatever its case. ``interviewer`` is case-folded.
    if label.casefold() in interviewer:
        return True
    if len(label) > MAX_LABEL_LENGTH:
        return False
    words = label.split()
    if not 1 <= len(words) <= 3:
        return False
    return all(w[0].isupper() or w[0].isdigit() for w in words)


def _candidates(text: str, interviewer: frozenset[str]) -> list[_Candidate]:
    found = []
    offset = 0
    match_line = _LABEL_LINE.match
    # A transcript has few distinct labels but many turns: clean and judge each label once.
    shapes: dict[str, str | None] = {}
    for line in text.split("\n"):
        # A label ends in a colon near the start of the line; most lines are ruled out cheaply.
        if ":" in line[:80]:
            match = match_line(line)
            if match:
                raw = match.group("label")
                if raw not in shapes:
                    label = " ".join(raw.split())
                    shapes[raw] = label if _has_speaker_shape(label, interviewer) else None
                label = shapes[raw]
                if label is not None:
                    stamp = match.group("ts") or match.group("ts2")
                    found.append(
                        _Candidate(
                            offset,
                            offset + match.end(),
                            label,
                            parse_time(stamp) if stamp else None,
                            stamp is not None,
                        )
                    )
        offset += len(line) + 1
    return found


def _accepted(
    candidates: list[_Candidate], interviewer: frozenset[str], strong_labels: set[str]
) -> list[_Candidate]:
    counts = Counter(c.label for c in candidates)
    timed = {c.label for c in candidates if c.has_time}
    accepted_labels = set()
    for label, count in counts.items():
        first_word = label.split()[0].casefold()
        if (
            label.casefold() in interviewer
            or _RESPONDENT_CODE.match(label)
            or label in strong_labels
            or (first_word not in _SENTENCE_OPENERS and (count >= 2 or label in timed))
        ):
            accepted_labels.add(label)
    # A label that occurs once has one candidate, so judging labels equals judging candidates.
    return [c for c in candidates if c.label in accepted_labels]


_SPACE = " \t\n\f\v\u00a0\u2028\u2029"


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    # Character steps, not slices: a turn is long and its surrounding white space short.
    while end > start and text[end - 1] in _SPACE:
        end -= 1
    while start < end and text[start] in _SPACE:
        start += 1
    return start, end


class LabelledText(NamedTuple):
    """Labelled text split into turns, with what a caller may want to warn about."""

    turns: list[Turn]
    #: Where the first label's line starts (the length of the text if there is no label): what
    #: comes before it (a heading, a date) belongs to no turn.
    header_end: int
    #: Candidate labels that start a line but were not taken as speakers (each once, in order):
    #: a name used once, say ``Moderator:``, whose line now belongs to the text around it.
    unconfirmed: list[str]


def split_turns(
    text: str, interviewer_labels: Iterable[str], strong_labels: Iterable[str] = ()
) -> LabelledText:
    """Split normalised text into speaker turns; lines without a label continue the turn before."""
    interviewer = frozenset(label.strip().casefold() for label in interviewer_labels)
    candidates = _candidates(text, interviewer)
    labels = _accepted(candidates, interviewer, set(strong_labels))
    turns: list[Turn] = []
    for i, cand in enumerate(labels):
        end = labels[i + 1].line_start if i + 1 < len(labels) else len(text)
        start, end = _trim(text, cand.text_start, end)
        if start == end:
            continue  # a label with nothing said: no turn to code
        turns.append(Turn(cand.label, start, end, cand.seconds, None))
    taken = {c.label for c in labels}
    # Sentence openers are never speakers, so they are not worth a warning either.
    unconfirmed = [
        label
        for label in dict.fromkeys(c.label for c in candidates)
        if label not in taken and label.split()[0].casefold() not in _SENTENCE_OPENERS
    ]
    header_end = labels[0].line_start if labels else len(text)
    return LabelledText(turns, header_end, unconfirmed)


def parse_labelled_text(
    text: str, interviewer_labels: Iterable[str], strong_labels: Iterable[str] = ()
) -> tuple[list[Turn], int]:
    """Split normalised text into speaker turns (see :func:`split_turns`).

    Returns the turns and the number of non-blank characters before the first label (a header the
    caller may want to warn about).
    """
    split = split_turns(text, interviewer_labels, strong_labels)
    return split.turns, len(text[: split.header_end].strip())


def paragraph_turns(text: str, speaker: str) -> list[Turn]:
    """One turn per paragraph, all by ``speaker``: for text without speaker labels.

    Paragraphs are separated by blank lines; text without any blank line has one per line.
    """
    separator = (
        re.compile(r"\n[ \t]*\n\s*") if re.search(r"\n[ \t]*\n", text) else re.compile(r"\n")
    )
    turns = []
    start = 0
    for match in [*separator.finditer(text), None]:
        end = match.start() if match else len(text)
        a, b = _trim(text, start, end)
        if a < b:
            turns.append(Turn(speaker, a, b))
        if match:
            start = match.end()
    return turns
