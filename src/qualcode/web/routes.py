"""The workbench's pages and actions: each parses its input and calls the library.

Pages are GET and render templates. Actions are POST with a JSON body; each is one library call
(one transaction, logged under the coder with a readable ``workbench: …`` command) and answers
with a message and the re-rendered turns it changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from qualcode.errors import InputError
from qualcode.store import Store, open_store

router = APIRouter()
EXCERPT_CHARS = 30


# -- request helpers -------------------------------------------------------------------------
@contextmanager
def project(request: Request) -> Iterator[Store]:
    """The project store, opened for this request (a connection per request: threads differ)."""
    store = open_store(request.app.state.settings.folder)
    try:
        yield store
    finally:
        store.close()


def translate(request: Request) -> Any:
    """The page language's words (``t(key)``)."""
    return request.app.state.templates.env.globals["t"]


def code_names(store: Store) -> dict[str, str]:
    """Code names by path, for messages that name codes as the reader sees them."""
    from qualcode.reading import code_styles

    return {path: style.name for path, style in code_styles(store).items()}


def refuse(message: str, **extra: Any) -> JSONResponse:
    """An action's refusal with a message in the page's language (nothing changed)."""
    return JSONResponse({"error": message, **extra}, status_code=400)


def current_coder(request: Request) -> str | None:
    """The coder this browser chose, if any."""
    name = request.cookies.get(request.app.state.settings.coder_cookie)
    return name or None


def require_coder(request: Request) -> str:
    """The coder, or an error asking to choose one first."""
    coder = current_coder(request)
    if not coder:
        raise InputError("choose who is coding first (reload the page)")
    return coder


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A page from ``templates/`` with the shared context (token, coder, language)."""
    settings = request.app.state.settings
    context = {"token": settings.token, "coder": current_coder(request), **context}
    return request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )


def fragment(request: Request, name: str, context: dict[str, Any]) -> str:
    """A template rendered to a string (a turn or the code tree, for a script to put in)."""
    template = request.app.state.templates.get_template(name)
    return template.render({"coder": current_coder(request), **context})


def excerpt(text: str, width: int = EXCERPT_CHARS) -> str:
    """The start of ``text`` on one line, cut with '…', for command texts."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[:width].rsplit(" ", 1)[0] if " " in flat[:width] else flat[: width - 1]
    return cut.rstrip() + " …"


def turn_fragments(request: Request, store: Store, coder: str, segment_ids: list[int]) -> dict[str, str]:
    """The re-rendered turns, by segment id."""
    from qualcode.reading import code_styles, reader_turns

    ids = sorted(set(segment_ids))
    if not ids:
        return {}
    styles = code_styles(store)
    lang = request.app.state.settings.lang
    turns = reader_turns(store, coder, segment_ids=ids, lang=lang)
    return {
        str(turn.segment_id): fragment(request, "_turn.html", {"turn": turn, "styles": styles})
        for turn in turns
    }


def answer(request: Request, store: Store, coder: str, message: str, segments: list[int], **extra: Any) -> JSONResponse:
    """The JSON answer of an action: a message, the changed turns and the recent codes."""
    from qualcode.reading import recent_codes

    return JSONResponse(
        {
            "message": message,
            "turns": turn_fragments(request, store, coder, segments),
            "recent": recent_codes(store, coder),
            **extra,
        }
    )


# -- pages -----------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Any:
    """Respondents, transcripts and every coder's progress."""
    from qualcode.corpus import respondents
    from qualcode.reading import transcripts

    coder = current_coder(request)
    if coder is None:
        return RedirectResponse("/coder", 303)
    with project(request) as store:
        progress = _progress(store)
        return render(
            request,
            "home.html",
            {
                "respondents": respondents(store),
                "transcripts": transcripts(store),
                "progress": progress,
                "coders": sorted({row["coder"] for rows in progress.values() for row in rows}),
            },
        )


