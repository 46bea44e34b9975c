"""A report section that another module contributes to the Word and Excel reports.

The consistency checks add their agreement tables to the full report through this, so the report
writer needs no knowledge of how they are computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ReportSection:
    """A titled section: an introduction paragraph and tables (caption, pandas DataFrame)."""

    title: str
    intro: str = ""
    tables: list[tuple[str, Any]] = field(default_factory=list)
