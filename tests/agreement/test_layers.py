"""Agreement, disagreements, evaluation and consistency on real coder layers in a project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from qualcode.agreement import agreement, disagreements, layer_matrix, seen_transcripts
from qualcode.cli.main import app
from qualcode.consistency import coding_order, consistency, consistency_section
from qualcode.errors import InputError
from qualcode.evaluate import evaluate, log_likelihood
from qualcode.store import Store

from .conftest import respondent_turns


def _run(runner, store: Store, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--project", str(store.folder), *args])


def test_units_missing_for_a_coder_who_has_not_seen_the_transcript(coded: Store) -> None:
    matrix = layer_matrix(coded, ["kari", "jonas"])
    r1, r2 = respondent_turns(coded, "R1.txt"), respondent_turns(coded, "R2.txt")
    assert [u.key for u in matrix.units] == r1 + r2
    assert matrix.values["jonas"][len(r1) :] == [None, None]
    assert matrix.values["kari"][len(r1)] == frozenset({"samkonkurranse"})
    [missing] = matrix.not_seen_by_all
    assert (missing.transcript, missing.seen_by, missing.not_seen_by, missing.n_units) == (
        "R2.txt",
        ("kari",),
        ("jonas",),
        len(r2),
    )


def test_agreement_per_top_code_and_pooled(coded: Store) -> None:
    report = agreement(coded, ["kari", "jonas"], level="top")
    rows = {r.code: r for r in report.rows}
    assert list(rows) == ["tillit", "forankring", "fasilitering", "samkonkurranse"]
    n = len(respondent_turns(coded, "R1.txt"))
    tillit = rows["tillit"]  # sibling subcodes roll up into the same top code: full agreement
    assert (tillit.n_units, tillit.counts.both, tillit.counts.neither) == (n, 2, n - 2)
    assert tillit.cohen_kappa.value == 1.0 and tillit.krippendorff_alpha.value == 1.0
    forankring = rows["forankring"]
    assert (forankring.counts.only_a, forankring.counts.only_b) == (1, 0)
    kari = [1] + [0] * (n - 1)
    assert forankring.cohen_kappa.value == pytest.approx(cohen_kappa_score(kari, [0] * n))
    # Kari's samkonkurranse is in R2, which Jonas has not seen: missing, not disagreement.
    assert rows["samkonkurranse"].krippendorff_alpha.value is None
    assert "two coders both saw" in rows["samkonkurranse"].krippendorff_alpha.reason
    assert rows["fasilitering"].krippendorff_alpha.reason == "no coder used this code"
    # Pooled over the codes a coder used where both coded: fasilitering (nobody) and
    # samkonkurranse (only in R2, which Jonas has not seen) would add only easy "absent" pairs.
    pooled = report.pooled
    assert report.unused_codes == ["fasilitering", "samkonkurranse"]
    assert (
        pooled is not None
        and pooled.n_codes == 2
        and report.pooled_codes == ["tillit", "forankring"]
    )
    a = [1, 1] + [0] * (n - 2) + kari
    b = [1, 1] + [0] * (n - 2) + [0] * n
    assert pooled.cohen_kappa.value == pytest.approx(cohen_kappa_score(a, b))
    every_code = cohen_kappa_score(a + [0] * 2 * n, b + [0] * 2 * n)
    assert pooled.cohen_kappa.value != pytest.approx(every_code)
    assert (
        pooled.counts.both + pooled.counts.only_a + pooled.counts.only_b + pooled.counts.neither
        == 2 * n
    )


def test_level_all_separates_sibling_subcodes(coded: Store) -> None:
    report = agreement(coded, ["kari", "jonas"], level="all")
    rows = {r.code: r for r in report.rows}
    assert rows["tillit/relasjoner"].counts.only_b == 1
    assert rows["tillit/mistillit"].counts.only_a == 1
    assert rows["tillit"].cohen_kappa.value == 1.0
    # Pooling uses the codes that are not parents of another listed code.
    assert "tillit" not in report.pooled_codes and "tillit/mistillit" in report.pooled_codes
    chosen = agreement(coded, ["kari", "jonas"], codes=["tillit/relasjoner,forankring"])
    assert [r.code for r in chosen.rows] == ["tillit/relasjoner", "forankring"]


def test_respondent_unit(coded: Store) -> None:
    report = agreement(coded, ["kari", "jonas"], unit="respondent")
    rows = {r.code: r for r in report.rows}
    assert rows["tillit"].n_units == 1  # R2 is missing for jonas
    assert rows["forankring"].counts.only_a == 1


def test_done_rule_counts_marked_transcripts_only(coded: Store) -> None:
    from qualcode.progress import mark_done

    ids = dict(coded.conn.execute("SELECT name, id FROM transcripts"))
    assert seen_transcripts(coded, "kari") == {ids["R1.txt"], ids["R2.txt"]}
    assert seen_transcripts(coded, "jonas") == {ids["R1.txt"]}
    mark_done(coded, ["R1.txt"], "jonas", undo=True)
    assert seen_transcripts(coded, "jonas") == set()
    assert seen_transcripts(coded, "jonas", include_in_progress=True) == {ids["R1.txt"]}
    mark_done(coded, ["R1"], "ola")  # read, nothing to code: a layer with no codings
    assert seen_transcripts(coded, "ola") == {ids["R1.txt"]}


def test_bad_input_is_one_error(coded: Store) -> None:
    with pytest.raises(InputError, match="no coder layer 'per'"):
        agreement(coded, ["kari", "per"])
    with pytest.raises(InputError, match="at least two"):
        agreement(coded, ["kari"])
    with pytest.raises(InputError, match="unknown code 'tilit'"):
        agreement(coded, ["kari", "jonas"], codes=["tilit"])
    with pytest.raises(InputError, match="at least 200"):
        agreement(coded, ["kari", "jonas"], bootstrap=10)


def test_disagreements_list_text_codes_and_memos(coded: Store) -> None:
    found = disagreements(coded, "kari", "jonas", level="all")
    r1 = respondent_turns(coded, "R1.txt")
    assert [d.segment_id for d in found] == [r1[0], r1[1]]
    first, second = found
    assert first.only_a == ("forankring/mål",) and first.only_b == ()
    assert first.memos_a == ("tillit/relasjoner: kjenner hverandre", "forankring/mål: ingen mål")
    assert second.only_a == ("tillit/mistillit",) and second.only_b == ("tillit/relasjoner",)
    assert "relasjon, ikke mistillit" in second.memos_b[0]
    assert "mål for medlemskapet" in first.text
    # The default level is agreement's: top codes, so sibling subcodes agree.
    assert [d.segment_id for d in disagreements(coded, "kari", "jonas")] == [r1[0]]
    assert disagreements(coded, "kari", "jonas", code="forankring")[0].segment_id == r1[0]


def test_cli_agreement_json(runner, coded: Store) -> None:  # type: ignore[no-untyped-def]
    result = _run(
        runner,
        coded,
        "agreement",
        "kari",
        "jonas",
        "--format",
        "json",
        "--bootstrap",
        "200",
        "--seed",
        "3",
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    keys = {
        "code",
        "n_units",
        "both",
        "only_a",
        "only_b",
        "neither",
        "percent",
        "cohen_kappa",
        "krippendorff_alpha",
        "brennan_prediger",
        "cohen_kappa_ci_low",
        "cohen_kappa_ci_high",
        "krippendorff_alpha_ci_low",
        "krippendorff_alpha_ci_high",
    }
    assert all(keys <= set(r) for r in records)
    assert records[-1]["code"] == "(pooled)"
    by_code = {r["code"]: r for r in records}
    assert by_code["tillit"]["cohen_kappa"] == 1.0
    assert by_code["fasilitering"]["krippendorff_alpha"] is None
    assert by_code["fasilitering"]["note"] == "no coder used this code"
    assert "R2.txt" in result.stderr  # the unseen transcript is reported
    again = _run(
        runner, coded, "agreement", "kari", "jonas", "-f", "json", "-b", "200", "--seed", "3"
    )
    assert json.loads(again.stdout) == records


def test_cli_errors_leave_the_store_unchanged(runner, coded: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = coded.dump()
    for args in (
        ["agreement", "kari", "nobody"],
        ["agreement", "kari", "jonas", "--codes", "x"],
        ["disagreements", "kari", "jonas", "-o", str(tmp_path / "d.pdf")],
        ["evaluate", "--gold", "kari", "--pred", "kari"],
        ["consistency", "--coder", "nobody"],
    ):
        result = _run(runner, coded, *args)
        assert result.exit_code == 2, args
        assert "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1
    assert coded.dump() == before
    assert not (tmp_path / "d.pdf").exists()


def test_consistency_short_c_is_the_coder_as_elsewhere(runner, coded: Store) -> None:  # type: ignore[no-untyped-def]
    long = _run(runner, coded, "consistency", "--coder", "kari", "--show", "spread", "-f", "csv")
    short = _run(runner, coded, "consistency", "-c", "kari", "--show", "spread", "-f", "csv")
    assert short.exit_code == 0, short.output
    assert short.stdout == long.stdout


def test_disagreements_export_docx_xlsx_csv(runner, coded: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from docx import Document
    from openpyxl import load_workbook

    for name in ("d.docx", "d.xlsx", "d.csv"):
        result = _run(
            runner,
            coded,
            "disagreements",
            "kari",
            "jonas",
            "-l",
            "all",
            "--lang",
            "en",
            "-o",
            str(tmp_path / name),
        )
        assert result.exit_code == 0, result.output
    doc = Document(str(tmp_path / "d.docx"))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "mål for medlemskapet" in text and "R1.txt, turn" in text
    assert "tillit/mistillit" in cells and "relasjon, ikke mistillit" in cells
    assert len(doc.tables) == 2
    sheet = load_workbook(tmp_path / "d.xlsx").active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Segment", "Transcript", "Respondent", "Turn"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 2
    assert rows[1][header.index("Only kari")] == "tillit/mistillit"
    assert rows[1][header.index("Only jonas")] == "tillit/relasjoner"
    csv_text = (tmp_path / "d.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("segment_id,transcript")


def test_log_likelihood_matches_hand_computation() -> None:
    # a = 10 of c = 100 words, b = 5 of d = 400: E1 = 3, E2 = 12.
    import math

    expected = 2 * (10 * math.log(10 / 3) + 5 * math.log(5 / 12))
    assert log_likelihood(10, 5, 100, 400) == pytest.approx(expected)
    assert log_likelihood(0, 0, 100, 400) == 0.0


def test_evaluate_precision_recall_terms(coded: Store) -> None:
    r1 = respondent_turns(coded, "R1.txt")
    evidence = [
        {
            "rule": "keyword",
            "term": "stole",
            "words": "stoler",
            "start": 3,
            "end": 9,
            "negated": False,
            "negator": None,
        }
    ]
    wrong = [
        {
            "rule": "keyword",
            "term": "mål",
            "words": "mål",
            "start": 0,
            "end": 3,
            "negated": False,
            "negator": None,
        }
    ]
    with coded.write("test: auto", coder="auto") as tx:
        coded.add_coding(tx, r1[1], "tillit", "auto", source="auto", evidence=evidence)
        coded.add_coding(tx, r1[2], "forankring", "auto", source="auto", evidence=wrong)
    result = evaluate(coded, "kari", "auto")
    scores = {s.code: s for s in result.codes}
    assert (scores["tillit"].tp, scores["tillit"].fp, scores["tillit"].fn) == (1, 0, 1)
    assert scores["tillit"].precision.value == 1.0 and scores["tillit"].recall.value == 0.5
    assert scores["forankring"].f1.value == 0.0
    assert scores["fasilitering"].f1.value is None
    # Kari's forankring (R1) and samkonkurranse (R2) were missed, as was one tillit turn.
    assert result.micro.tp == 1 and result.micro.fp == 1 and result.micro.fn == 3
    assert result.micro.f1.value == pytest.approx(2 / (2 + 1 + 3))
    defined = [s.f1.value for s in result.codes if s.f1.value is not None]
    assert result.macro.f1.value == pytest.approx(sum(defined) / len(defined))
    terms = {(t.code, t.term): t for t in result.terms}
    assert terms[("tillit", "stole")].precision == 1.0
    assert terms[("forankring", "mål")].fired == 1 and terms[("forankring", "mål")].correct == 0
    # Kari has seen R2 (and auto every transcript), so R2's turns count too.
    assert result.n_units == len(r1) + len(respondent_turns(coded, "R2.txt"))


def test_consistency_order_and_section(coded: Store) -> None:
    order = coding_order(coded, "kari")
    assert [name for _, name in order] == ["R1.txt", "R2.txt"]
    [report] = consistency(coded, "kari")
    spread = {s.code: s for s in report.spreads}
    assert spread["tillit"].codings == 2 and spread["tillit"].by_order == (2, 0)
    assert spread["samkonkurranse"].respondents_with == 1
    assert any("needs 4" in note for note in report.notes)
    section = consistency_section(coded, lang="nb")
    assert section is not None and section.title == "Kodingskonsistens"
    [(_caption, table)] = section.tables
    assert "Krippendorffs α" in table.columns and len(table) == 5
    # Disagreements at the table's level (top codes): the sibling subcodes of turn 2 agree.
    [group] = section.block_lists
    assert "kari" in group.caption and len(group.table) == 1 and len(group.blocks) == 1
    block = group.blocks[0]
    assert block.heading.startswith("R1, tur ") and "mål for medlemskapet" in block.text
    assert list(block.table.iloc[:, 0]) == ["kari", "jonas"]
    english = consistency_section(coded, lang="en")
    assert english is not None and english.title == "Coding consistency"


def test_section_needs_two_human_layers(ingested: Store, make_codes) -> None:  # type: ignore[no-untyped-def]
    make_codes(ingested, ["tillit"])
    assert consistency_section(ingested) is None


def test_cli_agreement_table_counts_the_pooled_rows_decisions(runner, coded: Store) -> None:  # type: ignore[no-untyped-def]
    """The pooled row's units are its (unit, code) decisions, as in the Word report: the cells
    of the row add up to them."""
    table = _run(runner, coded, "agreement", "kari", "jonas")
    assert table.exit_code == 0, table.output
    records = json.loads(_run(runner, coded, "agreement", "kari", "jonas", "-f", "json").stdout)
    pooled = records[-1]
    decisions = pooled["both"] + pooled["only_a"] + pooled["only_b"] + pooled["neither"]
    row = next(line for line in table.stdout.splitlines() if "(pooled)" in line)
    cells = [c.strip() for c in row.replace("│", "|").split("|") if c.strip()]
    assert cells[:2] == ["(pooled)", str(decisions)]
    assert decisions > pooled["n_units"]
    assert f"= {decisions} decisions, each counted once." in " ".join(table.stderr.split())
