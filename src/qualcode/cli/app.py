"""The Typer application and its command groups; command modules attach to these."""

import errno
import sqlite3
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from qualcode import __version__
from qualcode.cli import state
from qualcode.errors import QualcodeError


class QualcodeGroup(TyperGroup):
    """Turns the errors a user can cause into one line on stderr and a non-zero exit."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            # The command line as typed, for hints that repeat it (a table too wide to print).
            state.set_arguments(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:
        from qualcode import nlp
        from qualcode.cli.output import close_lexicon_display, lexicon_progress

        if lexicon_progress not in nlp.lexicon_build_listeners:
            nlp.lexicon_build_listeners.append(lexicon_progress)
        try:
            try:
                return super().invoke(ctx)
            finally:
                close_lexicon_display()
        except QualcodeError as exc:
            _error(str(exc))
            raise typer.Exit(code=2) from None
        except sqlite3.OperationalError as exc:
            message = str(exc)
            if "locked" in message or "busy" in message:
                message = (
                    "the project store is busy (another qualcode command is writing); try again"
                )
            _error(message)
            raise typer.Exit(code=3) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click handles a closed pipe (`qualcode … | head`) quietly
            # A file a writer did not check (a full disk, a folder without permission): still
            # one line, never a traceback.
            where = exc.filename if exc.filename is not None else ""
            reason = exc.strerror or str(exc)
            _error(f"{where}: {reason}" if where != "" else reason)
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            state.err_console().print(
                "interrupted: the unfinished command changed nothing (finished steps are kept)"
            )
            raise typer.Exit(code=130) from None


def _error(message: str) -> None:
    from rich.markup import escape

    # One line, however long: a wrapped error would look like two errors.
    state.err_console().print(
        f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True
    )


def _new_group(name: str, help_text: str, **kwargs: Any) -> typer.Typer:
    return typer.Typer(
        name=name,
        help=help_text,
        cls=QualcodeGroup,
        no_args_is_help=True,
        rich_markup_mode=None,
        **kwargs,
    )


app = typer.Typer(
    name="qualcode",
    help="Qualitative interview analysis: ingest, code, recode, report, check agreement, interchange.",
    cls=QualcodeGroup,
    no_args_is_help=True,
    # Plain help text: rendering help with rich would import rich and double the start-up time
    # of `qualcode --help` (bench/startup.py); results and progress still use rich.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)

codebook_app = _new_group("codebook", "Validate and show codebooks.")
coder_app = _new_group("coder", "Coder layers: list, set the default, copy a layer.")
respondents_app = typer.Typer(
    name="respondents",
    help="List respondents with attributes and counts, or change an attribute.",
    cls=QualcodeGroup,
    invoke_without_command=True,
    rich_markup_mode=None,
)
report_app = _new_group("report", "Frequency tables, co-occurrence, quotes and full reports.")
export_app = _new_group("export", "Export codings (csv/xlsx) and REFI-QDA files (qdpx/qdc).")
import_app = _new_group("import", "Import codings (csv/xlsx) and REFI-QDA files (qdpx/qdc).")
config_app = _new_group("config", "Project settings.")
pseudonyms_app = _new_group("pseudonyms", "Pseudonymisation of exported quotes.")

for group in (
    codebook_app,
    coder_app,
    respondents_app,
    report_app,
    export_app,
    import_app,
    config_app,
    pseudonyms_app,
):
    app.add_typer(group)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qualcode {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    project: Path | None = typer.Option(
        None,
        "--project",
        "-p",
        help="Project folder (default: the nearest one upwards).",
        envvar="QUALCODE_PROJECT",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Qualitative interview analysis: ingest, code, recode, report, agreement, interchange."""
    state.set_project(project)
