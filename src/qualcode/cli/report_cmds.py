"""Commands for reports and pseudonyms."""

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from qualcode.cli import state
from qualcode.cli.app import pseudonyms_app, report_app
from qualcode.cli.output import OutputFormat, emit_rows, info, warn_without_pseudonyms
from qualcode.errors import InputError


class ReportFormat(StrEnum):
    """How a report table is printed or written."""

    table = "table"
    csv = "csv"
    xlsx = "xlsx"
    md = "md"
    json = "json"
    docx = "docx"


class Lang(StrEnum):
    """Report language."""

    nb = "nb"
    en = "en"


class QuoteStyle(StrEnum):
    """How quotes are laid out in the Word report."""

    table = "table"
    block = "block"


CODER = typer.Option(
    None, "--coder", "-c", help="Coder layer (default: project default, else auto)."
)
CODES = typer.Option(
    None, "--codes", metavar="CODE", help="Only this code and its subcodes (repeatable)."
)
RESPONDENTS = typer.Option(
    None, "--respondents", "-r", metavar="R", help="Only this respondent (repeatable)."
)
EXCLUDE_NEGATED = typer.Option(
    False, "--exclude-negated", help="Leave out codings whose every match is negated."
)
FORMAT = typer.Option(
    ReportFormat.table, "--format", "-f", help="table, csv, xlsx, md, json or docx."
)
INCLUDE_IN_PROGRESS = typer.Option(
    False,
    "--include-in-progress",
    help="Also count transcripts the coder has started but not marked done.",
)
OUTPUT = typer.Option(None, "--output", "-o", help="Write to this file (format from its suffix).")
LANG = typer.Option(
    None,
    "--lang",
    help="Labels in nb or en: docx, xlsx and md always (default: the project's language, see "
    "config language); csv and json only if given.",
)


def _filters(
    coder: str | None,
    codes: list[str] | None,
    respondents: list[str] | None,
    exclude_negated: bool,
    include_in_progress: bool = False,
) -> dict[str, Any]:
    return {
        "coder": coder,
        "codes": codes or None,
        "respondents": respondents or None,
        "exclude_negated": exclude_negated,
        "include_in_progress": include_in_progress,
    }


def _emit(
    frame: Any,
    fmt: ReportFormat,
    output: Path | None,
    *,
    title: str,
    lang: Lang | None,
    file_language: str,
    caption: tuple[str, dict[str, Any]],
    sheet: str,
    index_label: str = "code",
    bold_last_row: bool = False,
    wrap: tuple[str, ...] = (),
    show: list[str] | None = None,
    for_reading: Callable[[str], Any] | None = None,
    for_sheet: Callable[[str], Any] | None = None,
) -> None:
    """Print ``frame`` or write it to ``output``.

    Files for people (docx, xlsx, md) get the full report's labels in ``--lang`` (default: the
    project's language, ``file_language``): its
    caption (``caption``: a key of the report's words and its fields), column names and notes,
    and the sheet name ``sheet`` (a key too); ``for_reading`` / ``for_sheet`` give the table
    Word and Markdown, or Excel, show instead of ``frame``. The terminal table keeps ``title``;
    CSV and JSON keep the stable machine column names unless ``--lang`` is given.
    """
    from qualcode.export.report_text import frame_notes, localize_labels, words
    from qualcode.export.tables import (
        excel_value,
        format_number,
        frame_decimals,
        frame_to_markdown,
        numeric_columns,
        table_format,
        write_table,
    )

    # Files for people are in the project's language unless --lang says otherwise; the terminal
    # and machine formats stay English.
    language = lang.value if lang else "en"
    chosen = None if fmt == ReportFormat.table else fmt.value
    kind = table_format(output, chosen) if output is not None else fmt.value
    if kind in ("docx", "xlsx", "md"):
        language = lang.value if lang else file_language
        w = words(language)
        build = for_sheet if kind == "xlsx" and for_sheet else for_reading
        data = (
            build(language)
            if build is not None
            else localize_labels(frame, language, index_label=index_label)
        )
        key, fields = caption
        heading = w[key].format(**fields)
        notes = frame_notes(frame, language)
        wrap_localized = tuple(w.get(c, c) for c in wrap)
        if output is None:
            if kind != "md":
                raise InputError(f"--format {kind} writes a file: give -o FILE")
            md = frame_to_markdown(data, title=heading, lang=language)
            if notes:
                md += "\n" + "\n\n".join(notes) + "\n"
            typer.echo(md, nl=False)
            return
        written = write_table(
            data,
            output,
            chosen,
            title=heading,
            index=False,
            lang=language,
            bold_last_row=bold_last_row,
            wrap_columns=wrap_localized,
            sheet_name=w[sheet],
            notes=notes,
        )
        info(f"Wrote {written}")
        return
    if lang is not None:
        data = localize_labels(frame, language, index_label=index_label)
    else:
        data = frame.reset_index() if frame.index.name else frame
    if output is not None:
        info(f"Wrote {write_table(data, output, chosen, title=title, index=False, lang=language)}")
        return
    if show is not None and fmt == ReportFormat.table:
        data = data[show]
    columns = [str(c) for c in data.columns]
    numeric = [c for c, is_num in zip(columns, numeric_columns(data), strict=True) if is_num]
    rows = [[excel_value(v) for v in record] for record in data.itertuples(index=False)]
    if fmt == ReportFormat.table:
        decimals = frame_decimals(data)
        rows = [
            [
                format_number(v, language, d) if isinstance(v, float) else v
                for v, d in zip(row, decimals, strict=True)
            ]
            for row in rows
        ]
    emit_rows(
        columns,
        rows,
        OutputFormat(fmt.value),
        title=title,
        right_align=numeric,
        wrap_columns=wrap if fmt == ReportFormat.table else (),
    )


