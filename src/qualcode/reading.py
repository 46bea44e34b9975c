"""Read-only views for reading a transcript with its codings (the workbench's reader and code view).

A turn is shown with the reader's own codings (whole turn or passage), the auto-coder's draft with
its evidence in plain words and the reader's decision on it, and the memos. The text is cut into
*pieces*: runs of characters covered by the same passages and draft evidence, so a page can colour
passages and underline matched words without ever changing the text itself.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from qualcode.corpus import count_words
from qualcode.errors import InputError
from qualcode.evidence_words import describe_evidence
from qualcode.memos import Memo, list_memos
from qualcode.store import AUTO_CODER, Store

#: Colours for codes the codebook gives none (a colour-blind-safe qualitative set).
PALETTE = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb")


#: A draft's state when the reader has its code in the turn without having decided on the draft.
HAS_CODE = "has_code"


@dataclass(frozen=True)
class CodeStyle:
    """A code as the reader shows it."""

    path: str
    name: str
    description: str
    color: str
    depth: int
    active: bool


@dataclass
class Coding:
    """One coding in a layer: the whole turn (``start`` None) or a passage of it."""

    coding_id: int
    code: str
    coder: str
    source: str
    start: int | None
    end: int | None
    memo: str | None
    negated: bool
    evidence: list[dict[str, Any]]
    words: list[str] = field(default_factory=list)  # the evidence in plain words

    @property
    def is_passage(self) -> bool:
        """Whether the coding covers a passage rather than the whole turn."""
        return self.start is not None


@dataclass
class Draft:
    """A coding of the draft layer with the reader's decision on it."""

    coding: Coding
    #: ``accept``/``reject``/``change``/``skip``: the reader's review decision (the audit log's),
    #: or ``has_code`` when there is none but the reader's own layer has the code in the turn
    #: anyway (nothing left to decide, yet no decision either), or None while undecided.
    decision: str | None

    @property
    def pending(self) -> bool:
        """Still to be accepted or rejected."""
        return self.decision in (None, "skip")


@dataclass(frozen=True)
class Piece:
    """A run of a turn's text with the passages (code paths) and evidence that cover it."""

    start: int
    end: int
    text: str
    codes: tuple[str, ...]
    evidence: bool


@dataclass
class ReaderTurn:
    """One turn with everything the reader shows on it."""

    segment_id: int
    transcript_id: int
    position: int
    speaker: str
    role: str
    start_time: float | None
    text: str
    mine: list[Coding]
    drafts: list[Draft]
    memos: list[Memo]
    pieces: list[Piece]

    @property
    def whole_turn_codes(self) -> list[Coding]:
        """The reader's codings of the whole turn."""
        return [c for c in self.mine if not c.is_passage]


@dataclass
class TranscriptInfo:
    """A transcript as the home page lists it."""

    transcript_id: int
    name: str
    respondent: str
    turns: int
    words: int  # the respondent's
    respondent_turns: int = 0


@dataclass
class ReaderPage:
    """A whole transcript for one reader."""

    transcript: TranscriptInfo
    turns: list[ReaderTurn]
    coder: str


def has_passages(store: Store) -> bool:
    """Whether the store's codings can hold passages (schema with ``quote_start``)."""
    columns = {row[1] for row in store.conn.execute("PRAGMA table_info(codings)")}
    return "quote_start" in columns


def code_styles(store: Store, *, include_inactive: bool = True) -> dict[str, CodeStyle]:
    """Every code with its colour (the codebook's, else its parent's, else from a palette)."""
    from qualcode.reports import code_tree

    colors = dict(store.conn.execute("SELECT path, color FROM codes"))
    styles: dict[str, CodeStyle] = {}
    tops: list[str] = []
    for info in code_tree(store, include_inactive=include_inactive):
        color = colors.get(info.path)
        if not color:
            parent = info.path.rpartition("/")[0]
            if parent in styles:
                color = styles[parent].color
            else:
                top = info.path.split("/")[0]
                if top not in tops:
                    tops.append(top)
                color = PALETTE[tops.index(top) % len(PALETTE)]
        styles[info.path] = CodeStyle(
            info.path, info.name, info.description, color, info.depth, info.active
        )
    return styles


