"""Every command that writes a file: one rule for folders, one-line errors, and no transcript file
names (which carry firm names) in a file that leaves the machine."""

from __future__ import annotations

import errno
import os
import zipfile
from pathlib import Path

import pytest
from tests.helpers import mark_coded_transcripts_done

from qualcode.cli.main import app
from qualcode.ingest import ingest_paths
from qualcode.pseudonyms import Pseudonym, Pseudonyms, check, transcript_aliases
from qualcode.store import Store

FJORDAL_R1 = """\
I: Hvordan er medlemskapet forankret hos dere?
R1: Ledelsen har ikke satt av tid. Ola Sørheim ringte meg for åtte år siden.
I: Stoler dere på de andre?
R1: Vi stoler på hverandre, vi har jobbet sammen i mange år.
"""

BOLGEN_R2 = """\
I: Hva gjør klyngeledelsen?
R2: De arrangerer samlinger og frokostmøter.
I: Er kommunen med?
R2: Kommunen støtter klyngen, og vi har ingen mistillit til dem.
"""

#: Firm names that are only in the transcripts' file names, not in the pseudonym list.
FILE_NAME_FIRMS = Pseudonyms([Pseudonym("fjordal", "x"), Pseudonym("bolgen", "x")])


def run(runner, store: Store, *args: str):
    return runner.invoke(app, ["--project", str(store.folder), *args])


@pytest.fixture
def firm_files(project: Store, tmp_path: Path, make_codes) -> Store:
    """Two transcripts named after their firms (``R1_fjordal.txt``), a pseudonym list without
    those names, and two human layers that agree on some turns and differ on others."""
    folder = tmp_path / "interviews"
    folder.mkdir()
    (folder / "R1_fjordal.txt").write_text(FJORDAL_R1, encoding="utf-8")
    (folder / "R2_bolgen.txt").write_text(BOLGEN_R2, encoding="utf-8")
    (folder / "respondents.csv").write_text(
        "respondent,file,sector\nR1,R1_fjordal.txt,industri\nR2,R2_bolgen.txt,logistikk\n",
        encoding="utf-8",
    )
    ingest_paths(project, [folder], command="test: ingest")
    (Path(project.folder) / "pseudonyms.csv").write_text(
        "original,replacement\nOla Sørheim,[navn]\n", encoding="utf-8"
    )
    make_codes(project, ["tillit", "forankring", "fasilitering"])
    turns = [
        r[0]
        for r in project.conn.execute(
            "SELECT id FROM segments WHERE role = 'respondent' ORDER BY transcript_id, position"
        )
    ]
    with project.write("test: two layers") as tx:
        for seg in turns:
            project.add_coding(tx, seg, "tillit", "kari", memo="kari sitt notat")
        project.add_coding(tx, turns[0], "forankring", "jonas")
        project.add_coding(tx, turns[2], "fasilitering", "jonas")
        project.add_coding(tx, turns[1], "tillit", "jonas")
    mark_coded_transcripts_done(project)
    return project


def file_text(path: Path) -> str:
    """Everything a docx/xlsx (all parts) or text file holds, for a plain substring search."""
    if path.suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return path.read_text(encoding="utf-8-sig")


# -- transcript names ---------------------------------------------------------------------------
def test_transcript_aliases_number_a_respondents_second_transcript(project, tmp_path):
    folder = tmp_path / "interviews"
    folder.mkdir()
    (folder / "R1_fjordal.txt").write_text(FJORDAL_R1, encoding="utf-8")
    (folder / "R1_fjordal_del2.txt").write_text(FJORDAL_R1, encoding="utf-8")
    (folder / "respondents.csv").write_text(
        "respondent,file\nR1,R1_fjordal.txt|R1_fjordal_del2.txt\n", encoding="utf-8"
    )
    ingest_paths(project, [folder], command="test: ingest")
    assert transcript_aliases(project) == {
        "R1_fjordal.txt": "R1.txt",
        "R1_fjordal_del2.txt": "R1-2.txt",
    }


def test_report_files_name_transcripts_by_respondent(runner, firm_files, tmp_path):
    out = tmp_path / "out"
    written = [out / "rapport" / "rapport.docx", out / "rapport" / "rapport.xlsx"]
    result = run(runner, firm_files, "report", "all", "-c", "kari", "--out", str(out / "rapport"))
    assert result.exit_code == 0, result.output
    for suffix in ("csv", "xlsx", "docx", "md", "json"):
        target = out / f"quotes.{suffix}"
        result = run(
            runner, firm_files, "report", "quotes", "-c", "kari", "--full", "-o", str(target)
        )
        assert result.exit_code == 0, result.output
        written.append(target)
    for suffix in ("docx", "xlsx", "csv"):
        target = out / f"uenigheter.{suffix}"
        result = run(runner, firm_files, "disagreements", "kari", "jonas", "-o", str(target))
        assert result.exit_code == 0, result.output
        written.append(target)
    for path in written:
        text = file_text(path)
        assert "fjordal" not in text.casefold() and "bolgen" not in text.casefold(), path
    # The pseudonym checker agrees; the files do name the transcripts, by respondent.
    assert check([p for p in written if p.suffix != ".json"], FILE_NAME_FIRMS) == []
    for name in ("rapport/rapport.xlsx", "quotes.csv", "quotes.json", "uenigheter.docx"):
        assert "R1.txt" in file_text(out / name), name


