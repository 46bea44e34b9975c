"""Rows of a write-only openpyxl sheet written as ready XML, byte for byte as openpyxl writes them.

openpyxl builds a cell object per value, looks its style up in the workbook's style lists and
serialises it element by element; at a thousand interviews (half a million cells) that was half
of ``report all``. Here a row is one XML string, parsed once by lxml and written by the sheet's
own XML stream, with each style looked up once per sheet. What openpyxl would write differently
(a formula-like or error-code text, a date, an infinite number, anything unusual) goes through
openpyxl's own row path, so the file is the same either way (checked by tests/reports).

The sheet's row stream is openpyxl's private machinery (``_get_writer``, ``_rows``,
``_values_to_row``); when it is not as expected, :func:`open_row_stream` returns None and the
caller writes every row the ordinary way.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from typing import Any

#: openpyxl stores these texts as error cells (``t="e"``), not as strings.
_ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))


class _Ready(list):  # type: ignore[type-arg]
    """Builders of ready rows, told apart from an ordinary row of values."""


class RowStream:
    """Sends rows to a write-only sheet: lists the ordinary way, ready XML the fast way.

    Ready rows are gathered and parsed in batches; they are written before the next ordinary row
    and when the sheet is saved.
    """

    BATCH = 256

    def __init__(self, ws: Any) -> None:
        self._stream = _rows(ws)
        next(self._stream)
        self._pending = _Ready()
        #: The number the next row gets (rows count from 1).
        self.next_row = 1
        # The sheet closes the stream on save, as it closes its own; what is gathered goes first.
        ws._rows = self

    def append_xml(self, cells: str) -> None:
        """Write a row of ready cell XML (see :func:`cell_tail`), numbered :attr:`next_row`."""
        self._pending.append(f'<row r="{self.next_row}">{cells}</row>')
        self.next_row += 1
        if len(self._pending) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, _Ready()
            self._stream.send(pending)

    def send(self, row: Any) -> None:
        """An ordinary row (what ``ws.append`` sends), after the ready rows before it."""
        self._flush()
        self._stream.send(row)
        self.next_row += 1

    def close(self) -> None:
        """End the sheet's rows (called by openpyxl when the workbook is saved)."""
        self._flush()
        self._stream.close()


def open_row_stream(ws: Any) -> RowStream | None:
    """A :class:`RowStream` for a write-only sheet with no rows yet, or None where openpyxl's
    sheet is not what this module knows."""
    if not all(hasattr(ws, name) for name in ("_get_writer", "_rows", "_values_to_row")):
        return None
    if ws._rows is not None:
        return None
    if getattr(ws, "_writer", None) is None:
        # What ws._get_writer() does, with a writer whose file ready rows can be written to.
        file_writer = _file_writer_class()
        if file_writer is not None:
            ws._writer = file_writer(ws)
            ws._writer.write_top()
    ws._get_writer()
    writer = getattr(ws, "_writer", None)
    if writer is None or not hasattr(writer, "write_row") or not hasattr(writer, "xf"):
        return None
    return RowStream(ws)


def _rows(ws: Any) -> Iterator[None]:
    """openpyxl's ``WriteOnlyWorksheet._write_rows``, taking ready ``<row>`` elements as well."""
    writer = ws._writer
    xf = writer.xf.send(True)
    with xf.element("sheetData"):
        row_idx = 1
        try:
            while True:
                row = yield
                if row.__class__ is _Ready:
                    _write_ready(writer, xf, row)
                    row_idx += len(row) - 1
                else:
                    writer.write_row(xf, ws._values_to_row(row, row_idx), row_idx)
                row_idx += 1
        except GeneratorExit:
            pass
    writer.xf.send(None)


#: Characters a Python string may hold but an XML file may not: such text goes through lxml,
#: which refuses it as openpyxl's own path does.
_SURROGATES = re.compile("[\ud800-\udfff]")


