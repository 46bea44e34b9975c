"""Reports a supervisor signs off (issue 14), checked on the written files themselves: no firm
from a file name in any XML part, Word column widths by the rule, every Excel sheet frozen, sized
and set up for printing, the machine-draft label exactly when the layer is ``auto``."""

from __future__ import annotations

import ast
import csv
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from tests.helpers import mark_coded_transcripts_done

from qualcode.cli.main import app
from qualcode.pseudonyms import Pseudonym, Pseudonyms, fold
from qualcode.respondent_labels import neutral_labels
from qualcode.store import open_store

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FIRMS = ["haugland", "fjordal", "kvernes", "nordvik", "bolgen", "strømstyring"]

TURNS = {
    "R1_haugland.txt": [
        "Hvordan ble dere med i klyngen?",
        "Nei, det var vel daglig leder som tok det opp på et styremøte, og så tenkte vi at det "
        "kunne være lurt å være med der de andre er. Vi stoler jo på folk vi har kjent lenge.",
        "Og hva får dere ut av det?",
        "Altså, vi deler ikke priser med konkurrentene, det gjør vi ikke. Men vi snakker om "
        "lærlinger og kurs, og det er egentlig ganske nyttig for en liten bedrift som oss.",
    ],
    "R2_fjordal.txt": [
        "Hvem i ledelsen følger opp klyngen?",
        "Det er teknologisjefen, og han rapporterer til ledergruppa hvert kvartal. Så det er "
        "forankret, på en måte, selv om ikke alle på gulvet vet hva klyngen driver med.",
        "Merker dere konkurransen?",
        "Ja, vi slåss om de samme ingeniørene, det er ingen tvil om det. Men vi kan likevel "
        "stå sammen når vi søker forskningsmidler, det har vi gjort to ganger nå.",
    ],
    "R3-kvernes.txt": [
        "Hva betyr møteplassene for dere?",
        "Frokostmøtene er gull, ærlig talt. Der treffer vi folk vi aldri ville ringt ellers, og "
        "klyngeledelsen er flink til å koble oss med de som trenger det vi lager.",
        "Stoler du på de andre medlemmene?",
        "Tja, noen av dem. Det tar tid, og det holder ikke med én samling i året for å bli kjent.",
    ],
    "R4 nordvik.txt": [
        "Har dere mål for medlemskapet?",
        "Nei, ikke skrevet ned i hvert fall. Vi har snakket om at vi burde sette noe på papiret, "
        "men hverdagen tar oss, og så blir det bare med praten.",
        "Hvordan er samarbeidet med kommunen?",
        "Kommunen har vært med og betalt for forprosjektet, og det hadde vi ikke klart alene.",
    ],
    "R5_bolgen.txt": [
        "Hvorfor ble dere med?",
        "Vi var nye i regionen, og vi trengte å bli kjent med kundene og leverandørene her. "
        "Klyngen var den raskeste veien inn, det må jeg si.",
        "Deler dere kunnskap med konkurrentene?",
        "Litt. Om sikkerhet og HMS deler vi alt, men om anbud og priser sier vi ingenting.",
    ],
    "strømstyring.txt": [
        "Hva er det viktigste klyngen gjør?",
        "Den samler oss når store kunder utenfra kommer, så vi kan levere sammen det ingen av "
        "oss klarer alene. Det har gitt oss to kontrakter de siste årene.",
        "Og ulempene?",
        "Det går mye tid til møter, og ikke alle møtene er like nyttige for en bedrift på vår "
        "størrelse.",
    ],
}

