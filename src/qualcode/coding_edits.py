"""Changes to one coding picked by its id: take it off, or give it a memo of its own.

The workbench points at a coding it shows (a label or a passage) rather than at a segment and a
code, because one coder may have the same code on several passages of a turn. Each change is one
command made of ``remove_coding``/``add_coding`` audit entries, so ``qualcode undo`` reverts it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from qualcode.errors import InputError
from qualcode.store import Store


@dataclass(frozen=True)
class CodingRef:
    """One stored coding, as the audit log and the workbench name it."""

    coding_id: int
    segment_id: int
    code: str
    coder: str
    source: str
    negated: bool
    evidence: list
    memo: str | None
    quote: tuple[int, int] | None


def _quote_columns(store: Store) -> bool:
    return any(
        row[1] == "quote_start" for row in store.conn.execute("PRAGMA table_info(codings)")
    )


def get_coding(store: Store, coding_id: int) -> CodingRef:
    """The coding with this id, or an error naming the id."""
    quote = "c.quote_start, c.quote_end" if _quote_columns(store) else "NULL, NULL"
    row = store.conn.execute(
        f"SELECT c.id, c.segment_id, k.path, d.name, c.source, c.negated, c.evidence, c.memo, {quote}"
        " FROM codings c JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
        " WHERE c.id = ?",
        (coding_id,),
    ).fetchone()
    if row is None:
        raise InputError(f"no coding with id {coding_id} (it was removed meanwhile?)")
    cid, seg, path, coder, source, negated, evidence, memo, start, end = row
    return CodingRef(
        cid,
        seg,
        path,
        coder,
        source,
        bool(negated),
        json.loads(evidence or "[]"),
        memo,
        None if start is None else (int(start), int(end)),
    )


def _own(store: Store, coding_id: int, coder: str) -> CodingRef:
    ref = get_coding(store, coding_id)
    if ref.coder != coder:
        raise InputError(
            f"coding {coding_id} is in {ref.coder}'s layer; you can change only your own ({coder})"
        )
    return ref


def remove_coding(store: Store, coding_id: int, coder: str, *, command: str) -> CodingRef:
    """Take coding ``coding_id`` out of ``coder``'s layer as one command; returns what it was."""
    ref = _own(store, coding_id, coder)
    with store.write(command, coder=coder) as tx:
        _remove(store, tx, ref)
    return ref


def set_coding_memo(
    store: Store, coding_id: int, coder: str, text: str | None, *, command: str
) -> CodingRef:
    """Give coding ``coding_id`` the memo ``text`` (empty: none) as one command.

    Logged as ``set_coding_memo`` with the old and the new memo, which ``undo`` puts back.
    """
    ref = _own(store, coding_id, coder)
    memo = (text or "").strip() or None
    if memo == (ref.memo or None):
        return ref
    with store.write(command, coder=coder) as tx:
        tx.conn.execute("UPDATE codings SET memo = ? WHERE id = ?", (memo, coding_id))
        tx.audit(
            "set_coding_memo",
            segment_id=ref.segment_id,
            code_path=ref.code,
            coder=coder,
            detail={"id": coding_id, "old": ref.memo, "new": memo},
        )
    return ref


def _remove(store: Store, tx, ref: CodingRef) -> None:  # type: ignore[no-untyped-def]
    by_id = getattr(store, "remove_coding_by_id", None)
    if by_id is not None:
        by_id(tx, ref.coding_id)
    else:
        store.remove_coding(tx, ref.segment_id, ref.code, ref.coder)