def _write_ready(writer: Any, xf: Any, rows: list[str]) -> None:
    """Write ready ``<row>`` XML into the sheet: straight into its file where the sheet has a
    :func:`_file_writer_class` writer, else parsed and written by the sheet's XML stream.

    Straight in, the text is what lxml writes for it: the stream is ASCII, every other character
    a decimal character reference (checked against openpyxl's own rows by tests/reports).
    """
    body = "".join(rows)
    file = getattr(writer, "sheet_file", None)
    if file is not None and hasattr(xf, "flush") and not _SURROGATES.search(body):
        xf.flush()  # what lxml holds goes first
        file.write(body.encode("ascii", "xmlcharrefreplace"))
        return
    for element in _parse_rows(body):
        xf.write(element)


@functools.cache
def _file_writer_class() -> Any:
    """openpyxl's sheet writer, writing into a file object of its own (ready rows are written to
    it between lxml's output), or None where openpyxl's writer is not what this module knows."""
    try:
        from openpyxl.worksheet._writer import WorksheetWriter, create_temporary_file
    except ImportError:
        return None
    if not all(hasattr(WorksheetWriter, name) for name in ("close", "write_top", "get_stream")):
        return None

    class SheetFileWriter(WorksheetWriter):  # type: ignore[misc,valid-type]
        """A sheet writer whose XML goes through ``sheet_file``; ``out`` is its path again once
        closed, for openpyxl to put it into the workbook and delete it."""

        def __init__(self, ws: Any) -> None:
            self.sheet_path = create_temporary_file()
            self.sheet_file = open(self.sheet_path, "wb")  # noqa: SIM115 (closed in close())
            super().__init__(ws, out=self.sheet_file)

        def close(self) -> None:
            super().close()
            self.sheet_file.close()
            self.out = self.sheet_path

    return SheetFileWriter


def writes_as_openpyxl(value: Any, styled: bool) -> bool:
    """Whether :func:`cell_xml` writes ``value`` (already an Excel value) as openpyxl would; a
    formula-like text is never passed here (it is a guarded cell of its own)."""
    kind = value.__class__
    if kind is str:
        return styled or value not in _ERROR_CODES
    if kind is float:
        return not (math.isnan(value) or math.isinf(value))
    return kind is int or kind is bool or value is None


def cell_tail(value: Any, style: int | None) -> str | None:
    """A ``<c>`` element as openpyxl writes ``value`` with style id ``style`` (None: unstyled),
    from just after its cell reference (``<c r="B7`` comes first), or None for no cell. Only for
    values :func:`writes_as_openpyxl` accepts. openpyxl writes an empty element as ``<c …></c>``:
    see :func:`_parse_rows`."""
    s = "" if style is None else f' s="{style}"'
    kind = value.__class__
    if kind is str:
        if not value:
            return f'"{s} t="inlineStr"></c>'
        # The same as value != value.strip(), without the copy.
        space = ' xml:space="preserve"' if value[0].isspace() or value[-1].isspace() else ""
        text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'"{s} t="inlineStr"><is><t{space}>{text.replace(chr(13), "&#13;")}</t></is></c>'
    if kind is bool:
        return f'"{s} t="b"><v>{value:.16g}</v></c>'
    if value is None:
        return None if style is None else f'"{s} t="n"></c>'
    return f'"{s} t="n"><v>{value:.16g}</v></c>'


def _parse_rows(body: str) -> Any:
    """The ``<row>`` elements of ready XML, empty elements kept open as openpyxl writes them."""
    from lxml import etree

    parsed = etree.fromstring(f"<rows>{body}</rows>")
    # lxml writes an element whose text is "" as <c></c>, as openpyxl's stream does, and one whose
    # text is None as <c/>.
    if '"></' in body:  # an empty element (text never holds ">", it is escaped)
        for element in parsed.iter("row", "c"):
            if not len(element):
                element.text = ""
    return parsed
