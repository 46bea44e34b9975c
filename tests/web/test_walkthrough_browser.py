"""What a newcomer's walkthrough of the workbench found, in a real browser (the system's Chromium):
j/k and interviewer turns, the messages after a key that cannot act, a tab from before a restart,
the coder page's box, and the code panel's preview.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qualcode.store import open_store

from .conftest import TOKEN, segment_id, transcript_id
from .test_browser import SELECT, cli_run, code_with_filter, ids, layer, open_reader

LONG_TURN = (
    "I: Hvordan startet det?\n"
    "R3: Det begynte egentlig med at vi satt i samme bygg som to av de andre bedriftene, og så ble "
    "det sånn at vi lånte folk av hverandre når det var travelt, og etter hvert fikk vi felles "
    "lærlinger og felles kurs, og da klyngen kom så var det liksom bare å sette navn på noe vi "
    "allerede holdt på med, for tilliten var der jo fra før, det var ikke noe nytt for oss.\n"
)


def current_segment(page: Any) -> int:
    return int(page.get_attribute(".turn.current", "data-seg"))


def test_j_and_k_step_over_interviewer_turns(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    page.keyboard.press("j")
    assert current_segment(page) == p["r1_2"]  # not turn 1, the interviewer's question
    page.keyboard.press("j")
    assert current_segment(page) == p["r1_4"]
    page.keyboard.press("k")
    assert current_segment(page) == p["r1_2"]
    page.keyboard.press("J")  # J/K take every turn
    with open_store(project) as store:
        assert current_segment(page) == segment_id(store, "R1.txt", 3)
    page.keyboard.press("j")
    assert current_segment(page) == p["r1_4"]


def test_coding_an_interviewer_turn_warns(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    with open_store(project) as store:
        question = segment_id(store, "R1.txt", 1)
    page.click(f"#turn-{question} .meta")  # still clickable
    code_with_filter(page, "tillit")
    page.locator(f"#turn-{question} .chip.mine").wait_for()
    toast = page.locator("#toast.show.warn")
    toast.wait_for()
    assert "R1 #1 er en intervjuerytring" in toast.inner_text()
    assert "telles ikke" in toast.inner_text()


def test_a_and_x_in_a_turn_without_drafts_say_so(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    page.click(f"#turn-{p['r1_6']} .meta")  # a turn without a draft
    page.keyboard.press("a")
    page.locator("#toast.show.bad", has_text="Ingen utkast igjen å avgjøre i denne ytringen.").wait_for()
    page.click(f"#turn-{p['r1_4']} .meta")
    page.keyboard.press("x")  # its one draft: rejected
    page.locator(f"#turn-{p['r1_4']} .chip.draft.d-reject").wait_for()
    page.keyboard.press("x")  # no more
    page.locator("#toast.show.bad", has_text="Ingen utkast igjen").wait_for()


def test_a_selection_across_two_turns_is_refused_and_so_is_a_code_key(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    page.click(f"#turn-{p['r1_6']} .meta")
    code_with_filter(page, "deling")  # a recently used code for key 1
    page.locator(f"#turn-{p['r1_6']} .chip.mine").wait_for()
    # Drag with the mouse from the middle of one turn's text into the next respondent turn's.
    first = page.locator(f"#turn-{p['r1_2']} .text").bounding_box()
    second = page.locator(f"#turn-{p['r1_4']} .text").bounding_box()
    page.mouse.move(first["x"] + 40, first["y"] + first["height"] / 2)
    page.mouse.down()
    page.mouse.move(second["x"] + 60, second["y"] + second["height"] / 2, steps=8)
    page.mouse.up()
    page.locator("#toast.show.bad", has_text="Marker innenfor én ytring.").wait_for()
    assert page.inner_text("#target") == "Marker innenfor én ytring."
    page.evaluate("document.getElementById('toast').classList.remove('show')")
    page.keyboard.press("1")  # codes nothing: the selection is not a passage of one turn
    page.locator("#toast.show.bad", has_text="Marker innenfor én ytring.").wait_for()
    assert [row[:2] for row in layer(project)] == [(p["r1_6"], "deling")]
    # A selection inside one turn codes again.
    page.evaluate(SELECT, [p["r1_4"], "ikke tid til klyngen"])
    page.keyboard.press("1")
    page.locator(f"#turn-{p['r1_4']} .chip.mine").wait_for()


def test_a_tab_from_before_a_restart_is_told_to_reopen_the_link(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    settings = live_server.app.state.settings
    settings.token = "a-new-token-after-a-restart"
    try:
        page.click(f"#turn-{p['r1_6']} .meta")
        code_with_filter(page, "deling")
        toast = page.locator("#toast.show.bad")
        toast.wait_for()
        assert "startet på nytt" in toast.inner_text() and "qualcode open" in toast.inner_text()
        assert "Forbidden" not in toast.inner_text()
    finally:
        settings.token = TOKEN
    assert layer(project) == []


def test_the_new_layer_box_appears_only_after_a_near_miss(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    page.click(f"#turn-{p['r1_6']} .meta")
    code_with_filter(page, "deling")  # kari's layer now exists
    page.locator(f"#turn-{p['r1_6']} .chip.mine").wait_for()
    page.goto(f"{live_server.url}/coder")
    box = page.locator("#coder-new-label")
    assert not box.is_visible()
    page.fill("#coder-input", "karri")
    page.click("#coder-form button[type=submit]")
    page.locator("#coder-error", has_text="Mente du det?").wait_for()
    box.wait_for()
    tick = page.locator("#coder-new").bounding_box()
    words = page.locator("#coder-new-label span").bounding_box()
    # The box beside its words, on one line.
    assert tick["x"] + tick["width"] <= words["x"]
    assert abs((tick["y"] + tick["height"] / 2) - (words["y"] + words["height"] / 2)) < 6
    page.check("#coder-new")
    page.click("#coder-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.inner_text("#coder-name") == "karri"


def test_the_preview_of_a_long_passage_stays_in_its_box(workbench: Any, live_server: Any, tmp_path: Path) -> None:
    page, project = workbench
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "R3.txt").write_text(LONG_TURN, encoding="utf-8")
    cli_run(project, "ingest", str(extra / "R3.txt"), "--respondent", "R3")
    with open_store(project) as store:
        r3 = transcript_id(store, "R3.txt")
        long_turn = segment_id(store, "R3.txt", 2)
    open_reader(page, live_server, r3)
    page.evaluate(SELECT, [long_turn, LONG_TURN.split("R3: ")[1].strip()])
    target = page.locator("#target")
    assert target.inner_text().startswith("«Det begynte")
    size = target.evaluate(
        """(box) => { const style = getComputedStyle(box);
        return {height: box.clientHeight, scroll: box.scrollHeight,
                line: parseFloat(style.lineHeight), top: box.getBoundingClientRect().bottom,
                next: document.getElementById('code-filter').getBoundingClientRect().top}; }"""
    )
    assert size["height"] <= 3 * size["line"] + 1  # three lines of text, no more
    assert size["scroll"] > size["height"]  # the rest is cut (with an ellipsis), not spilt
    assert size["top"] <= size["next"]  # and the box does not run into the filter below it


def test_done_after_a_reload_says_so(workbench: Any, live_server: Any) -> None:
    page, project = workbench
    p = ids(project)
    open_reader(page, live_server, p["R1"])
    page.click(f"#turn-{p['r1_6']} .meta")
    code_with_filter(page, "deling")
    page.locator(f"#turn-{p['r1_6']} .chip.mine").wait_for()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.keyboard.press("D")  # something coded: no question
    page.locator("#status.s-done").wait_for()
    page.locator("#toast.show", has_text="R1 markert som ferdig – angre med u").wait_for()
    assert dialogs == []
    open_reader(page, live_server, p["R2"])
    with page.expect_event("dialog"):
        page.keyboard.press("D")  # nothing coded: asked, and 'no' changes nothing
    assert dialogs == ["Du har ingen kodinger i R2. Marker som ferdig likevel (lest, ingenting å kode)?"]
    page.goto(f"{live_server.url}/")
    assert "ikke startet" in page.inner_text(f"tr[data-transcript='{p['R2']}'] .status")
