"""Codings to CSV or Excel and back: the round trip a student edits in Excel.

The long table (CSV, or the sheet ``codings`` of an ``.xlsx``) has one row per (segment, code) with
the columns of :data:`LONG_COLUMNS` in that order — a stable interface — then the respondent's
attribute columns, then ``memo`` (the coding's memo) and ``segment_memos``.

An ``.xlsx`` also has a sheet ``matrix`` (``matrix_<coder>`` when several layers are exported): one
row per segment and a 0/1 column per code, and a hidden sheet ``_qualcode`` recording what was
exported. Importing reads both sheets and uses the one that was edited, judged against that
record; if both were edited differently the import is refused. In the long table a deleted row (or
an emptied ``code`` cell) removes the coding; in the matrix a deleted row leaves that segment
unchanged.

An import makes the coder's layer equal to the file, all or nothing. Codings new to the layer are
manual, except rows copied unchanged from another layer named in the ``coder`` column (as in
``coder copy``), which keep that layer's source, negation and evidence. A file holding only other
people's layers is refused, so a file of Kari's cannot silently replace Jonas's layer; the draft
``auto`` may be imported into anyone's layer.

The file leaves the student's machine (to a supervisor, a fellow student), so by default the
project's ``pseudonyms.csv`` is applied to every text cell, and transcripts and respondents'
speakers are named by the respondent's label (``R2.vtt``, not ``R2_fjordal.vtt``). The segment id
is the key an import goes by, so a pseudonymised file imports like any other.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualcode.errors import InputError
from qualcode.formulas import guard_xlsx_cell, restore_formula
from qualcode.limits import MAX_IMPORT_REMOVED_SHARE, check_zip_archive
from qualcode.memos import list_memos
from qualcode.outputs import atomic_output, check_output_file, make_output_parent
from qualcode.pseudonyms import Pseudonyms, project_pseudonyms, transcript_aliases
from qualcode.recode import check_coder_name, existing_segments, suggest_codes
from qualcode.store import AUTO_CODER, Store

#: The long table's leading columns, in this order: scripts rely on it.
LONG_COLUMNS = (
    "transcript",
    "respondent",
    "segment_id",
    "speaker",
    "code",
    "coder",
    "source",
    "negated",
    "evidence",
    "text",
)
MEMO_COLUMNS = ("memo", "segment_memos")
#: Appended after every other column, so the header of earlier releases stays a prefix.
QUOTE_COLUMNS = ("quote_start", "quote_end", "quote")
MATRIX_COLUMNS = ("transcript", "respondent", "segment_id", "speaker", "role", "text")
LONG_SHEET = "codings"
MATRIX_SHEET = "matrix"
RECORD_SHEET = "_qualcode"
_TRUE = {"1", "x", "true", "ja", "yes"}
_FALSE = {"", "0", "false", "nei", "no"}
#: Excel keeps at most this many characters in a cell.
EXCEL_CELL_LIMIT = 32767

Pair = tuple[int, str]
#: A coding as the import sees it: segment, code and passage (both None: the whole turn).
Key = tuple[int, str, int | None, int | None]


def _pairs(keys: set[Key]) -> set[Pair]:
    return {(k[0], k[1]) for k in keys}


# -- export ----------------------------------------------------------------------------------
@dataclass
class ExportResult:
    """What ``export codings`` wrote."""

    path: Path
    rows: int
    layers: list[str]
    segments: int
    warnings: list[str] = field(default_factory=list)
    #: Whether names were replaced (pseudonyms, respondent labels for file names and speakers).
    pseudonymised: bool = False
    #: How many names the project's pseudonyms.csv lists (0: no list, or not applied).
    pseudonyms: int = 0


class NameMask:
    """Replaces names in exported cells: pseudonyms in text, respondent labels as identifiers."""

    def __init__(self, store: Store, pseudonyms: Pseudonyms):
        self.pseudonyms = pseudonyms
        #: Transcript file name -> the name shown: file names often carry a firm's name.
        self.transcripts = transcript_aliases(store)

    def transcript(self, name: str) -> str:
        """The transcript's name in the file."""
        return self.transcripts.get(name, self.pseudonyms.apply(name))

    def speaker(self, speaker: str, role: str, label: str) -> str:
        """A respondent speaks as their label; other speakers' names go through the pseudonyms."""
        return label if role == "respondent" else self.pseudonyms.apply(speaker)

    def text(self, text: str) -> str:
        """Text with the pseudonyms applied."""
        return self.pseudonyms.apply(text)

    def text_and_evidence(self, text: str, evidence: str) -> tuple[str, str]:
        """The turn's text and its evidence JSON, the match offsets moved to the new text."""
        new_text, new_offset = self.pseudonyms.apply_with_offsets(text)
        try:
            entries = json.loads(evidence)
        except ValueError:
            return new_text, self.pseudonyms.apply(evidence)
        if not isinstance(entries, list):
            return new_text, self.pseudonyms.apply(evidence)
        # A rule's term may hold a name (a pattern such as "klyngeledelse|hilde") too.
        moved: list[Any] = []
        for entry in entries:
            if isinstance(entry, dict):
                entry = {
                    key: (
                        new_offset(value)
                        if key in ("start", "end") and isinstance(value, int)
                        else self.pseudonyms.apply(value)
                    )
                    for key, value in entry.items()
                }
            moved.append(entry)
        if moved == entries:
            return new_text, evidence  # unchanged: the stored JSON exactly
        return new_text, json.dumps(moved, ensure_ascii=False)


