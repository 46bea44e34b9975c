"""The optimised auto-coder against straightforward references: same results, word for word.

The fast path batches new word types, fetches split pieces in rounds, compares fuzzy slips with
one ``cdist`` per length group, and looks only at token positions that can start a match. Each
test below computes the same thing the slow, obvious way and demands identical output, on words
drawn from the codebook's terms, their inflections, compounds, prefixes and slips.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

from qualcode.autocode import ECHO_WORDS, CompiledCodebook, _EchoTest, _in_echo_question
from qualcode.nlp import FILLERS, Lexicon, _best_split, collapse_doubles, get_pipeline, max_edits

ENDINGS = ("", "en", "ene", "et", "a", "er", "e", "s", "te", "ar", "ane", "ingen", "heten", "ens")
FILLER_WORDS = sorted(FILLERS)
GLUE = ("og", "ikke", "vi", "på", "det", "er", "aldri", "men", ",", ".", "?", "hverandre", "med")


def _term_words(compiled: CompiledCodebook) -> list[str]:
    words = sorted({w for t in compiled.terms for w in t.text.split()})
    assert words
    return words


def _slip(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word))
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]  # a letter dropped
    if kind == 1:
        return word[:i] + word[i - 1] + word[i:]  # a letter doubled
    if kind == 2:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]  # two letters swapped
    return word[:i] + rng.choice("aeiklnrst") + word[i + 1 :]  # a letter replaced


@st.composite
def words(draw: st.DrawFn, pool: list[str]) -> str:
    """A word near the codebook: a term word inflected, compounded, prefixed or slipped."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    word = rng.choice(pool).rstrip("e") if rng.random() < 0.5 else rng.choice(pool)
    shape = draw(st.integers(0, 6))
    if shape == 1:
        word += rng.choice(ENDINGS)
    elif shape == 2:
        word = rng.choice(pool) + rng.choice(("", "s", "e")) + word + rng.choice(ENDINGS)
    elif shape == 3:
        word = word + rng.choice(("", "s", "e")) + rng.choice(pool) + rng.choice(ENDINGS)
    elif shape == 4:
        word = rng.choice(("u", "mis", "")) + word + rng.choice(ENDINGS)
    elif shape == 5:
        word = _slip(word + rng.choice(ENDINGS), rng)
    elif shape == 6:
        word = f"{rng.choice(pool)}-{word}"
    return word


def _reference_slips(compiled: CompiledCodebook, word: str) -> list[int]:
    """The slips of ``word`` the simple way: one ``extract`` over every target of length ±2."""
    probe = collapse_doubles(word)
    near = [
        t
        for n in range(len(probe) - 2, len(probe) + 3)
        for t in compiled._fuzzy_by_length.get(n, ())
    ]
    found: list[int] = []
    for target, dist, _ in extract(probe, near, scorer=OSA.distance, score_cutoff=2, limit=None):
        tid, allowed = compiled._fuzzy_targets[target]
        if dist <= allowed and dist <= max_edits(word) and tid not in found:
            found.append(tid)
    return found


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_batched_fuzzy_equals_one_extract_per_word(
    compiled: CompiledCodebook, data: st.DataObject
) -> None:
    pool = _term_words(compiled)
    batch = data.draw(st.lists(words(pool), min_size=1, max_size=8, unique=True))
    batch = [w for w in batch if len(w) >= 5]
    fast = compiled._fuzzy_many({w: collapse_doubles(w) for w in batch})
    for word in batch:
        got = list(dict.fromkeys(fast.get(word, [])))
        assert got == _reference_slips(compiled, word), word


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_staged_prefetch_gives_the_split_of_one_by_one_lookups(
    compiled: CompiledCodebook, data: st.DataObject
) -> None:
    """Batched, staged look-ups find the same compound split as a lexicon asked word by word."""
    pool = _term_words(compiled)
    batch = data.draw(st.lists(words(pool), min_size=1, max_size=6, unique=True))
    pipeline = get_pipeline()
    pipeline.prepare(batch)  # no filter: every word gets its split
    fresh = Lexicon(pipeline.lexicon.path)  # empty memo: one query per form
    for word in batch:
        assert pipeline.compound_parts(word) == tuple(
            w for w, _ in _best_split(word.lower(), fresh)
        )


