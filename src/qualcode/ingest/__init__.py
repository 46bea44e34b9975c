"""Reading transcripts (txt, md, docx, vtt, srt) into speaker turns and storing them."""

from qualcode.ingest.importer import (
    CorrectedCoding,
    IngestReport,
    LostCoding,
    collect_files,
    ingest_paths,
    project_interviewer_labels,
    with_default_interviewer_labels,
)
from qualcode.ingest.model import ParsedTranscript, Turn
from qualcode.ingest.readers import SUFFIX_FORMATS, format_of, read_transcript

__all__ = [
    "SUFFIX_FORMATS",
    "CorrectedCoding",
    "IngestReport",
    "LostCoding",
    "ParsedTranscript",
    "Turn",
    "collect_files",
    "format_of",
    "ingest_paths",
    "project_interviewer_labels",
    "read_transcript",
    "with_default_interviewer_labels",
]
