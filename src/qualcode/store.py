"""The project store: one SQLite database per project folder.

Every write goes through :meth:`Store.write`, which opens one ``BEGIN IMMEDIATE`` transaction,
records the command in ``commands`` and lets the caller append to the audit log. Either the whole
command lands or nothing does, so an interrupted or failing command never leaves half its work.
"""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qualcode.errors import ProjectError

DB_NAME = "qualcode.db"
SCHEMA_VERSION = 6
BUSY_TIMEOUT_SECONDS = 60.0
AUTO_CODER = "auto"
DEFAULT_INTERVIEWER_LABELS = ("I", "Int", "Intervjuer", "Interviewer", "Q")

_SCHEMA_V1 = """
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL            -- JSON
);

CREATE TABLE respondents (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    label TEXT NOT NULL UNIQUE     -- the pseudonym used in quotes, e.g. R7
);

CREATE TABLE respondent_attributes (
    respondent_id INTEGER NOT NULL REFERENCES respondents(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (respondent_id, name)
);

CREATE TABLE transcripts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    respondent_id INTEGER NOT NULL REFERENCES respondents(id),
    name          TEXT NOT NULL UNIQUE,   -- source file name, e.g. R7_nordvik.docx
    format        TEXT NOT NULL,          -- txt, md, docx, vtt, srt, qdpx
    sha256        TEXT NOT NULL,
    text          TEXT NOT NULL,          -- normalised text; segments point into it
    imported_at   TEXT NOT NULL
);

CREATE TABLE segments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
    respondent_id INTEGER NOT NULL REFERENCES respondents(id),
    position      INTEGER NOT NULL,       -- 1-based order of the turn in its transcript
    speaker       TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('respondent', 'interviewer', 'other')),
    char_start    INTEGER NOT NULL,
    char_end      INTEGER NOT NULL,
    start_time    REAL,                   -- seconds from the start of the recording
    end_time      REAL,
    text          TEXT NOT NULL,          -- equals transcripts.text[char_start:char_end]
    CHECK (char_start <= char_end)
);
CREATE INDEX segments_by_transcript ON segments (transcript_id, position);
CREATE INDEX segments_by_respondent ON segments (respondent_id);

CREATE TABLE codebook_versions (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    source_path TEXT,
    sha256      TEXT NOT NULL,
    content     TEXT NOT NULL,            -- the YAML exactly as loaded
    loaded_at   TEXT NOT NULL
);

CREATE TABLE codes (
    id                 INTEGER PRIMARY KEY,
    path               TEXT NOT NULL UNIQUE,   -- e.g. tillit/åpenhet
    parent_id          INTEGER REFERENCES codes(id),
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    color              TEXT,
    sort_order         INTEGER NOT NULL DEFAULT 0,
    active             INTEGER NOT NULL DEFAULT 1,  -- 0: no longer in the current codebook
    codebook_version_id INTEGER REFERENCES codebook_versions(id)
);

CREATE TABLE coders (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL DEFAULT 'human' CHECK (kind IN ('auto', 'human')),
    created_at TEXT NOT NULL
);

CREATE TABLE codings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    code_id    INTEGER NOT NULL REFERENCES codes(id),
    coder_id   INTEGER NOT NULL REFERENCES coders(id),
    source     TEXT NOT NULL CHECK (source IN ('auto', 'manual')),
    negated    INTEGER NOT NULL DEFAULT 0,
    evidence   TEXT NOT NULL DEFAULT '[]',     -- JSON list of matches
    memo       TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (segment_id, code_id, coder_id)
);
CREATE INDEX codings_by_coder ON codings (coder_id, code_id);
CREATE INDEX codings_by_code ON codings (code_id);

CREATE TABLE memos (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    segment_id INTEGER REFERENCES segments(id),
    code_id    INTEGER REFERENCES codes(id),
    coder      TEXT,
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK ((segment_id IS NULL) <> (code_id IS NULL))
);

CREATE TABLE commands (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    command    TEXT NOT NULL,           -- the command line, e.g. "recode 12 --add tillit"
    coder      TEXT,
    started_at TEXT NOT NULL
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id INTEGER NOT NULL REFERENCES commands(id),
    at         TEXT NOT NULL,
    coder      TEXT,
    action     TEXT NOT NULL,           -- e.g. add_coding, remove_coding, ingest, replace_lost
    segment_id INTEGER,                 -- no foreign key: the log outlives replaced segments
    code_path  TEXT,
    detail     TEXT NOT NULL DEFAULT '{}'  -- JSON with everything needed to undo
);
CREATE INDEX audit_by_command ON audit_log (command_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run SQL statements one by one inside the caller's transaction.

    ``executescript`` would commit the open transaction first, so a failing migration could
    leave a half-built schema behind.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement[:60]}")


def _migrate_0_to_1(conn: sqlite3.Connection) -> None:
    _execute_script(conn, _SCHEMA_V1)


_CODINGS_V2 = """
CREATE TABLE codings_v2 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    segment_id  INTEGER NOT NULL REFERENCES segments(id),
    code_id     INTEGER NOT NULL REFERENCES codes(id),
    coder_id    INTEGER NOT NULL REFERENCES coders(id),
    source      TEXT NOT NULL CHECK (source IN ('auto', 'manual')),
    negated     INTEGER NOT NULL DEFAULT 0,
    evidence    TEXT NOT NULL DEFAULT '[]',     -- JSON list of matches
    memo        TEXT,
    created_at  TEXT NOT NULL,
    quote_start INTEGER,                        -- a passage: offsets into the segment's text;
    quote_end   INTEGER,                        -- both NULL: the whole turn
    CHECK ((quote_start IS NULL) = (quote_end IS NULL)),
    CHECK (quote_start IS NULL OR (quote_start >= 0 AND quote_start < quote_end))
);
INSERT INTO codings_v2 (id, segment_id, code_id, coder_id, source, negated, evidence, memo,
                        created_at)
    SELECT id, segment_id, code_id, coder_id, source, negated, evidence, memo, created_at
    FROM codings;
