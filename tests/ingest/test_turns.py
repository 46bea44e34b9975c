"""Speaker-label parsing of plain text: what is a label and what is speech."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qualcode.ingest.turns import paragraph_turns, parse_labelled_text, parse_time
from qualcode.store import DEFAULT_INTERVIEWER_LABELS

LABELS = DEFAULT_INTERVIEWER_LABELS


def speakers_and_texts(text: str) -> list[tuple[str, str]]:
    turns, _ = parse_labelled_text(text, LABELS)
    return [(t.speaker, text[t.char_start : t.char_end]) for t in turns]


def test_plain_labels_and_continuation_lines():
    text = "I: Hva gjør dere?\nR7: Vi lager ting.\nOg vi selger dem.\n\nI: Takk."
    assert speakers_and_texts(text) == [
        ("I", "Hva gjør dere?"),
        ("R7", "Vi lager ting.\nOg vi selger dem."),
        ("I", "Takk."),
    ]


def test_timestamp_before_and_after_label():
    text = "[00:03:12] Kari: Hei.\nKari (00:04:01): Igjen.\n[1:02:03.5] I: Ok?"
    turns, _ = parse_labelled_text(text, LABELS)
    assert [(t.speaker, t.start_time) for t in turns] == [
        ("Kari", 192.0),
        ("Kari", 241.0),
        ("I", 3723.5),
    ]


def test_sentence_with_colon_is_not_a_label():
    text = (
        "I: Hvordan jobber dere?\n"
        "R1: Vi har et prinsipp.\n"
        "Det er sånn: vi deler ikke priser.\n"
        "Altså: det går ikke.\n"
        "Poenget er: ingen stoler på noen.\n"
    )
    assert speakers_and_texts(text)[1] == (
        "R1",
        "Vi har et prinsipp.\nDet er sånn: vi deler ikke priser.\nAltså: det går ikke.\n"
        "Poenget er: ingen stoler på noen.",
    )


def test_capitalised_word_once_is_not_a_label_but_twice_is_a_speaker():
    once = "I: Spørsmål?\nR2: Svar.\nMerknad: dette er tekst.\n"
    assert [s for s, _ in speakers_and_texts(once)] == ["I", "R2"]
    twice = "Kari: Hei.\nOla Nordmann: Hei selv.\nKari: Ja.\nOla Nordmann: Nei.\n"
    assert [s for s, _ in speakers_and_texts(twice)] == [
        "Kari",
        "Ola Nordmann",
        "Kari",
        "Ola Nordmann",
    ]


def test_sentence_openers_never_label_even_when_repeated():
    text = "I: Hei.\nR1: Ja.\nMen: det er sånn.\nMen: igjen.\n"
    assert [s for s, _ in speakers_and_texts(text)] == ["I", "R1"]


def test_markdown_bold_labels():
    text = "**Intervjuer:** Hva tenker du?\n**R3**: At det går bra."
    assert speakers_and_texts(text) == [("Intervjuer", "Hva tenker du?"), ("R3", "At det går bra.")]


def test_preamble_is_counted_not_a_turn():
    turns, preamble = parse_labelled_text("Intervju 3. mars\n\nI: Hei.\nR1: Hei.", LABELS)
    assert preamble == len("Intervju 3. mars")
    assert len(turns) == 2


def test_no_labels_gives_no_turns():
    turns, _ = parse_labelled_text("Bare tekst.\nUten navn.", LABELS)
    assert turns == []


def test_paragraph_turns_by_blank_lines_or_lines():
    text = "Første avsnitt\nfortsetter.\n\nAndre avsnitt."
    assert [text[t.char_start : t.char_end] for t in paragraph_turns(text, "R1")] == [
        "Første avsnitt\nfortsetter.",
        "Andre avsnitt.",
    ]
    lines = "En.\nTo.\nTre."
    assert len(paragraph_turns(lines, "R1")) == 3


def test_parse_time_forms():
    assert parse_time("01:02") == 62
    assert parse_time("1:00:00,250") == 3600.25
    # Stored and exported as written, without binary-fraction artefacts (81.90899999999999).
    assert repr(parse_time("00:01:21.909")) == "81.909"


_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøå ,.?", min_size=1, max_size=40)


@given(
    st.lists(
        st.tuples(st.sampled_from(["I", "R1", "R12", "Intervjuer"]), _words),
        min_size=1,
        max_size=12,
    )
)
def test_generated_transcripts_round_trip(turns):
    """Whatever is said, labelled lines come back as the same speakers and words."""
    said = [(speaker, " ".join(words.split()) or "ja") for speaker, words in turns]
    text = "\n".join(f"{speaker}: {words}" for speaker, words in said)
    assert speakers_and_texts(text) == said


@given(st.text(max_size=300))
def test_spans_always_slice_inside_the_text(text):
    turns, preamble = parse_labelled_text(text, LABELS)
    assert 0 <= preamble <= len(text)
    previous_end = 0
    for turn in turns:
        assert previous_end <= turn.char_start < turn.char_end <= len(text)
        assert (
            text[turn.char_start : turn.char_end].strip() == text[turn.char_start : turn.char_end]
        )
        previous_end = turn.char_end
