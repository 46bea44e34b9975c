"""The audit trail: who changed what and when (``qualcode log``), and ``qualcode undo``.

The log is append-only (triggers forbid UPDATE and DELETE), so an undo never erases history: it
replays the entries of the coder's last command in reverse as a new command, whose ``undo`` entry
names the command it reverted. A command counts as undone once such an entry exists; the next
``undo`` then reverts the command before it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from qualcode.errors import InputError, QualcodeError
from qualcode.store import Store, WriteTx

#: Actions that only mark progress (the review's decisions) and need nothing reverted.
MARKER_ACTIONS = frozenset({"review"})
#: Actions :func:`undo` knows how to revert exactly.
REVERSIBLE_ACTIONS = (
    frozenset(
        {
            "add_coding",
            "remove_coding",
            "create_coder",
            "rename_coder",
            "set_setting",
            "add_memo",
            "remove_memo",
            "add_code",
            "set_coding_memo",
            "set_done",
        }
    )
    | MARKER_ACTIONS
)


# -- the log ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogEntry:
    """One audit-log entry with the command that wrote it."""

    entry_id: int
    at: str
    coder: str | None
    action: str
    segment_id: int | None
    code_path: str | None
    detail: dict[str, Any]
    command_id: int
    command: str

    @property
    def summary(self) -> str:
        """A short human-readable description of the detail."""
        d = self.detail
        if self.action == "add_coding":
            extra = ", negated" if d.get("negated") else ""
            if d.get("quote_start") is not None:
                extra += f", passage {d['quote_start']}:{d.get('quote_end')}"
            return f"source {d.get('source')}{extra}" + (
                f"; memo: {d['memo']}" if d.get("memo") else ""
            )
        if self.action == "remove_coding":
            return f"was source {d.get('source')}"
        if self.action in ("add_memo", "remove_memo"):
            return str(d.get("text", ""))
        if self.action == "set_setting":
            return f"{d.get('key')}: {d.get('old')!r} → {d.get('new')!r}"
        if self.action == "set_done":
            return f"{d.get('transcript')}: " + ("done" if d.get("new") else "not done")
        if self.action == "review":
            return f"{d.get('decision')} (from {d.get('from')})"
        if self.action == "undo":
            return f"undid command #{d.get('command_id')}"
        return "; ".join(f"{key}: {_brief(value)}" for key, value in sorted(d.items()))

    @property
    def detail_json(self) -> str:
        """The whole detail as JSON, for scripts."""
        return json.dumps(self.detail, ensure_ascii=False, sort_keys=True)


def _brief(value: Any) -> str:
    """A detail value as plain words: lists as their items, mappings as ``key: value``."""
    if isinstance(value, list):
        return ", ".join(_brief(v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_brief(v)}" for k, v in value.items()) or "—"
    return "—" if value is None else str(value)


def one_line(text: str, width: int) -> str:
    """``text`` on one line (white space collapsed), cut to ``width`` characters with '…'."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def parse_since(value: str, now: datetime | None = None) -> str:
    """``--since`` as a UTC ISO time.

    Accepts a date, a date and time (local), ``today``, ``yesterday``, or an age such as
    ``3d``, ``2h``, ``30m``.
    """
    now = now or datetime.now(UTC)
    text = value.strip().casefold()
    relative = re.fullmatch(r"(\d+)\s*([dhm])", text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        delta = {
            "d": timedelta(days=amount),
            "h": timedelta(hours=amount),
            "m": timedelta(minutes=amount),
        }
        moment = now - delta[unit]
    elif text in ("today", "yesterday"):
        local = now.astimezone()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        moment = midnight - timedelta(days=1 if text == "yesterday" else 0)
    else:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(
                f"--since '{value}' is not a date (2025-03-01), a time (2025-03-01T14:00), "
                "today, yesterday, or an age like 3d, 2h, 30m"
            ) from None
        if moment.tzinfo is None:
            moment = moment.astimezone()  # a time without zone is the user's local time
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def log_entries(
    store: Store,
    *,
    coder: str | None = None,
    segment_id: int | None = None,
    since: str | None = None,
    code: str | None = None,
) -> list[LogEntry]:
    """Audit-log entries, oldest first; ``since`` as from :func:`parse_since`."""
    where, params = [], []
    if coder is not None:
        where.append("(a.coder = ? OR (a.coder IS NULL AND c.coder = ?))")
        params += [coder, coder]
    if segment_id is not None:
        where.append("a.segment_id = ?")
        params.append(segment_id)
    if since is not None:
        where.append("a.at >= ?")
        params.append(since)
    if code is not None:
        code = code.strip().strip("/")
        # The log may name codes a later codebook dropped: those count as known too.
        known = {
            *store.code_paths(active_only=False),
            *(r[0] for r in store.conn.execute("SELECT DISTINCT code_path FROM audit_log")),
        } - {None}
        if not any(k == code or k.startswith(code + "/") for k in known):
            from qualcode.recode import unknown_code_hint

            raise InputError(f"unknown code '{code}'{unknown_code_hint(code, sorted(known))}")
        where.append("(a.code_path = ? OR a.code_path LIKE ?)")
        params += [code, code + "/%"]
    sql = (
        "SELECT a.id, a.at, a.coder, a.action, a.segment_id, a.code_path, a.detail, a.command_id,"
        " c.command FROM audit_log a JOIN commands c ON c.id = a.command_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY a.id"
    )
    return [
        LogEntry(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6] or "{}"), r[7], r[8])
        for r in store.conn.execute(sql, params)
    ]