# Two coders who agree on most turns and differ on some, with a memo that names nobody.
LAYERS = {
    "kari": [
        ("R1_haugland.txt", 2, "tillit", "kjenner folk lenge"),
        ("R1_haugland.txt", 4, "samkonkurranse", ""),
        ("R2_fjordal.txt", 2, "forankring", ""),
        ("R2_fjordal.txt", 4, "samkonkurranse", "konkurrerer om folk"),
        ("R3-kvernes.txt", 2, "fasilitering", ""),
        ("R3-kvernes.txt", 4, "tillit", ""),
        ("R4 nordvik.txt", 2, "forankring", "ingen mål"),
        ("R4 nordvik.txt", 4, "fasilitering", ""),
        ("R5_bolgen.txt", 2, "fasilitering", ""),
        ("R5_bolgen.txt", 4, "samkonkurranse", ""),
        ("strømstyring.txt", 2, "samkonkurranse", ""),
        ("strømstyring.txt", 4, "fasilitering", ""),
    ],
    "jonas": [
        ("R1_haugland.txt", 2, "tillit", ""),
        ("R1_haugland.txt", 4, "samkonkurranse", ""),
        ("R2_fjordal.txt", 2, "forankring", ""),
        ("R2_fjordal.txt", 4, "tillit", "samarbeid, ikke konkurranse"),
        ("R3-kvernes.txt", 2, "fasilitering", ""),
        ("R3-kvernes.txt", 4, "tillit", ""),
        ("R4 nordvik.txt", 2, "forankring", ""),
        ("R4 nordvik.txt", 4, "forankring", "kommunen som eier"),
        ("R5_bolgen.txt", 2, "tillit", ""),
        ("R5_bolgen.txt", 4, "samkonkurranse", ""),
        ("strømstyring.txt", 2, "samkonkurranse", ""),
        ("strømstyring.txt", 4, "fasilitering", ""),
    ],
}


