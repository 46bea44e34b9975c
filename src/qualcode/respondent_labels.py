"""Neutral respondent labels for transcripts that no respondent table names.

A file name often holds a person's or a firm's name (``R1_haugland.txt``), so a file name never
becomes a label: the label is the respondent id that starts the name, else the next free
``R<n>``. Shared by ingest and by the store migration that renames the labels earlier releases
took from file names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

#: A respondent id that starts a file name: letters (at most four) and digits, then ``_``, ``-``,
#: a space or the end (``R1_haugland.txt``, ``IP03-bolgen.docx``, ``07 nordvik.txt``).
LEADING_ID = re.compile(r"([^\W\d_]{0,4}\d{1,4})(?=[_\- ]|$)")


def leading_id(name: str | Path) -> str | None:
    """The respondent id that starts the file name, or None."""
    match = LEADING_ID.match(Path(name).stem.strip())
    return match.group(1) if match else None


def neutral_labels(
    files: Sequence[Path], taken: Iterable[str] = (), *, share_ids: bool = True
) -> dict[Path, str]:
    """A label per file: the id that starts its name (``R1`` for ``R1_haugland.txt``), else the
    next free ``R<n>`` (labels in ``taken`` and those given here are not free).

    With ``share_ids`` files with the same id share the respondent (two interviews of R1), and
    an id in ``taken`` is that respondent; without, an id already used gets the next ``R<n>``.
    """
    used = {label.casefold() for label in taken}
    labels: dict[Path, str] = {}
    for file in files:
        found = leading_id(file)
        if found and (share_ids or found.casefold() not in used):
            labels[file] = found
            used.add(found.casefold())
    number = 1
    for file in files:
        if file in labels:
            continue
        while f"r{number}" in used:
            number += 1
        labels[file] = f"R{number}"
        used.add(f"r{number}")
    return labels
