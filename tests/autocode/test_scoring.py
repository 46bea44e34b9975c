"""Evidence strength: weak, support and weighted terms, thresholds, pooling, echo, short turns;
the batched (hash/numpy) path against the simple per-text matcher."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.autocode import CompiledCodebook
from qualcode.codebook import load_codebook, loads_codebook, validate_codebook

WEIGHTED = """\
scoring: {echo: 0.5, repeat: 0.25, short_turn: 4}
codes:
  - id: fasilitering
    keywords: [klyngeledelse]
    codes:
      - id: møteplasser
        keywords: [frokostmøte]
        weak: [samling, konferanse]
        support: [møte]
      - id: offentlig
        weak: [kommune]
  - id: tillit
    keywords: [tillit]
    weak: [respekt]
  - id: forankring
    threshold: 2
    keywords: [forankring, {term: eierskap, weight: 0.6}]
"""


@pytest.fixture(scope="module")
def weighted() -> CompiledCodebook:
    return CompiledCodebook(loads_codebook(WEIGHTED, "weighted.yaml"))


def test_one_weak_term_is_not_enough(weighted: CompiledCodebook) -> None:
    assert weighted.code_text("Vi var på en samling i fjor, det var fint der.") == {}
    # The same weak term again adds only a quarter of its weight: still not enough.
    assert weighted.code_text("Samling etter samling, det var sånn det var den gangen.") == {}


def test_two_distinct_weak_terms_or_one_strong_are(weighted: CompiledCodebook) -> None:
    coded = weighted.code_text("Vi var på en samling og på en konferanse i fjor.")
    assert set(coded) == {"fasilitering/møteplasser"}
    assert {m.term for m in coded["fasilitering/møteplasser"]} == {"samling", "konferanse"}
    assert all(m.evidence()["weight"] == 0.5 for m in coded["fasilitering/møteplasser"])
    strong = weighted.code_text("Vi går på frokostmøtene når vi rekker det.")
    assert set(strong) == {"fasilitering/møteplasser"}
    assert "weight" not in strong["fasilitering/møteplasser"][0].evidence()


def test_support_terms_only_add_to_other_evidence(weighted: CompiledCodebook) -> None:
    assert weighted.code_text("Vi hadde et møte, og så et møte til, det var mange møter.") == {}
    coded = weighted.code_text("Etter møtet på samlingen skjønte vi mer om det.")
    assert set(coded) == {"fasilitering/møteplasser"}
    assert any(m.support for m in coded["fasilitering/møteplasser"])


def test_the_top_code_pools_weak_evidence_of_its_subtree(weighted: CompiledCodebook) -> None:
    coded = weighted.code_text("Kommunen stilte opp, og samlingen ble bra, det må jeg si.")
    # Neither child has enough on its own, together they are fasilitering.
    assert set(coded) == {"fasilitering"}
    assert {m.code for m in coded["fasilitering"]} == {"fasilitering/møteplasser", "fasilitering/offentlig"}
    # Weak terms of different top codes do not support each other.
    assert weighted.code_text("Kommunen viser respekt for det, kan du si, hele veien.") == {}


def test_threshold_and_explicit_weights(weighted: CompiledCodebook) -> None:
    assert weighted.code_text("Det handler om forankring i hele bedriften, synes jeg.") == {}
    assert weighted.code_text("Eierskap og forankring er viktig for oss, begge deler.") == {}  # 1.6
    coded = weighted.code_text("Eierskap, forankring og forankring igjen, og mer eierskap.")
    assert set(coded) == {"forankring"}  # 1 + 0.6 + 0.25 + 0.15 = 2.0


def test_echo_of_the_question_counts_half(weighted: CompiledCodebook) -> None:
    assert weighted.code_text("Tillit? Nei, det vet jeg ikke helt hva jeg skal si om.") == {}
    assert "tillit" in weighted.code_text("Tillit, ja, absolutt.")  # a statement, not an echo
    assert "tillit" in weighted.code_text("Tillit? Ja, tillit er alt for oss her.")


def test_short_turns_count_only_full_weight_terms(weighted: CompiledCodebook) -> None:
    assert weighted.code_text("Samling, konferanse.") == {}
    assert "tillit" in weighted.code_text("Ja, tillit.")


def test_min_hits_still_counts_matches(tmp_path: Path) -> None:
    book = loads_codebook("codes:\n  - id: a\n    min_hits: 2\n    keywords: [tillit]\n")
    compiled = CompiledCodebook(book)
    assert compiled.code_text("Tillit er viktig for alle.") == {}
    assert "a" in compiled.code_text("Tillit er viktig, og tilliten vokser.")


BAD = [
    ("codes:\n  - id: a\n    keywords: [x]\n    treshold: 2\n", 4, "did you mean 'threshold'"),
    ("codes:\n  - id: a\n    keywords:\n      - {term: x, wieght: 2}\n", 4, "did you mean 'weight'"),
    ("codes:\n  - id: a\n    keywords:\n      - {weight: 2}\n", 4, "has no 'term'"),
    ("codes:\n  - id: a\n    keywords: [x]\n    weight: 0\n", 4, "'weight' must be a number above 0"),
    ("codes:\n  - id: a\n    weak: [x]\n    threshold: lots\n", 4, "'threshold' must be a number"),
    ("scoring:\n  ecko: 0.5\ncodes:\n  - id: a\n    keywords: [x]\n", 2, "did you mean 'echo'"),
    ("scoring:\n  echo: 2\ncodes:\n  - id: a\n    keywords: [x]\n", 2, "from 0 to 1"),
    ("codes:\n  - id: a\n    near:\n      - {a: [x], b: [y], weight: -1}\n", 4, "'weight' must be"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD)
def test_new_keys_are_validated_with_lines(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    errors = [i for i in validate_codebook(path) if i.severity == "error"]
    assert errors and errors[0].line == line and message in errors[0].message, errors


def test_unreachable_codes_are_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "warn.yaml"
    path.write_text(
        "codes:\n  - id: a\n    support: [møte]\n  - id: b\n    threshold: 3\n    weak: [x, y]\n",
        encoding="utf-8",
    )
    warnings = [(i.line, i.message) for i in validate_codebook(path)]
    assert [line for line, _ in warnings] == [2, 4]
    assert "only support terms" in warnings[0][1] and "can never be assigned" in warnings[1][1]
    assert load_codebook(path).find("b").threshold == 3


def test_old_codebooks_keep_their_meaning(compiled: CompiledCodebook) -> None:
    # Without weak/support/threshold every keyword hit codes, as before.
    assert "tillit" in compiled.code_text("Ja.  Tillit.")
    assert compiled.codebook.scoring.echo == 1.0


VOCAB = st.sampled_from(
    [
        "vi", "ikke", "tillit", "stolte", "på", "hverandre", "forankret", "konkurrent", "tilitt",
        "deler", "aldri", "prisene", "pris", ",", ".", "?", "…", "altså", "liksom", "tillitsvalgt",
        "frokostmøtene", "mistenksom", "Tillit", "klyngeledelsen", "toppledelsen", "konkurentene",
        "samling", "kommunen", "møte", "respekt", "Eierskap", "forankring", "tillitsbygging",
        "æøå", "123", "[pause]", "IP-rettigheter", "stoler", "konferanse",
    ]
)


@settings(max_examples=120, deadline=None)
@given(st.lists(VOCAB, max_size=30), st.sampled_from([" ", "  ", "\n", " - "]))
def test_batched_path_agrees_with_the_simple_matcher(
    compiled: CompiledCodebook, weighted: CompiledCodebook, words: list[str], sep: str
) -> None:
    text = sep.join(words)
    for book in (compiled, weighted):
        batched = book.code_many([text, "Noe helt annet.", text])
        assert batched[0] == book.code_text(text) == batched[2]
