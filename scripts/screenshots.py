"""Take the README's workbench screenshots (docs/img/workbench-*.png) at 1280×800.

Builds the sample project (``qualcode analyze sample_transcripts``) in a temporary folder, serves
the workbench on it and drives the system's Chromium through Playwright, as the browser tests do.

Run: ``python scripts/screenshots.py [--out docs/img] [--lang nb|en]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TOKEN = "screenshot-token"


def build_sample(folder: Path) -> Path:
    """The sample project (auto draft plus the sample coders kari and jonas)."""
    subprocess.run(
        [sys.executable, "-m", "qualcode", "analyze", str(REPO / "sample_transcripts"),
         "--out", str(folder / "out")],
        check=True, cwd=folder, capture_output=True,
    )
    return folder / "out"


def serve(project: Path, lang: str) -> tuple[object, int]:
    """The workbench on a free port, in a thread."""
    import socket

    import uvicorn

    from qualcode.web.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(project, lang=lang, token=TOKEN),
                                           host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    parser.add_argument("--lang", default="nb", choices=["nb", "en"])
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        project = build_sample(Path(tmp))
        server, port = serve(project, options.lang)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/?token={TOKEN}")
            page.fill("#coder-input", "kari")
            page.click("#coder-form button[type=submit]")
            page.wait_for_url(f"{base}/")
            shots = options.out
            page.screenshot(path=str(shots / "workbench-home.png"))

            page.goto(f"{base}/t/1")
            turn = page.locator(".turn.role-respondent").nth(2)
            turn.scroll_into_view_if_needed()
            # Select a passage the way a mouse does, then look for a code in the tree.
            page.evaluate(
                """(segment) => {
                    const box = document.querySelector(`#turn-${segment} .text`);
                    const node = [...box.childNodes].find((n) => n.nodeType === 3 && n.textContent.length > 60);
                    const range = document.createRange();
                    range.setStart(node, 10); range.setEnd(node, Math.min(node.textContent.length, 70));
                    const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
                    box.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
                }""",
                int(turn.get_attribute("data-seg")),
            )
            page.fill("#code-filter", "till")
            page.wait_for_timeout(200)
            page.screenshot(path=str(shots / "workbench-reader.png"))

            page.goto(f"{base}/code?path=tillit")
            page.screenshot(path=str(shots / "workbench-code.png"))
            page.goto(f"{base}/search?q=stole+på&lemma=true")
            page.screenshot(path=str(shots / "workbench-search.png"))
            page.goto(f"{base}/supervisor?a=kari&b=jonas")
            page.screenshot(path=str(shots / "workbench-supervisor.png"))
            browser.close()
        server.should_exit = True
    for name in sorted(options.out.glob("workbench-*.png")):
        print(name.relative_to(REPO) if name.is_relative_to(REPO) else name)


if __name__ == "__main__":
    main()