# -- undo ------------------------------------------------------------------------------------
@dataclass
class UndoResult:
    """What an undo reverted."""

    command_id: int
    command: str
    started_at: str
    reverted: list[LogEntry] = field(default_factory=list)
    undo_command_id: int | None = None


def undone_command_ids(store: Store) -> set[int]:
    """Ids of commands that an ``undo`` has reverted."""
    return {
        int(json.loads(detail)["command_id"])
        for (detail,) in store.conn.execute("SELECT detail FROM audit_log WHERE action = 'undo'")
    }


def last_undoable_command(store: Store, coder: str) -> tuple[int, str, str] | None:
    """``(id, command, started_at)`` of ``coder``'s last command that is not undone."""
    undone = undone_command_ids(store)
    rows = store.conn.execute(
        "SELECT c.id, c.command, c.started_at, group_concat(a.action, ' ') FROM commands c"
        " JOIN audit_log a ON a.command_id = c.id WHERE c.coder = ?"
        " GROUP BY c.id ORDER BY c.id DESC",
        (coder,),
    )
    for command_id, command, started, actions in rows:
        if command_id in undone or "undo" in actions.split():
            continue
        return int(command_id), command, started
    return None


def undo(store: Store, coder: str, command: str = "undo", *, dry_run: bool = False) -> UndoResult:
    """Revert ``coder``'s last not-yet-undone command exactly, as a new command.

    Every entry is checked first (the coding or memo must still be as the command left it); if
    anything changed since, nothing is reverted and the error says what.
    """
    found = last_undoable_command(store, coder)
    if found is None:
        raise QualcodeError(f"nothing to undo for coder '{coder}'")
    command_id, original, started = found
    entries = [e for e in log_entries(store) if e.command_id == command_id]
    result = UndoResult(command_id, original, started, reverted=entries)
    blocking = sorted({e.action for e in entries if e.action not in REVERSIBLE_ACTIONS})
    if blocking:
        raise QualcodeError(
            f"the last command by '{coder}' (#{command_id} '{original}') cannot be undone: "
            f"it did {', '.join(blocking)}"
        )
    for entry in entries:
        _check_still_in_effect(store, entry, command_id)
    if dry_run:
        return result
    with store.write(command, coder=coder) as tx:
        for entry in reversed(entries):
            _revert(store, tx, entry)
        tx.audit("undo", detail={"command_id": command_id, "command": original})
        result.undo_command_id = tx.command_id
    return result


def _coding_row(store: Store, entry: LogEntry) -> Any:
    """The coding an add/remove entry is about: by its row id when logged, else by its key."""
    coding_id = entry.detail.get("id")
    if coding_id is not None and entry.action == "add_coding":
        return store.conn.execute(
            "SELECT id, source, created_at FROM codings WHERE id = ?", (coding_id,)
        ).fetchone()
    start = entry.detail.get("quote_start")
    return store.conn.execute(
        "SELECT c.id, c.source, c.created_at FROM codings c JOIN codes k ON k.id = c.code_id"
        " JOIN coders d ON d.id = c.coder_id WHERE c.segment_id = ? AND k.path = ? AND d.name = ?"
        " AND ifnull(c.quote_start, -1) = ?",
        (entry.segment_id, entry.code_path, entry.coder, -1 if start is None else start),
    ).fetchone()


def _ids_added_by(store: Store, command_id: int) -> set[int]:
    return {
        int(json.loads(detail)["id"])
        for (detail,) in store.conn.execute(
            "SELECT detail FROM audit_log WHERE command_id = ? AND action = 'add_coding'",
            (command_id,),
        )
        if json.loads(detail).get("id") is not None
    }


