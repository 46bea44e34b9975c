"""Commands for the project and its data: init, ingest, respondents, segments, show, config, analyze."""

from pathlib import Path

import typer

from qualcode.cli import state
from qualcode.cli.app import app, config_app, respondents_app
from qualcode.cli.output import OutputFormat, emit_rows, info, progress_steps, warn
from qualcode.errors import InputError

FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", "-f", help="table, csv or json.")


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Project folder (created if missing)."),
) -> None:
    """Create a project folder holding the store (qualcode.db)."""
    from qualcode.store import DB_NAME, create_store

    existed = (directory / DB_NAME).is_file()
    with create_store(directory):
        pass
    info(f"{'Project already exists' if existed else 'Created project'} in {directory} ({DB_NAME})")


def _print_ingest_report(report) -> None:  # type: ignore[no-untyped-def]
    for message in report.warnings:
        warn(message)
    for moved in report.corrected:
        warn(
            f"{moved.transcript} turn {moved.old_position}: {moved.coder}'s coding {moved.code} was "
            f"carried over to the corrected turn {moved.new_position}; check it"
        )
    for lost in report.lost:
        warn(
            f"{lost.transcript} turn {lost.segment_position}: {lost.coder}'s coding {lost.code} could "
            f"not be carried over (the turn's text is gone); it is kept in the audit log"
        )
    parts = [f"{len(report.added)} added", f"{len(report.unchanged)} unchanged"]
    if report.replaced:
        corrected = (
            f"{len(report.corrected)} carried over to a corrected turn, "
            if report.corrected
            else ""
        )
        parts.append(
            f"{len(report.replaced)} replaced ({report.carried} codings carried over, "
            f"{corrected}{len(report.lost)} not carried)"
        )
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped")
    info(f"Transcripts: {', '.join(parts)}; {report.turns} turns stored.")
    if report.pseudonyms is not None:
        info(f"Pseudonyms: {report.pseudonyms} (applied to every report and export)")


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Transcript files and folders."),
    respondent: str | None = typer.Option(
        None, "--respondent", "-r", help="The respondent of a single file (e.g. R7)."
    ),
    attributes: Path | None = typer.Option(
        None, "--attributes", help="Respondent table (default: respondents.csv beside the files)."
    ),
    interviewer: list[str] = typer.Option(
        [],
        "--interviewer",
        metavar="LABEL",
        help="Another speaker label that is the interviewer (repeatable).",
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Re-segment changed files, carrying codings over."
    ),
) -> None:
    """Read transcripts (txt, md, docx, vtt, srt) into speaker turns, all files or none."""
    from qualcode.ingest import collect_files, ingest_paths
    from qualcode.store import command_line

    store = state.open_project()
    with store:
        files, _ = collect_files(paths)
        with progress_steps() as update:
            read = iter(range(1, len(files) + 1))
            update("Reading transcripts", 0, len(files))
            report = ingest_paths(
                store,
                paths,
                respondent=respondent,
                attributes_file=attributes,
                interviewer_labels=interviewer,
                replace=replace,
                on_file=lambda _: update("Reading transcripts", next(read), len(files)),
                on_step=update,
                command=command_line(),
            )
    _print_ingest_report(report)


