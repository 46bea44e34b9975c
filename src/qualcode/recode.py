"""Manual recoding: coder layers (list, default, copy) and adding or removing codes on segments.

Each person codes in their own layer; ``auto`` is the auto-coder's draft. Copying a layer copies
the rows (evidence, negation and memo included) so later changes in the copy never touch the
original. Every change is one command in the audit log, so ``qualcode undo`` can revert it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from qualcode.errors import InputError
from qualcode.memos import add_memo_tx
from qualcode.store import AUTO_CODER, Store, default_coder

_CODER_NAME = re.compile(r"[\w.\-]{1,40}")


# -- coders ----------------------------------------------------------------------------------
def check_coder_name(name: str) -> str:
    """The coder name stripped, or an error if it cannot name a layer."""
    name = name.strip()
    if not _CODER_NAME.fullmatch(name):
        raise InputError(
            f"'{name}' is not a usable coder name: use 1-40 letters, digits, '.', '-' or '_' "
            "(no spaces)"
        )
    return name


def resolve_coder(
    store: Store, explicit: str | None, *, new_coder: bool = False, new_hint: str = ""
) -> str:
    """The acting coder: ``--coder``, else ``QUALCODE_CODER``, else the project default.

    A name with no layer yet that looks like a typo of an existing layer is refused unless
    ``new_coder``; ``new_hint`` is added to that error (how to start a new layer anyway).
    """
    name = explicit or default_coder(store)
    if not name:
        raise InputError(
            "who is coding? give --coder NAME, set QUALCODE_CODER, or set a project default "
            "with 'qualcode coder set NAME'"
        )
    name = check_coder_name(name)
    if not new_coder:
        check_not_a_typo(store, name, new_hint)
    return name


def similar_coders(store: Store, name: str) -> list[str]:
    """Existing layers whose name differs from ``name`` only in case or by one edit."""
    from rapidfuzz.distance import OSA

    wanted = name.casefold()
    return [
        other
        for (other,) in store.conn.execute("SELECT name FROM coders ORDER BY name")
        if other != name and OSA.distance(other.casefold(), wanted) <= 1
    ]


def check_not_a_typo(store: Store, name: str, new_hint: str = "") -> None:
    """Refuse a coder name without a layer that is close to an existing one ('karri', 'Kari').

    Any write in an unknown name starts a new layer, so a typo would silently split a coder's
    work in two.
    """
    if store.coder_id(name) is not None:
        return
    close = similar_coders(store, name)
    if close:
        shown = " or ".join(f"'{c}'" for c in close)
        raise InputError(
            f"unknown coder '{name}'; did you mean {shown}?"
            + (f" ({new_hint})" if new_hint else "")
        )


@dataclass(frozen=True)
class LayerInfo:
    """One coder layer with what it holds."""

    name: str
    kind: str
    codings: int
    segments: int
    manual: int
    draft: int
    memos: int  # memos on segments and codes written by this coder
    is_default: bool
    created_at: str
    coding_memos: int = 0  # codings in the layer that carry a memo


def list_layers(store: Store) -> list[LayerInfo]:
    """Every coder layer with counts of codings, coded segments, manual/draft codings and memos.

    ``memos`` counts the coder's memos on segments and codes, ``coding_memos`` the layer's codings
    that carry a memo of their own.
    """
    default = store.get_setting("default_coder")
    memo_counts = dict(
        store.conn.execute(
            "SELECT coder, COUNT(*) FROM memos WHERE coder IS NOT NULL GROUP BY coder"
        )
    )
    rows = store.conn.execute(
        "SELECT d.name, d.kind, d.created_at, COUNT(c.id), COUNT(DISTINCT c.segment_id),"
        " COALESCE(SUM(c.source = 'manual'), 0), COALESCE(SUM(c.source = 'auto'), 0),"
        " COALESCE(SUM(c.memo IS NOT NULL AND TRIM(c.memo) != ''), 0)"
        " FROM coders d LEFT JOIN codings c ON c.coder_id = d.id"
        " GROUP BY d.id ORDER BY d.kind, d.name"
    )
    return [
        LayerInfo(
            name,
            kind,
            n,
            segs,
            manual,
            draft,
            memo_counts.get(name, 0),
            name == default,
            created,
            coding_memos,
        )
        for name, kind, created, n, segs, manual, draft, coding_memos in rows
    ]


def set_default_coder(store: Store, name: str, command: str = "coder set") -> bool:
    """Make ``name`` the project's default coder (creating the layer); False if it already was."""
    name = check_coder_name(name)
    if name == AUTO_CODER:
        raise InputError("'auto' is the auto-coder's layer; choose a person's name")
    if store.get_setting("default_coder") == name and store.coder_id(name) is not None:
        return False
    with store.write(command, coder=name) as tx:
        store.ensure_coder(tx, name)
        if store.get_setting("default_coder") != name:
            store.set_setting(tx, "default_coder", name)
    return True


