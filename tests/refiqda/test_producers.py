"""REFI-QDA as the tools really write and read it: files imitating NVivo for Windows and Mac,
ATLAS.ti, MAXQDA and QualCoder, and qualcode's exports checked the way those tools read them."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from qualcode.cli.main import app
from qualcode.codebook import install_codebook, load_codebook, loads_codebook
from qualcode.errors import InputError
from qualcode.recode import recode
from qualcode.refiqda import export_qdc, export_qdpx, import_qdc, import_qdpx
from qualcode.refiqda.export import TARGETS, FileOffsets, Target
from qualcode.refiqda.guids import code_guid_map
from qualcode.refiqda.importer import Reading, position_map, utf16_to_code_points
from qualcode.store import Store, open_store

from .conftest import Q, read_qdpx

U1 = "a1111111-1111-4111-8111-111111111111"
U2 = "a2222222-2222-4222-8222-222222222222"
C_TOP = "c0000000-0000-4000-8000-000000000001"
C_SUB = "c0000000-0000-4000-8000-000000000002"
C_OTHER = "c0000000-0000-4000-8000-000000000003"
SRC = "50000000-0000-4000-8000-000000000001"
CASE = "ca000000-0000-4000-8000-000000000001"
VAR_BOOL = "fa000000-0000-4000-8000-000000000001"
VAR_INT = "fa000000-0000-4000-8000-000000000002"


def sel_guid(n: int) -> str:
    return f"5e000000-0000-4000-8000-{n:012d}"


def coding_guid(n: int) -> str:
    return f"c1000000-0000-4000-8000-{n:012d}"


def utf16_units(text: str, index: int) -> int:
    """The UTF-16 code unit offset of code point offset ``index``."""
    return len(text[:index].encode("utf-16-le")) // 2


def coded_texts(store: Store) -> set[tuple[str, str, str]]:
    """(coder, code path, the coded text: the passage if there is one, else the turn)."""
    columns = {r[1] for r in store.conn.execute("PRAGMA table_info(codings)")}
    quote = "c.quote_start, c.quote_end" if "quote_start" in columns else "NULL, NULL"
    found = set()
    for coder, path, text, start, end in store.conn.execute(
        f"SELECT d.name, k.path, s.text, {quote} FROM codings c"
        " JOIN coders d ON d.id = c.coder_id JOIN codes k ON k.id = c.code_id"
        " JOIN segments s ON s.id = c.segment_id"
    ):
        found.add((coder, path, text if start is None else text[start:end]))
    return found


def qde(body: str, origin: str = "", extra_codes: str = "") -> str:
    origin_attr = f' origin="{origin}"' if origin else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Klyngeprosjekt"{origin_attr}>
  <Users><User guid="{U1}" name="Kari"/><User guid="{U2}" name="Ola"/></Users>
  <CodeBook><Codes>
    <Code guid="{C_TOP}" name="Tillit" isCodable="false">
      <Description>Kategori for tillit</Description>
      <Code guid="{C_SUB}" name="Personlige relasjoner" isCodable="true"/>
    </Code>
    <Code guid="{C_OTHER}" name="Kunnskapsdeling" isCodable="true"/>{extra_codes}
  </Codes></CodeBook>
  {body}
</Project>"""


# -- an NVivo-for-Windows file: UTF-16 positions, emoji, CRLF, a byte-order mark -------------------

NVIVO_TEXT = (
    "Intervjuer: Hei, og takk for at du stiller opp 🙂 Hvordan begynte samarbeidet?\r\n"
    "Marit: Det starta egentlig på en messe i Ålesund 🎉 for fem år sida.\r\n"
    "Intervjuer: Og hvordan er tilliten nå?\r\n"
    "Marit: Ærlig talt 👍 stoler vi på dem, men vi deler ikke alt med konkurrentene.\r\n"
)
WHOLE_TURN = "Ærlig talt 👍 stoler vi på dem, men vi deler ikke alt med konkurrentene."
PASSAGE = "stoler vi på dem"
EARLY = "Det starta egentlig på en messe i Ålesund"


def nvivo_file(make_qdpx, name: str, origin: str, units: str) -> Path:
    """An NVivo-style project: the source file in UTF-16 with a BOM and CRLF, positions counted
    in ``units``: "utf-16", "code points", or "atlas" (code points, a CR LF counting one)."""

    def span(fragment: str) -> tuple[int, int]:
        start = NVIVO_TEXT.index(fragment)
        end = start + len(fragment)
        if units == "utf-16":
            return utf16_units(NVIVO_TEXT, start), utf16_units(NVIVO_TEXT, end)
        if units == "atlas":
            lines = NVIVO_TEXT[:start].count("\r\n")
            return start - lines, end - lines
        return start, end

    selections = []
    for n, (fragment, user, code) in enumerate(
        [(WHOLE_TURN, U1, C_OTHER), (PASSAGE, U2, C_SUB), (EARLY, U1, C_SUB)], start=1
    ):
        a, b = span(fragment)
        selections.append(
            f'<PlainTextSelection guid="{sel_guid(n)}" startPosition="{a}" endPosition="{b}"'
            f' creatingUser="{user}" creationDateTime="2024-03-01T10:00:0{n}Z">'
            f'<Coding guid="{coding_guid(n)}" creatingUser="{user}"><CodeRef targetGUID="{code}"/>'
            "</Coding></PlainTextSelection>"
        )
    body = (
        f'<Sources><TextSource guid="{SRC}" name="Marit" plainTextPath="internal://{SRC}.txt">'
        + "".join(selections)
        + "</TextSource></Sources>"
    )
    data = NVIVO_TEXT.encode("utf-16")  # with its byte-order mark
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    return make_qdpx(name, qde(body, origin), {f"sources/{SRC}.txt": data})


