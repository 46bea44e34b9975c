"""The main job: a folder of transcripts in, a coded project and its reports out.

``analyze`` chains the library's steps: ingest the folder, install the codebook, auto-code,
load any hand-coded layers shipped beside the transcripts (``koding/<coder>*.csv``) and write the
Word and Excel reports. Each step is its own transaction; re-running it is safe: unchanged
transcripts are skipped, a changed one is refused as by ``ingest`` (unless ``replace``), the auto
layer is recomputed, and existing human layers are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.corpus import RespondentSummary, respondents
from qualcode.errors import InputError
from qualcode.ingest import IngestReport, ingest_paths
from qualcode.store import Store, create_store

if TYPE_CHECKING:
    from qualcode.codebook import Codebook

DEFAULT_CODEBOOK = Path("codebooks") / "klynge.yaml"
LAYER_FOLDER = "koding"


@dataclass
class AnalyzeResult:
    """What ``analyze`` did and where its results are."""

    project: Path
    ingest: IngestReport
    codebook: Path | None = None
    codebook_changes: object | None = None
    autocode: object | None = None
    layers: dict[str, int] = field(default_factory=dict)
    pseudonyms: Path | None = None
    report_files: tuple[Path, ...] = ()
    respondents: list[RespondentSummary] = field(default_factory=list)


def bundled_codebook() -> Path:
    """The cluster codebook shipped inside the package (a copy of ``codebooks/klynge.yaml``)."""
    return Path(__file__).resolve().parent / "data" / "klynge.yaml"


def find_codebook(explicit: Path | None, folder: Path) -> Path:
    """The codebook to use: ``explicit``, else ``codebooks/klynge.yaml`` here or beside the
    transcript folder, else the one shipped with qualcode."""
    if explicit is not None:
        if not explicit.is_file():
            raise InputError("no such codebook file", path=explicit)
        return explicit
    for candidate in (DEFAULT_CODEBOOK, folder.resolve().parent / DEFAULT_CODEBOOK):
        if candidate.is_file():
            return candidate
    return bundled_codebook()


def analyze(
    folder: Path,
    out: Path,
    *,
    codebook_path: Path | None = None,
    interviewer_labels: tuple[str, ...] = (),
    replace: bool = False,
    lang: str | None = None,
    write_reports: bool = True,
    on_file: Callable[[Path], None] | None = None,
    on_step: Callable[[str, int, int], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    command: str = "analyze",
) -> AnalyzeResult:
    """Ingest ``folder`` into the project in ``out`` (created if needed), code it, report it.

    A transcript changed since it was ingested is refused, as by ``qualcode ingest``: re-segmenting
    it moves or drops people's codings, so it needs ``replace=True`` (``--replace``); then codings
    are carried over and nothing is lost silently (the ingest report lists what was not carried).
    ``lang`` (nb or en) becomes the project's language; None keeps the one set (default nb).
    """
    if not folder.is_dir():
        raise InputError("not a folder of transcripts", path=folder)
    from qualcode.autocode import autocode_project
    from qualcode.codebook import install_codebook, load_codebook

    # Check the codebook before anything is written, so a bad one leaves no half-made project.
    # Without --codebook, a project that has a codebook keeps it: the student may have loaded
    # their own, and analyze must not swap the shipped one in.
    codebook = None if codebook_path is not None else _project_codebook(out)
    if codebook is None:
        codebook_file = find_codebook(codebook_path, folder)
        codebook = load_codebook(codebook_file)
    else:
        codebook_file = Path(codebook.source_path or "(the project's current codebook)")
    with create_store(out) as store:
        report = ingest_paths(
            store,
            [folder],
            interviewer_labels=interviewer_labels,
            replace=replace,
            on_file=on_file,
            on_step=on_step,
            command=command,
        )
        result = AnalyzeResult(project=out, ingest=report, codebook=codebook_file)
        result.pseudonyms = report.pseudonyms
        result.codebook_changes = install_codebook(store, codebook, command)
        result.autocode = autocode_project(
            store, codebook, on_progress=on_progress, command=command
        )
        result.layers = _load_layers(store, folder / LAYER_FOLDER, command)
        if lang is not None:
            from qualcode.reports import LANGUAGE_SETTING, project_language

            if project_language(store) != lang or store.get_setting(LANGUAGE_SETTING) is None:
                with store.write(command) as tx:
                    store.set_setting(tx, LANGUAGE_SETTING, lang)
        if write_reports:
            from qualcode.reports import project_language

            result.report_files = _write_reports(store, out, project_language(store))
        result.respondents = respondents(store)
        return result


def _project_codebook(out: Path) -> Codebook | None:
    """The codebook installed in the project in ``out``, if there is a project with one."""
    from qualcode.codebook import current_codebook
    from qualcode.store import DB_NAME, open_store

    if not (out / DB_NAME).is_file():
        return None
    with open_store(out) as store:
        return current_codebook(store)


def _load_layers(store: Store, folder: Path, command: str) -> dict[str, int]:
    from qualcode.layers import import_layer_files

    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    return import_layer_files(store, files, command) if files else {}


def _write_reports(store: Store, out: Path, lang: str) -> tuple[Path, ...]:
    from qualcode.consistency import consistency_section
    from qualcode.export.report_files import write_full_report

    section = consistency_section(store, lang=lang)
    return write_full_report(
        store, out, lang=lang, extra_sections=[section] if section is not None else []
    )
