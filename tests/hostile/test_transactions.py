"""Concurrent writers and interrupted commands: plans are re-checked inside the write transaction,
temporary files are unique, outputs never go through a symlink, staging folders are cleaned up."""

from __future__ import annotations

import os

import pytest

from qualcode.errors import InputError
from qualcode.ingest import ingest_paths
from qualcode.store import open_store


def test_two_imports_into_one_layer_cannot_both_apply(formula_project, tmp_path):
    from qualcode.export.codings import apply_import, layer_state, plan_import

    ids = sorted(s for s, _ in layer_state(formula_project, "kari"))
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path, keep in ((first, ids[:3]), (second, ids[1:])):
        path.write_text(
            "segment_id,code,coder\n" + "".join(f"{s},tillit,kari\n" for s in keep),
            encoding="utf-8",
        )
    plan_a = plan_import(formula_project, first, "kari")
    plan_b = plan_import(formula_project, second, "kari")
    other = open_store(formula_project.folder)  # the other command's connection
    try:
        apply_import(other, plan_b, "import b")
    finally:
        other.close()
    with pytest.raises(InputError, match="changed while the import was being prepared"):
        apply_import(formula_project, plan_a, "import a")
    assert layer_state(formula_project, "kari") == {(s, "tillit") for s in ids[1:]}


def test_code_racing_ingest_replace_codes_the_new_turns(tmp_path, small_corpus):
    """An ingest --replace started while `code` runs waits for it, then lands: no foreign-key
    failure, and the turns `code` wrote are the ones in the store when it wrote them."""
    import threading

    from qualcode.autocode import autocode_project
    from qualcode.codebook import install_codebook, loads_codebook
    from qualcode.store import create_store

    store = create_store(tmp_path / "p")
    ingest_paths(store, [small_corpus], command="ingest")
    book = loads_codebook("name: k\ncodes:\n  - id: tillit\n    keywords: [stoler]\n")
    install_codebook(store, book, "load")
    changed = small_corpus / "R1.txt"
    errors: list[BaseException] = []
    started: list[threading.Thread] = []

    def replace() -> None:
        other = open_store(store.folder)
        try:
            ingest_paths(other, [changed], replace=True, command="ingest --replace")
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            other.close()

    def replace_meanwhile(done: int, total: int) -> None:
        if started:
            return
        changed.write_text(
            "I: Hva med tilliten?\nR1: Vi stoler på dem, helt ærlig.\nI: Takk.\n", encoding="utf-8"
        )
        thread = threading.Thread(target=replace)
        thread.start()
        started.append(thread)

    summary = autocode_project(store, book, on_progress=replace_meanwhile)
    started[0].join(timeout=60)
    assert errors == []
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    texts = [r[0] for r in store.conn.execute("SELECT text FROM segments")]
    assert "Vi stoler på dem, helt ærlig." in texts  # the replace landed after `code`
    assert summary.codings >= 1
    store.close()


def test_atomic_output_uses_unique_names_and_replaces_a_symlink(tmp_path):
    from qualcode.outputs import atomic_output

    target = tmp_path / "hemmelig.txt"
    target.write_text("urørt", encoding="utf-8")
    link = tmp_path / "rapport.docx"
    link.symlink_to(target)
    with atomic_output(link) as first, atomic_output(link) as second:
        assert first != second and first.parent == second.parent == tmp_path
        first.write_text("en", encoding="utf-8")
        second.write_text("to", encoding="utf-8")
    assert not link.is_symlink() and link.read_text(encoding="utf-8") in ("en", "to")
    assert target.read_text(encoding="utf-8") == "urørt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hemmelig.txt", "rapport.docx"]


def test_export_codings_never_writes_through_a_symlink(formula_project, runner, tmp_path):
    from qualcode.cli.main import app

    target = tmp_path / "ikke_rør.txt"
    target.write_text("viktig", encoding="utf-8")
    link = tmp_path / "k.csv"
    link.symlink_to(target)
    result = runner.invoke(
        app, ["--project", str(formula_project.folder), "export", "codings", "-o", str(link)]
    )
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == "viktig"
    assert not link.is_symlink() and "segment_id" in link.read_text(encoding="utf-8-sig")


def test_failed_write_leaves_no_temporary_file(tmp_path):
    from qualcode.outputs import atomic_output

    with pytest.raises(RuntimeError), atomic_output(tmp_path / "x.csv") as tmp:
        tmp.write_text("halv", encoding="utf-8")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_stale_qdpx_staging_folders_are_removed_at_the_next_import(tmp_path, make):
    from qualcode.refiqda.importer import STAGING_PREFIX, import_qdpx
    from qualcode.refiqda.importer import remove_stale_staging as remove

    dead = tmp_path / f"{STAGING_PREFIX}prosjekt.999999999.abcd1234"
    dead.mkdir()
    (dead / "qualcode.db").write_bytes(b"delvis")
    alive = tmp_path / f"{STAGING_PREFIX}annet.{os.getpid()}.abcd1234"
    alive.mkdir()
    source = make.honest_qdpx(tmp_path / "ærlig.qdpx", 3000, 3)
    import_qdpx(source, tmp_path / "prosjekt")
    assert not dead.exists() and alive.exists()
    assert (tmp_path / "prosjekt" / "qualcode.db").is_file()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(STAGING_PREFIX)] == [alive]
    assert remove(tmp_path) == []


def test_a_failed_qdpx_import_leaves_no_staging_folder(tmp_path, make, monkeypatch):
    from qualcode.refiqda import importer

    def fail(*args, **kwargs):
        raise InputError("stopp")

    monkeypatch.setattr(importer, "_write_project", fail)
    with pytest.raises(InputError):
        importer.import_qdpx(make.honest_qdpx(tmp_path / "a.qdpx", 3000, 3), tmp_path / "ny")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.qdpx"]
