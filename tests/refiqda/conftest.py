"""Fixtures for the REFI-QDA tests: a coded project and helpers to read and write .qdpx files."""

from __future__ import annotations

import os
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


def _xsd_folder() -> Path | None:
    """The folder holding the official REFI-QDA schemas: ``../shared/refi-qda`` beside the
    repository (where CI keeps a read-only copy), else ``$QUALCODE_REFI_XSD_DIR``."""
    repo = Path(__file__).resolve().parents[2]
    candidates = [repo.parent / "shared" / "refi-qda"]
    if os.environ.get("QUALCODE_REFI_XSD_DIR"):
        candidates.append(Path(os.environ["QUALCODE_REFI_XSD_DIR"]))
    for folder in candidates:
        if (folder / "Project.xsd").is_file() and (folder / "Codebook.xsd").is_file():
            return folder
    return None


@pytest.fixture(scope="session")
def refi_schemas():
    """The official Project.xsd and Codebook.xsd (xmlschema objects).

    Outside CI a missing copy skips the test; in CI (``CI=true``) it fails, so the validation
    can never be skipped there silently.
    """
    folder = _xsd_folder()
    if folder is None:
        message = (
            "the REFI-QDA schemas are in neither ../shared/refi-qda beside the repository "
            "nor $QUALCODE_REFI_XSD_DIR"
        )
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    import xmlschema

    return xmlschema.XMLSchema(folder / "Project.xsd"), xmlschema.XMLSchema(folder / "Codebook.xsd")


@pytest.fixture
def validate_qdpx(refi_schemas, tmp_path: Path) -> Callable[[Path], None]:
    """Validate a .qdpx's project.qde against the official Project.xsd (raises if invalid)."""

    def validate(path: Path) -> None:
        with zipfile.ZipFile(path) as archive:
            data = archive.read("project.qde")
        target = tmp_path / f"{path.stem}.qde"
        target.write_bytes(data)
        refi_schemas[0].validate(target)

    return validate
