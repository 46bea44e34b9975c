"""Writing one table (a pandas DataFrame) as csv, xlsx, md, json or docx, and the table builders
the full Word and Excel reports share.

Word tables are built as WordprocessingML directly (python-docx's cell API is slow for the
thousands of rows a large project has): a table style, the header row repeated on every page
(``w:tblHeader``), numbers right-aligned, chosen rows in bold.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from copy import deepcopy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualcode.errors import InputError
from qualcode.export.docx_stream import ROWS_PER_BATCH, streaming_for
from qualcode.export.xlsx_rows import cell_tail, open_row_stream, writes_as_openpyxl
from qualcode.formulas import guard_xlsx_cell, is_formula_like, neutralise_row
from qualcode.outputs import atomic_output, prepare_output_file

if TYPE_CHECKING:
    import pandas as pd
    from docx.document import Document as DocxDocument
    from openpyxl.worksheet.worksheet import Worksheet

TABLE_FORMATS = ("csv", "xlsx", "md", "json", "docx")
TABLE_STYLE = "Light List Accent 1"

# Characters XML 1.0 (and so Word and Excel) cannot hold.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_text(value: str) -> str:
    """``value`` without the control characters Word and Excel files cannot hold."""
    return _ILLEGAL_XML.sub("", value)


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' NA."""
    if value is None:
        return True
    kind = value.__class__
    if kind is str or kind is int or kind is bool:  # most cells: no pandas needed
        return False
    if kind is float:
        return value != value
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (str, bytes)) else False
    except (TypeError, ValueError):
        return False


