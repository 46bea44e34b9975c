"""A pseudonymised .qdpx whose speakers are full names (Teams .vtt, Zoom .srt) round-trips whole.

Speaker labels such as ``Silje Kvernes:`` are names: replaced by ``[navn]:`` no importer reads
them as speakers, and every respondent turn merged into the interviewer's turn before it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from qualcode.cli.main import app
from qualcode.ingest import ingest_paths
from qualcode.pseudonyms import project_pseudonyms
from qualcode.store import Store, open_store

NS = {"q": "urn:QDA-XML:project:1.0"}

TEAMS_VTT = """\
WEBVTT

a1/11-0
00:00:01.713 --> 00:00:03.692
<v Intervjuer>Hei! Ser og hører du meg?</v>

a1/12-0
00:00:04.914 --> 00:00:07.048
<v Silje Kvernes>Hei hei! Ja, jeg ser deg.</v>

a1/13-0
00:00:07.261 --> 00:00:11.430
<v Silje Kvernes>Jeg er daglig leder i Kvernes Tech, og Silje er meg.</v>

a1/14-0
00:00:12.000 --> 00:00:15.000
<v Intervjuer>Hvordan er tilliten i klyngen?</v>

a1/15-0
00:00:15.500 --> 00:00:20.000
<v Silje Kvernes>Vi stoler på Fjordal Aluminium. Kvernes sitt nettverk er smått.</v>
"""

ZOOM_SRT = """\
1
00:00:03,950 --> 00:00:06,109
Intervjuer: Hei, hører du meg nå?

2
00:00:07,132 --> 00:00:11,131
Marte Solbakken: Ja, nå hører jeg deg. Marte her, fra kommunen.

3
00:00:11,500 --> 00:00:14,000
Intervjuer: Hva gjør kommunen for klyngen?

4
00:00:14,200 --> 00:00:19,000
Marte Solbakken: Vi finansierer samlinger og kobler bedrifter.
"""

# The interviewer is a name too (a project interviewer label), with timestamps, bold, and a label
# alone on its line.
LABELLED_TXT = """\
[00:00:01] Emil: Velkommen. Hvordan samarbeider dere i klyngen?
[00:00:05] Ola Sørheim: Vi samarbeider med Fjordal Aluminium om opplæring.
[00:00:12] Emil: Og tilliten?
Ola Sørheim:
Den er god. Hilde Brekke ringer oss hver uke.
**Emil**: Takk.
"""

PSEUDONYMS = """\
original,replacement
Silje Kvernes,[navn]
Marte Solbakken,[navn]
Ola Sørheim,[navn]
Hilde Brekke,[navn]
Kvernes Tech,[bedriften]
Fjordal Aluminium,[bedriften]
Kvernes,[bedriften]
Silje,[navn]
Marte,[navn]
Emil,[navn]
"""
ORIGINALS = ["Silje", "Kvernes", "Marte", "Solbakken", "Sørheim", "Emil", "Hilde", "Fjordal"]


@pytest.fixture
def named_speakers(project: Store, tmp_path: Path, make_codes) -> Store:
    """Three interviews whose speaker labels are names, coded by three layers, with memos."""
    files = {
        "R3_kvernes.vtt": ("R3", TEAMS_VTT),
        "R6_kommune.srt": ("R6", ZOOM_SRT),
        "R9_sorheim.txt": ("R9", LABELLED_TXT),
    }
    for name, (respondent, content) in files.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        ingest_paths(
            project, [path], respondent=respondent, interviewer_labels=["Emil"], command="test"
        )
    (project.folder / "pseudonyms.csv").write_text(PSEUDONYMS, encoding="utf-8")
    make_codes(project, ["tillit", "forankring", "rolle"])
    segment = {
        (label, position): seg_id
        for seg_id, label, position in project.conn.execute(
            "SELECT s.id, r.label, s.position FROM segments s"
            " JOIN transcripts t ON t.id = s.transcript_id"
            " JOIN respondents r ON r.id = t.respondent_id"
        )
    }
    with project.write("test: code") as tx:
        project.add_coding(tx, segment["R3", 2], "rolle", "auto", source="auto")
        project.add_coding(tx, segment["R3", 2], "rolle", "kari", memo="Silje er gründer")
        project.add_coding(tx, segment["R3", 4], "tillit", "kari")
        project.add_coding(tx, segment["R3", 4], "tillit", "jonas")
        project.add_coding(tx, segment["R3", 3], "tillit", "jonas")  # an interviewer turn
        project.add_coding(tx, segment["R6", 2], "rolle", "jonas")
        project.add_coding(tx, segment["R6", 4], "forankring", "kari")
        project.add_coding(tx, segment["R9", 2], "forankring", "kari")
        project.add_coding(tx, segment["R9", 4], "tillit", "auto", source="auto")
        tx.conn.execute(
            "INSERT INTO memos (segment_id, coder, text, created_at)"
            " VALUES (?, 'jonas', 'Hilde Brekke er kontaktpunktet', '2024-03-01T10:00:00+00:00')",
            (segment["R9", 4],),
        )
        tx.conn.execute(
            "INSERT INTO memos (code_id, coder, text, created_at) VALUES"
            " ((SELECT id FROM codes WHERE path = 'tillit'), 'kari', 'Tillit over tid',"
            " '2024-03-02T10:00:00+00:00')"
        )
    return project


def turns(store: Store) -> list[tuple]:
    """Every segment by its interview's respondent and turn number, with who speaks."""
    return sorted(
        store.conn.execute(
            "SELECT o.label, s.position, s.role, r.label, s.text FROM segments s"
            " JOIN transcripts t ON t.id = s.transcript_id"
            " JOIN respondents o ON o.id = t.respondent_id"
            " JOIN respondents r ON r.id = s.respondent_id"
        )
    )