DROP TABLE codings;
ALTER TABLE codings_v2 RENAME TO codings;
-- Passages of one code by one coder in one turn never overlap (they merge), so the start
-- identifies one; -1 stands for the whole turn.
CREATE UNIQUE INDEX codings_unique ON codings (segment_id, code_id, coder_id, ifnull(quote_start, -1));
CREATE INDEX codings_by_coder ON codings (coder_id, code_id);
CREATE INDEX codings_by_code ON codings (code_id);

CREATE TABLE transcripts_done (
    transcript_id INTEGER NOT NULL REFERENCES transcripts(id) ON DELETE CASCADE,
    coder_id      INTEGER NOT NULL REFERENCES coders(id) ON DELETE CASCADE,
    marked_at     TEXT NOT NULL,
    PRIMARY KEY (transcript_id, coder_id)
);
"""


_SCHEMA_REFI_INTERCHANGE = """
ALTER TABLE codes ADD COLUMN guid TEXT;
ALTER TABLE codes ADD COLUMN codable INTEGER NOT NULL DEFAULT 1;
ALTER TABLE coders ADD COLUMN guid TEXT;
ALTER TABLE respondents ADD COLUMN guid TEXT;
ALTER TABLE respondents ADD COLUMN memo TEXT;
ALTER TABLE transcripts ADD COLUMN guid TEXT;
ALTER TABLE transcripts ADD COLUMN memo TEXT;
CREATE TABLE attribute_types (
    name  TEXT PRIMARY KEY,            -- an attribute name as respondent_attributes has it
    type  TEXT CHECK (type IS NULL
                      OR type IN ('Text', 'Boolean', 'Integer', 'Float', 'Date', 'DateTime')),
    label TEXT                         -- the name as another tool spelled it ("Bransje")
);
"""


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Passages (codings may cover part of a turn) and per-coder progress ("done" marks).

    The codings table is rebuilt, since SQLite cannot change a UNIQUE constraint; row ids and the
    AUTOINCREMENT counter are kept, so the audit log's ids still name the same codings. Transcripts
    a coder had "seen" under the old rule (a coding there now, or listed by a layer file) are
    marked done, so the figures of an existing project do not change with the upgrade.
    """
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'codings'").fetchone()
    _execute_script(conn, _CODINGS_V2)
    if row is not None:
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'codings'")
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('codings', ?)", (row[0],))
    stamp = now_iso()
    conn.execute(
        "INSERT OR IGNORE INTO transcripts_done (transcript_id, coder_id, marked_at)"
        " SELECT DISTINCT s.transcript_id, c.coder_id, ? FROM codings c"
        " JOIN segments s ON s.id = c.segment_id JOIN coders d ON d.id = c.coder_id"
        " WHERE d.kind = 'human'",
        (stamp,),
    )
    undone = {
        int(json.loads(detail).get("command_id", 0))
        for (detail,) in conn.execute("SELECT detail FROM audit_log WHERE action = 'undo'")
    }
    for command_id, transcript_id, coder_id in conn.execute(
        "SELECT a.command_id, s.transcript_id, d.id FROM audit_log a"
        " JOIN segments s ON s.id = a.segment_id JOIN coders d ON d.name = a.coder"
        " WHERE a.action = 'review'"
        " AND json_extract(a.detail, '$.decision') IN ('accept', 'reject', 'change')"
    ).fetchall():
        if command_id not in undone:
            conn.execute(
                "INSERT OR IGNORE INTO transcripts_done (transcript_id, coder_id, marked_at)"
                " VALUES (?, ?, ?)",
                (transcript_id, coder_id, stamp),
            )
    listed = conn.execute("SELECT value FROM settings WHERE key = 'coded_transcripts'").fetchone()
    layers = json.loads(listed[0]) if listed else {}
    for coder, names in (layers.items() if isinstance(layers, dict) else []):
        for name in names if isinstance(names, list) else []:
            conn.execute(
                "INSERT OR IGNORE INTO transcripts_done (transcript_id, coder_id, marked_at)"
                " SELECT t.id, d.id, ? FROM transcripts t, coders d WHERE t.name = ? AND d.name = ?",
                (stamp, name, coder),
            )


