"""Commands for the codebook and the auto-coder: codebook, code, search, explain."""

from pathlib import Path

import typer

from qualcode.cli import state
from qualcode.cli.app import app, codebook_app
from qualcode.cli.output import OutputFormat, emit_rows, info, progress_steps, warn
from qualcode.errors import InputError

FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", "-f", help="table, csv or json.")
DEFAULT_CODEBOOK = Path("codebooks") / "klynge.yaml"


def _try_project():  # type: ignore[no-untyped-def]
    """The project store if there is one here (or --project), else None."""
    from qualcode.errors import ProjectError

    try:
        return state.open_project()
    except ProjectError:
        if state.project_option() is not None:
            raise
        return None


def _find_default_codebook() -> Path | None:
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        candidate = folder / DEFAULT_CODEBOOK
        if candidate.is_file():
            return candidate
    return None


def _resolve_codebook(store, codebook: Path | None):  # type: ignore[no-untyped-def]
    """The codebook to use: --codebook, else the project's current one, else codebooks/klynge.yaml."""
    from qualcode.codebook import current_codebook, edited_since_loaded, load_codebook

    if codebook is not None:
        return load_codebook(codebook), str(codebook)
    if store is not None:
        current = current_codebook(store)
        if current is not None:
            if edited_since_loaded(current):
                warn(
                    f"{current.source_path} has changed since it was loaded; this uses the loaded "
                    f"version (load the edit: qualcode codebook load {current.source_path})"
                )
            return (
                current,
                f"the project's current codebook ({current.source_path or current.name})",
            )
    default = _find_default_codebook()
    if default is None:
        raise InputError(
            f"no codebook given, none in the project and no {DEFAULT_CODEBOOK} found; "
            "pass --codebook FILE"
        )
    return load_codebook(default), str(default)


@codebook_app.command("validate")
def codebook_validate(
    file: Path = typer.Argument(..., help="The codebook YAML file."),
) -> None:
    """Check a codebook: errors (with line numbers) and warnings; exit 2 on any error."""
    from qualcode.codebook import validate_codebook

    issues = validate_codebook(file)
    for issue in issues:
        colour = "red" if issue.severity == "error" else "yellow"
        state.err_console().print(
            f"[{colour}]{issue}[/]", highlight=False, soft_wrap=True, markup=True
        )
    errors = sum(1 for i in issues if i.severity == "error")
    if errors:
        raise typer.Exit(code=2)
    from qualcode.codebook import load_codebook

    book = load_codebook(file)
    info(f"{file}: OK — {len(book.paths())} codes, {len(issues)} warning(s)")