def codings(store: Store) -> list[tuple]:
    return sorted(
        store.conn.execute(
            "SELECT o.label, s.position, s.role, k.path, d.name, c.source, c.memo FROM codings c"
            " JOIN segments s ON s.id = c.segment_id JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id JOIN transcripts t ON t.id = s.transcript_id"
            " JOIN respondents o ON o.id = t.respondent_id"
        ),
        key=repr,
    )


def memos(store: Store) -> list[tuple]:
    return sorted(
        store.conn.execute(
            "SELECT o.label, s.position, k.path, m.coder, m.text, m.created_at FROM memos m"
            " LEFT JOIN segments s ON s.id = m.segment_id"
            " LEFT JOIN transcripts t ON t.id = s.transcript_id"
            " LEFT JOIN respondents o ON o.id = t.respondent_id"
            " LEFT JOIN codes k ON k.id = m.code_id"
        ),
        key=repr,
    )


def pseudonymised(rows: list[tuple], store: Store) -> list[tuple]:
    names = project_pseudonyms(store)
    return sorted(([names.apply(value) for value in row] for row in rows), key=repr)


def test_pseudonymised_round_trip_keeps_every_turn_coding_and_memo(
    named_speakers: Store, tmp_path: Path, runner
) -> None:
    qdpx = tmp_path / "veileder.qdpx"
    copy = tmp_path / "hos-veileder"
    exported = runner.invoke(app, ["-p", str(named_speakers.folder), "export", "qdpx", str(qdpx)])
    assert exported.exit_code == 0, exported.output
    assert "Pseudonyms applied" in exported.output
    imported = runner.invoke(app, ["import", "qdpx", str(qdpx), str(copy)])
    assert imported.exit_code == 0, imported.output
    assert "3 transcripts (13 turns)," in " ".join(imported.output.split())

    with open_store(copy) as store:
        # Same turns, same speakers' roles and respondents, text pseudonymised.
        assert [list(t) for t in turns(store)] == [
            list(t) for t in pseudonymised(turns(named_speakers), named_speakers)
        ]
        assert {label for label, _, role, *_ in turns(store) if role == "respondent"} == {
            "R3",
            "R6",
            "R9",
        }
        assert [list(c) for c in codings(store)] == pseudonymised(
            codings(named_speakers), named_speakers
        )
        assert [list(m) for m in memos(store)] == pseudonymised(
            memos(named_speakers), named_speakers
        )
        speakers = {row[0] for row in store.conn.execute("SELECT speaker FROM segments")}
        texts = [row[0] for row in store.conn.execute("SELECT text FROM transcripts")]
    assert speakers == {"Intervjuer", "R3", "R6", "R9"}
    for text in texts:
        assert "[navn]:" not in text
        for original in ORIGINALS:
            assert original.casefold() not in text.casefold()


def test_selections_point_at_their_turns_after_labels_change_length(
    named_speakers: Store, tmp_path: Path
) -> None:
    from qualcode.refiqda import export_qdpx

    qdpx = tmp_path / "veileder.qdpx"
    result = export_qdpx(named_speakers, qdpx)
    # One selection per coder and turn, coded or given a memo (jonas's memo on R9 turn 4).
    assert result.selections == named_speakers.conn.execute(
        "SELECT COUNT(*) FROM (SELECT DISTINCT c.segment_id, d.name FROM codings c"
        " JOIN coders d ON d.id = c.coder_id"
        " UNION SELECT segment_id, coder FROM memos WHERE segment_id IS NOT NULL)"
    ).fetchone()[0]
    names = project_pseudonyms(named_speakers)
    with zipfile.ZipFile(qdpx) as archive:
        files = {n: archive.read(n).decode("utf-8") for n in archive.namelist()}
    for content in files.values():
        for original in ORIGINALS:
            assert original.casefold() not in content.casefold()
    root = ET.fromstring(files["project.qde"])
    turn_texts = {names.apply(t[4]) for t in turns(named_speakers)}
    labels_seen = set()
    for source in root.iterfind(".//q:TextSource", NS):
        text = files["sources/" + source.get("plainTextPath").split("//", 1)[1]]
        for selection in source.iterfind("q:PlainTextSelection", NS):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            assert text[start:end] in turn_texts
            line = text[:start].rsplit("\n", 2)
            label_line = line[-1] or line[-2]  # "Ola Sørheim:" stood alone on its line
            labels_seen.add(re.sub(r"^\[[\d:]+\] |\*\*", "", label_line).split(":")[0])
    assert labels_seen == {"R3", "R6", "R9", "Intervjuer"}
    r9 = next(t for n, t in files.items() if n.startswith("sources/") and "opplæring" in t)
    # Timestamps and markup around a label stay; only the name is rewritten.
    assert r9.splitlines() == [
        "[00:00:01] Intervjuer: Velkommen. Hvordan samarbeider dere i klyngen?",
        "[00:00:05] R9: Vi samarbeider med [bedriften] om opplæring.",
        "[00:00:12] Intervjuer: Og tilliten?",
        "R9:",
        "Den er god. [navn] ringer oss hver uke.",
        "**Intervjuer**: Takk.",
    ]


def test_keep_names_leaves_speaker_labels_alone(named_speakers: Store, tmp_path: Path) -> None:
    from qualcode.refiqda import export_qdpx

    qdpx = tmp_path / "med-navn.qdpx"
    export_qdpx(named_speakers, qdpx, pseudonymise=False)
    with zipfile.ZipFile(qdpx) as archive:
        sources = "".join(
            archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("sources/")
        )
    assert "Silje Kvernes: Hei hei!" in sources
    assert "[00:00:01] Emil: Velkommen." in sources