@st.composite
def turns(draw: st.DrawFn, pool: list[str]) -> str:
    """A turn of term words (whole phrases too), fillers, glue words and near-term words."""
    parts: list[str] = []
    phrases = [w for w in pool if " " in w]
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.integers(0, 4))
        if kind == 0:
            parts.append(draw(words(pool)))
        elif kind == 1:
            parts.append(draw(st.sampled_from(FILLER_WORDS)))
        elif kind == 2 and phrases:
            parts.append(draw(st.sampled_from(phrases)))
        else:
            parts.append(draw(st.sampled_from(GLUE)))
    return " ".join(parts)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_batched_coding_equals_coding_each_turn(
    compiled: CompiledCodebook, data: st.DataObject
) -> None:
    """``code_many`` (position pre-filter, hashed phrases) equals ``code_text`` turn by turn.

    ``code_text`` walks every token; so a position the pre-filter skips that could have started a
    match would show here as a missing coding.
    """
    pool = sorted({t.text for t in compiled.terms} | set(_term_words(compiled)))
    texts = data.draw(st.lists(turns(pool), min_size=1, max_size=5))
    assert compiled.code_many(texts) == [compiled.code_text(t) for t in texts]


def test_batched_coding_finds_phrases_with_fillers(compiled: CompiledCodebook) -> None:
    """A phrase with a filler inside still codes on the fast path (the pre-filter lets it in)."""
    texts = ["Vi stolte liksom på hverandre.", "Vi stoler på hverandre, altså.", "Ingenting her."]
    fast = compiled.code_many(texts)
    assert "tillit" in fast[0] and fast[0]["tillit"][0].rule == "phrase"
    assert "tillit" in fast[1]
    assert fast[2] == {}
    assert fast == [compiled.code_text(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab ?.!…\n")), min_size=1, max_size=60),
    data=st.data(),
)
def test_echo_test_equals_the_plain_function(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert _EchoTest(text)(start, end) == _in_echo_question(text, start, end)
    assert ECHO_WORDS > 0


@pytest.fixture(scope="module")
def in_memory_lexicon() -> Lexicon:
    """A lexicon answering compound tests from the in-memory Ordbank forms (the bulk path)."""
    lexicon = Lexicon(get_pipeline().lexicon.path)
    lexicon.load_ordbank_forms()
    assert lexicon.has_ordbank_forms
    return lexicon


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_in_memory_ordbank_answers_like_sql(
    compiled: CompiledCodebook, in_memory_lexicon: Lexicon, data: st.DataObject
) -> None:
    """The bulk path's set look-ups give the same compound tests and splits as SQL queries."""
    pool = _term_words(compiled)
    word = data.draw(words(pool)).lower()
    fresh = Lexicon(in_memory_lexicon.path)
    pieces = {word[i:j] for i in range(len(word)) for j in range(i + 1, len(word) + 1)}
    assert {p for p in pieces if in_memory_lexicon.in_ordbank(p)} == {
        p for p in pieces if fresh.in_ordbank(p)
    }
    assert _best_split(word, in_memory_lexicon) == _best_split(word, fresh)


def test_unreadable_ordbank_file_is_rebuilt(tmp_path: Path) -> None:
    """A damaged forms file beside the cache is rebuilt, not trusted and not fatal."""
    source = get_pipeline().lexicon.path
    path = tmp_path / source.name
    shutil.copyfile(source, path)
    damaged = path.with_name(f"{path.stem}.ordbank.marshal")
    damaged.write_bytes(b"not a marshal file")
    lexicon = Lexicon(path)
    lexicon.load_ordbank_forms()
    assert lexicon.in_ordbank("tillit") and not lexicon.in_ordbank("tilitt")
    again = Lexicon(path)
    again.load_ordbank_forms()  # now read from the rewritten file
    assert damaged.stat().st_size > 1000
    fresh = Lexicon(source)
    for word in ("tillitsbygging", "klyngeledelsen", "konkurrentene", "mistillit", "forankres"):
        pieces = {word[i:j] for i in range(len(word)) for j in range(i + 1, len(word) + 1)}
        assert {p for p in pieces if again.in_ordbank(p)} == {
            p for p in pieces if fresh.in_ordbank(p)
        }


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøåéèüö", min_size=1, max_size=14),
        min_size=1,
        max_size=4,
    )
)
def test_plain_terms_are_split_as_the_tokenizer_splits_them(words: list[str]) -> None:
    from qualcode.autocode import is_plain_term

    term = " ".join(words)
    assert is_plain_term(term)
    assert [t.lower for t in get_pipeline().tokenize(term)] == words


def test_every_shipped_term_compiles_to_the_tokenizers_words() -> None:
    from qualcode.autocode import is_plain_term
    from qualcode.codebook import load_codebook

    book = load_codebook(Path(__file__).parents[2] / "codebooks" / "klynge.yaml")
    terms = {
        " ".join(t.casefold().split())
        for code in book.walk()
        for t in [*code.all_terms, *code.exclude_terms]
    }
    plain = [t for t in terms if is_plain_term(t)]
    assert len(plain) > 1000
    pipeline = get_pipeline()
    for term in plain:
        assert [w.key for w in pipeline.tokenize(term) if w.is_word] == term.split(" "), term
