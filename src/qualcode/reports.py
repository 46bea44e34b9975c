"""Report tables as pandas DataFrames: frequencies, co-occurrence, quotes and a respondent summary.

Every function reads one coder layer (``coder``; default: the project's default coder if set, else
``auto``) and takes the same filters: ``codes`` (paths; a parent includes its whole subtree),
``respondents`` (labels) and ``exclude_negated`` (drop codings whose every match was negated).

What counts
-----------
- Only the respondents' own words count. Codings on **interviewer** turns are never counted or
  quoted: the interviewer's questions use the codes' own words, so counting them inflates every
  figure. A coding on a turn of role ``other`` (a third speaker) counts only when a person coded it
  (``source = 'manual'``): that is an explicit choice by the coder, while the auto-coder's hits there
  are not. The number of codings left out this way is in ``frame.attrs["left_out"]``.
- A **segment** is one speaker turn. Subcodes roll up into their parents and a segment counts once
  per code: a turn coded ``tillit/åpenhet`` and ``tillit/erfaring`` counts once for ``tillit``.
- **Percent** figures are shares of the respondent's counted turns.

The functions return raw data, as stored; pseudonyms are applied when tables are exported (see
:mod:`qualcode.pseudonyms`), or to quotes when ``pseudonyms`` is passed to :func:`quotes`.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from qualcode.corpus import natural_key
from qualcode.errors import InputError
from qualcode.store import AUTO_CODER, Store, default_coder
from qualcode.text import sentence_spans

if TYPE_CHECKING:
    import pandas as pd

    from qualcode.pseudonyms import Pseudonyms
    from qualcode.report_sections import ReportSection

#: Row and column labels the report frames use (the writers translate them).
TOTAL = "total"
RESPONDENTS = "respondents"
#: Suffix of a ``by=`` column holding the share (%) of the group's respondents mentioning a code.
SHARE_SUFFIX = " % resp."
MISSING_GROUP = "(none)"
ELLIPSIS = "…"

#: A quote without evidence (a manual coding) shows its first sentences up to about this length.
MANUAL_QUOTE_CHARS = 300
#: A quote trimmed to its evidence sentences is shortened further inside a sentence beyond this.
MAX_QUOTE_CHARS = 450
#: Characters of context kept either side of the evidence when a long sentence is shortened.
CONTEXT_CHARS = 140


# -- codes, respondents and the selection -----------------------------------------------------
@dataclass(frozen=True)
class CodeInfo:
    """A code of the project in codebook (tree) order."""

    path: str
    name: str
    description: str
    depth: int  # 1 for a top-level code
    active: bool


def code_tree(store: Store, *, include_inactive: bool = False) -> list[CodeInfo]:
    """The project's codes, parents before their children, siblings in codebook order."""
    rows = store.conn.execute(
        "SELECT id, parent_id, path, name, description, sort_order, active FROM codes"
    ).fetchall()
    children: dict[int | None, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        children[row[1]].append(row)
    result: list[CodeInfo] = []

    def visit(parent: int | None, depth: int) -> None:
        for row in sorted(children.get(parent, []), key=lambda r: (r[5], r[2])):
            if row[6] or include_inactive:
                result.append(CodeInfo(row[2], row[3], row[4] or "", depth, bool(row[6])))
            visit(row[0], depth + 1)

    visit(None, 1)
    return result


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass
class Selection:
    """The resolved filters of a report: coder layer, code rows, respondent columns."""

    coder: str
    codes: list[CodeInfo]
    respondents: list[str]
    exclude_negated: bool = False
    notes: list[str] = field(default_factory=list)
    #: Transcripts the layer has coded (None: all of them, as for the auto-coder).
    transcripts: set[int] | None = None
    #: Respondents left out because the layer has not coded any of their transcripts.
    uncoded: list[str] = field(default_factory=list)
    #: Transcripts the coder has started but not marked done, named by respondent (R7.docx):
    #: left out unless asked for.
    in_progress: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> tuple[int, int] | None:
        """(coded, asked for) respondents when the layer has not coded them all, else None."""
        if not self.uncoded:
            return None
        return len(self.respondents), len(self.respondents) + len(self.uncoded)

    def frame_attrs(self, left_out: int) -> dict[str, object]:
        """What every report frame carries about its selection (in ``DataFrame.attrs``)."""
        return {
            "coder": self.coder,
            "coverage": self.coverage,
            "uncoded": self.uncoded,
            "left_out": left_out,
            "notes": list(self.notes),
            "in_progress": list(self.in_progress),
        }

    @property
    def paths(self) -> list[str]:
        """The code paths shown, in tree order."""
        return [c.path for c in self.codes]


def resolve_coder(store: Store, coder: str | None) -> tuple[str, bool]:
    """The coder layer to report and whether it was asked for explicitly."""
    if coder:
        return coder, True
    return default_coder(store) or AUTO_CODER, False


def select(
    store: Store,
    *,
    coder: str | None = None,
    codes: Sequence[str] | None = None,
    respondents: Sequence[str] | None = None,
    exclude_negated: bool = False,
    include_in_progress: bool = False,
) -> Selection:
    """Check and resolve the common report filters; unknown names are an :class:`InputError`.

    A person's layer counts only the transcripts they have marked done (with
    ``include_in_progress`` also those they have started); the others are named in a note.
    Within one report (:func:`_queries_once`) the same filters are resolved once; each caller
    gets its own copy of the lists (freq adds notes).
    """
    key = None
    if _FETCHED is not None:
        key = ("select", id(store), coder, None if codes is None else tuple(codes),
               None if respondents is None else tuple(respondents), exclude_negated,
               include_in_progress)
        found = _FETCHED.get(key)
        if found is None:
            found = _FETCHED[key] = _select(
                store, coder=coder, codes=codes, respondents=respondents,
                exclude_negated=exclude_negated, include_in_progress=include_in_progress,
            )
        return replace(
            found,
            codes=list(found.codes),
            respondents=list(found.respondents),
            notes=list(found.notes),
            transcripts=None if found.transcripts is None else set(found.transcripts),
            uncoded=list(found.uncoded),
        )
    return _select(
        store, coder=coder, codes=codes, respondents=respondents,
        exclude_negated=exclude_negated, include_in_progress=include_in_progress,
    )


def _select(
    store: Store,
    *,
    coder: str | None,
    codes: Sequence[str] | None,
    respondents: Sequence[str] | None,
    exclude_negated: bool,
    include_in_progress: bool,
) -> Selection:
    import difflib

    name, explicit = resolve_coder(store, coder)
    notes: list[str] = []
    if store.coder_id(name) is None:
        layers = [r[0] for r in store.conn.execute("SELECT name FROM coders ORDER BY name")]
        if explicit:
            raise InputError(
                f"no coder layer '{name}' in the project (layers: {', '.join(layers) or 'none'})"
            )
        notes.append(f"coder layer '{name}' has no codings yet")
    used = {
        r[0]
        for r in store.conn.execute(
            "SELECT DISTINCT k.path FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
            (name,),
        )
    }
    tree = [
        c
        for c in code_tree(store, include_inactive=True)
        if c.active or c.path in used or any(u.startswith(c.path + "/") for u in used)
    ]
    if codes:
        known = {c.path for c in tree}
        roots = []
        for raw in codes:
            path = "/".join(part.strip() for part in raw.strip().strip("/").split("/"))
            if path not in known:
                from qualcode.recode import unknown_code_hint

                raise InputError(f"unknown code '{raw}'{unknown_code_hint(path, sorted(known))}")
            roots.append(path)
        tree = [c for c in tree if any(c.path == r or c.path.startswith(r + "/") for r in roots)]
    if respondents:
        labels = []
        for label in respondents:
            if store.respondent_id(label) is None:
                every = [r[0] for r in store.conn.execute("SELECT label FROM respondents")]
                close = difflib.get_close_matches(label, every, n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise InputError(f"no respondent '{label}' in the project{hint}")
            if label not in labels:
                labels.append(label)
    else:
        labels = sorted(
            (
                r[0]
                for r in store.conn.execute(
                    "SELECT label FROM respondents r WHERE EXISTS (SELECT 1 FROM segments s"
                    " WHERE s.respondent_id = r.id AND s.role = 'respondent')"
                )
            ),
            key=natural_key,
        )
    seen, uncoded = _coded_by_layer(store, name, labels, include_in_progress)
    in_progress: list[str] = []
    if not include_in_progress:
        from qualcode.progress import in_progress_transcripts
        from qualcode.pseudonyms import transcript_aliases

        # Named by respondent: the writers put this in files, and file names carry firm names.
        aliases = transcript_aliases(store)
        in_progress = [aliases.get(t, t) for t in in_progress_transcripts(store, name)]
    # Which respondents are left out is said by the writers, in the report's language.
    labels = [label for label in labels if label not in uncoded]
    return Selection(name, tree, labels, exclude_negated, notes, seen, uncoded, in_progress)


def _coded_by_layer(
    store: Store, coder: str, labels: list[str], include_in_progress: bool = False
) -> tuple[set[int] | None, list[str]]:
    """The transcripts ``coder`` has coded (None: all) and the respondents of ``labels`` with none.

    A human coder who has not yet coded a transcript has not judged it: their silence there is
    missing data, not "not mentioned", so those respondents drop out of every denominator. What
    counts as coded is the agreement module's rule, so reports and agreement never disagree.
    """
    from qualcode.progress import done_transcripts

    if store.coder_id(coder) is None:
        return None, []
    seen = done_transcripts(store, coder, include_in_progress=include_in_progress)
    every = {r[0] for r in store.conn.execute("SELECT id FROM transcripts")}
    if every <= seen:
        return None, []
    coded = {
        label
        for label, transcript in store.conn.execute(
            "SELECT DISTINCT r.label, s.transcript_id FROM segments s"
            " JOIN respondents r ON r.id = s.respondent_id WHERE s.role = 'respondent'"
        )
        if transcript in seen
    }
    return seen, [label for label in labels if label not in coded]


@dataclass(slots=True)
class _Coding:
    segment_id: int
    respondent: str
    path: str
    negated: bool
    source: str
    coding_id: int
    transcript_id: int
    position: int
    quote_start: int | None = None  # a passage: offsets into the turn's text
    quote_end: int | None = None


#: The rows of queries already run, while one report of many tables is built (see
#: :func:`_queries_once`); None outside such a report.
_FETCHED: dict[tuple[Any, ...], Any] | None = None


@contextmanager
def _queries_once() -> Iterator[None]:
    """Within a report of many tables (``report all``), run each codings and turns query once.

    The tables ask the store for the same layer's codings again and again (four times and more);
    at a thousand interviews that was a fifth of the report's time.
    """
    global _FETCHED
    outer = _FETCHED
    if outer is None:
        _FETCHED = {}
    try:
        yield
    finally:
        _FETCHED = outer


def _forget(kind: str) -> None:
    """Drop what :func:`_queries_once` keeps of one kind (``"freq"``) once no table needs it."""
    if _FETCHED is not None:
        for key in [k for k in _FETCHED if k[0] == kind]:
            del _FETCHED[key]


def _rows(store: Store, sql: str, params: tuple[Any, ...] = ()) -> Iterable[tuple[Any, ...]]:
    """The rows of a read query; fetched once per report inside :func:`_queries_once`."""
    if _FETCHED is None:
        return store.conn.execute(sql, params)
    key = (id(store), sql, params)
    found = _FETCHED.get(key)
    if found is None:
        # Labels, paths and roles repeat on every row: one string each, not one per row (a
        # project of thousands of interviews has hundreds of thousands of codings).
        intern = sys.intern
        found = _FETCHED[key] = [
            tuple(intern(v) if v.__class__ is str and len(v) < 200 else v for v in row)
            for row in store.conn.execute(sql, params)
        ]
    return found


def _codings(store: Store, sel: Selection) -> tuple[list[_Coding], int]:
    """The selection's countable codings and how many were left out for their turn's role.

    Within one report (:func:`_queries_once`) every table shares one list: read it, never change
    it. The evidence is not read here (see :func:`_evidence_of`).
    """
    key = None
    if _FETCHED is not None:
        transcripts = None if sel.transcripts is None else frozenset(sel.transcripts)
        key = ("codings", id(store), sel.coder, tuple(sel.paths), tuple(sel.respondents),
               transcripts, sel.exclude_negated)
        found = _FETCHED.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
    wanted = set(sel.paths)
    people = set(sel.respondents)
    sql = (
        "SELECT c.segment_id, r.label, k.path, c.negated, c.source, c.id, s.role,"
        " s.transcript_id, s.position, c.quote_start, c.quote_end"
        f" FROM codings c{' NOT INDEXED' if _most_codings(store, sel.coder) else ''}"
        " JOIN coders d ON d.id = c.coder_id JOIN codes k ON k.id = c.code_id"
        " JOIN segments s ON s.id = c.segment_id JOIN respondents r ON r.id = s.respondent_id"
        " WHERE d.name = ?"
    )
    # The tables share the list made here (see _queries_once), so the rows themselves are read
    # once and never kept.
    rows = store.conn.execute(sql, (sel.coder,))
    result, left_out = [], 0
    for seg, label, path, negated, source, coding_id, role, transcript_id, position, qs, qe in rows:
        if path not in wanted or label not in people:
            continue
        if sel.transcripts is not None and transcript_id not in sel.transcripts:
            continue  # a transcript the coder has not finished
        if sel.exclude_negated and negated:
            continue
        if role == "interviewer" or (role == "other" and source != "manual"):
            left_out += 1
            continue
        result.append(
            _Coding(
                seg,
                sys.intern(label),
                sys.intern(path),
                bool(negated),
                sys.intern(source),
                coding_id,
                transcript_id,
                position,
                qs,
                qe,
            )
        )
    if key is not None:
        _FETCHED[key] = (result, left_out)
    return result, left_out


def _most_codings(store: Store, coder: str) -> bool:
    """Whether layer ``coder`` holds at least half of the project's codings: then its codings are
    read in the table's order (a scan, twice as quick), not code by code through the index, which
    jumps all over the codings and their turns. The tables never depend on the order read: the
    quotes are sorted, with codings of one code in one turn in the order of their ids either way.
    """
    mine = store.conn.execute(
        "SELECT COUNT(*) FROM codings c JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
        (coder,),
    ).fetchone()[0]
    every = store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
    return bool(mine) and 2 * mine >= every


def _turns(
    store: Store, labels: Iterable[str], transcripts: set[int] | None = None
) -> dict[str, int]:
    """Counted turns per respondent: their own turns (the denominator of percentages), only in
    ``transcripts`` when given (those the layer has coded)."""
    counts = dict.fromkeys(labels, 0)
    for label, transcript, n in _rows(
        store,
        "SELECT r.label, s.transcript_id, COUNT(*) FROM segments s"
        " JOIN respondents r ON r.id = s.respondent_id"
        " WHERE s.role = 'respondent' GROUP BY r.label, s.transcript_id",
    ):
        if label in counts and (transcripts is None or transcript in transcripts):
            counts[label] += n
    return counts


def _rolled(codings: Iterable[_Coding], paths: set[str]) -> set[tuple[str, str, int]]:
    """(code, respondent, segment) with every coding also counted for its shown ancestors."""
    out = set()
    # A few dozen codes among hundreds of thousands of codings: each code's shown line once.
    shown_line: dict[str, list[str]] = {}
    for c in codings:
        line = shown_line.get(c.path)
        if line is None:
            line = shown_line[c.path] = [a for a in _ancestors(c.path) if a in paths]
        for ancestor in line:
            out.add((ancestor, c.respondent, c.segment_id))
    return out


def _attributes(store: Store) -> dict[str, dict[str, str]]:
    attrs: dict[str, dict[str, str]] = defaultdict(dict)
    for label, name, value in store.conn.execute(
        "SELECT r.label, a.name, a.value FROM respondent_attributes a"
        " JOIN respondents r ON r.id = a.respondent_id"
    ):
        attrs[label][name] = value
    return attrs


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else float("nan")


# -- frequencies --------------------------------------------------------------------------------
@dataclass(slots=True)
class _FreqCounts:
    """What a frequency table counts, before it is shown as counts or as shares."""

    groups: dict[str, list[str]]
    ranges: list[str]
    left_out: int
    seg_count: Counter[tuple[str, str]]
    mentions: dict[tuple[str, str], set[str]]
    total_rows: Counter[str]
    total_people: dict[str, set[str]]
    any_code: set[tuple[str, int]]
    group_turns: dict[str, int]
    all_turns: int


def _freq_counts(store: Store, sel: Selection, by: str | None) -> _FreqCounts:
    """The counts behind :func:`freq`; within one report (:func:`_queries_once`) counted once per
    selection and grouping, for the table of counts and the table of shares alike. Read them,
    never change them."""
    key = None
    if _FETCHED is not None:
        transcripts = None if sel.transcripts is None else frozenset(sel.transcripts)
        key = ("freq", id(store), sel.coder, tuple(sel.paths), tuple(sel.respondents),
               transcripts, sel.exclude_negated, by)
        found = _FETCHED.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
    codings, left_out = _codings(store, sel)
    rolled = _rolled(codings, set(sel.paths))
    turns = _turns(store, sel.respondents, sel.transcripts)
    any_code = {(c.respondent, c.segment_id) for c in codings}

    ranges: list[str] = []
    if by is None:
        groups = {label: [label] for label in sel.respondents}
    else:
        # The group size goes into the column name, so every cell keeps one meaning.
        by_value, ranges = _groups(store, sel.respondents, by)
        groups = {f"{g} (n={len(m)})": m for g, m in by_value.items()}

    group_of = {label: g for g, members in groups.items() for label in members}
    seg_count: Counter[tuple[str, str]] = Counter()
    mentions: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path, label, _seg in rolled:
        seg_count[(path, group_of[label])] += 1
        mentions[(path, group_of[label])].add(label)
    total_rows = Counter(group_of[label] for label, _ in any_code)
    total_people: dict[str, set[str]] = {g: set() for g in groups}
    for label, _ in any_code:
        total_people[group_of[label]].add(label)
    group_turns = {g: sum(turns[m] for m in members) for g, members in groups.items()}
    counted = _FreqCounts(
        groups, ranges, left_out, seg_count, mentions, total_rows, total_people, any_code,
        group_turns, sum(turns.values()),
    )
    if key is not None:
        _FETCHED[key] = counted
    return counted


def freq(
    store: Store,
    *,
    coder: str | None = None,
    codes: Sequence[str] | None = None,
    respondents: Sequence[str] | None = None,
    exclude_negated: bool = False,
    include_in_progress: bool = False,
    by: str | None = None,
    percent: bool = False,
) -> pd.DataFrame:
    """Coded segments per code (rows, tree order) and respondent (columns).

    Columns: one per respondent, ``total`` and ``respondents`` (how many respondents mention the
    code). The last row, ``total``, counts distinct coded segments (a turn with several codes once).
    ``by=ATTRIBUTE`` gives one column pair per attribute value ``g`` with ``k`` respondents:
    ``g (n=k)`` (coded segments) and ``g (n=k) % resp.`` (share of the group's respondents who
    mention the code); respondents without the attribute form the group ``(none)``. ``percent=True`` turns segment counts into shares of the turns (%).
    """
    import pandas as pd

    sel = select(
        store,
        coder=coder,
        codes=codes,
        respondents=respondents,
        exclude_negated=exclude_negated,
        include_in_progress=include_in_progress,
    )
    paths = sel.paths
    counted = _freq_counts(store, sel, by)
    groups, ranges, left_out = counted.groups, counted.ranges, counted.left_out
    seg_count, mentions = counted.seg_count, counted.mentions
    total_rows, total_people, any_code = counted.total_rows, counted.total_people, counted.any_code
    group_turns, all_turns = counted.group_turns, counted.all_turns
    if ranges:
        sel.notes.append(
            f"{by} is grouped by value into {len(ranges)} ranges of about equal size:"
            f" {', '.join(ranges)}"
        )

    def cell(count: int, g: str) -> Any:
        return _pct(count, group_turns[g]) if percent else count

    records: dict[str, dict[str, Any]] = {}
    for path in paths:
        row: dict[str, Any] = {}
        total = 0
        people: set[str] = set()
        for g in groups:
            n = seg_count.get((path, g), 0)
            total += n
            people |= mentions.get((path, g), set())
            row[g] = cell(n, g)
            if by is not None:
                row[f"{g}{SHARE_SUFFIX}"] = _pct(len(mentions.get((path, g), ())), len(groups[g]))
        row[TOTAL] = _pct(total, all_turns) if percent else total
        row[RESPONDENTS] = len(people)
        records[path] = row
    total_row: dict[str, Any] = {}
    for g in groups:
        total_row[g] = cell(total_rows.get(g, 0), g)
        if by is not None:
            total_row[f"{g}{SHARE_SUFFIX}"] = _pct(len(total_people[g]), len(groups[g]))
    total_row[TOTAL] = _pct(len(any_code), all_turns) if percent else len(any_code)
    total_row[RESPONDENTS] = len({label for label, _ in any_code})
    records[TOTAL] = total_row
    frame = pd.DataFrame.from_dict(records, orient="index")
    if frame.empty:
        frame = pd.DataFrame(columns=[*groups, TOTAL, RESPONDENTS])
    # Counts come out as int64 and shares as float64 (NaN where a respondent has no turns).
    frame.index.name = "code"
    # attrs stay small: pandas deep-copies them on every operation on the frame.
    frame.attrs.update(
        sel.frame_attrs(left_out),
        percent=percent,
        by=by,
        ranges=list(ranges),
    )
    return frame


#: A numeric attribute with more different values than this is grouped into ranges.
MAX_NUMERIC_VALUES = 5
#: How many ranges: thirds keep a group of a small sample (8 to 20 interviews) at 3 or more.
NUMERIC_RANGES = 3


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def value_ranges(values: dict[str, str], parts: int = NUMERIC_RANGES) -> dict[str, str] | None:
    """Each respondent's range label (``12–45``) when every value is a number and there are more
    than :data:`MAX_NUMERIC_VALUES` of them, else None.

    The respondents are split by value into ``parts`` groups of about equal size (quantiles); equal
    values stay in one group, and a range is labelled by the lowest and highest value in it, so
    it claims nothing about values nobody has.
    """
    numbers = {label: _number(v) for label, v in values.items() if v}
    if not numbers or any(n is None for n in numbers.values()):
        return None
    if len(set(numbers.values())) <= MAX_NUMERIC_VALUES:
        return None
    ordered = sorted(numbers, key=lambda label: (numbers[label], natural_key(label)))
    cuts = []
    for k in range(1, parts):
        cut = round(k * len(ordered) / parts)
        while 0 < cut < len(ordered) and numbers[ordered[cut]] == numbers[ordered[cut - 1]]:
            cut += 1  # never split equal values over two ranges
        if cut < len(ordered) and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    result: dict[str, str] = {}
    for start, end in zip([0, *cuts], [*cuts, len(ordered)], strict=True):
        members = ordered[start:end]
        low, high = values[members[0]].strip(), values[members[-1]].strip()
        name = low if low == high else f"{low}–{high}"
        result.update(dict.fromkeys(members, name))
    return result


def _groups(
    store: Store, labels: list[str], attribute: str
) -> tuple[dict[str, list[str]], list[str]]:
    """The respondent groups by ``attribute`` and, for a numeric attribute grouped into ranges,
    the ranges in order (else an empty list)."""
    name = attribute.strip().casefold()
    attrs = _attributes(store)
    known = sorted({n for a in attrs.values() for n in a})
    if name not in known:
        raise InputError(
            f"no respondent attribute '{attribute}' (attributes: {', '.join(known) or 'none'})"
        )
    # Ranges come from every respondent of the project, so they stay the same whatever the layer
    # or the filters leave out.
    every = {label: a[name] for label, a in attrs.items() if a.get(name)}
    ranges = value_ranges(every)
    group_of = ranges if ranges is not None else every
    groups: dict[str, list[str]] = defaultdict(list)
    for label in labels:
        groups[group_of.get(label) or MISSING_GROUP].append(label)
    # value_ranges lists the respondents from the lowest value up, so its ranges are in order.
    in_order = list(dict.fromkeys(ranges.values())) if ranges is not None else []
    if ranges is not None:
        order = [g for g in in_order if g in groups]
    else:
        order = sorted((g for g in groups if g != MISSING_GROUP), key=natural_key)
    if MISSING_GROUP in groups:
        order.append(MISSING_GROUP)
    return {g: groups[g] for g in order}, in_order


# -- co-occurrence ------------------------------------------------------------------------------
def cooc(
    store: Store,
    *,
    coder: str | None = None,
    codes: Sequence[str] | None = None,
    respondents: Sequence[str] | None = None,
    exclude_negated: bool = False,
    include_in_progress: bool = False,
    within: str = "segment",
    level: int = 1,
) -> pd.DataFrame:
    """A square code × code matrix: segments (``within="segment"``) or respondents
    (``within="respondent"``) that have both codes; the diagonal holds each code's own count.

    The axes are the selected codes at depth ``level`` (1 = top-level codes), each with its subtree
    rolled up; a selected code deeper than ``level`` is an axis itself.
    """
    import pandas as pd

    if within not in ("segment", "respondent"):
        raise InputError(f"within must be 'segment' or 'respondent', not '{within}'")
    if level < 1:
        raise InputError(f"level must be 1 or more, not {level}")
    sel = select(
        store,
        coder=coder,
        codes=codes,
        respondents=respondents,
        exclude_negated=exclude_negated,
        include_in_progress=include_in_progress,
    )
    deepest = max((c.depth for c in sel.codes), default=1)
    if level > deepest:
        levels = "1" if deepest == 1 else f"1 to {deepest}"
        raise InputError(
            f"level {level} is deeper than the codes shown ({deepest} level(s)): use {levels}"
        )
    codings, left_out = _codings(store, sel)
    shown = set(sel.paths)
    # An axis is a shown code at depth `level`, or a shown code whose parent is not shown.
    axes = [
        c.path
        for c in sel.codes
        if c.depth == level
        or (c.depth > level and "/".join(c.path.split("/")[:-1]) not in shown)
        or (c.depth < level and not any(o.path.startswith(c.path + "/") for o in sel.codes))
    ]
    axes = [a for a in axes if not any(a.startswith(b + "/") for b in axes if b != a)]
    axis_set = set(axes)
    units: dict[Any, set[str]] = defaultdict(set)
    on_axes: dict[str, list[str]] = {}
    for c in codings:
        unit = c.segment_id if within == "segment" else c.respondent
        line = on_axes.get(c.path)
        if line is None:
            line = on_axes[c.path] = [a for a in _ancestors(c.path) if a in axis_set]
        for ancestor in line:
            units[unit].add(ancestor)
    matrix = {a: dict.fromkeys(axes, 0) for a in axes}
    for found in units.values():
        for a in found:
            for b in found:
                matrix[a][b] += 1
    frame = pd.DataFrame.from_dict(matrix, orient="index", columns=axes).reindex(axes)
    frame = frame.astype("int64") if not frame.empty else frame
    frame.index.name = "code"
    frame.attrs.update(
        sel.frame_attrs(left_out),
        within=within,
    )
    return frame


# -- quotes -------------------------------------------------------------------------------------
def _outward_to_space(
    text: str, start: int, end: int, protect: Sequence[tuple[int, int]]
) -> tuple[int, int]:
    """Widen ``[start, end)`` to white space (never cutting a word) and out of protected spans."""
    changed = True
    while changed:
        changed = False
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        for a, b in protect:
            if a < start < b:
                start, changed = a, True
            if a < end < b:
                end, changed = b, True
    return start, end


def _clean(piece: str) -> str:
    return " ".join(piece.split())


def trim_quote(
    text: str,
    evidence: Sequence[tuple[int, int]] = (),
    *,
    max_chars: int = MAX_QUOTE_CHARS,
    manual_chars: int = MANUAL_QUOTE_CHARS,
    protect: Sequence[tuple[int, int]] = (),
    sentences: list[tuple[int, int]] | None = None,
) -> str:
    """The part of a turn worth quoting, with ``…`` where text is left out.

    With evidence (character spans into ``text``): the sentences that hold it, and where such a
    stretch is longer than ``max_chars``, the words around each piece of evidence. Without evidence
    (a manual coding): the first sentences up to about ``manual_chars``. Cuts fall only on white
    space, so no word is ever cut, and never inside a ``protect`` span (a name to be pseudonymised).
    White space inside the quote is collapsed to single spaces. ``sentences`` are the
    :func:`~qualcode.text.sentence_spans` of ``text`` when the caller has them already.
    """
    if not text.strip():
        return ""
    spans = (sentences if sentences is not None else sentence_spans(text)) or [(0, len(text))]
    valid = sorted(
        (max(0, s), min(len(text), e)) for s, e in evidence if e > s and s < len(text) and e > 0
    )
    if not valid:
        return _trim_manual(text, spans, manual_chars, protect)
    keep: set[int] = set()
    for s, e in valid:
        hits = [i for i, (a, b) in enumerate(spans) if a < e and s < b]
        if not hits:  # evidence in white space between sentences: the nearest sentence
            hits = [
                min(
                    range(len(spans)), key=lambda i: min(abs(spans[i][0] - s), abs(spans[i][1] - e))
                )
            ]
        keep.update(hits)
    runs: list[list[int]] = []
    for i in sorted(keep):
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    pieces: list[tuple[int, int]] = []  # character ranges of text to show, in order
    for run in runs:
        a, b = spans[run[0]][0], spans[run[-1]][1]
        inside = [(max(s, a), min(e, b)) for s, e in valid if s < b and a < e]
        if b - a <= max_chars or not inside:
            pieces.append((a, b))
            continue
        windows: list[list[int]] = []
        for s, e in inside:
            room = max(CONTEXT_CHARS, (max_chars - (e - s)) // 2)
            ws, we = _outward_to_space(text, max(a, s - room), min(b, e + room), protect)
            ws, we = max(a, ws), min(b, we)
            # Close to the sentence edge: take the whole edge rather than a lone "… word".
            if ws - a < 40:
                ws = a
            if b - we < 40:
                we = b
            if windows and ws <= windows[-1][1] + 1:
                windows[-1][1] = max(windows[-1][1], we)
            else:
                windows.append([ws, we])
        pieces.extend((w[0], w[1]) for w in windows)
    return _join(text, pieces)


def _trim_manual(
    text: str, spans: list[tuple[int, int]], limit: int, protect: Sequence[tuple[int, int]]
) -> str:
    end = spans[0][1]
    for _a, b in spans[1:]:
        if b - spans[0][0] > limit:
            break
        end = b
    start = spans[0][0]
    if end - start > limit + limit // 2:
        # One very long first sentence: cut at the last white space before the limit.
        cut = start + limit
        while cut > start and not text[cut].isspace():
            cut -= 1
        for a, b in protect:
            if a < cut < b:
                cut = a
        while cut > start and text[cut - 1].isspace():
            cut -= 1
        if cut > start:
            end = cut
    return _join(text, [(start, end)])


def _join(text: str, pieces: list[tuple[int, int]]) -> str:
    """Pieces of ``text`` with ``…`` for every left-out stretch that holds words."""
    out: list[str] = []
    position = 0
    for a, b in pieces:
        if text[position:a].strip():
            out.append(ELLIPSIS)
        out.append(_clean(text[a:b]))
        position = b
    if text[position:].strip():
        out.append(ELLIPSIS)
    return " ".join(p for p in out if p)


def passage_quote(
    text: str, start: int, end: int, protect: Sequence[tuple[int, int]] = ()
) -> str:
    """A coded passage as quoted: exactly its text, with ``…`` only where the turn goes on.

    A passage that starts or ends inside a ``protect`` span (a name to be pseudonymised) is
    widened to the whole name, so no part of a name escapes the replacement.
    """
    for a, b in protect:
        if a < start < b:
            start = a
        if a < end < b:
            end = b
    return _join(text, [(start, end)])


def cite(text: str, respondent: str) -> str:
    """A quote as a thesis cites it: ``“…” – R7`` (the files use the language's quotation marks)."""
    return f"“{text}” – {respondent}"


def _evidence_spans(raw: str) -> list[tuple[int, int]]:
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return []
    spans = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            s, e = item.get("start"), item.get("end")
            if isinstance(s, int) and isinstance(e, int) and e > s:
                spans.append((s, e))
    return spans


def quotes(
    store: Store,
    *,
    coder: str | None = None,
    codes: Sequence[str] | None = None,
    respondents: Sequence[str] | None = None,
    exclude_negated: bool = False,
    include_in_progress: bool = False,
    full: bool = False,
    max_per_respondent: int | None = None,
    pseudonyms: Pseudonyms | None = None,
    cited: bool = True,
) -> pd.DataFrame:
    """Coded turns as quotes, per code (as coded, in tree order), respondent and turn order.

    Columns: ``code``, ``respondent``, ``segment``, ``transcript``, ``position``, ``negated``,
    ``source``, ``text`` (the trimmed or, with ``full``, whole turn) and, unless ``cited`` is
    False, ``quote`` (``“…” – R7``; the report files cite in their own language and leave it out).
    ``max_per_respondent`` keeps each respondent's first N quotes per code. With ``pseudonyms``
    (even an empty list: the quotes are for a file that leaves the machine) every name is
    replaced, trimming never cuts through a name, and transcripts are named by their
    respondent (:func:`qualcode.pseudonyms.transcript_aliases`).
    """
    import pandas as pd

    if max_per_respondent is not None and max_per_respondent < 1:
        raise InputError(f"--max-per-respondent must be 1 or more, not {max_per_respondent}")
    sel = select(
        store,
        coder=coder,
        codes=codes,
        respondents=respondents,
        exclude_negated=exclude_negated,
        include_in_progress=include_in_progress,
    )
    codings, left_out = _codings(store, sel)
    order = {p: i for i, p in enumerate(sel.paths)}
    people = {label: i for i, label in enumerate(sel.respondents)}
    # A new list: the one from _codings may be shared by the other tables of the report.
    codings = sorted(
        codings, key=lambda c: (order[c.path], people[c.respondent], c.transcript_id, c.position)
    )
    if max_per_respondent is not None:
        taken: Counter[tuple[str, str]] = Counter()
        kept = []
        for c in codings:
            if taken[(c.path, c.respondent)] < max_per_respondent:
                taken[(c.path, c.respondent)] += 1
                kept.append(c)
        codings = kept
    aliases: dict[str, str] = {}
    if pseudonyms is not None:
        from qualcode.pseudonyms import transcript_aliases

        # File names carry firm names that the list may miss ("R8_bolgen.txt" for Bølgen).
        aliases = transcript_aliases(store)
    shown_texts, transcripts = _quoted_texts(store, codings, full, pseudonyms)
    rows = [
        (
            c.path,
            c.respondent,
            c.segment_id,
            aliases.get(transcripts[c.segment_id], transcripts[c.segment_id]),
            c.position,
            c.negated,
            c.source,
            shown,
            *((cite(shown, c.respondent),) if cited else ()),
        )
        for c, shown in zip(codings, shown_texts, strict=True)
    ]
    del shown_texts
    columns = ["code", "respondent", "segment", "transcript", "position", "negated", "source",
               "text"]
    frame = pd.DataFrame(rows, columns=[*columns, "quote"] if cited else columns)
    del rows
    if pseudonyms:
        # Every text column, not only the quote: transcript file names carry firm names too.
        frame = pseudonyms.apply_frame(frame)
    frame.attrs.update(sel.frame_attrs(left_out))
    return frame


def _quoted_texts(
    store: Store, codings: list[_Coding], full: bool, pseudonyms: Pseudonyms | None
) -> tuple[list[str], dict[int, str]]:
    """The quoted text of each coding (in order) and each turn's transcript name.

    The turns are read a chunk at a time, in the store's order, with the evidence of their
    codings: each turn's sentences and names are found once however many codes it has, and no
    more than a chunk of whole turns is in memory at once.
    """
    shown: list[str] = [""] * len(codings)
    by_segment: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(codings):
        by_segment[c.segment_id].append(i)
    transcripts: dict[int, str] = {}
    wanted = sorted(by_segment)
    for begin in range(0, len(wanted), 900):  # stay under SQLite's host-parameter limit
        chunk = wanted[begin : begin + 900]
        trimmed = [
            codings[i].coding_id
            for seg in chunk
            for i in by_segment[seg]
            if codings[i].quote_start is None or codings[i].quote_end is None
        ]
        evidence = {} if full else _evidence_of(store, trimmed)
        for seg, text, name in store.conn.execute(
            "SELECT s.id, s.text, t.name FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
            f" WHERE s.id IN ({','.join('?' * len(chunk))})",
            chunk,
        ):
            transcripts[seg] = sys.intern(name)
            protect = pseudonyms.spans(text) if pseudonyms else []
            sentences = None
            for i in by_segment[seg]:
                c = codings[i]
                if full:
                    quote = _clean(text)
                elif c.quote_start is not None and c.quote_end is not None:
                    quote = passage_quote(text, c.quote_start, c.quote_end, protect)
                else:
                    if sentences is None:
                        sentences = sentence_spans(text)
                    quote = trim_quote(
                        text,
                        _evidence_spans(evidence.get(c.coding_id, "[]")),
                        protect=protect,
                        sentences=sentences,
                    )
                shown[i] = pseudonyms.apply(quote) if pseudonyms else quote
    return shown, transcripts


def _evidence_of(store: Store, ids: list[int]) -> dict[int, str]:
    """The evidence (JSON) of the codings ``ids``: read only for the quotes shown."""
    out: dict[int, str] = {}
    wanted = sorted(ids)
    for i in range(0, len(wanted), 900):  # stay under SQLite's host-parameter limit
        chunk = wanted[i : i + 900]
        out.update(
            store.conn.execute(
                f"SELECT id, evidence FROM codings WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
        )
    return out


# -- summary ------------------------------------------------------------------------------------
def summary(
    store: Store,
    *,
    coder: str | None = None,
    codes: Sequence[str] | None = None,
    respondents: Sequence[str] | None = None,
    exclude_negated: bool = False,
    include_in_progress: bool = False,
) -> pd.DataFrame:
    """One row per respondent: attributes, transcripts, turns, words, coded turns and their codes.

    ``codes`` lists each code as coded (most specific path) with its number of turns, most used
    first, e.g. ``tillit/relasjoner (3), forankring/ledelse (2)``.
    """
    import pandas as pd

    from qualcode.corpus import count_words
    from qualcode.ingest.respondents import attribute_names

    sel = select(
        store,
        coder=coder,
        codes=codes,
        respondents=respondents,
        exclude_negated=exclude_negated,
        include_in_progress=include_in_progress,
    )
    codings, left_out = _codings(store, sel)
    attrs = _attributes(store)
    present = {n for label in sel.respondents for n in attrs.get(label, {})}
    # The respondent table's column order, as `qualcode respondents` shows them.
    names = [n for n in attribute_names(store) if n in present]
    wanted = set(sel.respondents)
    words: Counter[str] = Counter()
    turns: Counter[str] = Counter()
    for label, text in store.conn.execute(
        "SELECT r.label, s.text FROM segments s JOIN respondents r ON r.id = s.respondent_id"
        " WHERE s.role = 'respondent'"
    ):
        if label in wanted:
            words[label] += count_words(text)
            turns[label] += 1
    transcripts = dict(
        store.conn.execute(
            "SELECT r.label, COUNT(t.id) FROM respondents r LEFT JOIN transcripts t"
            " ON t.respondent_id = r.id GROUP BY r.label"
        ).fetchall()
    )
    coded: dict[str, set[int]] = defaultdict(set)
    per_code: dict[str, Counter[str]] = defaultdict(Counter)
    for c in codings:
        coded[c.respondent].add(c.segment_id)
        per_code[c.respondent][c.path] += 1
    order = {p: i for i, p in enumerate(sel.paths)}
    rows = []
    for label in sel.respondents:
        listing = sorted(per_code[label].items(), key=lambda kv: (-kv[1], order[kv[0]]))
        rows.append(
            [
                label,
                *[attrs.get(label, {}).get(n, "") for n in names],
                transcripts.get(label, 0),
                turns[label],
                words[label],
                len(coded[label]),
                ", ".join(f"{path} ({n})" for path, n in listing),
            ]
        )
    frame = pd.DataFrame(
        rows, columns=["respondent", *names, "transcripts", "turns", "words", "coded", "codes"]
    ).set_index("respondent")
    frame.attrs.update(
        sel.frame_attrs(left_out),
        attributes=names,
    )
    return frame


# -- the full report ----------------------------------------------------------------------------
@dataclass
class FullReport:
    """Everything the Word and Excel reports show, already pseudonymised.

    ``title`` and ``author`` are the settings ``report_title`` / ``report_author`` (``qualcode
    config title|author``); an empty title means the report's own word for it ("Kodingsrapport").
    The project folder's name is never shown: it often names the firm or the student.
    """

    title: str
    author: str
    date: str
    codebook_version: str
    coder: str
    codebook: list[CodeInfo]
    freq: pd.DataFrame
    freq_percent: pd.DataFrame
    by_attribute: dict[str, pd.DataFrame]
    cooc_segment: pd.DataFrame
    cooc_respondent: pd.DataFrame
    quotes: pd.DataFrame
    summary: pd.DataFrame
    exclude_negated: bool = False
    left_out: int = 0
    notes: list[str] = field(default_factory=list)
    extra_sections: list[ReportSection] = field(default_factory=list)
    #: The respondent appendix in one compact row each: top codes only, most used first.
    summary_compact: pd.DataFrame | None = None

    @property
    def is_machine_draft(self) -> bool:
        """Whether the reported layer is the auto-coder's unchecked draft."""
        return self.coder == AUTO_CODER


#: Settings that name the report and its author (``qualcode config title|author``).
TITLE_SETTING = "report_title"
AUTHOR_SETTING = "report_author"
#: The project's language for files written for people (``qualcode config language``).
LANGUAGE_SETTING = "language"
DEFAULT_LANGUAGE = "nb"


def project_language(store: Store) -> str:
    """The language of the project's report files: the ``language`` setting, else bokmål."""
    value = store.get_setting(LANGUAGE_SETTING)
    return value if value in ("nb", "en") else DEFAULT_LANGUAGE


def compact_summary(people: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """The respondent summary in one short row each, for the Word appendix: attributes, turns,
    words, coded turns and the top codes with their coded turns, most used first
    (``tillit 5, forankring 3``). ``counts`` is the :func:`freq` frame of the same selection."""
    import pandas as pd

    tops = [c for c in counts.index if c != TOTAL and "/" not in str(c)]
    listing = []
    for label in people.index:
        column = counts[label] if label in counts.columns else pd.Series(dtype="int64")
        used = [(code, int(column[code])) for code in tops if code in column and column[code] > 0]
        used.sort(key=lambda kv: -kv[1])  # stable: codebook order among equals
        listing.append(", ".join(f"{code} {n}" for code, n in used))
    out = people.drop(columns=["codes"]).copy()
    if "transcripts" in out and not (out["transcripts"] > 1).any():
        out = out.drop(columns=["transcripts"])  # one interview each: the column says nothing
    out["codes"] = pd.Series(listing, index=people.index, dtype=object)
    out.attrs.update(people.attrs)
    return out


def codebook_version(store: Store) -> str:
    """The codebook version installed last, as ``name version (date)``, or ``""``."""
    import yaml

    row = store.conn.execute(
        "SELECT name, content, loaded_at, sha256 FROM codebook_versions ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return ""
    name, content, loaded_at, sha = row
    version = None
    try:
        data = yaml.safe_load(content)
        if isinstance(data, dict) and data.get("version") is not None:
            version = str(data["version"])
    except yaml.YAMLError:
        pass
    parts = [name, version or f"#{sha[:8]}"]
    return f"{' '.join(p for p in parts if p)} ({str(loaded_at)[:10]})"


#: Attributes with more distinct values than this get no frequency-by-attribute table (an id, a date).
MAX_GROUPS = 12


def build_full_report(
    store: Store,
    *,
    coder: str | None = None,
    codes: Sequence[str] | None = None,
    respondents: Sequence[str] | None = None,
    exclude_negated: bool = False,
    include_in_progress: bool = False,
    full: bool = False,
    max_per_respondent: int | None = 3,
    pseudonyms: Pseudonyms | None = None,
    extra_sections: Sequence[ReportSection] = (),
) -> FullReport:
    """Compute every table of the full report, with pseudonyms applied to all text."""
    # The report reads the store in a few big queries: a small page cache is enough, and keeps
    # memory flat at thousands of interviews (the store's 64 MB is for ingest).
    page_cache = store.conn.execute("PRAGMA cache_size").fetchone()[0]
    store.conn.execute("PRAGMA cache_size = -8192")
    try:
        with _queries_once():
            return _build_full_report(
                store, coder=coder, codes=codes, respondents=respondents,
                exclude_negated=exclude_negated, include_in_progress=include_in_progress,
                full=full, max_per_respondent=max_per_respondent, pseudonyms=pseudonyms,
                extra_sections=extra_sections,
            )
    finally:
        store.conn.execute(f"PRAGMA cache_size = {int(page_cache)}")


def _build_full_report(
    store: Store,
    *,
    coder: str | None,
    codes: Sequence[str] | None,
    respondents: Sequence[str] | None,
    exclude_negated: bool,
    include_in_progress: bool,
    full: bool,
    max_per_respondent: int | None,
    pseudonyms: Pseudonyms | None,
    extra_sections: Sequence[ReportSection],
) -> FullReport:
    from qualcode.pseudonyms import project_pseudonyms

    names = project_pseudonyms(store) if pseudonyms is None else pseudonyms
    filters: dict[str, Any] = dict(
        coder=coder,
        codes=codes,
        respondents=respondents,
        exclude_negated=exclude_negated,
        include_in_progress=include_in_progress,
    )
    counts = freq(store, **filters)
    shares = freq(store, **filters, percent=True)
    people = summary(store, **filters)
    by_attribute = {}
    for attribute in people.attrs["attributes"]:
        values = {v for v in people[attribute] if v}
        # A numeric attribute with many values (size, years) is grouped into ranges by freq().
        ranged = value_ranges(dict(zip(people.index, people[attribute], strict=True)))
        if ranged is not None or 1 < len(values) <= MAX_GROUPS:
            by_attribute[attribute] = names.apply_frame(freq(store, **filters, by=attribute))
    _forget("freq")  # the frequency tables are made: their counts go before the quotes come
    quoted = quotes(
        store,
        **filters,
        full=full,
        max_per_respondent=max_per_respondent,
        pseudonyms=names,
        cited=False,
    )
    sel = select(store, **filters)
    sections = [s.pseudonymised(names) for s in extra_sections]
    codebook = [
        CodeInfo(c.path, names.apply(c.name), names.apply(c.description), c.depth, c.active)
        for c in sel.codes
    ]
    return FullReport(
        title=names.apply(str(store.get_setting(TITLE_SETTING) or "")),
        author=names.apply(str(store.get_setting(AUTHOR_SETTING) or "")),
        date=date.today().isoformat(),
        codebook_version=names.apply(codebook_version(store)),
        coder=sel.coder,
        codebook=codebook,
        freq=names.apply_frame(counts),
        freq_percent=names.apply_frame(shares),
        by_attribute=by_attribute,
        cooc_segment=names.apply_frame(cooc(store, **filters, within="segment")),
        cooc_respondent=names.apply_frame(cooc(store, **filters, within="respondent")),
        quotes=quoted,
        summary=names.apply_frame(people),
        summary_compact=names.apply_frame(compact_summary(people, counts)),
        exclude_negated=exclude_negated,
        left_out=int(counts.attrs.get("left_out", 0)),
        notes=list(sel.notes),
        extra_sections=sections,
    )