EXPECTED_NVIVO = {
    ("Kari", "kunnskapsdeling", WHOLE_TURN),
    ("Ola", "tillit/personlige-relasjoner", PASSAGE),
    ("Kari", "tillit/personlige-relasjoner", EARLY),
}


def test_nvivo_windows_positions_are_utf16_code_units(make_qdpx, tmp_path: Path) -> None:
    path = nvivo_file(make_qdpx, "nvivo12.qdpx", "NVivo 12.6.0.959 (Windows)", "utf-16")
    report = import_qdpx(path, tmp_path / "p")
    assert report.offsets == "UTF-16 code units"
    warning = next(w for w in report.warnings if "Basic Multilingual Plane" in w)
    assert "read as UTF-16 code units" in warning and "NVivo 12.6" in warning
    with open_store(tmp_path / "p") as store:
        assert coded_texts(store) == EXPECTED_NVIVO
        text = store.conn.execute("SELECT text FROM transcripts").fetchone()[0]
        assert "\r" not in text and not text.startswith("\ufeff")
        # The number of turns is what the source holds: 4 labelled turns.
        turns = store.conn.execute("SELECT COUNT(*) FROM segments WHERE position <= 4")
        assert turns.fetchone()[0] == 4


def test_other_producers_count_code_points(make_qdpx, tmp_path: Path) -> None:
    path = nvivo_file(make_qdpx, "atlas.qdpx", "ATLAS.ti 23.2.1", "code points")
    report = import_qdpx(path, tmp_path / "p")
    assert report.offsets == "code points"
    assert any("read as code points" in w for w in report.warnings)
    with open_store(tmp_path / "p") as store:
        assert coded_texts(store) == EXPECTED_NVIVO


def test_atlas_counts_a_windows_line_end_as_one(make_qdpx, tmp_path: Path) -> None:
    # ATLAS.ti writes its sources with CR LF but counts each line end as one position.
    path = nvivo_file(make_qdpx, "atlas23.qdpx", "ATLAS.ti 23.2.1 (Windows)", "atlas")
    report = import_qdpx(path, tmp_path / "p")
    assert report.offsets == "code points, a CR LF line end counting one"
    with open_store(tmp_path / "p") as store:
        assert coded_texts(store) == EXPECTED_NVIVO


def test_a_line_end_reading_other_than_the_producers_is_found_and_named(
    make_qdpx, tmp_path: Path
) -> None:
    # An NVivo file whose positions count CR LF as one (as ATLAS.ti does): the word boundaries
    # show it, and a warning says so. The text has no emoji.
    text = NVIVO_TEXT.replace("🙂 ", "").replace("🎉 ", "").replace("👍 ", "")
    body = []
    for n, fragment in enumerate(["Marit: Det starta", "Og hvordan er tilliten nå?"], start=1):
        start = text.index(fragment)
        start -= text[:start].count("\r\n")
        body.append(
            f'<PlainTextSelection guid="{sel_guid(n)}" startPosition="{start}"'
            f' endPosition="{start + len(fragment)}" creatingUser="{U1}">'
            f'<Coding guid="{coding_guid(n)}"><CodeRef targetGUID="{C_OTHER}"/></Coding>'
            "</PlainTextSelection>"
        )
    sources = (
        f'<Sources><TextSource guid="{SRC}" name="Marit" plainTextPath="internal://{SRC}.txt">'
        + "".join(body)
        + "</TextSource></Sources>"
    )
    path = make_qdpx("nv.qdpx", qde(sources, "NVivo 14 (Windows)"), {f"sources/{SRC}.txt": text})
    report = import_qdpx(path, tmp_path / "p")
    assert report.offsets == "UTF-16 code units, a CR LF line end counting one"
    assert any("not as its producer usually does" in w for w in report.warnings)
    with open_store(tmp_path / "p") as store:
        assert {t for _, _, t in coded_texts(store)} == {
            "Og hvordan er tilliten nå?",
            "Det starta",  # the speaker label in the selection is not part of the passage
        }


