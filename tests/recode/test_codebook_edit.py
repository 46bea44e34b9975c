"""A new code while reading: a new codebook version, exported as YAML, undone exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode.audit import undo
from qualcode.cli.main import app
from qualcode.codebook import current_codebook, install_codebook, load_codebook, loads_codebook
from qualcode.codebook_edit import add_code, code_id_from_name, export_codebook
from qualcode.errors import InputError, QualcodeError
from qualcode.recode import recode
from qualcode.store import Store

BOOK = """\
# Kommentar som bare står i den første versjonen
name: Liten kodebok
language: nb
codes:
  - id: tillit
    name: Tillit
    description: Tillit mellom bedriftene.
    color: "#2ca02c"
    keywords: [tillit]
    codes:
      - id: erfaring
        keywords: [jobbet sammen]
  - id: deling
    name: Deling
    keywords: [dele]
"""


@pytest.fixture
def booked(ingested: Store) -> Store:
    install_codebook(ingested, loads_codebook(BOOK), "codebook load")
    return ingested


def test_code_ids_from_names() -> None:
    assert code_id_from_name("  Lærlinger og  rekruttering ") == "lærlinger-og-rekruttering"
    assert code_id_from_name("inn/ut") == "inn-ut"


def test_a_new_code_under_a_parent_is_a_new_version(booked: Store) -> None:
    made = add_code(booked, "Felles opplæring", "kari", parent="tillit",
                    description="Opplæring sammen.", color="#123abc")
    assert made.path == "tillit/felles-opplæring"
    book = current_codebook(booked)
    assert book is not None
    assert book.paths() == ["tillit", "tillit/erfaring", "tillit/felles-opplæring", "deling"]
    code = book.find("tillit/felles-opplæring")
    assert (code.name, code.description, code.color) == ("Felles opplæring", "Opplæring sammen.", "#123abc")
    assert book.find("tillit").keywords == ["tillit"]  # the rules are carried over
    assert booked.code_paths() == book.paths()  # the tree order follows the new version
    command = booked.conn.execute("SELECT command, coder FROM commands ORDER BY id DESC").fetchone()
    assert command == ("codebook add-code tillit/felles-opplæring", "kari")


def test_undo_takes_the_code_and_the_version_back(booked: Store) -> None:
    before = booked.dump()
    add_code(booked, "Ny", "kari")
    undo(booked, "kari")
    after = booked.dump()
    for table in ("codes", "codebook_versions", "codings"):
        assert after[table] == before[table], table


def test_a_code_in_use_cannot_be_undone_away(booked: Store, small_corpus: Path) -> None:
    add_code(booked, "Ny", "kari")
    recode(booked, [1], "ola", add=["ny"])
    with pytest.raises(QualcodeError, match="holds 1 codings"):
        # ola's command is ola's; kari's add_code is still the last of kari's.
        undo(booked, "kari")


def test_bad_new_codes_change_nothing(booked: Store) -> None:
    before = booked.dump()
    for kwargs, message in [
        ({"name": "  "}, "needs a name"),
        ({"name": "tillit"}, "already a code"),
        ({"name": "TILLIT"}, "already a code"),
        ({"name": "x", "parent": "finnes"}, "unknown parent"),
        ({"name": "x", "color": "grønn"}, "#rrggbb"),
        ({"name": "x" * 81}, "80 characters"),
    ]:
        with pytest.raises(InputError, match=message):
            add_code(booked, coder="kari", **kwargs)  # type: ignore[arg-type]
    assert booked.dump() == before


def test_export_writes_the_current_codebook(booked: Store, tmp_path: Path) -> None:
    target = tmp_path / "ny" / "mappe" / "kodebok.yaml"
    export_codebook(booked, target)
    assert target.read_text(encoding="utf-8") == BOOK  # unchanged: exactly as loaded
    add_code(booked, "Lærlinger", "kari", parent="deling")
    result = CliRunner().invoke(app, ["--project", str(booked.folder), "codebook", "export", str(target)])
    assert result.exit_code == 0, result.output
    assert load_codebook(target).find("deling/lærlinger").name == "Lærlinger"


def test_export_errors_are_one_line(ingested: Store, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--project", str(ingested.folder), "codebook", "export", str(tmp_path / "k.yaml")]
    )
    assert result.exit_code == 2
    assert "no codebook yet" in result.output
    install_codebook(ingested, loads_codebook(BOOK), "codebook load")
    result = CliRunner().invoke(
        app, ["--project", str(ingested.folder), "codebook", "export", str(tmp_path)]
    )
    assert result.exit_code == 2 and "is a folder" in result.output


def test_codes_without_a_codebook_get_one(ingested: Store, make_codes) -> None:  # type: ignore[no-untyped-def]
    make_codes(ingested, ["tillit", "tillit/erfaring"])
    add_code(ingested, "Deling", "kari")
    book = current_codebook(ingested)
    assert book is not None and book.paths() == ["tillit", "tillit/erfaring", "deling"]
