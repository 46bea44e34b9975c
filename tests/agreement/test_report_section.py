"""The consistency section of the full report: names replaced before quotes are shortened."""

from __future__ import annotations

from tests.helpers import mark_coded_transcripts_done

from qualcode.consistency import consistency_section
from qualcode.ingest import ingest_paths


def test_disagreement_excerpts_are_pseudonymised_and_never_cut_inside_a_word(
    project, tmp_path, make_codes
):
    filler = "Vi har jobbet lenge med dette i klyngen, og det går stort sett greit. " * 2
    said = (
        filler
        + "Og ikke minst, altså, i praksis, helt ærlig: Men Fjordal Aluminium deler aldri tallene sine med oss, og det merker vi godt."
    )
    assert (
        185 < said.index("Fjordal") < 199 < said.index("Fjordal") + 17
    )  # the name straddles the 200-character excerpt limit
    transcript = tmp_path / "R1.txt"
    transcript.write_text(f"I: Deler dere?\nR1: {said}\nI: Takk.\nR1: Ja.\n", encoding="utf-8")
    ingest_paths(project, [transcript], command="test")
    (project.folder / "pseudonyms.csv").write_text(
        "original,replacement\nFjordal Aluminium,[bedriften]\nFjordal,[bedriften]\n",
        encoding="utf-8",
    )
    make_codes(project, ["tillit", "samkonkurranse"])
    turn = project.conn.execute("SELECT id FROM segments WHERE position = 2").fetchone()[0]
    other = project.conn.execute("SELECT id FROM segments WHERE position = 4").fetchone()[0]
    with project.write("test", coder="kari") as tx:
        project.add_coding(tx, turn, "tillit", "kari")
        project.add_coding(tx, other, "tillit", "kari")
    with project.write("test", coder="jonas") as tx:
        project.add_coding(tx, turn, "samkonkurranse", "jonas")
        project.add_coding(tx, other, "tillit", "jonas")
    mark_coded_transcripts_done(project)

    section = consistency_section(project, lang="en")
    assert section is not None
    frames = [frame for _, frame in section.tables] + [g.table for g in section.block_lists]
    excerpts = [str(v) for frame in frames for v in frame.to_numpy().ravel()]
    excerpts += [b.text for g in section.block_lists for b in g.blocks]
    quoted = [e for e in excerpts if "klyngen" in e]
    assert quoted, excerpts
    for excerpt in quoted:
        assert "Fjordal" not in excerpt and "Alu" not in excerpt
        body = excerpt.rstrip(" …")
        assert said.replace("Fjordal Aluminium", "[bedriften]").startswith(" ".join(body.split()))


def test_disagreement_files_are_pseudonymised(project, tmp_path, make_codes, runner):
    from qualcode.cli.main import app
    from qualcode.pseudonyms import check, project_pseudonyms

    transcript = tmp_path / "R1_fjordal.txt"
    transcript.write_text(
        "I: Deler dere?\nR1: Fjordal Aluminium deler aldri tallene sine.\n", encoding="utf-8"
    )
    ingest_paths(project, [transcript], respondent="R1", command="test")
    (project.folder / "pseudonyms.csv").write_text(
        "original,replacement\nFjordal Aluminium,[bedriften]\nFjordal,[bedriften]\n",
        encoding="utf-8",
    )
    make_codes(project, ["tillit", "samkonkurranse"])
    turn = project.conn.execute("SELECT id FROM segments WHERE position = 2").fetchone()[0]
    with project.write("test", coder="kari") as tx:
        project.add_coding(tx, turn, "tillit", "kari", memo="Fjordal er forsiktige")
    with project.write("test", coder="jonas") as tx:
        project.add_coding(tx, turn, "samkonkurranse", "jonas")
    for name in ("uenig.docx", "uenig.xlsx", "uenig.csv"):
        out = tmp_path / name
        result = runner.invoke(
            app, ["-p", str(project.folder), "disagreements", "kari", "jonas", "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert check([out], project_pseudonyms(project)) == [], name


def test_pooled_row_counts_the_decisions_its_cells_add_up_to(project, tmp_path, make_codes):
    transcript = tmp_path / "R1.txt"
    transcript.write_text(
        "I: Hei.\nR1: Vi stoler på dem.\nI: Og?\nR1: Vi konkurrerer.\nI: Mer?\nR1: Nei.\n",
        encoding="utf-8",
    )
    ingest_paths(project, [transcript], command="test")
    make_codes(project, ["tillit", "samkonkurranse"])
    turns = [
        r[0] for r in project.conn.execute("SELECT id FROM segments WHERE role = 'respondent'")
    ]
    with project.write("test", coder="kari") as tx:
        project.add_coding(tx, turns[0], "tillit", "kari")
        project.add_coding(tx, turns[1], "samkonkurranse", "kari")
    with project.write("test", coder="jonas") as tx:
        project.add_coding(tx, turns[0], "tillit", "jonas")
    mark_coded_transcripts_done(project)

    section = consistency_section(project, lang="en")
    assert section is not None
    frame = section.tables[0][1]
    pooled = frame[frame["Code"] == "(pooled)"].iloc[0]
    cells = pooled[["Both", "Only kari", "Only jonas", "Neither"]].sum()
    assert pooled["Units"] == cells == 3 * 2
    # The notes sit under the table, one per row that has one.
    assert any(n.startswith("(pooled): 3 turns × 2 codes") for n in section.notes)
    per_code = frame[frame["Code"] == "tillit"].iloc[0]
    assert per_code["Units"] == 3
