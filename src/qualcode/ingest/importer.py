"""Bringing transcript files into the store: one transaction for the whole batch.

Every file is read and checked before anything is written, and the writes for all files happen in
one transaction, so one bad file leaves the store exactly as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.model import ParsedTranscript
from qualcode.ingest.readers import SUFFIX_FORMATS, format_of, read_transcript
from qualcode.ingest.respondents import RESPONDENTS_FILE, RespondentTable, read_respondent_table
from qualcode.pseudonyms import PSEUDONYMS_FILE, adopt, pseudonyms_to_adopt
from qualcode.respondent_labels import neutral_labels
from qualcode.store import DEFAULT_INTERVIEWER_LABELS, Store, WriteTx, command_line, now_iso
from qualcode.tokens import store_missing_tokens

#: A turn whose squashed text is at least this similar (rapidfuzz ``fuzz.ratio``, 0-100) to an old
#: turn near the same position is taken as that turn with a small correction.
CORRECTED_TURN_MIN_RATIO = 90.0
#: How many positions a corrected turn may have moved (turns added or merged before it).
CORRECTED_TURN_WINDOW = 3


@dataclass
class LostCoding:
    """A coding that could not be carried over to a re-segmented transcript."""

    transcript: str
    segment_position: int
    segment_text: str
    code: str
    coder: str
    memo: str | None


@dataclass
class CorrectedCoding:
    """A coding carried over to a turn whose text changed a little (a corrected transcript)."""

    transcript: str
    old_position: int
    new_position: int
    code: str
    coder: str


@dataclass
class IngestReport:
    """What an ingest did, for the user and for tests."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    turns: int = 0
    carried: int = 0
    corrected: list[CorrectedCoding] = field(default_factory=list)
    lost: list[LostCoding] = field(default_factory=list)
    #: The transcripts' ``pseudonyms.csv``, copied into a project that had none.
    pseudonyms: Path | None = None


#: How many files of the respondent table that were not found are named one by one.
MISSING_FILES_LISTED = 10

#: Files that may sit among the transcripts without being transcripts.
NOT_TRANSCRIPTS = frozenset({RESPONDENTS_FILE, PSEUDONYMS_FILE})


