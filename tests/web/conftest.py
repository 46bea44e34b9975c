"""Fixtures for the workbench: a small drafted project, the app, a live server and a browser.

Browser tests drive the operating system's Chromium through Playwright (never Playwright's own
download). Without Chromium they skip, naming the install command; with
``QUALCODE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qualcode.codebook import install_codebook, loads_codebook
from qualcode.ingest import ingest_paths
from qualcode.store import AUTO_CODER, Store, create_store

TOKEN = "test-token-0123456789abcdef"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

R1 = """\
I: Kan du fortelle litt om hvordan dere kom med i klyngen?
R1: Ja, altså, vi stoler på de andre bedriftene her. Vi har jobbet sammen i mange år, så tilliten er der.
I: Og ledelsen hos dere, hvordan ser de på det?
R1: Ledelsen har liksom ikke tid til klyngen, det er mest meg som går på samlingene.
I: Hva får dere ut av samlingene?
R1: Vi deler erfaringer om opplæring, men priser deler vi aldri.
"""

R2 = """\
Intervjuer: Hvordan er forholdet til konkurrentene i klyngen?
R2: Vi konkurrerer jo om de samme kundene, men vi samarbeider om lærlinger.
Intervjuer: Og noe mer?
R2: Jeg skrev <script>alert("hei")</script> i et innlegg en gang, det var en spøk.
"""

CODEBOOK = """\
name: Testkodebok
language: nb
codes:
  - id: tillit
    name: Tillit
    description: Tillit mellom bedriftene i klyngen.
    color: "#2ca02c"
    keywords: [tillit, stole på]
    codes:
      - id: erfaring
        name: Erfaring
        description: Tillit bygd på felles erfaring.
        keywords: [jobbet sammen]
  - id: forankring
    name: Forankring
    description: Klyngearbeidet er forankret hos ledelsen.
    color: "#1f77b4"
    keywords: [ledelse]
  - id: samkonkurranse
    name: Samkonkurranse
    description: Å konkurrere og samarbeide på en gang.
    color: "#d62728"
    keywords: [konkurrere, samarbeide]
  - id: deling
    name: Deling
    description: Deling av kunnskap og erfaringer.
    keywords: [dele]
"""


def segment_id(store: Store, transcript: str, position: int) -> int:
    """The id of turn ``position`` in ``transcript``."""
    row = store.conn.execute(
        "SELECT s.id FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
        " WHERE t.name = ? AND s.position = ?",
        (transcript, position),
    ).fetchone()
    assert row is not None, (transcript, position)
    return int(row[0])


def transcript_id(store: Store, name: str) -> int:
    """The id of transcript ``name``."""
    return int(store.conn.execute("SELECT id FROM transcripts WHERE name = ?", (name,)).fetchone()[0])


def _evidence(text: str, words: str, term: str) -> dict[str, Any]:
    start = text.index(words)
    return {"rule": "keyword", "term": term, "words": words, "start": start,
            "end": start + len(words), "negated": False, "negator": None}


def make_project(folder: Path) -> Path:
    """A project with two short transcripts, a codebook and a small auto draft with evidence."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "R1.txt").write_text(R1, encoding="utf-8")
    (corpus / "R2.txt").write_text(R2, encoding="utf-8")
    (corpus / "respondents.csv").write_text(
        "respondent,file,sektor\nR1,R1.txt,leverandør\nR2,R2.txt,prosessindustri\n", encoding="utf-8"
    )
    store = create_store(folder / "project")
    try:
        ingest_paths(store, [corpus], command="test: ingest")
        install_codebook(store, loads_codebook(CODEBOOK), "test: codebook load")
        r1_2 = segment_id(store, "R1.txt", 2)
        r1_4 = segment_id(store, "R1.txt", 4)
        text = dict(store.conn.execute("SELECT id, text FROM segments"))
        with store.write("test: code", coder=AUTO_CODER) as tx:
            store.add_coding(tx, r1_2, "tillit", AUTO_CODER, source="auto",
                             evidence=[_evidence(text[r1_2], "tilliten", "tillit")])
            store.add_coding(tx, r1_4, "forankring", AUTO_CODER, source="auto",
                             evidence=[_evidence(text[r1_4], "Ledelsen", "ledelse")])
    finally:
        store.close()
    return folder / "project"


@pytest.fixture
def web_project(tmp_path: Path) -> Path:
    """A fresh drafted project folder."""
    return make_project(tmp_path)


@pytest.fixture
def client_for() -> Callable[..., Any]:
    """A function giving a TestClient of the app for a project, with the token cookie set."""
    from fastapi.testclient import TestClient

    from qualcode.web.app import create_app

    def make(folder: Path, *, coder: str | None = "kari", lang: str = "nb") -> TestClient:
        app = create_app(folder, lang=lang, token=TOKEN)
        client = TestClient(app, base_url="http://127.0.0.1")
        client.cookies.set("qualcode_token_0", TOKEN)
        client.headers["X-Qualcode-Token"] = TOKEN
        if coder:
            response = client.post("/api/coder", json={"name": coder, "new": True})
            assert response.status_code == 200, response.text
        return client

    return make


# -- the live server and the browser ---------------------------------------------------------
def chromium_path() -> str | None:
    """The system's Chromium, if installed."""
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


def require_chromium() -> str:
    """Chromium's path, or skip (fail when QUALCODE_REQUIRE_BROWSER=1) naming the install command."""
    path = chromium_path()
    if path is None:
        message = "no system Chromium for the browser tests: apt-get install -y chromium"
        if os.environ.get("QUALCODE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "Playwright for Python is missing: pip install -e '.[test]'"
        if os.environ.get("QUALCODE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


class LiveServer:
    """The workbench served by uvicorn in a thread; ``folder`` can be switched between tests."""

    def __init__(self, folder: Path, lang: str = "nb"):
        import uvicorn

        from qualcode.web.app import create_app

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = create_app(folder, lang=lang, token=TOKEN)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the workbench server did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def use(self, folder: Path) -> None:
        """Serve another project from now on."""
        self.app.state.settings.folder = folder

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium from the operating system, headless, for the whole module."""
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[LiveServer]:
    """One server per module (started after the browser check, so a skip starts none)."""
    server = LiveServer(make_project(tmp_path_factory.mktemp("web")))
    yield server
    server.stop()


@pytest.fixture
def workbench(live_server: LiveServer, web_project: Path, browser: Any) -> Iterator[Any]:
    """A page at 1280×800 logged in as coder 'kari' on a fresh project: ``(page, project)``."""
    live_server.use(web_project)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(30000)  # generous: CI machines are shared and slow
    open_as(page, live_server, "kari")
    yield page, web_project
    context.close()


def open_as(page: Any, server: LiveServer, coder: str) -> None:
    """Open the first URL (with the token) and answer who is coding."""
    page.goto(f"{server.url}/?token={TOKEN}")
    page.fill("#coder-input", coder)
    page.click("#coder-form button[type=submit]")
    page.wait_for_url(f"{server.url}/")
