"""Commands for REFI-QDA interchange: export/import qdpx and qdc."""

from pathlib import Path

import typer

from qualcode.cli import state
from qualcode.cli.app import export_app, import_app
from qualcode.cli.output import OutputFormat, emit_rows, info, warn

FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", "-f", help="table, csv or json.")


def _report_skipped(skipped: dict[str, int]) -> None:
    for reason, count in sorted(skipped.items()):
        warn(f"skipped {count} × {reason}")


@export_app.command("qdpx")
def export_qdpx_cmd(
    file: Path = typer.Argument(..., help="The project file to write, e.g. prosjekt.qdpx."),
    coder: list[str] = typer.Option(
        [],
        "--coder",
        "-c",
        metavar="CODER",
        help="Only this coder layer (repeatable; default: every layer).",
    ),
    keep_names: bool = typer.Option(
        False, "--keep-names", help="Do not apply pseudonyms.csv (the file then holds real names)."
    ),
    target: str = typer.Option(
        "standard",
        "--for",
        metavar="TOOL",
        help="The tool that will read the file: nvivo (Windows; positions in UTF-16 units), "
        "atlas, maxqda (Windows line ends), qualcoder. Default: the standard (code points).",
    ),
) -> None:
    """Write the project as a REFI-QDA project (.qdpx) for NVivo, ATLAS.ti, MAXQDA and others.

    The file holds the whole transcripts: names in the project's pseudonyms.csv are replaced.
    """
    from qualcode.refiqda import export_qdpx
    from qualcode.store import command_line

    with state.open_project() as store:
        result = export_qdpx(
            store,
            file,
            coders=coder or None,
            pseudonymise=not keep_names,
            target=target.strip().casefold(),
            command=command_line(),
        )
    made_for = "" if result.target == "standard" else f" (for {result.target})"
    info(
        f"Wrote {file}{made_for}: {result.sources} sources, {result.codes} codes, "
        f"{result.selections} selections with {result.codings} codings by "
        f"{', '.join(result.users) or 'nobody'}, {result.cases} cases, "
        f"{result.notes + result.coding_memos} memos."
    )
    if result.pseudonyms:
        info(f"Pseudonyms applied: {result.pseudonyms} names from pseudonyms.csv.")
    elif not keep_names:
        warn(
            "no pseudonyms.csv in the project: the file holds the transcripts with every name "
            "in them"
        )
    if result.inactive_codes:
        info(
            f"{result.inactive_codes} codes no longer in the codebook are included because "
            f"codings or memos use them (listed in the set '{_inactive_set()}')."
        )


def _inactive_set() -> str:
    from qualcode.refiqda.export import INACTIVE_SET_NAME

    return INACTIVE_SET_NAME


@export_app.command("qdc")
def export_qdc_cmd(
    file: Path = typer.Argument(..., help="The codebook file to write, e.g. kodebok.qdc."),
) -> None:
    """Write the current codebook as a REFI-QDA codebook (.qdc)."""
    from qualcode.refiqda import export_qdc
    from qualcode.store import command_line

    with state.open_project() as store:
        result = export_qdc(store, file, command=command_line())
    info(f"Wrote {file}: {result.codes} codes.")


def _project_code_guids() -> dict[str, str]:
    """GUID -> path of the current project's codes, or nothing outside a project."""
    from qualcode.errors import ProjectError
    from qualcode.refiqda.guids import code_guid_map

    try:
        store = state.open_project()
    except ProjectError:
        return {}
    with store:
        return code_guid_map(store)


@import_app.command("qdc")
def import_qdc_cmd(
    file: Path = typer.Argument(..., help="A REFI-QDA codebook (.qdc), or a project (.qdpx)."),
    output: Path = typer.Option(..., "--output", "-o", help="The codebook YAML to write."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file if it exists."),
) -> None:
    """Turn a REFI-QDA codebook into a qualcode codebook YAML (matching rules left to fill in).

    Run inside the project the codebook came from: codes it knows (by GUID) keep their ids, so
    'codebook load' puts them back on the same codes, renamed or not.
    """
    from qualcode.refiqda import import_qdc

    codebook = import_qdc(file, output, overwrite=force, known=_project_code_guids())
    _report_skipped(codebook.skipped)
    info(
        f"Wrote {output}: {codebook.count} codes with names, definitions and colours. "
        "Add keywords and other matching rules before auto-coding."
    )


@import_app.command("qdpx")
def import_qdpx_cmd(
    file: Path = typer.Argument(..., help="A REFI-QDA project (.qdpx)."),
    directory: Path = typer.Argument(..., help="The new project folder to create."),
    interviewer: list[str] = typer.Option(
        [],
        "--interviewer",
        metavar="LABEL",
        help="Another speaker label that is the interviewer, e.g. Moderator (repeatable; "
        "kept as the new project's setting).",
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create a new project from a REFI-QDA project: sources, codes, coder layers and memos.

    Sources are split into speaker turns as 'ingest' splits transcripts.
    """
    from qualcode.refiqda import import_qdpx
    from qualcode.store import command_line

    report = import_qdpx(file, directory, interviewer_labels=interviewer, command=command_line())
    _report_skipped(report.skipped)
    for message in report.warnings:
        warn(message)
    passages = f", {report.passages} passage codings" if report.passages else ""
    info(
        f"Created project {directory}: {report.transcripts} transcripts ({report.turns} turns"
        f"{passages}), {report.respondents} respondents, {report.codes} codes, "
        f"{report.memos} memos"
        + (f"; positions read as {report.offsets}." if report.transcripts else ".")
    )
    if report.codebook_file is not None:
        info(f"The codebook is in {report.codebook_file}; add matching rules to auto-code with it.")
    if not report.codings:
        info("No codings in the file.")
        return
    emit_rows(
        ["coder", "codings"],
        [[name, count] for name, count in report.codings.items()],
        fmt,
        title="Coder layers",
        right_align=("codings",),
    )
