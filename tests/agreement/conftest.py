"""Fixtures for the agreement tests: a small project with two human coder layers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.helpers import mark_coded_transcripts_done

from qualcode.store import Store

CODES = [
    "tillit",
    "tillit/relasjoner",
    "tillit/mistillit",
    "forankring",
    "forankring/mål",
    "fasilitering",
    "samkonkurranse",
]


def respondent_turns(store: Store, transcript: str) -> list[int]:
    """Segment ids of the respondent turns of one transcript, in order."""
    return [
        r[0]
        for r in store.conn.execute(
            "SELECT s.id FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
            " WHERE t.name = ? AND s.role = 'respondent' ORDER BY s.position",
            (transcript,),
        )
    ]


@pytest.fixture
def code(ingested: Store) -> Callable[..., None]:
    """A function adding codings: code(coder, segment_id, path, memo=None)."""

    def add(coder: str, segment_id: int, path: str, memo: str | None = None) -> None:
        with ingested.write(f"test: code {coder}", coder=coder) as tx:
            ingested.add_coding(tx, segment_id, path, coder, memo=memo)

    return add


@pytest.fixture
def coded(ingested: Store, make_codes: Callable[[Store, list[str]], None]) -> Store:
    """Two coders on R1 (both) and R2 (kari only), with agreements and disagreements.

    R1's respondent turns r0..rN: kari and jonas agree on tillit/relasjoner at r0, disagree on
    the subcode at r1 (kari mistillit, jonas relasjoner: same top code), and kari alone codes
    forankring/mål at r0. Jonas has never seen R2.
    """
    make_codes(ingested, CODES)
    r1 = respondent_turns(ingested, "R1.txt")
    r2 = respondent_turns(ingested, "R2.txt")
    with ingested.write("test: layers") as tx:
        ingested.add_coding(tx, r1[0], "tillit/relasjoner", "kari", memo="kjenner hverandre")
        ingested.add_coding(tx, r1[0], "forankring/mål", "kari", memo="ingen mål")
        ingested.add_coding(tx, r1[1], "tillit/mistillit", "kari")
        ingested.add_coding(tx, r2[0], "samkonkurranse", "kari")
        ingested.add_coding(tx, r1[0], "tillit/relasjoner", "jonas")
        ingested.add_coding(
            tx, r1[1], "tillit/relasjoner", "jonas", memo="relasjon, ikke mistillit"
        )
    mark_coded_transcripts_done(ingested)
    return ingested