def transcripts(store: Store, transcript_id: int | None = None) -> list[TranscriptInfo]:
    """Transcripts (all, or the one with ``transcript_id``) with respondent, turns and the
    respondent's words, in import order."""
    where = "" if transcript_id is None else " WHERE transcript_id = ?"
    params = () if transcript_id is None else (transcript_id,)
    words: dict[int, int] = {}
    turns: dict[int, int] = {}
    own: dict[int, int] = {}
    for tid, role, text in store.conn.execute(
        "SELECT transcript_id, role, text FROM segments" + where, params
    ):
        turns[tid] = turns.get(tid, 0) + 1
        if role == "respondent":
            own[tid] = own.get(tid, 0) + 1
            words[tid] = words.get(tid, 0) + count_words(text)
    return [
        TranscriptInfo(tid, name, label, turns.get(tid, 0), words.get(tid, 0), own.get(tid, 0))
        for tid, name, label in store.conn.execute(
            "SELECT t.id, t.name, r.label FROM transcripts t"
            " JOIN respondents r ON r.id = t.respondent_id"
            + ("" if transcript_id is None else " WHERE t.id = ?")
            + " ORDER BY t.id",
            params,
        )
    ]


def transcript_info(store: Store, transcript_id: int) -> TranscriptInfo:
    """One transcript, or an error when the project has none with this id."""
    found = transcripts(store, transcript_id)
    if not found:
        raise InputError(f"no transcript with id {transcript_id} in the project")
    return found[0]


def _codings(
    store: Store, coder: str, segment_ids: list[int], lang: str
) -> dict[int, list[Coding]]:
    if not segment_ids:
        return {}
    quote = "c.quote_start, c.quote_end" if has_passages(store) else "NULL, NULL"
    marks = ",".join("?" * len(segment_ids))
    result: dict[int, list[Coding]] = {}
    for row in store.conn.execute(
        f"SELECT c.id, c.segment_id, k.path, c.source, {quote}, c.memo, c.negated, c.evidence"
        " FROM codings c JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
        f" WHERE d.name = ? AND c.segment_id IN ({marks})"
        " ORDER BY k.sort_order, k.path, c.id",
        [coder, *segment_ids],
    ):
        coding_id, seg, path, source, start, end, memo, negated, evidence = row
        data = json.loads(evidence or "[]")
        result.setdefault(seg, []).append(
            Coding(
                coding_id,
                path,
                coder,
                source,
                start,
                end,
                memo,
                bool(negated),
                data if isinstance(data, list) else [],
                describe_evidence(data if isinstance(data, list) else [], lang),
            )
        )
    return result


def _pieces(text: str, mine: list[Coding], drafts: list[Draft]) -> list[Piece]:
    """Cut ``text`` at every passage and pending-draft evidence boundary."""
    passages = [(c.start, c.end, c.code) for c in mine if c.start is not None and c.end is not None]
    matches: list[tuple[int, int]] = []
    for draft in drafts:
        if draft.decision in ("reject", "change"):
            continue
        for match in draft.coding.evidence:
            try:
                start, end = int(match["start"]), int(match["end"])
            except (KeyError, TypeError, ValueError):
                continue
            if 0 <= start < end <= len(text):
                matches.append((start, end))
    cuts = {0, len(text)}
    for start, end, _ in passages:
        cuts.update((max(0, min(start, len(text))), max(0, min(end, len(text)))))
    for start, end in matches:
        cuts.update((start, end))
    bounds = sorted(cuts)
    pieces = []
    for start, end in itertools.pairwise(bounds):
        if start == end:
            continue
        codes = tuple(dict.fromkeys(p for s, e, p in passages if s <= start and end <= e))
        underline = any(s <= start and end <= e for s, e in matches)
        pieces.append(Piece(start, end, text[start:end], codes, underline))
    return pieces or [Piece(0, 0, "", (), False)]


