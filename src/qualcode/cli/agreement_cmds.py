"""Commands for consistency: agreement, disagreements, evaluate, consistency."""

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from qualcode.cli import state
from qualcode.cli.app import app
from qualcode.cli.output import OutputFormat, emit_rows, info, warn
from qualcode.errors import InputError

FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", "-f", help="table, csv or json.")
CODES_OPTION = typer.Option(
    None,
    "--codes",
    "-c",
    metavar="CODE",
    help="Only these codes (repeatable or comma-separated); each includes its subcodes.",
)


class UnitKind(StrEnum):
    """What one unit of agreement is."""

    segment = "segment"
    respondent = "respondent"


class Level(StrEnum):
    """Which codes are compared."""

    top = "top"
    all = "all"


class Resample(StrEnum):
    """What the agreement bootstrap resamples."""

    auto = "auto"
    transcripts = "transcripts"
    units = "units"


class Lang(StrEnum):
    """Language of the labels in written files (as ``report --lang``)."""

    nb = "nb"
    en = "en"


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _count(n: int, unit: str) -> str:
    """``1 segment``, ``26 segments``, ``1 respondent``: a number with its noun."""
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _warn_not_seen(items: Any, unit: str) -> None:
    for item in items:
        verb = "is" if item.n_units == 1 else "are"
        warn(
            f"{item.transcript}: coded by {', '.join(item.seen_by) or 'nobody'} only; "
            f"its {_count(item.n_units, unit)} {verb} missing data for "
            f"{', '.join(item.not_seen_by)} (left out, not counted as agreement)"
        )


INCLUDE_IN_PROGRESS = typer.Option(
    False,
    "--include-in-progress",
    help="Also count transcripts a coder has started but not marked done.",
)


def _note_in_progress(store: Any, coders: list[str], include: bool) -> None:
    """Name the transcripts left out because a coder has not finished them."""
    from qualcode.progress import in_progress_note

    note = None if include else in_progress_note(store, coders)
    if note:
        warn(note)