def format_number(value: Any, lang: str = "en", decimals: int = 1) -> str:
    """A cell value as text: integers plainly, other numbers with ``decimals`` decimals (decimal
    comma in nb)."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or _is_int_like(value):
        return str(int(value))
    if isinstance(value, float) or _is_float_like(value):
        text = f"{float(value):.{decimals}f}"
        return text.replace(".", ",") if lang == "nb" else text
    return clean_text(str(value))


#: Decimals shown at most: agreement coefficients (κ, α) are reported with three.
MAX_DECIMALS = 3


def column_decimals(values: Iterable[Any]) -> int:
    """The decimals a float column needs to show its values as stored, the same for every row.

    Shares are stored rounded to one decimal and agreement coefficients to three, so the data says
    which it is: the fewest decimals (1 to 3) that show every value of the column exactly, and at
    least 2 for a column of values between -1 and 1 (κ or α of 0.8 and 0.85 read as 0.80, 0.85).
    """
    floats = [
        float(v)
        for v in values
        if (isinstance(v, float) or _is_float_like(v)) and not is_missing(v)
    ]
    fewest = 2 if floats and all(-1.0 <= v <= 1.0 for v in floats) else 1
    for decimals in range(fewest, MAX_DECIMALS):
        if all(abs(round(v, decimals) - v) < 1e-9 for v in floats):
            return decimals
    return MAX_DECIMALS


def frame_decimals(frame: pd.DataFrame) -> list[int]:
    """:func:`column_decimals` of every column of ``frame``."""
    # A column of integers or booleans holds no float to look at.
    return [
        1 if getattr(dtype, "kind", "O") in "iub" else column_decimals(frame.iloc[:, i].tolist())
        for i, dtype in enumerate(frame.dtypes)
    ]


def _is_int_like(value: Any) -> bool:
    if value.__class__ in _PLAIN_TYPES:
        return False
    import numpy as np

    return isinstance(value, np.integer)


def _is_float_like(value: Any) -> bool:
    if value.__class__ in _PLAIN_TYPES:
        return False
    import numpy as np

    return isinstance(value, np.floating)


#: Python's own types, which are never numpy's.
_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))


def numeric_columns(frame: pd.DataFrame) -> list[bool]:
    """Which columns of ``frame`` hold numbers."""
    return [getattr(dtype, "kind", "O") in "iuf" for dtype in frame.dtypes]


# -- Word ---------------------------------------------------------------------------------------
@functools.cache
def _w(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(f"w:{tag}")


def _sub(parent: Any, tag: str, **attrs: str) -> Any:
    from lxml import etree

    element = etree.SubElement(parent, _w(tag))
    for key, value in attrs.items():
        element.set(_w(key), value)
    return element


def _cell_paragraph(
    tc: Any, text: str, *, right: bool, bold: bool, size: int, indent: int, keep: bool = False
) -> None:
    p = _sub(tc, "p")
    ppr = _sub(p, "pPr")
    # Child order follows the schema (CT_PPr / CT_RPr sequences), or Word reports a damaged file.
    if keep:
        _sub(ppr, "keepNext")
    _sub(ppr, "spacing", before="0", after="0", line="240", lineRule="auto")
    if indent:
        _sub(ppr, "ind", left=str(indent))
    if right:
        _sub(ppr, "jc", val="right")
    if not text:
        return
    r = _sub(p, "r")
    rpr = _sub(r, "rPr")
    if bold:
        _sub(rpr, "b")
        _sub(rpr, "bCs")
    _sub(rpr, "sz", val=str(size))
    _sub(rpr, "szCs", val=str(size))
    t = _sub(r, "t")
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


#: The width rule of every Word table: no column narrower than its longest word at about
#: 0.17 cm per character at the body size (11 pt), scaled to the table's font.
CHAR_CM_AT_BODY = 0.17
BODY_PT = 11.0
#: What the layout allows per character, in ems: more than the rule, because the file is read
#: in whatever font the reader has (Cambria, or DejaVu Serif where LibreOffice lacks it; digits are
#: 0.64 em there), and bold header words are wider still.
LAYOUT_EM = 0.66
BOLD_EM = 0.74
#: Word's default cell margins (0.19 cm either side) plus a little room, in twips.
CELL_MARGIN_TWIPS = 250
#: A column of sentences is at least this wide, so it never reads one word per line.
PROSE_MIN_CM = 5.0
TWIPS_PER_CM = 567
#: A table of at most this many rows is kept on one page.
KEEP_TOGETHER_ROWS = 25
#: Smallest font a table shrinks to before its columns may not fit the page.
MIN_TABLE_PT = 7.0


_BREAKS = re.compile(r"[ \t\n\r\f\v]+")


def char_twips(font_size: float) -> float:
    """The least width the rule allows one character at ``font_size`` points, in twips."""
    return CHAR_CM_AT_BODY * TWIPS_PER_CM * font_size / BODY_PT


def layout_char_twips(font_size: float, *, bold: bool = False) -> float:
    """The width the layout gives one character at ``font_size`` points, in twips (at least
    :func:`char_twips`)."""
    return max(char_twips(font_size), (BOLD_EM if bold else LAYOUT_EM) * 20 * font_size)


def longest_word(values: Iterable[object]) -> int:
    """Characters in the longest word of ``values``: words end at spaces and line breaks, not
    at a no-break space (which Word never breaks at)."""
    return max((len(word) for value in values for word in _BREAKS.split(str(value))), default=0)


def is_prose(values: Sequence[object]) -> bool:
    """Whether a column holds sentences (a quote, a turn, a list of codes), not labels."""
    texts = [str(v) for v in values if str(v).strip()]
    return any(len(t) >= 45 and len(t.split()) >= 5 for t in texts)


def column_widths(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    text_width: int,
    font_size: float,
) -> tuple[list[int], list[int]]:
    """Column widths in twips sized by content, and the least width of each column.

    Least: the longest word of the column (bold in the header) at :func:`layout_char_twips`, and
    :data:`PROSE_MIN_CM` for a column of sentences. The room left goes first to the text columns
    up to their longest cell on one line, then to the numbers, and what remains to the columns of
    sentences (or the text columns), so text is wide and numbers narrow.
    """
    per_char = layout_char_twips(font_size)
    per_bold = layout_char_twips(font_size, bold=True)
    ncols = len(header)
    columns = [[row[i] for row in rows] for i in range(ncols)]
    least = []
    natural = []
    prose = []
    for i in range(ncols):
        words = max(longest_word([header[i]]) * per_bold, longest_word(columns[i]) * per_char)
        need = CELL_MARGIN_TWIPS + words
        sentences = not numeric[i] and is_prose(columns[i])
        prose.append(sentences)
        if sentences:
            need = max(need, PROSE_MIN_CM * TWIPS_PER_CM)
        least.append(int(need + 0.999))
        longest_cell = max((len(str(v)) for v in columns[i]), default=0)
        natural.append(max(least[-1], int(CELL_MARGIN_TWIPS + per_char * longest_cell)))
    widths = list(least)
    spare = text_width - sum(widths)
    for group in (
        [i for i in range(ncols) if not numeric[i]],
        [i for i in range(ncols) if numeric[i]],
    ):
        wants = {i: natural[i] - widths[i] for i in group if natural[i] > widths[i]}
        total = sum(wants.values())
        if spare <= 0 or total <= 0:
            continue
        share = min(1.0, spare / total)
        for i, want in wants.items():
            widths[i] += int(want * share)
        spare = text_width - sum(widths)
    if spare > 0:
        takers = (
            [i for i in range(ncols) if prose[i]]
            or [i for i in range(ncols) if not numeric[i]]
            or list(range(ncols))
        )
        weight = sum(widths[i] for i in takers)
        for i in takers:
            widths[i] += int(spare * widths[i] / weight)
    return widths, least


def table_fits(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    text_width: int,
    font_size: float,
    indent: int = 0,
) -> bool:
    """Whether every column of the table gets its least width at ``font_size``."""
    _, least = column_widths(header, rows, numeric, text_width, font_size)
    return sum(least) + indent <= text_width


def add_docx_table(
    doc: DocxDocument,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[bool] = (),
    text_width: int = 9071,
    bold_rows: Collection[int] = (),
    last_row_total: bool = False,
    indents: dict[int, int] | None = None,
    font_size: float = 9,
    cant_split: bool = True,
) -> Any:
    """Append a styled table to ``doc`` and return its ``w:tbl`` element.

    ``rows`` hold the cell texts; ``numeric`` marks right-aligned columns, ``bold_rows`` row
    indexes (0 = first data row) in bold, ``indents`` a left indent in twips per row.
    ``text_width`` is the usable page width in twips. A table of up to :data:`KEEP_TOGETHER_ROWS`
    rows without sentences stays on one page (each row kept with the next). Columns are sized by their content
    (:func:`column_widths`); a table whose words do not fit is set in a smaller font, down to
    :data:`MIN_TABLE_PT`.
    """
    from lxml import etree

    ncols = len(header)
    numeric = list(numeric) or [False] * ncols
    indents = indents or {}
    # An indented code needs its indent on top of its longest word.
    indent = max(indents.values(), default=0)
    while True:
        twips, least = column_widths(header, rows, numeric, text_width - indent, font_size)
        twips[0] += indent
        least[0] += indent
        if sum(least) <= text_width or font_size <= MIN_TABLE_PT:
            break
        font_size -= 0.5
    size = str(round(font_size * 2))
    style_id = doc.styles[TABLE_STYLE].style_id
    tbl = etree.Element(_w("tbl"))
    tblpr = _sub(tbl, "tblPr")
    _sub(tblpr, "tblStyle", val=style_id)
    _sub(tblpr, "tblW", w=str(sum(twips)), type="dxa")
    _sub(tblpr, "tblLayout", type="fixed")
    _sub(
        tblpr,
        "tblLook",
        val="04A0",
        firstRow="1",
        lastRow="1" if last_row_total else "0",
        firstColumn="0",
        lastColumn="0",
        noHBand="0",
        noVBand="1",
    )
    grid = _sub(tbl, "tblGrid")
    for width in twips:
        _sub(grid, "gridCol", w=str(width))
    bold = set(bold_rows)
    # A short table of figures stays whole; a table of quotes flows on, row by row.
    together = len(rows) <= KEEP_TOGETHER_ROWS and not any(
        not numeric[i] and is_prose([r[i] for r in rows]) for i in range(ncols)
    )

    cell_templates: dict[tuple[int, bool, bool, int, bool, bool], Any] = {}
    scratch = etree.Element(_w("tr"))

    def add_row(parent: Any, cells: Sequence[str], *, is_header: bool, index: int) -> None:
        tr = _sub(parent, "tr")
        if is_header or cant_split:
            trpr = _sub(tr, "trPr")
            if cant_split:
                _sub(trpr, "cantSplit")
            if is_header:
                # Repeats the header row at the top of every page the table runs onto.
                _sub(trpr, "tblHeader")
        for col, text in enumerate(cells):
            text = clean_text(text)
            right = numeric[col] and not (is_header and col == 0)
            is_bold = is_header or index in bold
            indent = indents.get(index, 0) if col == 0 and not is_header else 0
            # The header always stays with the first row; a short table stays whole.
            keep = is_header or (together and index < len(rows) - 1)
            # Cells differ in their text only, among a few layouts: each layout is built once
            # and copied (much quicker than element by element for thousands of rows).
            key = (col, right, is_bold, indent, keep, bool(text))
            template = cell_templates.get(key)
            if template is None:
                template = cell_templates[key] = _sub(scratch, "tc")
                tcpr = _sub(template, "tcPr")
                _sub(tcpr, "tcW", w=str(twips[col]), type="dxa")
                _cell_paragraph(
                    template, text, right=right, bold=is_bold, size=int(size), indent=indent,
                    keep=keep,
                )
            tc = deepcopy(template)
            if text:
                tc[-1][-1][-1].text = text  # tc > p > r > t
            tr.append(tc)

    def add_rows(parent: Any, batch: int | None = None) -> Iterator[None]:
        """The header and every row appended to ``parent``, ``batch`` rows per step."""
        add_row(parent, list(header), is_header=True, index=-1)
        for i, cells in enumerate(rows):
            add_row(parent, list(cells), is_header=False, index=i)
            if batch and (i + 1) % batch == 0:
                yield
        yield

    streamed = streaming_for(doc, len(rows))
    if streamed is None:
        for _ in add_rows(tbl):
            pass
    body = doc.element.body
    body._insert_tbl(tbl)  # before the final section properties
    if streamed is not None:
        # Only the table's properties and grid stay in the tree; its rows are written at save.
        streamed.defer(tbl, lambda parent: add_rows(parent, ROWS_PER_BATCH))
    return tbl


def add_caption(doc: DocxDocument, label: str, text: str, *, above: bool = True) -> Any:
    """A numbered caption (``Tabell 3: …``) with a SEQ field, so Word can list tables and figures."""
    from lxml import etree

    p = doc.add_paragraph(style="Caption")
    p.paragraph_format.keep_with_next = above
    p.add_run(f"{label} ")
    field = etree.SubElement(p._p, _w("fldSimple"))
    field.set(_w("instr"), f" SEQ {label} \\* ARABIC ")
    number = sum(
        1
        for _ in doc.element.body.iter(_w("fldSimple"))
        if f"SEQ {label} " in (_.get(_w("instr")) or "")
    )
    r = _sub(field, "r")
    rpr = _sub(r, "rPr")
    _sub(rpr, "noProof")
    t = _sub(r, "t")
    t.text = str(number)
    p.add_run(f": {clean_text(text)}")
    return p


def frame_to_docx_rows(
    frame: pd.DataFrame, lang: str
) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, cell texts and numeric flags of a frame whose index is already a column."""
    header = [clean_text(str(c)) for c in frame.columns]
    numeric = numeric_columns(frame)
    decimals = frame_decimals(frame)
    rows = [
        [format_number(v, lang, d) for v, d in zip(record, decimals, strict=True)]
        for record in frame.itertuples(index=False)
    ]
    return header, rows, numeric


