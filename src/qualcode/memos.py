"""Memos: free-text notes by a coder on a segment (a turn) or on a code.

Every memo change is logged with the whole row (``add_memo`` / ``remove_memo``), so ``qualcode
undo`` can put it back exactly.

A third kind, the *coding memo* (NVivo's annotation, MAXQDA's comment on a coded segment), is a
note on one coding: it lives in the coding's ``memo`` column, comes and goes with the coding (layer
files, ``import codings``, REFI-QDA), and is listed by :func:`list_coding_memos`.
"""

from __future__ import annotations

from dataclasses import dataclass

from qualcode.errors import InputError
from qualcode.store import Store, WriteTx, now_iso


@dataclass(frozen=True)
class Memo:
    """One stored memo; exactly one of ``segment_id`` and ``code_path`` is set."""

    memo_id: int
    segment_id: int | None
    code_path: str | None
    coder: str | None
    text: str
    created_at: str


def segment_exists(store: Store, segment_id: int) -> bool:
    """Whether the project holds a segment with this id."""
    return (
        store.conn.execute("SELECT 1 FROM segments WHERE id = ?", (segment_id,)).fetchone()
        is not None
    )


def add_memo_tx(
    store: Store,
    tx: WriteTx,
    text: str,
    coder: str | None,
    *,
    segment_id: int | None = None,
    code_path: str | None = None,
) -> int:
    """Add a memo inside an open write transaction; returns its id."""
    text = text.strip()
    if not text:
        raise InputError("a memo needs some text")
    if (segment_id is None) == (code_path is None):
        raise InputError("a memo belongs to either a segment or a code")
    code_id = None
    if code_path is not None:
        code_id = store.code_id(code_path)
        if code_id is None:
            raise InputError(f"unknown code '{code_path}'")
    elif not segment_exists(store, int(segment_id or 0)):
        raise InputError(f"no segment with id {segment_id} in the project")
    created = now_iso()
    cur = tx.conn.execute(
        "INSERT INTO memos (segment_id, code_id, coder, text, created_at) VALUES (?, ?, ?, ?, ?)",
        (segment_id, code_id, coder, text, created),
    )
    memo_id = int(cur.lastrowid or 0)
    tx.audit(
        "add_memo",
        segment_id=segment_id,
        code_path=code_path,
        coder=coder,
        detail={"id": memo_id, "text": text, "created_at": created},
    )
    return memo_id


def add_memo(
    store: Store,
    text: str,
    coder: str | None,
    *,
    segment_id: int | None = None,
    code_path: str | None = None,
    command: str = "memo",
) -> int:
    """Add a memo on a segment or a code in its own command; returns its id."""
    with store.write(command, coder=coder) as tx:
        return add_memo_tx(store, tx, text, coder, segment_id=segment_id, code_path=code_path)


def remove_memo(
    store: Store, memo_id: int, coder: str | None, command: str = "memo --delete"
) -> Memo:
    """Delete one memo in its own command (logged with the whole row); returns what was deleted."""
    found = [m for m in list_memos(store) if m.memo_id == memo_id]
    if not found:
        raise InputError(f"no memo with id {memo_id}")
    memo = found[0]
    with store.write(command, coder=coder) as tx:
        tx.conn.execute("DELETE FROM memos WHERE id = ?", (memo_id,))
        tx.audit(
            "remove_memo",
            segment_id=memo.segment_id,
            code_path=memo.code_path,
            coder=memo.coder,
            detail={"id": memo.memo_id, "text": memo.text, "created_at": memo.created_at},
        )
    return memo


def list_memos(
    store: Store,
    *,
    segment_id: int | None = None,
    code_path: str | None = None,
    coder: str | None = None,
    segment_ids: list[int] | None = None,
) -> list[Memo]:
    """Memos in the order they were written, optionally filtered."""
    where, params = [], []
    if segment_id is not None:
        where.append("m.segment_id = ?")
        params.append(segment_id)
    if code_path is not None:
        where.append("k.path = ?")
        params.append(code_path)
    if coder is not None:
        where.append("m.coder = ?")
        params.append(coder)
    if segment_ids is not None:
        where.append(f"m.segment_id IN ({','.join('?' * len(segment_ids))})")
        params.extend(segment_ids)
    sql = (
        "SELECT m.id, m.segment_id, k.path, m.coder, m.text, m.created_at FROM memos m"
        " LEFT JOIN codes k ON k.id = m.code_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY m.id"
    )
    return [Memo(*row) for row in store.conn.execute(sql, params)]


@dataclass(frozen=True)
class CodingMemo:
    """The memo of one coding: on ``code_path`` at ``segment_id`` in ``coder``'s layer."""

    segment_id: int
    code_path: str
    coder: str
    text: str
    created_at: str


def list_coding_memos(
    store: Store,
    *,
    segment_id: int | None = None,
    code_path: str | None = None,
    coder: str | None = None,
) -> list[CodingMemo]:
    """The memos of codings, by segment, optionally filtered."""
    where, params = ["c.memo IS NOT NULL", "TRIM(c.memo) != ''"], []
    if segment_id is not None:
        where.append("c.segment_id = ?")
        params.append(segment_id)
    if code_path is not None:
        where.append("k.path = ?")
        params.append(code_path)
    if coder is not None:
        where.append("d.name = ?")
        params.append(coder)
    sql = (
        "SELECT c.segment_id, k.path, d.name, c.memo, c.created_at FROM codings c"
        " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id WHERE "
        + " AND ".join(where)
        + " ORDER BY c.segment_id, k.sort_order, k.path, d.name"
    )
    return [CodingMemo(*row) for row in store.conn.execute(sql, params)]
