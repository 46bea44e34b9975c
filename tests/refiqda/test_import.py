"""Importing .qdpx and .qdc: round trip, files imitating other tools, and bad input."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from qualcode.cli.main import app
from qualcode.codebook import loads_codebook
from qualcode.errors import InputError, ProjectError
from qualcode.refiqda import export_qdpx, import_qdc, import_qdpx
from qualcode.refiqda.importer import code_id_from_name, normalise_with_map
from qualcode.store import Store, open_store
from qualcode.textfile import normalise

# -- helpers -------------------------------------------------------------------------------------


def codings_by_coder(store: Store) -> dict[str, set[tuple[str, str, str]]]:
    """Per coder: (transcript, coded text, code); the coded text is the passage if there is one."""
    result: dict[str, set[tuple[str, str, str]]] = {}
    for coder, transcript, text, path, start, end in store.conn.execute(
        "SELECT d.name, t.name, s.text, k.path, c.quote_start, c.quote_end FROM codings c"
        " JOIN coders d ON d.id = c.coder_id"
        " JOIN segments s ON s.id = c.segment_id JOIN transcripts t ON t.id = s.transcript_id"
        " JOIN codes k ON k.id = c.code_id"
    ):
        coded = text if start is None else text[start:end]
        result.setdefault(coder, set()).add((transcript, coded, path))
    return result


def code_tree(store: Store) -> set[tuple]:
    return set(
        store.conn.execute(
            "SELECT c.path, c.name, c.description, c.color, c.active, p.path FROM codes c"
            " LEFT JOIN codes p ON p.id = c.parent_id"
        )
    )


def check_segments_match_text(store: Store) -> None:
    for text, full, start, end in store.conn.execute(
        "SELECT s.text, t.text, s.char_start, s.char_end FROM segments s"
        " JOIN transcripts t ON t.id = s.transcript_id"
    ):
        assert text == full[start:end]


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".import-" in p.name]


# -- round trip ----------------------------------------------------------------------------------


def test_round_trip_keeps_code_tree_codings_memos_and_respondents(
    coded: Store, tmp_path: Path
) -> None:
    qdpx = tmp_path / "rundtur.qdpx"
    export_qdpx(coded, qdpx)
    report = import_qdpx(qdpx, tmp_path / "kopi")
    with open_store(tmp_path / "kopi") as copy:
        assert code_tree(copy) == code_tree(coded)
        assert codings_by_coder(copy) == codings_by_coder(coded)
        check_segments_match_text(copy)
        # Our own sources re-segment into exactly the same turns: no extra segments.
        assert report.passages == 0
        turns = "SELECT t.name, s.position, s.speaker, s.role, s.char_start, s.char_end FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
        assert set(copy.conn.execute(turns)) == set(coded.conn.execute(turns))
        texts = "SELECT name, text FROM transcripts"
        assert set(copy.conn.execute(texts)) == set(coded.conn.execute(texts))
        people = (
            "SELECT r.label, a.name, a.value FROM respondents r"
            " LEFT JOIN respondent_attributes a ON a.respondent_id = r.id"
        )
        assert set(copy.conn.execute(people)) == set(coded.conn.execute(people))
        memos = (
            "SELECT COALESCE(s.text, k.path), m.coder, m.text, m.created_at FROM memos m"
            " LEFT JOIN segments s ON s.id = m.segment_id LEFT JOIN codes k ON k.id = m.code_id"
        )
        assert set(copy.conn.execute(memos)) == set(coded.conn.execute(memos))
        coding_memos = "SELECT memo FROM codings WHERE memo IS NOT NULL"
        assert set(copy.conn.execute(coding_memos)) == set(coded.conn.execute(coding_memos))
        sources = "SELECT d.name, c.source FROM codings c JOIN coders d ON d.id = c.coder_id"
        assert set(copy.conn.execute(sources)) == set(coded.conn.execute(sources))
        assert copy.conn.execute("SELECT kind FROM coders WHERE name = 'auto'").fetchone() == (
            "auto",
        )
        # The codebook version holds YAML that qualcode's codebook loader accepts.
        _, content = copy.conn.execute("SELECT name, content FROM codebook_versions").fetchone()
        book = loads_codebook(content, "stored")
        assert book.paths() == copy.code_paths(active_only=True)
    assert report.skipped == {}
    assert (tmp_path / "kopi" / "codebooks").is_dir()


# -- files imitating other tools -------------------------------------------------------------------

NVIVO_TEXT = """\
Interviewer: Hvordan startet samarbeidet?
Anna: Vi møttes på en klyngesamling. Der fant vi ut at vi hadde felles kunder.
Interviewer: Stoler dere på hverandre?
Anna: Ja, etter tre år stoler vi på dem.
"""

G = {  # lower-case and braced GUIDs, as some tools write them
    "u1": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "u2": "{6FA459EA-EE8A-3CA4-894E-DB77E160355E}",
    "c1": "0a3b1c2d-0000-4000-8000-000000000001",
    "c2": "0a3b1c2d-0000-4000-8000-000000000002",
    "c3": "0a3b1c2d-0000-4000-8000-000000000003",
    "src": "5d5c7a4e-0000-4000-8000-00000000000a",
    "case": "5d5c7a4e-0000-4000-8000-00000000000b",
    "var": "5d5c7a4e-0000-4000-8000-00000000000c",
    "n1": "7e7e7e7e-0000-4000-8000-000000000001",
    "n2": "7e7e7e7e-0000-4000-8000-000000000002",
    "n3": "7e7e7e7e-0000-4000-8000-000000000003",
}


def nvivo_like() -> tuple[str, dict[str, str]]:
    text = NVIVO_TEXT
    whole = text.index("Ja, etter")
    whole_end = text.index("\n", whole) + 1  # with its line end, as tools often select
    part = text.index("Der fant vi")
    part_end = text.index("kunder.") + len("kunder.")
    turn = text.index("Vi møttes")
    turn_end = part_end
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Klyngestudie" origin="NVivo 14"
         creatingUserGUID="{G["u1"]}">
  <Users>
    <User guid="{G["u1"]}" name="Kari Nordmann"/>
    <User guid="{G["u2"]}" name="Ola"/>
  </Users>
  <CodeBook><Codes>
    <Code guid="{G["c1"]}" name="Tillit" isCodable="true" color="#1F77B4">
      <Description>Relasjoner mellom aktører</Description>
      <NoteRef targetGUID="{G["n3"]}"/>
      <Code guid="{G["c2"]}" name="Tillit over tid" isCodable="true"/>
    </Code>
    <Code guid="{G["c3"]}" name="Fasilitering" isCodable="false"/>
  </Codes></CodeBook>
  <Variables><Variable guid="{G["var"]}" name="Sektor" typeOfVariable="Text"/></Variables>
  <Cases>
    <Case guid="{G["case"]}" name="Anna">
      <VariableValue><VariableRef targetGUID="{G["var"]}"/><TextValue>leverandør</TextValue></VariableValue>
      <SourceRef targetGUID="{G["src"]}"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="{G["src"]}" name="Intervju Anna" plainTextPath="internal://{G["src"]}.txt">
      <PlainTextSelection guid="9a000000-0000-4000-8000-000000000001" name="Ja, etter"
          startPosition="{whole}" endPosition="{whole_end}" creatingUser="{G["u1"]}">
        <Coding guid="9b000000-0000-4000-8000-000000000001" creatingUser="{G["u1"]}">
          <CodeRef targetGUID="{G["c2"]}"/>
          <NoteRef targetGUID="{G["n1"]}"/>
        </Coding>
        <Coding guid="9b000000-0000-4000-8000-000000000002" creatingUser="{G["u2"]}">
          <CodeRef targetGUID="{G["c1"]}"/>
        </Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="9a000000-0000-4000-8000-000000000002"
          startPosition="{part}" endPosition="{part_end}" creatingUser="{G["u2"]}">
        <Coding guid="9b000000-0000-4000-8000-000000000003">
          <CodeRef targetGUID="{G["c3"]}"/>
        </Coding>
        <NoteRef targetGUID="{G["n2"]}"/>
      </PlainTextSelection>
      <PlainTextSelection guid="9a000000-0000-4000-8000-000000000003"
          startPosition="{turn}" endPosition="{turn_end}">
        <Coding guid="9b000000-0000-4000-8000-000000000004" creatingUser="{G["u1"]}">
          <CodeRef targetGUID="{G["c3"]}"/>
        </Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
  <Notes>
    <Note guid="{G["n1"]}" name="m1" creatingUser="{G["u1"]}"><PlainTextContent>Tillit bygd gjennom leveranser</PlainTextContent></Note>
    <Note guid="{G["n2"]}" name="m2" creatingUser="{G["u2"]}"><PlainTextContent>Samling som møteplass</PlainTextContent></Note>
    <Note guid="{G["n3"]}" name="m3"><PlainTextContent>Definisjon fra litteraturen</PlainTextContent></Note>
    <Note guid="7e7e7e7e-0000-4000-8000-000000000009" name="journal"><PlainTextContent>Prosjektlogg</PlainTextContent></Note>
  </Notes>
</Project>
"""
    return qde, {f"sources/{G['src']}.txt": text}