def _migrate_refi_interchange(conn: sqlite3.Connection) -> None:
    """REFI-QDA interchange keeps what other tools give us.

    GUIDs of codes, coder layers, respondents (cases) and transcripts (sources), so the other tool
    recognises them when the file comes back; ``codes.codable`` (REFI ``isCodable``: 0 for a
    category that only groups codes); descriptions of respondents and transcripts (``memo``); the
    declared type of an attribute (REFI ``typeOfVariable``) and its name as the other tool wrote
    it (attribute names stay case-folded, as everywhere in qualcode). Existing rows get no GUID
    (one is derived on export, as before) and stay codable.
    """
    _execute_script(conn, _SCHEMA_REFI_INTERCHANGE)


def _migrate_neutral_respondent_labels(conn: sqlite3.Connection) -> None:
    """Rename respondents that an earlier release named after a transcript's file
    (``R1_haugland``, from ``R1_haugland.txt`` without a respondents.csv row) to a neutral label:
    the id that starts the file name (``R1``), else the next free ``R<n>``. File names often hold
    a firm's name, which then reached every report. A respondent with attributes (from a
    respondents.csv) keeps the label it was given; codings belong to segments and are untouched.
    """
    from qualcode.respondent_labels import neutral_labels

    labels = {r[0]: r[1] for r in conn.execute("SELECT id, label FROM respondents")}
    described = {
        r[0] for r in conn.execute("SELECT DISTINCT respondent_id FROM respondent_attributes")
    }
    named_after: dict[int, Path] = {}
    for respondent, name in conn.execute("SELECT respondent_id, name FROM transcripts ORDER BY id"):
        label = labels.get(respondent)
        if label is not None and respondent not in described and label == Path(name).stem:
            named_after.setdefault(respondent, Path(name))
    if not named_after:
        return
    kept = [label for rid, label in labels.items() if rid not in named_after]
    new = neutral_labels(list(named_after.values()), taken=kept, share_ids=False)
    for respondent, file in named_after.items():
        conn.execute("UPDATE respondents SET label = ? WHERE id = ?", (new[file], respondent))


