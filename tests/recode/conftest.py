"""Fixtures for manual recoding: the code tree, a drafted project (auto codings with evidence)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from qualcode.store import Store

CODE_TREE = [
    "forankring", "forankring/ledelse", "forankring/ressurser", "forankring/mål",
    "forankring/ansatte", "forankring/regional",
    "tillit", "tillit/relasjoner", "tillit/erfaring", "tillit/åpenhet", "tillit/mistillit",
    "samkonkurranse", "samkonkurranse/konkurrenter", "samkonkurranse/deling",
    "samkonkurranse/spenning", "samkonkurranse/felles_front",
    "fasilitering", "fasilitering/klyngeledelse", "fasilitering/møteplasser",
    "fasilitering/kobling", "fasilitering/digitalt", "fasilitering/offentlig",
]


def evidence_for(text: str, words: str, term: str, *, negator: str | None = None) -> dict[str, Any]:
    """One evidence entry in the shared format for the first occurrence of ``words``."""
    start = text.index(words)
    return {
        "rule": "keyword", "term": term, "words": words, "start": start,
        "end": start + len(words), "negated": negator is not None, "negator": negator,
    }


@pytest.fixture
def seg() -> Callable[[Store, str, int], int]:
    """The segment id of turn ``position`` of transcript ``name``."""

    def find(store: Store, name: str, position: int) -> int:
        row = store.conn.execute(
            "SELECT s.id FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
            " WHERE t.name = ? AND s.position = ?",
            (name, position),
        ).fetchone()
        assert row is not None, (name, position)
        return int(row[0])

    return find


@pytest.fixture
def coded(ingested: Store, make_codes: Callable[[Store, list[str]], None], seg: Any) -> Store:
    """The small corpus with the code tree and an auto draft of four codings with evidence.

    R1 turn 2 (negated 'mål', 'Ledelsen'), R1 turn 4 (tillit), R2 turn 2 (konkurrent).
    """
    store = ingested
    make_codes(store, CODE_TREE)
    r1_2, r1_4, r2_2 = seg(store, "R1.txt", 2), seg(store, "R1.txt", 4), seg(store, "R2.txt", 2)
    text = {
        sid: store.conn.execute("SELECT text FROM segments WHERE id = ?", (sid,)).fetchone()[0]
        for sid in (r1_2, r1_4, r2_2)
    }
    with store.write("test: auto draft", coder="auto") as tx:
        store.add_coding(tx, r1_2, "forankring/mål", "auto", source="auto", negated=True,
                         evidence=[evidence_for(text[r1_2], "mål", "mål", negator="ikke")])
        store.add_coding(tx, r1_2, "forankring/ledelse", "auto", source="auto",
                         evidence=[evidence_for(text[r1_2], "Ledelsen", "ledelse")])
        store.add_coding(tx, r1_4, "tillit/relasjoner", "auto", source="auto",
                         evidence=[evidence_for(text[r1_4], "stoler", "stole på")])
        store.add_coding(tx, r2_2, "samkonkurranse/konkurrenter", "auto", source="auto",
                         evidence=[evidence_for(text[r2_2], "konkurrent", "konkurrent")])
    return store


@pytest.fixture
def layer() -> Callable[[Store, str], dict[tuple[int, str], tuple[Any, ...]]]:
    """A coder's layer as ``{(segment, code): (source, negated, evidence, memo)}``."""

    def read(store: Store, coder: str) -> dict[tuple[int, str], tuple[Any, ...]]:
        return {
            (r[0], r[1]): tuple(r[2:])
            for r in store.conn.execute(
                "SELECT c.segment_id, k.path, c.source, c.negated, c.evidence, c.memo FROM codings c"
                " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
                (coder,),
            )
        }

    return read


def content_dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """The store's dump without the append-only history (commands, audit log)."""
    return {k: v for k, v in store.dump().items() if k not in ("commands", "audit_log")}


@pytest.fixture
def content() -> Callable[[Store], dict[str, list[tuple[Any, ...]]]]:
    """:func:`content_dump` as a fixture."""
    return content_dump


@pytest.fixture
def cli(runner: Any, coded: Store) -> Callable[..., Any]:
    """Run the CLI on the drafted project: ``cli("recode", "3", input=...)``."""
    from qualcode.cli.main import app

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:
        return runner.invoke(app, ["--project", str(coded.folder), *args], input=input, env=env)

    return invoke


@pytest.fixture(autouse=True)
def _no_coder_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose the coder themselves; a developer's QUALCODE_CODER must not leak in."""
    monkeypatch.delenv("QUALCODE_CODER", raising=False)
    monkeypatch.delenv("QUALCODE_PROJECT", raising=False)
