"""The main job: a folder of transcripts in, a coded project and its reports out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.corpus import RespondentSummary, respondents
from qualcode.errors import InputError
from qualcode.ingest import IngestReport, ingest_paths
from qualcode.store import create_store


@dataclass
class AnalyzeResult:
    """What ``analyze`` did and where its results are."""

    project: Path
    ingest: IngestReport
    respondents: list[RespondentSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def analyze(
    folder: Path,
    out: Path,
    *,
    interviewer_labels: tuple[str, ...] = (),
    on_file: Callable[[Path], None] | None = None,
    command: str = "analyze",
) -> AnalyzeResult:
    """Create (or reuse) the project in ``out`` and ingest ``folder`` into it.

    Changed transcripts are re-segmented with their codings carried over; nothing is lost silently
    (the ingest report lists what could not be carried).
    """
    if not folder.is_dir():
        raise InputError("not a folder of transcripts", path=folder)
    with create_store(out) as store:
        report = ingest_paths(
            store,
            [folder],
            interviewer_labels=interviewer_labels,
            replace=True,
            on_file=on_file,
            command=command,
        )
        return AnalyzeResult(project=out, ingest=report, respondents=respondents(store))
