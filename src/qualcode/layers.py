"""Coder-layer files: codings written by hand as ``file,turn,code[,memo][,excerpt]`` rows.

They are how the sample project ships its human coders and how the auto-coder's gold standard is
kept. ``turn`` is the 1-based position of the turn in its transcript; ``excerpt``, if given, must
occur in that turn, which catches a miscounted turn at once. A row with an empty ``code`` records
that the coder read the turn and gave it no code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qualcode.corpus import transcripts_of_segments
from qualcode.csvio import read_csv
from qualcode.errors import InputError
from qualcode.store import Store


@dataclass(frozen=True)
class LayerRow:
    """One row of a layer file."""

    line: int
    file: str
    turn: int
    code: str
    memo: str
    excerpt: str


def read_layer_file(path: Path) -> list[LayerRow]:
    """Read and check the shape of a layer file (not yet against a project)."""
    table = read_csv(path, required=["file", "turn", "code"])
    rows = []
    for row in table.rows:
        values = row.values
        try:
            turn = int(values["turn"])
        except ValueError:
            raise InputError(
                f"turn '{values['turn']}' is not a number", path=path, line=row.line
            ) from None
        rows.append(
            LayerRow(
                row.line,
                values["file"].strip(),
                turn,
                values["code"].strip().strip("/"),
                values.get("memo", "").strip(),
                values.get("excerpt", "").strip(),
            )
        )
    return rows


def resolve_layer(store: Store, path: Path, rows: list[LayerRow]) -> list[tuple[LayerRow, int]]:
    """Each row with its segment id; any row that does not fit the project is an error."""
    segment_ids: dict[tuple[str, int], tuple[int, str]] = {
        (name, position): (seg_id, text)
        for seg_id, name, position, text in store.conn.execute(
            "SELECT s.id, t.name, s.position, s.text FROM segments s"
            " JOIN transcripts t ON t.id = s.transcript_id"
        )
    }
    known_codes = set(store.code_paths(active_only=False))
    categories = {r[0] for r in store.conn.execute("SELECT path FROM codes WHERE codable = 0")}
    resolved = []
    for row in rows:
        found = segment_ids.get((row.file, row.turn))
        if found is None:
            raise InputError(
                f"no turn {row.turn} in transcript '{row.file}'", path=path, line=row.line
            )
        seg_id, text = found
        if row.excerpt and " ".join(row.excerpt.split()) not in " ".join(text.split()):
            raise InputError(
                f"the excerpt '{row.excerpt}' is not in turn {row.turn} of {row.file}",
                path=path,
                line=row.line,
            )
        if row.code and row.code not in known_codes:
            raise InputError(f"unknown code '{row.code}'", path=path, line=row.line)
        if row.code in categories:
            raise InputError(
                f"code '{row.code}' is a category (codable: false in the codebook) and cannot be "
                "applied",
                path=path,
                line=row.line,
            )
        resolved.append((row, seg_id))
    return resolved


def coder_of(path: Path) -> str:
    """The coder a layer file belongs to: ``kari.csv`` and ``kari_R1-R4.csv`` are both Kari's."""
    return path.stem.split("_", 1)[0]


def import_layer_files(store: Store, paths: list[Path], command: str) -> dict[str, int]:
    """Add the codings of layer files to their coders' layers, all files or none.

    A coder layer that already exists is left alone (its file is not read again): once a person
    has recoded their layer, re-running the main job must not put back what they removed.
    Returns the number of codings added per coder.
    """
    pending: list[tuple[str, Path, list[tuple[LayerRow, int]]]] = []
    for path in sorted(paths):
        coder = coder_of(path)
        if store.coder_id(coder) is None:
            pending.append((coder, path, resolve_layer(store, path, read_layer_file(path))))
    added: dict[str, int] = {}
    if not pending:
        return added
    with store.write(command) as tx:
        for coder, _, resolved in pending:
            store.ensure_coder(tx, coder)
            count = added.setdefault(coder, 0)
            for row, seg_id in resolved:
                if row.code and store.add_coding(
                    tx, seg_id, row.code, coder, source="manual", memo=row.memo or None
                ):
                    count += 1
            added[coder] = count
            # The file lists every transcript the coder read, turns left uncoded included:
            # agreement treats a transcript a coder never read as missing, not as "no code".
            for transcript_id in sorted(transcripts_of_segments(store, (s for _, s in resolved))):
                store.set_done(tx, transcript_id, coder)
    return added
