"""Coder layers (list, set, copy) and recode, through the library and the CLI."""

from __future__ import annotations

import json

import pytest

from qualcode.errors import InputError
from qualcode.recode import copy_layer, list_layers, recode, resolve_coder


def test_coder_list_counts_layers(cli, coded, seg):
    recode(coded, [seg(coded, "R1.txt", 2)], "kari", add=["tillit"], memo="hvorfor")
    result = cli("coder", "list", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = {r["coder"]: r for r in json.loads(result.stdout)}
    assert rows["auto"]["codings"] == 4 and rows["auto"]["draft"] == 4 and rows["auto"]["segments"] == 3
    assert rows["kari"]["codings"] == 1 and rows["kari"]["manual"] == 1 and rows["kari"]["memos"] == 1


def test_coder_set_default_and_resolution(cli, coded, monkeypatch):
    with pytest.raises(InputError, match="who is coding"):
        resolve_coder(coded, None)
    result = cli("coder", "set", "kari")
    assert result.exit_code == 0, result.output
    assert coded.get_setting("default_coder") == "kari"
    assert resolve_coder(coded, None) == "kari"
    monkeypatch.setenv("QUALCODE_CODER", "ola")
    assert resolve_coder(coded, None) == "ola"  # the environment wins over the project default
    assert resolve_coder(coded, "per") == "per"  # --coder wins over both
    assert [layer.name for layer in list_layers(coded) if layer.is_default] == ["kari"]


@pytest.mark.parametrize("name", ["auto", "kari nordmann", ""])
def test_coder_set_refuses_bad_names(cli, coded, name):
    before = coded.dump()
    result = cli("coder", "set", name)
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output
    assert coded.dump() == before


def test_copy_layer_copies_evidence_and_stays_independent(coded, layer, seg):
    result = copy_layer(coded, "auto", "kari")
    assert result.copied == 4
    assert layer(coded, "kari") == layer(coded, "auto")  # evidence, negation, source included
    auto_before = layer(coded, "auto")
    r1_2 = seg(coded, "R1.txt", 2)
    recode(coded, [r1_2], "kari", remove=["forankring/mål"], add=["tillit/åpenhet"])
    assert layer(coded, "auto") == auto_before
    assert (r1_2, "forankring/mål") not in layer(coded, "kari")


def test_copy_into_nonempty_layer_needs_merge(cli, coded, seg, layer):
    recode(coded, [seg(coded, "R1.txt", 4)], "kari", add=["tillit/relasjoner"])
    before = coded.dump()
    result = cli("coder", "copy", "auto", "kari")
    assert result.exit_code == 2 and "--merge" in result.output
    assert coded.dump() == before
    result = cli("coder", "copy", "auto", "kari", "--merge")
    assert result.exit_code == 0, result.output
    kari = layer(coded, "kari")
    assert len(kari) == 4
    # The coding kari already had is kept as hers (manual), not overwritten by the draft.
    assert kari[(seg(coded, "R1.txt", 4), "tillit/relasjoner")][0] == "manual"


def test_copy_errors(cli, coded):
    before = coded.dump()
    for args in (["nobody", "kari"], ["auto", "auto"], ["auto", "auto2 x"]):
        result = cli("coder", "copy", *args)
        assert result.exit_code == 2, args
    assert coded.dump() == before


def test_recode_adds_removes_and_reports(cli, coded, seg, layer):
    a, b = seg(coded, "R1.txt", 2), seg(coded, "R1.txt", 4)
    result = cli("recode", str(a), str(b), "--add", "tillit/åpenhet", "--coder", "kari", "-m", "åpen")
    assert result.exit_code == 0, result.output
    kari = layer(coded, "kari")
    assert set(kari) == {(a, "tillit/åpenhet"), (b, "tillit/åpenhet")}
    assert all(v[0] == "manual" and json.loads(v[2]) == [] for v in kari.values())
    memos = coded.conn.execute("SELECT segment_id, coder, text FROM memos ORDER BY segment_id").fetchall()
    assert memos == [(a, "kari", "åpen"), (b, "kari", "åpen")]

    result = cli("recode", str(a), "--add", "tillit/åpenhet", "--remove", "tillit/erfaring",
                 "--coder", "kari")
    assert result.exit_code == 0
    assert "already has tillit/åpenhet" in result.output
    assert "does not have tillit/erfaring" in result.output
    assert "nothing changed" in result.output

    result = cli("recode", str(a), "--remove", "tillit/åpenhet", "--coder", "kari")
    assert result.exit_code == 0
    assert set(layer(coded, "kari")) == {(b, "tillit/åpenhet")}


def test_recode_result_lists_what_was_already_so(coded, seg):
    a = seg(coded, "R1.txt", 2)
    first = recode(coded, [a], "kari", add=["tillit", "tillit"])
    assert first.added == [(a, "tillit")]
    again = recode(coded, [a], "kari", add=["tillit"], remove=["fasilitering"])
    assert again.already_coded == [(a, "tillit")] and again.not_coded == [(a, "fasilitering")]
    assert not again.changed


def test_recode_unknown_code_suggests_and_changes_nothing(cli, coded, seg):
    before = coded.dump()
    result = cli("recode", str(seg(coded, "R1.txt", 2)), "--add", "tilit/relasjon", "--coder", "kari")
    assert result.exit_code == 2
    assert "unknown code 'tilit/relasjon'" in result.output
    assert "tillit/relasjoner" in result.output
    # A bare leaf name is suggested under its parent.
    result = cli("recode", str(seg(coded, "R1.txt", 2)), "--add", "åpenhet", "--coder", "kari")
    assert result.exit_code == 2 and "tillit/åpenhet" in result.output
    assert coded.dump() == before


def test_recode_unknown_segment_changes_nothing(cli, coded, seg):
    before = coded.dump()
    result = cli("recode", str(seg(coded, "R1.txt", 2)), "9999", "--add", "tillit", "--coder", "kari")
    assert result.exit_code == 2
    assert "9999" in result.output and "Traceback" not in result.output
    assert coded.dump() == before


def test_recode_needs_a_coder_and_refuses_auto(cli, coded, seg):
    before = coded.dump()
    result = cli("recode", str(seg(coded, "R1.txt", 2)), "--add", "tillit")
    assert result.exit_code == 2 and "who is coding" in result.output
    result = cli("recode", str(seg(coded, "R1.txt", 2)), "--add", "tillit", "--coder", "auto")
    assert result.exit_code == 2
    result = cli("recode", str(seg(coded, "R1.txt", 2)), "--coder", "kari")
    assert result.exit_code == 2 and "nothing to do" in result.output
    result = cli("recode", str(seg(coded, "R1.txt", 2)), "--add", "tillit", "--remove", "tillit",
                 "--coder", "kari")
    assert result.exit_code == 2
    assert coded.dump() == before


def test_recode_uses_env_coder(cli, coded, seg, layer):
    result = cli("recode", str(seg(coded, "R2.txt", 2)), "--add", "samkonkurranse/deling",
                 env={"QUALCODE_CODER": "ola"})
    assert result.exit_code == 0, result.output
    assert len(layer(coded, "ola")) == 1


def test_recode_can_remove_a_retired_code(coded, seg, layer, make_codes):
    a = seg(coded, "R1.txt", 2)
    recode(coded, [a], "kari", add=["fasilitering/digitalt"])
    coded.conn.execute("UPDATE codes SET active = 0 WHERE path = 'fasilitering/digitalt'")
    with pytest.raises(InputError, match="no longer in the current codebook"):
        recode(coded, [a], "kari", add=["fasilitering/digitalt"])
    recode(coded, [a], "kari", remove=["fasilitering/digitalt"])
    assert layer(coded, "kari") == {}


def test_memo_commands(cli, coded, seg):
    a = seg(coded, "R1.txt", 2)
    assert cli("memo", str(a), "Les", "[pause]", "her", "--coder", "kari").exit_code == 0
    assert cli("memo", "--code", "tillit", "Tillit =", "relasjoner", "--coder", "kari").exit_code == 0
    result = cli("memo", "--list", "-f", "json")
    memos = json.loads(result.stdout)
    assert [(m["segment"], m["code"], m["text"]) for m in memos] == [
        (a, "", "Les [pause] her"), (None, "tillit", "Tillit = relasjoner"),
    ]
    before = coded.dump()
    assert cli("memo", "9999", "tekst", "--coder", "kari").exit_code == 2
    assert cli("memo", "--code", "tilit", "tekst", "--coder", "kari").exit_code == 2
    assert coded.dump() == before
    result = cli("memo", "--delete", str(memos[0]["id"]), "--coder", "kari")
    assert result.exit_code == 0 and "[pause]" in result.output
    assert len(json.loads(cli("memo", "-f", "json").stdout)) == 1