def rename_layer(store: Store, old: str, new: str, command: str = "coder rename") -> int:
    """Rename coder layer ``old`` to ``new``; returns how many codings the layer holds.

    The codings, the coder's memos, the project default and the record of transcripts read
    follow the new name. The audit log keeps earlier entries under the old name: it records
    who did what at the time.
    """
    new = check_coder_name(new)
    if AUTO_CODER in (old, new):
        raise InputError("'auto' is the auto-coder's layer and cannot be renamed or replaced")
    if store.coder_id(old) is None:
        names = [r[0] for r in store.conn.execute("SELECT name FROM coders ORDER BY name")]
        close = difflib.get_close_matches(old, names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InputError(f"no coder layer '{old}'{hint}")
    if store.coder_id(new) is not None:
        raise InputError(
            f"coder layer '{new}' exists already; to join the layers use "
            f"'qualcode coder copy {old} {new} --merge'"
        )
    with store.write(command, coder=new) as tx:
        memo_ids = [
            r[0]
            for r in tx.conn.execute("SELECT id FROM memos WHERE coder = ? ORDER BY id", (old,))
        ]
        tx.conn.execute("UPDATE coders SET name = ? WHERE name = ?", (new, old))
        tx.conn.execute("UPDATE memos SET coder = ? WHERE coder = ?", (new, old))
        tx.audit("rename_coder", detail={"old": old, "new": new, "memo_ids": memo_ids})
        if store.get_setting("default_coder") == old:
            store.set_setting(tx, "default_coder", new)
        read = store.get_setting("coded_transcripts") or {}
        if old in read:
            read[new] = read.pop(old)
            store.set_setting(tx, "coded_transcripts", read)
        count = tx.conn.execute(
            "SELECT COUNT(*) FROM codings WHERE coder_id = ?", (store.coder_id(new),)
        ).fetchone()[0]
    return int(count)


@dataclass
class CopyResult:
    """What ``coder copy`` did."""

    source: str
    target: str
    copied: int
    kept: int


def copy_layer(
    store: Store, source: str, target: str, command: str = "coder copy", *, merge: bool = False
) -> CopyResult:
    """Copy every coding of ``source`` into ``target``'s layer, with evidence, negation and memo.

    An existing non-empty target is refused unless ``merge``; then codings it already has are kept
    as they are.
    """
    source, target = check_coder_name(source), check_coder_name(target)
    if store.coder_id(source) is None:
        known = ", ".join(layer.name for layer in list_layers(store)) or "none"
        raise InputError(f"no coder layer '{source}' (layers: {known})")
    if source == target:
        raise InputError("the source and target layer are the same")
    if target == AUTO_CODER:
        raise InputError("'auto' is the auto-coder's layer; copy into a person's layer")
    rows = store.conn.execute(
        "SELECT c.segment_id, k.path, c.source, c.negated, c.evidence, c.memo, c.quote_start,"
        " c.quote_end FROM codings c"
        " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id WHERE d.name = ?"
        " ORDER BY c.segment_id, k.sort_order, k.path, c.quote_start",
        (source,),
    ).fetchall()
    existing = _layer_count(store, target)
    if existing and not merge:
        raise InputError(
            f"coder layer '{target}' already has {existing} codings; use --merge to add the "
            "missing ones, or copy into a new name"
        )
    import json

    from qualcode.progress import marked_done

    copied = 0
    with store.write(command, coder=target) as tx:
        store.ensure_coder(tx, target)
        for segment_id, path, src, negated, evidence, memo, q_start, q_end in rows:
            if store.add_coding(
                tx,
                segment_id,
                path,
                target,
                source=src,
                negated=bool(negated),
                evidence=json.loads(evidence),
                memo=memo,
                quote=None if q_start is None else (q_start, q_end),
            ):
                copied += 1
        # The copy covers what the source has finished: the target takes it on as read.
        for transcript_id in sorted(marked_done(store, source)):
            store.set_done(tx, transcript_id, target)
    return CopyResult(source, target, copied, len(rows) - copied)


def _layer_count(store: Store, coder: str) -> int:
    return int(
        store.conn.execute(
            "SELECT COUNT(*) FROM codings c JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
            (coder,),
        ).fetchone()[0]
    )


# -- code paths ------------------------------------------------------------------------------
def suggest_codes(wanted: str, known: Sequence[str], n: int = 3) -> list[str]:
    """Known code paths closest to ``wanted``: same leaf name first, then by spelling."""
    leaf = wanted.rsplit("/", 1)[-1].casefold()
    same_leaf = [p for p in known if p.rsplit("/", 1)[-1].casefold() == leaf]
    by_path = difflib.get_close_matches(
        wanted.casefold(), [p.casefold() for p in known], n=n, cutoff=0.5
    )
    lower = {p.casefold(): p for p in known}
    leaves = {p.rsplit("/", 1)[-1].casefold(): p for p in known}
    by_leaf = [leaves[m] for m in difflib.get_close_matches(leaf, list(leaves), n=n, cutoff=0.6)]
    result: list[str] = []
    for path in [*same_leaf, *(lower[m] for m in by_path), *by_leaf]:
        if path not in result:
            result.append(path)
    return result[:n]


def unknown_code_hint(wanted: str, known: Sequence[str]) -> str:
    """What to add to "unknown code 'X'": the closest known paths, or that there are no codes."""
    if not known:
        return " (the project has no codes yet: load a codebook with 'qualcode codebook load FILE')"
    close = suggest_codes(wanted, known)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def check_code(store: Store, path: str, *, active_only: bool = True, where: str = "") -> str:
    """The code path normalised, or an error suggesting the closest known paths."""
    clean = path.strip().strip("/")
    known = store.code_paths(active_only=active_only)
    if clean in known:
        return clean
    if not store.code_paths(active_only=False):
        raise InputError(f"{where}the project has no codes yet; load a codebook first")
    close = suggest_codes(clean, known)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    inactive = (
        ""
        if active_only is False or store.code_id(clean) is None
        else (" (it is no longer in the current codebook)")
    )
    raise InputError(f"{where}unknown code '{clean}'{inactive}{hint}")


def existing_segments(store: Store, segment_ids: Iterable[int]) -> set[int]:
    """The ids among ``segment_ids`` that the project holds."""
    ids = sorted(set(segment_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            r[0]
            for r in store.conn.execute(
                f"SELECT id FROM segments WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
        )
    return found


# -- recode ----------------------------------------------------------------------------------
@dataclass
class RecodeResult:
    """What ``recode`` changed and what it found already so."""

    coder: str
    added: list[tuple[int, str]] = field(default_factory=list)
    removed: list[tuple[int, str]] = field(default_factory=list)
    already_coded: list[tuple[int, str]] = field(default_factory=list)
    not_coded: list[tuple[int, str]] = field(default_factory=list)
    memo_ids: list[int] = field(default_factory=list)
    #: Segments among those given codes that are interviewer turns: reports leave them out.
    interviewer_turns: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(self.added or self.removed or self.memo_ids)


def recode(
    store: Store,
    segment_ids: Sequence[int],
    coder: str,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    memo: str | None = None,
    command: str = "recode",
    quote: tuple[int, int] | None = None,
) -> RecodeResult:
    """Add and remove codes on segments in ``coder``'s layer, as one command.

    Codes to add must be active in the codebook; codes to remove may be retired ones. A coding
    that is already there (add) or not there (remove) is reported in the result, not written.
    ``memo`` is stored as a memo on each segment. ``quote`` (one segment only) makes the added
    codings passages: ``(start, end)`` in the segment's text; it merges with overlapping
    passages of the same code. Removing a code takes off its whole-turn coding and passages.
    """
    coder = check_coder_name(coder)
    if coder == AUTO_CODER:
        raise InputError(
            "'auto' is the auto-coder's layer; recode in a person's layer (--coder NAME)"
        )
    if not segment_ids:
        raise InputError("give at least one segment id")
    if not add and not remove and not memo:
        raise InputError("nothing to do: give --add CODE, --remove CODE or --memo TEXT")
    missing = sorted(set(segment_ids) - existing_segments(store, segment_ids))
    if missing:
        raise InputError(
            f"no segment with id {', '.join(map(str, missing))} in the project "
            "(see 'qualcode segments')"
        )
    to_add = [check_code(store, c) for c in add]
    to_remove = [check_code(store, c, active_only=False) for c in remove]
    both = sorted(set(to_add) & set(to_remove))
    if both:
        raise InputError(f"code {', '.join(both)} is both added and removed")
    if memo is not None and not memo.strip():
        raise InputError("the memo is empty")
    ordered = list(dict.fromkeys(segment_ids))
    if quote is not None:
        quote = _checked_passage(store, ordered, quote, bool(to_add))

    result = RecodeResult(coder)
    have = _layer_pairs(store, coder, ordered)
    covered = _covered(store, coder, ordered[0], quote) if quote is not None else set()
    for seg in ordered:
        for code in dict.fromkeys(to_add):
            done = (seg, code) in covered if quote is not None else (seg, code) in have
            (result.already_coded if done else result.added).append((seg, code))
        for code in dict.fromkeys(to_remove):
            (result.removed if (seg, code) in have else result.not_coded).append((seg, code))
    result.interviewer_turns = _interviewer_turns(store, {seg for seg, _ in result.added})
    if not result.added and not result.removed and memo is None:
        return result
    with store.write(command, coder=coder) as tx:
        store.ensure_coder(tx, coder)
        for seg, code in result.added:
            store.add_coding(tx, seg, code, coder, source="manual", quote=quote)
        for seg, code in result.removed:
            store.remove_coding(tx, seg, code, coder)
        if memo is not None:
            for seg in ordered:
                result.memo_ids.append(add_memo_tx(store, tx, memo, coder, segment_id=seg))
    return result


def _checked_passage(
    store: Store, segment_ids: list[int], quote: tuple[int, int], adding: bool
) -> tuple[int, int]:
    from qualcode.passages import check_span

    if len(segment_ids) != 1:
        raise InputError("a passage (--quote or --span) names a place in one segment: give one id")
    if not adding:
        raise InputError("a passage (--quote or --span) goes with --add CODE")
    text = store.conn.execute(
        "SELECT text FROM segments WHERE id = ?", (segment_ids[0],)
    ).fetchone()[0]
    return check_span(text, quote, segment_ids[0])


def _covered(
    store: Store, coder: str, segment_id: int, quote: tuple[int, int]
) -> set[tuple[int, str]]:
    """(segment, code) pairs whose coding in the layer already covers the passage."""
    start, end = quote
    return {
        (segment_id, path)
        for path, q_start, q_end in store.conn.execute(
            "SELECT k.path, c.quote_start, c.quote_end FROM codings c JOIN codes k"
            " ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
            " WHERE d.name = ? AND c.segment_id = ?",
            (coder, segment_id),
        )
        if q_start is None or (q_start <= start and end <= q_end)
    }


def segment_text(store: Store, segment_id: int) -> str:
    """The text of one segment; an error naming the id if there is none."""
    row = store.conn.execute("SELECT text FROM segments WHERE id = ?", (segment_id,)).fetchone()
    if row is None:
        raise InputError(f"no segment with id {segment_id} in the project (see 'qualcode segments')")
    return str(row[0])


def _interviewer_turns(store: Store, segment_ids: set[int]) -> list[int]:
    ids = sorted(segment_ids)
    found: list[int] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found += [
            r[0]
            for r in store.conn.execute(
                f"SELECT id FROM segments WHERE role = 'interviewer'"
                f" AND id IN ({','.join('?' * len(chunk))}) ORDER BY id",
                chunk,
            )
        ]
    return found


def _layer_pairs(
    store: Store, coder: str, segment_ids: Sequence[int] | None = None
) -> set[tuple[int, str]]:
    """The ``(segment_id, code_path)`` pairs in ``coder``'s layer."""
    rows = store.conn.execute(
        "SELECT c.segment_id, k.path FROM codings c JOIN codes k ON k.id = c.code_id"
        " JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
        (coder,),
    )
    wanted = None if segment_ids is None else set(segment_ids)
    return {(s, p) for s, p in rows if wanted is None or s in wanted}


def layer_pairs(store: Store, coder: str) -> set[tuple[int, str]]:
    """Every ``(segment_id, code_path)`` in ``coder``'s layer."""
    return _layer_pairs(store, coder)
