"""The disagreements between two coders as a Word document, an Excel sheet or a CSV file, for the
meeting where they talk them through (with an empty "decision" field for each segment)."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualcode.agreement import Disagreement
from qualcode.errors import InputError
from qualcode.export.tables import clean_text
from qualcode.formulas import guard_xlsx_cell, neutralise_row
from qualcode.outputs import atomic_output, prepare_output_file

if TYPE_CHECKING:
    from qualcode.pseudonyms import Pseudonyms

SUFFIXES = (".docx", ".xlsx", ".csv")

#: The words of the Word and Excel files; ``{a}``/``{b}`` are the coders, ``{n}`` a count.
WORDS: dict[str, dict[str, Any]] = {
    "nb": {
        "title": "Uenigheter mellom {a} og {b}",
        "sheet": "Uenigheter",
        "intro": (
            "{n} segmenter der {a} og {b} har kodet ulikt. For hvert segment: teksten, kodene og "
            "notatene til hver koder, og plass til det dere blir enige om."
        ),
        "none": "{a} og {b} har kodet alle segmentene de begge har sett likt.",
        "heading": "{transcript}, tur {turn} ({respondent}, segment {segment})",
        "labels": ["", "Koder", "Bare hos", "Notater"],
        "decision": "Beslutning",
        "columns": [
            "Segment",
            "Transkripsjon",
            "Respondent",
            "Tur",
            "Taler",
            "Tekst",
            "Koder {a}",
            "Koder {b}",
            "Bare {a}",
            "Bare {b}",
            "Notater {a}",
            "Notater {b}",
            "Beslutning",
        ],
    },
    "en": {
        "title": "Disagreements between {a} and {b}",
        "sheet": "Disagreements",
        "intro": (
            "{n} segments that {a} and {b} coded differently. For each segment: the text, each "
            "coder's codes and memos, and room for what you agree on."
        ),
        "none": "{a} and {b} coded every segment they have both seen the same way.",
        "heading": "{transcript}, turn {turn} ({respondent}, segment {segment})",
        "labels": ["", "Codes", "Only", "Memos"],
        "decision": "Decision",
        "columns": [
            "Segment",
            "Transcript",
            "Respondent",
            "Turn",
            "Speaker",
            "Text",
            "Codes {a}",
            "Codes {b}",
            "Only {a}",
            "Only {b}",
            "Memos {a}",
            "Memos {b}",
            "Decision",
        ],
    },
}
LANGUAGES = tuple(WORDS)
#: Column widths in the Excel file, by position in :func:`columns` (text, decision wide).
_WIDTHS = [12, 22, 12, 8, 12, 70, 30, 30, 30, 30, 30, 30, 40]


def columns(coder_a: str, coder_b: str) -> list[str]:
    """Column names of the CSV export and of ``--format csv|json``: fixed machine names in
    English, whatever the language, so scripts that read them keep working."""
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


def headings(coder_a: str, coder_b: str, lang: str = "en") -> list[str]:
    """Column headings of the Excel export in ``lang`` (same order as :func:`columns`)."""
    return [c.format(a=coder_a, b=coder_b) for c in _words(lang)["columns"]]


def _words(lang: str) -> dict[str, Any]:
    if lang not in WORDS:
        raise InputError(f"unknown language '{lang}' (use {' or '.join(LANGUAGES)})")
    return WORDS[lang]


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


def shareable(
    found: Sequence[Disagreement],
    pseudonyms: Pseudonyms | None = None,
    transcripts: Mapping[str, str] | None = None,
) -> list[Disagreement]:
    """The disagreements with names replaced in text, memos, speakers and transcript names, and
    transcripts named by ``transcripts`` (see :func:`qualcode.pseudonyms.transcript_aliases`)."""
    found = list(found)
    if transcripts:
        found = [replace(d, transcript=transcripts.get(d.transcript, d.transcript)) for d in found]
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
    return found


def write_disagreements(
    path: Path,
    found: Sequence[Disagreement],
    coder_a: str,
    coder_b: str,
    *,
    title: str = "",
    pseudonyms: Pseudonyms | None = None,
    transcripts: Mapping[str, str] | None = None,
    lang: str = "en",
) -> Path:
    """Write the disagreements to ``path``; its suffix (.docx, .xlsx, .csv) chooses the format.

    ``lang`` (nb or en) labels the Word and Excel files; the CSV keeps the machine names of
    :func:`columns`.

    With ``pseudonyms``, names are replaced in the text, memos, speakers and transcript names:
    the file is made to be shared (with a supervisor, say). ``transcripts`` names transcripts
    instead of their file names, which often carry a firm's name (see
    :func:`qualcode.pseudonyms.transcript_aliases`). Missing folders are created. The file is
    written next to its final name first and moved into place, so a failure leaves no
    half-written file behind.
    """
    found = shareable(found, pseudonyms, transcripts)
    suffix = path.suffix.casefold()
    if suffix not in SUFFIXES:
        raise InputError(
            f"cannot write '{path.suffix or path.name}'; use .docx, .xlsx or .csv", path=path
        )
    words = _words(lang)
    title = title or words["title"].format(a=coder_a, b=coder_b)
    prepare_output_file(path)
    try:
        with atomic_output(path) as tmp:
            if suffix == ".csv":
                _write_csv(tmp, found, coder_a, coder_b)
            elif suffix == ".xlsx":
                _write_xlsx(tmp, found, coder_a, coder_b, title, lang)
            else:
                _write_docx(tmp, found, coder_a, coder_b, title, lang)
    except OSError as exc:
        raise InputError(f"cannot write the file: {exc.strerror or exc}", path=path) from None
    return path


def _write_csv(path: Path, found: Sequence[Disagreement], a: str, b: str) -> None:
    # utf-8-sig: Excel opens it with æøå intact.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(neutralise_row(columns(a, b)))
        writer.writerows(neutralise_row(row) for row in rows(found))


def _write_xlsx(
    path: Path, found: Sequence[Disagreement], a: str, b: str, title: str, lang: str
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = _words(lang)["sheet"]
    sheet.append([clean_text(h) for h in headings(a, b, lang)])
    for cell in sheet[1]:
        guard_xlsx_cell(cell)
        cell.font = Font(bold=True)
    for row in rows(found):
        sheet.append([clean_text(v) if isinstance(v, str) else v for v in row])
        for cell in sheet[sheet.max_row]:
            guard_xlsx_cell(cell)  # a turn or memo starting with '=' is text, never a formula
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = wrap
    sheet.freeze_panes = "A2"
    if found:
        sheet.auto_filter.ref = sheet.dimensions
    book.properties.title = title
    book.save(path)


def _write_docx(
    path: Path, found: Sequence[Disagreement], a: str, b: str, title: str, lang: str
) -> None:
    from qualcode.export.tables import add_docx_table, setup_document, text_width_twips

    words = _words(lang)
    # The same page (A4, 2.5 cm margins) and proofing language as the Word report.
    doc = setup_document(lang)
    doc.core_properties.title = title
    doc.add_heading(title, level=1)
    doc.add_paragraph(
        words["intro"].format(n=len(found), a=a, b=b) if found else words["none"].format(a=a, b=b)
    )
    for d in found:
        doc.add_heading(
            words["heading"].format(
                transcript=d.transcript,
                turn=d.position,
                respondent=d.respondent,
                segment=d.segment_id,
            ),
            level=2,
        )
        quote = doc.add_paragraph()
        quote.paragraph_format.keep_with_next = True  # the turn stays with the coders' table
        quote.add_run(clean_text(f"{d.speaker}: ")).bold = True
        quote.add_run(clean_text(d.text))
        labels = words["labels"]
        values_a = [
            "; ".join(d.codes_a) or "–",
            "; ".join(d.only_a) or "–",
            "; ".join(d.memos_a) or "–",
        ]
        values_b = [
            "; ".join(d.codes_b) or "–",
            "; ".join(d.only_b) or "–",
            "; ".join(d.memos_b) or "–",
        ]
        # Sized by content like every table qualcode writes (see add_docx_table).
        add_docx_table(
            doc,
            [labels[0], a, b],
            [
                [labels[r + 1], clean_text(values_a[r]), clean_text(values_b[r])]
                for r in range(3)
            ],
            text_width=text_width_twips(doc),
        )
        decision = doc.add_paragraph()
        decision.add_run(f"{words['decision']}: ").bold = True
        decision.add_run("_" * 40)
    doc.save(str(path))
