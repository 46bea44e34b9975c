"""How agreement intervals are made and shown: whole transcripts resampled when the turns come
from 5 or more interviews, the method named in every output, and no interval where the data
cannot give a meaningful one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import mark_coded_transcripts_done
from typer.testing import CliRunner

from qualcode.agreement import agreement, bootstrap_ci
from qualcode.cli.main import app
from qualcode.ingest import ingest_paths
from qualcode.store import Store

SAID = [
    "Vi stoler på dem vi har kjent lenge.",
    "Priser snakker vi aldri om med de andre.",
    "Ledelsen følger opp klyngen hvert kvartal.",
    "Frokostmøtene er der vi treffer folk.",
    "Det går mye tid til møter, altså.",
    "Kommunen betalte forprosjektet.",
]


def _project(project: Store, tmp_path: Path, make_codes, transcripts: int) -> Store:
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    for t in range(1, transcripts + 1):
        lines = [f"I: Spørsmål {i}?\nR{t}: {text}" for i, text in enumerate(SAID)]
        (folder / f"R{t}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest_paths(project, [folder], command="test")
    make_codes(project, ["tillit", "samkonkurranse", "forankring", "fasilitering"])
    rng = np.random.default_rng(3)
    turns = project.conn.execute(
        "SELECT id FROM segments WHERE role = 'respondent' ORDER BY id"
    ).fetchall()
    with project.write("test: layers") as tx:
        for (seg,) in turns:
            for code in ("tillit", "samkonkurranse", "forankring"):
                a = rng.random() < 0.4
                b = a if rng.random() < 0.8 else not a
                if a:
                    project.add_coding(tx, seg, code, "kari")
                if b:
                    project.add_coding(tx, seg, code, "jonas")
        # Both coders give "fasilitering" to one turn only: κ 1.000 from one unit says nothing.
        project.add_coding(tx, turns[0][0], "fasilitering", "kari")
        project.add_coding(tx, turns[0][0], "fasilitering", "jonas")
    mark_coded_transcripts_done(project)
    return project


def test_transcripts_are_resampled_from_five_interviews(project, tmp_path, make_codes) -> None:
    store = _project(project, tmp_path, make_codes, transcripts=6)
    report = agreement(store, ["kari", "jonas"], bootstrap=400, seed=2)
    assert report.resampled == "transcripts"
    assert "resamples of transcripts" in report.ci_method
    assert all(r["ci_method"] == report.ci_method for r in report.records())
    turns = agreement(store, ["kari", "jonas"], bootstrap=400, seed=2, resample="units")
    assert turns.resampled == "turns"
    # The same estimate; the interval of whole interviews is not the interval of turns.
    by_transcript = {r.code: r.cohen_kappa for r in report.rows}
    by_turn = {r.code: r.cohen_kappa for r in turns.rows}
    assert by_transcript["tillit"].value == by_turn["tillit"].value
    assert by_transcript["tillit"].ci_low != by_turn["tillit"].ci_low


def test_fewer_than_five_interviews_resample_turns(project, tmp_path, make_codes) -> None:
    store = _project(project, tmp_path, make_codes, transcripts=4)
    report = agreement(store, ["kari", "jonas"], bootstrap=400)
    assert report.resampled == "turns" and "resamples of turns" in report.ci_method


def test_a_rare_code_without_disagreement_gets_no_interval(project, tmp_path, make_codes) -> None:
    store = _project(project, tmp_path, make_codes, transcripts=6)
    report = agreement(store, ["kari", "jonas"], bootstrap=400)
    rare = next(r for r in report.rows if r.code == "fasilitering")
    assert rare.cohen_kappa.value == 1.0
    assert rare.cohen_kappa.ci_low is None and "fewer than 5" in rare.cohen_kappa.ci_note
    result = CliRunner().invoke(
        app, ["-p", str(store.folder), "agreement", "kari", "jonas", "-b", "400"]
    )
    assert result.exit_code == 0, result.output
    # The table may be printed in parts on a narrow terminal: look at every line of the code.
    lines = [x for x in result.stdout.splitlines() if "fasilitering" in x]
    assert any("–" in x for x in lines) and not any("1.000, 1.000" in x for x in lines)
    assert "resamples of transcripts" in result.stderr and "no interval" in result.stderr
    as_json = CliRunner().invoke(
        app, ["-p", str(store.folder), "agreement", "kari", "jonas", "-b", "400", "-f", "json"]
    )
    records = json.loads(as_json.stdout)
    assert all("transcripts" in r["ci_method"] for r in records)


def test_all_resamples_equal_is_no_interval() -> None:
    # Perfect agreement with variation: every resample gives κ = 1.
    a = [True, False] * 10
    stat = bootstrap_ci([a, list(a)], "kappa", 300, seed=1)
    assert stat.value == 1.0 and stat.ci_low is None
    assert stat.ci_note == "no interval: every resample gives the same value"


def test_clustered_interval_is_wider_than_one_from_turns_when_interviews_differ() -> None:
    rng = np.random.default_rng(5)
    a: list[bool] = []
    b: list[bool] = []
    clusters: list[int] = []
    for g in range(10):
        prevalence = rng.uniform(0.05, 0.7)
        miss = rng.uniform(0.0, 0.5)
        for _ in range(30):
            truth = rng.random() < prevalence
            a.append(bool(truth))
            b.append(bool(truth and rng.random() > miss))
            clusters.append(g)
    turns = bootstrap_ci([a, b], "kappa", 1000, seed=1)
    whole = bootstrap_ci([a, b], "kappa", 1000, seed=1, clusters=clusters)
    assert whole.value == pytest.approx(turns.value)
    assert whole.ci_high - whole.ci_low > turns.ci_high - turns.ci_low
