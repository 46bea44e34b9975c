"""A coded project for the report tests: three interviews, the real code tree, codings in two layers.

Codings are added the way the auto-coder and a human coder add them (``store.add_coding`` with
evidence offsets found in the turn's text), so the tests count from real rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.helpers import mark_coded_transcripts_done

from qualcode.ingest import ingest_paths
from qualcode.store import Store

TREE = {
    "forankring": ["ledelse", "ressurser", "mål", "ansatte", "regional"],
    "tillit": ["relasjoner", "erfaring", "åpenhet", "mistillit"],
    "samkonkurranse": ["konkurrenter", "deling", "spenning", "felles_front"],
    "fasilitering": ["klyngeledelse", "møteplasser", "kobling", "digitalt", "offentlig"],
}
ALL_CODES = [p for top, subs in TREE.items() for p in (top, *(f"{top}/{s}" for s in subs))]

R1 = """\
I: Hvordan er medlemskapet forankret i ledelsen hos dere?
R1: Altså, ledelsen har ikke satt av tid. Vi har ikke noen mål for medlemskapet. Ola Sørheim på Fjordal Aluminium ringte meg for åtte år siden.
I: Stoler dere på de andre medlemmene?
R1: Vi stoler på hverandre, vi har jobbet sammen i mange år. Vi deler erfaringer åpent på samlingene.
I: Og konkurrentene?
R1: Konkurrentene sitter i samme rom. Priser deler vi aldri, det er forretningshemmeligheter.
"""

R2 = """\
Intervjuer: Hva gjør klyngeledelsen for dere?
R2: Klyngeledelsen arrangerer samlinger og frokostmøter. De koblet oss med en leverandør i Fjordbyen.
Intervjuer: Er kommunen med?
R2: Kommunen og fylket støtter klyngen. Fjordal Aluminiums ledelse er også med. Vi har ingen mistillit til dem.
"""

R3 = """\
I: Fortell om samarbeidet.
R3: Vi samarbeider med Fjordal om opplæring. Det er tillit mellom oss, og ledelsen har forankret det i styret.
I: Noe mer?
R3: Nei, egentlig ikke. Det var det.
"""

PSEUDONYMS = (
    "original,replacement\nFjordal Aluminium,[bedriften]\nFjordal,[bedriften]\nOla Sørheim,[navn]\n"
)

# (respondent, turn position, code path, evidence words, coder, negated)
CODINGS = [
    ("R1", 2, "forankring/ledelse", "ledelsen", "auto", True),
    ("R1", 2, "forankring/mål", "mål", "auto", True),
    ("R1", 2, "tillit/relasjoner", "Ola", "kari", False),
    ("R1", 4, "tillit/relasjoner", "stoler på hverandre", "auto", False),
    ("R1", 4, "tillit/erfaring", "jobbet sammen i mange år", "auto", False),
    ("R1", 4, "tillit/åpenhet", "deler erfaringer åpent", "auto", False),
    ("R1", 4, "fasilitering/møteplasser", "samlingene", "auto", False),
    ("R1", 6, "samkonkurranse/konkurrenter", "Konkurrentene", "auto", False),
    ("R1", 6, "samkonkurranse/deling", "forretningshemmeligheter", "auto", False),
    ("R1", 6, "tillit/åpenhet", "Priser deler vi aldri", "auto", False),
    ("R1", 1, "forankring/ledelse", "ledelsen", "auto", False),  # the interviewer's question
    ("R2", 2, "fasilitering/klyngeledelse", "Klyngeledelsen", "auto", False),
    ("R2", 2, "fasilitering/møteplasser", "samlinger", "auto", False),
    ("R2", 2, "fasilitering/kobling", "koblet", "auto", False),
    ("R2", 4, "forankring/regional", "Kommunen og fylket", "auto", False),
    ("R2", 4, "forankring/ledelse", "ledelse", "auto", False),
    ("R2", 4, "tillit/mistillit", "mistillit", "auto", True),
    ("R2", 4, "fasilitering", "", "kari", False),
    ("R2", 3, "forankring/regional", "kommunen", "auto", False),  # the interviewer's question
    ("R3", 2, "samkonkurranse", "samarbeider", "auto", False),
    ("R3", 2, "tillit", "tillit", "auto", False),
    ("R3", 2, "forankring/ledelse", "forankret", "auto", False),
]


def evidence_for(text: str, words: str, negated: bool) -> list[dict]:
    """Evidence as the auto-coder writes it, with offsets found in the turn."""
    if not words:
        return []
    start = text.index(words)
    return [
        {
            "rule": "keyword",
            "term": words.casefold(),
            "words": words,
            "start": start,
            "end": start + len(words),
            "negated": negated,
            "negator": "ikke" if negated else None,
        }
    ]


def build_project(store: Store, folder: Path) -> Store:
    """Ingest the three interviews into ``store`` and code them."""
    folder.mkdir()
    for name, text in (("R1.txt", R1), ("R2.txt", R2), ("R3.txt", R3)):
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "respondents.csv").write_text(
        "respondent,file,sector,size\nR1,R1.txt,leverandør,45\nR2,R2.txt,prosessindustri,900\n"
        "R3,R3.txt,leverandør,12\n",
        encoding="utf-8",
    )
    ingest_paths(store, [folder], command="test: ingest")
    with store.write("test: codes and codings") as tx:
        for order, path in enumerate(ALL_CODES):
            store.upsert_code(
                tx, path, sort_order=order, description=f"Definisjon av {path.rsplit('/', 1)[-1]}."
            )
        for label, position, path, words, coder, negated in CODINGS:
            seg_id, text = tx.conn.execute(
                "SELECT s.id, s.text FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
                " WHERE t.name = ? AND s.position = ?",
                (f"{label}.txt", position),
            ).fetchone()
            evidence = evidence_for(text, words, negated) if coder == "auto" else []
            store.add_coding(
                tx,
                seg_id,
                path,
                coder,
                source="auto" if coder == "auto" else "manual",
                evidence=evidence,
                negated=negated,
            )
    mark_coded_transcripts_done(store)
    return store


@pytest.fixture
def coded(project: Store, tmp_path: Path) -> Store:
    """The project with three coded interviews (layers ``auto`` and ``kari``)."""
    return build_project(project, tmp_path / "interviews")


@pytest.fixture
def with_pseudonyms(coded: Store) -> Store:
    """The coded project with a pseudonyms.csv naming a firm and a person."""
    (Path(coded.folder) / "pseudonyms.csv").write_text(PSEUDONYMS, encoding="utf-8")
    return coded


@pytest.fixture
def sql_counts() -> Callable[..., dict[tuple[str, str], int]]:
    """Independent counts straight from SQL: coded respondent turns per (code, respondent),
    subcodes rolled up by path prefix, each turn once per code."""

    def count(store: Store, coder: str = "auto", exclude_negated: bool = False) -> dict:
        result = {}
        labels = [r[0] for r in store.conn.execute("SELECT label FROM respondents")]
        for path in store.code_paths():
            for label in labels:
                n = store.conn.execute(
                    "SELECT COUNT(DISTINCT c.segment_id) FROM codings c"
                    " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
                    " JOIN segments s ON s.id = c.segment_id"
                    " JOIN respondents r ON r.id = s.respondent_id"
                    " WHERE d.name = ? AND r.label = ? AND s.role = 'respondent'"
                    " AND (k.path = ? OR substr(k.path, 1, length(?) + 1) = ? || '/')"
                    + (" AND c.negated = 0" if exclude_negated else ""),
                    (coder, label, path, path, path),
                ).fetchone()[0]
                result[(path, label)] = n
        return result

    return count
