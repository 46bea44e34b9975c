"""Renaming a coder layer: everything follows the new name, and undo puts it back exactly."""

from __future__ import annotations

import pytest

from qualcode.audit import undo
from qualcode.cli.main import app
from qualcode.errors import InputError
from qualcode.memos import add_memo
from qualcode.recode import copy_layer, recode, rename_layer, set_default_coder


def layer(store, name):
    return sorted(
        store.conn.execute(
            "SELECT c.segment_id, k.path FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
            (name,),
        ).fetchall()
    )


def test_rename_moves_codings_memos_and_default_and_undo_restores(coded, seg):
    copy_layer(coded, "auto", "imported")
    recode(coded, [seg(coded, "R1.txt", 6)], "imported", add=["tillit"])
    add_memo(coded, "viktig sitat", "imported", segment_id=seg(coded, "R1.txt", 4))
    set_default_coder(coded, "imported")
    codings = layer(coded, "imported")
    before = coded.dump()

    assert rename_layer(coded, "imported", "kari") == len(codings)
    assert layer(coded, "kari") == codings and coded.coder_id("imported") is None
    assert coded.get_setting("default_coder") == "kari"
    assert coded.conn.execute("SELECT coder FROM memos").fetchall() == [("kari",)]

    undo(coded, "kari")
    after = coded.dump()
    for table in ("codings", "coders", "memos", "settings"):
        assert after[table] == before[table], table


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("nobody", "kari", "no coder layer 'nobody'"),
        ("auto", "kari", "'auto'"),
        ("jonas", "kari", "exists already"),
        ("jonas", "two words", "not a usable coder name"),
    ],
)
def test_bad_renames_change_nothing(coded, old, new, message):
    copy_layer(coded, "auto", "jonas")
    copy_layer(coded, "auto", "kari")
    before = coded.dump()
    with pytest.raises(InputError, match=message):
        rename_layer(coded, old, new)
    assert coded.dump() == before


def test_cli_rename(coded, runner):
    copy_layer(coded, "auto", "imported")
    result = runner.invoke(
        app, ["--project", str(coded.folder), "coder", "rename", "imported", "kari"]
    )
    assert result.exit_code == 0, result.output
    assert "Renamed coder layer imported to kari" in result.output
    assert coded.coder_id("kari") is not None