def _title(what: str, frame: Any) -> str:
    """A terminal table's title with its coder layer, and how many respondents it has coded."""
    coverage = frame.attrs.get("coverage")
    coded = f", {coverage[0]} of {coverage[1]} respondents coded" if coverage else ""
    return f"{what} (coder {frame.attrs['coder']}{coded})"


def _notes(frame: Any) -> None:
    for note in frame.attrs.get("notes", []):
        info(f"note: {note}")
    if frame.attrs.get("in_progress"):
        info(
            f"note: left out as still in progress for {frame.attrs['coder']} (not marked done "
            f"with 'qualcode done'): {', '.join(frame.attrs['in_progress'])} "
            "(--include-in-progress counts them)"
        )
    if frame.attrs.get("coverage"):
        coded, total = frame.attrs["coverage"]
        info(
            f"note: {frame.attrs['coder']} has coded {coded} of {total} respondents; not coded,"
            f" so left out (not counted as 'not mentioned'): {', '.join(frame.attrs['uncoded'])}"
        )
    left_out = frame.attrs.get("left_out", 0)
    if left_out:
        info(f"note: {left_out} coding(s) on interviewer turns are not counted")


@report_app.command("freq")
def freq_cmd(
    coder: str | None = CODER,
    codes: list[str] | None = CODES,
    respondents: list[str] | None = RESPONDENTS,
    exclude_negated: bool = EXCLUDE_NEGATED,
    include_in_progress: bool = INCLUDE_IN_PROGRESS,
    by: str | None = typer.Option(None, "--by", help="Group respondents by this attribute."),
    percent: bool = typer.Option(False, "--percent", help="Shares (%) of each respondent's turns."),
    lang: Lang | None = LANG,
    fmt: ReportFormat = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Coded segments per code and respondent (subcodes rolled up), with totals."""
    from qualcode.pseudonyms import project_pseudonyms
    from qualcode.reports import freq, project_language

    with state.open_project() as store:
        language = project_language(store)
        frame = freq(
            store, **_filters(coder, codes, respondents, exclude_negated, include_in_progress), by=by, percent=percent
        )
        frame = project_pseudonyms(store).apply_frame(frame)
    what = "share of turns (%)" if percent else "coded segments"
    title = f"Frequency: {what} per code" + (f" by {by}" if by else " and respondent")
    key = "freq_percent_caption" if percent else "freq_caption"
    if by:
        key = "freq_by_percent_caption" if percent else "freq_by_caption"
    _emit(
        frame,
        fmt,
        output,
        title=_title(title, frame),
        lang=lang,
        file_language=language,
        caption=(key, {"coder": frame.attrs["coder"], "attribute": by}),
        sheet="percent_sheet" if percent else "freq_sheet",
        bold_last_row=True,
    )
    _notes(frame)


@report_app.command("cooc")
def cooc_cmd(
    coder: str | None = CODER,
    codes: list[str] | None = CODES,
    respondents: list[str] | None = RESPONDENTS,
    exclude_negated: bool = EXCLUDE_NEGATED,
    include_in_progress: bool = INCLUDE_IN_PROGRESS,
    within: str = typer.Option("segment", "--within", help="segment or respondent."),
    level: int = typer.Option(1, "--level", help="Code level of the axes (1 = top-level codes)."),
    lang: Lang | None = LANG,
    fmt: ReportFormat = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Code co-occurrence: segments (or respondents) that have both codes."""
    from qualcode.pseudonyms import project_pseudonyms
    from qualcode.reports import cooc, project_language

    with state.open_project() as store:
        language = project_language(store)
        frame = cooc(
            store,
            **_filters(coder, codes, respondents, exclude_negated, include_in_progress),
            within=within,
            level=level,
        )
        frame = project_pseudonyms(store).apply_frame(frame)
    by_segment = within == "segment"
    unit = "segments" if by_segment else "respondents"
    _emit(
        frame,
        fmt,
        output,
        title=_title(f"Co-occurrence: {unit} with both codes", frame),
        lang=lang,
        file_language=language,
        caption=(
            "cooc_file_caption" if by_segment else "cooc_resp_file_caption",
            {"coder": frame.attrs["coder"]},
        ),
        sheet="cooc_sheet" if by_segment else "cooc_resp_sheet",
    )
    _notes(frame)


@report_app.command("quotes")
def quotes_cmd(
    coder: str | None = CODER,
    codes: list[str] | None = CODES,
    respondents: list[str] | None = RESPONDENTS,
    exclude_negated: bool = EXCLUDE_NEGATED,
    include_in_progress: bool = INCLUDE_IN_PROGRESS,
    full: bool = typer.Option(False, "--full", help="The whole turn, not only the evidence."),
    max_per_respondent: int | None = typer.Option(
        None, "--max-per-respondent", help="At most N quotes per respondent and code."
    ),
    lang: Lang | None = LANG,
    fmt: ReportFormat = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Coded turns as quotes (“…” – R7), trimmed to the sentences with the evidence."""
    from qualcode.export.report_text import quote_reading_frame, quote_sheet_frame
    from qualcode.pseudonyms import project_pseudonyms
    from qualcode.reports import project_language, quotes

    with state.open_project() as store:
        language = project_language(store)
        frame = quotes(
            store,
            **_filters(coder, codes, respondents, exclude_negated, include_in_progress),
            full=full,
            max_per_respondent=max_per_respondent,
            pseudonyms=project_pseudonyms(store),
        )
    _emit(
        frame,
        fmt,
        output,
        title=_title("Quotes", frame),
        lang=lang,
        file_language=language,
        caption=("quotes_caption", {"coder": frame.attrs["coder"]}),
        sheet="quotes_sheet",
        wrap=("quote",),
        show=["code", "segment", "quote"],
        for_reading=lambda language: quote_reading_frame(frame, language),
        for_sheet=lambda language: quote_sheet_frame(frame, language),
    )
    _notes(frame)


@report_app.command("summary")
def summary_cmd(
    coder: str | None = CODER,
    codes: list[str] | None = CODES,
    respondents: list[str] | None = RESPONDENTS,
    exclude_negated: bool = EXCLUDE_NEGATED,
    include_in_progress: bool = INCLUDE_IN_PROGRESS,
    lang: Lang | None = LANG,
    fmt: ReportFormat = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Per respondent: attributes, turns, words, coded turns and their codes."""
    from qualcode.pseudonyms import project_pseudonyms
    from qualcode.reports import project_language, summary

    with state.open_project() as store:
        language = project_language(store)
        frame = summary(
            store, **_filters(coder, codes, respondents, exclude_negated, include_in_progress)
        )
        frame = project_pseudonyms(store).apply_frame(frame)
    _emit(
        frame,
        fmt,
        output,
        title=_title("Respondents", frame),
        lang=lang,
        file_language=language,
        caption=("summary_caption", {"coder": frame.attrs["coder"]}),
        sheet="respondents_sheet",
        index_label="respondent",
        wrap=("codes",),
    )
    _notes(frame)


@report_app.command("all")
def all_cmd(
    out: Path = typer.Option(..., "--out", help="Folder for rapport.docx and rapport.xlsx."),
    coder: str | None = CODER,
    codes: list[str] | None = CODES,
    respondents: list[str] | None = RESPONDENTS,
    exclude_negated: bool = EXCLUDE_NEGATED,
    include_in_progress: bool = INCLUDE_IN_PROGRESS,
    quote_style: QuoteStyle = typer.Option(
        QuoteStyle.table, "--quote-style", help="Quotes as a table or as block quotes."
    ),
    lang: Lang | None = typer.Option(
        None, "--lang", help="Headings in nb or en (default: the project's language, nb if unset)."
    ),
    full: bool = typer.Option(False, "--full", help="Quote whole turns."),
    max_per_respondent: int = typer.Option(
        3, "--max-per-respondent", help="At most N quotes per respondent and code."
    ),
    max_per_code: int = typer.Option(
        40, "--max-per-code", help="At most N quotes per code in the Word report (0: all)."
    ),
) -> None:
    """Write the full report: rapport.docx (Word) and rapport.xlsx (one sheet per table)."""
    from qualcode.export.report_files import write_full_report
    from qualcode.reports import project_language

    if max_per_respondent < 1:
        raise InputError("--max-per-respondent must be 1 or more")
    from qualcode.consistency import consistency_section

    with state.open_project() as store:
        language = lang.value if lang else project_language(store)
        # As analyze's report: agreement between the human layers when there are two or more.
        section = consistency_section(store, lang=language)
        docx_path, xlsx_path = write_full_report(
            store,
            out,
            extra_sections=[section] if section is not None else [],
            lang=language,
            quote_style=quote_style.value,
            full=full,
            max_per_respondent=max_per_respondent,
            max_quotes_per_code=max_per_code or None,
            **_filters(coder, codes, respondents, exclude_negated, include_in_progress),
        )
        warn_without_pseudonyms(store.folder)
    info(f"Wrote {docx_path}")
    info(f"Wrote {xlsx_path}")


@pseudonyms_app.command("check")
def pseudonyms_check(
    files: list[Path] = typer.Argument(..., help="Exported files (docx, xlsx, csv, md, txt)."),
    names: Path | None = typer.Option(
        None, "--list", help="Pseudonym list to use (default: the project's pseudonyms.csv)."
    ),
    fmt: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", help="table, csv or json."
    ),
) -> None:
    """List original names left in exported files; exit code 1 if any are found."""
    from qualcode.pseudonyms import PSEUDONYMS_FILE, check, load

    if names is None:
        with state.open_project() as store:
            names = Path(store.folder) / PSEUDONYMS_FILE
        if not names.is_file():
            raise InputError(
                f"the project has no {PSEUDONYMS_FILE} (original,replacement)", path=names
            )
    table = load(names)
    findings = check(files, table)
    if findings:
        emit_rows(
            ["file", "where", "original", "context"],
            [[f.file, f.location, f.original, f.context] for f in findings],
            fmt,
            title="Original names left in exported files",
            wrap_columns=("where", "context"),
        )
        info(f"{len(findings)} original name(s) found in {len({f.file for f in findings})} file(s)")
        raise typer.Exit(code=1)
    if fmt != OutputFormat.table:
        # A script reading the output gets a header (or []) rather than nothing at all.
        emit_rows(["file", "where", "original", "context"], [], fmt)
    info(f"No original names found in {len(files)} file(s) ({len(table)} names checked).")