def test_without_origin_word_boundaries_decide(make_qdpx, tmp_path: Path) -> None:
    # No origin: code points would cut words ("'t nem lehet…"); UTF-16 lands on word edges.
    path = nvivo_file(make_qdpx, "ukjent.qdpx", "", "utf-16")
    report = import_qdpx(path, tmp_path / "p")
    assert report.offsets == "UTF-16 code units"
    assert any("no origin given" in w and "read as UTF-16" in w for w in report.warnings)
    with open_store(tmp_path / "p") as store:
        assert coded_texts(store) == EXPECTED_NVIVO


def test_nvivo_mac_counts_code_points(make_qdpx, tmp_path: Path) -> None:
    path = nvivo_file(make_qdpx, "mac.qdpx", "NVivo 15 for Mac", "code points")
    report = import_qdpx(path, tmp_path / "p")
    assert report.offsets == "code points"
    with open_store(tmp_path / "p") as store:
        assert coded_texts(store) == EXPECTED_NVIVO


def test_export_for_nvivo_counts_utf16_and_maxqda_gets_crlf(
    coded: Store, tmp_path: Path, validate_qdpx
) -> None:
    turns = {
        (name, start, end): text
        for name, start, end, text in coded.conn.execute(
            "SELECT t.name, s.char_start, s.char_end, s.text FROM segments s"
            " JOIN transcripts t ON t.id = s.transcript_id"
        )
    }
    coded_turns = {
        text
        for (text,) in coded.conn.execute(
            "SELECT s.text FROM codings c JOIN segments s ON s.id = c.segment_id"
        )
    }
    assert any(any(ord(ch) > 0xFFFF for ch in t) for t in turns.values())  # R3 has emoji
    for target in ("nvivo", "maxqda", "standard"):
        path = tmp_path / f"{target}.qdpx"
        result = export_qdpx(coded, path, target=target, pseudonymise=False)
        assert result.target == target
        validate_qdpx(path)
        root, texts, _ = read_qdpx(path)
        if target != "standard":
            assert f"(for {target}:" in root.get("origin")
        selected = set()
        for source in root.iter(f"{Q}TextSource"):
            text = texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]
            assert ("\r\n" in text) == (target == "maxqda")
            for sel in source.iter(f"{Q}PlainTextSelection"):
                a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
                if target == "nvivo":
                    units = text.encode("utf-16-le")
                    chosen = units[2 * a : 2 * b].decode("utf-16-le")
                else:  # MAXQDA counts a CR LF once
                    chosen = text.replace("\r\n", "\n")[a:b]
                selected.add(chosen)
        assert selected == coded_turns
        # Reading our own file back gives the same codings, whatever the target.
        report = import_qdpx(path, tmp_path / f"back-{target}")
        assert report.offsets == {
            "nvivo": "UTF-16 code units",
            "maxqda": "code points, a CR LF line end counting one",
            "standard": "code points",
        }[target]
        with open_store(tmp_path / f"back-{target}") as copy:
            assert coded_texts(copy) == coded_texts(coded)


# -- coders sharing a selection, memos as Description (QualCoder, MAXQDA, ATLAS.ti) ---------------

SHARED_TEXT = (
    "I: Hvordan deler dere kunnskap i klyngen?\n"
    "R5: Vi har faste frokostmøter, og der blir folk kjent med hverandre.\n"
    "I: Gjelder det konkurrentene også?\n"
    "R5: Ja, stort sett, men prisene snakker vi aldri om.\n"
)


def shared_file(make_qdpx) -> Path:
    turn = "Vi har faste frokostmøter, og der blir folk kjent med hverandre."
    other = "Ja, stort sett, men prisene snakker vi aldri om."
    a = SHARED_TEXT.index(turn)
    c = SHARED_TEXT.index(other)
    body = f"""<Sources><TextSource guid="{SRC}" name="R5" plainTextPath="internal://{SRC}.txt">
  <PlainTextSelection guid="{sel_guid(1)}" startPosition="{a}" endPosition="{a + len(turn)}"
      creatingUser="{U1}" creationDateTime="2024-03-01T10:00:00Z">
    <Coding guid="{coding_guid(1)}" creatingUser="{U1}"><CodeRef targetGUID="{C_OTHER}"/></Coding>
    <Coding guid="{coding_guid(2)}" creatingUser="{U2}"><CodeRef targetGUID="{C_OTHER}"/></Coding>
    <Coding guid="{coding_guid(3)}" creatingUser="{U2}"><CodeRef targetGUID="{C_SUB}"/></Coding>
  </PlainTextSelection>
  <PlainTextSelection guid="{sel_guid(2)}" startPosition="{c}" endPosition="{c + len(other)}"
      creatingUser="{U2}">
    <Description>Sier rett ut at prisene er tabu</Description>
    <Coding guid="{coding_guid(4)}" creatingUser="{U2}"><CodeRef targetGUID="{C_SUB}"/></Coding>
  </PlainTextSelection>
  <PlainTextSelection guid="{sel_guid(3)}" startPosition="{c}" endPosition="{c + len(other)}"
      creatingUser="{U1}">
    <Description>Et notat om hele svaret</Description>
    <Coding guid="{coding_guid(5)}" creatingUser="{U1}"><CodeRef targetGUID="{C_SUB}"/></Coding>
    <Coding guid="{coding_guid(6)}" creatingUser="{U1}"><CodeRef targetGUID="{C_OTHER}"/></Coding>
  </PlainTextSelection>
</TextSource></Sources>"""
    return make_qdpx(
        "qualcoder.qdpx", qde(body, "QualCoder 3.5"), {f"sources/{SRC}.txt": SHARED_TEXT}
    )


