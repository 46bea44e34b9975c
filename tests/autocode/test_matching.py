"""The matching engine: inflection, compounds, false friends, fuzzy slips, negation, phrases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.autocode import CompiledCodebook
from qualcode.nlp import find_negator, get_pipeline


def codes_of(compiled: CompiledCodebook, text: str) -> dict[str, list]:
    return compiled.code_text(text)


@pytest.mark.parametrize("word", ["forankres", "forankringen", "forankret", "forankring", "forankra"])
def test_inflected_forms_match_the_term(compiled: CompiledCodebook, word: str) -> None:
    coded = codes_of(compiled, f"Det er {word} hos oss.")
    assert "forankring" in coded
    assert coded["forankring"][0].words == word


@pytest.mark.parametrize("word", ["tillitsbygging", "mistillit", "tillitsfulle", "tilliten"])
def test_compounds_and_inflections_of_tillit(compiled: CompiledCodebook, word: str) -> None:
    coded = codes_of(compiled, f"Her er {word} viktig.")
    assert "tillit" in coded
    assert coded["tillit"][0].rule in ("compound", "keyword")


def test_compound_rule_is_named_in_evidence(compiled: CompiledCodebook) -> None:
    coded = codes_of(compiled, "Klyngeledelsen gjør mye, og toppledelsen bryr seg.")
    assert coded["fasilitering"][0].rule == "keyword"  # klyngeledelse is the term itself
    assert coded["forankring/ledelse"][0].words == "toppledelsen"


@pytest.mark.parametrize(
    "text",
    [
        "Vi er veldig konkurransedyktige på pris.",
        "Konkurranseevnen vår er god.",
        "Han er tillitsvalgt i klubben.",
        "Fasilitetene på hotellet var fine.",
        "Dette er godt forankret i teorien.",
    ],
)
def test_false_friends_never_match(compiled: CompiledCodebook, text: str) -> None:
    assert codes_of(compiled, text) == {}


def test_fuzzy_slip_matches_but_real_neighbours_do_not(compiled: CompiledCodebook) -> None:
    coded = codes_of(compiled, "Det handler om tilitt.")
    assert coded["tillit"][0].rule == "fuzzy"
    assert coded["tillit"][0].words == "tilitt"
    slips = codes_of(compiled, "Vi snakker med konkurentene.")
    assert slips["samkonkurranse"][0].rule == "fuzzy"
    # Real words one edit away from a term are in the lexicon, so never fuzzy matches.
    for text in ("Det er ikke tillat.", "Vi fikk konkurs.", "Han er tillitsfull til"):
        assert get_pipeline().in_lexicon(text.split()[-1].rstrip("."))
        for matches in codes_of(compiled, text).values():
            assert all(m.rule != "fuzzy" for m in matches)


def test_negation_is_flagged_but_still_coded(compiled: CompiledCodebook) -> None:
    coded = codes_of(compiled, "Vi har ikke noen tillit til dem. Tillit er viktig.")
    first, second = coded["tillit"]
    assert first.negated and first.negator == "ikke"
    assert not second.negated
    nynorsk = codes_of(compiled, "Eg har ikkje tenkt på forankring.")
    assert nynorsk["forankring"][0].negator == "ikkje"


def test_negation_stops_at_clause_boundary(compiled: CompiledCodebook) -> None:
    coded = codes_of(compiled, "Det var ikke lett, men tillit bygde vi.")
    assert not coded["tillit"][0].negated
    assert not codes_of(compiled, "Ikke bare tillit, altså.")["tillit"][0].negated


def test_phrase_matches_across_inflection_and_fillers(compiled: CompiledCodebook) -> None:
    for text in ("De stolte på hverandre.", "Vi stoler liksom på hverandre."):
        matches = codes_of(compiled, text)["tillit"]
        assert matches[0].rule == "phrase"
        assert matches[0].words.startswith("stol") and matches[0].words.endswith("hverandre")


def test_near_and_pattern_rules(compiled: CompiledCodebook) -> None:
    coded = codes_of(compiled, "Vi deler aldri prisene våre.")
    near = coded["samkonkurranse"][0]
    assert near.rule == "near" and near.words == "deler aldri prisene"
    assert near.negator == "aldri"
    assert codes_of(compiled, "Vi går på frokostmøtene.")["fasilitering"][0].rule == "pattern"


def test_child_wins_over_parent(compiled: CompiledCodebook) -> None:
    coded = codes_of(compiled, "Tillit? Jeg er mistenksom.")
    assert "tillit/mistillit" in coded and "tillit" not in coded


def test_sentence_unit_offsets_point_into_the_turn(compiled: CompiledCodebook) -> None:
    text = "Det går bra. Men tillit er viktig!"
    coded = compiled.code_text(text, unit="sentence")
    match = coded["tillit"][0]
    assert text[match.start : match.end] == "tillit"
    assert match.sentence == (13, len(text))


def test_negator_window() -> None:
    words = ["vi", "har", "ikke", "noen", "mål"]
    assert find_negator(words, 4) == "ikke"
    assert find_negator(["ikke", ",", "mål"], 2) is None


def test_pipeline_exposes_lemmas_and_tokens() -> None:
    pipeline = get_pipeline()
    assert "stole" in pipeline.lemmas("stolte")
    assert "forankring" in pipeline.lemmas("forankringen")
    tokens = pipeline.tokenize("Vi stolte på dem.")
    assert [t.text for t in tokens][:3] == ["Vi", "stolte", "på"]
    assert all("Vi stolte på dem."[t.start : t.end] == t.text for t in tokens)


WORDS = st.sampled_from(
    ["vi", "ikke", "tillit", "stolte", "på", "hverandre", "forankret", "konkurrent", "tilitt", "deler", "pris", ",", ".", "…", "altså", "[pause]", "tillitsvalgt", "frokost", "mistenksom", "Tillit", "«sitat»", "IP-rettigheter", "æøå", "123"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, max_size=25), st.sampled_from([" ", "  ", "\n", " - "]))
def test_matching_never_raises_and_offsets_slice_to_words(
    compiled: CompiledCodebook, words: list[str], sep: str
) -> None:
    text = sep.join(words)
    for unit in ("turn", "sentence"):
        for matches in compiled.code_text(text, unit=unit).values():
            for m in matches:
                assert 0 <= m.start < m.end <= len(text)
                assert text[m.start : m.end] == m.words


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_matching_arbitrary_text_never_raises(compiled: CompiledCodebook, text: str) -> None:
    for matches in compiled.code_text(text).values():
        for m in matches:
            assert text[m.start : m.end] == m.words


PRONOUN_BOOK = """\
name: pronomen
codes:
  - id: tillit
    keywords: [holde det de lover, kjenner dem godt, de]
