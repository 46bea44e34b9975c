"""Quote trimming (property tests) and the pseudonym rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers import mark_coded_transcripts_done

from qualcode.errors import InputError
from qualcode.pseudonyms import Pseudonym, Pseudonyms, check, load
from qualcode.reports import ELLIPSIS, trim_quote

WORDS = st.sampled_from(
    [
        "vi",
        "stoler",
        "på",
        "hverandre",
        "tillitsbygging",
        "klyngen",
        "Ola",
        "ikke",
        "f.eks.",
        "HMS-nettverket",
        "ærlig",
        "øy",
        "å",
        "[latter]",
        "samlinger,",
        "leverandør",
    ]
)
END = st.sampled_from([".", "!", "?", ",", ""])


@st.composite
def turn_and_evidence(draw):
    sentences = draw(
        st.lists(st.tuples(st.lists(WORDS, min_size=1, max_size=40), END), min_size=1, max_size=8)
    )
    text = " ".join(" ".join(ws) + end for ws, end in sentences)
    text = text.replace(" ,", ",")
    spans = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, min(len(text), start + 30)))
        spans.append((start, end))
    return text, spans


def pieces(quote: str) -> list[str]:
    return [p.strip() for p in quote.split(ELLIPSIS) if p.strip()]


@settings(max_examples=200, deadline=None)
@given(turn_and_evidence())
def test_trimming_keeps_evidence_and_whole_words(case):
    text, spans = case
    quote = trim_quote(text, spans, max_chars=120)
    padded = f" {' '.join(text.split())} "
    for piece in pieces(quote):
        # Every piece is a run of whole words of the turn: bounded by spaces on both sides.
        assert f" {piece} " in padded, (piece, text)
    for start, end in spans:
        evidence = " ".join(text[start:end].split())
        if evidence:
            assert evidence in quote, (evidence, quote)
    if not spans:
        assert quote and quote.split()[0] == text.split()[0]


def test_trimming_keeps_evidence_sentences_only():
    text = "Først en innledning. Vi stoler på hverandre. Så noe helt annet. Og en slutt."
    start = text.index("stoler")
    assert trim_quote(text, [(start, start + 6)]) == "… Vi stoler på hverandre. …"
    last = text.index("slutt")
    assert trim_quote(text, [(start, start + 6), (last, last + 5)]) == (
        "… Vi stoler på hverandre. … Og en slutt."
    )


def test_long_sentence_is_shortened_around_evidence_without_cutting_words():
    text = (
        "Altså " + "veldig " * 120 + "tillitsbygging er viktig " + "og så videre " * 60 + "slutt."
    )
    start = text.index("tillitsbygging") + 3  # evidence inside a word
    quote = trim_quote(text, [(start, start + 6)], max_chars=200)
    assert quote.startswith(f"{ELLIPSIS} ") and quote.endswith(f" {ELLIPSIS}")
    assert "tillitsbygging" in quote and len(quote) < 400


def test_trimming_never_cuts_through_a_name():
    text = "Innledning her. " + "ord " * 80 + "Fjordal Aluminium sa ja " + "mer " * 80 + "slutt."
    names = Pseudonyms([Pseudonym("Fjordal Aluminium", "[bedriften]")])
    start = text.index("sa ja")
    for room in range(150, 260, 7):
        quote = trim_quote(text, [(start, start + 5)], max_chars=room, protect=names.spans(text))
        assert "Aluminium sa" not in quote or "Fjordal Aluminium sa" in quote


def test_pseudonym_rules():
    names = Pseudonyms(
        [
            Pseudonym("Fjordal", "[bedriften]"),
            Pseudonym("Fjordal Aluminium", "[bedriften]"),
            Pseudonym("Ola", "[navn]"),
            Pseudonym("Ås", "[stedet]"),
        ]
    )
    assert names.apply("Fjordal Aluminiums ledelse") == "[bedriften]s ledelse"
    assert names.apply("hos FJORDAL\naluminium i dag") == "hos [bedriften] i dag"
    assert names.apply("Olav og Ola, og olas bil") == "Olav og [navn], og [navn]s bil"
    assert names.apply("Åsen ligger ved Ås.") == "Åsen ligger ved [stedet]."
    assert names.apply("Fjordal-ansatte") == "[bedriften]-ansatte"
    assert names.apply(None) is None


def test_load_rejects_bad_lists(tmp_path: Path):
    path = tmp_path / "pseudonyms.csv"
    path.write_text("original,replacement\nOla,[navn]\nola,[person]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"pseudonyms.csv:3: 'ola' is listed twice"):
        load(path)
    path.write_text("original,replacement\nOla,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r":2: no replacement"):
        load(path)
    path.write_text("name;other\nOla;x\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing the column"):
        load(path)
    path.write_text("original;replacement\nOla Nordmann;[navn]\n", encoding="utf-8-sig")
    assert load(path).apply("Ola Nordmann kom") == "[navn] kom"


def test_check_finds_names_in_text_files(tmp_path: Path):
    names = Pseudonyms([Pseudonym("Fjordal", "[bedriften]")])
    clean = tmp_path / "ok.md"
    clean.write_text("| [bedriften] | 3 |\n", encoding="utf-8")
    leaky = tmp_path / "leak.csv"
    leaky.write_text("a,b\n1,hos Fjordal i fjor\n", encoding="utf-8-sig")
    assert check([clean], names) == []
    found = check([clean, leaky], names)
    assert [(f.location, f.original) for f in found] == [("line 2", "Fjordal")]
    with pytest.raises(InputError, match="cannot check"):
        check([tmp_path / "x.pdf"] if (tmp_path / "x.pdf").write_text("x") else [], names)


def test_file_names_lose_their_names_too():
    """Transcript file names such as R2_fjordal.vtt appear in quote tables and carry firm names."""
    names = Pseudonyms([Pseudonym("Fjordal", "[bedriften]")])
    assert names.apply("R2_fjordal.vtt") == "R2_[bedriften].vtt"
    assert names.apply("fjordal_intervju-2.docx") == "[bedriften]_intervju-2.docx"
    assert names.apply("Fjordalen") == "Fjordalen"  # another word, not the name


def test_offset_map_keeps_spans_on_the_same_words():
    names = Pseudonyms([Pseudonym("Hilde Brekke", "[navn]"), Pseudonym("Fjordal", "[bedriften]")])
    text = "Hilde Brekke: Vi leverer til Fjordal. Fjordals folk er greie."
    new, offset = names.apply_with_offsets(text)
    assert new == "[navn]: Vi leverer til [bedriften]. [bedriften]s folk er greie."
    start = text.index("Vi")
    assert new[offset(start) : offset(len(text))] == new[new.index("Vi") :]
    assert new[offset(0) : offset(len("Hilde Brekke"))] == "[navn]"


def test_quotes_pseudonymise_every_column(project, tmp_path, make_codes):
    from qualcode.ingest import ingest_paths
    from qualcode.reports import quotes

    source = tmp_path / "R1_fjordal.txt"
    source.write_text("I: Og tilliten?\nR1: Fjordal stoler vi på, altså.\n", encoding="utf-8")
    ingest_paths(project, [source], respondent="R1", command="test")
    make_codes(project, ["tillit"])
    turn = project.conn.execute("SELECT id FROM segments WHERE position = 2").fetchone()[0]
    with project.write("test", coder="kari") as tx:
        project.add_coding(tx, turn, "tillit", "kari")
    mark_coded_transcripts_done(project)
    frame = quotes(
        project, coder="kari", pseudonyms=Pseudonyms([Pseudonym("Fjordal", "[bedriften]")])
    )
    cells = [str(v) for v in frame.to_numpy().ravel()]
    assert cells and not any("fjordal" in c.casefold() for c in cells), cells
    assert any("[bedriften] stoler vi på" in c for c in cells)
