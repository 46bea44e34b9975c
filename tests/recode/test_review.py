"""The interactive review: decisions, their meaning, interruption, resume, and the CLI loop."""

from __future__ import annotations

import json

import pytest

from qualcode.audit import undo
from qualcode.errors import InputError
from qualcode.recode import copy_layer
from qualcode.review import ReviewItem, latest_decisions, start_review
from qualcode.store import Store

# The auto draft's items in queue order (see the ``coded`` fixture).
QUEUE = [
    ("R1.txt", 2, "forankring/ledelse"),
    ("R1.txt", 2, "forankring/mål"),
    ("R1.txt", 4, "tillit/relasjoner"),
    ("R2.txt", 2, "samkonkurranse/konkurrenter"),
]


def items(store: Store, seg) -> list[ReviewItem]:
    return [ReviewItem(seg(store, t, p), c) for t, p, c in QUEUE]


def test_queue_order_and_filters(coded, seg, make_codes):
    # Codebook order (sort_order) decides the order within a segment.
    session = start_review(coded, "kari")
    expected = sorted(items(coded, seg), key=lambda i: (i.segment_id, coded.code_paths().index(i.code)))
    assert session.items == expected
    assert [i.code for i in start_review(coded, "kari", code="forankring").items] == [
        c for c in coded.code_paths() if c in ("forankring/ledelse", "forankring/mål")
    ]
    assert {i.segment_id for i in start_review(coded, "kari", respondent="R2").items} == {
        seg(coded, "R2.txt", 2)
    }
    with pytest.raises(InputError, match="no respondent"):
        start_review(coded, "kari", respondent="R9")
    with pytest.raises(InputError, match="unknown code"):
        start_review(coded, "kari", code="tilit")
    with pytest.raises(InputError, match="no coder layer"):
        start_review(coded, "kari", source="nobody")


def test_accept_copies_draft_as_manual_with_evidence(coded, seg, layer):
    session = start_review(coded, "kari", code="forankring/mål")
    view = session.view()
    assert view.negated and view.evidence[0].negated and view.evidence[0].negator == "ikke"
    assert view.text[view.evidence[0].start : view.evidence[0].end] == "mål"
    session.accept()
    pair = (seg(coded, "R1.txt", 2), "forankring/mål")
    source, negated, evidence, _ = layer(coded, "kari")[pair]
    assert source == "manual" and negated == 1
    assert evidence == layer(coded, "auto")[pair][2]
    assert layer(coded, "auto")[pair][0] == "auto"  # the draft layer is untouched
    assert session.finished


def test_accept_after_copy_turns_draft_row_manual(coded, seg, layer):
    copy_layer(coded, "auto", "kari")
    session = start_review(coded, "kari", code="tillit")
    assert session.view().own_codes == [("tillit/relasjoner", "auto")]
    session.accept()
    assert layer(coded, "kari")[(seg(coded, "R1.txt", 4), "tillit/relasjoner")][0] == "manual"


def test_reject_change_add_memo_skip(coded, seg, layer):
    copy_layer(coded, "auto", "kari")
    session = start_review(coded, "kari")
    first = session.current
    session.reject()  # removes the copied draft row from kari's layer
    assert (first.segment_id, first.code) not in layer(coded, "kari")
    second = session.current
    assert session.change("tillit/åpenhet") == "tillit/åpenhet"
    kari = layer(coded, "kari")
    assert (second.segment_id, second.code) not in kari
    assert kari[(second.segment_id, "tillit/åpenhet")][0] == "manual"
    third = session.current
    session.add("fasilitering/møteplasser")
    session.memo("sjekk konteksten")
    assert session.current == third  # add and memo leave the item open
    session.skip()
    assert (third.segment_id, "fasilitering/møteplasser") in layer(coded, "kari")
    assert session.current == items(coded, seg)[3]
    with pytest.raises(InputError, match="unknown code"):
        session.change("samkonk")
    assert latest_decisions(coded, "kari", "auto") == {
        first: "reject", second: "change", third: "skip",
    }
    assert layer(coded, "auto") != {}  # never touched


def test_each_decision_is_its_own_command(coded):
    session = start_review(coded, "kari")
    before = coded.conn.execute("SELECT COUNT(*) FROM commands").fetchone()[0]
    session.accept()
    session.reject()
    session.skip()
    after = coded.conn.execute("SELECT COUNT(*) FROM commands").fetchone()[0]
    assert after - before == 3


def test_resume_starts_at_first_undecided_and_back_goes_to_decided(coded, seg):
    queue = items(coded, seg)
    session = start_review(coded, "kari")
    session.accept()
    session.accept()
    resumed = start_review(coded, "kari")
    assert resumed.current == resumed.items[2]
    assert resumed.back() and resumed.view().decision == "accept"
    resumed.reject()  # re-deciding an earlier item moves on to the next undecided one
    assert resumed.current == resumed.items[2]
    assert len(queue) == len(resumed.items)
    assert start_review(coded, "kari", restart=True).index == 0
    resumed.skip()
    resumed.accept()
    done = start_review(coded, "kari")
    assert done.finished
    skipped = start_review(coded, "kari", only_skipped=True)
    assert skipped.items == [resumed.items[2]]


