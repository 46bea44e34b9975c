"""Fixtures shared by every test area: a CLI runner, fresh projects, and a small ingested corpus."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode.ingest import ingest_paths
from qualcode.store import Store, create_store

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "sample_transcripts"

SMALL_R1 = """\
I: Hvordan er medlemskapet forankret hos dere?
R1: Altså, det er sånn: vi har ikke noen mål for medlemskapet.
Ledelsen har liksom ikke tid til klyngen.
I: Og tillit mellom medlemmene?
R1: Vi stoler på hverandre, vi har jobbet sammen i mange år.
I: Takk.
R1: Takk selv.
"""

SMALL_R2 = """\
Intervjuer: Konkurrerer dere med andre i klyngen?
R2: Ja, [konkurrent] er jo en konkurrent, men vi samarbeider om opplæring.
Vi deler aldri priser, det er forretningshemmeligheter.
Intervjuer: Hva gjør klyngeledelsen?
R2: De arrangerer samlinger og frokostmøter, og de koblet oss med en leverandør.
"""


@pytest.fixture(scope="session", autouse=True)
def session_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache folder of the test session's own, holding links to the user's lexicon files.

    Test corpora are tiny and odd: saved into the user's word-type cache they would replace the
    analyses of a real project. The lexicon is the same for every run and slow to build, so it is
    built in the usual place (if missing) and linked in.
    """
    from qualcode import nlp

    lexicon = nlp.lexicon_path()
    if not lexicon.is_file():
        nlp.build_lexicon(lexicon)
    cache = tmp_path_factory.mktemp("cache") / "qualcode"
    cache.mkdir()
    for source in lexicon.parent.glob(f"{lexicon.stem}*"):
        if not source.name.endswith(".tmp"):
            (cache / source.name).symlink_to(source)
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(cache.parent))
    yield cache
    patch.undo()


@pytest.fixture
def runner() -> CliRunner:
    """Typer's test runner."""
    return CliRunner()


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A folder with two short labelled transcripts and a respondents.csv."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "R1.txt").write_text(SMALL_R1, encoding="utf-8")
    (folder / "R2.txt").write_text(SMALL_R2, encoding="utf-8")
    (folder / "respondents.csv").write_text(
        "respondent,file,sector,size\nR1,R1.txt,leverandør,45\nR2,R2.txt,prosessindustri,900\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Store]:
    """An empty project store in a temporary folder."""
    store = create_store(tmp_path / "project")
    yield store
    store.close()


@pytest.fixture
def make_codes() -> Callable[[Store, list[str]], None]:
    """A function that creates codes (parents first) in a store, for tests that need a code tree."""

    def create(store: Store, paths: list[str]) -> None:
        with store.write("test: make codes") as tx:
            for order, path in enumerate(sorted(paths, key=lambda p: p.count("/"))):
                store.upsert_code(tx, path, sort_order=order)

    return create


@pytest.fixture
def ingested(project: Store, small_corpus: Path) -> Store:
    """The project with the small corpus ingested (R1: 6 turns, R2: 4 turns)."""
    ingest_paths(project, [small_corpus], command="test: ingest")
    return project

