"""The look-up commands stay light: ``search`` and ``explain`` import no heavy library.

Their speed target (issue 17: at most 3× ``qualcode --help``, bench/lookups.py) holds only while
a look-up imports none of spaCy, pandas, numpy or pydantic; each costs tens to hundreds of
milliseconds of start-up. Typer 0.29 coerces every parameter through pydantic, which is why
pyproject.toml keeps Typer below it: this test fails if a Typer upgrade brings it back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qualcode.autocode import autocode_project
from qualcode.codebook import install_codebook, load_codebook
from qualcode.store import Store

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("spacy", "pandas", "numpy", "pydantic", "docx", "openpyxl", "fastapi", "matplotlib")

# Runs the command line as the console script does, then lists the top-level modules it loaded.
_CHILD = """
import json, sys
sys.argv = ["qualcode", *json.loads(sys.argv[1])]
from qualcode.cli.main import run
try:
    run()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open(OUT, "w") as out:
    json.dump({"exit": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}, out)
"""


def _loaded_modules(args: list[str], out: Path) -> tuple[object, set[str]]:
    child = _CHILD.replace("OUT", repr(str(out)))
    subprocess.run(
        [sys.executable, "-c", child, json.dumps(args)], check=True, capture_output=True
    )
    found = json.loads(out.read_text(encoding="utf-8"))
    return found["exit"], set(found["modules"])


@pytest.fixture
def coded(ingested: Store) -> Store:
    codebook = load_codebook(REPO / "codebooks" / "klynge.yaml")
    install_codebook(ingested, codebook, "test: load")
    autocode_project(ingested, codebook)
    return ingested


@pytest.mark.parametrize("command", ["search", "explain"])
def test_a_look_up_imports_no_heavy_library(coded: Store, tmp_path: Path, command: str) -> None:
    segment = coded.conn.execute(
        "SELECT s.id FROM segments s JOIN codings c ON c.segment_id = s.id ORDER BY s.id LIMIT 1"
    ).fetchone()[0]
    args = {"search": ["search", "--lemma", "tillit"], "explain": ["explain", str(segment)]}
    exit_code, modules = _loaded_modules(
        ["-p", str(coded.folder), *args[command]], tmp_path / "modules.json"
    )
    assert exit_code == 0
    assert "qualcode" in modules  # the child really ran the command line
    assert sorted(m for m in HEAVY if m in modules) == []
