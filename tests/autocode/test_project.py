"""The codebook in a project and the 'code', 'search', 'explain' commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode.cli.main import app
from qualcode.codebook import current_codebook, install_codebook, load_codebook, validate_codebook
from qualcode.errors import InputError
from qualcode.store import Store


def auto_codings(store: Store) -> list[tuple]:
    return store.conn.execute(
        "SELECT c.segment_id, k.path, c.negated, c.evidence FROM codings c JOIN codes k ON k.id = c.code_id"
        " JOIN coders d ON d.id = c.coder_id WHERE d.name = 'auto' ORDER BY 1, 2"
    ).fetchall()


def run(runner: CliRunner, store: Store, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--project", str(store.folder), *args])


def test_code_skips_interviewer_and_stores_evidence(runner: CliRunner, ingested: Store, codebook_file: Path) -> None:
    result = run(runner, ingested, "code", "--codebook", str(codebook_file), "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = auto_codings(ingested)
    roles = {
        r[0] for r in ingested.conn.execute("SELECT role FROM segments WHERE id IN ({})".format(",".join(str(x[0]) for x in rows)))
    }
    assert roles == {"respondent"}
    # The interviewer asks "Hvordan er medlemskapet forankret …" but that turn is never coded.
    assert "forankring" not in {r[1] for r in rows}
    texts = dict(ingested.conn.execute("SELECT id, text FROM segments"))
    for seg_id, _, _, evidence in rows:
        for item in json.loads(evidence):
            assert texts[seg_id][item["start"] : item["end"]] == item["words"]
            assert set(item) >= {"rule", "term", "words", "start", "end", "negated", "negator"}
    with_interviewer = run(runner, ingested, "code", "--codebook", str(codebook_file), "--include-interviewer")
    assert with_interviewer.exit_code == 0
    assert "forankring" in {r[1] for r in auto_codings(ingested)}


def test_rerun_keeps_human_codings_and_gives_the_same_result(
    runner: CliRunner, ingested: Store, codebook_file: Path
) -> None:
    assert run(runner, ingested, "code", "--codebook", str(codebook_file)).exit_code == 0
    first = auto_codings(ingested)
    seg = ingested.conn.execute("SELECT id FROM segments WHERE role = 'respondent' LIMIT 1").fetchone()[0]
    with ingested.write("test: manual") as tx:
        ingested.add_coding(tx, seg, "tillit", "kari", memo="mitt valg")
        ingested.add_coding(tx, seg, "forankring", "kari")
    human_before = ingested.conn.execute("SELECT * FROM codings WHERE source = 'manual'").fetchall()
    assert run(runner, ingested, "code").exit_code == 0  # the project's current codebook now
    assert auto_codings(ingested) == first
    assert ingested.conn.execute("SELECT * FROM codings WHERE source = 'manual'").fetchall() == human_before


def test_edited_codebook_keeps_manual_codings(ingested: Store, codebook_file: Path, tmp_path: Path) -> None:
    book = load_codebook(codebook_file)
    install_codebook(ingested, book, "test: load")
    seg = ingested.conn.execute("SELECT id FROM segments LIMIT 1").fetchone()[0]
    with ingested.write("test: manual") as tx:
        ingested.add_coding(tx, seg, "tillit/mistillit", "kari")
    edited = codebook_file.read_text(encoding="utf-8").replace("id: mistillit", "id: mistro")
    edited = edited.replace("  - id: fasilitering", "  - id: fasilitering\n    name: Fasilitering (ny)")
    new_path = tmp_path / "edited.yaml"
    new_path.write_text(edited, encoding="utf-8")
    changes = install_codebook(ingested, load_codebook(new_path), "test: load edited")
    assert changes.new_version and "tillit/mistro" in changes.added
    assert changes.deactivated == ["tillit/mistillit"]
    assert changes.kept_with_codings == {"tillit/mistillit": 1}
    assert changes.updated == ["fasilitering"]
    assert ingested.conn.execute(
        "SELECT COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id WHERE k.path = 'tillit/mistillit'"
    ).fetchone()[0] == 1
    assert ingested.code_paths(active_only=True).count("tillit/mistillit") == 0
    assert current_codebook(ingested).find("tillit/mistro").keywords == ["mistenksom"]
    versions = ingested.conn.execute("SELECT COUNT(*) FROM codebook_versions").fetchone()[0]
    again = install_codebook(ingested, load_codebook(new_path), "test: load again")
    assert not again.changed
    assert ingested.conn.execute("SELECT COUNT(*) FROM codebook_versions").fetchone()[0] == versions


BAD_CODEBOOKS = [
    ("codes:\n  - id: a\n    keywords: [x]\n  - id: a\n    keywords: [y]\n", 4, "duplicate code id 'a'"),
    ("codes:\n  - id: a\n    keywrds: [x]\n", 3, "did you mean 'keywords'"),
    ("codes:\n  - id: a\n    patterns: ['(unclosed']\n", 3, "bad regular expression"),
    ("codes:\n  - id: a\n    keywords: [x]\n  -\n", 4, "empty code"),
    ("codes:\n  - id: a\n    keywords: [x\n  - id: b\n", 4, "not valid YAML"),
    ("codes:\n  - id: a\n    color: red\n    keywords: [x]\n", 3, "#rrggbb"),
    ("codes:\n  - id: a\n    keywords: [x]\n    min_hits: 0\n", 4, "min_hits"),
    ("codes:\n  - id: a\n\tkeywords: [x]\n", 3, "a tab character (column 1); YAML indents with spaces"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_CODEBOOKS)
def test_validation_errors_have_line_numbers(
    runner: CliRunner, tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    issues = [i for i in validate_codebook(path) if i.severity == "error"]
    assert issues and issues[0].line == line and message in issues[0].message
    with pytest.raises(InputError) as info:
        load_codebook(path)
    assert f"bad.yaml:{line}" in str(info.value)
    result = runner.invoke(app, ["codebook", "validate", str(path)])
    assert result.exit_code == 2
    assert f"bad.yaml:{line}" in result.output
    assert "Traceback" not in result.output


def test_term_under_two_codes_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("codes:\n  - id: a\n    keywords: [tillit]\n  - id: b\n    keywords:\n      - x\n      - Tillit\n")
    issues = validate_codebook(path)
    assert [(i.severity, i.line) for i in issues] == [("warning", 7)]
    assert load_codebook(path).warnings


def test_bad_codebook_leaves_store_unchanged(runner: CliRunner, ingested: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("codes:\n  - id: a\n    keywrds: [x]\n", encoding="utf-8")
    before = ingested.dump()
    for args in (["codebook", "load", str(path)], ["code", "--codebook", str(path)]):
        result = run(runner, ingested, *args)
        assert result.exit_code == 2 and "bad.yaml:3" in result.output
    assert ingested.dump() == before


def test_missing_spacy_model_is_one_line_error(runner: CliRunner, ingested: Store, codebook_file: Path) -> None:
    before = ingested.dump()
    result = run(runner, ingested, "code", "--codebook", str(codebook_file), "--spacy-model", "nb_no_such_model")
    assert result.exit_code == 2
    assert "not installed" in result.output and "Traceback" not in result.output
    assert ingested.dump() == before


def test_klynge_codebook_is_valid_and_complete() -> None:
    book = load_codebook(Path(__file__).resolve().parents[2] / "codebooks" / "klynge.yaml")
    expected = {
        "forankring": {"ledelse", "ressurser", "mål", "ansatte", "regional"},
        "tillit": {"relasjoner", "erfaring", "åpenhet", "mistillit"},
        "samkonkurranse": {"konkurrenter", "deling", "spenning", "felles_front"},
        "fasilitering": {"klyngeledelse", "møteplasser", "kobling", "digitalt", "offentlig"},
    }
    assert {c.id: {k.id for k in c.children} for c in book.codes} == expected
    for code in book.walk():
        assert code.description and code.color and len(code.examples) >= 2, code.path
        assert code.include and code.exclude, code.path
    assert not [w for w in book.warnings if "listed under both" in w.message]


def test_search_and_explain(runner: CliRunner, ingested: Store, codebook_file: Path) -> None:
    plain = run(runner, ingested, "search", "stole", "-f", "json")
    assert plain.exit_code == 0 and json.loads(plain.stdout) == []
    lemma = run(runner, ingested, "search", "stole på", "--lemma", "-f", "json")
    hits = json.loads(lemma.stdout)
    assert [h["match"] for h in hits] == ["stoler på"]
    assert hits[0]["respondent"] == "R1"
    wildcard = json.loads(run(runner, ingested, "search", "konkurr*", "-r", "R2", "-f", "json").stdout)
    assert {h["match"] for h in wildcard} == {"konkurrent", "Konkurrerer"}  # the question too
    answers = run(runner, ingested, "search", "konkurr*", "-r", "R2", "--role", "respondent", "-f", "json")
    assert {h["match"] for h in json.loads(answers.stdout)} == {"konkurrent"}
    seg = hits[0]["segment_id"]
    explained = run(runner, ingested, "explain", str(seg), "--codebook", str(codebook_file), "-f", "json")
    rows = json.loads(explained.stdout)
    assert {"code": "tillit", "rule": "phrase"}.items() <= rows[0].items()
    missing = run(runner, ingested, "explain", "9999", "--codebook", str(codebook_file))
    assert missing.exit_code == 2 and "no segment 9999" in missing.output


def test_codebook_show_counts_per_layer(runner: CliRunner, ingested: Store, codebook_file: Path) -> None:
    assert run(runner, ingested, "codebook", "load", str(codebook_file)).exit_code == 0
    assert run(runner, ingested, "code").exit_code == 0
    shown = run(runner, ingested, "codebook", "show", "-f", "json")
    rows = {r["path"]: r for r in json.loads(shown.stdout)}
    assert rows["tillit"]["auto"] >= 1
    tree = run(runner, ingested, "codebook", "show")
    assert tree.exit_code == 0 and "tillit/mistillit" in tree.stdout


def test_validation_lists_issues_in_line_order(tmp_path: Path) -> None:
    path = tmp_path / "several.yaml"
    path.write_text(
        "name: t\ncodes:\n  - id: b\n    keywrds: [x]\n  - id: a\n    keywords: [y]\n"
        "    color: red\n  - id: a\n    keywords: [z]\n",
        encoding="utf-8",
    )
    lines = [issue.line for issue in validate_codebook(path)]
    assert len(lines) >= 3 and lines == sorted(lines)


def test_a_term_listed_twice_in_one_code_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(
        "name: t\ncodes:\n  - id: åpenhet\n    keywords: [ærlig, tillit]\n    weak: [Ærlig]\n",
        encoding="utf-8",
    )
    issues = validate_codebook(path)
    assert [(i.severity, i.line) for i in issues] == [("warning", 3)]
    assert "'Ærlig' is listed in both keywords and weak" in issues[0].message
    load_codebook(path)  # a warning, not an error
