"""REFI-QDA interchange: ``.qdpx`` projects and ``.qdc`` codebooks (standard 1.0).

Exports open in NVivo, ATLAS.ti, MAXQDA and other tools with every coding on the right characters;
imports read what those tools write, leniently, and say what they skipped.
"""

from qualcode.refiqda.export import ExportResult, export_qdc, export_qdpx
from qualcode.refiqda.importer import (
    CodebookImport,
    ProjectImport,
    import_qdc,
    import_qdpx,
    read_qdc,
    read_qdpx,
)

__all__ = [
    "CodebookImport",
    "ExportResult",
    "ProjectImport",
    "export_qdc",
    "export_qdpx",
    "import_qdc",
    "import_qdpx",
    "read_qdc",
    "read_qdpx",
]
