"""count_words counts what its regular expression finds, by a quicker route."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.corpus import count_words

#: The definition: runs of letters or digits, joined by a hyphen or apostrophe into one word.
WORD = re.compile(r"\w+(?:[-'’]\w+)*")

#: Word characters and the rest: "_" (a word character that str.isalnum does not count), joiners,
#: white space str.split knows (\x1c, no-break and line separators), digits of other scripts and
#: superscripts, combining marks, and punctuation glued to words.
ALPHABET = st.sampled_from(
    [*"abæøåÅZ09_-'’ \t\n\x1c\u00a0\u2028²٣\u0301.,!?«»()[]:;/…–", "漢", "😀", "ǅ"]
)


@settings(max_examples=500)
@given(st.text(ALPHABET, max_size=60))
def test_count_words_is_the_regex_count(text: str) -> None:
    assert count_words(text) == len(WORD.findall(text))


def test_count_words_on_spoken_norwegian() -> None:
    text = "Ja, altså – det er jo klynge-samarbeid vi snakker om, ikke sant? «Bølgen» sa'kke noe."
    assert count_words(text) == len(WORD.findall(text)) == 14
