"""The Excel report (``rapport.xlsx``): one sheet per table of the full report.

Sheets: overview, frequencies (counts and %), frequencies by each attribute with few values,
co-occurrence (segments, respondents), every quote, respondents, codebook, and one sheet per extra
section. Numbers stay numbers, so a student can sort, filter and chart them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualcode.export.report_text import (
    frame_notes,
    localize_labels,
    quote_sheet_frame,
    words,
)
from qualcode.export.tables import write_frame_sheet, xlsx_sheet_name
from qualcode.formulas import guard_xlsx_cell
from qualcode.outputs import atomic_output

if TYPE_CHECKING:
    import pandas as pd

    from qualcode.reports import FullReport


def write_report_xlsx(report: FullReport, path: Path, *, lang: str = "nb") -> Path:
    """Write the Excel report to ``path`` (atomically) and return the path."""
    import pandas as pd
    from openpyxl import Workbook

    from qualcode.reports import SHARE_SUFFIX

    w = words(lang)
    wb = Workbook(write_only=True)
    taken: list[str] = []

    def sheet(name: str) -> Any:
        title = xlsx_sheet_name(name, taken)
        taken.append(title)
        return wb.create_sheet(title)

    # Object columns: the respondent count stays a number next to the text facts.
    overview = pd.DataFrame(
        [
            [w["project"], report.project],
            [w["date"], report.date],
            [w["codebook_version"], report.codebook_version or w["not_set"]],
            [w["coder"], report.coder],
            [w["respondent_count"], len(report.summary)],
        ],
        columns=["fact", "value"],
        dtype=object,
    )
    notes = [
        w["method"],
        w["negated_excluded"] if report.exclude_negated else w["negated_included"],
    ]
    if report.left_out:
        notes.append(w["left_out"].format(n=report.left_out))
    notes.extend(report.notes)
    notes.extend(frame_notes(report.freq, lang))
    write_frame_sheet(
        sheet(w["overview"]),
        overview,
        title=f"{w['title']}: {report.project}",
        notes=notes,
        widths={"fact": 22, "value": 60},
        freeze_first_column=False,
        header=False,
    )

    write_frame_sheet(
        sheet(w["freq_sheet"]),
        localize_labels(report.freq, lang),
        title=w["freq_caption"].format(coder=report.coder),
        notes=[w["frequency_intro"]],
        bold_last_row=True,
        widths={w["code"]: 32},
    )
    write_frame_sheet(
        sheet(w["percent_sheet"]),
        localize_labels(report.freq_percent, lang),
        title=w["percent_sheet"],
        notes=[w["percent_intro"]],
        bold_last_row=True,
        widths={w["code"]: 32},
    )
    for attribute, frame in report.by_attribute.items():
        shares = [c for c in frame.columns if str(c).endswith(SHARE_SUFFIX)]
        ranges = frame.attrs.get("ranges")
        title = (
            w["by_ranges"].format(attribute=attribute, ranges=", ".join(ranges))
            if ranges
            else w["by"].format(attribute=attribute)
        )
        write_frame_sheet(
            sheet(w["by"].format(attribute=attribute)),
            localize_labels(frame, lang),
            title=title,
            notes=[w["by_intro"], *frame_notes(frame, lang)],
            bold_last_row=True,
            widths={w["code"]: 32},
            percent_columns=shares,
        )
    write_frame_sheet(
        sheet(w["cooc_sheet"]),
        localize_labels(report.cooc_segment, lang),
        title=w["cooc_caption"],
        notes=[w["cooc_intro"]],
        widths={w["code"]: 28},
    )
    write_frame_sheet(
        sheet(w["cooc_resp_sheet"]),
        localize_labels(report.cooc_respondent, lang),
        title=w["cooc_resp_caption"],
        widths={w["code"]: 28},
    )
    write_frame_sheet(
        sheet(w["quotes_sheet"]),
        quote_sheet_frame(report.quotes, lang),
        title=w["quotes"],
        notes=[w["quotes_intro"]],
        wrap_columns=(w["quote"],),
        widths={w["code"]: 28, w["respondent"]: 12, w["segment"]: 10, w["transcript"]: 24},
    )
    write_frame_sheet(
        sheet(w["respondents_sheet"]),
        localize_labels(report.summary, lang, index_label="respondent"),
        title=w["appendix_caption"],
        wrap_columns=(w["codes"],),
    )
    write_frame_sheet(
        sheet(w["codebook_sheet"]),
        _codebook_frame(report, w),
        title=w["codebook"],
        wrap_columns=(w["definition"],),
        widths={w["code"]: 32, w["name"]: 28},
    )
    for section in report.extra_sections:
        _extra_section(sheet(section.title or w["extra_sheet"]), section)

    path = Path(path)
    with atomic_output(path) as tmp:
        wb.save(tmp)
    return path


def _codebook_frame(report: FullReport, w: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        [[c.path, c.name, c.depth, c.description] for c in report.codebook],
        columns=[w["code"], w["name"], w["level"], w["definition"]],
    )


def _extra_section(ws: Any, section: Any) -> None:
    """An extra section's tables one below the other on one sheet, each with its caption."""
    import pandas as pd
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from qualcode.export.tables import clean_text, excel_value

    ws.column_dimensions["A"].width = 28

    def line(value: str, **font: Any) -> None:
        cell = guard_xlsx_cell(WriteOnlyCell(ws, value=clean_text(value)))
        cell.font = Font(**font)
        ws.append([cell])

    line(section.title, bold=True, size=13)
    for paragraph in str(section.intro or "").split("\n\n"):
        if paragraph.strip():
            line(" ".join(paragraph.split()), italic=True, color="555555")
    for caption, frame in section.tables:
        ws.append([])
        line(str(caption), bold=True)
        data = (
            frame.reset_index()
            if (frame.index.name is not None or not isinstance(frame.index, pd.RangeIndex))
            else frame
        )
        header = []
        for column in data.columns:
            cell = guard_xlsx_cell(WriteOnlyCell(ws, value=clean_text(str(column))))
            cell.font = Font(bold=True)
            header.append(cell)
        ws.append(header)
        for record in data.itertuples(index=False):
            cells = []
            for value in record:
                cells.append(guard_xlsx_cell(WriteOnlyCell(ws, value=excel_value(value))))
            ws.append(cells)
