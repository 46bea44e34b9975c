"""Interviewer labels in any case (``i:``, ``int:``), prose that only looks like a label, and
duplicate CSV columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualcode.cli.main import app
from qualcode.csvio import read_csv
from qualcode.errors import InputError
from qualcode.ingest.turns import parse_labelled_text
from qualcode.store import DEFAULT_INTERVIEWER_LABELS, open_store

LABELS = DEFAULT_INTERVIEWER_LABELS


def speakers(text: str, labels=LABELS) -> list[tuple[str, str]]:
    turns, _ = parse_labelled_text(text, labels)
    return [(t.speaker, text[t.char_start : t.char_end]) for t in turns]


def interview(label: str) -> str:
    return (
        f"R1: Jeg heter Per.\n{label}: Hva med tillit?\nR1: Vi stoler på hverandre.\n"
        f"{label}: Og konkurranse?\nR1: Litt.\n"
    )


@pytest.mark.parametrize("label", ["i", "int", "intervjuer", "interviewer", "q", "INT", "iNt"])
def test_interviewer_label_in_any_case_opens_a_turn(label):
    assert speakers(interview(label)) == [
        ("R1", "Jeg heter Per."),
        (label, "Hva med tillit?"),
        ("R1", "Vi stoler på hverandre."),
        (label, "Og konkurranse?"),
        ("R1", "Litt."),
    ]


def test_configured_label_in_lower_case_opens_a_turn():
    assert [s for s, _ in speakers(interview("ola"), [*LABELS, "Ola"])] == [
        "R1",
        "ola",
        "R1",
        "ola",
        "R1",
    ]
    # Without the setting, "ola" is an ordinary lower-case word and no label.
    assert speakers(interview("ola"))[0] == ("R1", "Jeg heter Per.\nola: Hva med tillit?")


@pytest.mark.parametrize(
    "line",
    [
        "i fjor: vi vokste mye.",
        "i dag: alt er bra.",
        "i dag, i fjor: det samme.",
        "int er en type: heltall.",
        "q og a: spørsmål.",
        "Det er sånn: vi deler ikke.",
        "Vi sa i: det går ikke.",
        "og i: det går ikke.",
    ],
)
def test_prose_starting_with_a_lower_case_label_word_is_not_a_label(line):
    # Repeated, so a label would be corroborated by count: only the shape can rule it out.
    text = f"I: Hva skjedde?\nR1: Mye.\n{line}\n{line}\nI: Takk."
    assert speakers(text) == [
        ("I", "Hva skjedde?"),
        ("R1", f"Mye.\n{line}\n{line}"),
        ("I", "Takk."),
    ]


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøå", min_size=1, max_size=8)


@given(first=st.sampled_from(["i", "int", "q", "intervjuer"]), rest=_WORD, tail=_WORD)
def test_lower_case_label_word_followed_by_more_words_never_labels(first, rest, tail):
    line = f"{first} {rest}: {tail}"
    text = f"I: Spørsmål?\nR1: Svar.\n{line}\n{line}\n"
    assert speakers(text)[-1] == ("R1", f"Svar.\n{line}\n{line}")


@given(label=st.sampled_from(LABELS), flips=st.lists(st.booleans(), min_size=11, max_size=11))
def test_every_casing_of_an_interviewer_label_is_the_interviewer(label, flips):
    cased = "".join(c.upper() if f else c.lower() for c, f in zip(label, flips, strict=False))
    text = f"R1: Hei.\n{cased}: Hvorfor?\nR1: Derfor."
    assert [s for s, _ in speakers(text)] == ["R1", cased, "R1"]


def test_lower_case_interviewer_turns_are_stored_as_interviewer(runner, tmp_path: Path):
    project = tmp_path / "proj"
    assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    assert runner.invoke(app, ["-p", str(project), "config", "interviewer", "Ola"]).exit_code == 0
    (tmp_path / "R1.txt").write_text(interview("i"), encoding="utf-8")
    (tmp_path / "R2.txt").write_text(interview("ola").replace("R1", "R2"), encoding="utf-8")
    result = runner.invoke(
        app, ["-p", str(project), "ingest", str(tmp_path / "R1.txt"), str(tmp_path / "R2.txt")]
    )
    assert result.exit_code == 0, result.output
    with open_store(project) as store:
        rows = store.conn.execute(
            "SELECT t.name, s.speaker, s.role, s.text FROM segments s"
            " JOIN transcripts t ON t.id = s.transcript_id ORDER BY t.name, s.position"
        ).fetchall()
    for name, label, respondent in (("R1.txt", "i", "R1"), ("R2.txt", "ola", "R2")):
        assert [r[1:] for r in rows if r[0] == name] == [
            (respondent, "respondent", "Jeg heter Per."),
            (label, "interviewer", "Hva med tillit?"),
            (respondent, "respondent", "Vi stoler på hverandre."),
            (label, "interviewer", "Og konkurranse?"),
            (respondent, "respondent", "Litt."),
        ]


# -- duplicate CSV columns -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("respondent,file,sector,sector", "sector"),
        ("respondent,file,sector,Sector", "Sector"),
        ("respondent;file;size; SIZE ", "SIZE"),
        ("respondent,file,File", "File"),
    ],
)
def test_duplicate_csv_column_is_an_error_naming_file_line_and_column(
    runner, tmp_path: Path, header, column
):
    project = tmp_path / "proj"
    assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "R1.txt").write_text(interview("I"), encoding="utf-8")
    sep = ";" if ";" in header else ","
    cells = ["R1", "R1.txt", "a", "b"][: header.count(sep) + 1]
    (folder / "respondents.csv").write_text(f"{header}\n{sep.join(cells)}\n", encoding="utf-8")
    with open_store(project) as store:
        before = store.dump()
    result = runner.invoke(app, ["-p", str(project), "ingest", str(folder)])
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and message.startswith("error:")
    assert "respondents.csv:1" in message and f"'{column}'" in message and "twice" in message
    with open_store(project) as store:
        assert store.dump() == before


def test_unnamed_columns_may_repeat(tmp_path: Path):
    # Excel leaves trailing empty header cells; they name nothing, so they clash with nothing.
    path = tmp_path / "t.csv"
    path.write_text("respondent;file;;\nR1;R1.txt;;\n", encoding="utf-8")
    table = read_csv(path, ["respondent", "file"])
    assert table.rows[0].values["respondent"] == "R1"


def test_duplicate_column_with_byte_order_mark(tmp_path: Path):
    path = tmp_path / "p.csv"
    path.write_bytes("\ufefforiginal,replacement,Original\nKari,R1,x\n".encode())
    with pytest.raises(InputError, match="'Original' appears twice") as caught:
        read_csv(path, ["original", "replacement"])
    assert caught.value.line == 1