@codebook_app.command("show")
def codebook_show(
    file: Path | None = typer.Argument(None, help="A codebook file (default: the project's)."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Show the code tree with definitions and, inside a project, codings per coder layer."""
    store = _try_project()
    try:
        book, source = _resolve_codebook(store, file)
        counts: dict[str, dict[str, int]] = {}
        coders: list[str] = []
        if store is not None:
            for path, coder, n in store.conn.execute(
                "SELECT k.path, d.name, COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id"
                " JOIN coders d ON d.id = c.coder_id GROUP BY k.path, d.name ORDER BY d.name"
            ):
                counts.setdefault(path, {})[coder] = n
                if coder not in coders:
                    coders.append(coder)
    finally:
        if store is not None:
            store.close()
    if fmt != OutputFormat.table:
        rows = [
            [
                c.path,
                c.name,
                c.description,
                c.color or "",
                len(c.keywords),
                *[counts.get(c.path, {}).get(k, 0) for k in coders],
            ]
            for c in book.walk()
        ]
        emit_rows(["path", "name", "description", "color", "keywords", *coders], rows, fmt)
        return
    from rich.text import Text
    from rich.tree import Tree

    tree = Tree(Text(f"{book.name}", style="bold"))
    nodes = {}
    for code in book.walk():
        label = Text()
        label.append("■ ", style=code.color or "white")
        label.append(code.path, style="bold")
        label.append(f"  {code.name}")
        if not code.codable:
            label.append("  (category: not codable)", style="italic")
        per = counts.get(code.path, {})
        if coders:
            label.append(
                "  [" + ", ".join(f"{k}: {per.get(k, 0)}" for k in coders) + "]", style="cyan"
            )
        if code.description:
            label.append("\n" + " ".join(code.description.split()), style="dim")
        parent = nodes.get(code.parent_path, tree)
        nodes[code.path] = parent.add(label)
    state.console().print(tree)
    info(f"Codebook: {source}")


@codebook_app.command("load")
def codebook_load(
    file: Path = typer.Argument(..., help="The codebook YAML file."),
) -> None:
    """Install a codebook into the project (a new version; codings are never dropped)."""
    from qualcode.codebook import install_codebook, load_codebook
    from qualcode.refiqda.guids import code_guid_map
    from qualcode.store import command_line

    book = load_codebook(file)
    for issue in book.warnings:
        warn(f"{issue.where}: {issue.message}")  # warn() says "warning:" itself
    with state.open_project() as store:
        changes = install_codebook(store, book, command_line(), guid_paths=code_guid_map(store))
    _report_install(changes, file)


def _report_install(changes, source) -> None:  # type: ignore[no-untyped-def]
    if not changes.changed:
        info(f"Codebook {source} is already the project's current one; nothing changed.")
        return
    if changes.added or changes.updated or changes.deactivated:
        what = (
            f"codes {len(changes.added)} added, {len(changes.updated)} updated, "
            f"{len(changes.deactivated)} no longer in the codebook"
        )
    else:
        # A new version with the same codes: "0 added, 0 updated" read as "nothing changed".
        what = "the same codes, with changed rules or texts"
    info(f"Codebook {source} installed (version {changes.version_id}): {what}.")
    for old, new in changes.moved.items():
        info(f"code '{old}' is now '{new}' (same GUID), with its codings and memos")
    for path, n in changes.kept_with_codings.items():
        hint = f"; renamed to '{changes.renamed[path]}'?" if path in changes.renamed else ""
        warn(
            f"code '{path}' is no longer in the codebook but keeps its {n} coding(s) (inactive){hint}"
        )


@app.command("code")
def code_cmd(
    codebook: Path | None = typer.Option(
        None,
        "--codebook",
        "-c",
        help="Codebook YAML (default: the project's, else codebooks/klynge.yaml).",
    ),
    unit: str = typer.Option(
        "turn", "--unit", help="Match within a whole turn or within a sentence: turn|sentence."
    ),
    include_interviewer: bool = typer.Option(
        False, "--include-interviewer", help="Also code interviewer turns."
    ),
    spacy_model: str | None = typer.Option(
        None, "--spacy-model", help="An installed trained spaCy pipeline whose lemmas to use."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Auto-code the turns with the codebook; replaces only the 'auto' layer, never a human's."""
    from qualcode.autocode import UNITS, autocode_project
    from qualcode.codebook import install_codebook
    from qualcode.store import command_line

    if unit not in UNITS:
        raise InputError(f"unknown unit '{unit}'; use turn or sentence")
    with state.open_project() as store:
        book, source = _resolve_codebook(store, codebook)
        info(f"Codebook: {source}")
        for issue in book.warnings:
            warn(f"{issue.where}: {issue.message}")
        from qualcode.autocode import CompiledCodebook
        from qualcode.autocode.project import require_rules
        from qualcode.nlp import get_pipeline

        require_rules(book)  # before anything is installed

        # Compiled (and the spaCy model loaded) before anything is installed: a codebook that
        # cannot be used leaves the project's codes as they were.
        compiled = CompiledCodebook(book, get_pipeline(spacy_model) if spacy_model else None)
        changes = install_codebook(store, book, command_line() + " (codebook)")
        if changes.changed:
            _report_install(changes, source)
        total = store.conn.execute(
            "SELECT COUNT(*) FROM segments"
            + ("" if include_interviewer else " WHERE role = 'respondent'")
        ).fetchone()[0]
        with progress_steps() as update:

            def progress(done: int, _total: int) -> None:
                update("Coding turns", done, total)

            summary = autocode_project(
                store,
                book,
                unit=unit,
                include_interviewer=include_interviewer,
                spacy_model=spacy_model,
                on_progress=progress,
                command=command_line(),
                compiled=compiled,
            )
    for message in summary.warnings:
        warn(message)
    rows = [[c.path, c.segments, c.matches, c.negated] for c in summary.codes]
    emit_rows(
        ["code", "turns", "matches", "negated turns"],
        rows,
        fmt,
        title="Auto-coding (layer 'auto')",
        right_align=("turns", "matches", "negated turns"),
    )
    info(
        f"Coded {summary.coded_segments} of {summary.segments} turns: {summary.codings} codings "
        f"(replaced {summary.removed}) in {summary.seconds:.1f} s; unit: {summary.unit}."
    )


@app.command("search")
def search_cmd(
    terms: list[str] = typer.Argument(
        ..., help='Words or "quoted phrases"; a trailing * matches any ending.'
    ),
    lemma: bool = typer.Option(False, "--lemma", help="Match every inflected form (by lemma)."),
    respondent: str | None = typer.Option(None, "--respondent", "-r", help="Only this respondent."),
    role: str | None = typer.Option(None, "--role", help="respondent, interviewer or other."),
    width: int = typer.Option(50, "--width", help="Characters of context on each side."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Keyword in context: every occurrence with respondent and segment id."""
    from qualcode.concordance import KWIC_COLUMNS, search

    with state.open_project() as store:
        rows = search(store, terms, lemma=lemma, respondent=respondent, role=role, width=width)
    if fmt != OutputFormat.table:
        emit_rows(KWIC_COLUMNS, [r.as_tuple() for r in rows], fmt)
        return
    from rich.table import Table

    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    for column, justify in (
        ("id", "right"),
        ("resp.", "left"),
        ("left", "right"),
        ("match", "center"),
        ("right", "left"),
    ):
        table.add_column(
            column, justify=justify, no_wrap=column not in ("left", "right"), overflow="ellipsis"
        )
    for r in rows:
        table.add_row(
            str(r.segment_id), r.respondent, r.left, f"[bold yellow]{r.match}[/]", r.right
        )
    state.console().print(table)
    info(f"{len(rows)} hit(s) in {len({r.segment_id for r in rows})} turn(s).")


@app.command("explain")
def explain_cmd(
    segment_id: int = typer.Argument(..., help="The segment id (see 'qualcode segments')."),
    codebook: Path | None = typer.Option(
        None, "--codebook", "-c", help="Codebook YAML (default: the project's)."
    ),
    unit: str = typer.Option("turn", "--unit", help="turn|sentence."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Show one turn with every codebook match highlighted and the rule that fired."""
    from qualcode.concordance import explain

    with state.open_project() as store:
        book, source = _resolve_codebook(store, codebook)
        result = explain(store, segment_id, book, unit=unit)
        from qualcode.passages import human_codings

        people = human_codings(store, [segment_id]).get(segment_id, [])
    columns = ["code", "rule", "term", "words", "weight", "start", "end", "negated by"]
    if fmt != OutputFormat.table:
        emit_rows(
            [*columns, "support"],
            [
                [m.code, m.rule, m.term, m.words, m.weight, m.start, m.end, m.negator or "",
                 m.support]
                for m in result.matches
            ],
            fmt,
        )
        return
    # A weak term (weight below 1) or a support term needs other evidence: the student tuning
    # the codebook must see that, or "keyword" reads as enough on its own.
    rows = [
        [m.code, m.rule, m.term, m.words, f"{m.weight:g}" + (" (support)" if m.support else ""),
         m.start, m.end, m.negator or ""]
        for m in result.matches
    ]
    from rich.text import Text

    console = state.console()
    console.rule(
        f"[bold]segment {result.segment_id}[/] — {result.respondent}, {result.transcript} "
        f"turn {result.turn} ({result.speaker}, {result.role})"
    )
    text = Text(result.text)
    colours = {c.path: c.color or "yellow" for c in book.walk()}
    for m in result.matches:
        style = f"bold underline {colours.get(m.code, 'yellow')}"
        text.stylize(style + (" strike" if m.negated else ""), m.start, m.end)
    for passage in people:
        if not passage.whole_turn:
            text.stylize("reverse", passage.start, passage.end)
    console.print(text)

    def say(line: str) -> None:
        # Part of the answer, not a status line: on stdout, so `explain 42 | less` keeps it.
        console.print(line, highlight=False, markup=False, soft_wrap=True)

    for passage in people:
        where = (
            "whole turn"
            if passage.whole_turn
            else f"«{result.text[passage.start : passage.end]}» ({passage.start}:{passage.end})"
        )
        say(f"{passage.coder}: {passage.code} — {where}")
    emit_rows(columns, rows, fmt, right_align=("weight", "start", "end"))
    coded = ", ".join(result.codes) or "(none)"
    stored = ", ".join(result.stored) or "(none)"
    say(f"Codes now: {coded}. Stored in the auto layer: {stored}. Codebook: {source}")
    unassigned = list(dict.fromkeys(m.code for m in result.matches if m.code not in result.codes))
    if unassigned:
        say(
            f"Matched, not assigned: {', '.join(unassigned)} (too little evidence for the "
            "threshold, or a more specific code was kept: docs/codebook.md, Evidence strength)"
        )
    if result.role == "interviewer":
        info("This is an interviewer turn: 'qualcode code' skips it unless --include-interviewer.")
