"""Every transcript format, read from real files made in the test."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from docx import Document

from qualcode.errors import InputError
from qualcode.ingest import read_transcript
from qualcode.store import DEFAULT_INTERVIEWER_LABELS

LABELS = DEFAULT_INTERVIEWER_LABELS


def turns_of(path: Path, **kwargs) -> list[tuple[str, str]]:
    parsed = read_transcript(path, LABELS, **kwargs)
    for turn in parsed.turns:
        assert parsed.text[turn.char_start : turn.char_end] == parsed.turn_text(turn)
    return [(t.speaker, parsed.turn_text(t)) for t in parsed.turns]


def test_txt_utf8(tmp_path):
    path = tmp_path / "R1.txt"
    path.write_text("I: Hvordan?\r\nR1: Sånn, på en måte.\r\n", encoding="utf-8")
    parsed = read_transcript(path, LABELS)
    assert "\r" not in parsed.text
    assert turns_of(path) == [("I", "Hvordan?"), ("R1", "Sånn, på en måte.")]


def test_txt_cp1252_with_norwegian_letters_warns(tmp_path):
    path = tmp_path / "R2.txt"
    path.write_bytes(
        "I: Hva med tilliten?\nR2: Vi stoler på hverandre, særlig på Ørsta.\n".encode("cp1252")
    )
    parsed = read_transcript(path, LABELS)
    assert parsed.turn_text(parsed.turns[1]) == "Vi stoler på hverandre, særlig på Ørsta."
    assert any("Windows-1252" in w and "R2.txt" in w for w in parsed.warnings)


@pytest.mark.parametrize("bom, encoding", [(codecs.BOM_UTF8, "utf-8"), (b"", "utf-16")])
def test_txt_with_byte_order_mark(tmp_path, bom, encoding):
    path = tmp_path / "R3.txt"
    path.write_bytes(bom + "I: Hei?\nR3: Blåbær og æøå.\n".encode(encoding))
    assert turns_of(path) == [("I", "Hei?"), ("R3", "Blåbær og æøå.")]


def test_text_is_nfc_normalised(tmp_path):
    path = tmp_path / "R4.txt"
    decomposed = "R4: Vi ma\u030arte gjøre det."  # å as a + combining ring
    path.write_text("I: Og?\n" + decomposed, encoding="utf-8")
    assert turns_of(path)[1][1] == "Vi måtte gjøre det.".replace("måtte", "m\u00e5rte")


def test_markdown(tmp_path):
    path = tmp_path / "R5.md"
    path.write_text(
        "# Intervju R5\n\n**I:** Hva gjør dere?\n\n**R5:** Vi *leverer* deler.\n", encoding="utf-8"
    )
    parsed = read_transcript(path, LABELS)
    assert [(t.speaker, parsed.turn_text(t)) for t in parsed.turns] == [
        ("I", "Hva gjør dere?"),
        ("R5", "Vi *leverer* deler."),
    ]
    assert any("before the first speaker label" in w for w in parsed.warnings)


def test_docx_bold_labels_and_table_cells_in_document_order(tmp_path):
    document = Document()
    p = document.add_paragraph()
    p.add_run("Intervjuer").bold = True
    p.add_run(" Hvordan er medlemskapet forankret?")
    p = document.add_paragraph()
    p.add_run("Kari Vik:").bold = True
    p.add_run(" Ledelsen eier det.")
    document.add_paragraph("Og vi har mål for det.")  # continues Kari's turn
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Intervjuer"
    table.cell(0, 1).text = "Og tilliten?"
    table.cell(1, 0).text = "Kari Vik"
    table.cell(1, 1).text = "Den er god."
    document.add_paragraph("Intervjuer: Takk for praten.")
    path = tmp_path / "R6.docx"
    document.save(str(path))
    assert turns_of(path) == [
        ("Intervjuer", "Hvordan er medlemskapet forankret?"),
        ("Kari Vik", "Ledelsen eier det.\nOg vi har mål for det."),
        ("Intervjuer", "Og tilliten?"),
        ("Kari Vik", "Den er god."),
        ("Intervjuer", "Takk for praten."),
    ]
    assert read_transcript(path, LABELS).format == "docx"


def test_docx_bold_heading_alone_is_not_a_label(tmp_path):
    document = Document()
    document.add_paragraph().add_run("Innledning").bold = True
    document.add_paragraph("I: Hei.")
    document.add_paragraph("R1: Hei.")
    path = tmp_path / "R1.docx"
    document.save(str(path))
    assert [s for s, _ in turns_of(path)] == ["I", "R1"]


TEAMS_VTT = """WEBVTT

