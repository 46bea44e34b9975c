"""A .qdpx holds whole transcripts, so it leaves the machine pseudonymised, positions intact."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from qualcode.cli.main import app
from qualcode.ingest import ingest_paths
from qualcode.refiqda import export_qdpx, import_qdpx

NS = {"q": "urn:QDA-XML:project:1.0"}
TRANSCRIPT = (
    "I: Hvem samarbeider dere med?\n"
    "R1: Vi jobber mye med Fjordal Aluminium, og Hilde Brekke ringer oss hver uke.\n"
    "I: Og tilliten?\n"
    "R1: Fjordal stoler vi på. Hilde også, for å si det sånn.\n"
)
ORIGINALS = ["Fjordal Aluminium", "Fjordal", "Hilde Brekke", "Hilde", "fjordal"]


@pytest.fixture
def named(project, tmp_path, make_codes):
    source = tmp_path / "R1_fjordal.txt"
    source.write_text(TRANSCRIPT, encoding="utf-8")
    ingest_paths(project, [source], respondent="R1", command="test")
    (project.folder / "pseudonyms.csv").write_text(
        "original,replacement\nFjordal Aluminium,[bedriften]\nFjordal,[bedriften]\n"
        "Hilde Brekke,[navn]\nHilde,[navn]\n",
        encoding="utf-8",
    )
    make_codes(project, ["tillit", "samkonkurranse"])
    turns = dict(project.conn.execute("SELECT position, id FROM segments").fetchall())
    with project.write("test", coder="kari") as tx:
        project.add_coding(tx, turns[2], "samkonkurranse", "kari", memo="Hilde er kontakten")
        project.add_coding(tx, turns[4], "tillit", "kari")
    return project


def members(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n).decode("utf-8") for n in archive.namelist()}


def test_no_name_leaves_and_every_selection_still_covers_its_turn(named, tmp_path):
    out = tmp_path / "veileder.qdpx"
    result = export_qdpx(named, out)
    assert result.pseudonyms == 4
    files = members(out)
    for name, content in files.items():
        for original in ORIGINALS:
            assert original.casefold() not in content.casefold(), (name, original)
    import xml.etree.ElementTree as ET

    root = ET.fromstring(files["project.qde"])
    source = root.find(".//q:TextSource", NS)
    assert source.get("name") == "R1.txt"
    text = files["sources/" + source.get("plainTextPath").split("//", 1)[1]]
    selected = [
        text[int(s.get("startPosition")) : int(s.get("endPosition"))]
        for s in source.findall("q:PlainTextSelection", NS)
    ]
    assert selected == [
        "Vi jobber mye med [bedriften], og [navn] ringer oss hver uke.",
        "[bedriften] stoler vi på. [navn] også, for å si det sånn.",
    ]


def test_round_trip_of_a_pseudonymised_file(named, tmp_path):
    out = tmp_path / "veileder.qdpx"
    export_qdpx(named, out)
    imported = import_qdpx(out, tmp_path / "hos-veileder")
    assert imported is not None
    from qualcode.store import open_store

    with open_store(tmp_path / "hos-veileder") as store:
        texts = [r[0] for r in store.conn.execute("SELECT text FROM segments ORDER BY id")]
        coded = store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
    assert coded == 2
    assert not any(re.search("fjordal|hilde", t, re.IGNORECASE) for t in texts)


def test_keep_names_is_explicit(named, tmp_path, runner):
    out = tmp_path / "med-navn.qdpx"
    result = runner.invoke(
        app, ["-p", str(named.folder), "export", "qdpx", str(out), "--keep-names"]
    )
    assert result.exit_code == 0, result.output
    assert "Fjordal Aluminium" in "".join(members(out).values())
