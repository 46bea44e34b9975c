"""Property-based tests of every parser on arbitrary input: it returns, or raises InputError.

Not collected on its own (the name does not start with ``test_``): test_parser_properties.py runs
this file in a child process under a memory and CPU-time limit (resource.setrlimit), so a parser
that blows up or hangs on some input fails the test instead of the machine.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualcode.errors import InputError

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
# Text that looks like transcripts, CSV, YAML, XML and subtitles more often than random text.
PIECES = st.sampled_from(
    [
        "I:",
        "R1:",
        "Ola Nordmann:",
        "\n",
        "\r\n",
        "\r",
        " ",
        "\t",
        ":",
        ",",
        ";",
        '"',
        "'",
        "-->",
        "00:00:01.000",
        "99:99:99",
        "<v Ola>",
        "<v",
        "<a",
        "</v>",
        "<",
        ">",
        "&amp;",
        "WEBVTT",
        "NOTE",
        "1",
        "- id: a",
        "codes:",
        "name: k",
        "&a",
        "*a",
        "<<:",
        "{",
        "}",
        "[",
        "]",
        "ø",
        "å",
        "e\u0301",
        "\x00",
        "\x07",
        "\ufeff",
        "ja",
        "klyngen",
        "[00:01:02]",
    ]
)
TEXTISH = st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=60).map("".join)


def ok_or_input_error(call, *args):
    try:
        return call(*args)
    except InputError as exc:
        assert str(exc)
        return None


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


@SETTINGS
@given(TEXTISH)
def test_labelled_text(text):
    from qualcode.ingest.turns import parse_labelled_text

    turns, _ = parse_labelled_text(text, ["I", "Intervjuer"])
    for turn in turns:
        assert 0 <= turn.char_start <= turn.char_end <= len(text)


@SETTINGS
@given(TEXTISH, st.sampled_from([".txt", ".md", ".vtt", ".srt"]), st.sampled_from([None, "R1"]))
def test_text_transcripts(tmp_path_factory, text, suffix, speaker):
    from qualcode.ingest.readers import read_transcript

    tmp = tmp_path_factory.mktemp("t")
    if suffix == ".vtt" and text and text[0] != "W":
        text = "WEBVTT\n\n" + text
    path = write(tmp, f"R1{suffix}", text.encode("utf-8"))
    parsed = ok_or_input_error(read_transcript, path, ["I"], speaker)
    if parsed is not None:
        for turn in parsed.turns:
            assert 0 <= turn.char_start <= turn.char_end <= len(parsed.text)
            assert turn.start_time is None or turn.start_time >= 0


@SETTINGS
@given(st.binary(max_size=300))
def test_binary_as_transcript(tmp_path_factory, data):
    from qualcode.ingest.readers import read_transcript

    tmp = tmp_path_factory.mktemp("b")
    for suffix in (".txt", ".docx", ".vtt"):
        ok_or_input_error(read_transcript, write(tmp, f"R1{suffix}", data), ["I"], "R1")


def _docx_bytes() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph("I: Hvordan går det?")
    doc.add_heading("Del 1", level=1)
    doc.add_paragraph("R1: Det går bra, vi samarbeider i klyngen.")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


DOCX = _docx_bytes()


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(DOCX) - 1), st.integers(0, 255)), max_size=8))
def test_damaged_docx(tmp_path_factory, flips):
    from qualcode.ingest.readers import read_transcript

    data = bytearray(DOCX)
    for index, value in flips:
        data[index] = value
    path = write(tmp_path_factory.mktemp("d"), "R1.docx", bytes(data))
    ok_or_input_error(read_transcript, path, ["I"], None)


@SETTINGS
@given(TEXTISH)
def test_csv(tmp_path_factory, text):
    from qualcode.csvio import read_csv
    from qualcode.ingest.respondents import read_respondent_table

    tmp = tmp_path_factory.mktemp("c")
    path = write(tmp, "respondents.csv", ("respondent,file,sektor\n" + text).encode("utf-8"))
    table = ok_or_input_error(read_csv, path)
    if table is not None:
        assert all(len(row.values) == len(table.columns) for row in table.rows)
    ok_or_input_error(read_respondent_table, path)


@SETTINGS
@given(TEXTISH)
def test_codebook_yaml(text):
    from qualcode.codebook import loads_codebook

    ok_or_input_error(loads_codebook, "name: k\ncodes:\n" + text)
    ok_or_input_error(loads_codebook, text)


@SETTINGS
@given(st.text(max_size=30))
def test_patterns(pattern):
    from qualcode.patterns import TimedPattern, pattern_problem

    problem = pattern_problem(pattern)
    if problem is None:
        compiled = TimedPattern.compile(pattern, timeout=0.2)
        list(compiled.finditer("Vi stoler på hverandre i klyngen, altså " * 5))


XML_PIECES = st.sampled_from(
    [
        "<Code ",
        'guid="00000000-0000-0000-0000-000000000001" ',
        'name="tillit">',
        "</Code>",
        "<Codes>",
        "</Codes>",
        "<Description>",
        "</Description>",
        "&amp;",
        "&x;",
        "<!DOCTYPE x>",
        "<",
        ">",
        "/>",
        '"',
        "ø",
    ]
)


@SETTINGS
@given(st.lists(st.one_of(XML_PIECES, st.text(max_size=5)), max_size=40).map("".join))
def test_qdc(tmp_path_factory, body):
    from qualcode.refiqda.importer import read_qdc

    xml = f'<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0">{body}</CodeBook>'
    path = write(tmp_path_factory.mktemp("q"), "k.qdc", xml.encode("utf-8"))
    ok_or_input_error(read_qdc, path)


@SETTINGS
@given(
    st.lists(st.one_of(XML_PIECES, st.text(max_size=5)), max_size=30).map("".join),
    TEXTISH,
    st.integers(0, 400),
    st.integers(0, 400),
)
def test_qdpx(tmp_path_factory, codes, source, start, end):
    from qualcode.refiqda.importer import read_qdpx

    project = (
        '<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="p">'
        f"<CodeBook><Codes>{codes}</Codes></CodeBook><Sources>"
        '<TextSource guid="30000000-0000-0000-0000-000000000001" name="R1" '
        'plainTextPath="internal://R1.txt">'
        f'<PlainTextSelection guid="1" startPosition="{start}" endPosition="{end}"/>'
        "</TextSource></Sources></Project>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", project)
        archive.writestr("sources/R1.txt", source)
    path = write(tmp_path_factory.mktemp("p"), "p.qdpx", buffer.getvalue())
    ok_or_input_error(read_qdpx, path)


@SETTINGS
@given(st.text(alphabet=st.sampled_from("0123456789:.,naif-e "), max_size=25))
def test_time_stamps(value):
    import math

    from qualcode.ingest.turns import parse_time

    try:
        seconds = parse_time(value)
    except ValueError:
        return
    assert math.isfinite(seconds) and 0 <= seconds <= 100 * 3600


@SETTINGS
@given(TEXTISH)
def test_position_map(raw):
    from qualcode.textfile import normalise
    from qualcode.textmap import normalise_with_map

    text, position = normalise_with_map(raw)
    assert text == normalise(raw)
    values = list(position)
    assert values == sorted(values) and values[-1] == len(text)