def setup_document(lang: str) -> DocxDocument:
    """A new A4 document with 2.5 cm margins and the proofing language set."""
    import docx
    from docx.shared import Cm

    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    defaults = doc.styles.element.find(_w("docDefaults"))
    if defaults is not None:
        for lang_el in defaults.iter(_w("lang")):
            lang_el.set(_w("val"), "nb-NO" if lang == "nb" else "en-GB")
    doc.core_properties.language = "nb-NO" if lang == "nb" else "en-GB"
    doc.core_properties.author = "qualcode"
    return doc


def text_width_twips(doc: DocxDocument) -> int:
    """The usable width of the last section in twips."""
    section = doc.sections[-1]
    return int((section.page_width - section.left_margin - section.right_margin) / 635)


# -- Excel --------------------------------------------------------------------------------------
def xlsx_sheet_name(name: str, taken: Collection[str]) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, none of ``[]:*?/\\``)."""
    base = re.sub(r"[\[\]:*?/\\]", "-", name).strip("'").strip() or "Ark"
    candidate, n = _cut_at_word(base, 31), 2
    while candidate.casefold() in {t.casefold() for t in taken}:
        suffix = f" ({n})"
        candidate = _cut_at_word(base, 31 - len(suffix)) + suffix
        n += 1
    return candidate


def _cut_at_word(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with ``…`` where it was cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    # A single long word has no boundary to cut at: cut inside it rather than keep nothing.
    if space > limit // 3:
        cut = cut[:space]
    return cut.rstrip(" -:,;") + "…"


#: A number as a person types it into a spreadsheet; a leading zero (``007``, a postcode) is text.
_NUMBER_TEXT = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")


def number_from_text(value: Any) -> Any:
    """``value`` as an int or float when it is text that reads as a plain number, else as is."""
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        text = value.strip()
        return float(text) if "." in text else int(text)
    return value


def numeric_text_columns(frame: pd.DataFrame) -> list[bool]:
    """Which text columns of ``frame`` hold only numbers written as text (and blanks)."""
    return _numeric_text_columns(frame, [frame.iloc[:, i].tolist() for i in range(frame.shape[1])])


def _numeric_text_columns(frame: pd.DataFrame, columns: list[list[Any]]) -> list[bool]:
    """:func:`numeric_text_columns` of ``frame``, whose columns' values are ``columns``."""
    flags = []
    for values, dtype in zip(columns, frame.dtypes, strict=True):
        numbers = False
        if getattr(dtype, "kind", "O") == "O":
            # Stops at the first value that is not a number (most text columns: the first row).
            for v in values:
                if is_missing(v) or v == "":
                    continue
                if not (isinstance(v, str) and _NUMBER_TEXT.fullmatch(v.strip())):
                    numbers = False
                    break
                numbers = True
        flags.append(numbers)
    return flags