def test_codings_of_several_coders_in_one_selection_keep_their_coders(
    make_qdpx, tmp_path: Path
) -> None:
    report = import_qdpx(shared_file(make_qdpx), tmp_path / "p")
    assert report.codings == {"Kari": 3, "Ola": 3}
    with open_store(tmp_path / "p") as store:
        by_coder = {
            (coder, path) for coder, path, _ in coded_texts(store) if _.startswith("Vi har faste")
        }
        assert by_coder == {
            ("Kari", "kunnskapsdeling"),
            ("Ola", "kunnskapsdeling"),
            ("Ola", "tillit/personlige-relasjoner"),
        }


def test_a_selections_description_is_its_codings_memo(make_qdpx, tmp_path: Path) -> None:
    import_qdpx(shared_file(make_qdpx), tmp_path / "p")
    with open_store(tmp_path / "p") as store:
        memos = store.conn.execute(
            "SELECT d.name, k.path, c.memo FROM codings c JOIN coders d ON d.id = c.coder_id"
            " JOIN codes k ON k.id = c.code_id WHERE c.memo IS NOT NULL"
        ).fetchall()
        # One coding in the selection: the Description is that coding's memo (QualCoder).
        assert memos == [("Ola", "tillit/personlige-relasjoner", "Sier rett ut at prisene er tabu")]
        # Several codings: it is a memo on the turn, by the selection's coder.
        turn_memos = store.conn.execute(
            "SELECT coder, text FROM memos WHERE segment_id IS NOT NULL"
        ).fetchall()
        assert turn_memos == [("Kari", "Et notat om hele svaret")]


def test_export_writes_one_selection_per_coder_with_memo_in_description(
    make_qdpx, tmp_path: Path, validate_qdpx
) -> None:
    import_qdpx(shared_file(make_qdpx), tmp_path / "p")
    with open_store(tmp_path / "p") as store:
        path = tmp_path / "ut.qdpx"
        export_qdpx(store, path, target="qualcoder")
        validate_qdpx(path)
        root, _, _ = read_qdpx(path)
        selections = list(root.iter(f"{Q}PlainTextSelection"))
        for sel in selections:
            # Every coding's coder is its selection's creatingUser, as QualCoder reads it.
            assert {c.get("creatingUser") for c in sel.findall(f"{Q}Coding")} <= {
                sel.get("creatingUser")
            }
            assert not sel.findall(f"{Q}Coding/{Q}NoteRef")
        described = [
            (sel.find(f"{Q}Description").text, len(sel.findall(f"{Q}Coding")))
            for sel in selections
            if sel.find(f"{Q}Description") is not None
        ]
        assert described == [("Sier rett ut at prisene er tabu", 1)]
        # The turn memo stays a note on Kari's selection of that turn.
        assert len(root.findall(f"{Q}Notes/{Q}Note")) == 1
        # Dates are UTC with Z, which QualCoder parses.
        dates = [e.get("creationDateTime") for e in root.iter() if e.get("creationDateTime")]
        assert dates and all(d.endswith("Z") and "+" not in d for d in dates)
        # A second round trip changes nothing: same codings, coders and memos.
        import_qdpx(path, tmp_path / "igjen")
        with open_store(tmp_path / "igjen") as again:
            assert coded_texts(again) == coded_texts(store)
            memo_sql = "SELECT memo FROM codings WHERE memo IS NOT NULL"
            assert (
                again.conn.execute(memo_sql).fetchall() == store.conn.execute(memo_sql).fetchall()
            )


def test_coding_memos_read_from_a_noteref_too(make_qdpx, tmp_path: Path) -> None:
    turn = "Vi har faste frokostmøter, og der blir folk kjent med hverandre."
    a = SHARED_TEXT.index(turn)
    note = "f0000000-0000-4000-8000-000000000001"
    body = f"""<Sources><TextSource guid="{SRC}" name="R5" plainTextPath="internal://{SRC}.txt">
  <PlainTextSelection guid="{sel_guid(1)}" startPosition="{a}" endPosition="{a + len(turn)}">
    <Coding guid="{coding_guid(1)}" creatingUser="{U1}"><CodeRef targetGUID="{C_OTHER}"/>
      <NoteRef targetGUID="{note}"/></Coding>
  </PlainTextSelection></TextSource></Sources>
  <Notes><Note guid="{note}" name="memo"><PlainTextContent>Frokost som arena</PlainTextContent></Note></Notes>"""
    import_qdpx(
        make_qdpx("eldre.qdpx", qde(body), {f"sources/{SRC}.txt": SHARED_TEXT}), tmp_path / "p"
    )
    with open_store(tmp_path / "p") as store:
        assert store.conn.execute("SELECT memo FROM codings").fetchall() == [("Frokost som arena",)]


