"""Doubtful input refused with the row, and what a new user met: empty folders, Word headings,
files that are not what their extension says, and a review that dropped a memo."""

from __future__ import annotations

import pytest

from qualcode.csvio import read_csv
from qualcode.errors import InputError
from qualcode.ingest.turns import parse_time


def write_layer(path, ids, code="tillit", memo_first=None):
    rows = ["segment_id,code,coder,memo"]
    for i, seg in enumerate(ids):
        rows.append(f"{seg},{code},kari,{memo_first if i == 0 and memo_first else ''}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_row_of_the_wrong_width_is_refused_with_its_line(tmp_path):
    path = tmp_path / "bredde.csv"
    path.write_text("respondent,file,sektor\nR1,R1.txt,industri\nR2,R2.txt\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_csv(path)
    assert raised.value.line == 3 and "2 fields but the header has 3" in str(raised.value)


def test_an_unclosed_quote_is_refused_before_it_empties_a_layer(formula_project, runner, tmp_path, make):
    from qualcode.cli.main import app
    from qualcode.export.codings import layer_state

    ids = sorted(s for s, _ in layer_state(formula_project, "kari"))
    before = layer_state(formula_project, "kari")
    path = make.codings_csv_unclosed_quote(tmp_path / "åpen.csv", ids, "tillit")
    result = runner.invoke(
        app, ["--project", str(formula_project.folder), "import", "codings", str(path), "-c", "kari"]
    )
    assert result.exit_code == 2
    assert "åpen.csv:2: a quoted field holds what look like whole rows" in result.output
    assert layer_state(formula_project, "kari") == before


def test_a_quoted_field_over_many_lines_is_refused(tmp_path):
    path = tmp_path / "lang.csv"
    path.write_text('segment_id,memo\n1,"' + "linje\n" * 60 + '"\n', encoding="utf-8")
    with pytest.raises(InputError, match="runs over 61 lines") as raised:
        read_csv(path)
    assert raised.value.line == 2


def test_header_only_import_needs_replace_layer(formula_project, runner, tmp_path):
    from qualcode.cli.main import app
    from qualcode.export.codings import layer_state

    path = tmp_path / "tom.csv"
    path.write_text("segment_id,code,coder,memo\n", encoding="utf-8")
    args = ["--project", str(formula_project.folder), "import", "codings", str(path), "-c", "kari"]
    before = layer_state(formula_project, "kari")
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert f"would remove {len(before)} of the {len(before)} codings" in refused.output
    assert layer_state(formula_project, "kari") == before
    assert runner.invoke(app, [*args, "--replace-layer"]).exit_code == 0
    assert layer_state(formula_project, "kari") == set()


def test_removing_less_than_half_needs_no_flag(formula_project, tmp_path):
    from qualcode.export.codings import import_codings, layer_state

    ids = sorted(s for s, _ in layer_state(formula_project, "kari"))
    plan = import_codings(formula_project, write_layer(tmp_path / "k.csv", ids[1:]), "kari")
    assert len(plan.removed) == 1 and not plan.removes_most


def test_a_segment_id_too_large_for_sqlite_is_one_line(formula_project, runner, tmp_path):
    from qualcode.cli.main import app

    path = tmp_path / "stor.csv"
    path.write_text("segment_id,code,coder\n" + "9" * 30 + ",tillit,kari\n", encoding="utf-8")
    result = runner.invoke(
        app, ["--project", str(formula_project.folder), "import", "codings", str(path), "-c", "kari"]
    )
    assert result.exit_code == 2
    assert "stor.csv:2" in result.output and "is not a number" in result.output


@pytest.mark.parametrize("stamp", ["9" * 100_000 + ":00:01.000", "nan", "inf", "101:00:00", "1e400"])
def test_absurd_time_stamps_are_refused(stamp):
    with pytest.raises(ValueError):
        parse_time(stamp)


def test_a_vtt_hour_of_100000_digits_is_one_line(cli, tmp_path, make):
    path = make.vtt_huge_hour(tmp_path / "time.vtt")
    result = cli("ingest", str(path), "--respondent", "R9")
    assert result.exit_code == 2
    assert "time.vtt:3: bad cue time" in result.output


def test_unclosed_vtt_tags_are_read_as_text(cli, tmp_path, make, ingested):
    path = make.vtt_unclosed_tags(tmp_path / "tagger.vtt", 20_000)
    assert cli("ingest", str(path), "--respondent", "R9").exit_code == 0


def test_an_empty_folder_is_an_error_naming_it(cli, tmp_path):
    empty = tmp_path / "tom"
    empty.mkdir()
    result = cli("ingest", str(empty))
    assert result.exit_code == 2
    assert "tom: no transcripts" in result.output


def test_a_folder_with_transcripts_in_subfolders_names_them(runner, tmp_path, small_corpus):
    from qualcode.cli.main import app

    outer = tmp_path / "intervjuer"
    (outer / "runde1").mkdir(parents=True)
    for f in small_corpus.iterdir():
        (outer / "runde1" / f.name).write_bytes(f.read_bytes())
    (outer / "notater.pdf").write_bytes(b"%PDF")
    result = runner.invoke(app, ["analyze", str(outer), "-o", str(tmp_path / "ut")])
    assert result.exit_code == 2
    assert "intervjuer: no transcripts" in result.output
    assert "runde1/ (2)" in result.output


def test_a_word_heading_after_a_table_is_not_part_of_a_turn(tmp_path):
    from docx import Document

    from qualcode.ingest.readers import read_transcript

    doc = Document()
    doc.add_paragraph("I: Hvordan startet samarbeidet?")
    table = doc.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "I", "Og hvem tok initiativet?"
    table.rows[1].cells[0].text, table.rows[1].cells[1].text = "R4", "Det var kommunen, altså."
    doc.add_heading("Del 2 Tillit", level=2)
    doc.add_paragraph("R4: Vi stoler på hverandre nå.")
    path = tmp_path / "R4.docx"
    doc.save(str(path))
    parsed = read_transcript(path, ["I"])
    texts = [parsed.text[t.char_start : t.char_end] for t in parsed.turns]
    assert "Det var kommunen, altså." in texts
    assert all("Del 2 Tillit" not in t for t in texts)
    assert "Del 2 Tillit" in parsed.text  # kept in the transcript as a section marker


def test_a_heading_inside_a_turn_ends_it_and_the_rest_continues(tmp_path):
    from docx import Document

    from qualcode.ingest.readers import read_transcript

    doc = Document()
    doc.add_paragraph("R5: Først litt om bakgrunnen.")
    doc.add_heading("Samarbeid", level=1)
    doc.add_paragraph("Og så kom klyngen inn.")
    path = tmp_path / "R5.docx"
    doc.save(str(path))
    parsed = read_transcript(path, ["I"])
    texts = [(t.speaker, parsed.text[t.char_start : t.char_end]) for t in parsed.turns]
    assert texts == [("R5", "Først litt om bakgrunnen."), ("R5", "Og så kom klyngen inn.")]


@pytest.mark.parametrize(
    ("name", "content", "hint"),
    [
        ("R1.docx", b"I: Hei.\nR1: Hei hei.\n", "looks like plain text: rename it to .txt"),
        ("R1.txt", b"PK\x03\x04" + b"\x00" * 40, "looks like a Word document"),
        ("R1.docx", b"%PDF-1.7 ...", "looks like a PDF"),
        ("R1.docx", b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHei\n", "rename it to .vtt"),
    ],
)
def test_a_file_that_is_not_what_its_extension_says_gets_a_hint(cli, tmp_path, name, content, hint):
    path = tmp_path / name
    path.write_bytes(content)
    result = cli("ingest", str(path))
    assert result.exit_code == 2
    assert hint in " ".join(result.output.split())
    assert "PackageNotFoundError" not in result.output


def test_review_change_keeps_the_memo_of_your_own_coding(formula_project):
    from qualcode.review import start_review

    seg = formula_project.conn.execute(
        "SELECT c.segment_id FROM codings c JOIN coders d ON d.id = c.coder_id"
        " WHERE d.name = 'ola' ORDER BY c.segment_id LIMIT 1"
    ).fetchone()[0]
    with formula_project.write("memo", coder="kari") as tx:
        formula_project.remove_coding(tx, seg, "tillit", "kari")
        formula_project.add_coding(tx, seg, "fasilitering", "kari", memo="viktig: se runde 2")
    session = start_review(formula_project, "kari", "ola")
    while session.current is not None and session.current.segment_id != seg:
        session.skip()
    assert session.current.code == "fasilitering" and session.own_memo() == "viktig: se runde 2"
    session.change("tillit")
    memos = dict(
        formula_project.conn.execute(
            "SELECT k.path, c.memo FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id WHERE d.name = 'kari' AND c.segment_id = ?",
            (seg,),
        ).fetchall()
    )
    assert memos == {"tillit": "viktig: se runde 2"}


def test_review_asks_before_a_memo_leaves_and_can_keep_both(formula_project, runner):
    from qualcode.cli.main import app

    seg = formula_project.conn.execute(
        "SELECT c.segment_id FROM codings c JOIN coders d ON d.id = c.coder_id"
        " WHERE d.name = 'ola' ORDER BY c.segment_id LIMIT 1"
    ).fetchone()[0]
    with formula_project.write("memo", coder="kari") as tx:
        formula_project.add_coding(tx, seg, "fasilitering", "kari", memo="viktig")
    result = runner.invoke(
        app,
        ["--project", str(formula_project.folder), "review", "-c", "kari", "--from", "ola"],
        input="c tillit\nn\nq\n",
    )
    assert "has the memo" in result.output, result.output
    kept = {
        r[0]
        for r in formula_project.conn.execute(
            "SELECT k.path FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id WHERE d.name = 'kari' AND c.segment_id = ?",
            (seg,),
        )
    }
    assert kept == {"tillit", "fasilitering"}
