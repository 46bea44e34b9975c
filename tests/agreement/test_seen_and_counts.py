"""What counts as coded by a coder (done marks, review, undo), the counts agreement prints, and
the disagreements files' page and language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import mark_coded_transcripts_done

from qualcode.agreement import agreement, seen_transcripts
from qualcode.cli.main import app
from qualcode.consistency import coding_order
from qualcode.evaluate import evaluate
from qualcode.review import start_review
from qualcode.store import Store

from .conftest import CODES, respondent_turns


def _run(runner, store: Store, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--project", str(store.folder), *args])


@pytest.fixture
def r1_only(ingested: Store, make_codes) -> Store:  # type: ignore[no-untyped-def]
    """Kari and Jonas have coded R1 only; the auto-coder has coded R1 and R2."""
    make_codes(ingested, CODES)
    r1 = respondent_turns(ingested, "R1.txt")
    r2 = respondent_turns(ingested, "R2.txt")
    with ingested.write("test: layers") as tx:
        ingested.add_coding(tx, r1[0], "forankring/mål", "kari")
        ingested.add_coding(tx, r1[2], "tillit", "kari")
        ingested.add_coding(tx, r1[2], "tillit", "jonas")
        ingested.add_coding(tx, r1[0], "forankring", "auto", source="auto")
        ingested.add_coding(tx, r1[1], "tillit", "auto", source="auto")
        ingested.add_coding(tx, r2[0], "samkonkurranse", "auto", source="auto")
    mark_coded_transcripts_done(ingested)
    return ingested


def _ids(store: Store) -> dict[str, int]:
    return dict(store.conn.execute("SELECT name, id FROM transcripts"))


def test_recode_then_undo_leaves_agreement_and_evaluate_as_before(runner, r1_only: Store) -> None:  # type: ignore[no-untyped-def]
    r1, r2 = respondent_turns(r1_only, "R1.txt"), respondent_turns(r1_only, "R2.txt")

    def outputs() -> list[tuple[str, str]]:
        runs = [
            _run(runner, r1_only, "agreement", "kari", "jonas"),
            _run(runner, r1_only, "agreement", "kari", "jonas", "--unit", "respondent"),
            _run(runner, r1_only, "evaluate", "--gold", "kari", "--show", "codes"),
            _run(runner, r1_only, "consistency", "--coder", "kari", "--show", "spread"),
        ]
        assert all(r.exit_code == 0 for r in runs), [r.output for r in runs]
        return [(r.stdout, r.stderr) for r in runs]

    before = outputs()
    assert "R2.txt" not in before[0][1]  # nobody but auto has seen R2: no warning about it
    assert f"({len(r1)} segments)" in before[2][0]
    # A mistyped segment id (a turn of R2, which Kari never read), then undone at once.
    added = _run(runner, r1_only, "recode", str(r2[0]), "--add", "tillit", "-c", "kari")
    assert added.exit_code == 0, added.output
    # Started, not done: R2 does not count for Kari (and agreement names it as left out).
    assert _ids(r1_only)["R2.txt"] not in seen_transcripts(r1_only, "kari")
    assert _ids(r1_only)["R2.txt"] in seen_transcripts(r1_only, "kari", include_in_progress=True)
    noted = _run(runner, r1_only, "agreement", "kari", "jonas")
    assert "in progress" in noted.stderr and "kari: R2.txt" in noted.stderr
    undone = _run(runner, r1_only, "undo", "-c", "kari")
    assert undone.exit_code == 0, undone.output
    assert _ids(r1_only)["R2.txt"] not in seen_transcripts(r1_only, "kari")
    assert outputs() == before
    assert evaluate(r1_only, "kari").n_units == len(r1)
    assert [name for _, name in coding_order(r1_only, "kari")] == ["R1.txt"]


def test_a_coding_added_and_removed_by_hand_does_not_mark_a_transcript_seen(
    r1_only: Store,
) -> None:
    r2 = respondent_turns(r1_only, "R2.txt")
    with r1_only.write("test: mistyped id, then fixed", coder="kari") as tx:
        r1_only.add_coding(tx, r2[0], "tillit", "kari")
    with r1_only.write("test: remove again", coder="kari") as tx:
        r1_only.remove_coding(tx, r2[0], "tillit", "kari")
    assert _ids(r1_only)["R2.txt"] not in seen_transcripts(r1_only, "kari")
    assert agreement(r1_only, ["kari", "jonas"]).not_seen_by_all == []


def test_reviewed_and_found_nothing_counts_as_seen(runner, r1_only: Store) -> None:  # type: ignore[no-untyped-def]
    r1, r2 = respondent_turns(r1_only, "R1.txt"), respondent_turns(r1_only, "R2.txt")
    session = start_review(r1_only, "kari", "auto", respondent="R2")
    assert session.current is not None and session.current.segment_id == r2[0]
    session.skip()  # deciding later is not having read it
    assert _ids(r1_only)["R2.txt"] not in seen_transcripts(r1_only, "kari")
    session = start_review(r1_only, "kari", "auto", respondent="R2", restart=True)
    session.reject()  # Kari read R2 and found nothing to code
    assert not r1_only.conn.execute(
        "SELECT 1 FROM codings c JOIN coders d ON d.id = c.coder_id JOIN segments s"
        " ON s.id = c.segment_id WHERE d.name = 'kari' AND s.transcript_id = ?",
        (_ids(r1_only)["R2.txt"],),
    ).fetchone()
    assert _ids(r1_only)["R2.txt"] in seen_transcripts(r1_only, "kari")
    result = evaluate(r1_only, "kari")
    assert result.n_units == len(r1) + len(r2)  # R2 counts, as "no code" for Kari
    assert result.micro.fp == 2  # auto's tillit in R1 and samkonkurranse in R2
    shown = _run(runner, r1_only, "agreement", "kari", "jonas")
    assert "R2.txt: coded by kari only; its 2 segments are missing data for jonas" in (shown.stderr)
    # Undoing the decision takes the mark back.
    assert _run(runner, r1_only, "undo", "-c", "kari").exit_code == 0
    assert _ids(r1_only)["R2.txt"] not in seen_transcripts(r1_only, "kari")


def test_review_decisions_follow_a_renamed_layer(r1_only: Store) -> None:
    from qualcode.recode import rename_layer

    r2_id = _ids(r1_only)["R2.txt"]
    session = start_review(r1_only, "kari", "auto", respondent="R2")
    session.reject()  # read R2, nothing to code: seen only through the decision
    assert r2_id in seen_transcripts(r1_only, "kari")
    rename_layer(r1_only, "kari", "karin")
    assert r2_id in seen_transcripts(r1_only, "karin")
    # A new layer that takes the old name later did not read R2.
    session = start_review(r1_only, "kari", "auto", respondent="R1")
    session.accept()
    assert r2_id not in seen_transcripts(r1_only, "kari")


def test_done_marks_a_transcript_read_with_nothing_to_code(runner, coded: Store) -> None:  # type: ignore[no-untyped-def]
    before = agreement(coded, ["kari", "jonas"])
    assert [n.transcript for n in before.not_seen_by_all] == ["R2.txt"]
    result = _run(runner, coded, "done", "R2", "--coder", "jonas")
    assert result.exit_code == 0, result.output
    assert _ids(coded)["R2.txt"] in seen_transcripts(coded, "jonas")
    after = agreement(coded, ["kari", "jonas"])
    assert after.not_seen_by_all == [] and after.n_units > before.n_units
    assert _run(runner, coded, "undo", "-c", "jonas").exit_code == 0
    assert agreement(coded, ["kari", "jonas"]).not_seen_by_all == before.not_seen_by_all


def test_title_and_warnings_count_the_units_the_rows_use(runner, coded: Store) -> None:  # type: ignore[no-untyped-def]
    n_r1 = len(respondent_turns(coded, "R1.txt"))
    segment = _run(runner, coded, "agreement", "kari", "jonas")
    assert segment.exit_code == 0, segment.output
    assert f"({n_r1} segments compared;" in segment.stdout
    assert "R2.txt: coded by kari only; its 2 segments are missing data for jonas" in (
        segment.stderr
    )
    respondent = _run(runner, coded, "agreement", "kari", "jonas", "--unit", "respondent")
    assert respondent.exit_code == 0, respondent.output
    assert "(1 respondent compared;" in respondent.stdout
    assert "R2.txt: coded by kari only; its 1 respondent is missing data for jonas" in (
        respondent.stderr
    )
    report = agreement(coded, ["kari", "jonas"], unit="respondent")
    assert {r.n_units for r in report.rows} == {report.n_units} == {1}
    [missing] = report.not_seen_by_all
    assert missing.n_units == 1
    rows = json.loads(_run(runner, coded, "agreement", "kari", "jonas", "-f", "json").stdout)
    assert {r["n_units"] for r in rows} == {n_r1}


def test_disagreements_files_are_a4_and_follow_lang(runner, coded: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from docx import Document
    from docx.shared import Cm
    from openpyxl import load_workbook

    for lang in ("nb", "en"):
        for suffix in ("docx", "xlsx", "csv"):
            target = tmp_path / f"{lang}.{suffix}"
            result = _run(
                runner, coded, "disagreements", "kari", "jonas", "-o", str(target), "--lang", lang
            )
            assert result.exit_code == 0, result.output
    default = tmp_path / "default.docx"
    assert _run(runner, coded, "disagreements", "kari", "jonas", "-o", str(default)).exit_code == 0
    for name in ("nb.docx", "en.docx", "default.docx"):
        section = Document(str(tmp_path / name)).sections[0]
        assert abs(section.page_width - Cm(21.0)) < Cm(0.01)
        assert abs(section.page_height - Cm(29.7)) < Cm(0.01)
    nb = "\n".join(p.text for p in Document(str(tmp_path / "nb.docx")).paragraphs)
    en = "\n".join(p.text for p in Document(str(tmp_path / "en.docx")).paragraphs)
    assert "Uenigheter mellom kari og jonas" in nb and "R1.txt, tur" in nb
    assert "Disagreements between kari and jonas" in en and "R1.txt, turn" in en
    assert "Beslutning" in nb and "Decision" in en
    nb_sheet = load_workbook(tmp_path / "nb.xlsx").active
    en_sheet = load_workbook(tmp_path / "en.xlsx").active
    assert [c.value for c in nb_sheet[1]][:4] == ["Segment", "Transkripsjon", "Respondent", "Tur"]
    assert "Bare kari" in [c.value for c in nb_sheet[1]]
    assert [c.value for c in en_sheet[1]][-1] == "Decision"
    assert "Only jonas" in [c.value for c in en_sheet[1]]
    # CSV headers are a scripting interface: the same in both languages.
    heads = {
        (tmp_path / f"{lang}.csv").read_text(encoding="utf-8-sig").splitlines()[0]
        for lang in ("nb", "en")
    }
    assert heads == {
        "segment_id,transcript,respondent,turn,speaker,text,codes_kari,codes_jonas,only_kari,"
        "only_jonas,memos_kari,memos_jonas,decision"
    }
