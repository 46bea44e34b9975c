"""Commands for manual coding: coder, recode, review, export/import codings, log, undo, memo."""

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from qualcode.cli import state
from qualcode.cli.app import app, coder_app, export_app, import_app
from qualcode.cli.output import OutputFormat, emit_rows, info, warn
from qualcode.errors import InputError

if TYPE_CHECKING:
    from qualcode.review import ItemView, ReviewSession
    from qualcode.store import Store

FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", "-f", help="table, csv or json.")
CODER_OPTION = typer.Option(
    None,
    "--coder",
    "-c",
    help="Who is coding (default: $QUALCODE_CODER, then the project default).",
)


def _esc(text: str) -> str:
    """Text shown through rich with its square brackets kept literally."""
    from rich.markup import escape

    return escape(text)


NEW_CODER_OPTION = typer.Option(
    False, "--new-coder", help="Start a new coder layer even if the name is close to another's."
)


def _coder(store: "Store", explicit: str | None, new_coder: bool | None = None) -> str:
    """The acting coder; a likely typo of an existing layer is refused.

    ``new_coder`` is None for commands that never start a layer (no --new-coder option).
    """
    from qualcode.recode import resolve_coder

    hint = "use --new-coder to start a new layer" if new_coder is not None else ""
    return resolve_coder(store, explicit, new_coder=bool(new_coder), new_hint=hint)


def _announce_new_layer(store: "Store", name: str, existed: bool) -> None:
    if not existed and store.coder_id(name) is not None:
        info(f"new coder layer '{name}'")


def command_line() -> str:
    """The command line for the audit log (the store module is imported only when needed)."""
    from qualcode.store import command_line as typed

    return typed()