def reader_turns(
    store: Store,
    coder: str,
    *,
    transcript_id: int | None = None,
    segment_ids: list[int] | None = None,
    source: str = AUTO_CODER,
    lang: str = "nb",
) -> list[ReaderTurn]:
    """Turns of a transcript (or the given segments) with ``coder``'s codings and ``source``'s draft."""
    from qualcode.review import latest_decisions

    if transcript_id is None and segment_ids is None:
        raise ValueError("give a transcript or segments")
    if transcript_id is not None:
        rows = store.conn.execute(
            "SELECT id, transcript_id, position, speaker, role, start_time, text FROM segments"
            " WHERE transcript_id = ? ORDER BY position",
            (transcript_id,),
        ).fetchall()
    else:
        ids = list(segment_ids or [])
        rows = store.conn.execute(
            "SELECT id, transcript_id, position, speaker, role, start_time, text FROM segments"
            f" WHERE id IN ({','.join('?' * len(ids))}) ORDER BY transcript_id, position",
            ids,
        ).fetchall() if ids else []
    ids = [r[0] for r in rows]
    mine = _codings(store, coder, ids, lang) if coder else {}
    drafts_raw = _codings(store, source, ids, lang) if source != coder else {}
    decisions = latest_decisions(store, coder, source) if coder else {}
    memos: dict[int, list[Memo]] = {}
    if ids:
        for memo in list_memos(store, segment_ids=ids):
            memos.setdefault(int(memo.segment_id or 0), []).append(memo)
    from qualcode.review import ReviewItem

    turns = []
    for seg, tid, position, speaker, role, start_time, text in rows:
        own = mine.get(seg, [])
        own_codes = {c.code for c in own}
        drafts = []
        for coding in drafts_raw.get(seg, []):
            decision = decisions.get(ReviewItem(seg, coding.code))
            if decision is None and coding.code in own_codes:
                decision = HAS_CODE
            drafts.append(Draft(coding, decision))
        turns.append(
            ReaderTurn(
                seg,
                tid,
                position,
                speaker,
                role,
                start_time,
                text,
                own,
                drafts,
                memos.get(seg, []),
                _pieces(text, own, drafts),
            )
        )
    return turns


def reader_page(
    store: Store, transcript_id: int, coder: str, *, source: str = AUTO_CODER, lang: str = "nb"
) -> ReaderPage:
    """A whole transcript with ``coder``'s codings, for the reader."""
    info = transcript_info(store, transcript_id)
    return ReaderPage(
        info, reader_turns(store, coder, transcript_id=transcript_id, source=source, lang=lang), coder
    )


def recent_codes(store: Store, coder: str, limit: int = 9) -> list[str]:
    """The codes ``coder`` added most recently (newest first, each once, active codes only)."""
    active = set(store.code_paths())
    found: list[str] = []
    for (path,) in store.conn.execute(
        "SELECT code_path FROM audit_log WHERE action = 'add_coding' AND coder = ?"
        " AND code_path IS NOT NULL ORDER BY id DESC LIMIT 2000",
        (coder,),
    ):
        if path in active and path not in found:
            found.append(path)
            if len(found) == limit:
                break
    return found


@dataclass(frozen=True)
class CodedPassage:
    """One coding of a code as the code view lists it."""

    segment_id: int
    transcript_id: int
    respondent: str
    position: int
    speaker: str
    coder: str
    code: str
    text: str  # the passage, or the whole turn
    memo: str | None


def code_passages(store: Store, code: str, coder: str | None = None) -> list[CodedPassage]:
    """Every coding of ``code`` and its subcodes (in ``coder``'s layer, or every layer)."""
    if store.code_id(code) is None:
        raise InputError(f"unknown code '{code}'")
    quote = "c.quote_start, c.quote_end" if has_passages(store) else "NULL, NULL"
    sql = (
        f"SELECT s.id, s.transcript_id, r.label, s.position, s.speaker, d.name, k.path, s.text,"
        f" {quote}, c.memo FROM codings c JOIN codes k ON k.id = c.code_id"
        " JOIN coders d ON d.id = c.coder_id JOIN segments s ON s.id = c.segment_id"
        " JOIN respondents r ON r.id = s.respondent_id WHERE (k.path = ? OR k.path LIKE ?)"
    )
    params: list[Any] = [code, code + "/%"]
    if coder:
        sql += " AND d.name = ?"
        params.append(coder)
    sql += " ORDER BY s.transcript_id, s.position, d.name, c.id"
    result = []
    for seg, tid, label, position, speaker, name, path, text, start, end, memo in (
        store.conn.execute(sql, params)
    ):
        passage = text if start is None else text[start:end]
        result.append(CodedPassage(seg, tid, label, position, speaker, name, path, passage, memo))
    return result


def turn_places(store: Store, segment_ids: list[int]) -> dict[int, str]:
    """Where each turn is, as a reader names it: the respondent and the turn's number (``R1 #4``)."""
    ids = sorted(set(segment_ids))
    if not ids:
        return {}
    return {
        seg: f"{label} #{position}"
        for seg, label, position in store.conn.execute(
            "SELECT s.id, r.label, s.position FROM segments s"
            " JOIN respondents r ON r.id = s.respondent_id"
            f" WHERE s.id IN ({','.join('?' * len(ids))})",
            ids,
        )
    }


def layers(store: Store) -> list[str]:
    """Every coder layer's name, people first."""
    return [
        r[0] for r in store.conn.execute("SELECT name FROM coders ORDER BY kind = 'auto', name")
    ]