def test_nvivo_like_file_with_nested_codes_and_two_users(make_qdpx, tmp_path: Path) -> None:
    qde, sources = nvivo_like()
    path = make_qdpx("nvivo.qdpx", qde, sources)
    report = import_qdpx(path, tmp_path / "nv")
    with open_store(tmp_path / "nv") as store:
        tree = {(p, n, parent) for p, n, _d, _c, _a, parent in code_tree(store)}
        assert tree == {
            ("tillit", "Tillit", None),
            ("tillit/tillit-over-tid", "Tillit over tid", "tillit"),
            ("fasilitering", "Fasilitering", None),
        }
        assert store.conn.execute(
            "SELECT color, description FROM codes WHERE path = 'tillit'"
        ).fetchone() == ("#1F77B4", "Relasjoner mellom aktører")
        by_coder = codings_by_coder(store)
        src = "Intervju Anna"
        assert by_coder == {
            "Kari Nordmann": {
                (src, "Ja, etter tre år stoler vi på dem.", "tillit/tillit-over-tid"),
                (
                    src,
                    "Vi møttes på en klyngesamling. Der fant vi ut at vi hadde felles kunder.",
                    "fasilitering",
                ),
            },
            "Ola": {
                (src, "Ja, etter tre år stoler vi på dem.", "tillit"),
                (src, "Der fant vi ut at vi hadde felles kunder.", "fasilitering"),
            },
        }
        check_segments_match_text(store)
        # The partial selection is a passage of Anna's turn: no extra segment.
        assert store.conn.execute("SELECT COUNT(*) FROM segments").fetchone() == (4,)
        passage = store.conn.execute(
            "SELECT s.position, s.speaker, substr(s.text, c.quote_start + 1,"
            " c.quote_end - c.quote_start) FROM codings c JOIN segments s ON s.id = c.segment_id"
            " WHERE c.quote_start IS NOT NULL"
        ).fetchall()
        assert passage == [(2, "Anna", "Der fant vi ut at vi hadde felles kunder.")]
        roles = store.conn.execute(
            "SELECT speaker, role FROM segments WHERE position <= 4 ORDER BY position"
        ).fetchall()
        assert roles == [("Interviewer", "interviewer"), ("Anna", "respondent")] * 2
        assert store.conn.execute(
            "SELECT r.label, a.name, a.value FROM respondents r JOIN respondent_attributes a"
            " ON a.respondent_id = r.id"
        ).fetchall() == [("Anna", "sektor", "leverandør")]  # stored case-folded
        assert store.conn.execute("SELECT name, type, label FROM attribute_types").fetchall() == [
            ("sektor", "Text", "Sektor")  # the name as NVivo wrote it goes back out on export
        ]
        memos = set(
            store.conn.execute(
                "SELECT COALESCE(s.text, k.path), m.coder, m.text FROM memos m"
                " LEFT JOIN segments s ON s.id = m.segment_id LEFT JOIN codes k ON k.id = m.code_id"
            )
        )
        # A note on a partial selection is a memo on the turn the passage is in.
        assert memos == {
            (
                "Vi møttes på en klyngesamling. Der fant vi ut at vi hadde felles kunder.",
                "Ola",
                "Samling som møteplass",
            ),
            ("tillit", None, "Definisjon fra litteraturen"),
        }
        assert store.conn.execute("SELECT memo FROM codings WHERE memo IS NOT NULL").fetchall() == [
            ("Tillit bygd gjennom leveranser",)
        ]
    assert report.passages == 1
    assert report.codings == {"Kari Nordmann": 2, "Ola": 2}
    assert any("project memos" in reason for reason in report.skipped)


