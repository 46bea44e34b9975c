"""Progress per coder and transcript: not started, in progress, or done.

A coder marks a transcript done when they have read all of it, whether or not they found
anything to code there. Reports, agreement, consistency and evaluation count a transcript as coded
by a coder only once it is done: a half-coded interview would otherwise show its uncoded turns as
"not mentioned". The auto-coder's layer is done wherever it has run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qualcode.audit import undone_command_ids
from qualcode.corpus import natural_key
from qualcode.errors import InputError
from qualcode.store import AUTO_CODER, Store

NOT_STARTED = "not started"
IN_PROGRESS = "in progress"
DONE = "done"


@dataclass(frozen=True)
class ProgressRow:
    """One coder's progress in one transcript."""

    transcript: str
    respondent: str
    coder: str
    status: str
    coded_turns: int
    turns: int  # respondent turns: the ones that are coded

    def as_tuple(self) -> tuple[str, str, str, str, int, int]:
        return (
            self.transcript,
            self.respondent,
            self.coder,
            self.status,
            self.coded_turns,
            self.turns,
        )


PROGRESS_COLUMNS = ("transcript", "respondent", "coder", "status", "coded_turns", "turns")


def _coder_id(store: Store, coder: str) -> int | None:
    return store.coder_id(coder)


def marked_done(store: Store, coder: str) -> set[int]:
    """Transcript ids ``coder`` has marked done (every transcript for the auto-coder)."""
    if coder == AUTO_CODER:
        return {r[0] for r in store.conn.execute("SELECT id FROM transcripts")}
    return {
        r[0]
        for r in store.conn.execute(
            "SELECT t.transcript_id FROM transcripts_done t JOIN coders d ON d.id = t.coder_id"
            " WHERE d.name = ?",
            (coder,),
        )
    }


def started(store: Store, coder: str) -> set[int]:
    """Transcript ids where ``coder`` has a coding now or took a review decision not undone."""
    ids = {
        r[0]
        for r in store.conn.execute(
            "SELECT DISTINCT s.transcript_id FROM codings c JOIN segments s ON s.id = c.segment_id"
            " JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
            (coder,),
        )
    }
    undone = undone_command_ids(store)
    for command_id, transcript_id in store.conn.execute(
        "SELECT a.command_id, s.transcript_id FROM audit_log a JOIN segments s"
        " ON s.id = a.segment_id WHERE a.action = 'review' AND a.coder = ?",
        (coder,),
    ):
        if command_id not in undone:
            ids.add(transcript_id)
    return ids


def done_transcripts(store: Store, coder: str, *, include_in_progress: bool = False) -> set[int]:
    """Transcript ids that count as coded by ``coder``: done ones, plus started ones if asked."""
    done = marked_done(store, coder)
    if include_in_progress and coder != AUTO_CODER:
        done |= started(store, coder)
    return done


def in_progress_transcripts(store: Store, coder: str) -> list[str]:
    """Names of transcripts ``coder`` has started but not marked done, in name order."""
    if coder == AUTO_CODER:
        return []
    ids = started(store, coder) - marked_done(store, coder)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return [
        r[0]
        for r in store.conn.execute(
            f"SELECT name FROM transcripts WHERE id IN ({marks}) ORDER BY name", sorted(ids)
        )
    ]


def in_progress_note(store: Store, coders: Sequence[str]) -> str | None:
    """One line naming the transcripts left out because a coder has not marked them done."""
    parts = []
    for coder in coders:
        names = in_progress_transcripts(store, coder)
        if names:
            parts.append(f"{coder}: {', '.join(names)}")
    if not parts:
        return None
    return (
        "left out as still in progress (not marked done with 'qualcode done'): "
        + "; ".join(parts)
        + " (--include-in-progress counts them)"
    )


