"""Importing .qdpx sources into turns: own interviewer labels, text before the first label, and
files given to the wrong import command."""

from __future__ import annotations

import re
from pathlib import Path

from qualcode.cli.main import app
from qualcode.refiqda import import_qdpx
from qualcode.store import open_store

A_TEXT = "Moderator: Hei.\nR1: Hei, jeg heter Per.\nI: Hva med tillit?\nR1: Vi stoler på oss.\n"
B_TEXT = (
    "Moderator: Velkommen.\nR2: Takk.\nModerator: Hva med tillit?\nR2: Det er bra.\n"
    "Moderator: Og konkurranse?\nR2: Litt.\n"
)


def invoke(runner, *args: str):
    return runner.invoke(app, [str(a) for a in args])


def segments(project: Path) -> list[tuple[str, int, str, str, str]]:
    with open_store(project) as store:
        return store.conn.execute(
            "SELECT t.name, s.position, s.speaker, s.role, s.text FROM segments s"
            " JOIN transcripts t ON t.id = s.transcript_id ORDER BY t.name, s.position"
        ).fetchall()


def uncovered(project: Path) -> list[tuple[str, str]]:
    """Text of a transcript that lies in no segment and is not a speaker label."""
    gaps = []
    with open_store(project) as store:
        for tid, name, text in store.conn.execute("SELECT id, name, text FROM transcripts"):
            covered = [False] * len(text)
            for start, end in store.conn.execute(
                "SELECT char_start, char_end FROM segments WHERE transcript_id = ?", (tid,)
            ):
                covered[start:end] = [True] * (end - start)
            left = "".join(c if not done else "\0" for c, done in zip(text, covered, strict=True))
            for run in left.split("\0"):
                if run.strip() and not re.fullmatch(r"\s*\w[\w ]*:\s*", run):
                    gaps.append((name, run))
    return gaps


def moderator_export(runner, tmp_path: Path) -> Path:
    """A project using 'Moderator' for the interviewer, exported with its names kept."""
    project = tmp_path / "proj"
    assert invoke(runner, "init", project).exit_code == 0
    assert invoke(runner, "-p", project, "config", "interviewer", "Moderator").exit_code == 0
    (tmp_path / "A.txt").write_text(A_TEXT, encoding="utf-8")
    (tmp_path / "B.txt").write_text(B_TEXT, encoding="utf-8")
    result = invoke(runner, "-p", project, "ingest", tmp_path / "A.txt", tmp_path / "B.txt")
    assert result.exit_code == 0, result.output
    qdpx = tmp_path / "pf.qdpx"
    result = invoke(runner, "-p", project, "export", "qdpx", qdpx, "--keep-names")
    assert result.exit_code == 0, result.output
    return qdpx


def test_import_with_interviewer_option_restores_every_turn_and_role(runner, tmp_path: Path):
    qdpx = moderator_export(runner, tmp_path)
    original = segments(tmp_path / "proj")
    new = tmp_path / "ny"
    result = invoke(runner, "import", "qdpx", qdpx, new, "--interviewer", "Moderator")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert "2 transcripts (10 turns" in result.output
    assert segments(new) == original
    assert [s[3] for s in original if s[2] == "Moderator"] == ["interviewer"] * 4
    with open_store(new) as store:
        assert "Moderator" in store.interviewer_labels()
        assert "I" in store.interviewer_labels()


def test_import_without_the_label_keeps_the_first_line_and_says_why(runner, tmp_path: Path):
    qdpx = moderator_export(runner, tmp_path)
    new = tmp_path / "ny"
    result = invoke(runner, "import", "qdpx", qdpx, new)
    assert result.exit_code == 0, result.output
    # The lone "Moderator: Hei." opens A.txt: it is a segment of its own, not lost, and the
    # warning names the source and the option that reads it as the interviewer.
    rows = segments(new)
    # A.txt carries no respondent id, so its respondent gets the next free neutral label.
    assert rows[0] == ("A.txt", 1, "R1", "other", "Moderator: Hei.")
    output = " ".join(result.output.split())
    assert "A.txt: the 15 characters before the first speaker label are kept" in output
    assert re.search(
        r"A\.txt: 'Moderator:' starts a line only once.*--interviewer Moderator", output
    )
    assert uncovered(new) == []


def test_coding_in_text_before_the_first_label_is_kept_on_that_text(make_qdpx, tmp_path: Path):
    text = "Intervju 12. mars, Bergen\n\nI: Hvordan gikk det?\nAnna: Bra.\nI: Takk.\nAnna: Ja.\n"
    start, end = 0, text.index("Bergen") + len("Bergen")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="P">
  <Users><User guid="a0000000-0000-4000-8000-000000000001" name="Kari"/></Users>
  <CodeBook><Codes>
    <Code guid="c0000000-0000-4000-8000-000000000001" name="Sted" isCodable="true"/>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="b0000000-0000-4000-8000-000000000001" name="Anna"
        plainTextPath="internal://anna.txt">
      <PlainTextSelection guid="d0000000-0000-4000-8000-000000000001"
          startPosition="{start}" endPosition="{end}"
          creatingUser="a0000000-0000-4000-8000-000000000001">
        <Coding guid="e0000000-0000-4000-8000-000000000001"
            creatingUser="a0000000-0000-4000-8000-000000000001">
          <CodeRef targetGUID="c0000000-0000-4000-8000-000000000001"/>
        </Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>"""
    path = make_qdpx("anna.qdpx", qde, {"sources/anna.txt": text})
    report = import_qdpx(path, tmp_path / "ny")
    assert any("Anna: the 25 characters before" in w for w in report.warnings)
    rows = segments(tmp_path / "ny")
    assert rows[0] == ("Anna", 1, "Anna", "other", "Intervju 12. mars, Bergen")
    assert [r[3] for r in rows[1:]] == ["interviewer", "respondent"] * 2
    with open_store(tmp_path / "ny") as store:
        assert store.conn.execute(
            "SELECT s.position, s.text FROM codings c JOIN segments s ON s.id = c.segment_id"
        ).fetchall() == [(1, "Intervju 12. mars, Bergen")]
    assert uncovered(tmp_path / "ny") == []


def test_qdpx_without_codes_given_to_import_qdc_says_it_has_none(runner, tmp_path: Path):
    # import qdc takes a project's codebook; this project has none.
    qdpx = moderator_export(runner, tmp_path)
    renamed = tmp_path / "klynge.qdc"  # the suffix lies: the content decides
    renamed.write_bytes(qdpx.read_bytes())
    for file in (qdpx, renamed):
        result = invoke(runner, "import", "qdc", file, "-o", tmp_path / "kb.yaml")
        assert result.exit_code == 2
        line = " ".join(result.output.split())
        assert "not well-formed" not in line
        assert "holds no codes" in line, line
        assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "kb.yaml").exists()


def test_qdc_given_to_import_qdpx_names_the_right_command(runner, tmp_path: Path):
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0">'
        '<Codes><Code guid="c0000000-0000-4000-8000-000000000001" name="Tillit" '
        'isCodable="true"/></Codes></CodeBook>'
    )
    for name in ("kodebok.qdc", "kodebok.qdpx"):
        (tmp_path / name).write_text(xml, encoding="utf-8")
        result = invoke(runner, "import", "qdpx", tmp_path / name, tmp_path / "ny")
        assert result.exit_code == 2
        assert "use 'qualcode import qdc" in " ".join(result.output.split())
        assert not (tmp_path / "ny").exists()
