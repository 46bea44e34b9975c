"""Passages in REFI-QDA files (issue 12): a passage coding is a selection of exactly that passage,
and a partial selection comes back as a passage of the turn it falls in, never as a new turn."""

from __future__ import annotations

from pathlib import Path

from qualcode.passages import find_quote
from qualcode.refiqda import export_qdpx, import_qdpx
from qualcode.store import Store, open_store

from .conftest import Q, read_qdpx

U1 = "a1111111-1111-4111-8111-111111111111"
C1 = "c0000000-0000-4000-8000-000000000001"
SRC = "50000000-0000-4000-8000-000000000001"


def add_passage(store: Store, transcript: str, position: int, quote: str, code: str, coder: str):
    seg_id, text = store.conn.execute(
        "SELECT s.id, s.text FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
        " WHERE t.name = ? AND s.position = ?",
        (transcript, position),
    ).fetchone()
    span = find_quote(text, quote)
    with store.write("test: passage") as tx:
        store.add_coding(tx, seg_id, code, coder, quote=span, memo="Kjernen i svaret")
    return span


def passages(store: Store) -> set[tuple]:
    return set(
        store.conn.execute(
            "SELECT t.name, s.position, k.path, d.name, c.quote_start, c.quote_end, c.memo,"
            " substr(s.text, c.quote_start + 1, c.quote_end - c.quote_start)"
            " FROM codings c JOIN segments s ON s.id = c.segment_id"
            " JOIN transcripts t ON t.id = s.transcript_id JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id WHERE c.quote_start IS NOT NULL"
        )
    )


def test_passage_round_trip_with_exact_offsets(coded: Store, tmp_path: Path, validate_qdpx) -> None:
    # R3's turn 2 has an emoji before the passage, so UTF-16 and code points differ there.
    span = add_passage(coded, "R3.txt", 2, "og åpenhet", "tillit", "ola")
    turn_start, turn_text = coded.conn.execute(
        "SELECT s.char_start, s.text FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
        " WHERE t.name = 'R3.txt' AND s.position = 2"
    ).fetchone()
    assert "🤝" in turn_text[: span[0]]
    for target in ("standard", "nvivo"):
        path = tmp_path / f"{target}.qdpx"
        export_qdpx(coded, path, pseudonymise=False, target=target)
        validate_qdpx(path)
        root, texts, _ = read_qdpx(path)
        found = []
        for source in root.iter(f"{Q}TextSource"):
            text = texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]
            for sel in source.iter(f"{Q}PlainTextSelection"):
                a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
                if target == "nvivo":
                    units = text.encode("utf-16-le")
                    chosen = units[2 * a : 2 * b].decode("utf-16-le")
                else:
                    chosen = text[a:b]
                if chosen == "og åpenhet":
                    found.append((a, b, sel))
        assert len(found) == 1  # exactly the passage, in its own selection
        a, b, sel = found[0]
        if target == "standard":
            assert (a, b) == (turn_start + span[0], turn_start + span[1])
        assert sel.find(f"{Q}Description").text == "Kjernen i svaret"
        users = {u.get("guid"): u.get("name") for u in root.iter(f"{Q}User")}
        assert users[sel.get("creatingUser")] == "ola"
        # Back in: the same passage on the same turn, and the same turns as before.
        import_qdpx(path, tmp_path / f"back-{target}")
        with open_store(tmp_path / f"back-{target}") as copy:
            assert passages(copy) == passages(coded)
            turns = "SELECT t.name, s.position, s.char_start, s.char_end FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
            assert set(copy.conn.execute(turns)) == set(coded.conn.execute(turns))


def test_pseudonymised_export_moves_the_passage_with_the_names(
    coded: Store, tmp_path: Path
) -> None:
    (coded.folder / "pseudonyms.csv").write_text(
        "original,replacement\nkunnskap,[et langt navn]\n", encoding="utf-8"
    )
    add_passage(coded, "R3.txt", 2, "og åpenhet", "tillit", "ola")
    path = tmp_path / "p.qdpx"
    export_qdpx(coded, path)
    root, texts, _ = read_qdpx(path)
    chosen = [
        texts["sources/" + s.get("plainTextPath").removeprefix("internal://")][
            int(sel.get("startPosition")) : int(sel.get("endPosition"))
        ]
        for s in root.iter(f"{Q}TextSource")
        for sel in s.iter(f"{Q}PlainTextSelection")
    ]
    assert "og åpenhet" in chosen  # the passage moved with the longer replacement before it
    assert all("kunnskap" not in text for text in texts.values())


TEXT = (
    "I: Hva betyr klyngen for dere?\n"
    "R4: Vi får tilgang til kompetanse vi ikke har selv. Det er det viktigste.\n"
    "I: Og konkurrentene?\n"
    "R4: Dem snakker vi med på samlingene. Men ikke om priser, aldri.\n"
)


def test_partial_selections_become_passages_and_add_no_turns(make_qdpx, tmp_path: Path) -> None:
    inside = "tilgang til kompetanse"
    spanning_from = TEXT.index("Det er det viktigste.")
    spanning_to = TEXT.index("Dem snakker vi med") + len("Dem snakker vi med")
    a = TEXT.index(inside)
    body = f"""<Sources><TextSource guid="{SRC}" name="R4" plainTextPath="internal://{SRC}.txt">
  <PlainTextSelection guid="5e000000-0000-4000-8000-000000000001" startPosition="{a}"
      endPosition="{a + len(inside)}" creatingUser="{U1}">
    <Coding guid="c1000000-0000-4000-8000-000000000001" creatingUser="{U1}"><CodeRef targetGUID="{C1}"/></Coding>
  </PlainTextSelection>
  <PlainTextSelection guid="5e000000-0000-4000-8000-000000000002" startPosition="{spanning_from}"
      endPosition="{spanning_to}" creatingUser="{U1}">
    <Coding guid="c1000000-0000-4000-8000-000000000002" creatingUser="{U1}"><CodeRef targetGUID="{C1}"/></Coding>
  </PlainTextSelection>
</TextSource></Sources>"""
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="MAXQDA 24">
  <Users><User guid="{U1}" name="Kari"/></Users>
  <CodeBook><Codes><Code guid="{C1}" name="Kompetanse" isCodable="true"/></Codes></CodeBook>
  {body}
</Project>"""
    report = import_qdpx(make_qdpx("mx.qdpx", qde, {f"sources/{SRC}.txt": TEXT}), tmp_path / "p")
    assert report.turns == 4
    with open_store(tmp_path / "p") as store:
        assert store.conn.execute("SELECT COUNT(*) FROM segments").fetchone() == (4,)
        coded = sorted((position, text) for _, position, _, _, _, _, _, text in passages(store))
        # The selection across three turns is split: the end of turn 2, the interviewer's whole
        # turn 3, the start of turn 4.
        whole = store.conn.execute(
            "SELECT s.position FROM codings c JOIN segments s ON s.id = c.segment_id"
            " WHERE c.quote_start IS NULL"
        ).fetchall()
        assert whole == [(3,)]
        assert coded == [
            (2, "Det er det viktigste."),
            (2, "tilgang til kompetanse"),
            (4, "Dem snakker vi med"),
        ]
        assert report.passages == 3
        # Kari coded R4: it counts as done by her.
        assert store.conn.execute("SELECT COUNT(*) FROM transcripts_done").fetchone() == (1,)
