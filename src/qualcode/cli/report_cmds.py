"""Commands for reports and pseudonyms."""


from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from qualcode.cli import state
from qualcode.cli.app import pseudonyms_app, report_app
from qualcode.cli.output import OutputFormat, emit_rows, info
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
CODES = typer.Option(None, "--codes", help="Only this code and its subcodes (repeatable).")
RESPONDENTS = typer.Option(None, "--respondents", "-r", help="Only this respondent (repeatable).")
EXCLUDE_NEGATED = typer.Option(
    False, "--exclude-negated", help="Leave out codings whose every match is negated."
)
FORMAT = typer.Option(
    ReportFormat.table, "--format", "-f", help="table, csv, xlsx, md, json or docx."
)
OUTPUT = typer.Option(None, "--output", "-o", help="Write to this file (format from its suffix).")
LANG = typer.Option(None, "--lang", help="Labels in nb or en (files; default: as printed).")


def _filters(
    coder: str | None, codes: list[str] | None, respondents: list[str] | None, exclude_negated: bool
) -> dict[str, Any]:
    return {
        "coder": coder,
        "codes": codes or None,
        "respondents": respondents or None,
        "exclude_negated": exclude_negated,
    }


def _emit(
    frame: Any,
    fmt: ReportFormat,
    output: Path | None,
    *,
    title: str,
    lang: Lang | None,
    localize: bool = True,
    index_label: str = "code",
    bold_last_row: bool = False,
    wrap: tuple[str, ...] = (),
    show: list[str] | None = None,
) -> None:
    """Print ``frame`` or write it to ``output``; labels translated when ``--lang`` is given."""
    from qualcode.export.report_text import localize_labels
    from qualcode.export.tables import excel_value, frame_to_markdown, numeric_columns, write_table

    language = lang.value if lang else "en"
    if localize and lang is not None:
        data = localize_labels(frame, language, index_label=index_label)
    else:
        data = frame.reset_index() if frame.index.name else frame
    if output is not None:
        chosen = None if fmt == ReportFormat.table else fmt.value
        written = write_table(
            data,
            output,
            chosen,
            title=title,
            index=False,
            lang=language,
            bold_last_row=bold_last_row,
            wrap_columns=wrap,
        )
        info(f"Wrote {written}")
        return
    if fmt in (ReportFormat.xlsx, ReportFormat.docx):
        raise InputError(f"--format {fmt.value} writes a file: give -o FILE")
    if fmt == ReportFormat.md:
        typer.echo(frame_to_markdown(data, title=title, lang=language), nl=False)
        return
    if show is not None and fmt == ReportFormat.table:
        data = data[show]
    columns = [str(c) for c in data.columns]
    numeric = [c for c, is_num in zip(columns, numeric_columns(data), strict=True) if is_num]
    rows = [[excel_value(v) for v in record] for record in data.itertuples(index=False)]
    if fmt == ReportFormat.table:
        from qualcode.export.tables import format_number

        rows = [
            [format_number(v, language) if isinstance(v, float) else v for v in row] for row in rows
        ]
    emit_rows(
        columns,
        rows,
        OutputFormat(fmt.value),
        title=title,
        right_align=numeric,
        wrap_columns=wrap if fmt == ReportFormat.table else (),
    )


def _notes(frame: Any) -> None:
    for note in frame.attrs.get("notes", []):
        info(f"note: {note}")
    left_out = frame.attrs.get("left_out", 0)
    if left_out:
        info(f"note: {left_out} coding(s) on interviewer turns are not counted")