@respondents_app.callback(invoke_without_command=True)
def respondents_list(
    ctx: typer.Context,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List respondents with their attributes, transcripts, turns and words."""
    if ctx.invoked_subcommand is not None:
        return
    from qualcode.corpus import natural_key, respondents
    from qualcode.ingest.respondents import attribute_names

    with state.open_project() as store:
        people = sorted(respondents(store), key=lambda p: natural_key(p.label))
        names = attribute_names(store)
    columns = ["respondent", *names, "transcripts", "turns", "words"]
    rows = [
        [p.label, *[p.attributes.get(n, "") for n in names], p.transcripts, p.turns, p.words]
        for p in people
    ]
    emit_rows(
        columns, rows, fmt, title="Respondents", right_align=("transcripts", "turns", "words")
    )


@respondents_app.command("set")
def respondents_set(
    respondent: str = typer.Argument(..., help="Respondent label, e.g. R7."),
    assignments: list[str] = typer.Argument(..., help="NAME=VALUE pairs; an empty VALUE removes."),
) -> None:
    """Change attributes of one respondent, e.g. 'respondents set R7 sector=leverandør'."""
    from qualcode.corpus import set_attributes
    from qualcode.ingest.respondents import check_attribute_name
    from qualcode.store import command_line

    pairs = []
    for item in assignments:
        if "=" not in item:
            raise InputError(f"'{item}' is not NAME=VALUE")
        name, value = item.split("=", 1)
        try:
            check_attribute_name(name)
        except InputError as exc:
            raise InputError(f"{item}: {exc.message}") from None
        pairs.append((name, value.strip()))
    with state.open_project() as store:
        olds = set_attributes(store, respondent, pairs, command_line())
    for (name, value), old in zip(pairs, olds, strict=True):
        info(f"{respondent}: {name.strip().casefold()} {old or '(none)'} → {value or '(removed)'}")


@app.command("segments")
def segments_cmd(
    respondent: str | None = typer.Option(None, "--respondent", "-r", help="Only this respondent."),
    role: str | None = typer.Option(None, "--role", help="respondent, interviewer or other."),
    transcript: str | None = typer.Option(None, "--transcript", "-t", help="Only this transcript."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List turns with their segment ids."""
    from qualcode.corpus import SEGMENT_COLUMNS, segments

    with state.open_project() as store:
        rows = segments(store, respondent=respondent, role=role, transcript=transcript)
    if fmt != OutputFormat.table:
        emit_rows(SEGMENT_COLUMNS, [r.as_tuple() for r in rows], fmt)
        return
    emit_rows(
        ["id", "transcript", "resp.", "#", "speaker", "role", "text"],
        [
            [r.segment_id, r.transcript, r.respondent, r.position, r.speaker, r.role, r.text]
            for r in rows
        ],
        fmt,
        right_align=("id", "#"),
        wrap_columns=("text",),
    )


@app.command()
def show(
    respondent: str = typer.Argument(..., help="Respondent label, e.g. R7."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Print one respondent's interview(s) turn by turn, with segment ids."""
    from rich.text import Text

    from qualcode.corpus import SEGMENT_COLUMNS, segments
    from qualcode.passages import human_codings

    with state.open_project() as store:
        rows = segments(store, respondent=respondent)
        if not rows:
            # The respondent's transcript may hold turns attributed to others (joint interviews).
            raise InputError(f"respondent '{respondent}' has no turns")
        coded = human_codings(store, [r.segment_id for r in rows])
    if fmt != OutputFormat.table:
        emit_rows(SEGMENT_COLUMNS, [r.as_tuple() for r in rows], fmt)
        return
    console = state.console()
    current = None
    for row in rows:
        if row.transcript != current:
            current = row.transcript
            console.rule(f"[bold]{row.transcript}[/] — {respondent}")
        style = "dim" if row.role == "interviewer" else ""
        line = Text()
        line.append(f"[{row.segment_id}] ", style="cyan")
        line.append(f"{row.speaker}: ", style="bold " + style)
        body = Text(row.text, style=style)
        for passage in coded.get(row.segment_id, []):
            if not passage.whole_turn:
                body.stylize("underline", passage.start, passage.end)
        line.append_text(body)
        console.print(line)
        for passage in coded.get(row.segment_id, []):
            where = (
                "whole turn"
                if passage.whole_turn
                else f"«{row.text[passage.start : passage.end]}» ({passage.start}:{passage.end})"
            )
            console.print(Text(f"    {passage.coder}: {passage.code} — {where}", style="green"))


@config_app.command("show")
def config_show(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Show the project's settings."""
    from qualcode.ingest import project_interviewer_labels
    from qualcode.reports import AUTHOR_SETTING, TITLE_SETTING, project_language

    with state.open_project() as store:
        rows = [
            ["interviewer_labels", ", ".join(project_interviewer_labels(store))],
            ["default_coder", store.get_setting("default_coder", "") or ""],
            ["title", store.get_setting(TITLE_SETTING, "") or ""],
            ["author", store.get_setting(AUTHOR_SETTING, "") or ""],
            ["language", project_language(store)],
        ]
    emit_rows(["setting", "value"], rows, fmt)


def _set_text_setting(key: str, value: str, what: str) -> None:
    from qualcode.store import command_line

    text = " ".join(value.split())
    if len(text) > 200:
        raise InputError(f"the {what} is {len(text)} characters long; keep it under 200")
    with state.open_project() as store, store.write(command_line()) as tx:
        store.set_setting(tx, key, text or None)
    info(f"Report {what}: {text}" if text else f"Report {what} cleared (the default is used)")


@config_app.command("title")
def config_title(
    title: str = typer.Argument(
        ..., help='The report\'s title, e.g. "Tillit i klyngen"; "" clears it.'
    ),
) -> None:
    """Set the title of rapport.docx/.xlsx (default: Kodingsrapport / Coding report)."""
    from qualcode.reports import TITLE_SETTING

    _set_text_setting(TITLE_SETTING, title, "title")


@config_app.command("author")
def config_author(
    author: str = typer.Argument(
        ..., help='Who wrote the report, e.g. "Kari Nordmann"; "" clears it.'
    ),
) -> None:
    """Set the author shown on the report's first page and in the files' properties."""
    from qualcode.reports import AUTHOR_SETTING

    _set_text_setting(AUTHOR_SETTING, author, "author")


@config_app.command("language")
def config_language(
    language: str = typer.Argument(..., help="nb (bokmål) or en."),
) -> None:
    """Set the language of report files (rapport.docx, -o files): nb (default) or en."""
    from qualcode.reports import LANGUAGE_SETTING
    from qualcode.store import command_line

    if language not in ("nb", "en"):
        raise InputError(f"unknown language '{language}'; use nb or en")
    with state.open_project() as store, store.write(command_line()) as tx:
        store.set_setting(tx, LANGUAGE_SETTING, language)
    info(f"Report language: {language}")


@config_app.command("interviewer")
def config_interviewer(
    labels: list[str] = typer.Argument(
        ..., help="Speaker labels that are the interviewer, besides I, Int, Intervjuer, …"
    ),
) -> None:
    """Set the project's own interviewer labels; the defaults always count too.

    The defaults are I, Int, Intervjuer, Interviewer and Q; labels set before are replaced.
    """
    from qualcode.ingest import with_default_interviewer_labels
    from qualcode.store import command_line

    cleaned = [label.strip() for label in labels if label.strip()]
    if not cleaned:
        raise InputError("give at least one interviewer label")
    # Labels set earlier are replaced, but the defaults stay: a transcript that uses `Q:` or
    # `Interviewer:` even once would otherwise have the interviewer's words coded.
    full = with_default_interviewer_labels(cleaned)
    with state.open_project() as store, store.write(command_line()) as tx:
        store.set_setting(tx, "interviewer_labels", full)
    info(f"Interviewer labels: {', '.join(full)} (applies to transcripts ingested from now on)")


@app.command()
def analyze(
    folder: Path = typer.Argument(..., help="Folder of transcripts (and respondents.csv)."),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Project folder to create or reuse."),
    codebook: Path | None = typer.Option(
        None,
        "--codebook",
        help="Codebook YAML (default: the project's current codebook, else codebooks/klynge.yaml).",
    ),
    interviewer: list[str] = typer.Option(
        [], "--interviewer", metavar="LABEL", help="Another interviewer label."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Re-segment transcripts changed since the last run (see ingest)."
    ),
    lang: str | None = typer.Option(
        None,
        "--lang",
        help="Report language: nb or en; saved as the project's language (default: as set, else nb).",
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """The main job: ingest a folder, auto-code it, and write rapport.docx and rapport.xlsx."""
    from qualcode.ingest import collect_files
    from qualcode.pipeline import analyze as run_analyze

    if lang is not None and lang not in ("nb", "en"):
        raise InputError(f"unknown language '{lang}'; use nb or en")
    files, _ = collect_files([folder]) if folder.is_dir() else ([], [])
    with progress_steps() as update:
        read = iter(range(1, len(files) + 1))
        result = run_analyze(
            folder,
            out,
            codebook_path=codebook,
            interviewer_labels=tuple(interviewer),
            replace=replace,
            lang=lang,
            on_file=lambda _: update("Reading transcripts", next(read), len(files)),
            on_step=update,
            on_progress=lambda done, total: update("Auto-coding turns", done, total),
            command=f"analyze {folder}",
        )
    _print_ingest_report(result.ingest)
    if result.codebook is not None:
        info(f"Codebook: {result.codebook}")
    if result.autocode is not None:
        summary = result.autocode
        info(
            f"Auto-coded {summary.coded_segments} of {summary.segments} turns: "
            f"{summary.codings} codings in the layer 'auto' ({summary.seconds:.1f} s)"
        )
    for coder, added in result.layers.items():
        info(f"Loaded coder layer '{coder}' ({added} codings) from {folder / 'koding'}")
    rows = [[p.label, p.transcripts, p.turns, p.words] for p in result.respondents]
    total = ["total", sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows)]
    emit_rows(
        ["respondent", "transcripts", "turns", "words"],
        [*rows, total],
        fmt,
        title=f"Project {out}",
        right_align=("transcripts", "turns", "words"),
    )
    if result.report_files:
        from qualcode.cli.output import warn_without_pseudonyms

        warn_without_pseudonyms(out)
    for path in result.report_files:
        info(f"Wrote {path}")