1a2b/11-0
00:00:01.000 --> 00:00:03.500
<v Intervjuer>Hvordan kom dere med i klyngen?</v>

1a2b/12-0
00:00:04.000 --> 00:00:07.000
<v Per Fjordal>Det var ledelsen som ville det.</v>

1a2b/13-0
00:00:07.200 --> 00:00:09.900
<v Per Fjordal>Vi &amp; de andre <i>store</i> bedriftene.</v>

NOTE a comment that is not a cue

1a2b/14-0
00:00:10.000 --> 00:00:12.000
<v Intervjuer>Skjønner.</v>
"""


def test_teams_vtt_voice_tags_merge_consecutive_cues(tmp_path):
    path = tmp_path / "R2.vtt"
    path.write_text(TEAMS_VTT, encoding="utf-8")
    parsed = read_transcript(path, LABELS)
    assert [(t.speaker, parsed.turn_text(t), t.start_time, t.end_time) for t in parsed.turns] == [
        ("Intervjuer", "Hvordan kom dere med i klyngen?", 1.0, 3.5),
        (
            "Per Fjordal",
            "Det var ledelsen som ville det. Vi & de andre store bedriftene.",
            4.0,
            9.9,
        ),
        ("Intervjuer", "Skjønner.", 10.0, 12.0),
    ]


def test_zoom_vtt_name_prefix(tmp_path):
    path = tmp_path / "R3.vtt"
    path.write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nIntervjuer: Hei?\n\n"
        "2\n00:00:02.500 --> 00:00:04.000\nSiri Lunde: Hei, hallo.\n",
        encoding="utf-8",
    )
    assert turns_of(path) == [("Intervjuer", "Hei?"), ("Siri Lunde", "Hei, hallo.")]


def test_srt_with_crlf(tmp_path):
    path = tmp_path / "R4.srt"
    path.write_bytes(
        b"1\r\n00:00:01,000 --> 00:00:02,000\r\nIntervjuer: Hvor lenge?\r\n\r\n"
        b"2\r\n00:00:02,500 --> 00:00:04,000\r\nSiri Lunde: Ni \xc3\xa5r.\r\n\r\n"
        b"3\r\n00:00:04,100 --> 00:00:05,000\r\nSiri Lunde: Omtrent.\r\n"
    )
    parsed = read_transcript(path, LABELS)
    assert [(t.speaker, parsed.turn_text(t), t.start_time, t.end_time) for t in parsed.turns] == [
        ("Intervjuer", "Hvor lenge?", 1.0, 2.0),
        ("Siri Lunde", "Ni år. Omtrent.", 2.5, 5.0),
    ]


def test_unlabelled_text_needs_respondent(tmp_path):
    path = tmp_path / "notat.txt"
    path.write_text("Vi har ingen mål.\n\nKlyngen er viktig.\n", encoding="utf-8")
    with pytest.raises(InputError, match="no speaker labels") as err:
        read_transcript(path, LABELS)
    assert "notat.txt" in str(err.value) and "--respondent" in str(err.value)
    assert turns_of(path, whole_text_speaker="R9") == [
        ("R9", "Vi har ingen mål."),
        ("R9", "Klyngen er viktig."),
    ]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\n ", "empty file"),
        ("binary.txt", bytes(range(256)) * 4, "binary"),
        ("corrupt.docx", b"PK\x03\x04 not really a zip", ".docx"),
        ("broken.vtt", b"WEBVTT\n\n00:00:01.000 --> nonsense\n<v A>x</v>\n", "bad cue time"),
        ("notvtt.vtt", b"hello\n", "WEBVTT"),
        ("data.xyz", b"I: hei", "unknown file type"),
    ],
)
def test_bad_files_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        read_transcript(path, LABELS)
    assert name in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_transcript(tmp_path / "gone.txt", LABELS)


def test_undecodable_bytes_report_the_line(tmp_path):
    path = tmp_path / "R7.txt"
    path.write_bytes(b"I: hei\nR7: ok\nR7: \x81\x8d\x8f here\n")
    with pytest.raises(InputError, match="cannot decode") as err:
        read_transcript(path, LABELS)
    assert err.value.line == 3