def _progress(store: Store, coder: str | None = None) -> dict[int, list[dict[str, Any]]]:
    """Progress rows (every coder's, or ``coder``'s) by transcript id."""
    from qualcode.progress import progress_rows

    if coder is not None and store.coder_id(coder) is None:
        return {}
    ids = {name: tid for tid, name in store.conn.execute("SELECT id, name FROM transcripts")}
    result: dict[int, list[dict[str, Any]]] = {}
    for row in progress_rows(store, coder):
        if row.coder == "auto":
            continue
        tid = ids.get(row.transcript)
        if tid is not None:
            result.setdefault(tid, []).append(
                {
                    "coder": row.coder,
                    "status": row.status,
                    "coded_turns": row.coded_turns,
                    "turns": row.turns,
                }
            )
    return result


@router.get("/coder", response_class=HTMLResponse)
def coder_page(request: Request) -> Any:
    """Ask who is coding."""
    from qualcode.reading import layers
    from qualcode.store import default_coder

    with project(request) as store:
        known = [name for name in layers(store) if name != "auto"]
        suggestion = current_coder(request) or default_coder(store) or ""
    return render(request, "coder.html", {"known": known, "suggestion": suggestion})


@router.get("/t/{transcript_id}", response_class=HTMLResponse)
def reader(request: Request, transcript_id: int) -> Any:
    """One whole transcript with my codings, the draft and the code tree."""
    from qualcode.reading import code_styles, reader_page, recent_codes

    coder = current_coder(request)
    if coder is None:
        return RedirectResponse("/coder", 303)
    lang = request.app.state.settings.lang
    with project(request) as store:
        page = reader_page(store, transcript_id, coder, lang=lang)
        progress = [
            row
            for row in _progress(store, coder).get(transcript_id, [])
            if row["coder"] == coder
        ]
        styles = code_styles(store)
        order = [
            (tid, label)
            for tid, label in store.conn.execute(
                "SELECT t.id, r.label FROM transcripts t JOIN respondents r"
                " ON r.id = t.respondent_id ORDER BY t.id"
            )
        ]
        here = [tid for tid, _ in order].index(transcript_id)
        return render(
            request,
            "reader.html",
            {
                "previous": order[here - 1] if here > 0 else None,
                "next": order[here + 1] if here + 1 < len(order) else None,
                "page": page,
                "styles": styles,
                "active": {path: style for path, style in styles.items() if style.active},
                "recent": recent_codes(store, coder),
                "status": progress[0]["status"] if progress else None,
            },
        )


