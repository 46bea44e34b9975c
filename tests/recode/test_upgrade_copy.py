"""Opening a store made by the previous release upgrades it, says so, and keeps a copy of the old
store beside it, so the student can still go back to the release that made it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from qualcode.cli.main import app
from qualcode.store import DB_NAME, SCHEMA_VERSION, open_store

STORE_V1 = Path(__file__).resolve().parents[1] / "data" / "store_v1.db"


def _codings(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT segment_id, code_id, coder_id, memo FROM codings ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def test_upgrade_keeps_a_copy_of_the_old_store(tmp_path: Path) -> None:
    folder = tmp_path / "thesis"
    folder.mkdir()
    shutil.copy(STORE_V1, folder / DB_NAME)
    before = _codings(folder / DB_NAME)

    with open_store(folder) as store:
        copy = folder / f"{DB_NAME}.format-1.bak"
        assert store.upgraded_from == (1, copy)
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    assert _codings(copy) == before  # the old store, every coding and memo
    assert _codings(folder / DB_NAME) == before  # and the upgraded one keeps them too

    with open_store(folder) as store:
        assert store.upgraded_from is None  # once
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_the_command_line_says_it_upgraded_once(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "thesis"
    folder.mkdir()
    shutil.copy(STORE_V1, folder / DB_NAME)
    first = runner.invoke(app, ["-p", str(folder), "progress", "-f", "csv"])
    assert first.exit_code == 0, first.output
    message = (
        f"Upgraded the project store from format 1 to {SCHEMA_VERSION}; the old store is kept as "
        f"{folder / f'{DB_NAME}.format-1.bak'}"
    )
    assert message in " ".join(first.output.split())
    second = runner.invoke(app, ["-p", str(folder), "progress", "-f", "csv"])
    assert second.exit_code == 0
    assert "Upgraded" not in second.output
