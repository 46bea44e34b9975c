"""The workbench in a real browser (the system's Chromium through Playwright).

One server for the module; each test gets a fresh project and a fresh browser context at
1280×800, logged in as 'kari'.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from qualcode.cli.main import app as cli
from qualcode.store import open_store

from .conftest import TOKEN, open_as, segment_id, transcript_id

SELECT = """([segment, wanted]) => {
    const box = document.querySelector(`#turn-${segment} .text`);
    const start = box.textContent.indexOf(wanted);
    if (start < 0) throw new Error('not in the turn: ' + wanted);
    const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let seen = 0, node, started = false;
    const end = start + wanted.length;
    while ((node = walker.nextNode())) {
        const n = node.textContent.length;
        if (!started && start < seen + n) { range.setStart(node, start - seen); started = true; }
        if (started && end <= seen + n) { range.setEnd(node, end - seen); break; }
        seen += n;
    }
    const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
    box.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
}"""


def cli_run(project: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--project", str(project), *args])
    assert result.exit_code == 0, result.output
    return result


def ids(project: Path) -> dict[str, int]:
    with open_store(project) as store:
        return {
            "r1_2": segment_id(store, "R1.txt", 2),
            "r1_4": segment_id(store, "R1.txt", 4),
            "r1_6": segment_id(store, "R1.txt", 6),
            "r2_2": segment_id(store, "R2.txt", 2),
            "r2_4": segment_id(store, "R2.txt", 4),
            "R1": transcript_id(store, "R1.txt"),
            "R2": transcript_id(store, "R2.txt"),
        }


def layer(project: Path, coder: str = "kari") -> list[tuple[Any, ...]]:
    with open_store(project) as store:
        columns = {r[1] for r in store.conn.execute("PRAGMA table_info(codings)")}
        quote = ", c.quote_start, c.quote_end" if "quote_start" in columns else ""
        return store.conn.execute(
            f"SELECT c.segment_id, k.path{quote} FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id WHERE d.name = ? ORDER BY c.segment_id, k.path",
            (coder,),
        ).fetchall()


def exported(project: Path, tmp: Path) -> list[dict[str, str]]:
    target = tmp / "codings.csv"
    cli_run(project, "export", "codings", "-o", str(target), "--coder", "kari")
    return _read(target)


def _read(target: Path) -> list[dict[str, str]]:
    text = target.read_text(encoding="utf-8-sig")
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    return list(csv.DictReader(text.splitlines(), delimiter=delimiter))


def freq(project: Path) -> str:
    return cli_run(project, "report", "freq", "--coder", "kari", "--format", "csv").output


def _read_text(text: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("code,"))  # after the notes
    return list(csv.DictReader(lines[start:]))


def open_reader(page: Any, server: Any, transcript: int) -> None:
    page.goto(f"{server.url}/t/{transcript}")
    page.wait_for_selector(".turn")


def code_with_filter(page: Any, typed: str) -> None:
    page.fill("#code-filter", typed)
    page.press("#code-filter", "Enter")


# -- the tests -------------------------------------------------------------------------------
def test_selecting_text_codes_a_passage(workbench: Any, live_server: Any, tmp_path: Path) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    passage = "vi stoler på de andre bedriftene"
    page.evaluate(SELECT, [p["r1_2"], passage])
    assert passage in page.inner_text("#target")
    code_with_filter(page, "samkonk")
    highlight = page.locator(f"#turn-{p['r1_2']} .pc.hl")
    highlight.first.wait_for()
    assert highlight.first.inner_text() == passage
    with open_store(project) as store:
        text = store.conn.execute("SELECT text FROM segments WHERE id = ?", (p["r1_2"],)).fetchone()[0]
    start = text.index(passage)
    assert layer(project) == [(p["r1_2"], "samkonkurranse", start, start + len(passage))]
    rows = exported(project, tmp_path)
    assert [(r["code"], r.get("quote")) for r in rows] == [("samkonkurranse", passage)]


def test_accepting_and_rejecting_the_draft(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    draft = page.locator(f"#turn-{p['r1_2']} .chip.draft")
    assert 'ordet "tilliten" (bøyd form av tillit)' in draft.inner_text()
    draft.locator(".accept").click()
    page.locator(f"#turn-{p['r1_2']} .chip.mine[data-code='tillit']").wait_for()
    # Reject with the keyboard: the turn is current after a click on it, then x.
    page.click(f"#turn-{p['r1_4']} .meta")
    page.keyboard.press("x")
    page.locator(f"#turn-{p['r1_4']} .chip.draft.d-reject").wait_for()
    assert [row[:2] for row in layer(project)] == [(p["r1_2"], "tillit")]
    page.reload()
    assert page.locator(f"#turn-{p['r1_4']} .chip.draft.d-reject").count() == 1


def test_creating_a_code_while_reading(workbench: Any, live_server: Any, tmp_path: Path) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R2"])
    page.click(f"#turn-{p['r2_2']} .meta")
    page.click("#new-code-button")
    page.fill("#new-code-form input[name=name]", "Lærlinger")
    page.select_option("#new-code-form select[name=parent]", "samkonkurranse")
    page.fill("#new-code-form textarea[name=description]", "Samarbeid om lærlinger på tvers av bedrifter.")
    page.click("#new-code-form button[type=submit]")
    page.locator(f"#turn-{p['r2_2']} .chip.mine[data-code='samkonkurranse/lærlinger']").wait_for()
    assert page.locator("#code-list [data-path='samkonkurranse/lærlinger']").count() == 1
    assert [row[:2] for row in layer(project)] == [(p["r2_2"], "samkonkurranse/lærlinger")]
    book = tmp_path / "kodebok.yaml"
    cli_run(project, "codebook", "export", str(book))
    assert "Lærlinger" in book.read_text(encoding="utf-8")


def test_marking_a_transcript_done(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R2"])
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click(".doc-head .done-button")  # nothing coded in R2 yet: asked first
    page.locator("#status.s-done").wait_for()
    assert asked == ["Du har ingen kodinger i R2. Marker som ferdig likevel (lest, ingenting å kode)?"]
    page.locator("#toast.show", has_text="R2 markert som ferdig – angre med u").wait_for()
    from qualcode.progress import progress_rows

    with open_store(project) as store:
        rows = {(r.transcript, r.coder): r.status for r in progress_rows(store)}
    assert rows[("R2.txt", "kari")] == "done"
    page.goto(f"{live_server.url}/")
    row = page.locator(f"tr[data-transcript='{p['R2']}']")
    assert "ferdig" in row.inner_text()
    row.locator(".done-button").click()  # not done after all
    page.locator(f"tr[data-transcript='{p['R2']}'] .s-not-started, tr[data-transcript='{p['R2']}'] .s-in-progress").wait_for()


def test_undo_with_the_button_and_the_key(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    page.click(f"#turn-{p['r1_6']} .meta")
    code_with_filter(page, "deling")
    page.locator(f"#turn-{p['r1_6']} .chip.mine").wait_for()
    page.click(f"#turn-{p['r1_4']} .meta")
    code_with_filter(page, "forankring")
    page.locator(f"#turn-{p['r1_4']} .chip.mine").wait_for()
    assert len(layer(project)) == 2
    page.keyboard.press("u")
    page.locator(f"#turn-{p['r1_4']} .chip.mine").wait_for(state="detached")
    page.click("#undo")
    page.locator(f"#turn-{p['r1_6']} .chip.mine").wait_for(state="detached")
    assert layer(project) == []


def test_every_change_shows_in_export_and_freq(workbench: Any, live_server: Any, tmp_path: Path) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    page.locator(f"#turn-{p['r1_2']} .chip.draft .accept").click()  # accept → tillit on r1_2
    page.locator(f"#turn-{p['r1_2']} .chip.mine").wait_for()
    page.evaluate(SELECT, [p["r1_6"], "Vi deler erfaringer om opplæring"])
    code_with_filter(page, "deling")  # a passage → deling on r1_6
    page.locator(f"#turn-{p['r1_6']} .chip.mine").wait_for()
    rows = exported(project, tmp_path)
    assert sorted((int(r["segment_id"]), r["code"]) for r in rows) == [
        (p["r1_2"], "tillit"), (p["r1_6"], "deling")]
    page.locator(f"#turn-{p['r1_4']} .chip.draft .reject").click()  # a rejection adds no row
    page.locator(f"#turn-{p['r1_4']} .chip.draft.d-reject").wait_for()
    assert len(exported(project, tmp_path)) == 2
    page.keyboard.press("D")  # done: R1 now counts in the reports without --include-in-progress
    page.locator("#status.s-done").wait_for()
    page.wait_for_load_state()  # the page reloaded: its script must run before the next key
    counts = {row["code"]: row for row in _read_text(freq(project))}
    assert counts["tillit"]["R1"] == "1" and counts["deling"]["R1"] == "1"
    assert counts["forankring"]["R1"] == "0"
    page.keyboard.press("u")  # undo 'done'
    page.locator("#status.s-in-progress").wait_for()
    page.wait_for_load_state()
    page.keyboard.press("u")  # undo the rejection
    page.locator(f"#turn-{p['r1_4']} .chip.draft:not(.decided)").wait_for()
    page.keyboard.press("u")  # undo the passage
    page.locator(f"#turn-{p['r1_6']} .chip.mine").wait_for(state="detached")
    rows = exported(project, tmp_path)
    assert [(int(r["segment_id"]), r["code"]) for r in rows] == [(p["r1_2"], "tillit")]


def test_a_short_transcript_coded_with_the_keyboard_only(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R2"])
    page.keyboard.press("j")  # turn 2: j steps over the interviewer's turns
    page.keyboard.press("c")
    page.keyboard.type("samkonk")
    page.keyboard.press("Enter")
    page.locator(f"#turn-{p['r2_2']} .chip.mine").wait_for()
    page.keyboard.press("j")  # turn 4
    page.keyboard.press("1")  # the code used last
    page.locator(f"#turn-{p['r2_4']} .chip.mine").wait_for()
    page.keyboard.press("m")
    page.keyboard.type("Spøk, ikke relevant.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(f"#turn-{p['r2_4']} .memo").wait_for()
    page.keyboard.press("D")
    page.locator("#status.s-done").wait_for()
    page.wait_for_load_state()
    assert [row[:2] for row in layer(project)] == [
        (p["r2_2"], "samkonkurranse"), (p["r2_4"], "samkonkurranse")]
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()


def test_a_script_in_a_transcript_is_shown_as_text(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_reader(page, live_server, p["R2"])
    assert '<script>alert("hei")</script>' in page.inner_text(f"#turn-{p['r2_4']} .text")
    page.click(f"#turn-{p['r2_4']} .meta")
    page.keyboard.press("m")
    page.keyboard.type('<img src=x onerror="alert(1)">')
    page.click("#memo-form button[type=submit]")
    page.locator(f"#turn-{p['r2_4']} .memo").wait_for()
    page.reload()
    assert '<img src=x onerror="alert(1)">' in page.inner_text(f"#turn-{p['r2_4']} .memo")
    assert dialogs == []


def test_without_the_token_the_browser_gets_403(browser: Any, live_server: Any, web_project: Path) -> None:
    live_server.use(web_project)
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(f"{live_server.url}/")
    assert response is not None and response.status == 403
    assert "qualcode open" in page.inner_text("body")
    response = page.goto(f"{live_server.url}/static/workbench.js")
    assert response is not None and response.status == 403
    context.close()


def test_two_tabs_and_the_cli_at_once_lose_nothing(workbench: Any, live_server: Any, browser: Any) -> None:
    page, project = workbench
    p = ids(project)
    other = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    open_as(other, live_server, "ola")
    open_reader(page, live_server, p["R1"])
    open_reader(other, live_server, p["R1"])
    env = {**os.environ, "QUALCODE_CODER": "per"}
    command = [sys.executable, "-m", "qualcode", "--project", str(project), "recode"]
    cli = [
        subprocess.Popen([*command, str(seg), "--add", "deling"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for seg in (p["r1_2"], p["r1_4"], p["r1_6"])
    ]
    # Both tabs fire their changes without waiting for each other.
    for tab, coder_code in ((page, "tillit"), (other, "forankring")):
        tab.evaluate(
            """([segments, code, token]) => { window.qcDone = Promise.all(segments.map((segment) =>
                fetch('/api/code', {method: 'POST', headers: {'Content-Type': 'application/json',
                'X-Qualcode-Token': token}, body: JSON.stringify({segment, code})}).then((r) => r.status))); }""",
            [[p["r1_2"], p["r1_4"], p["r1_6"]], coder_code, TOKEN],
        )
    assert page.evaluate("window.qcDone") == [200, 200, 200]
    assert other.evaluate("window.qcDone") == [200, 200, 200]
    for process in cli:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert [row[:2] for row in layer(project, "kari")] == [
        (p["r1_2"], "tillit"), (p["r1_4"], "tillit"), (p["r1_6"], "tillit")]
    assert [row[:2] for row in layer(project, "ola")] == [
        (p["r1_2"], "forankring"), (p["r1_4"], "forankring"), (p["r1_6"], "forankring")]
    assert [row[:2] for row in layer(project, "per")] == [
        (p["r1_2"], "deling"), (p["r1_4"], "deling"), (p["r1_6"], "deling")]
    page.reload()  # the CLI's and the other tab's changes are in the store, mine on the page
    assert page.locator(f"#turn-{p['r1_6']} .chip.mine").count() == 1
    other.context.close()