"""


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Vi holder det vi lover.", "holder det vi lover"),
        ("Og han holdt faktisk det han lovet.", "holdt faktisk det han lovet"),
        ("Eg kjenner dei veldig godt.", "kjenner dei veldig godt"),
        ("Vi kjenner oss godt nå.", "kjenner oss godt"),
    ],
)
def test_a_pronoun_in_a_phrase_stands_for_any_pronoun_of_its_role(text: str, words: str) -> None:
    from qualcode.codebook import loads_codebook

    compiled = CompiledCodebook(loads_codebook(PRONOUN_BOOK, "p.yaml"))
    matches = compiled.code_text(text)["tillit"]
    assert [m.words for m in matches if m.rule == "phrase"] == [words]


@pytest.mark.parametrize(
    "text",
    [
        "Kunden holder det kunden lover.",  # a noun is no pronoun
        "Vi holder det oss lover.",  # an object pronoun in a subject's place
        "Vi kjenner de godt.",  # "de" is a subject pronoun only
    ],
)
def test_a_phrase_pronoun_matches_no_other_word(text: str) -> None:
    from qualcode.codebook import loads_codebook

    compiled = CompiledCodebook(loads_codebook(PRONOUN_BOOK, "p.yaml"))
    coded = compiled.code_text(text)
    assert not [m for m in coded.get("tillit", []) if m.rule == "phrase"]
