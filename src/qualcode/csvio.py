"""Reading and writing the CSV files people edit in Excel (Norwegian Excel writes ``;``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qualcode.errors import InputError
from qualcode.formulas import neutralise_row
from qualcode.limits import MAX_CSV_FIELD_LINES, MAX_CSV_ROWS
from qualcode.outputs import atomic_output
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


def read_csv(path: Path, required: Sequence[str] = (), *, strict_width: bool = True) -> CsvTable:
    """Read a CSV file with a header row; the delimiter (``,`` ``;`` or tab) is detected.

    Column names are compared case-insensitively and stripped. Missing ``required`` columns are an
    error naming the file and the columns found. A row with more fields than the header is an
    error, and so is one with fewer (a missing separator would silently shift values into the
    wrong columns) unless ``strict_width`` is False, when it is padded with empty cells. A quoted
    field running over more than :data:`~qualcode.limits.MAX_CSV_FIELD_LINES` lines is taken for
    an unclosed quote (which would swallow the rest of the file into one cell) and refused with
    the line it starts on.
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
    row_start = reader.line_num + 1
    try:
        for values in reader:
            line = reader.line_num
            if line - row_start >= MAX_CSV_FIELD_LINES:
                raise InputError(
                    f"a quoted field runs over {line - row_start + 1} lines from here; is a "
                    "closing quote (\") missing?",
                    path=path,
                    line=row_start,
                )
            if len(columns) > 2 and any(
                line_text.count(delimiter) >= len(columns) - 1
                for value in values
                if "\n" in value
                for line_text in value.split("\n")[1:]
            ):
                # A cell whose later lines are whole rows: a quote left open swallowed them.
                raise InputError(
                    "a quoted field holds what look like whole rows; is a closing quote (\") "
                    "missing?",
                    path=path,
                    line=row_start,
                )
            row_start = line + 1
            if len(rows) >= MAX_CSV_ROWS:
                raise InputError(
                    f"more than {MAX_CSV_ROWS} rows; qualcode reads at most {MAX_CSV_ROWS} "
                    "(see docs/limits.md)",
                    path=path,
                    line=line,
                )
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
    """Write UTF-8 with a BOM, so Excel shows æøå; text that a spreadsheet would run as a formula
    gets a leading apostrophe (:mod:`qualcode.formulas`). The file is replaced atomically."""
    with atomic_output(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(neutralise_row(columns))
        for row in rows:
            writer.writerow(neutralise_row(row))
