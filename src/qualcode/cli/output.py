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
        from qualcode.formulas import neutralise_row

        # A script's CSV ends up in a spreadsheet as often as a file does.
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(neutralise_row(columns))
        writer.writerows(neutralise_row(row) for row in rows)
        return
    if fmt == OutputFormat.json:
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    cells = [["" if v is None else str(v) for v in row] for row in rows]
    console = state.console()
    table = Table(title=title, show_lines=bool(wrap_columns), header_style="bold")
    numeric_flags = []
    natural, least = [], []
    for index, column in enumerate(columns):
        values = [row[index] for row in rows if row[index] not in (None, "")]
        numeric = column in right_align or (
            bool(values)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        )
        numeric_flags.append(numeric)
        texts = [c[index] for c in cells]
        widest = max((len(t) for t in texts), default=0)
        longest_word = max((len(w) for t in [column, *texts] for w in t.split()), default=1)
        natural.append(max(widest, len(column), 1))
        # A number is never wrapped or cut, but its header may wrap at spaces; text wraps at
        # spaces, so it needs its longest word (a very long one folds past 30 characters).
        least.append(max(widest, _longest(column)) if numeric else min(longest_word, 30))
        table.add_column(
            # The header wraps at its own spaces even above a number that must not wrap.
            Text(column, no_wrap=False, overflow="fold"),
            justify="right" if numeric else "left",
            overflow="fold",
            no_wrap=numeric,
        )
    # Text objects, not strings: transcript marks such as [pause] must not be read as markup.
    for row in cells:
        table.add_row(*[Text(value) for value in row])
    # Borders and one space of padding either side of every column.
    frame = 3 * len(columns) + 1
    room = console.width - frame
    if sum(natural) <= room:
        console.print(table)
        return
    if sum(least) <= room:
        # Rich would shrink every column evenly, numbers to nothing; set the widths here instead:
        # numbers at their width, the room left shared by the text columns by how long they are.
        widths = _share_room(natural, least, numeric_flags, room)
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        console.print(table)
        return
    # Wider than the terminal: say how to get the whole table, then print it in parts that fit,
    # each with the first column (the code or the respondent) repeated.
    warn(
        f"the table needs {sum(least) + frame} characters, the terminal has {console.width}; "
        f"printed in parts. The whole table: {_whole_table_hint()}"
    )
    for part in _column_parts(least, console.width):
        chunk = Table(
            title=f"{title or ''} (columns {part[1] + 1}–{part[-1] + 1} of {len(columns)})".strip(),
            show_lines=bool(wrap_columns),
            header_style="bold",
        )
        for i in part:
            source = table.columns[i]
            chunk.add_column(
                Text(columns[i], no_wrap=False, overflow="fold"),
                justify=source.justify,
                overflow="fold",
                no_wrap=source.no_wrap,
                width=least[i],
            )
        for row in cells:
            chunk.add_row(*[Text(row[i]) for i in part])
        console.print(chunk)


def _column_parts(least: Sequence[int], width: int) -> list[list[int]]:
    """Column indexes in groups whose tables fit ``width`` characters (borders and padding
    included), each group starting with column 0."""
    parts: list[list[int]] = []
    current = [0]
    used = 1 + least[0] + 3
    for i in range(1, len(least)):
        if len(current) > 1 and used + least[i] + 3 > width:
            parts.append(current)
            current, used = [0], 1 + least[0] + 3
        current.append(i)
        used += least[i] + 3
    parts.append(current)
    return parts


def _whole_table_hint() -> str:
    """The command as typed, with ``-f csv`` (and ``-o FILE.xlsx`` where the command writes
    files)."""
    words = state.arguments()
    command = "qualcode " + " ".join(_quoted(w) for w in words)
    names: list[str] = []
    skip = False
    for word in words:
        if skip:  # the value of a global option
            skip = False
        elif word in ("-p", "--project"):
            skip = True
        elif word.startswith("-"):
            if names:
                break
        else:
            names.append(word)
    path, options = _command(names)
    name = path[-1] if path else "table"
    hint = f"`{command} -f csv > {name}.csv`"
    if "output" in options:
        hint += f" or `{command} -o {name}.xlsx`"
    return hint


def _command(names: Sequence[str]) -> tuple[list[str], set[str]]:
    """The command path among ``names`` (``report freq`` of ``report freq R1``) and the
    parameter names of that command."""
    from typer.main import get_command

    from qualcode.cli.main import app

    command: Any = get_command(app)
    path: list[str] = []
    for name in names:
        sub = getattr(command, "commands", {}).get(name)
        if sub is None:
            break
        command = sub
        path.append(name)
    return path, {p.name for p in getattr(command, "params", []) if p.name}


def _quoted(word: str) -> str:
    import shlex

    return shlex.quote(word)


def _longest(text: str) -> int:
    return max((len(word) for word in text.split()), default=1)


def _share_room(
    natural: Sequence[int], least: Sequence[int], numeric: Sequence[bool], room: int
) -> list[int]:
    """Column widths that fit ``room``: numbers at their least width, text columns between their
    least and natural width, in proportion to what they lack."""
    widths = list(least)
    spare = room - sum(least)
    wants = [0 if numeric[i] else natural[i] - least[i] for i in range(len(natural))]
    total = sum(wants)
    if total <= 0:
        return widths
    for i, want in enumerate(wants):
        widths[i] += min(want, spare * want // total)
    return widths


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

        global _active_update
        outer, _active_update = _active_update, update
        try:
            yield update
        finally:
            _active_update = outer


#: The ``update`` of the progress display on screen, if any (rich shows one at a time).
_active_update: Any = None
#: The display opened for a lexicon build that started outside any other progress display.
_lexicon_display: Any = None
LEXICON_STEP = "Building the Norwegian lexicon (once)…"


def lexicon_progress(done: int, total: int) -> None:
    """Show the one-time lexicon build (a listener of :mod:`qualcode.nlp`) as a progress bar.

    Inside a command's own progress display it is one more bar there; otherwise it opens a
    display of its own for the build.
    """
    global _lexicon_display
    if _active_update is not None and _lexicon_display is None:
        _active_update(LEXICON_STEP, done, total)
        return
    if _lexicon_display is None:
        _lexicon_display = progress_steps()
        _lexicon_display.__enter__()
    _active_update(LEXICON_STEP, done, total)
    if done >= total:
        display, _lexicon_display = _lexicon_display, None
        display.__exit__(None, None, None)


def close_lexicon_display() -> None:
    """Close the display of a lexicon build that did not finish (interrupted or failed).

    Left open, it would be closed at interpreter shutdown, when rich can no longer import what
    it needs: a traceback after the one-line error.
    """
    global _lexicon_display
    display, _lexicon_display = _lexicon_display, None
    if display is not None:
        display.__exit__(None, None, None)


def warn_without_pseudonyms(project: Any) -> None:
    """Say so when files leave the project without a pseudonyms.csv to replace names with."""
    from pathlib import Path

    from qualcode.pseudonyms import PSEUDONYMS_FILE

    if not (Path(project) / PSEUDONYMS_FILE).is_file():
        warn(
            f"no {PSEUDONYMS_FILE} in the project: the report quotes every name the transcripts "
            "hold (add original,replacement rows and write it again)"
        )