def write_frame_sheet(
    ws: Worksheet,
    frame: pd.DataFrame,
    *,
    title: str | None = None,
    notes: Sequence[str] = (),
    bold_last_row: bool = False,
    wrap_columns: Collection[str] = (),
    widths: dict[str, float] | None = None,
    percent_columns: Collection[str] = (),
    freeze_first_column: bool = True,
    header: bool = True,
) -> None:
    """Write a frame (index already a column) to a write-only worksheet, formatted for reading.

    Numbers stay numbers (Excel shows them in the reader's locale), and so does a text column
    holding only numbers (an attribute such as ``size`` read from a CSV file); text that starts
    with ``=`` is stored as text, never as a formula. ``header=False`` leaves out the column
    names (a list of facts).
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    columns = [str(c) for c in frame.columns]
    # Each column's values once (a frequency table has a column per respondent: thousands).
    column_values = [series.tolist() for _, series in frame.items()]
    as_numbers = _numeric_text_columns(frame, column_values)
    numeric = [n or t for n, t in zip(numeric_columns(frame), as_numbers, strict=True)]
    decimals = [
        column_decimals(map(number_from_text, values))
        if as_numbers[i]
        else 1
        if getattr(dtype, "kind", "O") in "iub"
        else column_decimals(values)
        for i, (values, dtype) in enumerate(zip(column_values, frame.dtypes, strict=True))
    ]
    widths = widths or {}
    # Text columns (sentences, lists of codes) are wrapped and at least TEXT_COLUMN_WIDTH wide.
    wrap_columns = {
        *wrap_columns,
        *(
            c
            for i, c in enumerate(columns)
            if not numeric[i] and is_prose([v for v in column_values[i][:500] if isinstance(v, str)])
        ),
    }
    for i, column in enumerate(columns, start=1):
        if column in widths:
            width = widths[column]
        else:
            sample = [len(column)] + [len(format_number(v)) for v in column_values[i - 1][:200]]
            width = min(45.0, max(8.0, max(sample) * 1.1 + 2))
        if column in wrap_columns:
            width = max(width, 80.0 if column not in widths else TEXT_COLUMN_WIDTH)
        ws.column_dimensions[get_column_letter(i)].width = width
    # A write-only sheet writes its views and page setup with the first row: set them first.
    header_row = 1 + bool(title) + len(notes) + bool(title or notes)
    first_col = "B" if freeze_first_column and len(columns) > 1 else "A"
    if header:
        ws.freeze_panes = f"{first_col}{header_row + 1}"
        set_print_setup(ws, f"{header_row}:{header_row}")
    else:
        # A list of facts: the data starts where the header row would have been.
        ws.freeze_panes = f"A{header_row}" if header_row > 1 else None
        set_print_setup(ws, f"1:{header_row - 1}" if header_row > 1 else None)
    # Opened only now: the sheet writes its views and columns when its rows begin.
    stream = open_row_stream(ws)
    if title:
        cell = guard_xlsx_cell(WriteOnlyCell(ws, value=clean_text(title)))
        cell.font = Font(bold=True, size=13)
        ws.append([cell])
    for note in notes:
        cell = guard_xlsx_cell(WriteOnlyCell(ws, value=clean_text(note)))
        cell.font = Font(italic=True, color="555555")
        ws.append([cell])
    if title or notes:
        ws.append([])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DCE6F1")
    header_cells = []
    for column, is_num in zip(columns, numeric, strict=True):
        cell = guard_xlsx_cell(WriteOnlyCell(ws, value=clean_text(column)))
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(
            horizontal="right" if is_num else "left", vertical="bottom", wrap_text=True
        )
        header_cells.append(cell)
    if header:
        ws.append(header_cells)
    else:
        header_row -= 1
    wrap = {i for i, c in enumerate(columns) if c in wrap_columns}
    percent = {i for i, c in enumerate(columns) if c in percent_columns}
    top = Alignment(vertical="top", wrap_text=True)
    n = len(frame)
    letters = [get_column_letter(i) for i in range(1, len(columns) + 1)]
    style_ids: dict[tuple[bool, str | None, bool], int | None] = {}

    def style_id(wrapped: bool, number_format: str | None, is_last: bool) -> int | None:
        """The workbook's id of a data cell's style, registered as openpyxl registers it."""
        key = (wrapped, number_format, is_last)
        if key not in style_ids:
            cell = WriteOnlyCell(ws)
            if wrapped:
                cell.alignment = top
            if number_format:
                cell.number_format = number_format
            if is_last:
                cell.font = bold
            style_ids[key] = cell.style_id if cell.has_style else None
        return style_ids[key]

    number_formats = ["0." + "0" * d for d in decimals]
    values_by_column = [
        [_excel_value(number_from_text(v)) for v in values]
        if as_numbers[i]
        else [_excel_value(v) for v in values]
        for i, values in enumerate(column_values)
    ]
    del column_values
    # Each cell's style: (wrapped, number format, bold) or None for a plain value.
    keys_by_column = []
    for i, values in enumerate(values_by_column):
        wrapped, fmt = i in wrap, number_formats[i]
        keys: list[tuple[bool, str | None, bool] | None]
        if i in percent:
            keys = [(wrapped, fmt, False)] * len(values)
        else:
            plain = (wrapped, None, False) if wrapped else None
            keys = [(wrapped, fmt, False) if isinstance(v, float) else plain for v in values]
        if bold_last_row and keys:
            last = keys[-1]
            keys[-1] = (wrapped, last[1] if last else None, True)
        keys_by_column.append(keys)
    quick = stream is not None and all(
        not is_formula_like(v) and writes_as_openpyxl(v, key is not None)
        for values, keys in zip(values_by_column, keys_by_column, strict=True)
        for v, key in zip(values, keys, strict=True)
    )
    if quick:
        # Styles are numbered in the order openpyxl meets them: row by row, left to right.
        first_seen: dict[tuple[bool, str | None, bool], tuple[int, int]] = {}
        for i, keys in enumerate(keys_by_column):
            for key in dict.fromkeys(keys):
                if key is not None:
                    j = keys.index(key)
                    if key not in first_seen or (j, i) < first_seen[key]:
                        first_seen[key] = (j, i)
        for key in sorted(first_seen, key=first_seen.__getitem__):
            style_id(*key)
        # In slices of rows, so that the XML of a long sheet is never all in memory at once.
        for begin in range(0, n, ROWS_PER_SLICE):
            tails_by_column = [
                [
                    cell_tail(v, None if key is None else style_ids[key])
                    for v, key in zip(
                        values[begin : begin + ROWS_PER_SLICE],
                        keys[begin : begin + ROWS_PER_SLICE],
                        strict=True,
                    )
                ]
                for values, keys in zip(values_by_column, keys_by_column, strict=True)
            ]
            for tails in zip(*tails_by_column, strict=True):
                r = stream.next_row  # type: ignore[union-attr]
                stream.append_xml(  # type: ignore[union-attr]
                    "".join(
                        [f'<c r="{c}{r}{t}' for c, t in zip(letters, tails, strict=True) if t]
                    )
                )
    else:
        for row_number, record in enumerate(zip(*values_by_column, strict=True), start=1):
            is_last = bold_last_row and row_number == n
            cells: list[Any] = []
            for i, value in enumerate(record):
                formula_like = is_formula_like(value)
                number = i in percent or isinstance(value, float)
                if not (is_last or formula_like or i in wrap or number):
                    cells.append(value)  # a plain value is much faster to write than a cell
                    continue
                cell = guard_xlsx_cell(WriteOnlyCell(ws, value=value))  # text, never a formula
                if i in wrap:
                    cell.alignment = top
                if number:
                    cell.number_format = number_formats[i]
                if is_last:
                    cell.font = bold
                cells.append(cell)
            ws.append(cells)
    if n and header:
        last_col = get_column_letter(len(columns))
        ws.auto_filter.ref = (
            f"A{header_row}:{last_col}{header_row + n - (1 if bold_last_row else 0)}"
        )


#: Rows of a sheet whose cell XML is made at once (see :func:`write_frame_sheet`).
ROWS_PER_SLICE = 2000

#: Least width (characters) of a wrapped text column in Excel.
TEXT_COLUMN_WIDTH = 40.0


def set_print_setup(ws: Worksheet, title_rows: str | None) -> None:
    """Print a sheet landscape, fitted to one page wide, with ``title_rows`` on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows


