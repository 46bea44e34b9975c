"""Changing the project's codebook from inside the project: a new code while reading, and export.

Inductive coding makes codes while reading. Each new code becomes a new version of the project's
codebook (the YAML with the code added), so ``qualcode codebook export FILE`` writes what the
project now uses and ``current_codebook`` keeps agreeing with the ``codes`` table. The change is
one command with an ``add_code`` audit entry that ``qualcode undo`` reverts exactly.

The YAML of the new version is written by PyYAML from the parsed previous version: its values are
the same, its comments are not carried over (the previous version keeps them in
``codebook_versions``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualcode.codebook import code_id_from_name, loads_codebook
from qualcode.errors import InputError
from qualcode.outputs import prepare_output_file
from qualcode.store import Store, WriteTx, now_iso

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOR = "#7f7f7f"
NEW_CODEBOOK_NAME = "Prosjektets kodebok"


@dataclass(frozen=True)
class NewCode:
    """A code made by :func:`add_code`."""

    path: str
    name: str
    version_id: int
    command_id: int


def add_code(
    store: Store,
    name: str,
    coder: str | None,
    *,
    parent: str | None = None,
    description: str = "",
    color: str | None = None,
    command: str | None = None,
) -> NewCode:
    """Add one code (without rules) under ``parent`` as a new codebook version, in one command.

    The name must not be taken among the parent's children (by id or by name); the colour is
    ``#rrggbb``. Returns the new code's path.
    """
    name = " ".join(name.split())
    if not name:
        raise InputError("the new code needs a name")
    if len(name) > 80:
        raise InputError("a code name has at most 80 characters")
    code_id = code_id_from_name(name)
    color = (color or "").strip() or None
    if color is not None and not _COLOR.match(color):
        raise InputError(f"colour '{color}' is not of the form #rrggbb")
    parent = (parent or "").strip().strip("/") or None
    if parent is not None:
        row = store.conn.execute(
            "SELECT active FROM codes WHERE path = ?", (parent,)
        ).fetchone()
        if row is None or not row[0]:
            raise InputError(f"unknown parent code '{parent}'")
    path = f"{parent}/{code_id}" if parent else code_id
    siblings = store.conn.execute(
        "SELECT path, name FROM codes WHERE active = 1 AND "
        + ("parent_id = (SELECT id FROM codes WHERE path = ?)" if parent else "parent_id IS NULL"),
        (parent,) if parent else (),
    ).fetchall()
    for other_path, other_name in siblings:
        if other_path == path or other_name.casefold() == name.casefold():
            raise InputError(f"there is already a code '{other_path}' named '{other_name}'")
    if store.code_id(path) is not None:
        raise InputError(
            f"code '{path}' exists from an earlier codebook version; choose another name"
        )

    data = _current_yaml_data(store)
    entry: dict[str, Any] = {"id": code_id, "name": name}
    if description.strip():
        entry["description"] = description.strip()
    if color:
        entry["color"] = color
    _insert(data, parent, entry)
    import yaml

    content = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    book = loads_codebook(content, source="<workbench>")
    order = {p: i for i, p in enumerate(book.paths())}
    command = command or f"codebook add-code {path}"
    with store.write(command, coder=coder) as tx:
        cur = tx.conn.execute(
            "INSERT INTO codebook_versions (name, source_path, sha256, content, loaded_at)"
            " VALUES (?, NULL, ?, ?, ?)",
            (book.name, book.sha256, content, now_iso()),
        )
        version_id = int(cur.lastrowid or 0)
        shifted = _renumber(tx, order)
        store.upsert_code(
            tx,
            path,
            name=name,
            description=description.strip(),
            color=color,
            sort_order=order[path],
            codebook_version_id=version_id,
        )
        tx.audit(
            "add_code",
            code_path=path,
            detail={"version_id": version_id, "name": name, "shifted": shifted},
        )
        command_id = tx.command_id
    return NewCode(path, name, version_id, command_id)


def _current_yaml_data(store: Store) -> dict[str, Any]:
    """The last installed codebook as plain data, or a new codebook holding the project's codes."""
    import yaml

    row = store.conn.execute(
        "SELECT content FROM codebook_versions ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is not None:
        data = yaml.safe_load(row[0])
        if isinstance(data, dict):
            data.setdefault("codes", [])
            if data["codes"] is None:
                data["codes"] = []
            return data
    # Codes made without a codebook (an import): rebuild a tree from the store.
    data = {"name": NEW_CODEBOOK_NAME, "language": "nb", "codes": []}
    for path, name, description, color in store.conn.execute(
        "SELECT path, name, description, color FROM codes WHERE active = 1 ORDER BY sort_order, path"
    ):
        entry: dict[str, Any] = {"id": path.rpartition("/")[2], "name": name}
        if description:
            entry["description"] = description
        if color:
            entry["color"] = color
        parent = path.rpartition("/")[0] or None
        try:
            _insert(data, parent, entry)
        except InputError:
            continue
    return data


def _insert(data: dict[str, Any], parent: str | None, entry: dict[str, Any]) -> None:
    codes = data["codes"]
    if parent:
        for part in parent.split("/"):
            match = next((c for c in codes if str(c.get("id")) == part), None)
            if match is None:
                raise InputError(f"parent code '{parent}' is not in the current codebook")
            if not match.get("codes"):
                match["codes"] = []
            codes = match["codes"]
    codes.append(entry)


def _renumber(tx: WriteTx, order: dict[str, int]) -> list[list[Any]]:
    """Give existing codes their sort order in the new version; returns ``[path, old, new]``."""
    shifted = []
    for path, old in tx.conn.execute("SELECT path, sort_order FROM codes").fetchall():
        new = order.get(path)
        if new is not None and new != old:
            tx.conn.execute("UPDATE codes SET sort_order = ? WHERE path = ?", (new, path))
            shifted.append([path, old, new])
    return shifted


def current_codebook_text(store: Store) -> str:
    """The YAML of the project's current codebook version, exactly as stored."""
    row = store.conn.execute(
        "SELECT content FROM codebook_versions ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        if store.code_paths():
            import yaml

            return yaml.safe_dump(
                _current_yaml_data(store), allow_unicode=True, sort_keys=False, width=100
            )
        raise InputError("the project has no codebook yet; load one with 'qualcode codebook load FILE'")
    return str(row[0])


def export_codebook(store: Store, path: str | Path) -> Path:
    """Write the current codebook as YAML to ``path`` (folders made as needed); returns the path."""
    text = current_codebook_text(store)
    target = prepare_output_file(path)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the codebook: {exc.strerror or exc}", path=target) from None
    return target