def _attribute_table(store: Store) -> tuple[list[str], dict[str, dict[str, str]]]:
    values: dict[str, dict[str, str]] = defaultdict(dict)
    for label, name, value in store.conn.execute(
        "SELECT r.label, a.name, a.value FROM respondent_attributes a"
        " JOIN respondents r ON r.id = a.respondent_id"
    ):
        values[label][name] = value
    names = sorted({n for attrs in values.values() for n in attrs})
    return names, values


def _attribute_headers(names: list[str]) -> list[str]:
    taken = set(LONG_COLUMNS) | set(MEMO_COLUMNS)
    # An attribute named like a fixed column gets a prefix, so no header is ambiguous.
    return [f"attr_{n}" if n in taken else n for n in names]


def long_rows(
    store: Store, coder: str | None = None, mask: NameMask | None = None
) -> tuple[list[str], list[list[Any]], list[str]]:
    """The long table: header, rows and the layers it holds; ``mask`` replaces names."""
    names, attrs = _attribute_table(store)
    params: list[Any] = []
    sql = (
        "SELECT t.name, r.label, s.id, s.speaker, s.role, k.path, d.name, c.source, c.negated,"
        " c.evidence, s.text, c.memo, c.quote_start, c.quote_end FROM codings c"
        " JOIN segments s ON s.id = c.segment_id"
        " JOIN transcripts t ON t.id = s.transcript_id JOIN respondents r ON r.id = s.respondent_id"
        " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
    )
    if coder is not None:
        sql += " WHERE d.name = ?"
        params.append(coder)
    sql += " ORDER BY t.id, s.position, d.name, k.sort_order, k.path, c.quote_start"
    memos: dict[int, list[str]] = defaultdict(list)
    for memo in list_memos(store):
        if memo.segment_id is not None and (coder is None or memo.coder == coder):
            memos[memo.segment_id].append(f"{memo.coder or '?'}: {memo.text}")
    rows, layers = [], []
    for (
        transcript,
        label,
        seg,
        speaker,
        role,
        path,
        name,
        source,
        negated,
        evidence,
        text,
        memo,
        q_start,
        q_end,
    ) in store.conn.execute(sql, params):
        if name not in layers:
            layers.append(name)
        attribute_values = [attrs.get(label, {}).get(n, "") for n in names]
        segment_memos = "\n".join(memos.get(seg, []))
        memo = memo or ""
        quote = "" if q_start is None else text[q_start:q_end]
        if mask is not None:
            quote = mask.text(quote)
            transcript = mask.transcript(transcript)
            speaker = mask.speaker(speaker, role, label)
            text, evidence = mask.text_and_evidence(text, evidence)
            attribute_values = [mask.text(v) for v in attribute_values]
            memo, segment_memos = mask.text(memo), mask.text(segment_memos)
        rows.append(
            [
                transcript,
                label,
                seg,
                speaker,
                path,
                name,
                source,
                int(negated),
                evidence,
                text,
                *attribute_values,
                memo,
                segment_memos,
                "" if q_start is None else q_start,
                "" if q_end is None else q_end,
                quote,
            ]
        )
    header = [*LONG_COLUMNS, *_attribute_headers(names), *MEMO_COLUMNS, *QUOTE_COLUMNS]
    return header, rows, sorted(layers)


