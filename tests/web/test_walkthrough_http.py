"""What a newcomer's walkthrough of the workbench found, through FastAPI's TestClient: the words a
reader meets (in bokmål and English), the supervisor's list of what is left out, and the checks
before a change (interviewer turns, marking an untouched transcript done)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qualcode.progress import DONE, IN_PROGRESS, NOT_STARTED, left_out_of_comparison, progress_rows
from qualcode.store import open_store
from qualcode.web.app import create_app

from .conftest import TOKEN, segment_id, transcript_id


def ids(project: Path) -> dict[str, int]:
    with open_store(project) as store:
        return {
            "r1_1": segment_id(store, "R1.txt", 1),
            "r1_2": segment_id(store, "R1.txt", 2),
            "r1_4": segment_id(store, "R1.txt", 4),
            "r1_6": segment_id(store, "R1.txt", 6),
            "r2_2": segment_id(store, "R2.txt", 2),
            "R1": transcript_id(store, "R1.txt"),
            "R2": transcript_id(store, "R2.txt"),
        }


def status(project: Path, transcript: str, coder: str) -> str:
    with open_store(project) as store:
        rows = {(r.transcript, r.coder): r.status for r in progress_rows(store)}
    return rows.get((transcript, coder), NOT_STARTED)  # a coder without a layer has started nothing


# -- 1. the supervisor names every transcript left out, and why ----------------------------------
def test_supervisor_names_a_transcript_done_by_one_coder_only(client_for: Any, web_project: Path) -> None:
    p = ids(web_project)
    kari, ola = client_for(web_project, coder="kari"), client_for(web_project, coder="ola")
    kari.post("/api/code", json={"segment": p["r1_2"], "code": "tillit"})
    assert kari.post("/api/done", json={"transcript": p["R1"]}).json()["reload"]
    ola.post("/api/code", json={"segment": p["r2_2"], "code": "samkonkurranse"})  # R2: in progress
    html = kari.get("/supervisor", params={"a": "kari", "b": "ola"}).text
    assert "R1.txt: ferdig bare hos kari (ola: ikke startet)" in html
    assert "R2.txt: ikke ferdig hos noen av dem (kari: ikke startet, ola: pågår)" in html
    english = client_for(web_project, coder="kari", lang="en")
    html = english.get("/supervisor", params={"a": "kari", "b": "ola"}).text
    assert "R1.txt: done by kari only (ola: not started)" in html
    # Counting transcripts in progress, R2 is still left out: kari has not started it.
    html = english.get("/supervisor", params={"a": "kari", "b": "ola", "all": "true"}).text
    assert "R2.txt: done by neither (kari: not started, ola: in progress)" in html


def test_transcripts_neither_coder_started_are_named_together(client_for: Any, web_project: Path) -> None:
    p = ids(web_project)
    kari, ola = client_for(web_project, coder="kari"), client_for(web_project, coder="ola")
    for client in (kari, ola):
        client.post("/api/code", json={"segment": p["r1_2"], "code": "tillit"})
        client.post("/api/done", json={"transcript": p["R1"]})
    html = kari.get("/supervisor", params={"a": "kari", "b": "ola"}).text
    assert "Ikke startet av noen av dem (kari, ola): R2.txt" in html
    assert "R1.txt:" not in html  # counted for both: not left out


def test_left_out_of_comparison_gives_each_coders_status(client_for: Any, web_project: Path) -> None:
    p = ids(web_project)
    kari, ola = client_for(web_project, coder="kari"), client_for(web_project, coder="ola")
    kari.post("/api/code", json={"segment": p["r1_2"], "code": "tillit"})
    kari.post("/api/done", json={"transcript": p["R1"]})
    ola.post("/api/code", json={"segment": p["r1_4"], "code": "forankring"})
    with open_store(web_project) as store:
        gaps = left_out_of_comparison(store, ["kari", "ola"])
        counting_started = left_out_of_comparison(store, ["kari", "ola"], include_in_progress=True)
    assert [(g.transcript, g.statuses) for g in gaps] == [
        ("R1.txt", (("kari", DONE), ("ola", IN_PROGRESS))),
        ("R2.txt", (("kari", NOT_STARTED), ("ola", NOT_STARTED))),
    ]
    assert [g.transcript for g in counting_started] == ["R2.txt"]


# -- 2. coding an interviewer turn warns ---------------------------------------------------------
@pytest.mark.parametrize(("lang", "words"), [("nb", "R1 #1 er en intervjuerytring"), ("en", "R1 #1 is an interviewer turn")])
def test_coding_an_interviewer_turn_warns(client_for: Any, web_project: Path, lang: str, words: str) -> None:
    client = client_for(web_project, lang=lang)
    p = ids(web_project)
    answer = client.post("/api/code", json={"segment": p["r1_1"], "code": "tillit"}).json()
    assert words in answer["warning"]
    assert str(p["r1_1"]) in answer["turns"]  # coded all the same: a warning, not a refusal
    assert "warning" not in client.post("/api/code", json={"segment": p["r1_2"], "code": "tillit"}).json()


# -- 4. a tab from before a restart is told to reopen the link -----------------------------------
@pytest.mark.parametrize(("lang", "words"), [("nb", "startet på nytt"), ("en", "has restarted")])
def test_an_old_token_gets_a_message_to_reopen_the_link(web_project: Path, lang: str, words: str) -> None:
    client = TestClient(create_app(web_project, lang=lang, token=TOKEN), base_url="http://127.0.0.1")
    client.cookies.set("qualcode_token_0", "the-token-of-the-last-run")
    client.headers["X-Qualcode-Token"] = "the-token-of-the-last-run"
    response = client.post("/api/code", json={"segment": 1, "code": "tillit"})
    assert response.status_code == 403
    assert words in response.json()["error"] and "qualcode open" in response.json()["error"]
    client.cookies.set("qualcode_token_0", TOKEN)  # the right cookie, an old page's header
    response = client.post("/api/code", json={"segment": 1, "code": "tillit"})
    assert response.status_code == 403 and "qualcode open" in response.json()["error"]


# -- 5. the library's English errors in the words of the page -----------------------------------
def test_coder_choice_errors_in_norwegian(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project, coder=None)
    refused = client.post("/api/coder", json={"name": "to ord"}).json()
    assert refused["error"].startswith("«to ord» kan ikke brukes som navn")
    assert "near" not in refused  # no box to tick: the name cannot be used at all
    assert client.post("/api/coder", json={"name": "auto", "new": True}).json()["error"] == (
        "«auto» er autokoderens lag; velg et personnavn.")
    english = client_for(web_project, coder="kari", lang="en")
    english.post("/api/code", json={"segment": ids(web_project)["r1_2"], "code": "tillit"})
    refused = english.post("/api/coder", json={"name": "Kari"}).json()
    assert refused["error"].startswith("There is already a coder layer named 'kari'.")


def test_supervisor_choice_errors_in_norwegian(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    html = client.get("/supervisor", params={"a": "kari", "b": "kari"}).text
    assert "Velg to forskjellige kodere." in html and "named twice" not in html
    client.post("/api/code", json={"segment": ids(web_project)["r1_2"], "code": "tillit"})
    html = client.get("/supervisor", params={"a": "kari", "b": "nemo"}).text
    assert "Kan ikke sammenligne: no coder layer &#39;nemo&#39;" in html


@pytest.mark.parametrize(
    ("lang", "coded", "undone", "nothing"),
    [
        ("nb", "+ Erfaring «Ja, altså, vi stoler på de …»", "↶ Angret: + Erfaring på R1 #2", "Ingenting å angre for kari."),
        ("en", "+ Erfaring «Ja, altså, vi stoler på de …»", "↶ Undone: + Erfaring on R1 #2", "Nothing to undo for kari."),
    ],
)
def test_undo_says_what_it_took_back_in_words(
    client_for: Any, web_project: Path, lang: str, coded: str, undone: str, nothing: str
) -> None:
    client = client_for(web_project, lang=lang)
    p = ids(web_project)
    assert client.post("/api/code", json={"segment": p["r1_2"], "code": "tillit/erfaring"}).json()["message"] == coded
    assert client.post("/api/undo").json()["message"] == undone
    assert client.post("/api/undo").json()["error"] == nothing


def test_undo_of_a_decision_and_of_done_in_words(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    p = ids(web_project)
    client.post("/api/decide", json={"segment": p["r1_4"], "code": "forankring", "decision": "reject"})
    client.post("/api/decide", json={"segment": p["r1_2"], "code": "tillit", "decision": "accept"})
    client.post("/api/done", json={"transcript": p["R1"]})
    assert client.post("/api/undo").json()["message"] == "↶ Angret: R1 markert som ferdig"
    assert client.post("/api/undo").json()["message"] == "↶ Angret: godtatt utkast Tillit på R1 #2"
    assert client.post("/api/undo").json()["message"] == "↶ Angret: avvist utkast Forankring på R1 #4"


# -- 8. ids made from names are shell-friendly; messages name codes by name -----------------------
def test_a_new_codes_id_has_no_brackets_or_accents(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    answer = client.post("/api/codes", json={"name": "Sårbarhet (én person)", "parent": "tillit"}).json()
    assert answer["path"] == "tillit/sårbarhet-en-person"
    assert answer["message"] == "+ Sårbarhet (én person)"
    answer = client.post("/api/code", json={"segment": ids(web_project)["r1_2"], "code": answer["path"]}).json()
    assert answer["message"].startswith("+ Sårbarhet (én person) «")


# -- 9. "accepted" only for a real decision -------------------------------------------------------
def test_a_draft_is_accepted_only_by_a_decision(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    p = ids(web_project)
    # kari codes the draft's code herself, as a passage, without deciding on the draft.
    turn = client.post("/api/code", json={"segment": p["r1_2"], "code": "tillit", "start": 0, "end": 3}).json()["turns"][str(p["r1_2"])]
    assert "du har koden" in turn and "godtatt" not in turn
    turn = client.post("/api/decide", json={"segment": p["r1_4"], "code": "forankring", "decision": "accept"}).json()["turns"][str(p["r1_4"])]
    assert "godtatt" in turn and "du har koden" not in turn
    html = client_for(web_project, lang="en").get(f"/t/{p['R1']}").text
    assert "you have the code" in html and html.count(">accepted<") == 1


# -- 10. marking done: a message, and a question when nothing is coded ---------------------------
def test_marking_an_untouched_transcript_done_asks_first(client_for: Any, web_project: Path) -> None:
    client = client_for(web_project)
    p = ids(web_project)
    answer = client.post("/api/done", json={"transcript": p["R2"]}).json()
    assert answer == {"confirm": "Du har ingen kodinger i R2. Marker som ferdig likevel (lest, ingenting å kode)?"}
    assert status(web_project, "R2.txt", "kari") == NOT_STARTED
    answer = client.post("/api/done", json={"transcript": p["R2"], "confirmed": True}).json()
    assert answer["message"] == "R2 markert som ferdig – angre med u"
    assert status(web_project, "R2.txt", "kari") == DONE
    answer = client.post("/api/done", json={"transcript": p["R2"], "undo": True}).json()
    assert answer["message"] == "R2 er ikke ferdig likevel – angre med u"
    # A decision on the draft is work in the transcript: no question.
    client.post("/api/decide", json={"segment": p["r1_4"], "code": "forankring", "decision": "reject"})
    assert client.post("/api/done", json={"transcript": p["R1"]}).json()["reload"]
    english = client_for(web_project, lang="en", coder="ola")
    assert english.post("/api/done", json={"transcript": p["R1"]}).json()["confirm"] == (
        "You have no codings in R1. Mark it as done anyway (read, nothing to code)?")


def test_import_and_the_workbench_make_ids_from_names_alike() -> None:
    from qualcode import codebook, codebook_edit
    from qualcode.refiqda import importer

    assert importer.code_id_from_name is codebook.code_id_from_name
    assert codebook_edit.code_id_from_name is codebook.code_id_from_name
    for name, wanted in [
        ("Åpenhet og deling", "åpenhet-og-deling"),
        ("Sårbarhet (én person)", "sårbarhet-en-person"),
        ("Lønn & «goder» / frynser", "lønn-goder-frynser"),
        ("Kode_1  (ny)", "kode-1-ny"),
    ]:
        assert codebook.code_id_from_name(name) == wanted