def collect_files(paths: Sequence[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The transcript files named or inside the named folders (not their subfolders).

    Files of unknown type and README files inside a folder are skipped (and reported); named
    directly they are read (and an unknown type is an error). The respondent table, the pseudonym
    list and hidden files are never transcripts.
    """
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        if not path.exists():
            raise InputError("no such file or folder", path=path)
        if path.is_dir():
            before = len(files)
            for child in sorted(path.iterdir()):
                if child.is_dir() or child.name.startswith((".", "~$")):
                    continue
                if child.name.lower() in NOT_TRANSCRIPTS:
                    continue
                if child.stem.lower() == "readme":
                    # Students keep notes on the interviews beside them; a README is never one.
                    skipped.append((str(child), "a README is not a transcript"))
                    continue
                if format_of(child) is None:
                    skipped.append((str(child), f"unknown file type '{child.suffix}'"))
                    continue
                files.append(child)
            if len(files) == before:
                raise InputError(_no_transcripts_message(path), path=path)
        else:
            if format_of(path) is None:
                read_transcript(path, [])  # raises the unknown-type error naming the file
            files.append(path)
    seen: dict[str, Path] = {}
    for file in files:
        if file.name in seen and seen[file.name].resolve() != file.resolve():
            raise InputError(
                f"two transcripts share the file name {file.name} ({seen[file.name]}); "
                "rename one: the file name identifies a transcript in the project",
                path=file,
            )
        seen[file.name] = file
    unique = list({f.resolve(): f for f in files}.values())
    return unique, skipped


def _no_transcripts_message(folder: Path) -> str:
    """Why a folder gave no transcripts, naming subfolders that hold some (not read on their own)."""
    holding = []
    try:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            count = sum(
                1
                for f in sub.iterdir()
                if f.is_file() and format_of(f) is not None and f.stem.lower() != "readme"
            )
            if count:
                holding.append(f"{sub.name}/ ({count})")
    except OSError:
        pass
    kinds = ", ".join(sorted(SUFFIX_FORMATS))
    if holding:
        return (
            f"no transcripts ({kinds}) in this folder; subfolders are not read, and these hold "
            f"transcripts: {', '.join(holding[:5])}; give the subfolder instead"
        )
    return f"no transcripts ({kinds}) in this folder"


def _respondent_tables(paths: Sequence[Path], attributes_file: Path | None) -> RespondentTable:
    if attributes_file is not None:
        return read_respondent_table(attributes_file)
    candidates: list[Path] = []
    for path in paths:
        folder = path if path.is_dir() else path.parent
        table = folder / RESPONDENTS_FILE
        if table.is_file() and table not in candidates:
            candidates.append(table)
    merged = RespondentTable()
    for table_path in candidates:
        table = read_respondent_table(table_path)
        for label in table.attributes:
            if label in merged.attributes:
                raise InputError(
                    f"respondent {label} is also listed in {merged.path}", path=table_path
                )
        merged.attributes.update(table.attributes)
        merged.file_owner.update(table.file_owner)
        merged.path = merged.path or table_path
    return merged


def with_default_interviewer_labels(labels: Iterable[str]) -> list[str]:
    """The default interviewer labels followed by ``labels``, each once (case-insensitively)."""
    unique: dict[str, str] = {}
    for label in [*DEFAULT_INTERVIEWER_LABELS, *labels]:
        if label.strip():
            unique.setdefault(label.strip().casefold(), label.strip())
    return list(unique.values())


def project_interviewer_labels(store: Store, extra: Iterable[str] = ()) -> list[str]:
    """The labels read as the interviewer: the defaults, the project's own, then ``extra``.

    The defaults always count, also in a project whose setting was written without them.
    """
    return with_default_interviewer_labels([*store.interviewer_labels(), *extra])


def store_labels(store: Store) -> list[str]:
    """Every respondent label in the project."""
    return [r[0] for r in store.conn.execute("SELECT label FROM respondents")]


def _stored_respondent(store: Store, transcript_name: str) -> str | None:
    row = store.conn.execute(
        "SELECT r.label FROM transcripts t JOIN respondents r ON r.id = t.respondent_id"
        " WHERE t.name = ?",
        (transcript_name,),
    ).fetchone()
    return None if row is None else str(row[0])


def ingest_paths(
    store: Store,
    paths: Sequence[Path],
    *,
    respondent: str | None = None,
    attributes_file: Path | None = None,
    interviewer_labels: Iterable[str] = (),
    replace: bool = False,
    on_file: Callable[[Path], None] | None = None,
    on_step: Callable[[str, int, int], None] | None = None,
    command: str | None = None,
) -> IngestReport:
    """Read transcripts and store them, all or nothing.

    ``respondent`` names the respondent of a single file (and lets a file without speaker labels be
    read as that respondent's speech). A transcript already in the project keeps its respondent
    unless ``respondent`` or the respondent table names one. ``interviewer_labels`` are added to the
    project's labels. ``on_file`` is called after each file is read, and ``on_step(step, done,
    total)`` as the new turns are tokenized and their new words analysed (for progress bars).
    """
    files, skipped = collect_files(paths)
    if respondent is not None and len(files) != 1:
        raise InputError(
            f"--respondent names the respondent of one file, but {len(files)} files were given"
        )
    table = _respondent_tables(paths, attributes_file)
    # Checked before anything is stored; copied once the transcripts are.
    pseudonyms = pseudonyms_to_adopt([Path(p) for p in paths], Path(store.folder))
    labels = project_interviewer_labels(store, interviewer_labels)
    report = IngestReport(skipped=list(skipped))
    report.warnings.extend(f"{p}: skipped, {why}" for p, why in skipped)

    parsed: list[tuple[ParsedTranscript, str]] = []
    owners = {
        file: respondent or table.respondent_for(file) or _stored_respondent(store, file.name)
        for file in files
    }
    neutral = neutral_labels(
        [file for file, owner in owners.items() if owner is None],
        taken=[*(o for o in owners.values() if o), *store_labels(store), *table.attributes],
    )
    for file in files:
        owner = owners[file]
        if owner is None:
            owner = neutral[file]
            if table.path is not None:
                report.warnings.append(
                    f"{file}: not listed in {table.path.name}; respondent is '{owner}'"
                    " (from the file name's id, or the next free R number)"
                )
        transcript = read_transcript(file, labels, whole_text_speaker=respondent)
        parsed.append((transcript, owner))
        if on_file is not None:
            on_file(file)
    # A row whose file is missing from a named folder is suspicious; with single files named,
    # the table's other rows are simply not part of this ingest.
    if table.path is not None and any(path.is_dir() for path in paths):
        read_names = {t.name for t, _ in parsed} | {t.path.stem for t, _ in parsed}
        missing = [(n, o) for n, o in table.file_owner.items() if n not in read_names]
        for name, owner in missing[:MISSING_FILES_LISTED]:
            report.warnings.append(f"{table.path}: {owner}'s file {name} was not among the files")
        if len(missing) > MISSING_FILES_LISTED:
            report.warnings.append(
                f"{table.path}: and {len(missing) - MISSING_FILES_LISTED} more files listed "
                "there were not among the files"
            )

    with store.write(command or command_line()) as tx:
        writer = _BatchWriter(store, tx, labels, table, report)
        for transcript, owner in parsed:
            writer.store_transcript(transcript, owner, replace)
            if transcript.name not in report.unchanged:
                # Warnings about a file already stored unchanged were shown when it was added.
                report.warnings.extend(transcript.warnings)
        for label, attributes in table.attributes.items():
            if store.respondent_id(label) is not None:
                for name, value in attributes.items():
                    store.set_attribute(tx, label, name, value)
        # Tokenized once here, so coding, search and explain never need spaCy.
        store_missing_tokens(tx.conn, on_step)
    if pseudonyms is not None:
        report.pseudonyms = adopt(pseudonyms, Path(store.folder))
    return report


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


class _BatchWriter:
    """The write phase of one ingest: every transcript of the batch in one transaction."""

    def __init__(
        self,
        store: Store,
        tx: WriteTx,
        interviewer_labels: list[str],
        table: RespondentTable,
        report: IngestReport,
    ):
        self.store = store
        self.tx = tx
        self.interviewer = {label.casefold() for label in interviewer_labels}
        self.table = table
        self.report = report
        self._respondent_ids: dict[str, int] = {}
        self._is_respondent: dict[str, bool] = {}

    def respondent_id(self, label: str) -> int:
        """The respondent's id, created on first use."""
        if label not in self._respondent_ids:
            self._respondent_ids[label] = self.store.ensure_respondent(self.tx, label)
        return self._respondent_ids[label]

    def store_transcript(self, transcript: ParsedTranscript, owner: str, replace: bool) -> None:
        """Add a new transcript, skip an unchanged one, or re-segment a changed one."""
        conn = self.tx.conn
        row = conn.execute(
            "SELECT id, sha256 FROM transcripts WHERE name = ?", (transcript.name,)
        ).fetchone()
        if row is not None and row[1] == transcript.sha256:
            self.report.unchanged.append(transcript.name)
            return
        if row is not None and not replace:
            raise InputError(
                "changed since it was ingested; run again with --replace to re-segment it "
                "(codings are carried over to turns whose text is unchanged or slightly corrected)",
                path=transcript.path,
            )
        owner_id = self.respondent_id(owner)
        if row is None:
            cur = conn.execute(
                "INSERT INTO transcripts (respondent_id, name, format, sha256, text, imported_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    owner_id,
                    transcript.name,
                    transcript.format,
                    transcript.sha256,
                    transcript.text,
                    now_iso(),
                ),
            )
            self.insert_segments(int(cur.lastrowid or 0), transcript, owner_id)
            self.tx.audit(
                "add_transcript",
                detail={
                    "transcript": transcript.name,
                    "respondent": owner,
                    "turns": len(transcript.turns),
                },
            )
            self.report.added.append(transcript.name)
        else:
            self.replace_transcript(int(row[0]), transcript, owner_id)
            self.report.replaced.append(transcript.name)
        self.report.turns += len(transcript.turns)

    def insert_segments(
        self, transcript_id: int, transcript: ParsedTranscript, owner_id: int
    ) -> None:
        """Store the transcript's turns in turn order."""
        # In order of first appearance, so respondents get their ids in the order they speak.
        speaker_ids = {
            speaker: self._speaker_respondent(speaker, owner_id)
            for speaker in dict.fromkeys(turn.speaker for turn in transcript.turns)
        }
        text = transcript.text
        rows = []
        for position, turn in enumerate(transcript.turns, start=1):
            respondent_id, role = speaker_ids[turn.speaker]
            rows.append(
                (
                    transcript_id,
                    respondent_id,
                    position,
                    turn.speaker,
                    role,
                    turn.char_start,
                    turn.char_end,
                    turn.start_time,
                    turn.end_time,
                    text[turn.char_start : turn.char_end],
                )
            )
        self.tx.conn.executemany(
            "INSERT INTO segments (transcript_id, respondent_id, position, speaker, role,"
            " char_start, char_end, start_time, end_time, text)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def _speaker_respondent(self, speaker: str, owner_id: int) -> tuple[int, str]:
        """The respondent a speaker's turns belong to, and the speaker's role."""
        if speaker.casefold() in self.interviewer:
            return owner_id, "interviewer"
        # In a joint interview a speaker may be a respondent of their own.
        if speaker not in self._is_respondent:
            self._is_respondent[speaker] = (
                speaker in self.table.attributes or self.store.respondent_id(speaker) is not None
            )
        return (
            self.respondent_id(speaker) if self._is_respondent[speaker] else owner_id,
            "respondent",
        )

    def replace_transcript(
        self, transcript_id: int, transcript: ParsedTranscript, owner_id: int
    ) -> None:
        """Re-segment a changed transcript, carrying codings and memos to unchanged turns."""
        tx, conn, report = self.tx, self.tx.conn, self.report
        old_segments = conn.execute(
            "SELECT id, position, text FROM segments WHERE transcript_id = ? ORDER BY position",
            (transcript_id,),
        ).fetchall()
        old_ids = [s[0] for s in old_segments]
        marks = ",".join("?" * len(old_ids))
        codings = conn.execute(
            f"SELECT c.segment_id, c.code_id, c.coder_id, c.source, c.negated, c.evidence, c.memo,"
            f" c.created_at, k.path, d.name, c.quote_start, c.quote_end FROM codings c"
            f" JOIN codes k ON k.id = c.code_id"
            f" JOIN coders d ON d.id = c.coder_id WHERE c.segment_id IN ({marks})",
            old_ids,
        ).fetchall()
        memos = conn.execute(
            f"SELECT segment_id, coder, text, created_at FROM memos WHERE segment_id IN ({marks})",
            old_ids,
        ).fetchall()
        conn.execute(f"DELETE FROM codings WHERE segment_id IN ({marks})", old_ids)
        conn.execute(f"DELETE FROM memos WHERE segment_id IN ({marks})", old_ids)
        conn.execute("DELETE FROM segments WHERE transcript_id = ?", (transcript_id,))
        conn.execute(
            "UPDATE transcripts SET respondent_id = ?, format = ?, sha256 = ?, text = ?, imported_at = ?"
            " WHERE id = ?",
            (
                owner_id,
                transcript.format,
                transcript.sha256,
                transcript.text,
                now_iso(),
                transcript_id,
            ),
        )
        self.insert_segments(transcript_id, transcript, owner_id)
        new_ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM segments WHERE transcript_id = ? ORDER BY position",
                (transcript_id,),
            )
        ]
        new_positions = _match_turns(
            [(pos, text) for _seg_id, pos, text in old_segments],
            [transcript.turn_text(t) for t in transcript.turns],
        )
        mapping: dict[int, int | None] = {}
        corrected_to: dict[int, int] = {}
        for (seg_id, _pos, _text), (new_position, exact) in zip(
            old_segments, new_positions, strict=True
        ):
            mapping[seg_id] = None if new_position is None else new_ids[new_position - 1]
            if new_position is not None and not exact:
                corrected_to[seg_id] = new_position
        old_by_id = {seg_id: (pos, text) for seg_id, pos, text in old_segments}
        new_texts = dict(
            conn.execute("SELECT id, text FROM segments WHERE transcript_id = ?", (transcript_id,))
        )
        carried = 0
        corrected = 0
        for (
            seg_id,
            code_id,
            coder_id,
            source,
            negated,
            evidence,
            memo,
            created,
            path,
            coder,
            q_start,
            q_end,
        ) in codings:
            target = mapping[seg_id]
            if target is not None:
                if q_start is not None and seg_id in corrected_to:
                    q_start, q_end = _moved_passage(
                        old_by_id[seg_id][1][q_start:q_end], new_texts.get(target, "")
                    )
                conn.execute(
                    "INSERT OR IGNORE INTO codings (segment_id, code_id, coder_id, source, negated,"
                    " evidence, memo, created_at, quote_start, quote_end)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        target,
                        code_id,
                        coder_id,
                        source,
                        negated,
                        evidence,
                        memo,
                        created,
                        q_start,
                        q_end,
                    ),
                )
                if seg_id not in corrected_to:
                    carried += 1
                    continue
                # Carried to a turn whose text changed: listed, so the coder can check it.
                corrected += 1
                pos, text = old_by_id[seg_id]
                new_position = corrected_to[seg_id]
                report.corrected.append(
                    CorrectedCoding(transcript.name, pos, new_position, path, coder)
                )
                tx.audit(
                    "replace_corrected_coding",
                    segment_id=target,
                    code_path=path,
                    coder=coder,
                    detail={
                        "transcript": transcript.name,
                        "old_segment_id": seg_id,
                        "old_position": pos,
                        "new_position": new_position,
                        "old_text": text,
                        "new_text": transcript.turn_text(transcript.turns[new_position - 1]),
                    },
                )
                continue
            pos, text = old_by_id[seg_id]
            lost = LostCoding(transcript.name, pos, text, path, coder, memo)
            report.lost.append(lost)
            tx.audit(
                "replace_lost_coding",
                segment_id=seg_id,
                code_path=path,
                coder=coder,
                detail={
                    "transcript": transcript.name,
                    "position": pos,
                    "segment_text": text,
                    "source": source,
                    "negated": negated,
                    "evidence": evidence,
                    "memo": memo,
                    "created_at": created,
                },
            )
        for seg_id, coder, text, created in memos:
            target = mapping[seg_id]
            if target is not None:
                conn.execute(
                    "INSERT INTO memos (segment_id, coder, text, created_at) VALUES (?, ?, ?, ?)",
                    (target, coder, text, created),
                )
                if seg_id in corrected_to:
                    tx.audit(
                        "replace_corrected_memo",
                        segment_id=target,
                        coder=coder,
                        detail={
                            "transcript": transcript.name,
                            "old_segment_id": seg_id,
                            "old_position": old_by_id[seg_id][0],
                            "new_position": corrected_to[seg_id],
                            "memo": text,
                        },
                    )
            else:
                tx.audit(
                    "replace_lost_memo",
                    segment_id=seg_id,
                    coder=coder,
                    detail={
                        "transcript": transcript.name,
                        "segment_text": old_by_id[seg_id][1],
                        "memo": text,
                    },
                )
        report.carried += carried
        tx.audit(
            "replace_transcript",
            detail={
                "transcript": transcript.name,
                "old_turns": len(old_segments),
                "new_turns": len(transcript.turns),
                "carried_codings": carried,
                "corrected_codings": corrected,
                "lost_codings": len(codings) - carried - corrected,
            },
        )


