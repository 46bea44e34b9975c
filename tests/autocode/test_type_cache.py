"""The word-type cache: a later run reuses earlier analyses and codes exactly as a fresh one."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode import nlp
from qualcode.autocode import CompiledCodebook
from qualcode.codebook import loads_codebook
from qualcode.nlp import Lexicon, Pipeline, get_pipeline, type_cache_path

from .conftest import SMALL_CODEBOOK

TURNS = [
    "Vi har jobbet mye med tillitsbygging, og toppledelsen har forankret klyngearbeidet.",
    "Det var mistillit før, men nå stoler vi liksom på hverandre og deler prisene.",
    "Konkurrentene våre er med i klyngeledelsen, og vi har tilitt til dem.",
    "Vi snakket om fasilitetene og om at tillitsvalgt må være med. Frokostmøtet var bra.",
]


_LEXICON: list[Path] = []


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of the test's own, so the user's type cache is neither read nor changed."""
    if not _LEXICON:
        _LEXICON.append(get_pipeline().lexicon.path)  # found before the cache folder moves
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    # These tests code a few turns; a real corpus's batches are big enough to read the cache.
    monkeypatch.setattr(nlp, "TYPE_CACHE_BATCH", 1)
    return tmp_path / "qualcode"


def _fresh_pipeline() -> Pipeline:
    # The usual lexicon file, but a new pipeline: no analyses in memory.
    return Pipeline(lexicon=Lexicon(_LEXICON[0]))


def _coded(pipeline: Pipeline, text: str = SMALL_CODEBOOK) -> list[dict]:
    compiled = CompiledCodebook(loads_codebook(text, "small.yaml"), pipeline)
    return compiled.code_many(TURNS)


def test_second_run_reads_the_cache_and_codes_the_same(own_cache: Path) -> None:
    first_pipeline = _fresh_pipeline()
    first = _coded(first_pipeline)
    assert not type_cache_path().exists()
    first_pipeline.save_type_cache()
    assert type_cache_path().is_file()

    second_pipeline = _fresh_pipeline()
    second = _coded(second_pipeline)
    assert second == first
    assert any(first.values() for first in first)
    # The second pipeline took its analyses from the file: nothing new to save.
    assert second_pipeline._unsaved == {}
    assert "tillitsbygging" in second_pipeline._info


def test_a_word_cached_without_its_split_is_split_when_a_codebook_wants_it(
    own_cache: Path,
) -> None:
    # A codebook with no term inside "tillitsbygging" analyses it without the compound split…
    other = "name: other\ncodes:\n  - id: annet\n    keywords: [båt]\n"
    pipeline = _fresh_pipeline()
    _coded(pipeline, other)
    assert pipeline._info["tillitsbygging"].parts == ()
    pipeline.save_type_cache()
    # …and a later codebook whose term sits inside it gets the split, from the cache or not.
    for later in (_fresh_pipeline(), pipeline):
        coded = _coded(later)
        assert "tillit" in coded[0], later


def test_an_unwritable_cache_is_no_error(own_cache: Path) -> None:
    pipeline = _fresh_pipeline()
    _coded(pipeline)
    type_cache_path().mkdir(parents=True)  # a folder where the file should go
    pipeline.save_type_cache()
    assert type_cache_path().is_dir()


def test_a_corrupt_cache_is_ignored(own_cache: Path) -> None:
    expected = _coded(_fresh_pipeline())
    type_cache_path().write_bytes(b"\x00not marshal")
    pipeline = _fresh_pipeline()
    assert _coded(pipeline) == expected
    pipeline.save_type_cache()
    assert _coded(_fresh_pipeline()) == expected


def test_a_small_batch_does_not_read_the_cache(own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _fresh_pipeline()
    _coded(first)
    first.save_type_cache()
    monkeypatch.setattr(nlp, "TYPE_CACHE_BATCH", 10_000)
    small = _fresh_pipeline()
    assert _coded(small) == _coded(first)
    assert small._stored is None  # reading the file would cost more than it saves


def test_saving_removes_caches_of_an_older_analysis(own_cache: Path) -> None:
    own_cache.mkdir(parents=True, exist_ok=True)
    stale = own_cache / "types-nb-0000-000000000000.marshal"
    stale.write_bytes(b"old")
    pipeline = _fresh_pipeline()
    _coded(pipeline)
    pipeline.save_type_cache()
    assert type_cache_path().is_file()
    assert not stale.exists()


def test_a_full_cache_starts_afresh_with_the_current_corpus(
    own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _fresh_pipeline()
    old.prepare(["båtbyggeri", "verkstedhallen", "sveiseren"])
    old.save_type_cache()
    assert set(nlp._read_type_cache(type_cache_path())) == {"båtbyggeri", "verkstedhallen", "sveiseren"}
    monkeypatch.setattr(nlp, "TYPE_CACHE_MAX", 4)
    new = _fresh_pipeline()
    new.prepare(["klyngesamarbeidet", "tillitsbyggingen"])
    new.save_type_cache()
    assert set(nlp._read_type_cache(type_cache_path())) == {"klyngesamarbeidet", "tillitsbyggingen"}


def test_the_test_session_keeps_its_word_analyses_out_of_the_users_cache(
    session_cache_folder: Path,
) -> None:
    # The session fixture moved the cache folder; the lexicon is the user's, linked in.
    assert type_cache_path().parent == session_cache_folder
    assert nlp.lexicon_path().is_symlink()