def test_undo_of_a_review_step_makes_it_pending_again(coded, content):
    session = start_review(coded, "kari")
    session.accept()
    state = content(coded)
    session.change("tillit/erfaring")
    undo(coded, "kari")
    assert content(coded) == state
    assert start_review(coded, "kari").index == 1


def test_crash_inside_a_step_keeps_earlier_decisions(coded, monkeypatch, content):
    session = start_review(coded, "kari")
    session.accept()
    session.reject()
    state = content(coded)
    original = Store.add_coding

    def crash(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise KeyboardInterrupt  # after the row is inserted, before the step commits

    monkeypatch.setattr(Store, "add_coding", crash)
    with pytest.raises(KeyboardInterrupt):
        session.accept()
    monkeypatch.undo()
    assert content(coded) == state
    assert len(latest_decisions(coded, "kari", "auto")) == 2
    assert start_review(coded, "kari").index == 2


# -- the terminal loop ---------------------------------------------------------------------
def test_cli_review_scripted(cli, coded, seg, layer):
    result = cli("review", "--coder", "kari", input="n\na\nr\nc tillit/erfaring\n+ 2\nm bra sitat\ns\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "NEGATED by 'ikke'" in out  # the negated match is marked
    assert "Vi stoler på hverandre" in out
    assert f"added {coded.code_paths()[1]}" in out  # '+ 2': the second code in codebook order
    assert "4 decisions saved" in out and "Review complete" in out
    decisions = latest_decisions(coded, "kari", "auto")
    assert sorted(decisions.values()) == ["accept", "change", "reject", "skip"]
    assert coded.conn.execute("SELECT text FROM memos").fetchall() == [("bra sitat",)]


def test_cli_review_neighbours(cli, coded):
    result = cli("review", "--coder", "kari", "--code", "tillit", input="n\nq\n")
    assert result.exit_code == 0
    assert "Og tillit mellom medlemmene?" in result.output  # the question before the answer
    assert "Takk." in result.output  # and the turn after


@pytest.mark.parametrize("decided", [0, 1, 3])
def test_cli_review_input_ending_early_keeps_exactly_n(cli, coded, decided):
    result = cli("review", "--coder", "kari", input="a\n" * decided)
    assert result.exit_code == 0, result.output
    assert len(latest_decisions(coded, "kari", "auto")) == decided
    assert "resume" in result.output
    again = cli("review", "--coder", "kari", input="")
    assert f"{4 - decided} of 4 items left" in again.output


def test_cli_review_ctrl_c_keeps_decisions(cli, coded, monkeypatch):
    import typer

    answers = iter(["a", "r"])

    def prompt(*args, **kwargs):
        try:
            return next(answers)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr(typer, "prompt", prompt)
    result = cli("review", "--coder", "kari")
    assert result.exit_code == 130
    assert "2 decisions saved" in result.output and "Traceback" not in result.output
    assert sorted(latest_decisions(coded, "kari", "auto").values()) == ["accept", "reject"]
    monkeypatch.undo()
    resumed = cli("review", "--coder", "kari", input="a\na\n")
    assert "2 of 4 items left" in resumed.output
    assert len(latest_decisions(coded, "kari", "auto")) == 4


def test_cli_review_bad_code_stays_on_item(cli, coded):
    result = cli("review", "--coder", "kari", input="c tilit\nq\n")
    assert result.exit_code == 0
    assert "unknown code 'tilit'" in result.output
    assert latest_decisions(coded, "kari", "auto") == {}


def test_cli_review_uncoded_turns(cli, coded, seg, layer):
    session = start_review(coded, "kari", uncoded=True, respondent="R1")
    uncoded = [i for i in session.items if i.code is None]
    r1_turns = {
        sid
        for (sid,) in coded.conn.execute(
            "SELECT s.id FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
            " WHERE t.name = 'R1.txt' AND s.role = 'respondent'"
        )
    }
    coded_turns = {seg(coded, "R1.txt", 2), seg(coded, "R1.txt", 4)}
    assert {i.segment_id for i in uncoded} == r1_turns - coded_turns
    assert uncoded and coded_turns <= r1_turns
    result = cli("review", "--coder", "kari", "--respondent", "R2", "--uncoded",
                 input="a\nc fasilitering/møteplasser\n")
    assert result.exit_code == 0, result.output
    assert (seg(coded, "R2.txt", 4), "fasilitering/møteplasser") in layer(coded, "kari")


def test_cli_review_nothing_to_review(cli, coded):
    result = cli("review", "--coder", "kari", "--code", "fasilitering")
    assert result.exit_code == 0 and "Nothing to review" in result.output
    result = cli("review", "--coder", "auto")
    assert result.exit_code == 2


def test_review_evidence_offsets_are_checked(coded, seg):
    bad = [{"rule": "keyword", "term": "x", "words": "x", "start": 5, "end": 99999,
            "negated": False, "negator": None}]
    a = seg(coded, "R2.txt", 4)
    with coded.write("test", coder="auto") as tx:
        coded.add_coding(tx, a, "fasilitering", "auto", source="auto", evidence=bad)
    session = start_review(coded, "kari", code="fasilitering")
    assert session.view().evidence == []
    assert json.loads(coded.conn.execute("SELECT evidence FROM codings WHERE segment_id = ?",
                                         (a,)).fetchone()[0]) == bad