def _migrate_add_segment_tokens(conn: sqlite3.Connection) -> None:
    """Keep each turn's token offsets (``segment_tokens``, see :mod:`qualcode.tokens`).

    The table starts empty: the turns of an existing store are tokenized once, on first need,
    so opening an old store stays instant and never imports spaCy.
    """
    _execute_script(
        conn,
        """
CREATE TABLE IF NOT EXISTS segment_tokens (
    segment_id INTEGER PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
    spans      BLOB NOT NULL            -- token offsets, see qualcode.tokens
);
""",
    )


def _migrate_add_word_types(conn: sqlite3.Connection) -> None:
    """Keep the analysis of each word type (``word_types``, see :mod:`qualcode.word_analyses`).

    The tables start empty and without a version key: the words of an existing store are
    analysed once, on first need, so opening an old store stays instant.
    """
    _execute_script(
        conn,
        """
CREATE TABLE IF NOT EXISTS word_types (
    word     TEXT PRIMARY KEY,          -- lower-case word type, as the tokens are sliced
    known    INTEGER NOT NULL,          -- 1: a form the lexicon knows
    parts    INTEGER NOT NULL,          -- number of compound parts (0: no compound)
    probe    TEXT,                      -- form compared for slips, NULL if no candidate
    edits    INTEGER NOT NULL,          -- edits a slip of the word may have (with a probe)
    analysis TEXT NOT NULL              -- JSON, see qualcode.word_analyses
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS word_lemmas (
    lemma TEXT NOT NULL,
    part  INTEGER NOT NULL,             -- 0: a lemma of the word, 1: of a compound part
    word  TEXT NOT NULL,
    PRIMARY KEY (lemma, part, word)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS word_types_key (
    key TEXT PRIMARY KEY                -- lexicon and analysis version of the rows
) WITHOUT ROWID;
""",
    )


#: ``MIGRATIONS[n]`` takes a store from schema version ``n`` to ``n + 1``.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migrate_0_to_1,
    _migrate_1_to_2,
    _migrate_refi_interchange,
    _migrate_neutral_respondent_labels,
    _migrate_add_segment_tokens,
    _migrate_add_word_types,
]
assert len(MIGRATIONS) == SCHEMA_VERSION


def now_iso() -> str:
    """The current time in UTC as an ISO 8601 string with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def find_project(explicit: str | Path | None = None, start: str | Path | None = None) -> Path:
    """The project folder: ``explicit`` if given, else the nearest folder upwards holding the store."""
    if explicit is not None:
        folder = Path(explicit)
        if not (folder / DB_NAME).is_file():
            raise ProjectError(
                f"not a qualcode project (no {DB_NAME}); create one with 'qualcode init'",
                path=folder,
            )
        return folder
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DB_NAME).is_file():
            return folder
    raise ProjectError(
        f"no qualcode project here or above (no {DB_NAME}); "
        "run 'qualcode init' or pass --project DIR",
        path=here,
    )


@dataclass
class WriteTx:
    """One write command in progress: the connection and the command's audit-log id."""

    conn: sqlite3.Connection
    command_id: int
    coder: str | None

    def audit(
        self,
        action: str,
        *,
        segment_id: int | None = None,
        code_path: str | None = None,
        detail: dict[str, Any] | None = None,
        coder: str | None = None,
    ) -> None:
        """Append one entry to the audit log of this command."""
        self.conn.execute(
            "INSERT INTO audit_log (command_id, at, coder, action, segment_id, code_path, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self.command_id,
                now_iso(),
                coder if coder is not None else self.coder,
                action,
                segment_id,
                code_path,
                json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
            ),
        )


