"""Stores made by the release before this one named a respondent without a respondents.csv row
after its file (``R1_haugland``); opening such a store renames those respondents neutrally."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from qualcode.ingest import ingest_paths
from qualcode.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    _migrate_neutral_respondent_labels,
    open_store,
)

PREVIOUS_RELEASE_STORE = Path(__file__).resolve().parents[1] / "data" / "store_v1.db"


def _labels(folder: Path) -> dict[str, str]:
    with open_store(folder) as store:
        return dict(
            store.conn.execute(
                "SELECT t.name, r.label FROM transcripts t JOIN respondents r"
                " ON r.id = t.respondent_id"
            )
        )


def test_labels_taken_from_file_names_are_renamed(project, tmp_path: Path, make_codes) -> None:
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    for name in ("R1_haugland.txt", "R2_fjordal.txt", "bolgen.txt"):
        text = "I: Hei.\nR: Vi stoler på dem.\nI: Alltid?\nR: Stort sett, ja.\n"
        (folder / name).write_text(text, encoding="utf-8")
    ingest_paths(project, [folder], command="test")
    make_codes(project, ["tillit"])
    turn = project.conn.execute("SELECT id FROM segments WHERE role = 'respondent'").fetchone()[0]
    with project.write("test", coder="kari") as tx:
        project.add_coding(tx, turn, "tillit", "kari")
    store_path = Path(project.folder)
    project.close()
    # Make it look like a store of the previous release: labels from the file names, version 1.
    with sqlite3.connect(store_path / "qualcode.db") as conn:
        conn.execute(
            "UPDATE respondents SET label = (SELECT substr(t.name, 1, length(t.name) - 4)"
            " FROM transcripts t WHERE t.respondent_id = respondents.id)"
        )
        # The schema as it was just before the label migration (later ones have run already).
        before = MIGRATIONS.index(_migrate_neutral_respondent_labels)
        conn.execute(f"PRAGMA user_version = {before}")
    assert set(_labels(store_path).values()) == {"R1", "R2", "R3"}
    labels = _labels(store_path)
    assert labels["R1_haugland.txt"] == "R1" and labels["R2_fjordal.txt"] == "R2"
    assert labels["bolgen.txt"] == "R3"
    with open_store(store_path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == 1


@pytest.mark.skipif(not PREVIOUS_RELEASE_STORE.is_file(), reason="no store of the previous release")
def test_a_previous_release_store_with_a_respondent_table_keeps_its_labels(tmp_path: Path) -> None:
    folder = tmp_path / "prosjekt"
    folder.mkdir()
    shutil.copyfile(PREVIOUS_RELEASE_STORE, folder / "qualcode.db")
    with sqlite3.connect(folder / "qualcode.db") as conn:
        before = conn.execute("SELECT id, label FROM respondents ORDER BY id").fetchall()
        codings = conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
    with open_store(folder) as store:
        assert (
            store.conn.execute("SELECT id, label FROM respondents ORDER BY id").fetchall() == before
        )
        assert store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0] == codings