@router.get("/code", response_class=HTMLResponse)
def code_view(request: Request, path: str = "", layer: str | None = None) -> Any:
    """Every passage of a code in my layer, another layer, or all of them (``layer=*``)."""
    from qualcode.reading import code_passages, code_styles, layers

    coder = current_coder(request)
    if layer is None:
        layer = coder or "*"
    with project(request) as store:
        styles = code_styles(store)
        if not path and styles:
            path = next(iter(styles))
        passages = code_passages(store, path, None if layer == "*" else layer) if path else []
        all_layers = layers(store)
    # The same passage in several layers is shown once, with every layer that has it.
    grouped: list[dict[str, Any]] = []
    for passage in passages:
        last = grouped[-1] if grouped else None
        if last and (last["p"].segment_id, last["p"].text) == (passage.segment_id, passage.text):
            last["who"].append((passage.coder, passage.code, passage.memo))
        else:
            grouped.append({"p": passage, "who": [(passage.coder, passage.code, passage.memo)]})
    return render(
        request,
        "code.html",
        {"path": path, "layer": layer, "layers": all_layers, "styles": styles, "groups": grouped},
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", lemma: bool = False) -> Any:
    """Keyword in context over every turn, as ``qualcode search``."""
    from qualcode.concordance import search

    rows = []
    if q.strip():
        with project(request) as store:
            rows = search(store, [q.strip()], lemma=lemma)
        ids = {}
        with project(request) as store:
            ids = dict(store.conn.execute("SELECT id, transcript_id FROM segments"))
        rows = [(row, ids.get(row.segment_id)) for row in rows]
    return render(request, "search.html", {"q": q, "lemma": lemma, "rows": rows})


@router.get("/supervisor", response_class=HTMLResponse)
def supervisor(request: Request, a: str = "", b: str = "", all: bool = False) -> Any:
    """Agreement between two coders and their disagreements side by side."""
    from qualcode.agreement import agreement, disagreements, human_layers
    from qualcode.consistency import interval_method
    from qualcode.errors import QualcodeError
    from qualcode.progress import left_out_of_comparison
    from qualcode.web.messages import left_out_lines

    t = translate(request)
    report = differing = None
    left_out: list[str] = []
    untouched: list[str] = []
    problem = ""
    with project(request) as store:
        humans = human_layers(store)
        if a and b and a == b:
            problem = t("same_coder")
        elif a and b:
            try:
                report = agreement(
                    store, [a, b], bootstrap=BOOTSTRAP, seed=SEED, include_in_progress=all
                )
                differing = disagreements(store, a, b, include_in_progress=all)
                gaps = left_out_of_comparison(store, [a, b], include_in_progress=all)
            except QualcodeError as error:
                problem = f"{t('compare_failed')}: {error}"
                report = differing = None
            else:
                left_out, untouched = left_out_lines(gaps, t)
                ids = dict(store.conn.execute("SELECT id, transcript_id FROM segments"))
                differing = [(d, ids.get(d.segment_id)) for d in differing]
    return render(
        request,
        "supervisor.html",
        {
            "humans": humans,
            "a": a or (humans[0] if humans else ""),
            "b": b or (humans[1] if len(humans) > 1 else ""),
            "report": report,
            "method": interval_method(report, request.app.state.settings.lang) if report else "",
            "differing": differing,
            "bootstrap": BOOTSTRAP,
            "seed": SEED,
            "include_in_progress": all,
            "left_out": left_out,
            "untouched": untouched,
            "problem": problem,
        },
    )


BOOTSTRAP = 1000
SEED = 1


@router.get("/api/turn/{segment_id}")
def turn_api(request: Request, segment_id: int) -> Any:
    """One turn re-rendered (after a change made elsewhere)."""
    coder = require_coder(request)
    with project(request) as store:
        return JSONResponse({"turns": turn_fragments(request, store, coder, [segment_id])})


# -- actions ---------------------------------------------------------------------------------
class CoderIn(BaseModel):
    name: str
    new: bool = False


@router.post("/api/coder")
def choose_coder(request: Request, body: CoderIn) -> Any:
    """Remember who is coding (the CLI's typo check applies: 'karri' is refused next to 'kari')."""
    from qualcode.recode import check_coder_name, similar_coders
    from qualcode.store import AUTO_CODER
    from qualcode.web.messages import coder_refused

    t = translate(request)
    try:
        name = check_coder_name(body.name)
    except InputError:
        return refuse(t("coder_bad").format(name=body.name.strip()))
    if name == AUTO_CODER:
        return refuse(t("coder_auto"))
    with project(request) as store:
        # The CLI's typo check: 'karri' is refused next to 'kari' unless the box is ticked.
        close = [] if body.new or store.coder_id(name) is not None else similar_coders(store, name)
    if close:
        return refuse(coder_refused(name, close, t), near=True)
    response = JSONResponse({"message": name})
    response.set_cookie(
        request.app.state.settings.coder_cookie,
        name,
        max_age=400 * 24 * 3600,
        httponly=True,
        samesite="strict",
    )
    return response


class CodeIn(BaseModel):
    segment: int
    code: str
    start: int | None = None
    end: int | None = None


@router.post("/api/code")
def add_coding(request: Request, body: CodeIn) -> Any:
    """Code a passage (``start``/``end`` in the turn's text) or the whole turn."""
    from qualcode.recode import recode

    coder = require_coder(request)
    with project(request) as store:
        text = _segment_text(store, body.segment)
        quote = None
        shown = text
        if body.start is not None and body.end is not None and (body.start, body.end) != (0, len(text)):
            if not 0 <= body.start < body.end <= len(text):
                raise InputError(f"the passage {body.start}:{body.end} is outside turn {body.segment}")
            quote = (body.start, body.end)
            shown = text[body.start : body.end]
        command = f"workbench: + {body.code} on {body.segment} «{excerpt(shown)}»"
        kwargs = {"quote": quote} if quote is not None else {}
        result = recode(store, [body.segment], coder, add=[body.code], command=command, **kwargs)
        t = translate(request)
        name = code_names(store).get(body.code, body.code)
        message = (
            f"+ {name} «{excerpt(shown)}»"
            if result.changed
            else t("already_coded").format(name=name)
        )
        extra: dict[str, Any] = {}
        if result.interviewer_turns:
            from qualcode.reading import turn_places

            place = turn_places(store, [body.segment]).get(body.segment, str(body.segment))
            extra["warning"] = t("interviewer_warning").format(place=place)
        return answer(request, store, coder, message, [body.segment], **extra)


def _segment_text(store: Store, segment_id: int) -> str:
    row = store.conn.execute("SELECT text FROM segments WHERE id = ?", (segment_id,)).fetchone()
    if row is None:
        raise InputError(f"no segment with id {segment_id} in the project")
    return str(row[0])


class CodingIn(BaseModel):
    coding: int


@router.post("/api/uncode")
def remove_coding(request: Request, body: CodingIn) -> Any:
    """Take one of my codings off (a passage or the whole turn)."""
    from qualcode.coding_edits import get_coding, remove_coding

    coder = require_coder(request)
    with project(request) as store:
        ref = get_coding(store, body.coding)
        text = _segment_text(store, ref.segment_id)
        shown = text if ref.quote is None else text[ref.quote[0] : ref.quote[1]]
        remove_coding(
            store,
            body.coding,
            coder,
            command=f"workbench: - {ref.code} on {ref.segment_id} «{excerpt(shown)}»",
        )
        name = code_names(store).get(ref.code, ref.code)
        return answer(request, store, coder, f"− {name}", [ref.segment_id])


class DecisionIn(BaseModel):
    segment: int
    code: str
    decision: str


@router.post("/api/decide")
def decide_draft(request: Request, body: DecisionIn) -> Any:
    """Accept (copy to my layer) or reject (a review decision) one draft coding."""
    from qualcode.review import decide

    coder = require_coder(request)
    with project(request) as store:
        sign = "✓" if body.decision == "accept" else "✗"
        decide(
            store,
            coder,
            body.segment,
            body.code,
            body.decision,
            command=f"workbench: {body.decision} {body.code} on {body.segment}",
        )
        name = code_names(store).get(body.code, body.code)
        return answer(request, store, coder, f"{sign} {name}", [body.segment])


class MemoIn(BaseModel):
    segment: int | None = None
    coding: int | None = None
    text: str = Field(default="", max_length=20000)


@router.post("/api/memo")
def write_memo(request: Request, body: MemoIn) -> Any:
    """A memo on a turn, or the memo of one of my codings."""
    from qualcode.coding_edits import set_coding_memo
    from qualcode.memos import add_memo

    coder = require_coder(request)
    with project(request) as store:
        if body.coding is not None:
            ref = set_coding_memo(
                store,
                body.coding,
                coder,
                body.text,
                command=f"workbench: memo on {body.coding} «{excerpt(body.text)}»",
            )
            segment = ref.segment_id
        elif body.segment is not None:
            add_memo(
                store,
                body.text,
                coder,
                segment_id=body.segment,
                command=f"workbench: memo on {body.segment} «{excerpt(body.text)}»",
            )
            segment = body.segment
        else:
            raise InputError("a memo belongs to a turn or a coding")
        return answer(request, store, coder, f"✎ {excerpt(body.text)}", [segment])


class MemoIdIn(BaseModel):
    memo: int


@router.post("/api/memo/delete")
def delete_memo(request: Request, body: MemoIdIn) -> Any:
    """Delete one of my memos on a turn."""
    from qualcode.memos import list_memos, remove_memo

    coder = require_coder(request)
    with project(request) as store:
        found = [m for m in list_memos(store, coder=coder) if m.memo_id == body.memo]
        if not found:
            raise InputError(f"no memo {body.memo} of yours ({coder})")
        memo = remove_memo(
            store, body.memo, coder, command=f"workbench: delete memo «{excerpt(found[0].text)}»"
        )
        segments = [memo.segment_id] if memo.segment_id is not None else []
        return answer(request, store, coder, f"- ✎ {excerpt(memo.text)}", segments)


class NewCodeIn(BaseModel):
    name: str = Field(max_length=200)
    parent: str = ""
    description: str = Field(default="", max_length=5000)
    color: str = ""


@router.post("/api/codes")
def new_code(request: Request, body: NewCodeIn) -> Any:
    """A new code while reading: a new version of the project's codebook."""
    from qualcode.codebook_edit import add_code
    from qualcode.reading import code_styles, recent_codes

    coder = require_coder(request)
    with project(request) as store:
        made = add_code(
            store,
            body.name,
            coder,
            parent=body.parent or None,
            description=body.description,
            color=body.color or None,
            command=f"workbench: new code {body.name!r}"
            + (f" under {body.parent}" if body.parent else ""),
        )
        tree = fragment(
            request,
            "_codetree.html",
            {
                "active": code_styles(store, include_inactive=False),
                "recent": recent_codes(store, coder),
            },
        )
        return JSONResponse({"message": f"+ {made.name}", "path": made.path, "tree": tree})


@router.post("/api/undo")
def undo_last(request: Request) -> Any:
    """Undo my last command (the same as ``qualcode undo``)."""
    from qualcode.audit import last_undoable_command, undo
    from qualcode.errors import QualcodeError
    from qualcode.reading import transcripts, turn_places
    from qualcode.web.messages import undo_description

    t = translate(request)
    coder = require_coder(request)
    with project(request) as store:
        if last_undoable_command(store, coder) is None:
            return refuse(t("nothing_to_undo").format(coder=coder))
        try:
            result = undo(store, coder, command="workbench: undo")
        except QualcodeError as error:
            return refuse(f"{t('undo_failed')}: {error}")
        segments = [e.segment_id for e in result.reverted if e.segment_id is not None]
        reload = any(
            e.action in ("add_code", "set_setting", "rename_coder") for e in result.reverted
        ) or not segments
        return answer(
            request,
            store,
            coder,
            "↶ {}: {}".format(
                t("undone"),
                undo_description(
                    result,
                    t,
                    code_names(store),
                    turn_places(store, segments),
                    {info.name: info.respondent for info in transcripts(store)},
                ),
            ),
            [int(s) for s in segments],
            reload=reload,
        )


class DoneIn(BaseModel):
    transcript: int
    undo: bool = False
    confirmed: bool = False


@router.post("/api/done")
def mark_done(request: Request, body: DoneIn) -> Any:
    """Mark a transcript done (or not done after all) for me."""
    from qualcode.progress import mark_done as mark
    from qualcode.progress import started
    from qualcode.web.messages import done_message

    t = translate(request)
    coder = require_coder(request)
    with project(request) as store:
        row = store.conn.execute(
            "SELECT t.name, r.label FROM transcripts t JOIN respondents r ON r.id = t.respondent_id"
            " WHERE t.id = ?",
            (body.transcript,),
        ).fetchone()
        if row is None:
            raise InputError(f"no transcript with id {body.transcript} in the project")
        name, label = row
        if not body.undo and not body.confirmed and body.transcript not in started(store, coder):
            # Done with nothing coded and nothing decided is fine (read, nothing to code), but
            # it is also what a slip of the D key does: ask first.
            return JSONResponse({"confirm": t("confirm_done").format(label=label)})
        verb = "not done" if body.undo else "done"
        mark(store, [name], coder, undo=body.undo, command=f"workbench: {verb} {label} ({name})")
        return JSONResponse({"message": done_message(label, body.undo, t), "reload": True})
