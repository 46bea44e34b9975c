"""Long Word tables kept as rows of text until the document is saved, then written row by row.

python-docx holds a document as one lxml tree until it is saved. A table of thousands of rows
(the respondent appendix at 3,000 interviews) is some 300,000 elements there, about 70 MB, and
the report has several. Inside :func:`streamed_tables`, :func:`qualcode.export.tables.add_docx_table`
puts only a long table's properties and column grid into the tree, with a marker where its rows
go, and keeps the rows' texts. :meth:`StreamedTables.save` lets python-docx write the package,
then copies it part by part, writing ``word/document.xml`` with each marker replaced by the rows,
built and serialised a batch at a time by the same code and lxml serialiser as an ordinary table.
The file is the same, byte for byte, as one written without streaming (checked by the tests).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

#: Tables with at least this many rows are streamed; shorter ones cost little in the tree.
STREAMED_MIN_ROWS = 200
#: Rows built and serialised at a time.
ROWS_PER_BATCH = 256

#: A table's marker: a comment, which no text of the document can produce (``<`` is escaped).
_MARKER = "qualcode-rows-{}"
_MARKER_BYTES = re.compile(rb"<!--qualcode-rows-(\d+)-->")

#: Documents being built with streamed tables, by the id of their root element.
_OPEN: dict[int, StreamedTables] = {}

#: Appends one batch of rows after another to the element it is given (see :meth:`defer`).
RowWriter = Callable[[Any], Iterator[None]]


class StreamedTables:
    """The long tables of one document, whose rows are written when it is saved."""

    def __init__(self, doc: DocxDocument, min_rows: int) -> None:
        self.doc = doc
        self.min_rows = min_rows
        self._writers: list[RowWriter] = []

    def defer(self, tbl: Any, write_rows: RowWriter) -> None:
        """Write the rows of ``tbl`` (a ``w:tbl`` in the document, with its properties and grid)
        at save: ``write_rows(parent)`` appends a batch of ``w:tr`` to ``parent`` per step."""
        from lxml import etree

        tbl.append(etree.Comment(_MARKER.format(len(self._writers))))
        self._writers.append(write_rows)

    def save(self, path: str | Path) -> None:
        """Save the document to ``path`` with every deferred table's rows in place."""
        buffer = io.BytesIO()
        self.doc.save(buffer)
        main = self.doc.part.partname.membername
        with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
            for info in source.infolist():
                copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                copy.compress_type = info.compress_type
                copy.external_attr = info.external_attr
                copy.create_system = info.create_system
                if info.filename != main:
                    target.writestr(copy, source.read(info.filename))
                    continue
                with target.open(copy, "w") as out:
                    for piece in self._document_xml(source.read(info.filename)):
                        out.write(piece)

    def _document_xml(self, xml: bytes) -> Iterator[bytes]:
        """``document.xml`` as python-docx wrote it, each marker replaced by its table's rows."""
        position = 0
        written = 0
        for marker in _MARKER_BYTES.finditer(xml):
            yield xml[position : marker.start()]
            yield from self._rows_xml(self._writers[int(marker.group(1))])
            position = marker.end()
            written += 1
        if written != len(self._writers):
            # python-docx dropped a marker: better no file than tables without rows.
            raise RuntimeError(f"{len(self._writers) - written} Word table(s) lost their rows")
        yield xml[position:]

    def _rows_xml(self, write_rows: RowWriter) -> Iterator[bytes]:
        """The serialised rows of one table, a batch at a time."""
        from docx.oxml.ns import qn
        from lxml import etree

        # The rows are built under an element in a tree with the document's namespace
        # declarations, so lxml serialises them exactly as inside the document.
        root = etree.Element(self.doc.element.tag, nsmap=self.doc.element.nsmap)
        holder = etree.SubElement(root, qn("w:tbl"))
        for _ in write_rows(holder):
            if not len(holder):
                continue
            data = etree.tostring(holder, encoding="UTF-8", xml_declaration=False)
            # The holder's own start and end tags go; its content is the batch of rows.
            yield data[data.index(b">") + 1 : data.rindex(b"</")]
            holder.clear()


@contextmanager
def streamed_tables(doc: DocxDocument, min_rows: int | None = None) -> Iterator[StreamedTables]:
    """Within the block, tables of at least ``min_rows`` rows (default
    :data:`STREAMED_MIN_ROWS`) added to ``doc`` by :func:`~qualcode.export.tables.add_docx_table`
    are streamed; save the document with the yielded object's :meth:`~StreamedTables.save`."""
    key = id(doc.element)
    tables = _OPEN[key] = StreamedTables(doc, STREAMED_MIN_ROWS if min_rows is None else min_rows)
    try:
        yield tables
    finally:
        _OPEN.pop(key, None)


def streaming_for(doc: DocxDocument, rows: int) -> StreamedTables | None:
    """Where a table of ``rows`` rows in ``doc`` is to be streamed, or None to build it whole."""
    tables = _OPEN.get(id(doc.element))
    return tables if tables is not None and rows >= tables.min_rows else None