def test_consistency_section_names_transcripts_by_respondent(firm_files, tmp_path):
    from qualcode.consistency import consistency_section
    from qualcode.export.report_files import write_full_report

    section = consistency_section(firm_files, lang="en")
    assert section is not None
    disagreements = section.block_lists[0].table
    assert set(disagreements.iloc[:, 1]) <= {"R1", "R2"} and len(disagreements)
    assert all(b.heading.startswith(("R1,", "R2,")) for b in section.block_lists[0].blocks)
    docx_path, xlsx_path = write_full_report(firm_files, tmp_path / "r", extra_sections=[section])
    assert check([docx_path, xlsx_path], FILE_NAME_FIRMS) == []


def test_terminal_keeps_the_real_file_names(runner, firm_files):
    """The terminal table does not leave the machine: there the student sees the files they know;
    csv/json (usually redirected into a file) are made shareable like the -o files."""
    result = run(runner, firm_files, "disagreements", "kari", "jonas")
    assert result.exit_code == 0, result.output
    assert "R1_fjordal" in result.stdout
    for fmt in ("csv", "json"):
        result = run(runner, firm_files, "disagreements", "kari", "jonas", "-f", fmt)
        assert result.exit_code == 0, result.output
        assert "fjordal" not in result.stdout.casefold() and "R1.txt" in result.stdout


# -- output folders -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ("export", "codings", "-o", "{new}/k.csv"),
        ("export", "codings", "-o", "{new}/k.xlsx"),
        ("report", "freq", "-o", "{new}/f.csv"),
        ("report", "quotes", "-o", "{new}/q.docx"),
        ("report", "all", "--out", "{new}"),
        ("disagreements", "kari", "jonas", "-o", "{new}/u.csv"),
        ("disagreements", "kari", "jonas", "-o", "{new}/u.xlsx"),
        ("disagreements", "kari", "jonas", "-o", "{new}/u.docx"),
        ("export", "qdpx", "{new}/p.qdpx"),
        ("export", "qdc", "{new}/c.qdc"),
    ],
)
def test_missing_folders_are_created(runner, firm_files, tmp_path, args):
    new = tmp_path / "missing" / "sub"
    result = run(runner, firm_files, *(a.format(new=new) for a in args))
    assert result.exit_code == 0, result.output
    assert [p for p in new.iterdir() if not p.name.startswith(".")]


def _error_cases(tmp: Path) -> list[tuple[tuple[str, ...], str]]:
    """(command line, the path the one-line error names)."""
    a_file, a_folder = tmp / "afile", tmp / "afolder.csv"
    cases = []
    for args in (
        ("export", "codings", "-o", "{}"),
        ("report", "freq", "-o", "{}"),
        ("report", "quotes", "-o", "{}"),
        ("disagreements", "kari", "jonas", "-o", "{}"),
    ):
        for suffix in (".csv", ".xlsx"):
            cases.append(
                (
                    tuple(a.format(a_file / "sub" / f"x{suffix}") for a in args),
                    f"{a_file}: is a file",
                )
            )
        cases.append((tuple(a.format(a_folder) for a in args), f"{a_folder}: is a folder"))
    cases += [
        (("disagreements", "kari", "jonas", "-o", str(a_file / "u.docx")), f"{a_file}: is a file"),
        (("report", "all", "--out", str(a_file / "sub")), f"{a_file}: is a file"),
        (("report", "all", "--out", str(a_file)), f"{a_file}: is a file"),
        (("export", "qdpx", str(a_file / "p.qdpx")), f"{a_file}: is a file"),
        (("export", "qdc", str(a_file / "c.qdc")), f"{a_file}: is a file"),
        (("export", "qdc", str(tmp / "afolder.qdc")), f"{tmp / 'afolder.qdc'}: is a folder"),
    ]
    return cases


@pytest.mark.parametrize("case", range(len(_error_cases(Path("/t")))))
def test_an_impossible_output_path_is_one_line_and_changes_nothing(
    runner, firm_files, tmp_path, case
):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    (tmp_path / "afolder.csv").mkdir()
    (tmp_path / "afolder.qdc").mkdir()
    args, message = _error_cases(tmp_path)[case]
    before = firm_files.dump()
    listing = sorted(tmp_path.rglob("*"))
    result = run(runner, firm_files, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(tmp_path.rglob("*")) == listing  # nothing written, no folder made
    assert firm_files.dump() == before


def test_import_qdc_into_a_path_under_a_file_is_one_line(runner, firm_files, tmp_path):
    codebook = tmp_path / "c.qdc"
    assert run(runner, firm_files, "export", "qdc", str(codebook)).exit_code == 0
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    result = run(
        runner, firm_files, "import", "qdc", str(codebook), "-o", str(tmp_path / "afile/c.yaml")
    )
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'afile'}: is a file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_folder_that_cannot_be_made_is_one_line(runner, firm_files):
    before = firm_files.dump()
    result = run(runner, firm_files, "report", "all", "--out", "/proc/qualcode-test")
    assert result.exit_code == 2, result.output
    assert "/proc/qualcode-test: cannot create the folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert firm_files.dump() == before


def test_an_unexpected_os_error_is_one_line(runner, firm_files, tmp_path, monkeypatch):
    """The safety net: an OSError no writer turned into an InputError (a full disk)."""
    import qualcode.export.tables as tables

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "f.xlsx")

    monkeypatch.setattr(tables, "write_frame_sheet", disk_full)
    before = firm_files.dump()
    result = run(runner, firm_files, "report", "freq", "-o", str(tmp_path / "f.xlsx"))
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"error: f.xlsx: {os.strerror(errno.ENOSPC)}"
    assert "Traceback" not in result.output
    assert not list(tmp_path.glob("*f.xlsx*"))
    assert firm_files.dump() == before
