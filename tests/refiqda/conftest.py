"""Fixtures for the REFI-QDA tests: a coded project and helpers to read and write .qdpx files."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from qualcode.store import Store

NS = "urn:QDA-XML:project:1.0"
CB_NS = "urn:QDA-XML:codebook:1.0"
Q = f"{{{NS}}}"

# Extra transcript: letters outside ASCII and outside the BMP before the coded turn, so a tool
# counting bytes or UTF-16 units instead of code points would land on the wrong characters.
EXTRA = """\
I: Hva betyr klyngen 🙂 for dere – ærlig talt?
R3: Å dele kunnskap på tvers, særlig om tillit 🤝 og åpenhet.
"""


@pytest.fixture
def coded(ingested: Store, make_codes, small_corpus: Path) -> Store:
    """The small corpus plus R3, a code tree, three coder layers, memos and an inactive code."""
    from qualcode.ingest import ingest_paths

    (small_corpus / "R3.txt").write_text(EXTRA, encoding="utf-8")
    ingest_paths(ingested, [small_corpus / "R3.txt"], respondent="R3", command="test: ingest R3")
    make_codes(ingested, ["tillit", "tillit/åpenhet", "forankring", "samkonkurranse", "gammel"])
    store = ingested
    with store.write("test: code") as tx:
        tx.conn.execute(
            "UPDATE codes SET description = 'Tillit mellom aktørene', color = '#1f77b4'"
            " WHERE path = 'tillit'"
        )
        tx.conn.execute("UPDATE codes SET active = 0 WHERE path = 'gammel'")
        # A display name that differs from the id: the path must still survive a round trip.
        tx.conn.execute(
            "UPDATE codes SET name = 'Åpenhet og deling' WHERE path = 'tillit/åpenhet'"
        )
        seg = {
            (t, p): s
            for s, t, p in tx.conn.execute(
                "SELECT s.id, t.name, s.position FROM segments s"
                " JOIN transcripts t ON t.id = s.transcript_id"
            )
        }
        store.add_coding(tx, seg["R1.txt", 2], "forankring", "auto", source="auto")
        store.add_coding(tx, seg["R1.txt", 2], "forankring", "kari")
        store.add_coding(tx, seg["R1.txt", 4], "tillit", "kari", memo="Tillit bygd over tid")
        store.add_coding(tx, seg["R1.txt", 4], "tillit", "ola")
        store.add_coding(tx, seg["R2.txt", 2], "samkonkurranse", "ola")
        store.add_coding(tx, seg["R2.txt", 2], "gammel", "ola")
        store.add_coding(tx, seg["R3.txt", 2], "tillit/åpenhet", "kari")
        tx.conn.execute(
            "INSERT INTO memos (segment_id, coder, text, created_at)"
            " VALUES (?, 'kari', 'Viktig sitat om forankring', '2024-03-01T10:00:00+00:00')",
            (seg["R1.txt", 2],),
        )
        tx.conn.execute(
            "INSERT INTO memos (code_id, coder, text, created_at) VALUES"
            " ((SELECT id FROM codes WHERE path = 'tillit'), 'ola', 'Skill mellom typer tillit',"
            " '2024-03-02T10:00:00+00:00')"
        )
    return store


def read_qdpx(path: Path) -> tuple[ET.Element, dict[str, str], list[str]]:
    """The parsed project.qde, the source texts by zip member name, and all member names."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        root = ET.fromstring(archive.read("project.qde"))
        texts = {
            n: archive.read(n).decode("utf-8") for n in names if n.startswith("sources/")
        }
    return root, texts, names


@pytest.fixture
def make_qdpx(tmp_path: Path) -> Callable[..., Path]:
    """Write a hand-made .qdpx: the project.qde text and source files (bytes or text)."""

    def make(name: str, qde: str | bytes, sources: dict[str, str | bytes] | None = None) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("project.qde", qde)
            for member, content in (sources or {}).items():
                archive.writestr(member, content)
        return path

    return make
