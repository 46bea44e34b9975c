"""Progress commands: mark a transcript done, and show each coder's progress."""

import typer

from qualcode.cli import state
from qualcode.cli.app import app
from qualcode.cli.output import OutputFormat, emit_rows, info, warn
from qualcode.cli.recode_cmds import CODER_OPTION, NEW_CODER_OPTION, _coder, command_line


@app.command()
def done(
    targets: list[str] = typer.Argument(
        ...,
        metavar="TRANSCRIPT_OR_RESPONDENT...",
        help="Transcript names (R7_nordvik.docx) or respondents (R7: all their transcripts).",
    ),
    coder: str | None = CODER_OPTION,
    undo: bool = typer.Option(False, "--undo", help="Mark them not done (in progress) again."),
    new_coder: bool = NEW_CODER_OPTION,
) -> None:
    """Mark transcripts as read to the end in your layer, coded or found with nothing to code.

    Reports, agreement, consistency and evaluate count a transcript as coded by you only when it
    is done.
    """
    from qualcode.progress import mark_done, started

    with state.open_project() as store:
        name = _coder(store, coder, new_coder)
        changed = mark_done(store, targets, name, undo=undo, command=command_line())
        names = dict(store.conn.execute("SELECT id, name FROM transcripts"))
        untouched = {names[i] for i in set(names) - started(store, name)}
    state_word = "not done" if undo else "done"
    for transcript, was_changed in changed:
        info(f"{transcript}: {state_word}" + ("" if was_changed else " (already)"))
        if was_changed and not undo and transcript in untouched:
            warn(
                f"{transcript}: you have no coding or review decision there, so it now counts as "
                f"read with nothing to code ('qualcode done {transcript} --undo' if not)"
            )


@app.command()
def progress(
    coder: str | None = typer.Option(
        None, "--coder", "-c", metavar="NAME", help="Only this coder layer (default: every person)."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table, csv or json."),
) -> None:
    """Each coder's progress per transcript: not started, in progress or done."""
    from qualcode.progress import PROGRESS_COLUMNS, progress_rows

    with state.open_project() as store:
        rows = progress_rows(store, coder)
    emit_rows(
        PROGRESS_COLUMNS,
        [r.as_tuple() for r in rows],
        fmt,
        title="Progress per transcript and coder",
    )