def excel_value(value: Any) -> Any:
    """A cell value as openpyxl stores it: plain Python numbers, clean text, None for missing."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if _is_int_like(value):
        return int(value)
    if _is_float_like(value):
        return float(value)
    if isinstance(value, str):
        return clean_text(value)[:32767]
    return value


def _excel_value(value: Any) -> Any:
    """:func:`excel_value`, quicker for the plain Python values most cells hold."""
    kind = value.__class__
    if kind is str:
        return _ILLEGAL_XML.sub("", value)[:32767]
    if kind is int or kind is bool:
        return value
    if kind is float:
        return None if value != value else value
    return excel_value(value)


# -- one table as a file ------------------------------------------------------------------------
def table_format(path: Path | None, fmt: str | None) -> str:
    """The format to write: ``fmt`` if given, else the file's suffix; an error when unknown."""
    if fmt:
        if fmt not in TABLE_FORMATS:
            raise InputError(f"unknown table format '{fmt}' (use {', '.join(TABLE_FORMATS)})")
        return fmt
    suffix = path.suffix.casefold().lstrip(".") if path is not None else ""
    if suffix not in TABLE_FORMATS:
        raise InputError(
            f"cannot tell the format from '{path}'; give --format {'|'.join(TABLE_FORMATS)}",
            path=path,
        )
    return suffix