def _check_still_in_effect(store: Store, entry: LogEntry, command_id: int) -> None:
    where = f"segment {entry.segment_id}, code {entry.code_path}"
    later = f"; it was changed after command #{command_id}, so that command cannot be undone"
    if entry.action == "add_coding":
        row = _coding_row(store, entry)
        # Removing the coding again is safe only if it is the very row the command added.
        if (
            row is None
            or row[2] != entry.detail.get("created_at")
            or row[1] != entry.detail.get("source")
        ):
            raise QualcodeError(f"{where} in {entry.coder}'s layer is not as it was left{later}")
    elif entry.action == "remove_coding":
        row = _coding_row(store, entry)
        # A passage merged into a wider one may leave a row at the same start: the command's own.
        if row is not None and row[0] not in _ids_added_by(store, command_id):
            raise QualcodeError(f"{where} is coded again in {entry.coder}'s layer{later}")
    elif entry.action == "add_memo":
        row = store.conn.execute(
            "SELECT text FROM memos WHERE id = ?", (entry.detail["id"],)
        ).fetchone()
        if row is None or row[0] != entry.detail.get("text"):
            raise QualcodeError(f"memo {entry.detail['id']} was changed or deleted{later}")
    elif entry.action == "remove_memo":
        if store.conn.execute("SELECT 1 FROM memos WHERE id = ?", (entry.detail["id"],)).fetchone():
            raise QualcodeError(f"memo id {entry.detail['id']} exists again{later}")
    elif entry.action == "rename_coder" and (
        store.coder_id(entry.detail["new"]) is None
        or store.coder_id(entry.detail["old"]) is not None
    ):
        raise QualcodeError(f"coder layer '{entry.detail['new']}' was renamed or replaced{later}")
    elif entry.action == "add_code":
        _check_code_still_new(store, entry, later)
    elif entry.action == "set_coding_memo":
        row = store.conn.execute(
            "SELECT memo FROM codings WHERE id = ?", (entry.detail["id"],)
        ).fetchone()
        if row is None or row[0] != entry.detail.get("new"):
            raise QualcodeError(f"the memo of coding {entry.detail['id']} was changed{later}")
    elif entry.action == "set_done":
        marked = store.conn.execute(
            "SELECT 1 FROM transcripts_done t JOIN coders d ON d.id = t.coder_id"
            " WHERE t.transcript_id = ? AND d.name = ?",
            (entry.detail["transcript_id"], entry.coder),
        ).fetchone()
        if bool(marked) != bool(entry.detail.get("new")):
            raise QualcodeError(
                f"transcript {entry.detail.get('transcript')} was marked again{later}"
            )
    elif entry.action == "set_setting" and (
        store.get_setting(entry.detail["key"]) != entry.detail.get("new")
    ):
        raise QualcodeError(f"the setting {entry.detail['key']} was changed again{later}")


def _revert(store: Store, tx: WriteTx, entry: LogEntry) -> None:
    d = entry.detail
    conn = tx.conn
    if entry.action == "add_coding":
        row = _coding_row(store, entry)
        if row is not None:
            store.remove_coding_by_id(tx, int(row[0]))
    elif entry.action == "remove_coding":
        _restore_coding(store, tx, entry)
    elif entry.action == "create_coder":
        coder_id = store.coder_id(d["coder"])
        used = conn.execute(
            "SELECT COUNT(*) FROM codings WHERE coder_id = ?", (coder_id,)
        ).fetchone()[0]
        if used:
            raise QualcodeError(
                f"coder layer '{d['coder']}' holds {used} codings added by later commands; "
                f"command #{entry.command_id} cannot be undone"
            )
        conn.execute("DELETE FROM coders WHERE id = ?", (coder_id,))
        tx.audit("remove_coder", detail={"coder": d["coder"], "kind": d.get("kind")})
    elif entry.action == "rename_coder":
        conn.execute("UPDATE coders SET name = ? WHERE name = ?", (d["old"], d["new"]))
        ids = d.get("memo_ids", [])
        conn.executemany("UPDATE memos SET coder = ? WHERE id = ?", [(d["old"], i) for i in ids])
        tx.audit("rename_coder", detail={"old": d["new"], "new": d["old"], "memo_ids": ids})
    elif entry.action == "set_done":
        store.set_done(tx, int(d["transcript_id"]), str(entry.coder), bool(d.get("old")))
    elif entry.action == "set_setting":
        key, old = d["key"], d.get("old")
        if old is None:
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))
        else:
            conn.execute(
                "UPDATE settings SET value = ? WHERE key = ?",
                (json.dumps(old, ensure_ascii=False), key),
            )
        tx.audit("set_setting", detail={"key": key, "old": d.get("new"), "new": old})
    elif entry.action == "add_memo":
        conn.execute("DELETE FROM memos WHERE id = ?", (d["id"],))
        tx.audit(
            "remove_memo",
            segment_id=entry.segment_id,
            code_path=entry.code_path,
            coder=entry.coder,
            detail=d,
        )
    elif entry.action == "remove_memo":
        code_id = store.code_id(entry.code_path) if entry.code_path else None
        conn.execute(
            "INSERT INTO memos (id, segment_id, code_id, coder, text, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (d["id"], entry.segment_id, code_id, entry.coder, d["text"], d["created_at"]),
        )
        tx.audit(
            "add_memo",
            segment_id=entry.segment_id,
            code_path=entry.code_path,
            coder=entry.coder,
            detail=d,
        )
    elif entry.action == "add_code":
        _remove_new_code(tx, entry)
    elif entry.action == "set_coding_memo":
        conn.execute("UPDATE codings SET memo = ? WHERE id = ?", (d.get("old"), d["id"]))
        tx.audit(
            "set_coding_memo",
            segment_id=entry.segment_id,
            code_path=entry.code_path,
            coder=entry.coder,
            detail={"id": d["id"], "old": d.get("new"), "new": d.get("old")},
        )
    # review markers: the undo entry itself makes the decision count as not taken


