"""The REFI interchange migration on a store made by the previous release (tests/data/store_v1.db)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from qualcode.refiqda import export_qdpx
from qualcode.store import DB_NAME, SCHEMA_VERSION, open_store

STORE_V1 = Path(__file__).resolve().parents[1] / "data" / "store_v1.db"


def test_a_previous_release_store_gains_guids_codable_memos_and_types(tmp_path: Path) -> None:
    shutil.copy(STORE_V1, tmp_path / DB_NAME)  # a copy: the file itself stays as released
    with sqlite3.connect(tmp_path / DB_NAME) as raw:
        before_codes = raw.execute("SELECT path, name FROM codes ORDER BY path").fetchall()
        before_codings = raw.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
    with open_store(tmp_path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        for table, column in (
            ("codes", "guid"),
            ("codes", "codable"),
            ("coders", "guid"),
            ("respondents", "guid"),
            ("respondents", "memo"),
            ("transcripts", "guid"),
            ("transcripts", "memo"),
        ):
            columns = {r[1] for r in store.conn.execute(f"PRAGMA table_info({table})")}
            assert column in columns, (table, column)
        assert (
            store.conn.execute("SELECT path, name FROM codes ORDER BY path").fetchall()
            == before_codes
        )
        assert store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == before_codings
        # Every existing code stays codable and gets its GUID derived on export, as before.
        assert store.conn.execute("SELECT COUNT(*) FROM codes WHERE codable = 0").fetchone() == (0,)
        assert store.conn.execute(
            "SELECT COUNT(*) FROM codes WHERE guid IS NOT NULL"
        ).fetchone() == (0,)
        assert store.conn.execute("SELECT COUNT(*) FROM attribute_types").fetchone() == (0,)
        if before_codes:
            export_qdpx(store, tmp_path / "ut.qdpx", pseudonymise=False)
            assert (tmp_path / "ut.qdpx").is_file()
