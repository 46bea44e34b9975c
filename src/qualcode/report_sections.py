"""A report section that another module contributes to the Word and Excel reports.

The consistency checks add their agreement tables to the full report through this, so the report
writer needs no knowledge of how they are computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ReportBlock:
    """A passage read at full width (a turn) with a small table under it (each coder's codes)."""

    heading: str
    text: str
    table: Any  # pandas DataFrame


@dataclass
class BlockList:
    """Blocks under one caption; ``table`` holds the same as one flat table, for spreadsheets."""

    caption: str
    blocks: list[ReportBlock]
    table: Any  # pandas DataFrame


@dataclass
class ReportSection:
    """A titled section: an introduction, tables (caption, pandas DataFrame), notes under the
    tables, and lists of blocks."""

    title: str
    intro: str = ""
    tables: list[tuple[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    block_lists: list[BlockList] = field(default_factory=list)

    def pseudonymised(self, names: Any) -> ReportSection:
        """A copy with ``names`` (a :class:`qualcode.pseudonyms.Pseudonyms`) applied to all text."""
        return ReportSection(
            title=names.apply(self.title),
            intro=names.apply(self.intro),
            tables=[(names.apply(caption), names.apply_frame(df)) for caption, df in self.tables],
            notes=[names.apply(note) for note in self.notes],
            block_lists=[
                BlockList(
                    names.apply(group.caption),
                    [
                        ReportBlock(
                            names.apply(b.heading), names.apply(b.text), names.apply_frame(b.table)
                        )
                        for b in group.blocks
                    ],
                    names.apply_frame(group.table),
                )
                for group in self.block_lists
            ],
        )