@app.command("agreement")
def agreement_cmd(
    coders: list[str] = typer.Argument(..., help="Two or more coder layers, e.g. kari jonas."),
    unit: UnitKind = typer.Option(
        UnitKind.segment,
        "--unit",
        "-u",
        help="segment: each turn; respondent: does the respondent talk about it at all.",
    ),
    codes: list[str] | None = CODES_OPTION,
    level: Level = typer.Option(
        Level.top, "--level", "-l", help="top: subcodes rolled into top codes; all: every code."
    ),
    bootstrap: int = typer.Option(
        0, "--bootstrap", "-b", help="Bootstrap resamples for 95% intervals of κ and α (e.g. 2000)."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed of the bootstrap (same seed, same interval)."),
    include_in_progress: bool = INCLUDE_IN_PROGRESS,
    resample: Resample = typer.Option(
        Resample.auto,
        "--resample",
        help="What the bootstrap resamples: auto (whole transcripts when there are 5 or more, "
        "else turns), transcripts or units.",
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Intercoder agreement per code and pooled: percent, Cohen's κ, Krippendorff's α,
    Brennan–Prediger κ, and the counts both / only A / only B / neither."""
    from qualcode.agreement import POOLED, agreement

    if bootstrap < 0:
        raise InputError("--bootstrap must be 0 (off) or a number of resamples")
    with state.open_project() as store:
        report = agreement(
            store,
            coders,
            unit=unit.value,
            level=level.value,
            codes=codes,
            bootstrap=bootstrap,
            seed=seed,
            include_in_progress=include_in_progress,
            resample=resample.value,
        )
        _note_in_progress(store, list(report.coders), include_in_progress)
    _warn_not_seen(report.not_seen_by_all, unit.value)
    records = report.records()
    if fmt != OutputFormat.table:
        columns = list(dict.fromkeys(k for r in records for k in r)) or ["code"]
        emit_rows(columns, [[r.get(c) for c in columns] for r in records], fmt)
        return
    two = len(report.coders) == 2
    a, b = report.coders[0], report.coders[1]
    columns = ["code", "units", "both", f"only {a}", f"only {b}", "neither", "%", "κ", "α", "BP κ"]
    if not two:
        columns = ["code", "units", "all", "none", "mixed", "%", "α", "BP κ"]
    if bootstrap:
        columns[columns.index("α") + 1 : columns.index("α") + 1] = ["α 95% CI"]
        if two:
            columns[columns.index("κ") + 1 : columns.index("κ") + 1] = ["κ 95% CI"]
    rows = []
    pooled_codes = len(report.pooled_codes)
    for r in records:
        row = {
            "code": r["code"],
            # The pooled row stacks one decision per unit and code (as the Word report counts).
            "units": r["n_units"] * (pooled_codes if r["code"] == POOLED else 1),
            "both": r["both"],
            f"only {a}": r["only_a"],
            f"only {b}": r["only_b"],
            "neither": r["neither"],
            "all": r["both"],
            "none": r["neither"],
            "mixed": r.get("mixed"),
            "%": _num(r["percent"], 1),
            "κ": _num(r["cohen_kappa"]),
            "α": _num(r["krippendorff_alpha"]),
            "BP κ": _num(r["brennan_prediger"]),
        }
        if bootstrap:
            row["κ 95% CI"] = _interval(r.get("cohen_kappa_ci_low"), r.get("cohen_kappa_ci_high"))
            row["α 95% CI"] = _interval(
                r.get("krippendorff_alpha_ci_low"), r.get("krippendorff_alpha_ci_high")
            )
        rows.append([row.get(c) for c in columns])
    title = (
        f"Agreement {' × '.join(report.coders)} ({_count(report.n_units, unit.value)} compared; "
        f"level: {level.value if not codes else 'chosen codes'})"
    )
    emit_rows(columns, rows, fmt, title=title, right_align=[c for c in columns if c != "code"])
    for r in records:
        if r["note"]:
            info(f"{r['code']}: {r['note']}")
    if report.pooled is not None:
        n = report.pooled.n_units
        info(
            f"Pooled over {pooled_codes} codes: {_count(n, unit.value)} × {pooled_codes} codes ="
            f" {n * pooled_codes} decisions, each counted once."
        )
    if report.unused_codes:
        info(
            f"Not used by any coder, so left out of the pooled row: {', '.join(report.unused_codes)}."
        )
    if bootstrap:
        info(f"95% intervals: {report.ci_method}.")
        if any(
            r["cohen_kappa"] is not None and r.get("cohen_kappa_ci_low") is None for r in records
        ):
            info(
                "–: no interval (fewer than 5 units with the code, or every resample gave the "
                "same value); see the code's note."
            )


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "–"
    return f"[{low:.3f}, {high:.3f}]"


@app.command("disagreements")
def disagreements_cmd(
    coder_a: str = typer.Argument(..., help="First coder layer."),
    coder_b: str = typer.Argument(..., help="Second coder layer."),
    code: str | None = typer.Option(None, "--code", help="Only this code and its subcodes."),
    level: Level = typer.Option(
        Level.top,
        "--level",
        "-l",
        help="top: compare top codes, as agreement does (default); all: a sibling subcode is a "
        "disagreement.",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to FILE.docx, FILE.xlsx or FILE.csv."
    ),
    lang: Lang | None = typer.Option(
        None,
        "--lang",
        help="Labels of the .docx/.xlsx file in nb or en (default: the project's language). "
        "CSV headers stay fixed English names (segment_id, codes_A, …) for scripts.",
    ),
    include_in_progress: bool = INCLUDE_IN_PROGRESS,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """The segments where two coders differ: text, each coder's codes and memos."""
    from qualcode.agreement import disagreements

    if output is not None and output.suffix.casefold() not in (".docx", ".xlsx", ".csv"):
        raise InputError("use a .docx, .xlsx or .csv file name", path=output)
    from qualcode.pseudonyms import project_pseudonyms, transcript_aliases

    if output is not None:
        from qualcode.outputs import check_output_file

        check_output_file(output)  # before the work: a bad name fails at once
    with state.open_project() as store:
        found = disagreements(
            store,
            coder_a,
            coder_b,
            code=code,
            level=level.value,
            include_in_progress=include_in_progress,
        )
        _note_in_progress(store, [coder_a, coder_b], include_in_progress)
        names = project_pseudonyms(store)
        aliases = transcript_aliases(store)
        from qualcode.reports import project_language

        file_language = lang.value if lang else project_language(store)
    if output is not None:
        from qualcode.export.disagreements import write_disagreements

        write_disagreements(
            output,
            found,
            coder_a,
            coder_b,
            pseudonyms=names,
            transcripts=aliases,
            lang=file_language,
        )
        info(f"Wrote {len(found)} disagreement(s) to {output}")
        return
    if fmt != OutputFormat.table:
        from qualcode.export.disagreements import columns, rows, shareable

        # csv/json are usually redirected into a file: made shareable like -o's files.
        masked = shareable(found, names, aliases)
        emit_rows(columns(coder_a, coder_b)[:-1], [r[:-1] for r in rows(masked)], fmt)
        return
    emit_rows(
        ["id", "transcript", "#", f"only {coder_a}", f"only {coder_b}", "text"],
        [
            [
                d.segment_id,
                d.transcript,
                d.position,
                "\n".join(d.only_a),
                "\n".join(d.only_b),
                d.text,
            ]
            for d in found
        ],
        fmt,
        title=f"{len(found)} segment(s) where {coder_a} and {coder_b} differ",
        right_align=("id", "#"),
        wrap_columns=("text",),
    )


class EvalTable(StrEnum):
    """Which table of the evaluation to print."""

    all = "all"
    codes = "codes"
    terms = "terms"
    suggestions = "suggestions"


@app.command("evaluate")
def evaluate_cmd(
    gold: str = typer.Option(..., "--gold", help="The gold-standard coder layer."),
    pred: str = typer.Option("auto", "--pred", help="The layer to score (default: auto)."),
    codes: list[str] | None = CODES_OPTION,
    level: Level = typer.Option(Level.top, "--level", "-l", help="top or all codes."),
    suggestions: int = typer.Option(
        10, "--suggestions", help="Term suggestions per code (0: none)."
    ),
    show: EvalTable = typer.Option(
        EvalTable.all, "--show", help="all, codes, terms or suggestions (csv needs one)."
    ),
    include_in_progress: bool = INCLUDE_IN_PROGRESS,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Score a layer against a gold layer: precision, recall, F1 per code; precision per codebook
    term; keyness-based term suggestions."""
    from qualcode.evaluate import evaluate

    if fmt == OutputFormat.csv and show == EvalTable.all:
        raise InputError("--format csv prints one table: add --show codes, terms or suggestions")
    with state.open_project() as store:
        result = evaluate(
            store,
            gold,
            pred,
            codes,
            level=level.value,
            suggestions=suggestions,
            include_in_progress=include_in_progress,
        )
        _note_in_progress(store, [gold, pred], include_in_progress)
    _warn_not_seen([n for n in result.not_seen_by_all if gold in n.not_seen_by], "segment")
    data = result.as_dict()
    if fmt == OutputFormat.json and show == EvalTable.all:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    wanted = [show.value] if show != EvalTable.all else ["codes", "terms", "suggestions"]
    titles = {
        "codes": f"{pred} against {gold} ({result.n_units} segments)",
        "terms": "Codebook terms: how often each made a coding, and how often the gold agreed",
        "suggestions": "Suggested terms (log-likelihood keyness in the gold segments of a code)",
    }
    for name in wanted:
        records = data[name]
        if not records and fmt == OutputFormat.table:
            info(f"{titles[name]}: none")
            continue
        columns = list(records[0]) if records else _EMPTY_COLUMNS[name]
        rows = [
            [_fmt(r[c]) if fmt == OutputFormat.table else r[c] for c in columns] for r in records
        ]
        emit_rows(
            columns,
            rows,
            fmt,
            title=titles[name],
            right_align=[c for c in columns if c not in ("code", "term", "rule", "note")],
        )


_EMPTY_COLUMNS = {
    "codes": ["code", "gold", "pred", "tp", "fp", "fn", "precision", "recall", "f1", "note"],
    "terms": ["code", "rule", "term", "fired", "correct", "false_positives", "precision"],
    "suggestions": ["code", "term", "in_code", "elsewhere", "segments", "log_likelihood"],
}


def _fmt(value: Any) -> Any:
    return f"{value:.3f}" if isinstance(value, float) else value


class ConsistencyTable(StrEnum):
    """Which list of the consistency checks to print."""

    all = "all"
    spread = "spread"
    missed = "missed"
    no_terms = "no-terms"


@app.command("consistency")
def consistency_cmd(
    # -c is the coder here, as in every command that takes a coder layer; --codes has no short form.
    coder: str | None = typer.Option(
        None,
        "--coder",
        "-c",
        help="The layer to check (default: the default coder, else every human).",
    ),
    codes: list[str] | None = typer.Option(
        None,
        "--codes",
        metavar="CODE",
        help="Only these codes (repeatable or comma-separated); each includes its subcodes.",
    ),
    level: Level = typer.Option(Level.top, "--level", "-l", help="top or all codes."),
    show: ConsistencyTable = typer.Option(
        ConsistencyTable.all, "--show", help="all, spread, missed or no-terms (csv needs one)."
    ),
    include_in_progress: bool = INCLUDE_IN_PROGRESS,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """For a supervisor: how each code spreads over respondents and coding order, segments with
    a code's strongest terms left uncoded, and codings holding none of the code's terms."""
    from qualcode.consistency import consistency

    if fmt == OutputFormat.csv and show == ConsistencyTable.all:
        raise InputError("--format csv prints one table: add --show spread, missed or no-terms")
    with state.open_project() as store:
        reports = consistency(
            store, coder, level=level.value, codes=codes, include_in_progress=include_in_progress
        )
        _note_in_progress(store, [r.coder for r in reports], include_in_progress)
    if fmt == OutputFormat.json and show == ConsistencyTable.all:
        sys.stdout.write(
            json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2) + "\n"
        )
        return
    spread_cols = ["coder", "code", "codings", "respondents", "by coding order", "flag"]
    review_cols = ["coder", "code", "segment_id", "transcript", "turn", "terms", "text"]
    spread, missed, no_terms = [], [], []
    for r in reports:
        for s in r.spreads:
            spread.append(
                [
                    r.coder,
                    s.code,
                    s.codings,
                    f"{s.respondents_with}/{s.respondents_seen}",
                    " ".join(map(str, s.by_order)),
                    s.flag,
                ]
            )
        for kind, target in (("missed", missed), ("no_terms", no_terms)):
            for m in getattr(r, kind):
                target.append(
                    [r.coder, m.code, m.segment_id, m.transcript, m.position, m.terms, m.text]
                )
    if fmt == OutputFormat.table:
        for r in reports:
            info(f"{r.coder}: coding order {' → '.join(r.order) or '(none)'}")
            for code, terms in r.strong_terms.items():
                if terms:
                    info(
                        f"  strongest terms for {code}: "
                        + ", ".join(f"{t} ({s:.0%})" for t, s in terms)
                    )
            for note in r.notes:
                info(f"  note: {note}")
    parts = {
        "spread": (spread_cols, spread, "Spread over respondents and coding order"),
        "missed": (review_cols, missed, "Segments with a code's strongest terms, not coded"),
        "no-terms": (
            [*review_cols[:5], "text"],
            [[*m[:5], m[6]] for m in no_terms],
            "Codings whose segment holds none of the code's terms",
        ),
    }
    wanted = list(parts) if show == ConsistencyTable.all else [show.value]
    for name in wanted:
        columns, rows, title = parts[name]
        if not rows and fmt == OutputFormat.table:
            info(f"{title}: none")
            continue
        emit_rows(
            columns,
            rows,
            fmt,
            title=title,
            right_align=("codings", "segment_id", "turn"),
            wrap_columns=("text",) if "text" in columns else (),
        )