def frame_to_markdown(frame: pd.DataFrame, *, title: str | None = None, lang: str = "en") -> str:
    """A GitHub-flavoured Markdown table (index already a column), numbers right-aligned."""

    def cell(value: Any, decimals: int = 1) -> str:
        text = format_number(value, lang, decimals)
        return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")

    numeric = numeric_columns(frame)
    decimals = frame_decimals(frame)
    lines = []
    if title:
        lines += [f"## {cell(title)}", ""]
    lines.append("| " + " | ".join(cell(c) for c in frame.columns) + " |")
    lines.append("|" + "|".join("---:" if n else ":---" for n in numeric) + "|")
    for record in frame.itertuples(index=False):
        lines.append(
            "| " + " | ".join(cell(v, d) for v, d in zip(record, decimals, strict=True)) + " |"
        )
    return "\n".join(lines) + "\n"


def frame_to_json(frame: pd.DataFrame) -> str:
    """The frame (index already a column) as a JSON list of objects."""
    records = [
        {
            str(k): (None if is_missing(v) else excel_value(v))
            for k, v in zip(frame.columns, rec, strict=True)
        }
        for rec in frame.itertuples(index=False)
    ]
    return json.dumps(records, ensure_ascii=False, indent=2, default=str) + "\n"


def write_table(
    frame: pd.DataFrame,
    path: Path,
    fmt: str | None = None,
    *,
    title: str | None = None,
    index: bool = True,
    lang: str = "en",
    bold_last_row: bool = False,
    wrap_columns: Collection[str] = (),
    sheet_name: str | None = None,
    notes: Sequence[str] = (),
) -> Path:
    """Write one table to ``path`` as csv, xlsx, md, json or docx (``fmt`` or the file suffix).

    ``sheet_name`` names the Excel sheet (default: the title, cut at a word); ``notes`` go under
    the title in Excel and Word. A Word table of many columns gets a landscape page. Missing
    folders are created. The file is written next to its final name first and then moved into
    place, so a failure never leaves half a file (and an open file in Word gives a clear error).
    """
    fmt = table_format(path, fmt)
    data = frame.reset_index() if index else frame
    path = prepare_output_file(path)
    with atomic_output(path) as tmp:
        if fmt == "csv":
            import csv

            with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(neutralise_row(str(c) for c in data.columns))
                for record in data.itertuples(index=False):
                    writer.writerow(
                        neutralise_row("" if is_missing(v) else excel_value(v) for v in record)
                    )
        elif fmt == "md":
            tmp.write_text(frame_to_markdown(data, title=title, lang=lang), encoding="utf-8")
        elif fmt == "json":
            tmp.write_text(frame_to_json(data), encoding="utf-8")
        elif fmt == "xlsx":
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            ws = wb.create_sheet(xlsx_sheet_name(sheet_name or title or "Tabell", ()))
            write_frame_sheet(
                ws,
                data,
                title=title,
                notes=notes,
                bold_last_row=bold_last_row,
                wrap_columns=wrap_columns,
            )
            wb.save(tmp)
        else:
            doc = setup_document(lang)
            header, rows, numeric = frame_to_docx_rows(data, lang)
            # Landscape for many columns, or for a table that needs a font under 8.5 pt upright.
            if len(data.columns) > LANDSCAPE_COLUMNS or not table_fits(
                header, rows, numeric, text_width_twips(doc), 8.5
            ):
                _landscape(doc)
            if title:
                doc.add_heading(clean_text(title), level=1)
            for note in notes:
                doc.add_paragraph(clean_text(note))
            add_docx_table(
                doc,
                header,
                rows,
                numeric=numeric,
                text_width=text_width_twips(doc),
                bold_rows={len(rows) - 1} if bold_last_row and rows else (),
                last_row_total=bold_last_row,
                cant_split=not wrap_columns,
            )
            doc.save(str(tmp))
    return path


#: A one-table Word file with more columns than this is laid out on a landscape page.
LANDSCAPE_COLUMNS = 10


def _landscape(doc: DocxDocument) -> None:
    from docx.enum.section import WD_ORIENT

    section = doc.sections[-1]
    width, height = section.page_width, section.page_height
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = max(width, height), min(width, height)
