"""Reading transcripts (txt, md, docx, vtt, srt) into speaker turns and storing them."""

from qualcode.ingest.importer import IngestReport, LostCoding, collect_files, ingest_paths
from qualcode.ingest.model import ParsedTranscript, Turn
from qualcode.ingest.readers import SUFFIX_FORMATS, format_of, read_transcript

__all__ = [
    "SUFFIX_FORMATS",
    "IngestReport",
    "LostCoding",
    "ParsedTranscript",
    "Turn",
    "collect_files",
    "format_of",
    "ingest_paths",
    "read_transcript",
]
