"""Reading and writing the CSV files people edit in Excel (Norwegian Excel writes ``;``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qualcode.errors import InputError
from qualcode.textfile import decode_bytes, normalise, read_bytes


@dataclass
class CsvRow:
    """One data row with the file line it ends on (for error messages)."""

    line: int
    values: dict[str, str]


@dataclass
class CsvTable:
    """A CSV file read into named columns."""

    path: Path
    columns: list[str]
    rows: list[CsvRow]


def read_csv(path: Path, required: Sequence[str] = (), *, strict_width: bool = False) -> CsvTable:
    """Read a CSV file with a header row; the delimiter (``,`` ``;`` or tab) is detected.

    Column names are compared case-insensitively and stripped. Missing ``required`` columns are an
    error naming the file and the columns found. A row with more fields than the header is an
    error; one with fewer is padded with empty cells, or is an error with ``strict_width`` (where a
    missing separator would silently shift values into the wrong columns).
    """
    data = read_bytes(path)
    text = normalise(decode_bytes(data, path).text)
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty file", path=path) from None
    except csv.Error as exc:
        raise InputError(f"not valid CSV: {exc}", path=path, line=1) from None
    columns = [c.strip().lstrip("\ufeff").casefold() for c in header]
    # Two columns of one name would keep only the last value of each row. Unnamed columns (Excel
    # leaves trailing empty ones) hold nothing anyone reads, so they may repeat.
    seen: set[str] = set()
    for raw, column in zip(header, columns, strict=True):
        if column and column in seen:
            raise InputError(
                f"the column '{raw.strip().lstrip(chr(0xFEFF))}' appears twice in the header "
                "(column names are compared ignoring case); rename or remove one",
                path=path,
                line=1,
            )
        seen.add(column)
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError(
            f"missing the column{'s' if len(missing) > 1 else ''} "
            + ", ".join(f"'{c}'" for c in missing)
            + f" (found: {', '.join(columns) or 'none'})",
            path=path,
            line=1,
        )
    rows = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(columns) or (strict_width and len(values) < len(columns)):
                raise InputError(
                    f"{len(values)} fields but the header has {len(columns)}", path=path, line=line
                )
            padded = [*values, *[""] * (len(columns) - len(values))]
            rows.append(CsvRow(line, dict(zip(columns, padded, strict=True))))
    except csv.Error as exc:
        raise InputError(f"not valid CSV: {exc}", path=path, line=reader.line_num) from None
    return CsvTable(path, columns, rows)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write UTF-8 with a BOM, so Excel shows æøå, and every value exactly as given."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
