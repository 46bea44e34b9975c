"""The workbench's messages in the reader's language, made from what the library returns.

The library's own texts are English and name codes by path, as the CLI does; the workbench says
the same in bokmål or English with the codes' names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qualcode.audit import UndoResult
from qualcode.progress import DONE, NOT_STARTED, LeftOut

Translate = Callable[[str], str]


def quoted_list(items: Sequence[str], t: Translate) -> str:
    """``«a»``, ``«a» eller «b»`` (``'a' or 'b'`` in English)."""
    marks = ("«", "»") if t("or") == "eller" else ("'", "'")
    shown = [f"{marks[0]}{item}{marks[1]}" for item in items]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + f" {t('or')} " + shown[-1]


def undo_description(
    result: UndoResult,
    t: Translate,
    names: dict[str, str],
    places: dict[int, str],
    labels: dict[str, str] | None = None,
) -> str:
    """What an undo took back, in words: ``+ Erfaring på R1 #4`` rather than the command line.

    ``names`` are code names by path, ``places`` turn places by segment id, ``labels`` the
    respondents' labels by transcript name (``R2`` for ``R2_fjordal.vtt``). A command the
    workbench has no words for is shown as it was typed.
    """
    entries = result.reverted
    parts: list[str] = []
    decided = {e.segment_id: e for e in entries if e.action == "review"}

    def named(paths: list[str]) -> str:
        return ", ".join(dict.fromkeys(names.get(p, p) for p in paths))

    added = [e for e in entries if e.action == "add_coding" and e.segment_id not in decided]
    removed = [e for e in entries if e.action == "remove_coding"]
    accepted = [e for e in decided.values() if e.detail.get("decision") == "accept"]
    rejected = [e for e in decided.values() if e.detail.get("decision") == "reject"]
    for group, key in ((added, "u_add"), (removed, "u_remove"), (accepted, "u_accept"), (rejected, "u_reject")):
        if group:
            parts.append(t(key).format(names=named([e.code_path or "" for e in group])))
    if any(e.action in ("add_memo", "remove_memo", "set_coding_memo") for e in entries):
        parts.append(t("u_memo"))
    for e in entries:
        if e.action == "add_code":
            parts.append(t("u_new_code").format(name=e.detail.get("name") or e.code_path))
        elif e.action == "set_done":
            key = "u_done" if e.detail.get("new") else "u_not_done"
            transcript = str(e.detail.get("transcript", ""))
            parts.append(t(key).format(label=(labels or {}).get(transcript, transcript)))
    # A first coding also creates the coder's layer: nothing a reader needs told.
    known = {"add_coding", "remove_coding", "review", "add_memo", "remove_memo", "set_coding_memo",
             "add_code", "set_done", "create_coder"}
    if not parts or any(e.action not in known for e in entries):
        return f"«{result.command}»"
    segments = sorted(
        {e.segment_id for e in entries if e.segment_id is not None and e.action != "add_code"}
    )
    text = "; ".join(parts)
    if len(segments) == 1 and segments[0] in places:
        text += f" {t('u_on')} {places[segments[0]]}"
    elif len(segments) > 1:
        text += f" ({t('u_turns').format(n=len(segments))})"
    return text


def left_out_lines(left_out: list[LeftOut], t: Translate) -> tuple[list[str], list[str]]:
    """Why each transcript is left out of a comparison, one line each, and the transcripts
    neither coder has started (listed together: early in a project they are most of them)."""
    lines: list[str] = []
    untouched: list[str] = []
    for item in left_out:
        if all(status == NOT_STARTED for _, status in item.statuses):
            untouched.append(item.transcript)
            continue
        done = item.coders_with(DONE)
        lead = (
            t("left_out_done_only").format(done=", ".join(done))
            if done
            else t("left_out_none_done")
        )
        others = ", ".join(
            f"{coder}: {t(status)}" for coder, status in item.statuses if status != DONE
        )
        lines.append(f"{item.transcript}: {lead} ({others})")
    return lines, untouched


def done_message(label: str, undo: bool, t: Translate) -> str:
    """The toast after marking a transcript done, or not done after all."""
    return t("not_done_toast" if undo else "done_toast").format(label=label)


def coder_refused(name: str, close: list[str], t: Translate) -> str:
    """Why a name close to an existing layer's was refused, and what to do."""
    return t("coder_near").format(close=quoted_list(close, t), name=name)

