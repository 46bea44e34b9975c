"""The Word report (``rapport.docx``): title block, codebook, frequencies with a heat map,
co-occurrence, quotes per code, extra sections and the respondents in an appendix.

Everything it shows comes from a :class:`qualcode.reports.FullReport`, which is already
pseudonymised, so this module only lays it out.
"""

from __future__ import annotations

import io
import struct
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualcode.export.docx_stream import streamed_tables
from qualcode.export.report_text import (
    check_quote_style,
    citation,
    frame_notes,
    localize_labels,
    long_date,
    quoted,
    report_title,
    words,
)
from qualcode.export.tables import (
    MIN_TABLE_PT,
    add_caption,
    add_docx_table,
    clean_text,
    frame_to_docx_rows,
    setup_document,
    table_fits,
    text_width_twips,
)
from qualcode.outputs import atomic_output

if TYPE_CHECKING:
    import pandas as pd
    from docx.document import Document as DocxDocument

    from qualcode.reports import FullReport

#: Up to this many respondents the frequency table is code × respondent; beyond, it is split.
MAX_RESPONDENT_COLUMNS = 20
#: More respondent columns than this go on a landscape page.
PORTRAIT_RESPONDENT_COLUMNS = 9
#: The tallest a figure may be (18 cm), so that its heading and caption share its page.
MAX_FIGURE_TWIPS_TALL = 18 * 567
#: The smallest font of the frequency table on a portrait page; smaller goes landscape.
READABLE_PT = 8.5
#: Indent per code level in tables and the codebook, in twips (0.4 cm).
LEVEL_INDENT = 227
#: Quote rows are kept on one page when no quote is longer than this (about 15 lines).
QUOTE_ROW_KEPT_WHOLE = 1500


def write_report_docx(
    report: FullReport,
    path: Path,
    *,
    lang: str = "nb",
    quote_style: str = "table",
    max_quotes_per_code: int | None = 40,
) -> Path:
    """Write the Word report to ``path`` (atomically) and return the path."""
    check_quote_style(quote_style)
    w = words(lang)
    doc = setup_document(lang)
    # Thousands of interviews make tables of thousands of rows: they are written at save, row
    # by row, instead of being held as element trees (see docx_stream).
    with streamed_tables(doc) as streamed:
        title = report_title(report, lang)
        doc.core_properties.title = title
        if report.author:
            doc.core_properties.author = report.author
        _page_numbers(doc, w)
        _title_block(doc, report, w, lang)
        _codebook(doc, report, w)
        _frequencies(doc, report, w, lang)
        _cooccurrence(doc, report, w, lang)
        _quotes(doc, report, w, quote_style, max_quotes_per_code, lang)
        for section in report.extra_sections:
            _extra_section(doc, section, w, lang)
        _appendix(doc, report, w, lang)
        path = Path(path)
        with atomic_output(path) as tmp:
            streamed.save(tmp)
    return path