# -- a codebook-only project (NVivo for Mac, ATLAS.ti), media sources, cases and variables --------


def codebook_only(make_qdpx) -> Path:
    body = f"""<Variables>
    <Variable guid="{VAR_BOOL}" name="Eksportbedrift" typeOfVariable="Boolean"/>
    <Variable guid="{VAR_INT}" name="AntallAnsatte" typeOfVariable="Integer"/>
  </Variables>
  <Cases><Case guid="{CASE}" name="R7">
    <Description>Daglig leder i et verft, intervjuet på Teams</Description>
    <VariableValue><VariableRef targetGUID="{VAR_BOOL}"/><BooleanValue>true</BooleanValue></VariableValue>
    <VariableValue><VariableRef targetGUID="{VAR_INT}"/><IntegerValue>120</IntegerValue></VariableValue>
  </Case></Cases>
  <Sources><PDFSource guid="{SRC}" name="Strategi.pdf" path="internal://{SRC}.pdf">
    <PDFSelection guid="{sel_guid(1)}" page="1" firstX="1" firstY="1" secondX="9" secondY="9">
      <Coding guid="{coding_guid(1)}" creatingUser="{U1}"><CodeRef targetGUID="{C_SUB}"/></Coding>
      <Coding guid="{coding_guid(2)}" creatingUser="{U2}"><CodeRef targetGUID="{C_SUB}"/></Coding>
    </PDFSelection>
    <PDFSelection guid="{sel_guid(2)}" page="2" firstX="1" firstY="1" secondX="9" secondY="9">
      <Coding guid="{coding_guid(3)}" creatingUser="{U1}"><CodeRef targetGUID="{C_OTHER}"/></Coding>
    </PDFSelection>
  </PDFSource></Sources>"""
    return make_qdpx("mac.qdpx", qde(body, "NVivo 15.1 for Mac"))