class Store:
    """An open project store. Use :func:`open_store` or :func:`create_store` to get one."""

    def __init__(self, folder: Path, conn: sqlite3.Connection):
        self.folder = folder
        self.path = folder / DB_NAME
        self.conn = conn
        #: Set when opening upgraded a store made by an older qualcode: (its schema version, the
        #: copy of it kept beside the store, or None if none could be written).
        self.upgraded_from: tuple[int, Path | None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ------------------------------------------------------------------------
    @contextmanager
    def write(self, command: str, coder: str | None = None) -> Iterator[WriteTx]:
        """Run one command's writes in a single transaction, logged in ``commands``.

        ``BEGIN IMMEDIATE`` takes the write lock at once, so two processes queue up (within the
        busy timeout) instead of failing halfway through.
        """
        conn = self.conn
        if conn.in_transaction:
            raise RuntimeError("nested write transactions are not supported")
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "INSERT INTO commands (command, coder, started_at) VALUES (?, ?, ?)",
                (command, coder, now_iso()),
            )
            yield WriteTx(conn=conn, command_id=int(cur.lastrowid or 0), coder=coder)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # -- settings ----------------------------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        """A project setting (JSON-decoded), or ``default``."""
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, tx: WriteTx, key: str, value: Any) -> None:
        """Set a project setting inside a write transaction and log it."""
        old = self.get_setting(key)
        tx.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, ensure_ascii=False)),
        )
        tx.audit("set_setting", detail={"key": key, "old": old, "new": value})

    def interviewer_labels(self) -> list[str]:
        """Speaker labels treated as the interviewer in this project."""
        return list(self.get_setting("interviewer_labels", list(DEFAULT_INTERVIEWER_LABELS)))

    # -- lookups -----------------------------------------------------------------------------
    def respondent_id(self, label: str) -> int | None:
        """The id of respondent ``label``, or None."""
        row = self.conn.execute("SELECT id FROM respondents WHERE label = ?", (label,)).fetchone()
        return None if row is None else int(row[0])

    def code_id(self, path: str) -> int | None:
        """The id of the code with this path, or None."""
        row = self.conn.execute("SELECT id FROM codes WHERE path = ?", (path,)).fetchone()
        return None if row is None else int(row[0])

    def coder_id(self, name: str) -> int | None:
        """The id of coder layer ``name``, or None."""
        row = self.conn.execute("SELECT id FROM coders WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def ensure_coder(self, tx: WriteTx, name: str) -> int:
        """The id of coder layer ``name``, created if it does not exist yet."""
        existing = self.coder_id(name)
        if existing is not None:
            return existing
        kind = "auto" if name == AUTO_CODER else "human"
        cur = tx.conn.execute(
            "INSERT INTO coders (name, kind, created_at) VALUES (?, ?, ?)", (name, kind, now_iso())
        )
        tx.audit("create_coder", detail={"coder": name, "kind": kind})
        return int(cur.lastrowid or 0)

    def code_paths(self, active_only: bool = True) -> list[str]:
        """All code paths in codebook order."""
        sql = "SELECT path FROM codes"
        if active_only:
            sql += " WHERE active = 1"
        sql += " ORDER BY sort_order, path"
        return [r[0] for r in self.conn.execute(sql)]

    # -- respondents --------------------------------------------------------------------------
    def ensure_respondent(self, tx: WriteTx, label: str) -> int:
        """The id of respondent ``label``, created (and logged) if new."""
        existing = self.respondent_id(label)
        if existing is not None:
            return existing
        cur = tx.conn.execute("INSERT INTO respondents (label) VALUES (?)", (label,))
        tx.audit("add_respondent", detail={"respondent": label})
        return int(cur.lastrowid or 0)

    def set_attribute(self, tx: WriteTx, label: str, name: str, value: str) -> str | None:
        """Set one attribute of an existing respondent (empty ``value`` removes it).

        Logs the change and returns the old value; writes nothing when the value is unchanged.
        """
        rid = self.respondent_id(label)
        if rid is None:
            raise ValueError(f"no respondent {label!r}")
        row = tx.conn.execute(
            "SELECT value FROM respondent_attributes WHERE respondent_id = ? AND name = ?",
            (rid, name),
        ).fetchone()
        old = None if row is None else row[0]
        if old == (value or None):
            return old
        if value:
            tx.conn.execute(
                "INSERT INTO respondent_attributes (respondent_id, name, value) VALUES (?, ?, ?)"
                " ON CONFLICT(respondent_id, name) DO UPDATE SET value = excluded.value",
                (rid, name, value),
            )
        else:
            tx.conn.execute(
                "DELETE FROM respondent_attributes WHERE respondent_id = ? AND name = ?",
                (rid, name),
            )
        tx.audit(
            "set_attribute",
            detail={"respondent": label, "name": name, "old": old, "new": value or None},
        )
        return old

    # -- codes and codings ------------------------------------------------------------------
    def upsert_code(
        self,
        tx: WriteTx,
        path: str,
        *,
        name: str | None = None,
        description: str = "",
        color: str | None = None,
        sort_order: int = 0,
        codebook_version_id: int | None = None,
        guid: str | None = None,
        codable: bool = True,
    ) -> int:
        """Create or update the code at ``path`` (its parent must exist first); returns its id.

        ``guid`` (from a REFI-QDA file or a codebook's ``guid:``) replaces the stored one only when
        given; ``codable`` False marks a category that codings cannot use.
        """
        parent_path, _, leaf = path.rpartition("/")
        parent_id = self.code_id(parent_path) if parent_path else None
        if parent_path and parent_id is None:
            raise ValueError(f"parent code {parent_path!r} of {path!r} does not exist")
        tx.conn.execute(
            "INSERT INTO codes (path, parent_id, name, description, color, sort_order, active,"
            " codebook_version_id, guid, codable) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)"
            " ON CONFLICT(path) DO UPDATE SET parent_id = excluded.parent_id, name = excluded.name,"
            " description = excluded.description, color = excluded.color,"
            " sort_order = excluded.sort_order, active = 1,"
            " codebook_version_id = excluded.codebook_version_id,"
            " guid = COALESCE(excluded.guid, codes.guid), codable = excluded.codable",
            (
                path,
                parent_id,
                name or leaf,
                description,
                color,
                sort_order,
                codebook_version_id,
                guid,
                int(codable),
            ),
        )
        return int(self.code_id(path) or 0)

    def add_coding(
        self,
        tx: WriteTx,
        segment_id: int,
        code_path: str,
        coder: str,
        *,
        source: str = "manual",
        negated: bool = False,
        evidence: list[dict[str, Any]] | None = None,
        memo: str | None = None,
        quote: tuple[int, int] | None = None,
    ) -> bool:
        """Give ``segment_id`` the code in ``coder``'s layer; False if it already had it.

        ``quote`` is a passage ``(start, end)`` in the segment's text; None codes the whole turn.
        A passage that overlaps or touches one of the same code and coder merges with it, and a
        passage inside a whole-turn coding changes nothing; a whole-turn coding absorbs the
        passages. Memos of merged codings are kept, joined. Every row written or removed is in
        the audit log, so the change can be undone exactly.
        """
        code_id = self.code_id(code_path)
        if code_id is None:
            raise ValueError(f"unknown code {code_path!r}")
        coder_id = self.ensure_coder(tx, coder)
        if quote is not None:
            quote = self._checked_quote(tx, segment_id, quote)
        existing = tx.conn.execute(
            "SELECT id, quote_start, quote_end, memo FROM codings"
            " WHERE segment_id = ? AND code_id = ? AND coder_id = ?",
            (segment_id, code_id, coder_id),
        ).fetchall()
        if any(row[1] is None for row in existing):
            return False  # the whole turn holds the code already
        if quote is None:
            merged = existing
        else:
            start, end = quote
            merged = [row for row in existing if row[1] <= end and start <= row[2]]
            if any(row[1] <= start and end <= row[2] for row in merged):
                return False  # inside a passage coded already
            for row in merged:
                start, end = min(start, row[1]), max(end, row[2])
            quote = (start, end)
        memos = [row[3] for row in merged if row[3] and row[3].strip()]
        if memo and memo.strip():
            memos.append(memo)
        for row in merged:
            self._delete_coding(tx, row[0])
        created = now_iso()
        evidence_json = json.dumps(evidence or [], ensure_ascii=False)
        memo_text = "\n".join(dict.fromkeys(memos)) or None
        q_start, q_end = quote if quote is not None else (None, None)
        cur = tx.conn.execute(
            "INSERT INTO codings (segment_id, code_id, coder_id, source, negated, evidence,"
            " memo, created_at, quote_start, quote_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                segment_id,
                code_id,
                coder_id,
                source,
                int(negated),
                evidence_json,
                memo_text,
                created,
                q_start,
                q_end,
            ),
        )
        tx.audit(
            "add_coding",
            segment_id=segment_id,
            code_path=code_path,
            coder=coder,
            detail={
                "id": int(cur.lastrowid or 0),
                "source": source,
                "negated": bool(negated),
                "evidence": evidence or [],
                "memo": memo_text,
                "created_at": created,
                "quote_start": q_start,
                "quote_end": q_end,
            },
        )
        return True

    def _checked_quote(self, tx: WriteTx, segment_id: int, quote: tuple[int, int]) -> tuple[int, int] | None:
        """The passage as stored: None when it covers the whole turn; ValueError outside it."""
        row = tx.conn.execute("SELECT length(text) FROM segments WHERE id = ?", (segment_id,)).fetchone()
        if row is None:
            raise ValueError(f"no segment {segment_id}")
        start, end = int(quote[0]), int(quote[1])
        if not 0 <= start < end <= row[0]:
            raise ValueError(
                f"passage {start}:{end} is outside segment {segment_id} (0:{row[0]})"
            )
        return None if (start, end) == (0, row[0]) else (start, end)

    def remove_coding(
        self,
        tx: WriteTx,
        segment_id: int,
        code_path: str,
        coder: str,
        *,
        quote_start: int | None = None,
    ) -> bool:
        """Take the code off ``segment_id`` in ``coder``'s layer; False if it was not there.

        Without ``quote_start`` every coding of the code on the turn goes (the whole turn and its
        passages); with it, the passage starting there. The audit entry holds each removed row,
        so the change can be undone exactly.
        """
        sql = (
            "SELECT c.id FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id"
            " WHERE c.segment_id = ? AND k.path = ? AND d.name = ?"
        )
        params: list[Any] = [segment_id, code_path, coder]
        if quote_start is not None:
            sql += " AND c.quote_start = ?"
            params.append(quote_start)
        ids = [r[0] for r in tx.conn.execute(sql + " ORDER BY c.id", params).fetchall()]
        for coding_id in ids:
            self._delete_coding(tx, coding_id)
        return bool(ids)

    def remove_coding_by_id(self, tx: WriteTx, coding_id: int) -> bool:
        """Remove one coding row by its id (logged for undo); False if there is none."""
        return self._delete_coding(tx, coding_id)

    def _delete_coding(self, tx: WriteTx, coding_id: int) -> bool:
        row = tx.conn.execute(
            "SELECT c.id, c.segment_id, k.path, d.name, c.source, c.negated, c.evidence, c.memo,"
            " c.created_at, c.quote_start, c.quote_end FROM codings c"
            " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id WHERE c.id = ?",
            (coding_id,),
        ).fetchone()
        if row is None:
            return False
        tx.conn.execute("DELETE FROM codings WHERE id = ?", (coding_id,))
        tx.audit(
            "remove_coding",
            segment_id=row[1],
            code_path=row[2],
            coder=row[3],
            detail={
                "id": row[0],
                "source": row[4],
                "negated": bool(row[5]),
                "evidence": json.loads(row[6]),
                "evidence_json": row[6],
                "memo": row[7],
                "created_at": row[8],
                "quote_start": row[9],
                "quote_end": row[10],
            },
        )
        return True

    # -- progress ----------------------------------------------------------------------------
    def set_done(self, tx: WriteTx, transcript_id: int, coder: str, done: bool = True) -> bool:
        """Mark (or unmark) a transcript as done by ``coder``; False if it already was so.

        Logged as ``set_done`` with the old and new state, so undo can put it back.
        """
        coder_id = self.ensure_coder(tx, coder)
        was = tx.conn.execute(
            "SELECT 1 FROM transcripts_done WHERE transcript_id = ? AND coder_id = ?",
            (transcript_id, coder_id),
        ).fetchone() is not None
        if was == done:
            return False
        name = tx.conn.execute(
            "SELECT name FROM transcripts WHERE id = ?", (transcript_id,)
        ).fetchone()
        if name is None:
            raise ValueError(f"no transcript {transcript_id}")
        if done:
            tx.conn.execute(
                "INSERT INTO transcripts_done (transcript_id, coder_id, marked_at) VALUES (?, ?, ?)",
                (transcript_id, coder_id, now_iso()),
            )
        else:
            tx.conn.execute(
                "DELETE FROM transcripts_done WHERE transcript_id = ? AND coder_id = ?",
                (transcript_id, coder_id),
            )
        tx.audit(
            "set_done",
            coder=coder,
            detail={"transcript_id": transcript_id, "transcript": name[0], "old": was, "new": done},
        )
        return True

    # -- inspection --------------------------------------------------------------------------
    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, sorted: for tests that the store is exactly unchanged."""
        tables = [
            r[0]
            for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " ORDER BY name"
            )
        ]
        return {
            t: sorted(self.conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
            for t in tables
        }


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so Python never opens
    # implicit transactions behind our back.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: a commit survives a power cut, not only a crash of this process.
    conn.execute("PRAGMA synchronous = FULL")
    # A large page cache keeps a big ingest's transaction from spilling to disk halfway.
    conn.execute("PRAGMA cache_size = -65536")
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> tuple[int, Path | None] | None:
    """Bring the store to :data:`SCHEMA_VERSION` in one transaction.

    Returns, for a store made by an older qualcode, its version and the copy of it kept first
    (see :func:`_keep_copy`); None if nothing was upgraded.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"the store has schema version {version}, newer than this qualcode "
            f"understands ({SCHEMA_VERSION}); upgrade qualcode",
            path=path,
        )
    if version == SCHEMA_VERSION:
        return None
    copy = _keep_copy(conn, path, version) if version > 0 else None
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the lock: another process may have migrated meanwhile.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return (version, copy) if version > 0 else None


