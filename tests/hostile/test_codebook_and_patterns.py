"""YAML bombs, deep codebooks and catastrophic patterns: refused by validate, never hanging `code`."""

from __future__ import annotations

import pytest

from qualcode.codebook import Code, Codebook, load_codebook, validate_codebook
from qualcode.errors import InputError
from qualcode.limits import MAX_CODE_DEPTH, MAX_YAML_DEPTH
from qualcode.patterns import TimedPattern, pattern_problem


def errors(path):
    return [i for i in validate_codebook(path) if i.severity == "error"]


def test_alias_bomb_is_refused_from_the_event_stream(tmp_path, make):
    path = make.yaml_alias_bomb(tmp_path / "alias.yaml", levels=9)
    assert path.stat().st_size < 500
    found = errors(path)
    assert len(found) == 1 and "anchors and aliases" in found[0].message
    assert found[0].line == 2


def test_recursive_alias_and_merge_key_are_one_line(runner, tmp_path, make):
    from qualcode.cli.main import app

    path = make.yaml_recursive_alias(tmp_path / "rekursiv.yaml")
    result = runner.invoke(app, ["codebook", "validate", str(path)])
    assert result.exit_code == 2
    assert "rekursiv.yaml:2: error: YAML anchors and aliases" in result.output
    assert "Traceback" not in result.output


def test_merge_key_without_alias_is_refused(tmp_path):
    path = tmp_path / "flett.yaml"
    path.write_text("name: k\ncodes:\n  - <<: {id: a}\n    keywords: [tillit]\n", encoding="utf-8")
    assert any("merge keys" in i.message for i in errors(path))


def test_nesting_deeper_than_the_limit_is_refused(tmp_path, make):
    deep = make.many_codes_codebook(tmp_path / "dyp.yaml", MAX_YAML_DEPTH, nested=True)
    assert any("nested more than" in i.message for i in errors(deep))
    over_codes = make.many_codes_codebook(tmp_path / "koder.yaml", MAX_CODE_DEPTH + 1, nested=True)
    assert any(f"codes nested {MAX_CODE_DEPTH + 1} deep" in i.message for i in errors(over_codes))
    at_limit = make.many_codes_codebook(tmp_path / "ok.yaml", MAX_CODE_DEPTH, nested=True)
    assert errors(at_limit) == []


@pytest.mark.parametrize(
    "pattern",
    [r"^(\w+\s?)*$", r"(a+)+b", r"(?:\w|\w\w)+$", r"(?:kunde|kunde)*x", r"(\d+\.?)+%"],
)
def test_catastrophic_patterns_are_refused(pattern):
    assert pattern_problem(pattern) is not None


@pytest.mark.parametrize("pattern", [r".*", r"a*", r"(?:)", r"\s*"])
def test_patterns_that_match_the_empty_string_are_refused(pattern):
    assert "empty string" in (pattern_problem(pattern) or "")


@pytest.mark.parametrize(
    "pattern",
    [r"\bklynge\w*", r"samarbeid(et|er)?", r"\d{1,3} ansatte", r"(?:kunde|klient)(?:r|ne)?",
     r"(ja|nei)+", r"stol\w+ på"],
)
def test_ordinary_patterns_pass(pattern):
    assert pattern_problem(pattern) is None


def test_validate_refuses_the_bad_pattern_and_word_less_terms(tmp_path):
    path = tmp_path / "dårlig.yaml"
    path.write_text(
        "name: k\ncodes:\n  - id: a\n    keywords: ['.*', tillit]\n"
        "  - id: b\n    patterns: ['^(\\w+\\s?)*$']\n",
        encoding="utf-8",
    )
    found = errors(path)
    assert [i.line for i in found] == [4, 6]
    assert "'.*'" in found[0].message and "no letter or digit" in found[0].message


def test_code_with_a_bad_codebook_installs_nothing(cli, ingested, tmp_path, content):
    book = tmp_path / "dårlig.yaml"
    book.write_text("name: k\ncodes:\n  - id: alt\n    keywords: ['.*']\n", encoding="utf-8")
    before = content(ingested)
    result = cli("code", "--codebook", str(book))
    assert result.exit_code == 2
    assert "dårlig.yaml:4" in result.output
    assert content(ingested) == before
    assert ingested.conn.execute("SELECT COUNT(*) FROM codes").fetchone()[0] == 0


def test_a_pattern_that_runs_out_of_time_finds_nothing_and_is_switched_off():
    slow = TimedPattern.compile(r"(?:a|a)*$", timeout=0.05)  # passes no validation: built directly
    text = "a" * 40 + "!"
    for _ in range(3):
        assert list(slow.finditer(text)) == []
    assert slow.timeouts == 3 and slow.disabled
    assert list(slow.finditer(text)) == []  # switched off: not even tried
    assert "took longer than" in (slow.warning() or "")
    fast = TimedPattern.compile(r"\bklynge\w*")
    assert [m.group() for m in fast.finditer("Klyngen og klyngeledelsen")] == [
        "Klyngen", "klyngeledelsen"]


def test_autocode_survives_a_pattern_that_would_hang(ingested, make_codes):
    """A stored codebook from before this check, holding a pattern that backtracks forever."""
    from qualcode.autocode import CompiledCodebook

    book = Codebook(name="gammel", codes=[Code(id="alt", path="alt", name="alt",
                                               patterns=[r"(?:\w|\w)*$"])])
    compiled = CompiledCodebook(book)
    for _, _, pattern in compiled.patterns:
        pattern.timeout = 0.05
    turn = "Ja, " + "a" * 40 + "!"  # one long word: exponential for this pattern
    results = [compiled.code_text(turn) for _ in range(4)]
    assert all(not r for r in results)
    assert compiled.patterns[0][2].disabled


def test_codebook_with_many_codes_loads(tmp_path, make, project):
    from qualcode.codebook import install_codebook

    book = load_codebook(make.many_codes_codebook(tmp_path / "mange.yaml", 3000))
    changes = install_codebook(project, book, "test")
    assert len(changes.added) == 3000
    renamed = tmp_path / "nye.yaml"
    renamed.write_text((tmp_path / "mange.yaml").read_text().replace("kode", "ny"))
    again = install_codebook(project, load_codebook(renamed), "test")
    assert len(again.added) == 3000 and len(again.deactivated) == 3000


def test_codebook_load_is_one_transaction_that_reads_inside_it(project, tmp_path):
    """Two loads interleaved: the second sees what the first installed (no stale plan)."""
    from qualcode.codebook import install_codebook, loads_codebook

    first = loads_codebook("name: a\ncodes:\n  - id: tillit\n    keywords: [tillit]\n")
    second = loads_codebook("name: b\ncodes:\n  - id: tillit\n    keywords: [tillit]\n"
                            "  - id: ny\n    keywords: [ny]\n")
    install_codebook(project, first, "a")
    changes = install_codebook(project, second, "b")
    assert changes.added == ["ny"] and changes.deactivated == []
    assert not install_codebook(project, second, "b").changed
    with pytest.raises(InputError):
        loads_codebook("name: c\nx: &a 1\ncodes:\n  - id: a\n    keywords: [*a]\n")
