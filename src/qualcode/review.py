"""The interactive review, separated from the terminal: a queue of draft codings and decisions.

The queue holds one item per coding in the *source* layer (``--from``, by default ``auto``): a
segment and the code under review. The *reviewer* (``--coder``) decides, and every decision is
written at once in its own command, so an interrupted review keeps every decision taken.

What the decisions mean, in the reviewer's layer:

- **accept**: the reviewer has the coding with ``source = manual``. A draft row already there (from
  ``coder copy``) becomes manual; otherwise it is copied in from the source layer, evidence,
  negation and memo included.
- **reject**: the reviewer does not have the coding (a copied draft row is removed). The source
  layer is never touched.
- **change** to another code: as reject, plus the other code is added as a manual coding.
- **add** a code or write a **memo**: extra changes on the segment; the item stays open.
- **skip**: recorded, so a resumed review goes past it; ``only_skipped`` brings skipped items back.

Progress is derived from the audit log: each decision writes a ``review`` entry naming the source
layer and the item; a decision whose command was undone does not count. Running the review again
starts at the first item without a decision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from qualcode.audit import undone_command_ids
from qualcode.errors import InputError
from qualcode.memos import CodingMemo, Memo, add_memo_tx, list_coding_memos, list_memos
from qualcode.recode import check_code, check_coder_name
from qualcode.store import AUTO_CODER, Store, WriteTx

DECISIONS = ("accept", "reject", "change", "skip")


@dataclass(frozen=True)
class ReviewItem:
    """One thing to decide: a segment and the source layer's code on it (None: an uncoded turn)."""

    segment_id: int
    code: str | None


@dataclass(frozen=True)
class Match:
    """One evidence match, with offsets into the segment text."""

    start: int
    end: int
    words: str
    rule: str
    term: str
    negated: bool
    negator: str | None


@dataclass(frozen=True)
class Turn:
    """A turn of the transcript, for the neighbours view."""

    segment_id: int
    position: int
    speaker: str
    role: str
    text: str


@dataclass
class ItemView:
    """Everything the terminal shows for one item."""

    item: ReviewItem
    index: int
    total: int
    transcript: str
    respondent: str
    position: int
    speaker: str
    role: str
    text: str
    evidence: list[Match]
    negated: bool
    source_codes: list[tuple[str, str, bool]]  # (path, source, negated) in the source layer
    own_codes: list[tuple[str, str]]  # (path, source) in the reviewer's layer
    memos: list[Memo]
    decision: str | None
    #: Memos on this turn's codings in the source layer and the reviewer's own.
    coding_memos: list[CodingMemo] = field(default_factory=list)


def parse_evidence(raw: str | list[dict[str, Any]] | None, text_length: int) -> list[Match]:
    """Evidence JSON (the shared format) as matches; entries with impossible offsets are dropped."""
    data = json.loads(raw) if isinstance(raw, str) else (raw or [])
    matches = []
    for entry in data if isinstance(data, list) else []:
        try:
            start, end = int(entry["start"]), int(entry["end"])
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= start < end <= text_length:
            matches.append(
                Match(
                    start,
                    end,
                    str(entry.get("words", "")),
                    str(entry.get("rule", "")),
                    str(entry.get("term", "")),
                    bool(entry.get("negated")),
                    entry.get("negator"),
                )
            )
    return sorted(matches, key=lambda m: (m.start, m.end))


