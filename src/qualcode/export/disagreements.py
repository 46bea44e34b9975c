"""The disagreements between two coders as a Word document, an Excel sheet or a CSV file, for the
meeting where they talk them through (with an empty "decision" field for each segment)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.agreement import Disagreement
from qualcode.errors import InputError

if TYPE_CHECKING:
    from qualcode.pseudonyms import Pseudonyms

SUFFIXES = (".docx", ".xlsx", ".csv")


def columns(coder_a: str, coder_b: str) -> list[str]:
    """Column names of the CSV and Excel exports."""
    return [
        "segment_id",
        "transcript",
        "respondent",
        "turn",
        "speaker",
        "text",
        f"codes_{coder_a}",
        f"codes_{coder_b}",
        f"only_{coder_a}",
        f"only_{coder_b}",
        f"memos_{coder_a}",
        f"memos_{coder_b}",
        "decision",
    ]


def rows(found: Sequence[Disagreement]) -> list[list[object]]:
    """One row per disagreement, in :func:`columns` order."""
    return [
        [
            d.segment_id,
            d.transcript,
            d.respondent,
            d.position,
            d.speaker,
            d.text,
            "; ".join(d.codes_a),
            "; ".join(d.codes_b),
            "; ".join(d.only_a),
            "; ".join(d.only_b),
            "\n".join(d.memos_a),
            "\n".join(d.memos_b),
            "",
        ]
        for d in found
    ]


def write_disagreements(
    path: Path,
    found: Sequence[Disagreement],
    coder_a: str,
    coder_b: str,
    *,
    title: str = "",
    pseudonyms: Pseudonyms | None = None,
) -> Path:
    """Write the disagreements to ``path``; its suffix (.docx, .xlsx, .csv) chooses the format.

    With ``pseudonyms``, names are replaced in the text, memos, speakers and transcript names:
    the file is made to be shared (with a supervisor, say). It is written next to its final name
    first and moved into place, so a failure leaves no half-written file behind.
    """
    if pseudonyms:
        found = [
            replace(
                d,
                transcript=pseudonyms.apply(d.transcript),
                speaker=pseudonyms.apply(d.speaker),
                text=pseudonyms.apply(d.text),
                memos_a=tuple(pseudonyms.apply(m) for m in d.memos_a),
                memos_b=tuple(pseudonyms.apply(m) for m in d.memos_b),
            )
            for d in found
        ]
    suffix = path.suffix.casefold()
    if suffix not in SUFFIXES:
        raise InputError(
            f"cannot write '{path.suffix or path.name}'; use .docx, .xlsx or .csv", path=path
        )
    if path.parent and not path.parent.is_dir():
        raise InputError("the folder does not exist", path=path.parent)
    title = title or f"Uenigheter mellom {coder_a} og {coder_b}"
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if suffix == ".csv":
            _write_csv(tmp, found, coder_a, coder_b)
        elif suffix == ".xlsx":
            _write_xlsx(tmp, found, coder_a, coder_b, title)
        else:
            _write_docx(tmp, found, coder_a, coder_b, title)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write the file: {exc.strerror or exc}", path=path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _write_csv(path: Path, found: Sequence[Disagreement], a: str, b: str) -> None:
    # utf-8-sig: Excel opens it with æøå intact.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns(a, b))
        writer.writerows(rows(found))


def _write_xlsx(path: Path, found: Sequence[Disagreement], a: str, b: str, title: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Uenigheter"
    header = columns(a, b)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows(found):
        sheet.append(row)
    widths = {"text": 70, "speaker": 12, "transcript": 22}
    for index, name in enumerate(header, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        wide = widths.get(name, 30 if name.startswith(("codes_", "only_", "memos_")) else 12)
        sheet.column_dimensions[letter].width = 40 if name == "decision" else wide
    wrap = Alignment(wrap_text=True, vertical="top")
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = wrap
    sheet.freeze_panes = "A2"
    if found:
        sheet.auto_filter.ref = sheet.dimensions
    book.properties.title = title
    book.save(path)


def _write_docx(path: Path, found: Sequence[Disagreement], a: str, b: str, title: str) -> None:
    from docx import Document

    doc = Document()
    doc.core_properties.title = title
    doc.add_heading(title, level=1)
    doc.add_paragraph(
        f"{len(found)} segmenter der {a} og {b} har kodet ulikt. For hvert segment: teksten, "
        "kodene og notatene til hver koder, og plass til det dere blir enige om."
        if found
        else f"{a} og {b} har kodet alle segmentene de begge har sett likt."
    )
    for d in found:
        doc.add_heading(
            f"{d.transcript}, tur {d.position} ({d.respondent}, segment {d.segment_id})", level=2
        )
        quote = doc.add_paragraph()
        quote.add_run(f"{d.speaker}: ").bold = True
        quote.add_run(d.text)
        table = doc.add_table(rows=4, cols=3)
        table.style = "Table Grid"
        labels = ["", "Koder", "Bare hos", "Notater"]
        values_a = [
            a,
            "; ".join(d.codes_a) or "–",
            "; ".join(d.only_a) or "–",
            "\n".join(d.memos_a) or "–",
        ]
        values_b = [
            b,
            "; ".join(d.codes_b) or "–",
            "; ".join(d.only_b) or "–",
            "\n".join(d.memos_b) or "–",
        ]
        for r in range(4):
            cells = table.rows[r].cells
            cells[0].text = labels[r]
            cells[1].text = values_a[r]
            cells[2].text = values_b[r]
            if r == 0:
                for cell in cells[1:]:
                    for run in cell.paragraphs[0].runs:
                        run.bold = True
        decision = doc.add_paragraph()
        decision.add_run("Beslutning: ").bold = True
        decision.add_run("_" * 40)
    doc.save(str(path))