def progress_rows(store: Store, coder: str | None = None) -> list[ProgressRow]:
    """One row per transcript and coder (every person's layer, or just ``coder``)."""
    if coder is not None:
        if store.coder_id(coder) is None:
            raise InputError(f"no coder layer '{coder}' in the project")
        coders = [coder]
    else:
        coders = [
            r[0]
            for r in store.conn.execute("SELECT name FROM coders WHERE kind = 'human' ORDER BY name")
        ]
    transcripts = store.conn.execute(
        "SELECT t.id, t.name, r.label,"
        " (SELECT COUNT(*) FROM segments s WHERE s.transcript_id = t.id AND s.role = 'respondent')"
        " FROM transcripts t JOIN respondents r ON r.id = t.respondent_id"
    ).fetchall()
    transcripts.sort(key=lambda row: (natural_key(row[2]), row[1]))
    rows: list[ProgressRow] = []
    for name in coders:
        coded = dict(
            store.conn.execute(
                "SELECT s.transcript_id, COUNT(DISTINCT c.segment_id) FROM codings c"
                " JOIN segments s ON s.id = c.segment_id JOIN coders d ON d.id = c.coder_id"
                " WHERE d.name = ? GROUP BY s.transcript_id",
                (name,),
            )
        )
        done = marked_done(store, name)
        begun = started(store, name)
        for tid, tname, respondent, turns in transcripts:
            status = DONE if tid in done else IN_PROGRESS if tid in begun else NOT_STARTED
            rows.append(
                ProgressRow(tname, respondent, name, status, int(coded.get(tid, 0)), int(turns))
            )
    return rows


def resolve_transcripts(store: Store, targets: Sequence[str]) -> list[tuple[int, str]]:
    """``(id, name)`` of the transcripts named by transcript name or respondent label."""
    by_name = {
        name: tid for tid, name in store.conn.execute("SELECT id, name FROM transcripts")
    }
    by_respondent: dict[str, list[tuple[int, str]]] = {}
    for tid, name, label in store.conn.execute(
        "SELECT t.id, t.name, r.label FROM transcripts t JOIN respondents r"
        " ON r.id = t.respondent_id ORDER BY t.name"
    ):
        by_respondent.setdefault(label, []).append((tid, name))
    found: dict[int, str] = {}
    for target in targets:
        if target in by_name:
            found[by_name[target]] = target
        elif target in by_respondent:
            found.update(dict(by_respondent[target]))
        else:
            from qualcode.recode import suggest_codes

            close = suggest_codes(target, [*by_name, *by_respondent])
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise InputError(f"no transcript or respondent '{target}' in the project{hint}")
    return sorted(found.items(), key=lambda item: item[1])


def mark_done(
    store: Store,
    targets: Sequence[str],
    coder: str,
    *,
    undo: bool = False,
    command: str = "done",
) -> list[tuple[str, bool]]:
    """Mark transcripts (or all of a respondent's) done by ``coder``, as one command.

    ``undo`` marks them not done again. Returns ``(transcript, changed)`` for each.
    """
    if not targets:
        raise InputError("name at least one transcript or respondent")
    if coder == AUTO_CODER:
        raise InputError("'auto' is the auto-coder's layer; mark progress in a person's layer")
    transcripts = resolve_transcripts(store, targets)
    result: list[tuple[str, bool]] = []
    with store.write(command, coder=coder) as tx:
        for tid, name in transcripts:
            result.append((name, store.set_done(tx, tid, coder, not undo)))
    return result


@dataclass(frozen=True)
class LeftOut:
    """A transcript left out of a comparison of coders, with each coder's status in it."""

    transcript: str
    respondent: str
    statuses: tuple[tuple[str, str], ...]  # (coder, status), in the coders' order

    def coders_with(self, status: str) -> list[str]:
        """The coders whose status in the transcript is ``status``."""
        return [coder for coder, shown in self.statuses if shown == status]


def left_out_of_comparison(
    store: Store, coders: Sequence[str], *, include_in_progress: bool = False
) -> list[LeftOut]:
    """Transcripts that do not count for every one of ``coders``, and why (each one's status).

    A transcript counts for a coder once marked done (or, with ``include_in_progress``, once
    started), as in agreement: one not counted for some coder is missing data and left out, the
    ones :func:`qualcode.agreement.layer_matrix` lists in ``not_seen_by_all`` among them.
    """
    counted = {DONE, IN_PROGRESS} if include_in_progress else {DONE}
    by_transcript: dict[str, tuple[str, dict[str, str]]] = {}
    for coder in coders:
        for row in progress_rows(store, coder):
            by_transcript.setdefault(row.transcript, (row.respondent, {}))[1][coder] = row.status
    result = []
    for transcript, (respondent, statuses) in by_transcript.items():
        if all(statuses.get(coder) in counted for coder in coders):
            continue
        shown = tuple((coder, statuses.get(coder, NOT_STARTED)) for coder in coders)
        result.append(LeftOut(transcript, respondent, shown))
    return result
