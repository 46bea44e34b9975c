"""Auto-coding a whole project: the ``auto`` layer replaced in one transaction, turn batch by turn
batch, so memory stays flat however many interviews the project holds."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from qualcode.autocode.compiled import UNITS, CompiledCodebook
from qualcode.autocode.matches import Match
from qualcode.codebook import Codebook
from qualcode.errors import InputError
from qualcode.nlp import get_pipeline
from qualcode.store import AUTO_CODER, Store, now_iso
from qualcode.tokens import decode_spans, store_missing_tokens

#: Turns coded (and their codings written) per step.
BATCH = 500
#: ``json.dumps(…, ensure_ascii=False)`` without making an encoder for each coding.
_evidence_json = json.JSONEncoder(ensure_ascii=False).encode


@dataclass
class CodeSummary:
    """One code's result in an auto-coding run."""

    path: str
    segments: int = 0
    matches: int = 0
    negated: int = 0


@dataclass
class AutocodeSummary:
    """What :func:`autocode_project` did."""

    segments: int
    coded_segments: int
    codings: int
    removed: int
    unit: str
    seconds: float
    codes: list[CodeSummary] = field(default_factory=list)
    #: Patterns that ran out of time on some turns (see qualcode.patterns).
    warnings: list[str] = field(default_factory=list)


def require_rules(codebook: Codebook) -> None:
    """Refuse a codebook the auto-coder can do nothing with.

    A codebook from another tool (``import qdc``) has names and definitions only: coding with it
    would empty the draft layer without a word.
    """
    if not any(code.has_rules for code in codebook.walk()):
        raise InputError(
            "the codebook has no matching rules (keywords, patterns, near), so there is nothing "
            "to auto-code; the 'auto' layer is left as it was (add rules: docs/codebook.md)",
            path=codebook.source_path,
        )


def autocode_project(
    store: Store,
    codebook: Codebook,
    *,
    unit: str = "turn",
    include_interviewer: bool = False,
    spacy_model: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    command: str = "code",
    compiled: CompiledCodebook | None = None,
) -> AutocodeSummary:
    """Auto-code the project's turns, replacing only the ``auto`` layer (one transaction).

    The codebook must be installed (:func:`qualcode.codebook.install_codebook`) so its codes exist.
    Interviewer turns are skipped unless ``include_interviewer``. Human layers are never touched.
    Turns are read, coded and their codings written in batches inside the one transaction, so
    a concurrent ``ingest --replace`` either lands before (and its turns are coded) or waits.
    ``compiled``: the codebook already compiled (a caller that compiles before installing it).
    """
    if unit not in UNITS:
        raise InputError(f"unknown unit '{unit}'; use turn or sentence")
    known = set(store.code_paths(active_only=True))
    missing = [p for p in codebook.paths() if p not in known]
    if missing:
        raise InputError(
            f"code '{missing[0]}' is not in the project; load the codebook first "
            "('qualcode codebook load FILE')",
            path=codebook.source_path,
        )
    require_rules(codebook)
    began = time.perf_counter()
    if compiled is None:
        compiled = CompiledCodebook(codebook, get_pipeline(spacy_model) if spacy_model else None)
    fast = unit == "turn" and not spacy_model
    where = "" if include_interviewer else " WHERE s.role = 'respondent'"
    # The codings are written batch by batch: a small page cache is enough (the store's 64 MB is
    # for ingest), and keeps memory flat at thousands of interviews.
    page_cache = store.conn.execute("PRAGMA cache_size").fetchone()[0]
    store.conn.execute("PRAGMA cache_size = -8192")
    try:
        return _code_turns(store, codebook, compiled, unit=unit, fast=fast, where=where,
                           include_interviewer=include_interviewer, spacy_model=spacy_model,
                           on_progress=on_progress, command=command, began=began)
    finally:
        store.conn.execute(f"PRAGMA cache_size = {int(page_cache)}")


def _code_turns(
    store: Store,
    codebook: Codebook,
    compiled: CompiledCodebook,
    *,
    unit: str,
    fast: bool,
    where: str,
    include_interviewer: bool,
    spacy_model: str | None,
    on_progress: Callable[[int, int], None] | None,
    command: str,
    began: float,
) -> AutocodeSummary:
    """The write phase of :func:`autocode_project`: every turn coded and stored, batch by batch."""
    code_ids = {path: store.code_id(path) for path in codebook.paths()}
    per_code = {path: CodeSummary(path) for path in codebook.paths()}
    created = now_iso()
    segments = coded_segments = added = 0
    with store.write(command, coder=AUTO_CODER) as tx:
        conn = tx.conn
        total = conn.execute(f"SELECT count(*) FROM segments s{where}").fetchone()[0]
        if fast:
            store_missing_tokens(conn)  # a store made before tokens were kept: once
            # Every word type's matches from the analyses kept at ingest, before the first turn.
            compiled.types.prepare_stored(conn)
        coder_id = store.ensure_coder(tx, AUTO_CODER)
        removed = conn.execute("DELETE FROM codings WHERE coder_id = ?", (coder_id,)).rowcount
        rows = conn.execute(
            "SELECT s.id, s.text, t.spans FROM segments s"
            " LEFT JOIN segment_tokens t ON t.segment_id = s.id"
            f"{where} ORDER BY s.transcript_id, s.position"
        )
        insert = (
            "INSERT INTO codings (segment_id, code_id, coder_id, source, negated, evidence,"
            f" created_at) VALUES (?, ?, {coder_id}, 'auto', ?, ?, ?)"
        )
        while batch := rows.fetchmany(BATCH):
            texts = [text for _, text, _ in batch]
            if fast:
                results = compiled.code_tokens(texts, [decode_spans(b) for _, _, b in batch])
            else:
                results = [compiled.code_text(t, unit) for t in texts]
            inserts = []
            for (seg_id, _, _), coded in zip(batch, results, strict=True):
                coded_segments += bool(coded)
                for path, matches in coded.items():
                    negated = all(m.negated for m in matches)
                    evidence = _evidence_json([m.evidence() for m in matches])
                    inserts.append((seg_id, code_ids[path], int(negated), evidence, created))
                    summary = per_code[path]
                    summary.segments += 1
                    summary.matches += len(matches)
                    summary.negated += int(negated)
            conn.executemany(insert, inserts)
            segments += len(batch)
            added += len(inserts)
            if on_progress:
                on_progress(segments, total)
        tx.audit(
            "replace_auto_layer",
            coder=AUTO_CODER,
            detail={
                "codebook": codebook.name,
                "codebook_sha256": codebook.sha256,
                "unit": unit,
                "include_interviewer": include_interviewer,
                "spacy_model": spacy_model,
                "segments": segments,
                "removed": removed,
                "added": added,
                "per_code": {p: s.segments for p, s in per_code.items() if s.segments},
            },
        )
    compiled.pipeline.save_type_cache()
    if fast:
        compiled.types.save_cache()
    return AutocodeSummary(
        segments=segments,
        coded_segments=coded_segments,
        codings=added,
        removed=removed,
        unit=unit,
        seconds=time.perf_counter() - began,
        codes=list(per_code.values()),
        warnings=[w for _, _, p in compiled.patterns if (w := p.warning())],
    )


def top_codes(paths: Iterable[str]) -> set[str]:
    """The top codes of some code paths (``tillit/åpenhet`` → ``tillit``)."""
    return {p.split("/", 1)[0] for p in paths}


def negation_counts(matches: Iterable[Match]) -> Counter[bool]:
    """How many matches are negated (True) and not (False)."""
    return Counter(m.negated for m in matches)