def _keep_copy(conn: sqlite3.Connection, path: Path, version: int) -> Path | None:
    """A copy of a store made by an older qualcode, written beside it before it is upgraded.

    The upgrade itself is one transaction and never half done; the copy is for going back to
    the older qualcode, which cannot open the upgraded store. Written once per old version
    (SQLite's backup: a consistent copy even while another process reads). None if it cannot
    be written; the upgrade goes on, as safe as before.
    """
    copy = path.with_name(f"{path.name}.format-{version}.bak")
    if copy.exists():
        return copy
    tmp = copy.with_name(f"{copy.name}.{os.getpid()}.tmp")
    try:
        target = sqlite3.connect(tmp)
        try:
            conn.backup(target)
        finally:
            target.close()
        os.replace(tmp, copy)
    except (sqlite3.Error, OSError):
        tmp.unlink(missing_ok=True)
        return None
    return copy


def open_store(folder: str | Path) -> Store:
    """Open the store of an existing project folder, migrating its schema if needed."""
    folder = Path(folder)
    path = folder / DB_NAME
    if not path.is_file():
        raise ProjectError(f"no {DB_NAME} in this folder; run 'qualcode init'", path=folder)
    try:
        conn = _connect(path)
        upgraded = _migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"the store cannot be opened: {exc}", path=path) from None
    store = Store(folder, conn)
    store.upgraded_from = upgraded
    return store


def create_store(folder: str | Path) -> Store:
    """Create a project folder with an empty store (or open the existing one)."""
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise ProjectError("exists and is not a folder", path=folder)
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        # A missing parent, a file in the way, no permission, a read-only disk: the user's to fix.
        raise ProjectError(
            f"cannot create the project folder: {exc.strerror or exc}", path=folder
        ) from None
    path = folder / DB_NAME
    try:
        conn = _connect(path)
        upgraded = _migrate(conn, path)
    except (sqlite3.DatabaseError, OSError) as exc:
        raise ProjectError(f"the store cannot be created: {exc}", path=path) from None
    store = Store(folder, conn)
    store.upgraded_from = upgraded
    return store


def command_line() -> str:
    """The command line as typed, quoting kept (``--memo "two words"``), for the audit log."""
    return shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "qualcode"


def default_coder(store: Store | None = None) -> str | None:
    """The coder from ``QUALCODE_CODER`` or, failing that, the project's default coder."""
    env = os.environ.get("QUALCODE_CODER")
    if env:
        return env
    if store is not None:
        return store.get_setting("default_coder")
    return None
