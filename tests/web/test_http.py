"""The workbench's HTTP layer through FastAPI's TestClient: security, pages and every action."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qualcode.audit import log_entries
from qualcode.cli.main import app as cli
from qualcode.review import ReviewItem, latest_decisions
from qualcode.store import open_store
from qualcode.web.app import create_app

from .conftest import TOKEN, segment_id, transcript_id


def run(project: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--project", str(project), *args])
    return result


def codings(project: Path, coder: str) -> list[tuple[int, str, str]]:
    with open_store(project) as store:
        return store.conn.execute(
            "SELECT c.segment_id, k.path, c.source FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id WHERE d.name = ? ORDER BY c.segment_id, k.path",
            (coder,),
        ).fetchall()


def ids(project: Path) -> dict[str, int]:
    with open_store(project) as store:
        return {
            "r1_2": segment_id(store, "R1.txt", 2),
            "r1_4": segment_id(store, "R1.txt", 4),
            "r1_6": segment_id(store, "R1.txt", 6),
            "r2_4": segment_id(store, "R2.txt", 4),
            "R1": transcript_id(store, "R1.txt"),
            "R2": transcript_id(store, "R2.txt"),
        }


# -- security ----------------------------------------------------------------------------------
def test_every_request_without_the_token_is_refused(web_project: Path) -> None:
    client = TestClient(create_app(web_project, token=TOKEN), base_url="http://127.0.0.1")
    for url in ("/", "/t/1", "/static/workbench.js", "/search?q=tillit", "/code"):
        assert client.get(url, follow_redirects=False).status_code == 403, url
    client.cookies.set("qualcode_token_0", "wrong")
    assert client.get("/").status_code == 403
    assert client.get("/?token=wrong", follow_redirects=False).status_code == 403


def test_the_first_url_sets_the_cookie_and_drops_the_token(web_project: Path) -> None:
    client = TestClient(create_app(web_project, token=TOKEN), base_url="http://127.0.0.1")
    response = client.get(f"/t/1?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/t/1"
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    assert client.get("/coder").status_code == 200


def test_posts_need_the_token_header_too(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    seg = ids(web_project)["r1_6"]
    del client.headers["X-Qualcode-Token"]
    response = client.post("/api/code", json={"segment": seg, "code": "deling"})
    assert response.status_code == 403
    response = client.post(
        "/api/code", json={"segment": seg, "code": "deling"}, headers={"X-Qualcode-Token": "x"}
    )
    assert response.status_code == 403
    assert codings(web_project, "kari") == []


def test_other_hosts_and_methods_are_refused(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    assert client.get("/", headers={"host": "evil.example:8000"}).status_code == 403
    assert client.put("/api/undo").status_code == 403
    assert client.get("/api/undo").status_code == 405


def test_only_the_static_folder_is_served(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    for url in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/../../store.py",
                "/qualcode.db", "/static/..%2f..%2fstore.py"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"sqlite" not in response.content.lower()
    assert client.get("/static/workbench.css").status_code == 200


def test_pages_send_a_content_security_policy(client_for: Any, web_project: Path) -> None:
    response = client_for(web_project).get("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]


# -- the coder -----------------------------------------------------------------------------
def test_without_a_coder_the_workbench_asks(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project, coder=None)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/coder"


def test_a_name_close_to_an_existing_layer_is_refused(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project, coder="kari")
    client.post("/api/code", json={"segment": ids(web_project)["r1_6"], "code": "deling"})
    response = client.post("/api/coder", json={"name": "karri"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Det finnes allerede et kodelag som heter «kari». Mente du det? Kryss av for å"
        " starte et nytt kodelag med navnet «karri».",
        "near": True,
    }
    assert client.post("/api/coder", json={"name": "karri", "new": True}).status_code == 200
    assert client.post("/api/coder", json={"name": "auto", "new": True}).status_code == 400
    assert client.post("/api/coder", json={"name": "to ord", "new": True}).status_code == 400


# -- pages ----------------------------------------------------------------------------------
def test_home_lists_respondents_transcripts_and_attributes(client_for: Any, web_project: Path) -> None:
    html = client_for(web_project).get("/").text
    assert "R1.txt" in html and "R2.txt" in html
    assert "sektor: leverandør" in html
    assert 'href="/t/' in html


def test_reader_escapes_the_transcript(client_for: Any, web_project: Path) -> None:
    html = client_for(web_project).get(f"/t/{ids(web_project)['R2']}").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;hei&#34;)&lt;/script&gt;" in html


def test_reader_shows_the_draft_with_plain_evidence(client_for: Any, web_project: Path) -> None:
    html = client_for(web_project).get(f"/t/{ids(web_project)['R1']}").text
    assert "tillit — ordet &#34;tilliten&#34; (bøyd form av tillit)" in html
    assert 'class="pc ev"' in html  # the matched word is marked for underlining
    assert "~8~" not in html


def test_reader_in_english(client_for: Any, web_project: Path) -> None:
    html = client_for(web_project, lang="en").get(f"/t/{ids(web_project)['R1']}").text
    assert "Mark as done" in html or "Accept" in html
    assert 'tillit — the word &#34;tilliten&#34; (inflected form of tillit)' in html


def test_unknown_transcript_is_a_page_with_the_reason(client_for: Any, web_project: Path) -> None:
    response = client_for(web_project).get("/t/999")
    assert response.status_code == 400
    assert "no transcript with id 999" in response.text


def test_search_uses_the_concordance(client_for: Any, web_project: Path) -> None:
    html = client_for(web_project).get("/search", params={"q": "stole på", "lemma": "true"}).text
    assert 'class="match">stoler på<' in html
    assert f'href="/t/{ids(web_project)["R1"]}#turn-{ids(web_project)["r1_2"]}"' in html


def test_code_view_lists_passages_with_a_link(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    seg = ids(web_project)["r1_6"]
    client.post("/api/code", json={"segment": seg, "code": "deling"})
    html = client.get("/code", params={"path": "deling"}).text
    assert "Vi deler erfaringer om opplæring" in html
    assert f"#turn-{seg}" in html
    html = client.get("/code", params={"path": "tillit", "layer": "*"}).text
    assert "tilliten er der" in html  # the auto layer's coding


def test_supervisor_shows_the_same_numbers_as_agreement(client_for: Any, web_project: Path) -> None:
    from qualcode.agreement import agreement

    p = ids(web_project)
    kari, ola = client_for(web_project, coder="kari"), client_for(web_project, coder="ola")
    kari.post("/api/code", json={"segment": p["r1_2"], "code": "tillit"})
    kari.post("/api/code", json={"segment": p["r1_6"], "code": "deling"})
    ola.post("/api/code", json={"segment": p["r1_2"], "code": "tillit"})
    ola.post("/api/code", json={"segment": p["r1_4"], "code": "forankring"})
    html = kari.get("/supervisor", params={"a": "kari", "b": "ola"}).text
    assert "R1.txt" in html  # left out until both have marked it done, and said so
    assert kari.post("/api/done", json={"transcript": p["R1"]}).status_code == 200
    assert ola.post("/api/done", json={"transcript": p["R1"]}).status_code == 200
    html = kari.get("/supervisor", params={"a": "kari", "b": "ola"}).text
    with open_store(web_project) as store:
        report = agreement(store, ["kari", "ola"], bootstrap=1000, seed=1)
    pooled = report.records()[-1]
    assert f"{pooled['cohen_kappa']:.3f}" in html
    if pooled["cohen_kappa_ci_low"] is None:  # too few coded units for an interval: a dash
        assert "–" in html and pooled["note"] and pooled["note"] in html
    else:
        low, high = pooled["cohen_kappa_ci_low"], pooled["cohen_kappa_ci_high"]
        assert f"[{low:.3f}, {high:.3f}]" in html
    from qualcode.consistency import interval_method

    # The method in the page's words, as the Word report says it (the page is in nb or en).
    assert interval_method(report, "nb") in html or interval_method(report, "en") in html
    assert "Vi deler erfaringer" in html  # a disagreement, side by side


# -- actions --------------------------------------------------------------------------------
def test_coding_a_turn_is_one_logged_command_that_undo_reverts(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    seg = ids(web_project)["r1_6"]
    answer = client.post("/api/code", json={"segment": seg, "code": "deling"}).json()
    assert str(seg) in answer["turns"] and "Deling" in answer["turns"][str(seg)]
    assert answer["recent"][0] == "deling"
    assert (seg, "deling", "manual") in codings(web_project, "kari")
    with open_store(web_project) as store:
        entry = [e for e in log_entries(store, coder="kari") if e.action == "add_coding"][-1]
    assert entry.command == f"workbench: + deling on {seg} «Vi deler erfaringer om …»"
    result = run(web_project, "undo", "--coder", "kari")
    assert result.exit_code == 0, result.output
    assert codings(web_project, "kari") == []


def test_workbench_undo_reverts_a_cli_command_too(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    seg = ids(web_project)["r1_6"]
    assert run(web_project, "recode", str(seg), "--add", "deling", "--coder", "kari").exit_code == 0
    answer = client.post("/api/undo").json()
    assert answer["message"].startswith("↶ ")
    assert codings(web_project, "kari") == []
    assert client.post("/api/undo").status_code == 400  # nothing left to undo


def test_accept_and_reject_are_review_decisions(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    p = ids(web_project)
    assert client.post("/api/decide", json={"segment": p["r1_2"], "code": "tillit", "decision": "accept"}).status_code == 200
    assert client.post("/api/decide", json={"segment": p["r1_4"], "code": "forankring", "decision": "reject"}).status_code == 200
    assert codings(web_project, "kari") == [(p["r1_2"], "tillit", "manual")]
    with open_store(web_project) as store:
        decisions = latest_decisions(store, "kari", "auto")
        accepted = store.conn.execute(
            "SELECT c.evidence FROM codings c JOIN coders d ON d.id = c.coder_id WHERE d.name = 'kari'"
        ).fetchone()[0]
    assert decisions == {ReviewItem(p["r1_2"], "tillit"): "accept",
                         ReviewItem(p["r1_4"], "forankring"): "reject"}
    assert json.loads(accepted)[0]["words"] == "tilliten"  # the evidence came along
    html = client.get(f"/t/{p['R1']}").text
    assert "avvist" in html and "godtatt" in html
    # The terminal review has nothing left to ask about these two.
    result = run(web_project, "undo", "--coder", "kari")
    assert result.exit_code == 0
    with open_store(web_project) as store:
        assert ReviewItem(p["r1_4"], "forankring") not in latest_decisions(store, "kari", "auto")


def test_bad_input_is_one_line_and_changes_nothing(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    with open_store(web_project) as store:
        before = store.dump()
    p = ids(web_project)
    for url, body in [
        ("/api/code", {"segment": 99999, "code": "tillit"}),
        ("/api/code", {"segment": p["r1_2"], "code": "tilit"}),
        ("/api/code", {"segment": p["r1_2"], "code": "tillit", "start": 5, "end": 999}),
        ("/api/decide", {"segment": p["r1_6"], "code": "tillit", "decision": "accept"}),
        ("/api/decide", {"segment": p["r1_2"], "code": "tillit", "decision": "maybe"}),
        ("/api/uncode", {"coding": 424242}),
        ("/api/memo", {"segment": p["r1_2"], "text": "   "}),
        ("/api/codes", {"name": "Tillit"}),
        ("/api/codes", {"name": "ny", "parent": "finnes/ikke"}),
        ("/api/codes", {"name": "ny", "color": "red"}),
    ]:
        response = client.post(url, json=body)
        assert response.status_code == 400, (url, body, response.text)
        assert "\n" not in response.json()["error"]
    assert client.post("/api/code", json={"segment": "x"}).status_code == 422
    with open_store(web_project) as store:
        after = store.dump()
    assert {k: v for k, v in after.items() if k != "commands"} == {
        k: v for k, v in before.items() if k != "commands"
    }


def test_someone_elses_coding_cannot_be_removed(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    with open_store(web_project) as store:
        auto_id = store.conn.execute("SELECT MIN(id) FROM codings").fetchone()[0]
    response = client.post("/api/uncode", json={"coding": auto_id})
    assert response.status_code == 400 and "auto's layer" in response.json()["error"]


def test_memos_on_a_turn_and_on_a_coding(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    seg = ids(web_project)["r1_6"]
    client.post("/api/code", json={"segment": seg, "code": "deling"})
    answer = client.post("/api/memo", json={"segment": seg, "text": "Deler <b>ikke</b> priser"}).json()
    assert "Deler &lt;b&gt;ikke&lt;/b&gt; priser" in answer["turns"][str(seg)]
    with open_store(web_project) as store:
        coding = store.conn.execute("SELECT MAX(id) FROM codings").fetchone()[0]
    client.post("/api/memo", json={"coding": coding, "text": "kunnskapsdeling"})
    with open_store(web_project) as store:
        memo = store.conn.execute(
            "SELECT c.memo FROM codings c JOIN coders d ON d.id = c.coder_id WHERE d.name = 'kari'"
        ).fetchone()[0]
        turn_memos = store.conn.execute("SELECT text FROM memos").fetchall()
    assert memo == "kunnskapsdeling"
    assert turn_memos == [("Deler <b>ikke</b> priser",)]
    client.post("/api/undo")
    with open_store(web_project) as store:
        assert store.conn.execute(
            "SELECT c.memo FROM codings c JOIN coders d ON d.id = c.coder_id WHERE d.name = 'kari'"
        ).fetchone()[0] is None


def test_a_new_code_is_a_new_codebook_version(client_for: Any, web_project: Path, tmp_path: Path) -> None:
    client = client_for(web_project)
    answer = client.post(
        "/api/codes",
        json={"name": "Lærlinger", "parent": "samkonkurranse", "description": "Samarbeid om lærlinger.", "color": "#aa5500"},
    ).json()
    assert answer["path"] == "samkonkurranse/lærlinger"
    assert 'data-path="samkonkurranse/lærlinger"' in answer["tree"]
    exported = tmp_path / "ut" / "kodebok.yaml"
    result = run(web_project, "codebook", "export", str(exported))
    assert result.exit_code == 0, result.output
    from qualcode.codebook import load_codebook

    book = load_codebook(exported)
    code = book.find("samkonkurranse/lærlinger")
    assert (code.name, code.description, code.color) == ("Lærlinger", "Samarbeid om lærlinger.", "#aa5500")
    assert book.find("tillit/erfaring").description == "Tillit bygd på felles erfaring."
    with open_store(web_project) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM codebook_versions").fetchone()[0] == 2
    assert client.post("/api/undo").status_code == 200
    with open_store(web_project) as store:
        assert store.code_id("samkonkurranse/lærlinger") is None
        assert store.conn.execute("SELECT COUNT(*) FROM codebook_versions").fetchone()[0] == 1


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_every_page_renders(client_for: Any, web_project: Path, lang: str) -> None:
    client = client_for(web_project, lang=lang)
    p = ids(web_project)
    for url in ("/", "/coder", f"/t/{p['R1']}", f"/t/{p['R2']}", "/code", "/search?q=klyngen",
                "/supervisor", "/supervisor?a=kari&b=kari"):
        response = client.get(url)
        assert response.status_code in (200, 400), url
        assert "Traceback" not in response.text


def test_done_and_its_undo_through_the_cli(client_for: Any, web_project: Path) -> None:
    from qualcode.progress import progress_rows

    client = client_for(web_project)
    p = ids(web_project)
    client.post("/api/code", json={"segment": p["r1_6"], "code": "deling"})
    answer = client.post("/api/done", json={"transcript": p["R1"]}).json()
    assert answer["message"] == "R1 markert som ferdig – angre med u" and answer["reload"]
    with open_store(web_project) as store:
        status = {(r.transcript, r.coder): r.status for r in progress_rows(store)}
        command = store.conn.execute("SELECT command FROM commands ORDER BY id DESC").fetchone()[0]
    assert status[("R1.txt", "kari")] == "done"
    assert command == "workbench: done R1 (R1.txt)"
    assert "ferdig" in client.get("/").text
    assert run(web_project, "undo", "--coder", "kari").exit_code == 0
    with open_store(web_project) as store:
        status = {(r.transcript, r.coder): r.status for r in progress_rows(store)}
    assert status[("R1.txt", "kari")] == "in progress"
    assert client.post("/api/done", json={"transcript": 999}).status_code == 400


def test_a_cli_change_shows_on_the_next_page_load(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    p = ids(web_project)
    client.get(f"/t/{p['R1']}")
    assert run(web_project, "recode", str(p["r1_6"]), "--add", "deling", "--coder", "kari",
               "--quote", "erfaringer om opplæring").exit_code == 0
    html = client.get(f"/t/{p['R1']}").text
    assert 'class="pc hl"' in html and ">erfaringer om opplæring</span>" in html


def test_a_passage_through_the_api_is_stored_with_its_offsets(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    p = ids(web_project)
    with open_store(web_project) as store:
        text = store.conn.execute("SELECT text FROM segments WHERE id = ?", (p["r1_2"],)).fetchone()[0]
        whole = len(store.conn.execute("SELECT text FROM segments WHERE id = ?", (p["r1_4"],)).fetchone()[0])
    start = text.index("tilliten er der")
    answer = client.post("/api/code", json={"segment": p["r1_2"], "code": "tillit", "start": start, "end": start + 15}).json()
    assert answer["message"] == "+ Tillit «tilliten er der»"
    # The selection of the whole text is a whole-turn coding, not a passage.
    client.post("/api/code", json={"segment": p["r1_4"], "code": "forankring", "start": 0, "end": whole})
    with open_store(web_project) as store:
        rows = store.conn.execute(
            "SELECT c.segment_id, c.quote_start, c.quote_end FROM codings c JOIN coders d ON d.id = c.coder_id"
            " WHERE d.name = 'kari' ORDER BY c.segment_id"
        ).fetchall()
    assert rows == [(p["r1_2"], start, start + 15), (p["r1_4"], None, None)]


def test_deleting_my_memo_on_a_turn(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    seg = ids(web_project)["r1_6"]
    client.post("/api/memo", json={"segment": seg, "text": "Sjekk dette"})
    with open_store(web_project) as store:
        memo_id = store.conn.execute("SELECT id FROM memos").fetchone()[0]
    ola = client_for(web_project, coder="ola")
    assert ola.post("/api/memo/delete", json={"memo": memo_id}).status_code == 400
    assert 'class="delete-memo"' not in ola.get(f"/t/{ids(web_project)['R1']}").text
    answer = client.post("/api/memo/delete", json={"memo": memo_id}).json()
    assert "Sjekk dette" not in answer["turns"][str(seg)]
    client.post("/api/undo")
    with open_store(web_project) as store:
        assert store.conn.execute("SELECT text FROM memos").fetchall() == [("Sjekk dette",)]
