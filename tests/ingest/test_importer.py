"""Storing transcripts: respondents, atomic batches, idempotent re-ingest, --replace."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.corpus import segments
from qualcode.errors import InputError
from qualcode.ingest import ingest_paths
from qualcode.store import Store


def test_folder_ingest_stores_turns_roles_and_attributes(ingested: Store):
    rows = segments(ingested)
    assert [
        (r.respondent, r.position, r.speaker, r.role) for r in rows if r.transcript == "R2.txt"
    ] == [
        ("R2", 1, "Intervjuer", "interviewer"),
        ("R2", 2, "R2", "respondent"),
        ("R2", 3, "Intervjuer", "interviewer"),
        ("R2", 4, "R2", "respondent"),
    ]
    attrs = dict(
        ingested.conn.execute(
            "SELECT name, value FROM respondent_attributes a JOIN respondents r"
            " ON r.id = a.respondent_id WHERE r.label = 'R1'"
        ).fetchall()
    )
    assert attrs == {"sector": "leverandør", "size": "45"}
    for seg_text, start, end, full in ingested.conn.execute(
        "SELECT s.text, s.char_start, s.char_end, t.text FROM segments s"
        " JOIN transcripts t ON t.id = s.transcript_id"
    ):
        assert full[start:end] == seg_text


def test_unchanged_files_are_skipped(ingested: Store, small_corpus: Path):
    before = ingested.dump()
    report = ingest_paths(ingested, [small_corpus], command="again")
    assert sorted(report.unchanged) == ["R1.txt", "R2.txt"]
    assert report.added == []
    after = ingested.dump()
    # Only the command record of the second run is new.
    assert {k: v for k, v in after.items() if k != "commands"} == {
        k: v for k, v in before.items() if k != "commands"
    }


def test_changed_file_is_refused_without_replace(ingested: Store, small_corpus: Path):
    (small_corpus / "R1.txt").write_text("I: Nytt?\nR1: Helt nytt.\n", encoding="utf-8")
    before = ingested.dump()
    with pytest.raises(InputError, match="--replace"):
        ingest_paths(ingested, [small_corpus], command="changed")
    assert ingested.dump() == before


def code_turn(
    store: Store, make_codes, transcript: str, position: int, code: str, coder: str
) -> int:
    make_codes(store, [code.split("/")[0], code])
    seg = store.conn.execute(
        "SELECT s.id FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
        " WHERE t.name = ? AND s.position = ?",
        (transcript, position),
    ).fetchone()[0]
    with store.write("test code", coder=coder) as tx:
        store.add_coding(tx, seg, code, coder, memo="viktig")
    return seg


def codings_by_text(store: Store) -> list[tuple[str, str, str, str | None]]:
    return sorted(
        store.conn.execute(
            "SELECT s.text, k.path, d.name, c.memo FROM codings c JOIN segments s ON s.id = c.segment_id"
            " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
        ).fetchall()
    )


def test_replace_carries_codings_to_unchanged_turns_and_logs_the_rest(
    ingested: Store, small_corpus: Path, make_codes
):
    code_turn(ingested, make_codes, "R1.txt", 4, "tillit/erfaring", "kari")
    code_turn(ingested, make_codes, "R1.txt", 2, "forankring/mål", "kari")
    # The transcriber fixes turn 2 and adds a turn at the top: turn 4's text moves to position 6.
    new = (small_corpus / "R1.txt").read_text(encoding="utf-8")
    new = new.replace("Altså, det er sånn: vi har ikke noen mål", "Vi har faktisk mål")
    new = "I: Velkommen.\nR1: Takk.\n" + new
    (small_corpus / "R1.txt").write_text(new, encoding="utf-8")

    report = ingest_paths(ingested, [small_corpus], replace=True, command="replace")
    assert report.replaced == ["R1.txt"]
    assert report.carried == 1
    assert [(lost.code, lost.coder, lost.segment_position) for lost in report.lost] == [
        ("forankring/mål", "kari", 2)
    ]
    assert codings_by_text(ingested) == [
        (
            "Vi stoler på hverandre, vi har jobbet sammen i mange år.",
            "tillit/erfaring",
            "kari",
            "viktig",
        )
    ]
    positions = ingested.conn.execute(
        "SELECT s.position FROM codings c JOIN segments s ON s.id = c.segment_id"
    ).fetchall()
    assert positions == [(6,)]
    lost_log = ingested.conn.execute(
        "SELECT code_path, coder, detail FROM audit_log WHERE action = 'replace_lost_coding'"
    ).fetchall()
    assert len(lost_log) == 1 and lost_log[0][:2] == ("forankring/mål", "kari")
    assert "ikke noen mål" in lost_log[0][2]


def test_one_bad_file_in_a_folder_stores_nothing(project: Store, small_corpus: Path):
    (small_corpus / "R3.txt").write_bytes(b"\x00\x01\x02 binary junk" * 20)
    before = project.dump()
    with pytest.raises(InputError) as err:
        ingest_paths(project, [small_corpus], command="bad batch")
    assert "R3.txt" in str(err.value)
    assert project.dump() == before


def test_unknown_extension_in_folder_is_skipped_with_warning(project: Store, small_corpus: Path):
    (small_corpus / "notes.pdf").write_bytes(b"%PDF-1.4")
    report = ingest_paths(project, [small_corpus], command="x")
    assert report.skipped and "notes.pdf" in report.skipped[0][0]
    assert any("notes.pdf" in w for w in report.warnings)
    assert sorted(report.added) == ["R1.txt", "R2.txt"]


@pytest.mark.parametrize("name", ["README.md", "readme.txt", "ReadMe.MD"])
def test_a_readme_in_the_folder_is_skipped_not_read(project: Store, small_corpus: Path, name: str):
    (small_corpus / name).write_text(
        "# Notater\n\nMine notater om intervjuene.\n", encoding="utf-8"
    )
    report = ingest_paths(project, [small_corpus], command="x")
    assert sorted(report.added) == ["R1.txt", "R2.txt"]
    assert any(name in w and "README" in w for w in report.warnings)


def test_a_readme_named_directly_is_read(project: Store, tmp_path: Path):
    readme = tmp_path / "README.md"
    readme.write_text("I: Hei.\nR1: Hei, hei.\n", encoding="utf-8")
    report = ingest_paths(project, [readme], command="x")
    assert report.added == ["README.md"]


@pytest.mark.parametrize(
    "table, message",
    [
        ("file,sector\nR1.txt,x\n", "missing the column 'respondent'"),
        ("respondent,file\nR1,R1.txt\nR1,R2.txt\n", "duplicate respondent R1"),
        ("respondent;file;sector\nR1;R1.txt;a\nR1;R2.txt;b\n", "duplicate respondent R1"),
    ],
)
def test_bad_respondent_table_changes_nothing(project: Store, small_corpus: Path, table, message):
    (small_corpus / "respondents.csv").write_text(table, encoding="utf-8")
    before = project.dump()
    with pytest.raises(InputError, match=message) as err:
        ingest_paths(project, [small_corpus], command="x")
    assert "respondents.csv" in str(err.value)
    assert project.dump() == before


def test_semicolon_table_and_file_stem_fallback(project: Store, small_corpus: Path):
    (small_corpus / "respondents.csv").write_text(
        "Respondent;File;Sektor\nR1;R1.txt;leverandør\n", encoding="utf-8-sig"
    )
    report = ingest_paths(project, [small_corpus], command="x")
    assert any("R2.txt" in w and "not listed" in w for w in report.warnings)
    labels = [r[0] for r in project.conn.execute("SELECT label FROM respondents ORDER BY label")]
    assert labels == ["R1", "R2"]


def test_respondent_option_for_unlabelled_file(project: Store, tmp_path: Path):
    note = tmp_path / "skriftlig.txt"
    note.write_text("Vi har ikke tid til klyngen.\n\nMen vi stoler på dem.", encoding="utf-8")
    ingest_paths(project, [note], respondent="R9", command="x")
    rows = segments(project, respondent="R9")
    assert [(r.speaker, r.role, r.text) for r in rows] == [
        ("R9", "respondent", "Vi har ikke tid til klyngen."),
        ("R9", "respondent", "Men vi stoler på dem."),
    ]


def test_extra_interviewer_label(project: Store, tmp_path: Path):
    path = tmp_path / "R1.txt"
    path.write_text("Moderator: Hei?\nR1: Hei.\nModerator: Ok.\n", encoding="utf-8")
    ingest_paths(project, [path], interviewer_labels=["Moderator"], command="x")
    assert [r.role for r in segments(project)] == ["interviewer", "respondent", "interviewer"]


def test_joint_interview_keeps_both_respondents(project: Store, tmp_path: Path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "felles.txt").write_text("I: Hei?\nR3: Hei.\nR4: Hallo.\n", encoding="utf-8")
    (folder / "respondents.csv").write_text(
        "respondent,file\nR3,felles.txt\nR4,\n", encoding="utf-8"
    )
    ingest_paths(project, [folder], command="x")
    assert [(r.speaker, r.respondent) for r in segments(project)] == [
        ("I", "R3"),
        ("R3", "R3"),
        ("R4", "R4"),
    ]


def test_ingest_tells_its_steps_for_progress_bars(project: Store, small_corpus: Path, tmp_path: Path):
    """Tokenizing and word analysis are the long part of a big ingest: both report progress, and
    a second ingest reports only what it adds."""
    from qualcode.tokens import TOKENIZE_STEP
    from qualcode.word_analyses import ANALYSE_STEP

    steps: list[tuple[str, int, int]] = []
    ingest_paths(project, [small_corpus], on_step=lambda *step: steps.append(step))
    turns = project.conn.execute("SELECT count(*) FROM segments").fetchone()[0]
    words = project.conn.execute("SELECT count(*) FROM word_types").fetchone()[0]
    assert steps[-1] == (ANALYSE_STEP, words, words)
    assert (TOKENIZE_STEP, turns, turns) in steps

    more = tmp_path / "more"
    more.mkdir()
    (more / "R3.txt").write_text(
        "I: Hva betyr klyngen for dere?\nR3: Altså, vi får sånn nettverksbygging ut av det.\n",
        encoding="utf-8",
    )
    steps.clear()
    ingest_paths(project, [more], on_step=lambda *step: steps.append(step))
    added = project.conn.execute("SELECT count(*) FROM word_types").fetchone()[0] - words
    assert 0 < added < words  # "klyngen", "dere", … are stored already
    assert (TOKENIZE_STEP, 2, 2) in steps
    assert steps[-1] == (ANALYSE_STEP, added, added)
