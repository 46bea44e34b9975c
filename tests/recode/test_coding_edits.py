"""Changing one coding by its id: remove it or give it a memo, each undone exactly."""

from __future__ import annotations

import pytest

from qualcode.audit import undo
from qualcode.coding_edits import get_coding, remove_coding, set_coding_memo
from qualcode.errors import InputError
from qualcode.recode import recode
from qualcode.review import ReviewItem, decide, latest_decisions
from qualcode.store import Store


@pytest.fixture
def two_passages(ingested: Store, make_codes) -> Store:  # type: ignore[no-untyped-def]
    make_codes(ingested, ["tillit", "deling"])
    recode(ingested, [4], "kari", add=["tillit"], quote=(4, 15))
    recode(ingested, [4], "kari", add=["tillit"], quote=(30, 40))
    return ingested


def ids(store: Store) -> list[int]:
    return [r[0] for r in store.conn.execute("SELECT id FROM codings ORDER BY quote_start")]


def test_removing_one_passage_keeps_the_other(two_passages: Store) -> None:
    first, second = ids(two_passages)
    ref = remove_coding(two_passages, first, "kari", command="workbench: - tillit")
    assert ref.quote == (4, 15)
    assert ids(two_passages) == [second]
    undo(two_passages, "kari")
    assert ids(two_passages) == [first, second]


def test_a_memo_on_a_coding_and_its_undo(two_passages: Store) -> None:
    first, _ = ids(two_passages)
    set_coding_memo(two_passages, first, "kari", " stoler på hverandre ", command="memo")
    assert get_coding(two_passages, first).memo == "stoler på hverandre"
    assert get_coding(two_passages, first).quote == (4, 15)
    undo(two_passages, "kari")
    assert get_coding(two_passages, first).memo is None


def test_only_my_own_codings(two_passages: Store) -> None:
    first, _ = ids(two_passages)
    before = two_passages.dump()
    with pytest.raises(InputError, match="kari's layer"):
        remove_coding(two_passages, first, "ola", command="x")
    with pytest.raises(InputError, match="no coding with id 999"):
        set_coding_memo(two_passages, 999, "kari", "x", command="x")
    assert two_passages.dump() == before


def test_decide_is_a_review_decision_that_does_not_mark_done(ingested: Store, make_codes) -> None:  # type: ignore[no-untyped-def]
    make_codes(ingested, ["tillit"])
    with ingested.write("code", coder="auto") as tx:
        ingested.add_coding(tx, 5, "tillit", "auto", source="auto")
    decide(ingested, "kari", 5, "tillit", "accept", command="workbench: accept tillit on 5")
    assert latest_decisions(ingested, "kari", "auto") == {ReviewItem(5, "tillit"): "accept"}
    assert ingested.conn.execute("SELECT COUNT(*) FROM transcripts_done").fetchone()[0] == 0
    command = ingested.conn.execute("SELECT command FROM commands ORDER BY id DESC").fetchone()[0]
    assert command == "workbench: accept tillit on 5"
    with pytest.raises(InputError, match="no draft coding"):
        decide(ingested, "kari", 6, "tillit", "reject", command="x")