MAXQDA_PARAGRAPHS = [
    "Vi har vært medlem i fire år.",
    "Klyngeledelsen arrangerer frokostmøter som vi går på.",
    "Det viktigste er at vi blir kjent med hverandre.",
]


def maxqda_like() -> tuple[str, dict[str, bytes], str]:
    """A source with BOM and CRLF line ends, no speaker labels, and an empty <Sets/>."""
    raw = "\r\n\r\n".join(MAXQDA_PARAGRAPHS) + "\r\n"
    second = raw.index(MAXQDA_PARAGRAPHS[1])
    second_end = second + len(MAXQDA_PARAGRAPHS[1])
    phrase = raw.index("blir kjent med hverandre")
    phrase_end = phrase + len("blir kjent med hverandre")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="MAXQDA" origin="MAXQDA 2022">
 <CodeBook>
  <Codes>
   <Code guid="A0000000-0000-4000-8000-000000000001" name="Fasilitering" isCodable="true"/>
   <Code guid="A0000000-0000-4000-8000-000000000002" name="Tillit" isCodable="true" color="#F00"/>
  </Codes>
 </CodeBook>
 <Sources>
  <TextSource guid="B0000000-0000-4000-8000-000000000001" name="Per.txt" plainTextPath="internal://per.txt">
   <PlainTextSelection guid="C0000000-0000-4000-8000-000000000001" startPosition="{second}" endPosition="{second_end}">
    <Coding guid="D0000000-0000-4000-8000-000000000001"><CodeRef targetGUID="A0000000-0000-4000-8000-000000000001"/></Coding>
   </PlainTextSelection>
   <PlainTextSelection guid="C0000000-0000-4000-8000-000000000002" startPosition="{phrase}" endPosition="{phrase_end}">
    <Coding guid="D0000000-0000-4000-8000-000000000002"><CodeRef targetGUID="A0000000-0000-4000-8000-000000000002"/></Coding>
    <Coding guid="D0000000-0000-4000-8000-000000000003"><CodeRef targetGUID="A0000000-0000-4000-8000-0000000000FF"/></Coding>
   </PlainTextSelection>
  </TextSource>
  <PDFSource guid="B0000000-0000-4000-8000-000000000002" name="scan.pdf" path="internal://scan.pdf"/>
 </Sources>
 <Sets/>
