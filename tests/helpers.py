"""Helpers shared by test modules (plain functions, not fixtures)."""

from __future__ import annotations

from qualcode.store import Store


def mark_coded_transcripts_done(store: Store) -> None:
    """Mark done, for every person's layer, each transcript where it has a coding.

    Fixtures that add codings row by row stand for coders who have finished those interviews.
    """
    with store.write("test: mark coded transcripts done") as tx:
        for transcript_id, coder in tx.conn.execute(
            "SELECT DISTINCT s.transcript_id, d.name FROM codings c"
            " JOIN segments s ON s.id = c.segment_id JOIN coders d ON d.id = c.coder_id"
            " WHERE d.kind = 'human'"
        ).fetchall():
            store.set_done(tx, transcript_id, coder)