def matrix_rows(
    store: Store, coder: str, mask: NameMask | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The 0/1 table of one layer: every segment, a column per active code or code in use."""
    pairs = layer_state(store, coder)
    in_use = {code for _, code in pairs}
    codes = [
        c
        for c in store.code_paths(active_only=False)
        if c in in_use or c in set(store.code_paths())
    ]
    rows = []
    for seg, transcript, label, speaker, role, text in store.conn.execute(
        "SELECT s.id, t.name, r.label, s.speaker, s.role, s.text FROM segments s"
        " JOIN transcripts t ON t.id = s.transcript_id JOIN respondents r ON r.id = s.respondent_id"
        " ORDER BY t.id, s.position"
    ):
        if mask is not None:
            transcript, text = mask.transcript(transcript), mask.text(text)
            speaker = mask.speaker(speaker, role, label)
        rows.append(
            [transcript, label, seg, speaker, role, text, *[int((seg, c) in pairs) for c in codes]]
        )
    return [*MATRIX_COLUMNS, *codes], rows


def layer_state(store: Store, coder: str) -> set[Pair]:
    """Every ``(segment_id, code_path)`` in ``coder``'s layer."""
    return {
        (int(s), p)
        for s, p in store.conn.execute(
            "SELECT c.segment_id, k.path FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
            (coder,),
        )
    }


def layer_keys(store: Store, coder: str) -> set[Key]:
    """Every coding in ``coder``'s layer as ``(segment_id, code_path, quote_start, quote_end)``."""
    return {
        (int(s), p, qs, qe)
        for s, p, qs, qe in store.conn.execute(
            "SELECT c.segment_id, k.path, c.quote_start, c.quote_end FROM codings c"
            " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
            (coder,),
        )
    }


def export_codings(
    store: Store, path: Path, coder: str | None = None, *, pseudonymise: bool = True
) -> ExportResult:
    """Write the codings of one layer (or all) to ``path`` (``.csv`` or ``.xlsx``).

    Unless ``pseudonymise`` is False, names are replaced as :class:`NameMask` does.
    """
    suffix = path.suffix.casefold()
    if suffix not in (".csv", ".xlsx"):
        raise InputError("export codings writes .csv or .xlsx files", path=path)
    if coder is not None:
        coder = check_coder_name(coder)
        if store.coder_id(coder) is None:
            names = [r[0] for r in store.conn.execute("SELECT name FROM coders ORDER BY name")]
            raise InputError(f"no coder layer '{coder}' (layers: {', '.join(names) or 'none'})")
    check_output_file(path)
    mask = NameMask(store, project_pseudonyms(store)) if pseudonymise else None
    header, rows, layers = long_rows(store, coder, mask)
    if coder is not None:
        layers = [coder]
    result = ExportResult(path, len(rows), layers, len({r[2] for r in rows}))
    if mask is not None:
        result.pseudonymised, result.pseudonyms = True, len(mask.pseudonyms)
    if suffix == ".csv":
        from qualcode.csvio import write_csv

        make_output_parent(path)  # only now: an export that fails leaves no new empty folder
        try:
            write_csv(path, header, rows)
        except OSError as exc:
            raise InputError(f"cannot write the file: {exc.strerror or exc}", path=path) from None
        return result
    _write_xlsx(store, path, header, rows, layers, result, mask)
    return result


def _excel_number(value: Any) -> Any:
    """A string that reads as a plain number (``45``, ``-3``, ``2.5``) as that number, else as is.

    Attribute values are stored as text; as numbers, Excel can sort, filter and sum them. A leading
    zero (``007``, an id) keeps the value text.
    """
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?(0|[1-9]\d{0,14})", text):
            return int(text)
        if re.fullmatch(r"-?(0|[1-9]\d{0,14})\.\d{1,15}", text):
            return float(text)
    return value


def _write_xlsx(
    store: Store,
    path: Path,
    header: list[str],
    rows: list[list[Any]],
    layers: list[str],
    result: ExportResult,
    mask: NameMask | None = None,
) -> None:
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = LONG_SHEET
    attribute_columns = range(
        len(LONG_COLUMNS), len(header) - len(MEMO_COLUMNS) - len(QUOTE_COLUMNS)
    )
    cells = [
        [_excel_number(v) if i in attribute_columns else v for i, v in enumerate(row)]
        for row in rows
    ]
    try:
        _fill(
            sheet,
            header,
            cells,
            widths={"text": 80, "evidence": 30, "segment_memos": 40, "quote": 60},
        )
        for coder in layers:
            name = MATRIX_SHEET if len(layers) == 1 else f"{MATRIX_SHEET}_{coder}"[:31]
            m_header, m_rows = matrix_rows(store, coder, mask)
            _fill(workbook.create_sheet(name), m_header, m_rows, widths={"text": 80})
    except IllegalCharacterError:
        raise InputError(
            "a turn holds a control character Excel cannot store; export to .csv instead", path=path
        ) from None
    record = workbook.create_sheet(RECORD_SHEET)
    record.sheet_state = "hidden"
    record.append(["coder", "segment_id", "code"])
    for coder in layers:
        for seg, code in sorted(layer_state(store, coder)):
            record.append([coder, seg, code])
            for cell in record[record.max_row]:
                guard_xlsx_cell(cell)
    long_texts = sorted({r[2] for r in rows if len(r[9]) > EXCEL_CELL_LIMIT})
    if long_texts:
        result.warnings.append(
            f"segment {', '.join(map(str, long_texts))} is longer than Excel shows in a cell "
            f"({EXCEL_CELL_LIMIT} characters); the file keeps it whole"
        )
    make_output_parent(path)
    try:
        with atomic_output(path) as tmp:
            workbook.save(tmp)
    except OSError as exc:
        raise InputError(f"cannot write the file: {exc.strerror or exc}", path=path) from None


def _fill(sheet: Any, header: list[str], rows: list[list[Any]], widths: dict[str, int]) -> None:
    """Write a header and rows; text is always a string cell, never a formula."""
    from openpyxl.utils import get_column_letter

    sheet.append(header)
    for cell in sheet[1]:
        guard_xlsx_cell(cell)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            # openpyxl reads a string starting with '=' as a formula; a turn may start so.
            guard_xlsx_cell(cell)
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = sheet.dimensions
    for c, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = widths.get(
            name, max(10, min(len(name) + 2, 30))
        )


# -- import ----------------------------------------------------------------------------------
@dataclass
class LongRow:
    """One data row of the long table."""

    row: int
    segment_id: int
    code: str
    coder: str
    memo: str
    text: str | None
    quote_start: int | None = None
    quote_end: int | None = None
    quote: str = ""

    @property
    def key(self) -> Key:
        return (self.segment_id, self.code, self.quote_start, self.quote_end)


@dataclass
class ImportPlan:
    """The diff an import applies to one layer."""

    path: Path
    coder: str
    sheet: str
    added: list[Key] = field(default_factory=list)
    removed: list[Key] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored_rows: int = 0
    #: For added pairs copied from another layer: that layer's name; else absent (manual).
    copied_from: dict[Pair, str] = field(default_factory=dict)
    memos: dict[Key, str] = field(default_factory=dict)
    #: Transcripts the file covers (a row with a segment id, coded or not) that the coder has
    #: not marked done yet: the import marks them done.
    to_mark_done: list[int] = field(default_factory=list)
    #: The layer as it was when the plan was made; the import is refused if it changed since.
    base: set[Key] = field(default_factory=set)

    @property
    def removes_most(self) -> bool:
        """True if the import would remove more than half of the layer's codings."""
        return bool(self.base) and len(self.removed) > MAX_IMPORT_REMOVED_SHARE * len(self.base)

    @property
    def changed(self) -> bool:
        """Whether the import changes the layer's codings."""
        return bool(self.added or self.removed)

    @property
    def writes(self) -> bool:
        """Whether the import writes anything: codings, or transcripts it marks done."""
        return self.changed or bool(self.to_mark_done)

    def per_code(self) -> dict[str, tuple[list[int], list[int]]]:
        """Per code: the segment ids added and removed."""
        result: dict[str, tuple[list[int], list[int]]] = {}
        for key in sorted(self.added, key=_sort_key):
            result.setdefault(key[1], ([], []))[0].append(key[0])
        for key in sorted(self.removed, key=_sort_key):
            result.setdefault(key[1], ([], []))[1].append(key[0])
        return dict(sorted(result.items()))


def _sort_key(key: Key) -> tuple[int, str, int, int]:
    return (key[0], key[1], -1 if key[2] is None else key[2], -1 if key[3] is None else key[3])


def _cell_text(value: Any) -> str:
    """A cell as text, without the apostrophe an export put before a formula-like value."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return restore_formula(str(value))


def _segment_id(value: Any) -> int | None:
    # At most 18 digits: SQLite's integers stop at 2**63 - 1, and no project has more turns.
    text = _cell_text(value).strip()
    return int(text) if re.fullmatch(r"\d{1,18}", text) else None


class _Problems:
    """Bad rows collected, so one error names all of them (up to a few)."""

    def __init__(self, path: Path, what: str = "row"):
        self.path = path
        self.what = what  # "line" in a CSV file (a turn may span lines), "row" in a sheet
        self.items: list[tuple[int, str]] = []

    def add(self, row: int, message: str) -> None:
        self.items.append((row, message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        what = self.what
        shown = "; ".join(f"{what} {r}: {m}" for r, m in self.items[:8])
        more = f"; and {len(self.items) - 8} more" if len(self.items) > 8 else ""
        count = (
            f"{len(self.items)} bad {what}s, nothing imported: "
            if len(self.items) > 1
            else ("nothing imported: ")
        )
        raise InputError(count + shown + more, path=self.path, line=self.items[0][0])


def _read_long_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    from qualcode.csvio import read_csv

    table = read_csv(path, required=["segment_id", "code"])
    return [(row.line, row.values) for row in table.rows]


def _sheet_records(sheet: Any) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    rows = sheet.iter_rows(values_only=True)
    try:
        header = [_cell_text(v).strip().casefold() for v in next(rows)]
    except StopIteration:
        return [], []
    records = []
    for number, values in enumerate(rows, start=2):
        values = list(values)
        if any(v is not None and _cell_text(v).strip() for v in values):
            records.append((number, values + [None] * (len(header) - len(values))))
    return header, records


def _parse_long(
    path: Path, records: list[tuple[int, dict[str, Any]]], problems: _Problems
) -> list[LongRow]:
    result = []
    for number, values in records:
        raw_seg = values.get("segment_id")
        code = _cell_text(values.get("code")).strip().strip("/")
        if not code and not _cell_text(raw_seg).strip():
            continue  # a row emptied in Excel
        seg = _segment_id(raw_seg)
        if seg is None:
            problems.add(number, f"segment_id '{_cell_text(raw_seg)}' is not a number")
            continue
        text = values.get("text")
        offsets = []
        for column in ("quote_start", "quote_end"):
            raw = _cell_text(values.get(column)).strip()
            if raw and not re.fullmatch(r"\d{1,9}", raw):
                problems.add(number, f"{column} '{raw}' is not a character position")
            offsets.append(int(raw) if re.fullmatch(r"\d{1,9}", raw) else None)
        if (offsets[0] is None) != (offsets[1] is None):
            problems.add(number, "give both quote_start and quote_end, or neither")
            offsets = [None, None]
        result.append(
            LongRow(
                number,
                seg,
                code,
                _cell_text(values.get("coder")).strip(),
                _cell_text(values.get("memo")).strip(),
                None if text is None else _cell_text(text),
                offsets[0],
                offsets[1],
                _cell_text(values.get("quote")),
            )
        )
    return result


def plan_import(store: Store, path: Path, coder: str) -> ImportPlan:
    """What importing ``path`` into ``coder``'s layer would change; writes nothing."""
    coder = check_coder_name(coder)
    if coder == AUTO_CODER:
        raise InputError(
            "'auto' is the auto-coder's layer; import into a person's layer (--coder NAME)"
        )
    if not path.is_file():
        raise InputError("no such file", path=path)
    suffix = path.suffix.casefold()
    problems = _Problems(path, "line" if suffix == ".csv" else "row")
    matrix = None
    record: set[Pair] | None = None
    if suffix == ".csv":
        long = _parse_long(path, _read_long_csv(path), problems)
        sheet_used = "csv"
    elif suffix == ".xlsx":
        long, matrix, record = _read_workbook(path, coder, problems)
        sheet_used = LONG_SHEET
    else:
        raise InputError("import codings reads .csv or .xlsx files", path=path)
    problems.raise_if_any()

    plan = ImportPlan(path, coder, sheet_used)
    long = _rows_for_coder(long, coder, path, plan)
    current_keys = layer_keys(store, coder)
    current = _pairs(current_keys)
    if coder != AUTO_CODER and current and {r.coder for r in long if r.coder} == {AUTO_CODER}:
        # The draft may start a layer; over a layer with work in it, it would wipe that work.
        raise InputError(
            f"the file holds the auto draft, and {coder}'s layer already has {len(current)} "
            f"coding{'' if len(current) == 1 else 's'} that importing it would replace: add the "
            f"draft with 'qualcode coder copy "
            f"auto {coder} --merge', or empty the file's coder column to replace the layer",
            path=path,
        )
    _check_rows(store, long, current, problems, plan)
    problems.raise_if_any()
    wanted_keys = {r.key for r in long if r.code}
    desired_long = _pairs(wanted_keys)
    desired_keys = wanted_keys
    if matrix is not None:
        desired_matrix = _check_matrix(store, matrix, current, record, desired_long, problems)
        problems.raise_if_any()
        baseline = record if record is not None else current
        # The record says what was exported; the sheet that differs from it was edited.
        matrix_state = _apply_matrix(baseline, desired_matrix)
        long_edited, matrix_edited = desired_long != baseline, matrix_state != baseline
        if long_edited and matrix_edited and desired_long != matrix_state:
            diff = sorted(desired_long ^ matrix_state)[:3]
            shown = ", ".join(f"segment {s} {c}" for s, c in diff)
            raise InputError(
                f"both the '{LONG_SHEET}' and the '{matrix[0]}' sheet were edited and they "
                f"disagree (e.g. {shown}); edit one of them only, or delete the other sheet",
                path=path,
            )
        if matrix_edited and not long_edited:
            # The matrix knows turns, not passages: a ticked code keeps the passages it had.
            plan.sheet = matrix[0]
            desired_keys = {k for k in current_keys if (k[0], k[1]) in matrix_state} | {
                (seg, code, None, None) for seg, code in matrix_state - current
            }
    plan.added = sorted(desired_keys - current_keys, key=_sort_key)
    plan.removed = sorted(current_keys - desired_keys, key=_sort_key)
    plan.base = set(current_keys)
    by_key = {r.key: r for r in long if r.code}
    for key in plan.added:
        row = by_key.get(key)
        if row is None:
            continue
        if row.memo:
            plan.memos[key] = row.memo
        if row.coder and row.coder != coder and _has_coding(store, row.coder, (key[0], key[1])):
            plan.copied_from[key] = row.coder
    plan.to_mark_done = _transcripts_to_mark(store, coder, {r.segment_id for r in long})
    return plan


def _transcripts_to_mark(store: Store, coder: str, segment_ids: set[int]) -> list[int]:
    """Transcripts holding these segments that ``coder`` has not marked done."""
    from qualcode.corpus import transcripts_of_segments
    from qualcode.progress import marked_done

    return sorted(transcripts_of_segments(store, segment_ids) - marked_done(store, coder))


def _has_coding(store: Store, coder: str, pair: Pair) -> bool:
    return (
        store.conn.execute(
            "SELECT 1 FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id"
            " WHERE d.name = ? AND c.segment_id = ? AND k.path = ?",
            (coder, pair[0], pair[1]),
        ).fetchone()
        is not None
    )


def _rows_for_coder(long: list[LongRow], coder: str, path: Path, plan: ImportPlan) -> list[LongRow]:
    """Only the target coder's rows (and rows with no coder) count.

    A file of other people's layers only is refused: importing it would replace the coder's layer
    with someone else's codings. The draft (``auto``) alone may start anyone's (empty) layer.
    """
    names = sorted({r.coder for r in long if r.coder})
    if not names or names == [coder] or names == [AUTO_CODER]:
        return long
    if coder not in names:
        people = [n for n in names if n != AUTO_CODER]  # 'auto' takes no import
        if len(names) == 1:
            message = (
                f"the file holds {names[0]}'s layer, not '{coder}': import with --coder "
                f"{names[0]}; to start '{coder}' from it, empty the file's coder column"
            )
        else:
            pick = " or ".join(f"--coder {n}" for n in people)
            message = (
                f"the file holds the layers {', '.join(names)}; none is '{coder}': import with "
                f"{pick}, or export one layer with --coder"
            )
        raise InputError(message, path=path)
    kept = [r for r in long if r.coder in ("", coder)]
    plan.ignored_rows = len(long) - len(kept)
    return kept


def _check_rows(
    store: Store, long: list[LongRow], current: set[Pair], problems: _Problems, plan: ImportPlan
) -> None:
    active = set(store.code_paths())
    every = store.code_paths(active_only=False)
    categories = {r[0] for r in store.conn.execute("SELECT path FROM codes WHERE codable = 0")}
    known_segments = existing_segments(store, [r.segment_id for r in long])
    try:
        pseudonyms = project_pseudonyms(store)
    except InputError:
        pseudonyms = Pseudonyms()  # only used to recognise pseudonymised text below
    texts = {}
    if long:
        ids = sorted(known_segments)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            texts.update(
                store.conn.execute(
                    f"SELECT id, text FROM segments WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            )
    for row in long:
        if row.segment_id not in known_segments:
            problems.add(row.row, f"no segment with id {row.segment_id} in the project")
            continue
        if not row.code:
            continue
        if row.code not in active and not (
            row.code in every and (row.segment_id, row.code) in current
        ):
            close = suggest_codes(row.code, sorted(active))
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            retired = " (no longer in the codebook)" if row.code in every else ""
            problems.add(row.row, f"unknown code '{row.code}'{retired}{hint}")
            continue
        if row.code in categories and (row.segment_id, row.code) not in current:
            problems.add(
                row.row,
                f"code '{row.code}' is a category (codable: false in the codebook) and cannot "
                "be applied",
            )
            continue
        stored = texts[row.segment_id]
        _check_passage(row, stored, pseudonyms, problems)
        # An export replaces names in the text (pseudonyms.csv): either version is the segment's.
        if row.text and _squash(row.text) not in (
            _squash(stored),
            _squash(pseudonyms.apply(stored)),
        ):
            plan.warnings.append(
                f"row {row.row}: the text is not segment {row.segment_id}'s text "
                "(was the segment_id changed?); the segment_id is used"
            )


def _check_passage(row: LongRow, text: str, pseudonyms: Pseudonyms, problems: _Problems) -> None:
    """Resolve and check a row's passage: its offsets, or where its quote stands in the turn.

    The quote may carry the names replaced, as an export writes it by default.
    """
    from qualcode.passages import find_quote

    quote = row.quote.strip()
    if row.quote_start is not None and row.quote_end is not None:
        if not 0 <= row.quote_start < row.quote_end <= len(text):
            problems.add(
                row.row,
                f"the passage {row.quote_start}:{row.quote_end} is outside segment "
                f"{row.segment_id} (0:{len(text)})",
            )
            return
        piece = text[row.quote_start : row.quote_end]
        if quote and _squash(quote) not in (_squash(piece), _squash(pseudonyms.apply(piece))):
            problems.add(
                row.row,
                f"the quote no longer matches segment {row.segment_id} at "
                f"{row.quote_start}:{row.quote_end} (was the transcript changed?)",
            )
            return
    elif quote:
        try:
            row.quote_start, row.quote_end = find_quote(text, quote)
        except InputError as exc:
            problems.add(row.row, f"segment {row.segment_id}: {exc.message}")
            return
    else:
        return
    if (row.quote_start, row.quote_end) == (0, len(text)):
        row.quote_start = row.quote_end = None  # the whole turn


def _squash(text: str) -> str:
    return " ".join(text.split())


def _unreadable_xlsx(exc: BaseException) -> str:
    """The reason an .xlsx file could not be read, naming refused XML entities (XXE) plainly."""
    from defusedxml import DefusedXmlException

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return (
                "not a readable .xlsx file: its XML declares entities or external references "
                f"({cause.__class__.__name__}), which qualcode does not read"
            )
        cause = cause.__cause__ or cause.__context__
    return f"not a readable .xlsx file ({exc.__class__.__name__}: {exc})"


def _read_workbook(
    path: Path, coder: str, problems: _Problems
) -> tuple[
    list[LongRow], tuple[str, list[str], list[tuple[int, list[Any]]]] | None, set[Pair] | None
]:
    from xml.etree.ElementTree import ParseError
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    check_zip_archive(path, kind=".xlsx file")
    try:
        workbook = load_workbook(path, read_only=True)
    except (BadZipFile, OSError, KeyError, ValueError, ParseError) as exc:
        # defusedxml's refusals (entities, external references) are ValueErrors too.
        raise InputError(
            _unreadable_xlsx(exc), path=path
        ) from None
    try:
        names = workbook.sheetnames
        long_name = LONG_SHEET if LONG_SHEET in names else names[0]
        header, records = _sheet_records(workbook[long_name])
        missing = [c for c in ("segment_id", "code") if c not in header]
        if missing:
            raise InputError(
                f"the sheet '{long_name}' has no column {', '.join(missing)}", path=path, line=1
            )
        dict_records = [(n, dict(zip(header, values, strict=False))) for n, values in records]
        long = _parse_long(path, dict_records, problems)
        candidates = [n for n in names if n.casefold().startswith(MATRIX_SHEET)]
        matrix_name = next(
            (n for n in (f"{MATRIX_SHEET}_{coder}", MATRIX_SHEET) if n in candidates),
            candidates[0] if len(candidates) == 1 else None,
        )
        matrix = None
        if matrix_name is not None:
            m_header, m_records = _sheet_records(workbook[matrix_name])
            matrix = (matrix_name, m_header, m_records)
        record = None
        if RECORD_SHEET in names:
            r_header, r_records = _sheet_records(workbook[RECORD_SHEET])
            exported_coders = {_cell_text(v[0]) for _, v in r_records}
            source = (
                coder
                if coder in exported_coders
                else (next(iter(exported_coders)) if len(exported_coders) == 1 else None)
            )
            if r_header[:3] == ["coder", "segment_id", "code"] and (source or not r_records):
                record = {
                    (int(_segment_id(v[1]) or 0), _cell_text(v[2]))
                    for _, v in r_records
                    if _cell_text(v[0]) == source
                }
    except (BadZipFile, KeyError, ValueError, ParseError) as exc:
        raise InputError(
            _unreadable_xlsx(exc), path=path
        ) from None
    finally:
        workbook.close()
    return long, matrix, record


def _check_matrix(
    store: Store,
    matrix: tuple[str, list[str], list[tuple[int, list[Any]]]],
    current: set[Pair],
    record: set[Pair] | None,
    desired_long: set[Pair],
    problems: _Problems,
) -> dict[int, tuple[set[str], set[str]]]:
    """Per segment in the matrix: (codes ticked, codes that have a column)."""
    name, header, records = matrix
    if "segment_id" not in header:
        problems.add(1, f"the sheet '{name}' has no column segment_id")
        return {}
    every = set(store.code_paths(active_only=False))
    active = set(store.code_paths())
    code_columns = [(i, h) for i, h in enumerate(header) if h not in MATRIX_COLUMNS and h]
    # Headers were casefolded on reading; map them back to the stored paths.
    by_fold = {p.casefold(): p for p in every}
    columns = []
    for i, h in code_columns:
        path = by_fold.get(h.strip("/"))
        if path is None:
            close = suggest_codes(h, sorted(active))
            problems.add(
                1,
                f"sheet '{name}': column '{h}' is not a code"
                + (f" (did you mean {', '.join(close)}?)" if close else ""),
            )
            continue
        columns.append((i, path))
    seg_index = header.index("segment_id")
    segments = [_segment_id(values[seg_index]) for _, values in records]
    known = existing_segments(store, [s for s in segments if s is not None])
    result: dict[int, tuple[set[str], set[str]]] = {}
    context = (record or set()) | current | desired_long
    for (number, values), seg in zip(records, segments, strict=True):
        if seg is None:
            problems.add(
                number,
                f"sheet '{name}': segment_id '{_cell_text(values[seg_index])}' is not a number",
            )
            continue
        if seg not in known:
            problems.add(number, f"sheet '{name}': no segment with id {seg} in the project")
            continue
        ticked = set()
        for i, path in columns:
            cell = values[i] if i < len(values) else None
            flag = _flag(cell)
            if flag is None:
                problems.add(
                    number, f"sheet '{name}', column {path}: '{_cell_text(cell)}' is not 0 or 1"
                )
            elif flag:
                if path not in active and (seg, path) not in context:
                    problems.add(
                        number, f"sheet '{name}': code '{path}' is no longer in the codebook"
                    )
                ticked.add(path)
        result[seg] = (ticked, {p for _, p in columns})
    return result


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return None if value not in (0, 1) else bool(value)
    text = _cell_text(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _apply_matrix(base: set[Pair], matrix: dict[int, tuple[set[str], set[str]]]) -> set[Pair]:
    """``base`` with the matrix's segments and code columns replaced by its ticks."""
    result = {(s, c) for s, c in base if not (s in matrix and c in matrix[s][1])}
    for seg, (ticked, _) in matrix.items():
        result.update((seg, c) for c in ticked)
    return result


def apply_import(
    store: Store,
    plan: ImportPlan,
    command: str = "import codings",
    *,
    replace_layer: bool = False,
) -> None:
    """Write a plan's diff into its coder's layer as one command (all or nothing).

    A plan that would remove more than half of the layer needs ``replace_layer``. The layer is
    read again inside the write transaction: if another command changed it since the plan was
    made, nothing is written (two imports at once must not leave a layer equal to neither file).
    """
    if not plan.writes:
        return
    if plan.removes_most and not replace_layer:
        raise InputError(
            f"the import would remove {len(plan.removed)} of the {len(plan.base)} codings in "
            f"{plan.coder}'s layer and add {len(plan.added)}; check the file (a header-only file "
            "or an unclosed quote empties a layer) and pass --replace-layer if that is intended",
            path=plan.path,
        )
    with store.write(command, coder=plan.coder) as tx:
        if layer_keys(store, plan.coder) != plan.base:
            raise InputError(
                f"{plan.coder}'s layer changed while the import was being prepared (another "
                "command wrote to it); nothing imported: run the import again",
                path=plan.path,
            )
        store.ensure_coder(tx, plan.coder)
        for seg, code, q_start, _ in plan.removed:
            coding_id = _coding_id(store, plan.coder, seg, code, q_start)
            if coding_id is not None:
                store.remove_coding_by_id(tx, coding_id)
        for key in plan.added:
            seg, code, q_start, q_end = key
            quote = None if q_start is None or q_end is None else (q_start, q_end)
            memo = plan.memos.get(key)
            source_layer = plan.copied_from.get(key)
            template = None
            if source_layer is not None:
                template = store.conn.execute(
                    "SELECT c.source, c.negated, c.evidence, c.memo FROM codings c"
                    " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
                    " WHERE d.name = ? AND c.segment_id = ? AND k.path = ?",
                    (source_layer, seg, code),
                ).fetchone()
            if template is None:
                store.add_coding(
                    tx, seg, code, plan.coder, source="manual", memo=memo, quote=quote
                )
            else:
                source, negated, evidence, old_memo = template
                store.add_coding(
                    tx,
                    seg,
                    code,
                    plan.coder,
                    source=source,
                    negated=bool(negated),
                    evidence=json.loads(evidence),
                    memo=memo or old_memo,
                    quote=quote,
                )
        for transcript_id in plan.to_mark_done:
            store.set_done(tx, transcript_id, plan.coder)


def _coding_id(store: Store, coder: str, seg: int, code: str, q_start: int | None) -> int | None:
    row = store.conn.execute(
        "SELECT c.id FROM codings c JOIN codes k ON k.id = c.code_id JOIN coders d"
        " ON d.id = c.coder_id WHERE d.name = ? AND c.segment_id = ? AND k.path = ?"
        " AND ifnull(c.quote_start, -1) = ?",
        (coder, seg, code, -1 if q_start is None else q_start),
    ).fetchone()
    return None if row is None else int(row[0])


def import_codings(
    store: Store,
    path: Path,
    coder: str,
    command: str = "import codings",
    *,
    dry_run: bool = False,
    replace_layer: bool = False,
) -> ImportPlan:
    """Plan and (unless ``dry_run``) apply an import; returns the plan."""
    plan = plan_import(store, path, coder)
    if not dry_run:
        apply_import(store, plan, command, replace_layer=replace_layer)
    return plan