</Project>
"""
    return qde, {"Sources/per.txt": b"\xef\xbb\xbf" + raw.encode("utf-8")}, raw


def test_maxqda_like_file_with_empty_sets_and_crlf_source(make_qdpx, tmp_path: Path) -> None:
    qde, sources, raw = maxqda_like()
    path = make_qdpx("maxqda.qdpx", qde, sources)
    report = import_qdpx(path, tmp_path / "mx")
    with open_store(tmp_path / "mx") as store:
        text = store.conn.execute("SELECT text FROM transcripts").fetchone()[0]
        assert text == normalise(raw)
        assert "\r" not in text
        turns = store.conn.execute(
            "SELECT position, speaker, role, text FROM segments ORDER BY position"
        ).fetchall()
        # No speaker labels: one turn per paragraph, spoken by the source's respondent.
        assert [t[3] for t in turns[:3]] == MAXQDA_PARAGRAPHS
        assert {t[1:3] for t in turns} == {("Per", "respondent")}
        assert codings_by_coder(store) == {
            "imported": {
                ("Per.txt", MAXQDA_PARAGRAPHS[1], "fasilitering"),
                ("Per.txt", "blir kjent med hverandre", "tillit"),
            }
        }
        # The partial selection is a passage of the third paragraph, not a fourth segment.
        assert len(turns) == 3
        assert store.conn.execute("SELECT color FROM codes WHERE path = 'tillit'").fetchone() == (
            "#FF0000",
        )
        check_segments_match_text(store)
    assert report.skipped == {"codings of codes that are not in the codebook": 1}
    assert "skipped 1 PDF source (qualcode reads text only)" in report.warnings
    assert any("imported" in w for w in report.warnings)


@given(
    st.lists(
        st.sampled_from(
            [
                "a",
                "b",
                " ",
                "\r\n",
                "\r",
                "\n",
                "ø",
                "å",
                "a\u030a",
                "o\u0308",
                "🙂",
                "e\u0301\u0323",
                "x",
                "\u212b",
                "\u1100",
                "\u1161",
                "\u11a8",
                "\u0b47",
                "\u0b3e",
                "\u0301",
            ]
        ),
        max_size=30,
    )
)
def test_position_map_matches_normalisation(pieces: list[str]) -> None:
    raw = "".join(pieces)
    text, position = normalise_with_map(raw)
    assert text == normalise(raw)
    assert len(position) == len(raw) + 1
    assert position[0] == 0 and position[-1] == len(text)
    assert position == sorted(position)
    # Every boundary between pieces maps to where that piece's normalised text starts.
    offset = 0
    for i, piece in enumerate(pieces):
        after_cr = i > 0 and pieces[i - 1] == "\r" and piece.startswith("\n")
        # Between CR and LF is before the single line end they become.
        expected = len(normalise("".join(pieces[:i]))) - (1 if after_cr else 0)
        assert position[offset] == expected
        offset += len(piece)


# -- codebooks ---------------------------------------------------------------------------------

ATLAS_QDC = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="ATLAS.ti 23">
  <Codes>
    <Code guid="{1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294}" name="Samkonkurranse" isCodable="true" color="#46AA00">
      <Description>Samarbeid med konkurrenter</Description>
      <Code guid="2FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" name="Deling av kunnskap" isCodable="true"/>
      <Code guid="3FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" name="deling av kunnskap" isCodable="true"/>
    </Code>
    <Code guid="4FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" name="Forankring i regionen" isCodable="true" color="red"/>
  </Codes>
  <Sets>
    <Set name="gruppe" guid="ECA18D76-2B8B-4F26-BC1D-19ECA19FB3F0">
      <MemberCode guid="4FF58B12-6F6F-4B0C-8BE5-BBDC91F55294"/>
    </Set>
  </Sets>
</CodeBook>
"""