# -- pieces -------------------------------------------------------------------------------------
def _page_numbers(doc: DocxDocument, w: dict[str, str]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    footer = doc.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run(f"{w['page']} ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), " PAGE ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer._p.append(field)


def _title_block(doc: DocxDocument, report: FullReport, w: dict[str, str], lang: str) -> None:
    from docx.shared import Pt

    doc.add_heading(clean_text(report.title or w["title"]), level=0)
    facts = [(w["date"], long_date(report.date, lang))]
    if report.author:
        facts.append((w["author"], report.author))
    facts += [
        (w["codebook_version"], report.codebook_version or w["not_set"]),
        (w["coder"], report.coder),
        (w["respondent_count"], str(len(report.summary))),
    ]
    for label, value in facts:
        p = doc.add_paragraph()
        p.paragraph_format.space_after = 0
        p.add_run(f"{label}: ").bold = True
        p.add_run(clean_text(value))
    if report.is_machine_draft:
        _draft_box(doc, w)
    else:
        doc.add_paragraph().paragraph_format.space_after = Pt(0)
    notes = [
        w["method"],
        w["negated_excluded"] if report.exclude_negated else w["negated_included"],
    ]
    if report.left_out:
        notes.append(w["left_out"].format(n=report.left_out))
    notes.extend(report.notes)
    notes.extend(frame_notes(report.freq, lang))
    for note in notes:
        doc.add_paragraph(clean_text(note))


def _draft_box(doc: DocxDocument, w: dict[str, str]) -> None:
    """The machine-draft label: a framed, shaded paragraph on the first page."""
    from docx.shared import Pt, RGBColor

    from qualcode.export.tables import _sub

    p = doc.add_paragraph()
    p.paragraph_format.space_before = Pt(10)
    p.paragraph_format.space_after = Pt(10)
    ppr = p._p.get_or_add_pPr()
    borders = _sub(ppr, "pBdr")
    for side in ("top", "left", "bottom", "right"):
        _sub(borders, side, val="single", sz="12", space="6", color="C0504D")
    _sub(ppr, "shd", val="clear", color="auto", fill="FBEAEA")
    head = p.add_run(w["draft_title"] + ". ")
    head.bold = True
    head.font.color.rgb = RGBColor(0x9C, 0x1C, 0x1C)
    p.add_run(w["draft_body"])


def _codebook(doc: DocxDocument, report: FullReport, w: dict[str, str]) -> None:
    from docx.shared import Pt, RGBColor, Twips

    doc.add_heading(w["codebook"], level=1)
    doc.add_paragraph(w["codebook_intro"])
    for code in report.codebook:
        p = doc.add_paragraph()
        p.paragraph_format.left_indent = Twips(LEVEL_INDENT * 2 * (code.depth - 1))
        p.paragraph_format.space_after = Pt(2)
        p.paragraph_format.keep_with_next = True
        name = p.add_run(clean_text(code.path))
        name.bold = True
        if code.name and code.name != code.path.rsplit("/", 1)[-1]:
            p.add_run(clean_text(f" – {code.name}"))
        if not code.active:
            p.add_run(f" ({w['inactive']})").italic = True
        d = doc.add_paragraph()
        d.paragraph_format.left_indent = Twips(LEVEL_INDENT * 2 * (code.depth - 1) + LEVEL_INDENT)
        d.paragraph_format.space_after = Pt(6)
        run = d.add_run(clean_text(code.description) if code.description else w["no_description"])
        if not code.description:
            run.italic = True
            run.font.color.rgb = RGBColor(0x66, 0x66, 0x66)


def _split_freq(freq: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The respondent (or group) columns and the code rows of a frequency frame."""
    from qualcode.reports import RESPONDENTS, TOTAL

    columns = [c for c in freq.columns if c not in (TOTAL, RESPONDENTS)]
    rows = [r for r in freq.index if r != TOTAL]
    return columns, rows


def _intro(doc: DocxDocument, text: str) -> Any:
    """A paragraph that introduces what follows, kept on its page."""
    p = doc.add_paragraph(clean_text(text))
    p.paragraph_format.keep_with_next = True
    return p


def _depth_indents(codes: list[str]) -> dict[int, int]:
    return {i: LEVEL_INDENT * code.count("/") for i, code in enumerate(codes)}


def _landscape_width(doc: DocxDocument) -> int:
    """The text width of a landscape page of the document, in twips."""
    section = doc.sections[-1]
    long_side = max(section.page_width, section.page_height)
    return int((long_side - section.left_margin - section.right_margin) / 635)


def _landscape(doc: DocxDocument, on: bool) -> None:
    from docx.enum.section import WD_ORIENT, WD_SECTION

    current = doc.sections[-1]
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    wide, tall = (
        max(current.page_width, current.page_height),
        min(current.page_width, current.page_height),
    )
    section.orientation = WD_ORIENT.LANDSCAPE if on else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (wide, tall) if on else (tall, wide)


def _frequencies(doc: DocxDocument, report: FullReport, w: dict[str, str], lang: str) -> None:
    from qualcode.reports import RESPONDENTS, TOTAL

    freq = report.freq
    people, codes = _split_freq(freq)
    caption_args = {"coder": report.coder}
    indents = _depth_indents(codes)
    deepest = max(indents.values(), default=0)
    # The whole code × respondent table, if it fits a landscape page at all (its cells are
    # made only for few respondents: a frame of a thousand columns is slow to walk).
    whole = len(people) <= MAX_RESPONDENT_COLUMNS
    if whole:
        header, rows, numeric = frame_to_docx_rows(localize_labels(freq, lang), lang)
        whole = table_fits(header, rows, numeric, _landscape_width(doc), MIN_TABLE_PT, deepest)
    if whole:
        # A landscape page rather than a table in a font too small to read; the heading goes
        # with the table onto that page.
        wide = len(people) > PORTRAIT_RESPONDENT_COLUMNS or not table_fits(
            header, rows, numeric, text_width_twips(doc), READABLE_PT, deepest
        )
        if wide:
            _landscape(doc, True)
        doc.add_heading(w["frequency"], level=1)
        _intro(doc, w["frequency_intro"])
        add_caption(doc, w["table"], w["freq_caption"].format(**caption_args))
        add_docx_table(
            doc,
            header,
            rows,
            numeric=numeric,
            text_width=text_width_twips(doc),
            bold_rows={len(rows) - 1},
            last_row_total=True,
            indents=indents,
            font_size=9,
        )
        if wide:
            _landscape(doc, False)
    else:
        # Word tables stop at 63 columns and nobody reads 40: one table per code, one per respondent.
        doc.add_heading(w["frequency"], level=1)
        _intro(doc, w["frequency_overview"])
        add_caption(doc, w["table"], w["freq_overview_caption"].format(**caption_args))
        frame = localize_labels(freq[[TOTAL, RESPONDENTS]], lang)
        header, rows, numeric = frame_to_docx_rows(frame, lang)
        add_docx_table(
            doc,
            header,
            rows,
            numeric=numeric,
            text_width=text_width_twips(doc),
            bold_rows={len(rows) - 1},
            last_row_total=True,
            indents=_depth_indents(codes),
        )
        doc.add_paragraph()
        _intro(doc, w["frequency_by_respondent"])
        add_caption(doc, w["table"], w["freq_resp_caption"].format(**caption_args))
        top = [c for c in codes if "/" not in c]
        transposed = freq.loc[top, people].T
        transposed[w["total_row"]] = freq.loc[TOTAL, people].values
        transposed.index.name = "respondent"
        frame = localize_labels(transposed, lang, index_label="respondent")
        header, rows, numeric = frame_to_docx_rows(frame, lang)
        numeric = [False] + [True] * (len(header) - 1)
        add_docx_table(doc, header, rows, numeric=numeric, text_width=text_width_twips(doc))
    _heatmap(doc, report, w)


def heatmap_png(freq: pd.DataFrame, w: dict[str, str]) -> bytes:
    """A code × respondent heat map of a frequency frame as PNG bytes (Agg, no display needed)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    people, codes = _split_freq(freq)
    values = (
        freq.loc[codes, people].astype("float64").fillna(0).to_numpy()
        if codes and people
        else np.zeros((max(1, len(codes)), max(1, len(people))))
    )
    many = len(people) > 40
    width = 6.3 if many else min(10.0, max(4.5, 2.6 + 0.38 * len(people)))
    height = min(11.0, max(2.2, 0.9 + 0.26 * len(codes)))
    fig = Figure(figsize=(width, height), dpi=160)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(
        values,
        aspect="auto",
        cmap="Blues",
        interpolation="nearest",
        vmin=0,
        vmax=max(1.0, float(values.max()) if values.size else 1.0),
    )
    ax.set_yticks(range(len(codes)))
    ax.set_yticklabels(
        [("   " * c.count("/")) + c.rsplit("/", 1)[-1] if "/" in c else c for c in codes],
        fontsize=7,
    )
    for label, code in zip(ax.get_yticklabels(), codes, strict=True):
        if "/" not in code:
            label.set_fontweight("bold")
    if many:
        ax.set_xticks([])
        ax.set_xlabel(w["heatmap_xlabel_many"].format(n=len(people)), fontsize=8)
    else:
        ax.set_xticks(range(len(people)))
        ax.set_xticklabels(people, fontsize=7, rotation=90 if len(people) > 12 else 0)
        ax.set_xlabel(w["heatmap_xlabel"], fontsize=8)
        if len(people) * len(codes) <= 600:
            top = values.max() if values.size else 0
            for (i, j), value in np.ndenumerate(values):
                if value:
                    ax.text(
                        j,
                        i,
                        f"{int(value)}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if value > top * 0.6 else "#1f1f1f",
                    )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.ax.tick_params(labelsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _heatmap(doc: DocxDocument, report: FullReport, w: dict[str, str]) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Twips

    doc.add_heading(w["heatmap"], level=2)
    png = heatmap_png(report.freq, w)
    caption = w["heatmap_caption"].format(coder=report.coder)
    # Full width, unless that makes the map taller than fits under its heading with its caption.
    pixels_wide, pixels_tall = struct.unpack(">II", png[16:24])
    width = min(text_width_twips(doc), int(MAX_FIGURE_TWIPS_TALL * pixels_wide / pixels_tall))
    doc.add_picture(io.BytesIO(png), width=Twips(width))
    picture_paragraph = doc.paragraphs[-1]
    picture_paragraph.paragraph_format.keep_with_next = True
    for doc_pr in picture_paragraph._p.iter(qn("wp:docPr")):
        doc_pr.set("descr", clean_text(caption))  # alt text for screen readers
    add_caption(doc, w["figure"], caption, above=False)


def _cooccurrence(doc: DocxDocument, report: FullReport, w: dict[str, str], lang: str) -> None:
    doc.add_heading(w["cooc"], level=1)
    _intro(doc, w["cooc_intro"])
    for frame, caption in (
        (report.cooc_segment, w["cooc_caption"]),
        (report.cooc_respondent, w["cooc_resp_caption"]),
    ):
        if frame.empty:
            continue
        add_caption(doc, w["table"], caption)
        header, rows, numeric = frame_to_docx_rows(localize_labels(frame, lang), lang)
        add_docx_table(
            doc,
            header,
            rows,
            numeric=numeric,
            text_width=text_width_twips(doc),
        )
        doc.add_paragraph()


def spread_over_respondents(quotes: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """At most ``limit`` quotes, taken in turn from each respondent so that no one dominates."""
    if limit is None or len(quotes) <= limit:
        return quotes
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(quotes["respondent"]):
        by_person[label].append(i)
    chosen: list[int] = []
    rank = 0
    while len(chosen) < limit:
        added = False
        for rows in by_person.values():
            if rank < len(rows) and len(chosen) < limit:
                chosen.append(rows[rank])
                added = True
        if not added:
            break
        rank += 1
    return quotes.iloc[sorted(chosen)]


def _quotes(
    doc: DocxDocument,
    report: FullReport,
    w: dict[str, str],
    style: str,
    limit: int | None,
    lang: str,
) -> None:
    doc.add_heading(w["quotes"], level=1)
    doc.add_paragraph(w["quotes_intro"])
    quotes = report.quotes
    groups = {code: frame for code, frame in quotes.groupby("code", sort=False)}
    if not groups:
        doc.add_paragraph(w["no_quotes"])
        return
    codes = [c for c in report.codebook]
    children = {c.path: any(o.path.startswith(c.path + "/") for o in codes) for c in codes}
    for code in codes:
        has_children = children[code.path]
        subtree = [p for p in groups if p == code.path or p.startswith(code.path + "/")]
        if not subtree:
            continue
        level = min(code.depth + 1, 4)
        title = (
            code.path
            if code.name in ("", code.path.rsplit("/", 1)[-1])
            else f"{code.path} – {code.name}"
        )
        doc.add_heading(clean_text(title), level=level)
        own = groups.get(code.path)
        if own is None:
            continue
        if has_children:
            doc.add_heading(clean_text(f"{code.path}: {w['general']}"), level=min(level + 1, 5))
        shown = spread_over_respondents(own, limit)
        if len(shown) < len(own):
            note = doc.add_paragraph(w["quotes_shown"].format(shown=len(shown), total=len(own)))
            note.runs[0].italic = True
            note.paragraph_format.keep_with_next = True
        if style == "table":
            _quote_table(doc, shown, w, code.path, lang)
        else:
            _quote_blocks(doc, shown, w, lang)


def _segment_cell(row: Any, w: dict[str, str]) -> str:
    return f"{row.segment} · {w['negated']}" if row.negated else str(row.segment)


def _quote_table(
    doc: DocxDocument, quotes: pd.DataFrame, w: dict[str, str], code: str, lang: str
) -> None:
    add_caption(doc, w["table"], w["quote_caption"].format(code=code))
    rows = [
        [str(r.respondent), quoted(r.text, lang), _segment_cell(r, w)] for r in quotes.itertuples()
    ]
    add_docx_table(
        doc,
        [w["respondent"], w["quote"], w["segment"]],
        rows,
        numeric=[False, False, True],
        text_width=text_width_twips(doc),
        # A quote split over two pages loses its respondent and segment on the second; only
        # whole turns (--full) may be too long to keep on one page.
        cant_split=max((len(r[1]) for r in rows), default=0) <= QUOTE_ROW_KEPT_WHOLE,
    )
    doc.add_paragraph()


def _quote_blocks(doc: DocxDocument, quotes: pd.DataFrame, w: dict[str, str], lang: str) -> None:
    from docx.shared import Cm, Pt, RGBColor

    for r in quotes.itertuples():
        p = doc.add_paragraph(style="Quote")
        p.paragraph_format.left_indent = Cm(1.0)
        p.paragraph_format.right_indent = Cm(1.0)
        p.paragraph_format.space_after = Pt(8)
        p.add_run(clean_text(citation(r.text, r.respondent, lang)))
        ref = w["segment_ref"].format(segment=r.segment)
        if r.negated:
            ref += f", {w['negated']}"
        small = p.add_run(f" ({ref})")
        small.font.size = Pt(8)
        small.font.color.rgb = RGBColor(0x66, 0x66, 0x66)


def _extra_section(doc: DocxDocument, section: Any, w: dict[str, str], lang: str) -> None:
    tables = []
    for caption, frame in section.tables:
        data = frame.reset_index() if _has_named_index(frame) else frame
        tables.append((caption, *frame_to_docx_rows(data, lang)))
    # Tables too wide for a portrait page in a readable font go, with the section, landscape.
    wide = any(
        not table_fits(header, rows, numeric, text_width_twips(doc), READABLE_PT)
        for _, header, rows, numeric in tables
    )
    if wide:
        _landscape(doc, True)
    doc.add_heading(clean_text(section.title), level=1)
    paragraphs = [p for p in str(section.intro or "").split("\n\n") if p.strip()]
    for i, paragraph in enumerate(paragraphs):
        p = doc.add_paragraph(clean_text(" ".join(paragraph.split())))
        p.paragraph_format.keep_with_next = i == len(paragraphs) - 1 and bool(tables)
    for caption, header, rows, numeric in tables:
        add_caption(doc, w["table"], str(caption))
        add_docx_table(doc, header, rows, numeric=numeric, text_width=text_width_twips(doc))
        doc.add_paragraph()
    for note in getattr(section, "notes", []):
        _small_note(doc, note)
    if wide:
        _landscape(doc, False)
    for group in getattr(section, "block_lists", []):
        doc.add_heading(clean_text(group.caption), level=2)
        for block in group.blocks:
            _block(doc, block, lang)


def _small_note(doc: DocxDocument, text: str) -> None:
    from docx.shared import Pt, RGBColor

    p = doc.add_paragraph()
    run = p.add_run(clean_text(text))
    run.font.size = Pt(9)
    run.font.color.rgb = RGBColor(0x44, 0x44, 0x44)


def _block(doc: DocxDocument, block: Any, lang: str) -> None:
    """A turn at full width under its heading (respondent and turn), then each coder's codes
    and memos in a small table.

    Heading and turn are one paragraph (a line break between them) kept with the table: a chain
    of several kept paragraphs into a table is not honoured by every word processor.
    """
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt

    p = doc.add_paragraph()
    p.paragraph_format.keep_with_next = True
    p.paragraph_format.keep_together = True
    p.paragraph_format.space_before = Pt(8)
    p.paragraph_format.space_after = Pt(4)
    p.add_run(clean_text(block.heading)).bold = True
    p.add_run().add_break(WD_BREAK.LINE)
    p.add_run(clean_text(quoted(block.text, lang)))
    header, rows, numeric = frame_to_docx_rows(block.table, lang)
    add_docx_table(doc, header, rows, numeric=numeric, text_width=text_width_twips(doc))


def _has_named_index(frame: pd.DataFrame) -> bool:
    import pandas as pd

    return frame.index.name is not None or not isinstance(frame.index, pd.RangeIndex)


def _appendix(doc: DocxDocument, report: FullReport, w: dict[str, str], lang: str) -> None:
    from docx.enum.text import WD_BREAK

    people = report.summary_compact if report.summary_compact is not None else report.summary
    attributes = [a for a in people.attrs.get("attributes", []) if a in people.columns]
    parts = [people]
    tables = [_appendix_rows(people, w, lang)]
    portrait = text_width_twips(doc)
    if not table_fits(*tables[0], portrait, READABLE_PT) and attributes:
        # Many attributes make a wide table: attributes in one, counts and codes in another,
        # rather than columns off the edge of the page.
        counts = [c for c in people.columns if c not in attributes]
        parts = [people[attributes], people[counts]]
        tables = [_appendix_rows(part, w, lang) for part in parts]
    wide = not all(table_fits(*t, portrait, READABLE_PT) for t in tables)
    if wide:
        _landscape(doc, True)
    else:
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_heading(w["appendix"], level=1)
    _intro(doc, w["appendix_intro"])
    captions = [w["appendix_caption"], w["appendix_counts_caption"]]
    for caption, (header, rows, numeric) in zip(captions, tables, strict=False):
        add_caption(doc, w["table"], caption)
        add_docx_table(
            doc,
            header,
            rows,
            numeric=numeric,
            text_width=text_width_twips(doc),
            font_size=8,
        )
        doc.add_paragraph()


def _appendix_rows(
    people: pd.DataFrame, w: dict[str, str], lang: str
) -> tuple[list[str], list[list[str]], list[bool]]:
    frame = localize_labels(people, lang, index_label="respondent")
    frame = frame.rename(columns={w["codes"]: w["top_codes"]})
    return frame_to_docx_rows(frame, lang)
