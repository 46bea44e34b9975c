"""Whether two report folders hold the same ``rapport.docx`` and ``rapport.xlsx``, part by part.

A speed change to the report writers must not change what they write. This compares every zip
part of each file pair byte for byte and prints the parts that differ; ``docProps/core.xml``
holds the time the file was written, so there only the timestamps may differ.

    python bench/same_files.py FOLDER_BEFORE FOLDER_AFTER
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from pathlib import Path

#: The times a document records about itself (Word: created/modified; Excel: the same).
_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def differing_parts(before: Path, after: Path) -> list[str]:
    """The zip parts of ``after`` that are not those of ``before`` (byte for byte, timestamps of
    ``docProps/core.xml`` aside), with a word on how they differ."""
    with zipfile.ZipFile(before) as a, zipfile.ZipFile(after) as b:
        names_a, names_b = a.namelist(), b.namelist()
        out = []
        if names_a != names_b:
            out.append(f"part lists differ: {sorted(set(names_a) ^ set(names_b))} or order")
        for name in names_a:
            if name not in names_b:
                continue
            one, two = a.read(name), b.read(name)
            if name == "docProps/core.xml":
                one, two = _TIMES.sub(rb"\1\3", one), _TIMES.sub(rb"\1\3", two)
            if one != two:
                at = next((i for i, (x, y) in enumerate(zip(one, two, strict=False)) if x != y),
                          min(len(one), len(two)))
                out.append(f"{name}: {len(one):,} vs {len(two):,} bytes, first difference at"
                           f" byte {at:,}: {one[at - 40:at + 40]!r} / {two[at - 40:at + 40]!r}")
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    same = True
    for name in ("rapport.docx", "rapport.xlsx"):
        parts = differing_parts(args.before / name, args.after / name)
        with zipfile.ZipFile(args.after / name) as z:
            count = len(z.namelist())
        print(f"{name}: {'same' if not parts else 'DIFFERENT'} ({count} parts compared)")
        for line in parts:
            print(f"  {line}")
        same = same and not parts
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
