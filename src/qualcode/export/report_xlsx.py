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
    long_date,
    quote_sheet_frame,
    report_title,
    words,
)
from qualcode.export.tables import write_frame_sheet, xlsx_sheet_name
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
    facts = [[w["date"], long_date(report.date, lang)]]
    if report.author:
        facts.append([w["author"], report.author])
    facts += [
        [w["codebook_version"], report.codebook_version or w["not_set"]],
        [w["coder"], report.coder],
        [w["respondent_count"], len(report.summary)],
    ]
    overview = pd.DataFrame(facts, columns=["fact", "value"], dtype=object)
    notes = [f"{w['draft_title']}. {w['draft_body']}"] if report.is_machine_draft else []
    notes += [
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
        title=report_title(report, lang),
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
        widths={
            w["code"]: 28,
            w["respondent"]: 12,
            w["segment"]: 10,
            w["transcript"]: 16,
            w["quote"]: 90,
        },
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
        intro = " ".join(str(section.intro or "").split())
        for i, (caption, frame) in enumerate(section.tables):
            data = frame.reset_index() if _has_named_index(frame) else frame
            write_frame_sheet(
                sheet((section.title if i == 0 else str(caption)) or w["extra_sheet"]),
                data,
                title=f"{section.title}: {caption}" if section.title else str(caption),
                notes=[intro, *section.notes] if i == 0 and intro else list(section.notes),
                freeze_first_column=False,
            )
        for group in section.block_lists:
            write_frame_sheet(
                sheet(group.caption or w["extra_sheet"]),
                group.table,
                title=group.caption,
                freeze_first_column=False,
            )

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


def _has_named_index(frame: pd.DataFrame) -> bool:
    import pandas as pd

    return frame.index.name is not None or not isinstance(frame.index, pd.RangeIndex)
