"""Filters naming something the project does not have are errors, not empty tables."""

from __future__ import annotations

from typing import Any

import pytest


def _one_error_line(result: Any) -> str:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_segments_of_an_unknown_transcript_suggest_the_closest(cli: Any) -> None:
    line = _one_error_line(cli("segments", "-t", "R1.tx"))
    assert "no transcript 'R1.tx'" in line and "did you mean R1.txt" in line
    assert cli("segments", "-t", "R1.txt", "-f", "csv").exit_code == 0


def test_log_of_an_unknown_code_is_refused(cli: Any) -> None:
    assert cli("recode", "2", "--add", "tillit", "-c", "kari", "--new-coder").exit_code == 0
    line = _one_error_line(cli("log", "--code", "tilit"))
    assert "unknown code 'tilit'" in line and "tillit" in line
    shown = cli("log", "--code", "tillit", "-f", "csv")
    assert shown.exit_code == 0 and "tillit" in shown.stdout


@pytest.mark.parametrize("limit", ["-5", "-1"])
def test_log_limit_must_not_be_negative(cli: Any, limit: str) -> None:
    result = cli("log", "-n", limit)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_undo_of_a_review_skip_counts_the_decision(cli: Any, coded: Any) -> None:
    from qualcode.review import start_review

    start_review(coded, "kari").skip()
    result = cli("undo", "-c", "kari", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.split("\n")[0].endswith(" by kari: 1 review decision")  # no "0 coding changes"


def test_review_shows_the_memos_on_the_turns_codings(cli: Any, coded: Any, seg: Any) -> None:
    turn = seg(coded, "R1.txt", 4)
    with coded.write("test: jonas codes", coder="jonas") as tx:
        coded.add_coding(tx, turn, "tillit", "jonas", memo="sier det rett ut")
    result = cli("review", "--from", "jonas", "-c", "kari", "--new-coder", input="q\n")
    assert result.exit_code == 0, result.output
    assert "memo on tillit (jonas): sier det rett ut" in result.output
