"""Printing results: a rich table for people, CSV or JSON for scripts."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from qualcode.cli import state


class OutputFormat(StrEnum):
    """How tabular results are printed."""

    table = "table"
    csv = "csv"
    json = "json"


def emit_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: OutputFormat = OutputFormat.table,
    *,
    title: str | None = None,
    right_align: Sequence[str] = (),
    wrap_columns: Sequence[str] = (),
) -> None:
    """Print rows as a rich table, CSV (with a header) or a JSON list of objects."""
    if fmt == OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        return
    if fmt == OutputFormat.json:
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    cells = [["" if v is None else str(v) for v in row] for row in rows]
    table = Table(title=title, show_lines=bool(wrap_columns), header_style="bold")
    for index, column in enumerate(columns):
        values = [row[index] for row in rows if row[index] not in (None, "")]
        numeric = bool(values) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        )
        widest = max((len(c[index]) for c in cells), default=0)
        short = numeric or widest <= 30
        widest = max(widest, len(column))
        table.add_column(
            column,
            justify="right" if numeric or column in right_align else "left",
            # Numbers and short labels keep their full width; long text wraps instead, so a
            # narrow terminal never shows a truncated number.
            min_width=widest if short else None,
            overflow="fold",
            ratio=3 if column in wrap_columns else None,
            no_wrap=short,
        )
    # Text objects, not strings: transcript marks such as [pause] must not be read as markup.
    for row in cells:
        table.add_row(*[Text(value) for value in row])
    from rich.measure import Measurement

    console = state.console()
    needed = Measurement.get(console, console.options, table).minimum
    # Wider than the terminal: let the terminal wrap lines rather than crop columns away.
    console.print(table, width=max(needed, console.width))


def emit_frame(
    frame: Any,
    fmt: OutputFormat = OutputFormat.table,
    *,
    title: str | None = None,
    index: bool = True,
) -> None:
    """Print a pandas DataFrame through :func:`emit_rows`."""
    data = frame.reset_index() if index else frame
    columns = [str(c) for c in data.columns]
    numeric = [
        str(c) for c, dtype in zip(data.columns, data.dtypes, strict=True) if dtype.kind in "iuf"
    ]
    rows = [
        [None if _is_missing(v) else v for v in record]
        for record in data.itertuples(index=False, name=None)
    ]
    emit_rows(columns, rows, fmt, title=title, right_align=numeric)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def warn(message: str) -> None:
    """A warning on stderr."""
    from rich.markup import escape

    state.err_console().print(
        f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True
    )


def info(message: str) -> None:
    """A progress or status line on stderr (stdout stays clean for --format csv|json)."""
    state.err_console().print(message, highlight=False, soft_wrap=True, markup=False)


@contextmanager
def progress_steps() -> Iterator[Any]:
    """Rich progress bars for a job of several steps; yields ``update(step, done, total)``.

    Each new ``step`` name gets its own bar, so a long pipeline shows where it is.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=state.err_console(),
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=total)
            progress.update(tasks[step], completed=done, total=total)

        yield update


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Any]:
    """A rich progress bar on stderr; yields a function to call once per finished item."""
    with progress_steps() as update:
        done = 0

        def advance(*_: object) -> None:
            nonlocal done
            done += 1
            update(description, done, total)

        update(description, 0, total)
        yield advance