@dataclass
class ReviewSession:
    """A review in progress: the queue, the current position and the decision methods."""

    store: Store
    reviewer: str
    source: str
    items: list[ReviewItem]
    index: int = 0
    command: str = "review"
    sequential: bool = False  # True: walk every item in order (restart / only skipped)
    decisions: int = 0
    _decided: dict[ReviewItem, str] = field(default_factory=dict)
    #: Items decided in this session: walking in order, the others are still to come.
    _decided_here: set[ReviewItem] = field(default_factory=set)
    #: True: ``command`` is logged as given, without the decision appended (the workbench's text).
    exact_command: bool = False
    #: False: deciding the last item does not mark the transcript done (the workbench marks it).
    done_when_last: bool = True
    _transcripts: dict[int, int] = field(default_factory=dict)  # segment id -> transcript id

    # -- navigation --------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        """Whether the queue is done."""
        return self.index >= len(self.items)

    @property
    def current(self) -> ReviewItem | None:
        """The item to decide now, or None when the queue is done."""
        return None if self.finished else self.items[self.index]

    def decision_of(self, item: ReviewItem) -> str | None:
        """The latest decision on ``item`` (from earlier sessions too), or None."""
        return self._decided.get(item)

    @property
    def remaining(self) -> int:
        """Items left: without a decision, or, walking in order, not yet decided in this session.

        Walking in order (``--restart``, ``--skipped``) every item already has a decision from
        an earlier session, and each one is still to be walked.
        """
        done = self._decided_here if self.sequential else self._decided
        return sum(1 for item in self.items if item not in done)

    def advance(self) -> None:
        """Go to the next item (the next undecided one, unless walking in order)."""
        position = self.index + 1
        if not self.sequential:
            while position < len(self.items) and self.items[position] in self._decided:
                position += 1
        self.index = position

    def back(self) -> bool:
        """Go to the previous item; False if already at the first."""
        if self.index == 0:
            return False
        self.index = min(self.index, len(self.items)) - 1
        return True

    # -- views -------------------------------------------------------------------------------
    def view(self, item: ReviewItem | None = None) -> ItemView:
        """What to show for ``item`` (default: the current one)."""
        item = item or self.current
        if item is None:
            raise IndexError("the review is finished")
        conn = self.store.conn
        transcript, respondent, position, speaker, role, text = conn.execute(
            "SELECT t.name, r.label, s.position, s.speaker, s.role, s.text FROM segments s"
            " JOIN transcripts t ON t.id = s.transcript_id"
            " JOIN respondents r ON r.id = s.respondent_id WHERE s.id = ?",
            (item.segment_id,),
        ).fetchone()
        source_codes, evidence, negated = [], [], False
        for path, src, neg, ev in self._codings(self.source, item.segment_id):
            source_codes.append((path, src, bool(neg)))
            if path == item.code:
                evidence, negated = parse_evidence(ev, len(text)), bool(neg)
        own_codes = [
            (path, src) for path, src, _, _ in self._codings(self.reviewer, item.segment_id)
        ]
        if item.code is not None and not evidence:
            # A copied draft keeps its evidence in the reviewer's own layer.
            for path, _, neg, ev in self._codings(self.reviewer, item.segment_id):
                if path == item.code:
                    evidence, negated = parse_evidence(ev, len(text)), bool(neg)
        memos = list_memos(self.store, segment_id=item.segment_id)
        if item.code is not None:
            memos += list_memos(self.store, code_path=item.code)
        coding_memos = [
            m
            for m in list_coding_memos(self.store, segment_id=item.segment_id)
            if m.coder in (self.source, self.reviewer)
        ]
        return ItemView(
            item,
            self.items.index(item),
            len(self.items),
            transcript,
            respondent,
            position,
            speaker,
            role,
            text,
            evidence,
            negated,
            source_codes,
            own_codes,
            memos,
            self._decided.get(item),
            coding_memos,
        )

    def neighbours(
        self, item: ReviewItem | None = None, span: int = 1
    ) -> tuple[list[Turn], list[Turn]]:
        """The ``span`` turns before and after the item's turn in its transcript."""
        item = item or self.current
        if item is None:
            return [], []
        transcript_id, position = self.store.conn.execute(
            "SELECT transcript_id, position FROM segments WHERE id = ?", (item.segment_id,)
        ).fetchone()
        rows = [
            Turn(*r)
            for r in self.store.conn.execute(
                "SELECT id, position, speaker, role, text FROM segments WHERE transcript_id = ?"
                " AND position BETWEEN ? AND ? AND position != ? ORDER BY position",
                (transcript_id, position - span, position + span, position),
            )
        ]
        return [t for t in rows if t.position < position], [
            t for t in rows if t.position > position
        ]

    def _codings(self, coder: str, segment_id: int) -> list[tuple[str, str, int, str]]:
        return self.store.conn.execute(
            "SELECT k.path, c.source, c.negated, c.evidence FROM codings c"
            " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
            " WHERE d.name = ? AND c.segment_id = ? ORDER BY k.sort_order, k.path",
            (coder, segment_id),
        ).fetchall()

    def _row(
        self, coder: str, segment_id: int, code: str
    ) -> tuple[str, int, str, str | None] | None:
        return self.store.conn.execute(
            "SELECT c.source, c.negated, c.evidence, c.memo FROM codings c"
            " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
            " WHERE d.name = ? AND c.segment_id = ? AND k.path = ?",
            (coder, segment_id, code),
        ).fetchone()

    # -- decisions ---------------------------------------------------------------------------
    def accept(self) -> None:
        """Keep the draft coding as the reviewer's own (``source = manual``)."""
        item = self._require_item()
        with self._step("accept", item) as tx:
            if item.code is not None:
                self._make_manual(tx, item.segment_id, item.code)
            self._mark(tx, item, "accept")
        self._decided_now(item, "accept")

    def reject(self) -> None:
        """The reviewer does not have this coding; the source layer keeps it."""
        item = self._require_item()
        with self._step("reject", item) as tx:
            if item.code is not None:
                self.store.remove_coding(tx, item.segment_id, item.code, self.reviewer)
            self._mark(tx, item, "reject")
        self._decided_now(item, "reject")

    def own_memo(self) -> str | None:
        """The memo on the reviewer's own coding of the current item, if there is one."""
        item = self.current
        if item is None or item.code is None:
            return None
        own = self._row(self.reviewer, item.segment_id, item.code)
        return own[3] if own is not None and own[3] else None

    def change(self, code: str, *, keep_old: bool = False) -> str:
        """Replace the draft code by ``code`` (a manual coding); returns the checked path.

        A memo on the reviewer's own coding of the draft code moves to the new coding, so a
        change never loses it; ``keep_old`` keeps the old coding (and its memo) beside the new.
        """
        item = self._require_item()
        target = check_code(self.store, code)
        if target == item.code:
            raise InputError(f"the item is already {target}; use accept")
        memo = self.own_memo()
        with self._step(f"change to {target}", item) as tx:
            if item.code is not None and not keep_old:
                self.store.remove_coding(tx, item.segment_id, item.code, self.reviewer)
            if memo and not keep_old and self._row(self.reviewer, item.segment_id, target) is None:
                self.store.ensure_coder(tx, self.reviewer)
                self.store.add_coding(
                    tx, item.segment_id, target, self.reviewer, source="manual", memo=memo
                )
            else:
                self._make_manual(tx, item.segment_id, target, copy_from_source=False)
            self._mark(tx, item, "change", to=target)
        self._decided_now(item, "change")
        return target

    def add(self, code: str) -> str:
        """Add another code to the segment (manual); the item stays open. Returns the path."""
        item = self._require_item()
        target = check_code(self.store, code)
        with self._step(f"add {target}", item) as tx:
            self._make_manual(tx, item.segment_id, target, copy_from_source=False)
        return target

    def memo(self, text: str) -> int:
        """Write a memo on the segment; the item stays open. Returns the memo id."""
        item = self._require_item()
        with self._step("memo", item) as tx:
            return add_memo_tx(self.store, tx, text, self.reviewer, segment_id=item.segment_id)

    def skip(self) -> None:
        """Decide later: recorded, so a resumed review does not stop here again."""
        item = self._require_item()
        with self._step("skip", item) as tx:
            self._mark(tx, item, "skip")
        self._decided_now(item, "skip")

    # -- helpers -----------------------------------------------------------------------------
    def _require_item(self) -> ReviewItem:
        item = self.current
        if item is None:
            raise InputError("the review is finished")
        return item

    def _step(self, what: str, item: ReviewItem) -> Any:
        if self.exact_command:
            return self.store.write(self.command, coder=self.reviewer)
        code = f" {item.code}" if item.code else ""
        return self.store.write(
            f"{self.command} ({what}: segment {item.segment_id}{code})", coder=self.reviewer
        )

    def _mark(self, tx: WriteTx, item: ReviewItem, decision: str, **extra: Any) -> None:
        tx.audit(
            "review",
            segment_id=item.segment_id,
            code_path=item.code,
            detail={"from": self.source, "decision": decision, **extra},
        )
        if decision != "skip" and self.done_when_last:
            self._done_if_last(tx, item)

    def _done_if_last(self, tx: WriteTx, item: ReviewItem) -> None:
        """Mark the item's transcript done once every item of it in the queue is decided."""
        transcript = self._transcript_of(item.segment_id)
        for other in self.items:
            if other == item or self._transcript_of(other.segment_id) != transcript:
                continue
            if self._decided.get(other) in (None, "skip"):
                return
        self.store.set_done(tx, transcript, self.reviewer)

    def _transcript_of(self, segment_id: int) -> int:
        if not self._transcripts:
            ids = sorted({i.segment_id for i in self.items})
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                self._transcripts.update(
                    self.store.conn.execute(
                        "SELECT id, transcript_id FROM segments"
                        f" WHERE id IN ({','.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
                )
        return self._transcripts[segment_id]

    def _decided_now(self, item: ReviewItem, decision: str) -> None:
        self._decided[item] = decision
        self._decided_here.add(item)
        self.decisions += 1
        self.advance()

    def _make_manual(
        self, tx: WriteTx, segment_id: int, code: str, copy_from_source: bool = True
    ) -> None:
        """Ensure the reviewer's layer has ``code`` on the segment with ``source = manual``."""
        own = self._row(self.reviewer, segment_id, code)
        if own is not None and own[0] == "manual":
            return
        template = own
        if copy_from_source and self.source != self.reviewer:
            template = self._row(self.source, segment_id, code) or own
        if own is not None:
            self.store.remove_coding(tx, segment_id, code, self.reviewer)
        store = self.store
        store.ensure_coder(tx, self.reviewer)
        if template is None:
            store.add_coding(tx, segment_id, code, self.reviewer, source="manual")
        else:
            _, negated, evidence, memo = template
            store.add_coding(
                tx,
                segment_id,
                code,
                self.reviewer,
                source="manual",
                negated=bool(negated),
                evidence=json.loads(evidence),
                memo=memo,
            )


def latest_decisions(store: Store, reviewer: str, source: str) -> dict[ReviewItem, str]:
    """The reviewer's latest decision per item when reviewing ``source``, undone ones left out."""
    undone = undone_command_ids(store)
    result: dict[ReviewItem, str] = {}
    for command_id, segment_id, code, detail in store.conn.execute(
        "SELECT command_id, segment_id, code_path, detail FROM audit_log"
        " WHERE action = 'review' AND coder = ? ORDER BY id",
        (reviewer,),
    ):
        data = json.loads(detail)
        if command_id in undone or data.get("from") != source:
            continue
        result[ReviewItem(int(segment_id), code)] = str(data.get("decision"))
    return result


def start_review(
    store: Store,
    reviewer: str,
    source: str | None = None,
    *,
    code: str | None = None,
    respondent: str | None = None,
    uncoded: bool = False,
    only_skipped: bool = False,
    restart: bool = False,
    command: str = "review",
) -> ReviewSession:
    """Build the queue and position it at the first item without a decision.

    ``code`` keeps items of that code and its subcodes; ``uncoded`` adds the respondents' turns that
    have no such coding in the source layer (to catch what the draft missed); ``restart`` walks
    every item from the start; ``only_skipped`` walks the items last skipped.
    """
    reviewer = check_coder_name(reviewer)
    if reviewer == AUTO_CODER:
        raise InputError("'auto' is the auto-coder's layer; review as a person (--coder NAME)")
    if source is None:
        source = AUTO_CODER if store.coder_id(AUTO_CODER) is not None else reviewer
    source = check_coder_name(source)
    if store.coder_id(source) is None and source != reviewer:
        names = [r[0] for r in store.conn.execute("SELECT name FROM coders ORDER BY name")]
        raise InputError(
            f"no coder layer '{source}' to review (layers: {', '.join(names) or 'none'})"
        )
    where, params = ["d.name = ?"], [source]
    if code is not None:
        code = check_code(store, code, active_only=False)
        where.append("(k.path = ? OR k.path LIKE ?)")
        params += [code, code + "/%"]
    if respondent is not None:
        if store.respondent_id(respondent) is None:
            raise InputError(f"no respondent '{respondent}' in the project")
        where.append("r.label = ?")
        params.append(respondent)
    rows = store.conn.execute(
        "SELECT s.id, k.path, t.id, s.position, k.sort_order FROM codings c"
        " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
        " JOIN segments s ON s.id = c.segment_id JOIN transcripts t ON t.id = s.transcript_id"
        " JOIN respondents r ON r.id = s.respondent_id WHERE " + " AND ".join(where),
        params,
    ).fetchall()
    keyed = [((t, pos, order, path), ReviewItem(seg, path)) for seg, path, t, pos, order in rows]
    if uncoded:
        coded = {seg for seg, *_ in rows}
        sql = (
            "SELECT s.id, t.id, s.position FROM segments s"
            " JOIN transcripts t ON t.id = s.transcript_id"
            " JOIN respondents r ON r.id = s.respondent_id WHERE s.role = 'respondent'"
        )
        extra: list[Any] = []
        if respondent is not None:
            sql += " AND r.label = ?"
            extra.append(respondent)
        for seg, t, pos in store.conn.execute(sql, extra):
            if seg not in coded:
                keyed.append(((t, pos, -1, ""), ReviewItem(seg, None)))
    items = [item for _, item in sorted(keyed, key=lambda pair: pair[0])]
    decided = latest_decisions(store, reviewer, source)
    in_queue = set(items)
    decided = {item: d for item, d in decided.items() if item in in_queue}
    if only_skipped:
        items = [item for item in items if decided.get(item) == "skip"]
    session = ReviewSession(
        store,
        reviewer,
        source,
        items,
        command=command,
        sequential=restart or only_skipped,
        _decided=decided,
    )
    if not session.sequential:
        session.index = -1
        session.advance()
    return session


def decide(
    store: Store,
    reviewer: str,
    segment_id: int,
    code: str,
    decision: str,
    *,
    source: str = AUTO_CODER,
    command: str,
) -> None:
    """Accept or reject one draft coding (``source``'s ``code`` on the segment) as one command.

    The same decision as in the terminal review, logged as ``command``: a later ``review``
    walk counts it and does not ask again.
    """
    if decision not in ("accept", "reject"):
        raise InputError(f"unknown decision '{decision}'; use accept or reject")
    reviewer = check_coder_name(reviewer)
    if reviewer == AUTO_CODER:
        raise InputError("'auto' is the auto-coder's layer; review as a person")
    found = store.conn.execute(
        "SELECT 1 FROM codings c JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
        " WHERE d.name = ? AND c.segment_id = ? AND k.path = ?",
        (source, segment_id, code),
    ).fetchone()
    if found is None:
        raise InputError(f"no draft coding {code} on segment {segment_id} in layer '{source}'")
    session = ReviewSession(
        store,
        reviewer,
        source,
        [ReviewItem(segment_id, code)],
        command=command,
        sequential=True,
        exact_command=True,
        done_when_last=False,
    )
    if decision == "accept":
        session.accept()
    else:
        session.reject()
