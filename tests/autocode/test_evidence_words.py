"""The auto-coder's evidence in plain words (what the workbench shows next to a draft)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qualcode.evidence_words import describe_evidence, describe_match


def match(rule: str, term: str, words: str, **extra: object) -> dict[str, object]:
    return {"rule": rule, "term": term, "words": words, "start": 0, "end": len(words),
            "negated": False, "negator": None, **extra}


def test_an_inflected_keyword() -> None:
    assert describe_match(match("keyword", "tillit", "tilliten")) == (
        'tillit — ordet "tilliten" (bøyd form av tillit)'
    )
    assert describe_match(match("keyword", "tillit", "tilliten"), "en") == (
        'tillit — the word "tilliten" (inflected form of tillit)'
    )


def test_the_word_as_written_needs_no_note() -> None:
    assert describe_match(match("keyword", "tillit", "Tillit")) == 'tillit — ordet "Tillit"'


def test_compound_fuzzy_and_phrase() -> None:
    assert describe_match(match("compound", "sjefen", "teknologisjef")) == (
        'sjefen — ordet "teknologisjef" (sammensatt ord med sjefen)'
    )
    assert describe_match(match("fuzzy", "tillit", "tilitt")) == (
        'tillit — ordet "tilitt" (skrivemåte nær tillit)'
    )
    assert describe_match(match("phrase", "kjenne hverandre", "kjent hverandre")) == (
        'kjenne hverandre — uttrykket "kjent hverandre" (variant av kjenne hverandre)'
    )


def test_near_rules_show_no_pattern_syntax() -> None:
    text = describe_match(
        match("near", "ledelse|leiing|sjef ~8~ klynge|klyngen|klynga", "eier klyngen")
    )
    assert text == 'ledelse … klynge — "eier klyngen" (ledelse og klynge innen 8 ord)'


def test_patterns_negation_and_support_words() -> None:
    assert describe_match(match("pattern", r"\bmål\w*", "målene")) == (
        'målene — "målene" (et mønster i kodeboka)'
    )
    negated = match("keyword", "mål", "mål", negated=True, negator="ikke")
    assert describe_match(negated) == 'mål — ordet "mål" (nektet med "ikke")'
    assert "støtteord" in describe_match(match("keyword", "ansatte", "ansatte", support=True))


def test_evidence_in_text_order_without_repeats() -> None:
    second = {**match("keyword", "klynge", "klyngen"), "start": 30, "end": 37}
    first = match("keyword", "tillit", "tilliten")
    assert describe_evidence([second, first, first]) == [
        'tillit — ordet "tilliten" (bøyd form av tillit)',
        'klynge — ordet "klyngen" (bøyd form av klynge)',
    ]


@given(
    rule=st.sampled_from(["keyword", "phrase", "compound", "fuzzy", "pattern", "near", "odd"]),
    term=st.text(st.characters(blacklist_categories=("Cc", "Zl", "Zp")), max_size=40),
    words=st.text(max_size=40),
    negated=st.booleans(),
)
def test_any_evidence_gives_one_line(rule: str, term: str, words: str, negated: bool) -> None:
    text = describe_match(match(rule, term, words, negated=negated))
    assert "\n" not in text and " — " in text