def test_codebook_only_project_imports_codebook_users_and_cases(
    make_qdpx, tmp_path: Path, runner
) -> None:
    path = codebook_only(make_qdpx)
    result = runner.invoke(app, ["import", "qdpx", str(path), str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "codebook-only project" in output
    assert "skipped 1 PDF source holding 3 codings" in output
    with open_store(tmp_path / "p") as store:
        assert store.code_paths(active_only=True) == [
            "tillit",
            "tillit/personlige-relasjoner",
            "kunnskapsdeling",
        ]
        assert store.conn.execute("SELECT name, guid FROM coders ORDER BY name").fetchall() == [
            ("Kari", U1.upper()),
            ("Ola", U2.upper()),
        ]
        assert store.conn.execute("SELECT label, guid, memo FROM respondents").fetchall() == [
            ("R7", CASE.upper(), "Daglig leder i et verft, intervjuet på Teams")
        ]
        # Attribute names are case-folded, as everywhere in qualcode (reports find them in any
        # case); the names as written and the types are kept for the way back.
        assert store.conn.execute(
            "SELECT name, value FROM respondent_attributes ORDER BY name"
        ).fetchall() == [("antallansatte", "120"), ("eksportbedrift", "true")]
        assert store.conn.execute(
            "SELECT name, type, label FROM attribute_types ORDER BY name"
        ).fetchall() == [
            ("antallansatte", "Integer", "AntallAnsatte"),
            ("eksportbedrift", "Boolean", "Eksportbedrift"),
        ]
        out = tmp_path / "tilbake.qdpx"
        export_qdpx(store, out)
    root, _, _ = read_qdpx(out)
    assert {v.get("name"): v.get("typeOfVariable") for v in root.iter(f"{Q}Variable")} == {
        "AntallAnsatte": "Integer",
        "Eksportbedrift": "Boolean",
    }
    case = root.find(f"{Q}Cases/{Q}Case")
    assert case.get("guid") == CASE.upper()
    assert case.find(f"{Q}Description").text.startswith("Daglig leder")
    assert [v.find(f"{Q}BooleanValue") is not None for v in case.findall(f"{Q}VariableValue")] == [
        False,
        True,
    ]


def test_import_qdc_takes_the_codebook_of_a_qdpx(make_qdpx, tmp_path: Path, runner) -> None:
    path = codebook_only(make_qdpx)
    result = runner.invoke(app, ["import", "qdc", str(path), "-o", str(tmp_path / "kb.yaml")])
    assert result.exit_code == 0, result.output
    book = load_codebook(tmp_path / "kb.yaml")
    assert book.paths() == ["tillit", "tillit/personlige-relasjoner", "kunnskapsdeling"]
    assert book.find("tillit").codable is False
    assert book.find("tillit").guid == C_TOP.upper()


def test_a_project_with_neither_text_nor_codes_is_refused(make_qdpx, tmp_path: Path) -> None:
    empty = (
        '<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" '
        f'name="x"><Users><User guid="{U1}" name="Kari"/></Users></Project>'
    )
    with pytest.raises(InputError, match="no text sources and no codes"):
        import_qdpx(make_qdpx("tom.qdpx", empty), tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_a_nameless_source_is_named_by_its_file(make_qdpx, tmp_path: Path) -> None:
    body = (
        f'<Sources><TextSource guid="{SRC}" plainTextPath="internal://R8_intervju.txt"/></Sources>'
    )
    import_qdpx(
        make_qdpx("atlas.qdpx", qde(body), {"sources/R8_intervju.txt": SHARED_TEXT}),
        tmp_path / "p",
    )
    with open_store(tmp_path / "p") as store:
        assert store.conn.execute("SELECT name, guid FROM transcripts").fetchall() == [
            ("R8_intervju.txt", SRC.upper())
        ]
        assert store.conn.execute("SELECT label FROM respondents").fetchall() == [("R8_intervju",)]


def test_source_description_is_kept_as_its_memo(make_qdpx, tmp_path: Path) -> None:
    body = (
        f'<Sources><TextSource guid="{SRC}" name="R5" plainTextPath="internal://{SRC}.txt">'
        "<Description>Transkribert av Kari, lydfil mangler siste fem minutter</Description>"
        "</TextSource></Sources>"
    )
    import_qdpx(make_qdpx("m.qdpx", qde(body), {f"sources/{SRC}.txt": SHARED_TEXT}), tmp_path / "p")
    with open_store(tmp_path / "p") as store:
        assert (
            store.conn.execute("SELECT memo FROM transcripts")
            .fetchone()[0]
            .startswith("Transkribert av Kari")
        )
        export_qdpx(store, tmp_path / "ut.qdpx")
    root, _, _ = read_qdpx(tmp_path / "ut.qdpx")
    source = root.find(f"{Q}Sources/{Q}TextSource")
    assert source.get("guid") == SRC.upper()
    assert source.find(f"{Q}Description").text.startswith("Transkribert av Kari")


# -- isCodable -----------------------------------------------------------------------------------


def test_is_codable_false_is_kept_and_refused_by_recode(
    make_qdpx, tmp_path: Path, runner, validate_qdpx
) -> None:
    import_qdpx(shared_file(make_qdpx), tmp_path / "p")
    with open_store(tmp_path / "p") as store:
        assert dict(store.conn.execute("SELECT path, codable FROM codes")) == {
            "tillit": 0,
            "tillit/personlige-relasjoner": 1,
            "kunnskapsdeling": 1,
        }
        content = store.conn.execute("SELECT content FROM codebook_versions").fetchone()[0]
        assert yaml.safe_load(content.split("\n", 4)[-1])["codes"][0]["codable"] is False
        seg = store.conn.execute("SELECT id FROM segments WHERE role = 'respondent'").fetchone()[0]
        with pytest.raises(InputError, match=r"category.*personlige-relasjoner"):
            recode(store, [seg], "Kari", add=["tillit"])
        export_qdpx(store, tmp_path / "ut.qdpx")
        validate_qdpx(tmp_path / "ut.qdpx")
        export_qdc(store, tmp_path / "ut.qdc")
    result = runner.invoke(
        app, ["--project", str(tmp_path / "p"), "recode", str(seg), "--add", "tillit", "-c", "Kari"]
    )
    assert result.exit_code == 2 and "codable: false" in " ".join(result.output.split())
    for path in (tmp_path / "ut.qdc",):
        codes = {c.get("name"): c.get("isCodable") for c in ET.parse(path).iter() if c.get("name")}
        assert codes == {
            "Tillit": "false",
            "Personlige relasjoner": "true",
            "Kunnskapsdeling": "true",
        }


def test_codebook_yaml_codable_false(tmp_path: Path) -> None:
    text = """name: klynge
codes:
  - id: tillit
    codable: false
    keywords: [tillit]
    codes:
      - id: relasjoner
        keywords: [kjenner hverandre]
  - id: tom-kategori
    codable: false
"""
    book = loads_codebook(text, "kb.yaml")
    assert book.find("tillit").codable is False
    assert book.find("tillit/relasjoner").codable is True
    warnings = " ".join(str(w) for w in book.warnings)
    assert "only count as evidence for its parent" in warnings
    assert "tom-kategori" in warnings and "nothing can ever use it" in warnings
    with pytest.raises(InputError, match="codable"):
        loads_codebook(
            text.replace("codable: false\n    keywords", "codable: kanskje\n    keywords")
        )


def test_autocode_never_assigns_a_category(ingested: Store, tmp_path: Path) -> None:
    from qualcode.autocode import CompiledCodebook

    book = loads_codebook(
        """name: klynge
codes:
  - id: samarbeid
    codable: false
    keywords: [samarbeid, samarbeider]
  - id: tillit
    keywords: [tillit]
""",
        "kb.yaml",
    )
    compiled = CompiledCodebook(book)
    coded = compiled.code_text("Vi samarbeider mye, og tilliten er stor.")
    assert "samarbeid" not in coded
    assert "tillit" in coded


# -- GUIDs and the .qdc round trip --------------------------------------------------------------


def guids_by_kind(path: Path) -> dict[str, dict[str, str]]:
    root, _, _ = read_qdpx(path)
    found: dict[str, dict[str, str]] = {}
    for kind in ("Code", "User", "TextSource", "Case"):
        found[kind] = {e.get("name"): e.get("guid") for e in root.iter(f"{Q}{kind}")}
    return found


def test_own_guids_survive_export_import_export(coded: Store, tmp_path: Path) -> None:
    first = tmp_path / "en.qdpx"
    export_qdpx(coded, first)
    import_qdpx(first, tmp_path / "kopi")
    with open_store(tmp_path / "kopi") as copy:
        second = tmp_path / "to.qdpx"
        export_qdpx(copy, second)
    before, after = guids_by_kind(first), guids_by_kind(second)
    for kind in ("Code", "User", "TextSource", "Case"):
        assert before[kind] and after[kind] == before[kind], kind


def test_foreign_guids_are_stored_and_written_back(make_qdpx, tmp_path: Path) -> None:
    import_qdpx(shared_file(make_qdpx), tmp_path / "p")
    with open_store(tmp_path / "p") as store:
        export_qdpx(store, tmp_path / "ut.qdpx")
    guids = guids_by_kind(tmp_path / "ut.qdpx")
    assert guids["Code"] == {
        "Tillit": C_TOP.upper(),
        "Personlige relasjoner": C_SUB.upper(),
        "Kunnskapsdeling": C_OTHER.upper(),
    }
    assert guids["User"] == {"Kari": U1.upper(), "Ola": U2.upper()}
    assert guids["TextSource"] == {"R5": SRC.upper()}


def test_qdc_round_trip_keeps_every_path_and_renamed_codes_follow_their_guid(
    coded: Store, tmp_path: Path, runner
) -> None:
    folder = str(coded.folder)
    before = dict(
        coded.conn.execute(
            "SELECT path, COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id GROUP BY path"
        )
    )
    assert (
        runner.invoke(
            app, ["--project", folder, "export", "qdc", str(tmp_path / "k.qdc")]
        ).exit_code
        == 0
    )
    # The supervisor renames the subcode in NVivo: the display name changes, the GUID stays.
    tree = ET.parse(tmp_path / "k.qdc")
    for code in tree.iter():
        if code.get("name") == "Åpenhet og deling":
            code.set("name", "Åpenhet i klyngen")
    tree.write(tmp_path / "k.qdc", xml_declaration=True, encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "--project",
            folder,
            "import",
            "qdc",
            str(tmp_path / "k.qdc"),
            "-o",
            str(tmp_path / "k.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    book = load_codebook(tmp_path / "k.yaml")
    assert set(book.paths()) == set(coded.code_paths(active_only=True))
    assert book.find("tillit/åpenhet").name == "Åpenhet i klyngen"
    result = runner.invoke(app, ["--project", folder, "codebook", "load", str(tmp_path / "k.yaml")])
    assert result.exit_code == 0, result.output
    # Nothing is orphaned: only 'gammel', retired before the export, stays inactive.
    orphaned = [line for line in result.output.splitlines() if "keeps its" in line]
    assert len(orphaned) == 1 and "'gammel'" in orphaned[0]
    with open_store(coded.folder) as store:
        assert dict(
            store.conn.execute(
                "SELECT path, COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id WHERE k.active = 1 GROUP BY path"
            )
        ) == {p: n for p, n in before.items() if p != "gammel"}
        assert store.conn.execute(
            "SELECT name FROM codes WHERE path = 'tillit/åpenhet'"
        ).fetchone() == ("Åpenhet i klyngen",)
        guid = code_guid_map(store)
        assert guid and all(path in store.code_paths(active_only=False) for path in guid.values())


def test_a_code_moved_elsewhere_follows_its_guid_with_its_codings(
    coded: Store, tmp_path: Path
) -> None:
    export_qdc(coded, tmp_path / "k.qdc")
    import_qdc(tmp_path / "k.qdc", tmp_path / "k.yaml", known=code_guid_map(coded))
    document = yaml.safe_load((tmp_path / "k.yaml").read_text(encoding="utf-8"))
    # Another tool moved "Åpenhet og deling" from under tillit to the top, as "apenhet".
    tillit = next(c for c in document["codes"] if c["id"] == "tillit")
    moved = tillit.pop("codes")[0]
    moved["id"] = "apenhet"
    document["codes"].append(moved)
    (tmp_path / "flyttet.yaml").write_text(
        yaml.safe_dump(document, allow_unicode=True), encoding="utf-8"
    )
    count = coded.conn.execute(
        "SELECT COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id WHERE k.path = 'tillit/åpenhet'"
    ).fetchone()[0]
    assert count == 1
    changes = install_codebook(
        coded, load_codebook(tmp_path / "flyttet.yaml"), "test", guid_paths=code_guid_map(coded)
    )
    assert changes.moved == {"tillit/åpenhet": "apenhet"}
    assert changes.kept_with_codings == {"gammel": 1}  # retired before, as it was
    assert (
        coded.conn.execute(
            "SELECT COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id WHERE k.path = 'apenhet'"
        ).fetchone()[0]
        == count
    )
    assert coded.code_id("tillit/åpenhet") is None


def test_codebook_export_validates_with_codable_and_guids(
    coded: Store, tmp_path: Path, refi_schemas
) -> None:
    with coded.write("test") as tx:
        tx.conn.execute("UPDATE codes SET codable = 0 WHERE path = 'tillit'")
    export_qdc(coded, tmp_path / "k.qdc")
    refi_schemas[1].validate(tmp_path / "k.qdc")
    codes = {
        c.get("name"): c.get("isCodable")
        for c in ET.parse(tmp_path / "k.qdc").iter()
        if c.get("name")
    }
    assert codes["tillit"] == "false"


# -- position conversions, for any text ------------------------------------------------------------

TEXT_ALPHABET = st.sampled_from(["a", "ø", " ", "\n", "🙂", "👍🏽", "\u0301", "Å", "\U0001d11e"])


@given(st.lists(TEXT_ALPHABET, max_size=40).map("".join))
def test_file_offsets_and_their_inverse_agree_for_any_text(text: str) -> None:
    nvivo = FileOffsets(text, TARGETS["nvivo"])
    maxqda = FileOffsets(text, TARGETS["maxqda"])
    both = FileOffsets(text, Target("t", offsets="utf-16", newline="\r\n"))
    back = utf16_to_code_points(text)
    crlf = Reading(utf16=True)
    for i in range(len(text) + 1):
        units = nvivo(i)
        assert units == len(text[:i].encode("utf-16-le")) // 2
        assert back[units] == i
        assert maxqda(i) == i  # a CR LF counts once
        assert position_map(both.file_text, crlf)[both(i)] == len(text[:i].replace("\n", "\r\n"))
    assert maxqda.file_text == text.replace("\n", "\r\n")
    assert len(back) == len(text.encode("utf-16-le")) // 2 + 1


def test_export_for_an_unknown_tool_is_one_line(coded: Store, tmp_path: Path, runner) -> None:
    result = runner.invoke(
        app,
        [
            "--project",
            str(coded.folder),
            "export",
            "qdpx",
            str(tmp_path / "x.qdpx"),
            "--for",
            "spss",
        ],
    )
    assert result.exit_code == 2
    assert "unknown export target 'spss'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.qdpx").exists()


def test_a_malformed_guid_is_not_kept(make_qdpx, tmp_path: Path, validate_qdpx) -> None:
    # Some tools write ids that are not GUIDs; they are read, but not stored or written back.
    with zipfile.ZipFile(shared_file(make_qdpx)) as archive:
        qde_text = archive.read("project.qde").decode("utf-8").replace(C_OTHER, "kode-7")
    path = make_qdpx("rar.qdpx", qde_text, {f"sources/{SRC}.txt": SHARED_TEXT})
    import_qdc(path, tmp_path / "kb.yaml")
    book = load_codebook(tmp_path / "kb.yaml")  # loads: no malformed guid in the YAML
    assert book.find("kunnskapsdeling").guid is None
    import_qdpx(path, tmp_path / "p")
    with open_store(tmp_path / "p") as store:
        assert store.conn.execute(
            "SELECT guid FROM codes WHERE path = 'kunnskapsdeling'"
        ).fetchone() == (None,)
        export_qdpx(store, tmp_path / "ut.qdpx")
    validate_qdpx(tmp_path / "ut.qdpx")


def test_a_coding_memo_never_shares_its_selection(coded: Store, tmp_path: Path) -> None:
    # kari codes R1 turn 4 with tillit (memo) and forankring (none): QualCoder would give the
    # Description to both codings of one selection, so the memo'd coding gets its own.
    seg = coded.conn.execute(
        "SELECT s.id FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
        " WHERE t.name = 'R1.txt' AND s.position = 4"
    ).fetchone()[0]
    with coded.write("test") as tx:
        coded.add_coding(tx, seg, "forankring", "kari")
    path = tmp_path / "ut.qdpx"
    export_qdpx(coded, path, pseudonymise=False)
    root, _, _ = read_qdpx(path)
    for sel in root.iter(f"{Q}PlainTextSelection"):
        if sel.find(f"{Q}Description") is not None:
            assert len(sel.findall(f"{Q}Coding")) == 1
    import_qdpx(path, tmp_path / "p")
    memo_sql = (
        "SELECT k.path, d.name, c.memo FROM codings c JOIN codes k ON k.id = c.code_id"
        " JOIN coders d ON d.id = c.coder_id WHERE c.memo IS NOT NULL OR d.name = 'kari'"
    )
    with open_store(tmp_path / "p") as copy:
        assert set(copy.conn.execute(memo_sql)) == set(coded.conn.execute(memo_sql))
        turn_memos = "SELECT coder, text FROM memos WHERE segment_id IS NOT NULL"
        assert set(copy.conn.execute(turn_memos)) == set(coded.conn.execute(turn_memos))