def test_qdc_becomes_codebook_yaml_that_loads(tmp_path: Path) -> None:
    source = tmp_path / "atlas.qdc"
    source.write_text(ATLAS_QDC, encoding="utf-8")
    out = tmp_path / "kodebok.yaml"
    result = import_qdc(source, out)
    book = loads_codebook(out.read_text(encoding="utf-8"), str(out))
    assert book.paths() == [
        "samkonkurranse",
        "samkonkurranse/deling-av-kunnskap",
        "samkonkurranse/deling-av-kunnskap-2",
        "forankring-i-regionen",
    ]
    top = book.find("samkonkurranse")
    assert (top.name, top.description, top.color) == (
        "Samkonkurranse",
        "Samarbeid med konkurrenter",
        "#46AA00",
    )
    assert all(not code.has_rules for code in book.walk())
    assert book.find("forankring-i-regionen").color is None
    assert result.skipped == {
        "colours that are not #rrggbb (left out)": 1,
        "code sets (qualcode has no code sets)": 1,
    }
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["codes"][0]["keywords"] == []


def test_qdc_round_trip_from_our_export(coded: Store, tmp_path: Path, runner) -> None:
    folder = str(coded.folder)
    assert (
        runner.invoke(app, ["-p", folder, "export", "qdc", str(tmp_path / "k.qdc")]).exit_code == 0
    )
    result = runner.invoke(
        app, ["import", "qdc", str(tmp_path / "k.qdc"), "-o", str(tmp_path / "k.yaml")]
    )
    assert result.exit_code == 0, result.output
    book = loads_codebook((tmp_path / "k.yaml").read_text(encoding="utf-8"), "k.yaml")
    # A .qdc has no place for our ids: they are derived from the names; tree and names stay.
    tree = {(c.name, c.parent_path and book.find(c.parent_path).name) for c in book.walk()}
    stored = set(
        coded.conn.execute(
            "SELECT k.name, p.name FROM codes k LEFT JOIN codes p ON p.id = k.parent_id"
            " WHERE k.active = 1"
        )
    )
    assert tree == stored
    assert book.find("tillit/åpenhet-og-deling").name == "Åpenhet og deling"
    assert book.find("tillit").description == "Tillit mellom aktørene"
    again = runner.invoke(
        app, ["import", "qdc", str(tmp_path / "k.qdc"), "-o", str(tmp_path / "k.yaml")]
    )
    assert again.exit_code == 2 and "--force" in again.output