@report_app.command("freq")
def freq_cmd(
    coder: str | None = CODER,
    codes: list[str] | None = CODES,
    respondents: list[str] | None = RESPONDENTS,
    exclude_negated: bool = EXCLUDE_NEGATED,
    by: str | None = typer.Option(None, "--by", help="Group respondents by this attribute."),
    percent: bool = typer.Option(False, "--percent", help="Shares (%) of each respondent's turns."),
    lang: Lang | None = LANG,
    fmt: ReportFormat = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Coded segments per code and respondent (subcodes rolled up), with totals."""
    from qualcode.pseudonyms import project_pseudonyms
    from qualcode.reports import freq

    with state.open_project() as store:
        frame = freq(
            store, **_filters(coder, codes, respondents, exclude_negated), by=by, percent=percent
        )
        frame = project_pseudonyms(store).apply_frame(frame)
    what = "share of turns (%)" if percent else "coded segments"
    title = f"Frequency: {what} per code" + (f" by {by}" if by else " and respondent")
    _emit(
        frame,
        fmt,
        output,
        title=f"{title} (coder {frame.attrs['coder']})",
        lang=lang,
        bold_last_row=True,
    )
    _notes(frame)


@report_app.command("cooc")
def cooc_cmd(
    coder: str | None = CODER,
    codes: list[str] | None = CODES,
    respondents: list[str] | None = RESPONDENTS,
    exclude_negated: bool = EXCLUDE_NEGATED,
    within: str = typer.Option("segment", "--within", help="segment or respondent."),
    level: int = typer.Option(1, "--level", help="Code level of the axes (1 = top-level codes)."),
    lang: Lang | None = LANG,
    fmt: ReportFormat = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Code co-occurrence: segments (or respondents) that have both codes."""
    from qualcode.pseudonyms import project_pseudonyms
    from qualcode.reports import cooc

    with state.open_project() as store:
        frame = cooc(
            store,
            **_filters(coder, codes, respondents, exclude_negated),
            within=within,
            level=level,
        )
        frame = project_pseudonyms(store).apply_frame(frame)
    unit = "segments" if within == "segment" else "respondents"
    _emit(
        frame,
        fmt,
        output,
        title=f"Co-occurrence: {unit} with both codes (coder {frame.attrs['coder']})",
        lang=lang,
    )
    _notes(frame)


@report_app.command("quotes")
def quotes_cmd(
    coder: str | None = CODER,
    codes: list[str] | None = CODES,
    respondents: list[str] | None = RESPONDENTS,
    exclude_negated: bool = EXCLUDE_NEGATED,
    full: bool = typer.Option(False, "--full", help="The whole turn, not only the evidence."),
    max_per_respondent: int | None = typer.Option(
        None, "--max-per-respondent", help="At most N quotes per respondent and code."
    ),
    lang: Lang | None = LANG,
    fmt: ReportFormat = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Coded turns as quotes (“…” - R7), trimmed to the sentences with the evidence."""
    from qualcode.pseudonyms import project_pseudonyms
    from qualcode.reports import quotes

    with state.open_project() as store:
        frame = quotes(
            store,
            **_filters(coder, codes, respondents, exclude_negated),
            full=full,
            max_per_respondent=max_per_respondent,
            pseudonyms=project_pseudonyms(store),
        )
    _emit(
        frame,
        fmt,
        output,
        title=f"Quotes (coder {frame.attrs['coder']})",
        lang=lang,
        localize=False,
        wrap=("quote",),
        show=["code", "segment", "quote"],
    )
    _notes(frame)


@report_app.command("summary")
def summary_cmd(
    coder: str | None = CODER,
    codes: list[str] | None = CODES,
    respondents: list[str] | None = RESPONDENTS,
    exclude_negated: bool = EXCLUDE_NEGATED,
    lang: Lang | None = LANG,
    fmt: ReportFormat = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Per respondent: attributes, turns, words, coded turns and their codes."""
    from qualcode.pseudonyms import project_pseudonyms
    from qualcode.reports import summary

    with state.open_project() as store:
        frame = summary(store, **_filters(coder, codes, respondents, exclude_negated))
        frame = project_pseudonyms(store).apply_frame(frame)
    _emit(
        frame,
        fmt,
        output,
        title=f"Respondents (coder {frame.attrs['coder']})",
        lang=lang,
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
    quote_style: QuoteStyle = typer.Option(
        QuoteStyle.table, "--quote-style", help="Quotes as a table or as block quotes."
    ),
    lang: Lang = typer.Option(Lang.nb, "--lang", help="Headings in nb (default) or en."),
    full: bool = typer.Option(False, "--full", help="Quote whole turns."),
    max_per_respondent: int = typer.Option(
        3, "--max-per-respondent", help="At most N quotes per respondent and code."
    ),
    max_per_code: int = typer.Option(
        40, "--max-per-code", help="At most N quotes per code in the Word report (0: all)."
    ),
) -> None:
    """Write the full report: rapport.docx (Word) and rapport.xlsx (one sheet per table)."""
    from qualcode.reports import write_full_report

    if max_per_respondent < 1:
        raise InputError("--max-per-respondent must be 1 or more")
    with state.open_project() as store:
        docx_path, xlsx_path = write_full_report(
            store,
            out,
            lang=lang.value,
            quote_style=quote_style.value,
            full=full,
            max_per_respondent=max_per_respondent,
            max_quotes_per_code=max_per_code or None,
            **_filters(coder, codes, respondents, exclude_negated),
        )
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
    info(f"No original names found in {len(files)} file(s) ({len(table)} names checked).")