def _check_code_still_new(store: Store, entry: LogEntry, later: str) -> None:
    """A code added while reading can be taken back while nothing uses it and no codebook came after."""
    path = entry.code_path
    if store.code_id(str(path)) is None:
        raise QualcodeError(f"code {path} no longer exists{later}")
    used = store.conn.execute(
        "SELECT COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id WHERE k.path = ?",
        (path,),
    ).fetchone()[0]
    used += store.conn.execute(
        "SELECT COUNT(*) FROM memos m JOIN codes k ON k.id = m.code_id WHERE k.path = ?", (path,)
    ).fetchone()[0]
    if used:
        raise QualcodeError(f"code {path} holds {used} codings or memos{later}")
    children = store.conn.execute(
        "SELECT COUNT(*) FROM codes WHERE parent_id = (SELECT id FROM codes WHERE path = ?)",
        (path,),
    ).fetchone()[0]
    last = store.conn.execute("SELECT MAX(id) FROM codebook_versions").fetchone()[0]
    if children or last != entry.detail.get("version_id"):
        raise QualcodeError(f"the codebook was changed after code {path} was added{later}")


def _remove_new_code(tx: WriteTx, entry: LogEntry) -> None:
    d = entry.detail
    tx.conn.execute("DELETE FROM codes WHERE path = ?", (entry.code_path,))
    tx.conn.execute("DELETE FROM codebook_versions WHERE id = ?", (d["version_id"],))
    for path, old, _new in d.get("shifted", []):
        tx.conn.execute("UPDATE codes SET sort_order = ? WHERE path = ?", (old, path))
    tx.audit("remove_code", code_path=entry.code_path, detail=d)


def _restore_coding(store: Store, tx: WriteTx, entry: LogEntry) -> None:
    d = entry.detail
    code_id = store.code_id(str(entry.code_path))
    coder_id = store.coder_id(str(entry.coder))
    if code_id is None or coder_id is None:
        raise QualcodeError(
            f"code {entry.code_path} or coder {entry.coder} no longer exists; "
            f"command #{entry.command_id} cannot be undone"
        )
    # The original id when the log has it (AUTOINCREMENT never reuses it, so it is free).
    tx.conn.execute(
        "INSERT INTO codings (id, segment_id, code_id, coder_id, source, negated, evidence, memo,"
        " created_at, quote_start, quote_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            d.get("id"),
            entry.segment_id,
            code_id,
            coder_id,
            d["source"],
            int(bool(d.get("negated"))),
            d.get("evidence_json") or json.dumps(d.get("evidence") or [], ensure_ascii=False),
            d.get("memo"),
            d["created_at"],
            d.get("quote_start"),
            d.get("quote_end"),
        ),
    )
    tx.audit(
        "add_coding",
        segment_id=entry.segment_id,
        code_path=entry.code_path,
        coder=entry.coder,
        detail={
            k: d.get(k)
            for k in (
                "id", "source", "negated", "evidence", "memo", "created_at", "quote_start",
                "quote_end",
            )
            if k in d
        },
    )
