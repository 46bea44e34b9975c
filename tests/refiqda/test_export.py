"""Exporting .qdpx and .qdc: structure per the REFI-QDA 1.0 schemas, exact positions, stable GUIDs."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from qualcode.cli.main import app
from qualcode.errors import InputError, ProjectError
from qualcode.refiqda import export_qdc, export_qdpx
from qualcode.refiqda.guids import NAMESPACE_SETTING
from qualcode.store import Store, create_store

from .conftest import CB_NS, NS, Q, read_qdpx

GUID = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)
GUID_ATTRIBUTES = ("guid", "targetGUID", "creatingUser", "creatingUserGUID")

# Required attributes and the order of child elements, per element, from Project.xsd 1.0.
REQUIRED = {
    "Project": ["name"],
    "User": ["guid"],
    "Code": ["guid", "name", "isCodable"],
    "Variable": ["guid", "name", "typeOfVariable"],
    "Case": ["guid"],
    "TextSource": ["guid"],
    "PlainTextSelection": ["guid", "startPosition", "endPosition"],
    "Coding": ["guid"],
    "CodeRef": ["targetGUID"],
    "NoteRef": ["targetGUID"],
    "SourceRef": ["targetGUID"],
    "VariableRef": ["targetGUID"],
    "MemberCode": ["targetGUID"],
    "Note": ["guid"],
    "Set": ["guid", "name"],
}
SEQUENCES = {
    "Project": [
        "Users",
        "CodeBook",
        "Variables",
        "Cases",
        "Sources",
        "Notes",
        "Links",
        "Sets",
        "Graphs",
        "Description",
        "NoteRef",
    ],
    "Code": ["Description", "NoteRef", "Code"],
    "Case": ["Description", "CodeRef", "VariableValue", "SourceRef", "SelectionRef"],
    "TextSource": [
        "Description",
        "PlainTextContent",
        "PlainTextSelection",
        "Coding",
        "NoteRef",
        "VariableValue",
    ],
    "Note": [
        "Description",
        "PlainTextContent",
        "PlainTextSelection",
        "Coding",
        "NoteRef",
        "VariableValue",
    ],
    "PlainTextSelection": ["Description", "Coding", "NoteRef"],
    "Coding": ["CodeRef", "NoteRef"],
    "VariableValue": [
        "VariableRef",
        "TextValue",
        "BooleanValue",
        "IntegerValue",
        "FloatValue",
        "DateValue",
        "DateTimeValue",
    ],
    "Set": ["Description", "MemberCode", "MemberSource", "MemberNote"],
}


def local(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def check_structure(root: ET.Element, ns: str) -> None:
    """Namespaces, required attributes, GUID form and child order of every element."""
    for element in root.iter():
        assert element.tag.startswith(f"{{{ns}}}"), element.tag
        name = local(element)
        for attribute in REQUIRED.get(name, []):
            assert element.get(attribute), f"{name} lacks {attribute}"
        for attribute in GUID_ATTRIBUTES:
            if element.get(attribute) is not None:
                assert GUID.match(element.get(attribute)), (name, attribute, element.get(attribute))
        if name in SEQUENCES:
            order = SEQUENCES[name]
            seen = [order.index(local(child)) for child in element]
            assert seen == sorted(seen), (
                f"children of {name} out of order: {[local(c) for c in element]}"
            )


@pytest.fixture
def exported(coded: Store, tmp_path: Path) -> tuple[Store, Path]:
    path = tmp_path / "prosjekt.qdpx"
    export_qdpx(coded, path)
    return coded, path


def test_qdpx_holds_project_and_one_utf8_source_per_transcript(exported) -> None:
    store, path = exported
    root, texts, names = read_qdpx(path)
    assert "project.qde" in names
    stored = dict(store.conn.execute("SELECT name, text FROM transcripts"))
    sources = root.findall(f"{Q}Sources/{Q}TextSource")
    assert sorted(s.get("name") for s in sources) == sorted(stored)
    for source in sources:
        reference = source.get("plainTextPath")
        assert reference.startswith("internal://")
        member = "sources/" + reference.removeprefix("internal://")
        assert texts[member] == stored[source.get("name")]
    assert len(texts) == len(stored)


def test_project_structure_follows_the_schema(exported) -> None:
    _, path = exported
    root, _, _ = read_qdpx(path)
    assert root.tag == f"{Q}Project"
    check_structure(root, NS)
    guids = [e.get("guid") for e in root.iter() if e.get("guid")]
    assert len(guids) == len(set(guids)), "GUIDs must be unique within the project"


def test_every_reference_resolves(exported) -> None:
    _, path = exported
    root, _, _ = read_qdpx(path)
    by_kind = {
        kind: {e.get("guid") for e in root.iter(f"{Q}{kind}")}
        for kind in ("User", "Code", "Note", "TextSource", "Variable")
    }
    for ref in root.iter(f"{Q}CodeRef"):
        assert ref.get("targetGUID") in by_kind["Code"]
    for ref in root.iter(f"{Q}MemberCode"):
        assert ref.get("targetGUID") in by_kind["Code"]
    for ref in root.iter(f"{Q}NoteRef"):
        assert ref.get("targetGUID") in by_kind["Note"]
    for ref in root.iter(f"{Q}SourceRef"):
        assert ref.get("targetGUID") in by_kind["TextSource"]
    for ref in root.iter(f"{Q}VariableRef"):
        assert ref.get("targetGUID") in by_kind["Variable"]
    for element in root.iter():
        if element.get("creatingUser"):
            assert element.get("creatingUser") in by_kind["User"]


def test_selections_are_inside_their_source_and_select_the_segment_text(exported) -> None:
    store, path = exported
    root, texts, _ = read_qdpx(path)
    segment_texts = {
        (name, start, end): text
        for name, start, end, text in store.conn.execute(
            "SELECT t.name, s.char_start, s.char_end, s.text FROM segments s"
            " JOIN transcripts t ON t.id = s.transcript_id"
        )
    }
    count = 0
    for source in root.iter(f"{Q}TextSource"):
        text = texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]
        for selection in source.iter(f"{Q}PlainTextSelection"):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            assert 0 <= start < end <= len(text)
            assert text[start:end] == segment_texts[source.get("name"), start, end]
            count += 1
    # One selection per coder and turn (the segment memo is on a turn its writer coded).
    coded = store.conn.execute(
        "SELECT COUNT(*) FROM (SELECT DISTINCT segment_id, coder_id FROM codings)"
    ).fetchone()[0]
    assert count == coded


def test_positions_count_code_points_past_emoji(exported) -> None:
    _, path = exported
    root, texts, _ = read_qdpx(path)
    source = next(s for s in root.iter(f"{Q}TextSource") if s.get("name") == "R3.txt")
    text = texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]
    selection = source.find(f"{Q}PlainTextSelection")
    start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
    assert text[start:end] == "Å dele kunnskap på tvers, særlig om tillit 🤝 og åpenhet."
    # The file is UTF-8: decoding it byte-for-byte gives the same code points.
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("sources/" + source.get("plainTextPath").removeprefix("internal://"))
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8")[start:end] == text[start:end]


def test_codings_per_coder_and_code(exported) -> None:
    store, path = exported
    root, texts, _ = read_qdpx(path)
    users = {u.get("guid"): u.get("name") for u in root.iter(f"{Q}User")}
    assert set(users.values()) == {"auto", "kari", "ola"}
    code_names = {}

    def collect(element: ET.Element, prefix: str) -> None:
        for code in element.findall(f"{Q}Code"):
            path_ = f"{prefix}/{code.get('name')}" if prefix else code.get("name")
            code_names[code.get("guid")] = path_
            assert code.get("isCodable") == "true"
            collect(code, path_)

    collect(root.find(f"{Q}CodeBook/{Q}Codes"), "")
    exported_codings = set()
    for source in root.iter(f"{Q}TextSource"):
        text = texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]
        for selection in source.iter(f"{Q}PlainTextSelection"):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            for coding in selection.findall(f"{Q}Coding"):
                code = code_names[coding.find(f"{Q}CodeRef").get("targetGUID")]
                exported_codings.add((text[start:end], code, users[coding.get("creatingUser")]))
    stored = set(
        store.conn.execute(
            "SELECT s.text, COALESCE(p.name || '/', '') || k.name, d.name FROM codings c"
            " JOIN segments s ON s.id = c.segment_id JOIN codes k ON k.id = c.code_id"
            " LEFT JOIN codes p ON p.id = k.parent_id JOIN coders d ON d.id = c.coder_id"
        )
    )
    assert exported_codings == stored


def test_codebook_has_nested_codes_with_definitions_colours_and_inactive_set(exported) -> None:
    _, path = exported
    root, _, _ = read_qdpx(path)
    codes = root.find(f"{Q}CodeBook/{Q}Codes")
    top = {c.get("name"): c for c in codes.findall(f"{Q}Code")}
    assert set(top) == {"tillit", "forankring", "samkonkurranse", "gammel"}
    tillit = top["tillit"]
    assert tillit.get("color") == "#1f77b4"
    assert tillit.find(f"{Q}Description").text == "Tillit mellom aktørene"
    assert [c.get("name") for c in tillit.findall(f"{Q}Code")] == ["Åpenhet og deling"]
    # The project description keeps our code ids, for an exact round trip.
    description = root.find(f"{Q}Description").text
    for code in root.iter(f"{Q}Code"):
        assert f"{code.get('guid')} = " in description
    assert "= tillit/åpenhet\n" in description
    inactive = root.find(f"{Q}Sets/{Q}Set")
    assert [m.get("targetGUID") for m in inactive.findall(f"{Q}MemberCode")] == [
        top["gammel"].get("guid")
    ]


def test_memos_become_notes_on_selection_and_code_and_coding_memos_descriptions(
    exported,
) -> None:
    _, path = exported
    root, _, _ = read_qdpx(path)
    notes = {n.get("guid"): n.find(f"{Q}PlainTextContent").text for n in root.iter(f"{Q}Note")}
    assert sorted(notes.values()) == sorted(["Viktig sitat om forankring", "Skill mellom typer tillit"])
    tillit = next(c for c in root.iter(f"{Q}Code") if c.get("name") == "tillit")
    assert [notes[r.get("targetGUID")] for r in tillit.findall(f"{Q}NoteRef")] == [
        "Skill mellom typer tillit"
    ]
    on_selections = [
        notes[r.get("targetGUID")]
        for s in root.iter(f"{Q}PlainTextSelection")
        for r in s.findall(f"{Q}NoteRef")
    ]
    assert on_selections == ["Viktig sitat om forankring"]
    # A coding's memo is its selection's Description, as QualCoder, MAXQDA and ATLAS.ti read it.
    assert not [r for c in root.iter(f"{Q}Coding") for r in c.findall(f"{Q}NoteRef")]
    described = [
        (s.find(f"{Q}Description").text, len(s.findall(f"{Q}Coding")))
        for s in root.iter(f"{Q}PlainTextSelection")
        if s.find(f"{Q}Description") is not None
    ]
    assert described == [("Tillit bygd over tid", 1)]


def test_cases_carry_respondent_attributes_and_their_sources(exported) -> None:
    _, path = exported
    root, _, _ = read_qdpx(path)
    variables = {v.get("guid"): v for v in root.iter(f"{Q}Variable")}
    assert {v.get("name"): v.get("typeOfVariable") for v in variables.values()} == {
        "sector": "Text",
        "size": "Integer",
    }
    sources = {s.get("guid"): s.get("name") for s in root.iter(f"{Q}TextSource")}
    cases = {c.get("name"): c for c in root.iter(f"{Q}Case")}
    assert set(cases) == {"R1", "R2", "R3"}
    r2 = cases["R2"]
    values = {
        variables[v.find(f"{Q}VariableRef").get("targetGUID")].get("name"): v[1].text
        for v in r2.findall(f"{Q}VariableValue")
    }
    assert values == {"sector": "prosessindustri", "size": "900"}
    assert [sources[r.get("targetGUID")] for r in r2.findall(f"{Q}SourceRef")] == ["R2.txt"]


def test_coder_option_limits_users_and_codings(coded: Store, tmp_path: Path) -> None:
    path = tmp_path / "kari.qdpx"
    result = export_qdpx(coded, path, coders=["kari"])
    root, _, _ = read_qdpx(path)
    assert [u.get("name") for u in root.iter(f"{Q}User")] == ["kari"]
    kari = root.find(f"{Q}Users/{Q}User").get("guid")
    creators = {c.get("creatingUser") for c in root.iter(f"{Q}Coding")}
    assert creators == {kari}
    assert result.codings == 3
    # ola's code memo stays out, kari's memos stay in
    notes = [n.find(f"{Q}PlainTextContent").text for n in root.iter(f"{Q}Note")]
    assert "Skill mellom typer tillit" not in notes
    assert "Viktig sitat om forankring" in notes
    # the inactive code is not used by kari: it is left out
    assert "gammel" not in {c.get("name") for c in root.iter(f"{Q}Code")}


def test_guids_are_stable_across_exports_and_differ_between_projects(
    coded: Store, tmp_path: Path, small_corpus: Path
) -> None:
    first, second = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    export_qdpx(coded, first)
    namespace = coded.get_setting(NAMESPACE_SETTING)
    export_qdpx(coded, second)
    assert coded.get_setting(NAMESPACE_SETTING) == namespace

    def guids(path: Path) -> list[str]:
        root, _, names = read_qdpx(path)
        return [e.get("guid") for e in root.iter() if e.get("guid")] + sorted(names)

    assert guids(first) == guids(second)
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        strip = re.compile(rb'creationDateTime="[^"]*"')
        assert strip.sub(b"", a.read("project.qde")) == strip.sub(b"", b.read("project.qde"))

    from qualcode.ingest import ingest_paths

    other = create_store(tmp_path / "other")
    ingest_paths(other, [small_corpus / "R1.txt", small_corpus / "R2.txt"], command="t")
    export_qdpx(other, tmp_path / "c.qdpx")
    other.close()
    assert not set(guids(first)[:5]) & set(guids(tmp_path / "c.qdpx"))


def test_qdc_codebook(exported, tmp_path: Path) -> None:
    store, qdpx = exported
    path = tmp_path / "kodebok.qdc"
    result = export_qdc(store, path)
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{CB_NS}}}CodeBook"
    check_structure(root, CB_NS)
    names = [c.get("name") for c in root.iter(f"{{{CB_NS}}}Code")]
    # no inactive code
    assert sorted(names) == sorted(["Åpenhet og deling", "forankring", "samkonkurranse", "tillit"])
    assert result.codes == 4
    project_root, _, _ = read_qdpx(qdpx)
    project_guids = {c.get("name"): c.get("guid") for c in project_root.iter(f"{Q}Code")}
    assert {c.get("name"): c.get("guid") for c in root.iter(f"{{{CB_NS}}}Code")}.items() <= (
        project_guids.items()
    )


def test_export_errors_leave_store_and_folder_unchanged(coded: Store, tmp_path: Path) -> None:
    before = coded.dump()
    with pytest.raises(InputError, match="no coder layer 'per'"):
        export_qdpx(coded, tmp_path / "x.qdpx", coders=["per"])
    with pytest.raises(InputError, match=r"\.qdpx"):
        export_qdpx(coded, tmp_path / "x.zip")
    (tmp_path / "notes.txt").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(InputError, match="is a file, not a folder"):
        export_qdpx(coded, tmp_path / "notes.txt" / "x.qdpx")
    # A failed export does not leave the folders it would have made.
    with pytest.raises(InputError, match="no coder layer"):
        export_qdpx(coded, tmp_path / "missing" / "x.qdpx", coders=["per"])
    assert not (tmp_path / "missing").exists()
    assert coded.dump() == before
    assert not list(tmp_path.glob("*.qdpx")) and not list(tmp_path.glob(".*tmp"))


def test_exports_create_missing_folders(coded: Store, tmp_path: Path, runner) -> None:
    folder = str(coded.folder)
    qdpx = tmp_path / "til" / "veileder" / "p.qdpx"
    qdc = tmp_path / "kodebok" / "k.qdc"
    for command, target in (("qdpx", qdpx), ("qdc", qdc)):
        result = runner.invoke(app, ["-p", folder, "export", command, str(target)])
        assert result.exit_code == 0, result.output
        assert zipfile.is_zipfile(target) if command == "qdpx" else target.is_file()


def test_qdc_of_a_project_without_codes_is_an_error(ingested: Store, tmp_path: Path) -> None:
    before = ingested.dump()
    with pytest.raises(ProjectError, match="no codes"):
        export_qdc(ingested, tmp_path / "tom.qdc")
    assert ingested.dump() == before
    assert not (tmp_path / "tom.qdc").exists()


def test_cli_exports(coded: Store, tmp_path: Path, runner) -> None:
    folder = str(coded.folder)
    result = runner.invoke(
        app,
        [
            "--project",
            folder,
            "export",
            "qdpx",
            str(tmp_path / "p.qdpx"),
            "--coder",
            "ola",
            "--coder",
            "kari",
        ],
    )
    assert result.exit_code == 0, result.output
    root, _, _ = read_qdpx(tmp_path / "p.qdpx")
    assert sorted(u.get("name") for u in root.iter(f"{Q}User")) == ["kari", "ola"]
    result = runner.invoke(app, ["--project", folder, "export", "qdc", str(tmp_path / "k.qdc")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "k.qdc").is_file()
    result = runner.invoke(
        app, ["--project", folder, "export", "qdpx", str(tmp_path / "q.qdpx"), "--coder", "nobody"]
    )
    assert result.exit_code == 2
    assert "no coder layer 'nobody'" in result.output
    assert "Traceback" not in result.output


def test_exports_validate_against_the_standard_xsd(exported, refi_schemas, tmp_path: Path) -> None:
    project_xsd, codebook_xsd = refi_schemas
    store, qdpx = exported
    with zipfile.ZipFile(qdpx) as archive:
        (tmp_path / "project.qde").write_bytes(archive.read("project.qde"))
    project_xsd.validate(tmp_path / "project.qde")
    export_qdc(store, tmp_path / "k.qdc")
    codebook_xsd.validate(tmp_path / "k.qdc")
