"""A negator inside the matched words flags the match, like one just before it."""

from __future__ import annotations

import pytest

from qualcode.autocode import CompiledCodebook
from qualcode.codebook import loads_codebook

BOOK = """
name: negasjon
codes:
  - id: tillit
    name: Tillit
    keywords: ["stole på hverandre"]
    patterns: ['\\bstol(?:e|er|te|ar)\\s+(?:\\w+\\s+){1,3}?på\\b']
"""


@pytest.fixture(scope="module")
def compiled() -> CompiledCodebook:
    return CompiledCodebook(loads_codebook(BOOK))


@pytest.mark.parametrize(
    "text, negator",
    [
        ("Vi stoler ikke på dem.", "ikke"),
        ("Vi stolar ikkje meir på dei.", "ikkje"),
        ("Vi stoler aldri egentlig på hverandre.", "aldri"),
        ("Vi stoler ikke helt på dem.", None),  # "not entirely" is a hedge, not a negation
        ("Vi stoler fullt og helt på dem.", None),
        ("Vi stoler på hverandre.", None),
    ],
)
def test_negator_inside_a_match(compiled, text, negator):
    matches = compiled.code_text(text)["tillit"]
    assert {m.negator for m in matches} == {negator}
    assert all(m.negated == (negator is not None) for m in matches)
