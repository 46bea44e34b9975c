"""The report tables do not depend on the order the codings are read in (index or table scan)."""

from __future__ import annotations

import pandas as pd
import pytest

from qualcode import reports
from qualcode.store import Store


def _add_passages(store: Store) -> None:
    """Two passages of one code in one of kari's turns, added in reverse order, so that the ids
    and the positions in the turn disagree; and a second code in the same turn."""
    seg, text = store.conn.execute(
        "SELECT s.id, s.text FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
        " WHERE t.name = 'R1.txt' AND s.position = 4"
    ).fetchone()
    middle = len(text) // 2
    with store.write("test: passages") as tx:
        store.add_coding(tx, seg, "samkonkurranse", "kari", quote=(middle + 5, len(text) - 1))
        store.add_coding(tx, seg, "samkonkurranse", "kari", quote=(0, middle - 5))
        store.add_coding(tx, seg, "tillit", "kari")


def _tables(store: Store, coder: str) -> list[pd.DataFrame]:
    with reports._queries_once():
        return [
            reports.freq(store, coder=coder),
            reports.freq(store, coder=coder, percent=True),
            reports.cooc(store, coder=coder),
            reports.cooc(store, coder=coder, within="respondent"),
            reports.summary(store, coder=coder),
            reports.quotes(store, coder=coder, max_per_respondent=1),
            reports.quotes(store, coder=coder, full=True),
        ]


@pytest.mark.parametrize("coder", ["auto", "kari"])
def test_tables_are_the_same_read_by_index_or_by_scan(
    coded: Store, monkeypatch: pytest.MonkeyPatch, coder: str
) -> None:
    _add_passages(coded)
    by_plan, read = {}, {}
    for scan in (False, True):
        monkeypatch.setattr(reports, "_most_codings", lambda store, name, scan=scan: scan)
        by_plan[scan] = _tables(coded, coder)
        read[scan] = [c.coding_id for c in reports._codings(coded, reports.select(coded, coder=coder))[0]]
    # The two plans do read the codings in different orders.
    assert read[False] != read[True] and sorted(read[False]) == sorted(read[True])
    for indexed, scanned in zip(by_plan[False], by_plan[True], strict=True):
        pd.testing.assert_frame_equal(indexed, scanned)
    quotes = by_plan[True][-1]
    assert (quotes["code"] == "samkonkurranse").sum() >= (2 if coder == "kari" else 0)


def test_the_layer_with_most_codings_is_scanned(coded: Store) -> None:
    counts = dict(coded.conn.execute(
        "SELECT d.name, COUNT(*) FROM codings c JOIN coders d ON d.id = c.coder_id GROUP BY d.name"
    ))
    total = sum(counts.values())
    for name, n in counts.items():
        assert reports._most_codings(coded, name) == (2 * n >= total)
    assert not reports._most_codings(coded, "nobody")
