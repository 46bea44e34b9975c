"""Zip bombs, encrypted archives, XXE and deep XML trees: refused in one line before reading."""

from __future__ import annotations

import zipfile

import pytest

from qualcode.errors import InputError
from qualcode.limits import MAX_ZIP_MEMBER_BYTES, MAX_ZIP_RATIO, check_zip_archive, read_zip_member


def test_docx_bomb_is_refused_before_python_docx_reads_it(cli, tmp_path, make, ingested, content):
    bomb = make.docx_bomb(tmp_path / "bombe.docx", MAX_ZIP_MEMBER_BYTES + 2_000_000)
    before = content(ingested)
    result = cli("ingest", str(bomb))
    assert result.exit_code == 2
    assert "bombe.docx: word/document.xml in the archive expands to" in result.output
    assert "Traceback" not in result.output
    assert content(ingested) == before


def test_a_highly_compressed_member_is_refused_even_under_the_size_limit(tmp_path):
    path = tmp_path / "tett.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<a>" + b"ja " * 2_000_000 + b"</a>")
    with pytest.raises(InputError, match=f"more than {MAX_ZIP_RATIO} times"):
        check_zip_archive(path)


def test_a_forged_directory_size_is_caught_while_reading(tmp_path):
    path = tmp_path / "løgn.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", b"x" * (MAX_ZIP_MEMBER_BYTES + 10))
    with zipfile.ZipFile(path) as archive:
        archive.getinfo("a.txt").file_size = 100  # what a forged central directory would say
        archive.getinfo("a.txt").compress_size = 100
        # zipfile stops at the declared size and then finds the checksum wrong: either way
        # nothing past the declared size is ever returned.
        with pytest.raises((InputError, zipfile.BadZipFile)):
            read_zip_member(archive, path, "a.txt")


def test_qdpx_bomb_is_refused_and_leaves_no_folder(runner, tmp_path, make):
    from qualcode.cli.main import app

    bomb = make.qdpx_bomb(tmp_path / "bombe.qdpx", MAX_ZIP_MEMBER_BYTES + 2_000_000)
    result = runner.invoke(app, ["import", "qdpx", str(bomb), str(tmp_path / "ny")])
    assert result.exit_code == 2
    assert "sources/kilde.txt in the archive expands to" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bombe.qdpx"]


def test_encrypted_qdpx_is_one_line(runner, tmp_path, make):
    from qualcode.cli.main import app

    path = make.encrypted_qdpx(tmp_path / "kryptert.qdpx")
    result = runner.invoke(app, ["import", "qdpx", str(path), str(tmp_path / "ny")])
    assert result.exit_code == 2
    assert "kryptert.qdpx: the archive is encrypted" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("kind", ["qdc", "qdpx"])
def test_code_trees_5000_deep_are_one_line(runner, tmp_path, make, kind):
    from qualcode.cli.main import app

    if kind == "qdc":
        path = make.deep_qdc(tmp_path / "dyp.qdc", 5000)
        args = ["import", "qdc", str(path), "-o", str(tmp_path / "dyp.yaml")]
    else:
        path = make.deep_qdpx(tmp_path / "dyp.qdpx", 5000)
        args = ["import", "qdpx", str(path), str(tmp_path / "ny")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "nested more than" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_code_tree_over_the_code_depth_limit_is_refused_with_the_file(runner, tmp_path, make):
    from qualcode.cli.main import app
    from qualcode.limits import MAX_CODE_DEPTH

    path = make.deep_qdc(tmp_path / "litt_dyp.qdc", MAX_CODE_DEPTH + 1)
    result = runner.invoke(app, ["import", "qdc", str(path), "-o", str(tmp_path / "k.yaml")])
    assert result.exit_code == 2
    assert f"litt_dyp.qdc:1: codes nested more than {MAX_CODE_DEPTH} deep" in result.output
    ok = make.deep_qdc(tmp_path / "grunn.qdc", MAX_CODE_DEPTH)
    assert runner.invoke(app, ["import", "qdc", str(ok), "-o", str(tmp_path / "k.yaml")]).exit_code == 0


def test_xlsx_with_xxe_is_one_line_and_reads_no_file(cli, tmp_path, make, ingested, content):
    path = make.xlsx_with_xxe(tmp_path / "xxe.xlsx")
    before = content(ingested)
    result = cli("import", "codings", str(path), "--coder", "kari", "--new-coder")
    assert result.exit_code == 2
    assert "xxe.xlsx: not a readable .xlsx file: its XML declares entities" in result.output
    assert "root:" not in result.output  # /etc/passwd was not read into anything
    assert content(ingested) == before


def test_own_xml_parsing_refuses_entities(tmp_path):
    from qualcode.safexml import parse_xml

    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<CodeBook>&b;</CodeBook>"
    )
    with pytest.raises(InputError, match="entities"):
        parse_xml(laughs, tmp_path / "latter.qdc")