def _write_folder(folder: Path) -> None:
    folder.mkdir()
    for name, turns in TURNS.items():
        lines = [f"{'I' if i % 2 == 0 else 'R'}: {text}" for i, text in enumerate(turns)]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "koding").mkdir()
    for coder, rows in LAYERS.items():
        with (folder / "koding" / f"{coder}.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["file", "turn", "code", "memo"])
            writer.writerows(rows)


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``analyze`` on a folder whose file names carry firm names, without respondents.csv, then
    the full report of a human layer too."""
    from typer.testing import CliRunner

    base = tmp_path_factory.mktemp("signoff")
    _write_folder(base / "intervjuer")
    runner = CliRunner()
    out = base / "masteroppgave"
    result = runner.invoke(app, ["analyze", str(base / "intervjuer"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["-p", str(out), "report", "all", "-c", "kari", "--out", str(out / "kari")]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["-p", str(out), "report", "quotes", "-c", "kari", "-o", str(out / "sitater.docx")]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["-p", str(out), "disagreements", "kari", "jonas", "-o", str(out / "uenig.docx")]
    )
    assert result.exit_code == 0, result.output
    return out


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name).decode("utf-8", errors="replace")
            for name in archive.namelist()
            if name.endswith((".xml", ".rels"))
        }


def test_respondents_get_neutral_labels_never_the_file_name(analyzed: Path) -> None:
    with open_store(analyzed) as store:
        owners = dict(
            store.conn.execute(
                "SELECT t.name, r.label FROM transcripts t JOIN respondents r"
                " ON r.id = t.respondent_id"
            )
        )
    assert owners == {
        "R1_haugland.txt": "R1",
        "R2_fjordal.txt": "R2",
        "R3-kvernes.txt": "R3",
        "R4 nordvik.txt": "R4",
        "R5_bolgen.txt": "R5",
        "strømstyring.txt": "R6",  # no id in the name: the next free R number
    }


def test_neutral_labels_rule() -> None:
    names = ["IP03_bolgen.docx", "haugland2.txt", "Int 7.txt", "x.txt", "07-nordvik.txt", "R9.txt"]
    files = [Path(n) for n in names]
    assert neutral_labels(files, taken=["R1"]) == {
        files[0]: "IP03",
        files[1]: "R2",  # a name with a digit is not an id: the next free R number
        files[2]: "R3",  # "Int" holds no digit
        files[3]: "R4",
        files[4]: "07",
        files[5]: "R9",
    }


def test_no_firm_from_a_file_name_in_any_written_file(analyzed: Path) -> None:
    written = [
        p
        for p in analyzed.rglob("*")
        if p.is_file() and not p.name.startswith("qualcode.db") and p.suffix != ".csv"
    ]
    assert {p.name for p in written} >= {
        "rapport.docx",
        "rapport.xlsx",
        "sitater.docx",
        "uenig.docx",
    }
    for path in written:
        texts = _parts(path) if path.suffix in (".docx", ".xlsx") else {"": path.read_text()}
        for part, text in texts.items():
            folded = fold(text)
            for firm in FIRMS:
                assert fold(firm) not in folded, f"{firm} in {path.name}:{part}"


def _sections(body: etree._Element) -> list[tuple[int, list[etree._Element]]]:
    """Each section's text width (twips) and its tables, in document order."""
    out: list[tuple[int, list[etree._Element]]] = []
    pending: list[etree._Element] = []

    def width(sect: etree._Element) -> int:
        size, margins = sect.find(f"{W}pgSz"), sect.find(f"{W}pgMar")
        return int(size.get(f"{W}w")) - int(margins.get(f"{W}left")) - int(margins.get(f"{W}right"))

    for child in body:
        if child.tag == f"{W}tbl":
            pending.append(child)
        elif child.tag == f"{W}p":
            sect = child.find(f"{W}pPr/{W}sectPr")
            if sect is not None:
                out.append((width(sect), pending))
                pending = []
        elif child.tag == f"{W}sectPr":
            out.append((width(child), pending))
    return out


RULE_CM_PER_CHAR_AT_11PT = 0.17
TWIPS_PER_CM = 567


@pytest.mark.parametrize(
    "name", ["rapport.docx", "kari/rapport.docx", "sitater.docx", "uenig.docx"]
)
def test_every_word_table_follows_the_width_rule(analyzed: Path, name: str) -> None:
    body = etree.fromstring(_parts(analyzed / name)["word/document.xml"].encode()).find(f"{W}body")
    tables = 0
    for text_width, section_tables in _sections(body):
        for tbl in section_tables:
            tables += 1
            grid = [int(g.get(f"{W}w")) for g in tbl.iter(f"{W}gridCol")]
            assert sum(grid) <= text_width + 5, (name, grid, text_width)
            sizes = {int(s.get(f"{W}val")) for s in tbl.iter(f"{W}sz")}
            assert len(sizes) == 1, sizes
            per_char = RULE_CM_PER_CHAR_AT_11PT * TWIPS_PER_CM * (sizes.pop() / 2) / 11
            columns: list[list[str]] = [[] for _ in grid]
            for row in tbl.iter(f"{W}tr"):
                for i, cell in enumerate(row.iter(f"{W}tc")):
                    columns[i].append("".join(t.text or "" for t in cell.iter(f"{W}t")))
            for width, cells in zip(grid, columns, strict=True):
                longest = max((len(w) for c in cells for w in re.split(r"[ \n]+", c)), default=0)
                assert width >= longest * per_char, (name, cells[0], width, longest)
                sentences = any(len(c) >= 45 and len(c.split()) >= 5 for c in cells[1:])
                if sentences:
                    assert width >= 5 * TWIPS_PER_CM, (name, cells[0], width)
    assert tables >= (8 if name.endswith("rapport.docx") else 1)


def test_every_excel_sheet_is_frozen_sized_wrapped_and_set_up_for_print(analyzed: Path) -> None:
    for name in ("rapport.xlsx", "kari/rapport.xlsx"):
        book = openpyxl.load_workbook(analyzed / name)
        assert len(book.worksheets) >= 8
        for sheet in book.worksheets:
            where = f"{name}!{sheet.title}"
            assert sheet.freeze_panes, where
            assert sheet.page_setup.orientation == "landscape", where
            assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
            assert sheet.print_title_rows, where
            first_data_row = int(re.sub(r"\D", "", sheet.freeze_panes))
            for column in range(1, sheet.max_column + 1):
                letter = openpyxl.utils.get_column_letter(column)
                width = sheet.column_dimensions[letter].width
                assert sheet.column_dimensions[letter].customWidth and width, (where, letter)
                data = sheet[letter][first_data_row - 1 :]
                values = [c.value for c in data if isinstance(c.value, str) and c.value]
                if any(len(v) >= 45 and len(v.split()) >= 5 for v in values):
                    assert width >= 40, (where, letter, width)
                    long_cells = [c for c in data if len(str(c.value or "")) >= 45]
                    assert all(c.alignment.wrap_text for c in long_cells), (where, letter)


def _docx_text(path: Path) -> str:
    return " ".join(
        re.sub(r"<[^>]+>", " ", text) for part, text in _parts(path).items() if "word/" in part
    )


def test_machine_draft_label_only_for_the_auto_layer(analyzed: Path) -> None:
    auto = _docx_text(analyzed / "rapport.docx")
    assert "Maskinelt utkast" in auto and "0,53" in auto and "0,52–0,69" in auto
    assert "Koderlag: auto" in " ".join(auto.split()) or "auto" in auto
    human = _docx_text(analyzed / "kari" / "rapport.docx")
    assert "Maskinelt utkast" not in human and "maskinelt" not in human.casefold()
    overview = openpyxl.load_workbook(analyzed / "rapport.xlsx").worksheets[0]
    cells = " ".join(str(c.value) for row in overview.iter_rows() for c in row if c.value)
    assert "Maskinelt utkast" in cells
    overview = openpyxl.load_workbook(analyzed / "kari" / "rapport.xlsx").worksheets[0]
    cells = " ".join(str(c.value) for row in overview.iter_rows() for c in row if c.value)
    assert "Maskinelt utkast" not in cells


def test_title_is_a_setting_not_the_folder_name(analyzed: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    text = _docx_text(analyzed / "kari" / "rapport.docx")
    assert "Kodingsrapport" in text and "masteroppgave" not in text.casefold()
    assert "desember" in text or "januar" in text or re.search(r"\d{1,2}\. \w+ \d{4}", text)
    runner = CliRunner()
    for args in (["config", "title", "Tillit i klyngen"], ["config", "author", "Kari Nordmann"]):
        assert runner.invoke(app, ["-p", str(analyzed), *args]).exit_code == 0
    out = tmp_path / "titled"
    result = runner.invoke(
        app, ["-p", str(analyzed), "report", "all", "-c", "kari", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = _docx_text(out / "rapport.docx")
    assert "Tillit i klyngen" in text and "Kari Nordmann" in text
    assert (
        "<dc:creator>Kari Nordmann</dc:creator>"
        in _parts(out / "rapport.docx")["docProps/core.xml"]
    )
    for args in (["config", "title", ""], ["config", "author", ""]):
        assert runner.invoke(app, ["-p", str(analyzed), *args]).exit_code == 0


def test_bokmal_typography_in_the_report(analyzed: Path) -> None:
    text = _docx_text(analyzed / "kari" / "rapport.docx")
    assert "«" in text and "»" in text and "“" not in text
    xlsx = openpyxl.load_workbook(analyzed / "kari" / "rapport.xlsx")
    quotes = [c.value for row in xlsx["Sitater"].iter_rows() for c in row]
    assert any(isinstance(v, str) and re.fullmatch(r"«.+» – R\d+", v, re.S) for v in quotes)


def test_disagreements_are_blocks_with_each_coders_codes(analyzed: Path) -> None:
    import docx

    document = docx.Document(str(analyzed / "kari" / "rapport.docx"))
    headings = [p.text for p in document.paragraphs]
    start = next(i for i, t in enumerate(headings) if t.startswith("Største uenigheter"))
    # Heading and turn are one paragraph, a line break between them, kept with the table.
    blocks = [t for t in headings[start:] if re.match(r"R\d, tur \d+ \(segment \d+\)\n«", t)]
    assert len(blocks) == 3  # R2 turn 4, R4 turn 4, R5 turn 2 differ at top-code level
    small = [t for t in document.tables if t.rows[0].cells[0].text == "Koderlag"]
    assert len(small) == 3 and all(len(t.columns) == 3 for t in small)
    assert [c.text for c in small[0].columns[0].cells][1:] == ["jonas", "kari"]  # as created


def test_pseudonyms_check_folds_case_accents_and_norwegian_letters() -> None:
    names = Pseudonyms(
        [
            Pseudonym("Bølgen", "[bedriften]"),
            Pseudonym("Aasen", "[navn]"),
            Pseudonym("Ola", "[navn]"),
        ]
    )
    found = [
        o
        for text in ("R5_bolgen.txt", "BOELGEN AS", "Bölgen", "Åsen sa")
        for o, *_ in names.find(text)
    ]
    assert found == ["Bølgen", "Bølgen", "Bølgen", "Aasen"]
    assert names.find("Olav og Olaug") == []
    assert names.apply("Bolgens folk") == "[bedriften]s folk"


def test_reports_never_import_the_writers() -> None:
    source = Path(__file__).resolve().parents[2] / "src" / "qualcode" / "reports.py"
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [m for m in imported if m and m.startswith("qualcode.export")]


@pytest.fixture
def twenty(project, tmp_path: Path, make_codes):
    """Twenty respondents, each coded on one turn or two."""
    folder = tmp_path / "tjue"
    folder.mkdir()
    for n in range(1, 21):
        (folder / f"R{n}_bedrift.txt").write_text(
            "I: Hvordan går det med klyngen?\nR: Vi stoler på de andre, stort sett.\n"
            "I: Og konkurransen?\nR: Vi slåss om de samme folka, det gjør vi.\n",
            encoding="utf-8",
        )
    from qualcode.ingest import ingest_paths

    ingest_paths(project, [folder], command="test")
    make_codes(project, ["tillit", "samkonkurranse", "samkonkurranse/arbeidskraft"])
    turns = project.conn.execute(
        "SELECT id, position FROM segments WHERE role = 'respondent' ORDER BY id"
    ).fetchall()
    with project.write("test", coder="kari") as tx:
        for i, (seg, position) in enumerate(turns):
            code = "tillit" if position == 2 else "samkonkurranse/arbeidskraft"
            if i % 3 != 1:
                project.add_coding(tx, seg, code, "kari")
    mark_coded_transcripts_done(project)
    return project


def test_twenty_respondents_freq_is_usable_in_the_terminal(twenty, monkeypatch) -> None:
    from typer.testing import CliRunner

    from qualcode.cli import state

    monkeypatch.setenv("COLUMNS", "80")
    state.console.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["-p", str(twenty.folder), "report", "freq", "--coder", "kari"]
        )
    finally:
        state.console.cache_clear()
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    for n in range(1, 21):
        assert re.search(rf"\bR{n}\b", result.stdout), n
    command = f"qualcode -p {twenty.folder} report freq --coder kari"
    assert f"`{command} -f csv > freq.csv`" in " ".join(result.stderr.split())
    assert f"`{command} -o freq.xlsx`" in " ".join(result.stderr.split())


def test_twenty_respondents_word_report_follows_the_rule(twenty, tmp_path: Path) -> None:
    from qualcode.export.report_files import write_full_report

    docx_path, _ = write_full_report(twenty, tmp_path / "r", coder="kari")
    body = etree.fromstring(_parts(docx_path)["word/document.xml"].encode()).find(f"{W}body")
    sections = _sections(body)
    # 23 columns do not fit even a landscape page at 7 pt: the table is split into codes with
    # their totals and respondents × top codes, each readable on its page.
    every = [t for _, tables in sections for t in tables]
    per_respondent = next(t for t in every if len(list(t.iter(f"{W}tr"))) == 1 + 20)
    assert len(list(per_respondent.iter(f"{W}gridCol"))) == 4  # respondent, 2 top codes, total
    for text_width, tables in sections:
        for tbl in tables:
            grid = [int(g.get(f"{W}w")) for g in tbl.iter(f"{W}gridCol")]
            assert sum(grid) <= text_width + 5
            size = int(next(tbl.iter(f"{W}sz")).get(f"{W}val")) / 2
            per_char = RULE_CM_PER_CHAR_AT_11PT * TWIPS_PER_CM * size / 11
            for i, width in enumerate(grid):
                cells = [
                    "".join(t.text or "" for t in row.findall(f"{W}tc")[i].iter(f"{W}t"))
                    for row in tbl.iter(f"{W}tr")
                ]
                assert width >= max(len(w) for c in cells for w in c.split() or [""]) * per_char


def test_the_sample_report_tables_fit_their_pages(tmp_path: Path) -> None:
    """The sample's respondents have five attributes: the appendix must still fit its page."""
    from typer.testing import CliRunner

    samples = Path(__file__).resolve().parents[2] / "sample_transcripts"
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["analyze", str(samples), "-o", str(out)])
    assert result.exit_code == 0, result.output
    body = etree.fromstring(_parts(out / "rapport.docx")["word/document.xml"].encode()).find(
        f"{W}body"
    )
    checked = 0
    for text_width, section_tables in _sections(body):
        for tbl in section_tables:
            grid = [int(g.get(f"{W}w")) for g in tbl.iter(f"{W}gridCol")]
            assert sum(grid) <= text_width + 5, (grid, text_width)
            checked += 1
    assert checked >= 8
