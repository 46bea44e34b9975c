"""Coder-layer files: codings written by hand as ``file,turn,code[,memo][,excerpt]`` rows.

They are how the sample project ships its human coders and how the auto-coder's gold standard is
kept. ``turn`` is the 1-based position of the turn in its transcript; ``excerpt``, if given, must
occur in that turn, which catches a miscounted turn at once. A row with an empty ``code`` records
that the coder read the turn and gave it no code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
            raise InputError(f"turn '{values['turn']}' is not a number", path=path, line=row.line) from None
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
    resolved = []
    for row in rows:
        found = segment_ids.get((row.file, row.turn))
        if found is None:
            raise InputError(f"no turn {row.turn} in transcript '{row.file}'", path=path, line=row.line)
        seg_id, text = found
        if row.excerpt and " ".join(row.excerpt.split()) not in " ".join(text.split()):
            raise InputError(
                f"the excerpt '{row.excerpt}' is not in turn {row.turn} of {row.file}",
                path=path,
                line=row.line,
            )
        if row.code and row.code not in known_codes:
            raise InputError(f"unknown code '{row.code}'", path=path, line=row.line)
        resolved.append((row, seg_id))
    return resolved


def import_layer_file(store: Store, path: Path, coder: str, command: str) -> int:
    """Add every coding of a layer file to ``coder``'s layer, all or nothing; returns the count added."""
    resolved = resolve_layer(store, path, read_layer_file(path))
    added = 0
    with store.write(command, coder=coder) as tx:
        store.ensure_coder(tx, coder)
        for row, seg_id in resolved:
            if row.code and store.add_coding(
                tx, seg_id, row.code, coder, source="manual", memo=row.memo or None
            ):
                added += 1
    return added
