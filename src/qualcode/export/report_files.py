"""The full report as files: ``rapport.docx`` and ``rapport.xlsx`` from one
:class:`qualcode.reports.FullReport`.

The tables are computed by :mod:`qualcode.reports` (pandas); this module only checks the options,
builds the report once and hands it to the Word and Excel writers, so data flows one way: reports
never import the writers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.export.report_docx import write_report_docx
from qualcode.export.report_text import check_lang, check_quote_style
from qualcode.export.report_xlsx import write_report_xlsx
from qualcode.outputs import check_output_folder, prepare_output_folder
from qualcode.reports import build_full_report

if TYPE_CHECKING:
    from qualcode.report_sections import ReportSection
    from qualcode.store import Store


def write_full_report(
    store: Store,
    out_dir: str | Path,
    *,
    coder: str | None = None,
    lang: str = "nb",
    quote_style: str = "table",
    extra_sections: Sequence[ReportSection] = (),
    codes: Sequence[str] | None = None,
    respondents: Sequence[str] | None = None,
    exclude_negated: bool = False,
    include_in_progress: bool = False,
    full: bool = False,
    max_per_respondent: int | None = 3,
    max_quotes_per_code: int | None = 40,
) -> tuple[Path, Path]:
    """Write ``rapport.docx`` and ``rapport.xlsx`` into ``out_dir``; returns both paths.

    The Word report shows at most ``max_quotes_per_code`` quotes per code (spread over the
    respondents); the Excel report has every quote within ``max_per_respondent``.
    """
    check_lang(lang)
    check_quote_style(quote_style)
    out = check_output_folder(out_dir)
    report = build_full_report(
        store,
        coder=coder,
        codes=codes,
        respondents=respondents,
        exclude_negated=exclude_negated,
        include_in_progress=include_in_progress,
        full=full,
        max_per_respondent=max_per_respondent,
        extra_sections=extra_sections,
    )
    prepare_output_folder(out)  # only now: a report that fails to build leaves no empty folder
    docx_path = write_report_docx(
        report,
        out / "rapport.docx",
        lang=lang,
        quote_style=quote_style,
        max_quotes_per_code=max_quotes_per_code,
    )
    xlsx_path = write_report_xlsx(report, out / "rapport.xlsx", lang=lang)
    return docx_path, xlsx_path