def test_qdc_import_creates_the_output_folder(tmp_path: Path, runner, monkeypatch) -> None:
    source = tmp_path / "fra-nvivo.qdc"
    source.write_text(ATLAS_QDC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # a project folder without codebooks/, as in the README
    result = runner.invoke(
        app, ["import", "qdc", "fra-nvivo.qdc", "-o", "codebooks/klynge-nvivo.yaml"]
    )
    assert result.exit_code == 0, result.output
    assert loads_codebook(
        (tmp_path / "codebooks" / "klynge-nvivo.yaml").read_text(encoding="utf-8"), "k.yaml"
    ).paths()
    # A bad codebook file leaves no new folder behind.
    (tmp_path / "tom.qdc").write_text("<CodeBook/>", encoding="utf-8")
    bad = runner.invoke(app, ["import", "qdc", "tom.qdc", "-o", "ny/mappe/k.yaml"])
    assert bad.exit_code != 0 and "no codes" in bad.output
    assert not (tmp_path / "ny").exists()
    # A file where the folder should be is a one-line error.
    blocked = runner.invoke(app, ["import", "qdc", "fra-nvivo.qdc", "-o", "fra-nvivo.qdc/k.yaml"])
    assert blocked.exit_code != 0 and "is a file, not a folder" in blocked.output
    assert "Traceback" not in blocked.output


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("Tillit", [], "tillit"),
        ("Åpenhet og deling", [], "åpenhet-og-deling"),
        ("Tillit / mistillit", [], "tillit-mistillit"),
        ("Tillit", ["tillit"], "tillit-2"),
        ("???", [], "kode"),
    ],
)
def test_code_ids_from_names(name: str, taken: list[str], expected: str) -> None:
    assert code_id_from_name(name, taken) == expected


# -- bad input -----------------------------------------------------------------------------------


def test_bad_files_are_one_line_errors_and_create_nothing(make_qdpx, tmp_path: Path) -> None:
    target = tmp_path / "nytt"
    not_zip = tmp_path / "tekst.qdpx"
    not_zip.write_text("dette er ikke en zip", encoding="utf-8")
    no_project = tmp_path / "tom.qdpx"
    with zipfile.ZipFile(no_project, "w") as archive:
        archive.writestr("sources/a.txt", "hei")
    broken = make_qdpx(
        "broken.qdpx", '<?xml version="1.0"?>\n<Project name="x">\n<Users>\n</Project>'
    )
    qde, sources = nvivo_like()
    outside = make_qdpx(
        "outside.qdpx",
        qde.replace('endPosition="', 'endPosition="9', 1),
        sources,
    )
    missing_source = make_qdpx("missing.qdpx", qde, {})
    cases = [
        (not_zip, "not a REFI-QDA project"),
        (no_project, "no project.qde"),
        (broken, r"broken.qdpx/project.qde:4: not well-formed XML"),
        (
            outside,
            r"outside.qdpx/project.qde:\d+: selection 9a000000-0000-4000-8000-000000000001"
            r" \(\d+–9\d+\) lies outside its source 'Intervju Anna'",
        ),
        (missing_source, "not in the archive"),
    ]
    for path, message in cases:
        with pytest.raises(InputError, match=message) as info:
            import_qdpx(path, target)
        assert "\n" not in str(info.value)
        assert str(path) in str(info.value)
        assert not target.exists()
        assert leftovers(tmp_path) == []


def test_existing_project_is_refused_and_unchanged(coded: Store, make_qdpx, tmp_path: Path) -> None:
    qde, sources = nvivo_like()
    path = make_qdpx("nvivo.qdpx", qde, sources)
    before = coded.dump()
    with pytest.raises(ProjectError, match="already holds a qualcode project"):
        import_qdpx(path, coded.folder)
    assert coded.dump() == before


def test_failure_while_writing_leaves_no_project(make_qdpx, tmp_path: Path, monkeypatch) -> None:
    qde, sources = nvivo_like()
    path = make_qdpx("nvivo.qdpx", qde, sources)
    import qualcode.refiqda.importer as importer

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "_write_segments", explode)
    with pytest.raises(RuntimeError):
        import_qdpx(path, tmp_path / "nytt")
    assert not (tmp_path / "nytt").exists()
    assert leftovers(tmp_path) == []
    # An existing empty folder is fine to import into, and stays empty after a failure.
    (tmp_path / "tom").mkdir()
    with pytest.raises(RuntimeError):
        import_qdpx(path, tmp_path / "tom")
    assert list((tmp_path / "tom").iterdir()) == []


def test_cli_import_qdpx(make_qdpx, tmp_path: Path, runner) -> None:
    qde, sources = maxqda_like()[:2]
    path = make_qdpx("maxqda.qdpx", qde, sources)
    result = runner.invoke(app, ["import", "qdpx", str(path), str(tmp_path / "mx"), "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert "coder,codings\nimported,2\n" in result.stdout
    assert "skipped 1 PDF source" in result.output  # the skipped source is reported
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"PK\x03\x04 broken")
    result = runner.invoke(app, ["import", "qdpx", str(bad), str(tmp_path / "x")])
    assert result.exit_code == 2
    assert str(bad) in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
