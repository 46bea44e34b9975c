"""Read-only views of the stored transcripts, turns and respondents, and respondent attributes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import filterfalse
from typing import Any

from qualcode.errors import InputError
from qualcode.store import Store

ROLES = ("respondent", "interviewer", "other")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")

#: The column order of ``qualcode segments --format csv``: a stable interface for scripts.
SEGMENT_COLUMNS = (
    "segment_id",
    "transcript",
    "respondent",
    "position",
    "speaker",
    "role",
    "start",
    "end",
    "text",
)


def natural_key(label: str) -> tuple[Any, ...]:
    """Sort key that puts R2 before R10."""
    return tuple(int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", label))


def transcripts_of_segments(store: Store, segment_ids: Iterable[int]) -> set[int]:
    """Ids of the transcripts that hold these segments."""
    ids = sorted(set(segment_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 500):  # under SQLite's host-parameter limit
        chunk = ids[start : start + 500]
        found.update(
            r[0]
            for r in store.conn.execute(
                "SELECT DISTINCT transcript_id FROM segments"
                f" WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
        )
    return found


def count_words(text: str) -> int:
    """Words as a reader counts them: runs of letters or digits, hyphenated compounds as one."""
    # The same count as len(_WORD.findall(text)), a third quicker (reports count every turn): a
    # word never spans white space, and a piece between spaces that is all letters and digits
    # (str.isalnum is the regex's \w without "_") is one word; only the rest needs the regex.
    pieces = text.split()
    others = list(filterfalse(str.isalnum, pieces))
    if not others:
        return len(pieces)
    return len(pieces) - len(others) + len(_WORD.findall(" ".join(others)))


@dataclass(frozen=True)
class SegmentRow:
    """One stored turn with its transcript and respondent."""

    segment_id: int
    transcript: str
    respondent: str
    position: int
    speaker: str
    role: str
    start: float | None
    end: float | None
    text: str

    def as_tuple(self) -> tuple:
        """The values in :data:`SEGMENT_COLUMNS` order."""
        return (
            self.segment_id,
            self.transcript,
            self.respondent,
            self.position,
            self.speaker,
            self.role,
            self.start,
            self.end,
            self.text,
        )


def segments(
    store: Store,
    *,
    respondent: str | None = None,
    role: str | None = None,
    transcript: str | None = None,
    segment_ids: list[int] | None = None,
) -> list[SegmentRow]:
    """Stored turns in transcript order, optionally filtered."""
    if role is not None and role not in ROLES:
        raise InputError(f"unknown role '{role}'; use one of {', '.join(ROLES)}")
    where, params = [], []
    if respondent is not None:
        if store.respondent_id(respondent) is None:
            raise InputError(
                f"no respondent '{respondent}' in the project{_suggest(store, respondent)}"
            )
        where.append("r.label = ?")
        params.append(respondent)
    if role is not None:
        where.append("s.role = ?")
        params.append(role)
    if transcript is not None:
        names = [r[0] for r in store.conn.execute("SELECT name FROM transcripts")]
        if transcript not in names:
            raise InputError(
                f"no transcript '{transcript}' in the project{_did_you_mean(transcript, names)}"
            )
        where.append("t.name = ?")
        params.append(transcript)
    if segment_ids is not None:
        where.append(f"s.id IN ({','.join('?' * len(segment_ids))})")
        params.extend(segment_ids)
    sql = (
        "SELECT s.id, t.name, r.label, s.position, s.speaker, s.role, s.start_time, s.end_time, s.text"
        " FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
        " JOIN respondents r ON r.id = s.respondent_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY t.id, s.position"
    )
    return [SegmentRow(*row) for row in store.conn.execute(sql, params)]


def _suggest(store: Store, label: str) -> str:
    labels = [r[0] for r in store.conn.execute("SELECT label FROM respondents")]
    return _did_you_mean(label, labels)


def _did_you_mean(wanted: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(wanted, known, n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


@dataclass(frozen=True)
class RespondentSummary:
    """A respondent with attributes and what the project holds of them."""

    label: str
    attributes: dict[str, str]
    transcripts: int
    turns: int
    words: int


def respondents(store: Store) -> list[RespondentSummary]:
    """Every respondent with attributes, transcripts, own turns and words spoken."""
    attrs: dict[int, dict[str, str]] = {}
    for rid, name, value in store.conn.execute(
        "SELECT respondent_id, name, value FROM respondent_attributes ORDER BY name"
    ):
        attrs.setdefault(rid, {})[name] = value
    words: dict[int, int] = {}
    turns: dict[int, int] = {}
    for rid, text in store.conn.execute(
        "SELECT respondent_id, text FROM segments WHERE role = 'respondent'"
    ):
        words[rid] = words.get(rid, 0) + count_words(text)
        turns[rid] = turns.get(rid, 0) + 1
    result = []
    for rid, label, n_transcripts in store.conn.execute(
        "SELECT r.id, r.label, (SELECT COUNT(*) FROM transcripts t WHERE t.respondent_id = r.id)"
        " FROM respondents r ORDER BY r.id"
    ):
        result.append(
            RespondentSummary(
                label, attrs.get(rid, {}), n_transcripts, turns.get(rid, 0), words.get(rid, 0)
            )
        )
    return result


def set_attribute(store: Store, label: str, name: str, value: str, command: str) -> str | None:
    """Set one attribute of a respondent (empty ``value`` removes it); returns the old value."""
    return set_attributes(store, label, [(name, value)], command)[0]


def set_attributes(
    store: Store, label: str, pairs: list[tuple[str, str]], command: str
) -> list[str | None]:
    """Set several attributes of a respondent in one command (one transaction, one undo step).

    An empty value removes the attribute. Returns the old values, in the order of ``pairs``;
    a bad pair changes nothing at all.
    """
    names = [name.strip().casefold() for name, _ in pairs]
    if not all(names):
        raise InputError("an attribute needs a name: NAME=VALUE")
    if store.respondent_id(label) is None:
        raise InputError(f"no respondent '{label}' in the project{_suggest(store, label)}")
    with store.write(command) as tx:
        return [
            store.set_attribute(tx, label, name, value)
            for name, (_, value) in zip(names, pairs, strict=True)
        ]