def _match_turns(
    old_turns: Sequence[tuple[int, str]], new_texts: Sequence[str]
) -> list[tuple[int | None, bool]]:
    """For each old turn ``(position, text)``: the 1-based position of its new turn, or None, and
    whether the match is exact.

    A turn whose text still exists (or is part of a new turn, after turns were merged) goes to the
    nearest such turn. Failing that, a new turn near the same position whose text is nearly the
    same (:data:`CORRECTED_TURN_MIN_RATIO`) is the old turn with a small correction; a new turn
    that another old turn already claims is not a candidate.
    """
    from rapidfuzz import fuzz

    keys = [_squash(text) for text in new_texts]
    result: list[tuple[int | None, bool]] = []
    for position, text in old_turns:
        key = _squash(text)
        found = [pos for pos, new in enumerate(keys, start=1) if new == key]
        if not found:
            found = [pos for pos, new in enumerate(keys, start=1) if key and key in new]
        best = min(found, key=lambda pos: abs(pos - position)) if found else None
        result.append((best, True))
    claimed = {pos for pos, _exact in result if pos is not None}
    for index, ((position, text), (found, _exact)) in enumerate(
        zip(old_turns, result, strict=True)
    ):
        if found is not None:
            continue
        key = _squash(text)
        low = max(1, position - CORRECTED_TURN_WINDOW)
        high = min(len(keys), position + CORRECTED_TURN_WINDOW)
        scored = [
            (fuzz.ratio(key, keys[pos - 1]), -abs(pos - position), pos)
            for pos in range(low, high + 1)
            if pos not in claimed and key
        ]
        scored = [s for s in scored if s[0] >= CORRECTED_TURN_MIN_RATIO]
        if scored:
            best = max(scored)[2]
            result[index] = (best, False)
            # One corrected turn stands for one old turn: a second near copy is not the same turn.
            claimed.add(best)
    return result


def _moved_passage(passage: str, new_text: str) -> tuple[int | None, int | None]:
    """Where a passage stands in a corrected turn; the whole turn if it is not there once."""
    from qualcode.passages import quote_positions

    found = quote_positions(new_text, passage)
    if len(found) != 1 or found[0] == (0, len(new_text)):
        return None, None
    return found[0]