# -- coder -----------------------------------------------------------------------------------
@coder_app.command("list")
def coder_list(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Show the coder layers: codings, coded segments, manual/draft codings, memos, coding memos.

    'memos' are the coder's memos on turns and codes; 'coding memos' are codings that carry a memo
    of their own (as imported from NVivo/MAXQDA or written in a layer file).
    """
    from qualcode.recode import list_layers

    with state.open_project() as store:
        layers = list_layers(store)
    rows = [
        [
            layer.name + (" *" if layer.is_default and fmt == OutputFormat.table else ""),
            layer.kind,
            layer.codings,
            layer.segments,
            layer.manual,
            layer.draft,
            layer.memos,
            layer.coding_memos,
        ]
        for layer in layers
    ]
    emit_rows(
        ["coder", "kind", "codings", "segments", "manual", "draft", "memos", "coding memos"],
        rows,
        fmt,
        title="Coder layers (* = default)",
        right_align=("codings", "segments", "manual", "draft", "memos", "coding memos"),
    )


@coder_app.command("set")
def coder_set(
    name: str = typer.Argument(..., help="The coder's name, e.g. kari."),
    new_coder: bool = NEW_CODER_OPTION,
) -> None:
    """Make NAME the project's default coder (QUALCODE_CODER and --coder still win)."""
    from qualcode.recode import set_default_coder

    with state.open_project() as store:
        name = _coder(store, name, new_coder)
        existed = store.coder_id(name) is not None
        changed = set_default_coder(store, name, command_line())
        _announce_new_layer(store, name, existed)
    info(f"Default coder: {name}" + ("" if changed else " (unchanged)"))


@coder_app.command("copy")
def coder_copy(
    source: str = typer.Argument(..., help="Layer to copy from, e.g. auto."),
    target: str = typer.Argument(..., help="Layer to start, e.g. kari."),
    merge: bool = typer.Option(False, "--merge", help="Add to a layer that already has codings."),
) -> None:
    """Copy every coding of SOURCE (evidence included) into TARGET's layer."""
    from qualcode.recode import copy_layer

    with state.open_project() as store:
        result = copy_layer(store, source, target, command_line(), merge=merge)
    kept = f", {result.kept} already there" if result.kept else ""
    info(f"Copied {result.copied} codings from {result.source} to {result.target}{kept}.")


@coder_app.command("rename")
def coder_rename(
    old: str = typer.Argument(..., help="The layer's current name, e.g. imported."),
    new: str = typer.Argument(..., help="Its new name, e.g. kari."),
) -> None:
    """Rename a coder layer (codings, memos and the default coder follow; 'undo' reverts it)."""
    from qualcode.recode import rename_layer

    with state.open_project() as store:
        count = rename_layer(store, old, new, command_line())
    info(f"Renamed coder layer {old} to {new} ({count} codings).")


# -- recode ----------------------------------------------------------------------------------
@app.command()
def recode(
    segment_ids: list[int] = typer.Argument(..., help="Segment ids (see 'qualcode segments')."),
    add: list[str] = typer.Option(
        [], "--add", "-a", metavar="CODE", help="Code path to add (repeatable)."
    ),
    remove: list[str] = typer.Option(
        [], "--remove", "-r", metavar="CODE", help="Code path to remove (repeatable)."
    ),
    memo: str | None = typer.Option(None, "--memo", "-m", help="A memo on each segment: why."),
    quote: str | None = typer.Option(
        None,
        "--quote",
        "-q",
        metavar="TEXT",
        help="Code only the passage where TEXT stands in the turn (one segment).",
    ),
    occurrence: int | None = typer.Option(
        None, "--occurrence", metavar="N", help="With --quote: the Nth place TEXT stands (1, 2, …)."
    ),
    span: str | None = typer.Option(
        None, "--span", metavar="START:END", help="Code the passage at these character offsets."
    ),
    coder: str | None = CODER_OPTION,
    new_coder: bool = NEW_CODER_OPTION,
) -> None:
    """Add or remove codes on segments in your layer, as one command (undo reverts it)."""
    from qualcode.recode import recode as run_recode

    if quote is not None and span is not None:
        raise InputError("give --quote or --span, not both")
    if occurrence is not None and quote is None:
        raise InputError("--occurrence goes with --quote")
    with state.open_project() as store:
        name = _coder(store, coder, new_coder)
        existed = store.coder_id(name) is not None
        passage = _passage(store, segment_ids, quote, occurrence, span)
        result = run_recode(
            store,
            segment_ids,
            name,
            add=add,
            remove=remove,
            memo=memo,
            command=command_line(),
            quote=passage,
        )
        _announce_new_layer(store, name, existed)
        shown = ""
        if passage is not None:
            from qualcode.passages import passage_text
            from qualcode.recode import segment_text

            shown = f" «{passage_text(segment_text(store, segment_ids[0]), *passage)}»"
    for seg in result.interviewer_turns:
        warn(
            f"segment {seg} is an interviewer turn: the auto-coder and the reports leave "
            "interviewer turns out, so this coding is not counted"
        )
    for seg, code in result.added:
        info(f"segment {seg}: + {code}{shown}")
    for seg, code in result.removed:
        info(f"segment {seg}: − {code}")
    for seg, code in result.already_coded:
        warn(f"segment {seg} already has {code} in {name}'s layer; not added again")
    for seg, code in result.not_coded:
        warn(f"segment {seg} does not have {code} in {name}'s layer; nothing to remove")
    if result.memo_ids:
        info(f"memo written on {len(result.memo_ids)} segment(s)")
    info(
        f"{name}: {len(result.added)} added, {len(result.removed)} removed"
        + ("" if result.changed else " (nothing changed)")
    )


def _passage(
    store: "Store",
    segment_ids: list[int],
    quote: str | None,
    occurrence: int | None,
    span: str | None,
) -> tuple[int, int] | None:
    """The passage --quote or --span names, checked against the one segment given."""
    from qualcode.passages import check_span, find_quote, parse_span
    from qualcode.recode import segment_text

    if quote is None and span is None:
        return None
    if len(segment_ids) != 1:
        raise InputError("a passage (--quote or --span) names a place in one segment: give one id")
    text = segment_text(store, segment_ids[0])
    if span is not None:
        return check_span(text, parse_span(span), segment_ids[0])
    try:
        return find_quote(text, quote or "", occurrence)
    except InputError as exc:
        raise InputError(f"segment {segment_ids[0]}: {exc.message}") from None


# -- review ----------------------------------------------------------------------------------
_HELP = (
    "[a]ccept  [r]eject  [c CODE] change to  [+ CODE] add  [m TEXT] memo  [s]kip  [b]ack  "
    "[n]eighbours  [l]ist codes  [q]uit  (Enter: next when decided)"
)


def _render_turn(view: "ItemView") -> object:
    from rich.text import Text

    text = Text(f"{view.speaker}: ", style="bold")
    body = Text(view.text)
    for match in view.evidence:
        style = "bold white on red" if match.negated else "bold black on yellow"
        body.stylize(style, match.start, match.end)
    text.append_text(body)
    return text


def _show_item(session: "ReviewSession", view: "ItemView") -> None:
    console = state.console()
    item = view.item
    under = f"{session.source}: {item.code}" if item.code else f"no code in {session.source}"
    console.rule(
        f"{view.index + 1}/{view.total} · {view.respondent} · {view.transcript}"
        f" turn {view.position} · segment {item.segment_id} · {under}"
    )
    console.print(_render_turn(view))
    for match in view.evidence:
        negation = f"  NEGATED by '{match.negator or '?'}'" if match.negated else ""
        console.print(
            f"  evidence: '{match.words}' ({match.rule} {match.term}){negation}", markup=False
        )
    if view.negated:
        console.print("  [bold red]negated:[/] every match of this coding is negated")

    def codes(pairs: list[tuple[str, ...]]) -> str:
        return ", ".join(p[0] + (f" ({p[1]})" if p[1] == "auto" else "") for p in pairs) or "—"

    console.print(
        f"  {session.source}: {codes([(p, s) for p, s, _ in view.source_codes])}", markup=False
    )
    if session.reviewer != session.source:
        console.print(f"  {session.reviewer}: {codes(list(view.own_codes))}", markup=False)
    for memo in view.memos:
        target = f"code {memo.code_path}" if memo.code_path else "memo"
        console.print(f"  {target} ({memo.coder}): {memo.text}", markup=False)
    for memo in view.coding_memos:
        console.print(f"  memo on {memo.code_path} ({memo.coder}): {memo.text}", markup=False)
    if view.decision:
        console.print(f"  decided earlier: {view.decision}", markup=False)


def _show_neighbours(session: "ReviewSession", span: int) -> None:
    before, after = session.neighbours(span=span)
    console = state.console()
    for arrow, turns in (("↑", before), ("↓", after)):
        for turn in turns:
            console.print(
                f"  {arrow} [{turn.segment_id}] {turn.speaker}: {turn.text}",
                style="dim",
                markup=False,
                highlight=False,
            )
    if not before and not after:
        console.print("  (no neighbouring turns)")


def _code_argument(store: "Store", arg: str) -> str:
    arg = arg.strip() or typer.prompt("code").strip()
    if arg.isdigit():
        paths = store.code_paths()
        if not 1 <= int(arg) <= len(paths):
            raise InputError(f"no code number {arg} (1-{len(paths)}; 'l' lists them)")
        return paths[int(arg) - 1]
    return arg


def _review_loop(session: "ReviewSession", span: int) -> str:
    """Run the prompt until the queue ends, the user quits or the input ends; returns why."""
    import click

    console = state.console()
    shown = None
    while not session.finished:
        if shown != session.index:
            _show_item(session, session.view())
            shown = session.index
        try:
            line = typer.prompt("decision", default="", show_default=False)
        except (typer.Abort, click.exceptions.Abort, EOFError) as exc:
            # typer.Abort is Typer's own class in newer versions, click's in older ones. Click
            # turns Ctrl-C into Abort too; its context still tells it from the end of input.
            if isinstance(exc.__context__, KeyboardInterrupt):
                raise KeyboardInterrupt from None
            return "input ended"
        key, _, arg = line.strip().partition(" ")
        key = key.casefold()
        try:
            if key in ("a", "accept"):
                session.accept()
            elif key in ("r", "reject"):
                session.reject()
            elif key in ("c", "change"):
                target_code = _code_argument(session.store, arg)
                memo = session.own_memo()
                keep_old = False
                if memo:
                    # Your own coding carries a memo: ask before it leaves this code.
                    keep_old = not typer.confirm(
                        f"  your {session.current.code} coding has the memo \"{memo[:60]}\"; "
                        "move it to the new code (no: keep both codings)?",
                        default=True,
                    )
                target = session.change(target_code, keep_old=keep_old)
                console.print(
                    f"  changed to {target}"
                    + (" (memo moved)" if memo and not keep_old else "")
                    + (" (old coding kept)" if keep_old else "")
                )
            elif key in ("+", "add"):
                target = session.add(_code_argument(session.store, arg))
                console.print(f"  added {target}")
                shown = None
            elif key in ("m", "memo"):
                session.memo(arg.strip() or typer.prompt("memo"))
                console.print("  memo saved")
                shown = None
            elif key in ("s", "skip"):
                session.skip()
            elif key in ("b", "back"):
                if not session.back():
                    console.print("  (this is the first item)")
            elif key in ("n", "neighbours", "context"):
                _show_neighbours(session, span)
            elif key in ("l", "list"):
                for number, path in enumerate(session.store.code_paths(), start=1):
                    console.print(f"  {number:>3}  {path}", markup=False)
            elif key in ("q", "quit"):
                return "quit"
            elif key == "" and session.decision_of(session.items[session.index]):
                session.advance()
            else:
                console.print(_HELP, markup=False)
        except InputError as exc:
            console.print(f"  [red]error:[/] {_esc(str(exc))}")
    return "done"


@app.command()
def review(
    code: str | None = typer.Option(None, "--code", help="Only this code (and its subcodes)."),
    respondent: str | None = typer.Option(None, "--respondent", "-r", help="Only this respondent."),
    source: str | None = typer.Option(
        None, "--from", help="The layer whose codings are reviewed (default: auto, else your own)."
    ),
    coder: str | None = CODER_OPTION,
    uncoded: bool = typer.Option(
        False, "--uncoded", help="Also turns the source layer left uncoded."
    ),
    skipped: bool = typer.Option(False, "--skipped", help="Only the items you skipped."),
    restart: bool = typer.Option(False, "--restart", help="Walk every item again from the start."),
    context: int = typer.Option(1, "--context", help="Turns before/after shown by 'n'."),
    new_coder: bool = NEW_CODER_OPTION,
) -> None:
    """Walk through draft codings and decide; each decision is saved at once, a new run resumes."""
    import shlex

    from qualcode.review import start_review

    with state.open_project() as store:
        name = _coder(store, coder, new_coder)
        session = start_review(
            store,
            name,
            source,
            code=code,
            respondent=respondent,
            uncoded=uncoded,
            only_skipped=skipped,
            restart=restart,
            command=command_line(),
        )
        if not session.items:
            info(f"Nothing to review in layer '{session.source}' with these filters.")
            return
        if store.coder_id(name) is None:
            info(f"new coder layer '{name}' (started with the first decision)")
        if session.finished:
            info(
                f"All {len(session.items)} items already have a decision by {name} "
                "(--restart to walk them again, --skipped for the skipped ones)."
            )
            return
        info(
            f"Reviewing {session.source} as {name}: {session.remaining} of {len(session.items)} "
            "items left. Every decision is saved at once; 'q' quits, '?' shows the keys."
        )
        state.err_console().print(_HELP, markup=False, highlight=False)
        # The same walk again (without --restart, which would start it over).
        resume = shlex.join(
            ["qualcode", "review"]
            + (["--code", code] if code else [])
            + (["--respondent", respondent] if respondent else [])
            + (["--from", source] if source else [])
            + (["--coder", name] if coder else [])
            + (["--uncoded"] if uncoded else [])
            + (["--skipped"] if skipped else [])
        )
        try:
            why = _review_loop(session, context)
        except KeyboardInterrupt:
            # Each decision was its own command: those taken are saved, the one under way is not.
            info(
                f"\ninterrupted: {_count(session.decisions, 'decision')} saved; "
                f"{_count(session.remaining, 'item')} left. "
                f"Run '{resume}' again to resume."
            )
            raise typer.Exit(130) from None
    left = session.remaining
    ending = "Review complete." if why == "done" else f"Stopped ({why}); run '{resume}' to resume."
    info(
        f"{_count(session.decisions, 'decision')} saved this session; "
        f"{_count(left, 'item')} left. {ending}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# -- export / import codings -----------------------------------------------------------------
@export_app.command("codings")
def export_codings_cmd(
    output: Path = typer.Option(..., "--output", "-o", help="FILE.csv or FILE.xlsx."),
    coder: str | None = typer.Option(None, "--coder", "-c", help="Only this layer (default: all)."),
    keep_names: bool = typer.Option(
        False, "--keep-names", help="Do not apply pseudonyms.csv (the file then holds real names)."
    ),
) -> None:
    """Write codings, one row per (segment, code); .xlsx adds an editable 0/1 sheet per layer.

    The file holds the coded turns: names in the project's pseudonyms.csv are replaced, and
    transcripts and respondents are named by their respondent label.
    """
    from qualcode.export.codings import export_codings

    with state.open_project() as store:
        result = export_codings(store, output, coder, pseudonymise=not keep_names)
    for message in result.warnings:
        warn(_esc(message))
    info(
        f"Wrote {result.rows} codings on {result.segments} segments "
        f"({', '.join(result.layers) or 'no layers'}) to {output}"
    )
    if keep_names:
        warn("--keep-names: the file holds real names (pseudonyms.csv not applied)")
    elif result.pseudonyms:
        info(
            f"Pseudonyms applied: {result.pseudonyms} names from pseudonyms.csv; transcripts and "
            "respondents are named by their label (--keep-names for real names)."
        )
    else:
        warn(
            "no pseudonyms.csv in the project: the text holds every name in the transcripts "
            "(transcripts and respondents are named by their label)"
        )


@import_app.command("codings")
def import_codings_cmd(
    file: Path = typer.Argument(..., help="An edited FILE.csv or FILE.xlsx from 'export codings'."),
    coder: str | None = CODER_OPTION,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the changes, write nothing."),
    fmt: OutputFormat = FORMAT_OPTION,
    new_coder: bool = NEW_CODER_OPTION,
    replace_layer: bool = typer.Option(
        False,
        "--replace-layer",
        help="Allow an import that removes more than half of the layer's codings.",
    ),
) -> None:
    """Make your layer equal to the file: shows changes per code, then applies all or nothing."""
    from qualcode.export.codings import apply_import, plan_import

    with state.open_project() as store:
        name = _coder(store, coder, new_coder)
        existed = store.coder_id(name) is not None
        plan = plan_import(store, file, name)
        for message in plan.warnings:
            warn(_esc(message))
        if plan.ignored_rows:
            info(f"{plan.ignored_rows} rows of other coders' layers ignored")

        def ids(values: list[int]) -> str:
            shown = ", ".join(map(str, values[:15]))
            return shown + (f" … (+{len(values) - 15})" if len(values) > 15 else "")

        rows = [[code, len(a), len(r), ids(a), ids(r)] for code, (a, r) in plan.per_code().items()]
        if rows:
            emit_rows(
                ["code", "added", "removed", "added segments", "removed segments"],
                rows,
                fmt,
                title=f"Changes to {name}'s layer (from sheet {plan.sheet})",
                right_align=("added", "removed"),
            )
        if dry_run:
            info(
                f"Dry run: {len(plan.added)} would be added, {len(plan.removed)} removed; "
                "nothing written."
            )
            return
        if plan.removes_most and not replace_layer and state.interactive():
            replace_layer = typer.confirm(
                f"This removes {len(plan.removed)} of the {len(plan.base)} codings in {name}'s "
                f"layer and adds {len(plan.added)}. Replace the layer?",
                default=False,
            )
            if not replace_layer:
                raise InputError("nothing imported", path=file)
        apply_import(store, plan, command_line(), replace_layer=replace_layer)
        _announce_new_layer(store, name, existed)
    info(
        f"{name}: {len(plan.added)} added, {len(plan.removed)} removed"
        + ("" if plan.changed else " (no changes)")
    )
    if plan.to_mark_done:
        count = len(plan.to_mark_done)
        info(f"{name}: {count} transcript{'' if count == 1 else 's'} the file covers marked done")


# -- log, undo, memo -------------------------------------------------------------------------
@app.command("log")
def log_cmd(
    coder: str | None = typer.Option(None, "--coder", "-c", help="Only this coder's changes."),
    segment: int | None = typer.Option(None, "--segment", "-s", help="Only this segment."),
    since: str | None = typer.Option(
        None, "--since", help="2025-03-01, 2025-03-01T14:00, today, 3d, 2h."
    ),
    code: str | None = typer.Option(None, "--code", help="Only this code (and subcodes)."),
    limit: int = typer.Option(
        200, "--limit", "-n", min=0, help="Show the last N entries (0: all)."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Show the audit trail: who changed what, when, and with which command.

    The table shows a one-line summary of each change; -f csv/json give the whole detail (JSON).
    """
    from qualcode.audit import log_entries, one_line, parse_since

    with state.open_project() as store:
        entries = log_entries(
            store,
            coder=coder,
            segment_id=segment,
            code=code,
            since=parse_since(since) if since else None,
        )
    if limit and len(entries) > limit:
        if fmt == OutputFormat.table:
            info(f"showing the last {limit} of {len(entries)} entries (--limit 0 for all)")
        entries = entries[-limit:]
    if fmt != OutputFormat.table:
        rows = [
            [
                e.entry_id,
                e.at,
                e.coder or "",
                e.action,
                e.segment_id,
                e.code_path or "",
                e.summary,
                e.detail if fmt == OutputFormat.json else e.detail_json,
                e.command_id,
                e.command,
            ]
            for e in entries
        ]
        emit_rows(
            [
                "id",
                "at",
                "coder",
                "action",
                "segment",
                "code",
                "summary",
                "detail",
                "command_id",
                "command",
            ],
            rows,
            fmt,
        )
        return
    # One line per entry: cells of at most 30 characters never wrap (see emit_rows), where a
    # wrapped JSON detail made an entry dozens of lines long. -f csv/json have the whole text.
    rows = [
        [
            _local_time(e.at),
            e.coder or "",
            e.action,
            e.segment_id,
            e.code_path or "",
            one_line(e.summary, 30),
            one_line(f"#{e.command_id} {e.command.removeprefix('qualcode ')}", 30),
        ]
        for e in entries
    ]
    emit_rows(
        ["at", "coder", "action", "seg.", "code", "detail", "command"],
        rows,
        fmt,
        title="Audit log",
        right_align=("seg.",),
    )


def _local_time(iso: str) -> str:
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


#: How many changes ``undo`` lists before "… and N more" (``--all`` lists every one).
UNDO_LISTED = 20


@app.command()
def undo(
    coder: str | None = CODER_OPTION,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be undone."),
    show_all: bool = typer.Option(
        False, "--all", help=f"List every change (default: the first {UNDO_LISTED})."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Revert your last command exactly (a recode, a review step, an import)."""
    from qualcode.audit import undo as run_undo

    with state.open_project() as store:
        name = _coder(store, coder)
        result = run_undo(store, name, command_line(), dry_run=dry_run)
    memo_actions = ("add_memo", "remove_memo")
    changes = [
        e for e in result.reverted if e.action not in ("review", "set_done", *memo_actions)
    ]
    decisions = sum(e.action == "review" for e in result.reverted)
    marks = sum(e.action == "set_done" for e in result.reverted)
    memos = sum(e.action in memo_actions for e in result.reverted)
    verb = "Would undo" if dry_run else "Undid"
    # A review step may be a decision alone (a skip, or a reject of a coding you never had);
    # `done` changes progress marks only.
    counted = (
        ([_count(len(changes), "coding change")] if changes or not (marks or memos) else [])
        + ([_count(decisions, "review decision")] if decisions else [])
        + ([_count(marks, "done mark")] if marks else [])
        + ([_count(memos, "memo")] if memos else [])
    )
    info(
        f"{verb} #{result.command_id} '{_esc(result.command)}' ({result.started_at}) by {name}: "
        + " and ".join(counted)
    )
    if fmt != OutputFormat.table:
        emit_rows(
            ["action", "segment", "code", "summary"],
            [[e.action, e.segment_id, e.code_path or "", e.summary] for e in result.reverted],
            fmt,
        )
        return
    # A 'coder copy' is hundreds of changes: the first few show what it was.
    shown = result.reverted if show_all else result.reverted[:UNDO_LISTED]
    for entry in shown:
        where = f"segment {entry.segment_id} " if entry.segment_id is not None else ""
        what = "review decision" if entry.action == "review" else entry.action
        info(_esc(f"  {what} {where}{entry.code_path or ''} {entry.summary}".rstrip()))
    hidden = len(result.reverted) - len(shown)
    if hidden:
        info(f"  … and {hidden} more (--all lists them)")


@app.command()
def memo(
    args: list[str] = typer.Argument(None, help="SEGMENT_ID TEXT, or TEXT with --code."),
    code: str | None = typer.Option(
        None, "--code", help="A memo on this code instead of a segment."
    ),
    coder: str | None = CODER_OPTION,
    list_: bool = typer.Option(
        False,
        "--list",
        "-l",
        help="List memos, coding memos included (of the segment/code if given).",
    ),
    delete: int | None = typer.Option(None, "--delete", help="Delete the memo with this id."),
    fmt: OutputFormat = FORMAT_OPTION,
    new_coder: bool = NEW_CODER_OPTION,
) -> None:
    """Write a memo on a segment ('memo 12 TEXT') or a code ('memo --code PATH TEXT'); list them."""
    from qualcode.memos import add_memo, list_coding_memos, list_memos, remove_memo
    from qualcode.recode import check_code

    args = list(args or [])
    with state.open_project() as store:
        if delete is not None:
            gone = remove_memo(store, delete, _coder(store, coder), command_line())
            info(_esc(f"Deleted memo {gone.memo_id}: {gone.text}"))
            return
        segment_id = None
        if code is None and args:
            if not args[0].isdigit():
                raise InputError(
                    f"'{args[0]}' is not a segment id; use 'memo SEGMENT_ID TEXT' "
                    "or 'memo --code PATH TEXT'"
                )
            segment_id = int(args.pop(0))
        code_path = check_code(store, code, active_only=False) if code is not None else None
        text = " ".join(args).strip()
        if list_ or not text:
            memos = list_memos(store, segment_id=segment_id, code_path=code_path)
            coding_memos = list_coding_memos(store, segment_id=segment_id, code_path=code_path)
            rows = [
                [
                    m.memo_id,
                    "code" if m.code_path else "segment",
                    m.segment_id,
                    m.code_path or "",
                    m.coder or "",
                    m.created_at,
                    m.text,
                ]
                for m in memos
            ]
            # A coding memo has no id of its own: it goes with its coding (import codings edits it).
            rows += [
                ["", "coding", m.segment_id, m.code_path, m.coder, m.created_at, m.text]
                for m in coding_memos
            ]
            rows.sort(key=lambda row: (row[5], row[0] == "", row[0] or 0, row[2] or 0))
            emit_rows(
                ["id", "kind", "segment", "code", "coder", "at", "text"],
                rows,
                fmt,
                title="Memos (kind 'coding': the memo of one coding)",
                right_align=("id", "segment"),
                wrap_columns=("text",),
            )
            return
        name = _coder(store, coder, new_coder)
        memo_id = add_memo(
            store, text, name, segment_id=segment_id, code_path=code_path, command=command_line()
        )
    info(
        f"Memo {memo_id} saved on "
        + (f"code {code_path}" if code_path else f"segment {segment_id}")
    )
