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
# Select characters START to END of a turn's text the way a mouse drag does.
SELECT = """([segment, start, end]) => {
    const box = document.querySelector(`#turn-${segment} .text`);
    const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let seen = 0, node, started = false;
    while ((node = walker.nextNode())) {
        const n = node.textContent.length;
        if (!started && start < seen + n) { range.setStart(node, start - seen); started = true; }
        if (started && end <= seen + n) { range.setEnd(node, end - seen); break; }
        seen += n;
    }
    const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
    box.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
}"""


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
            # A turn with my codings and the auto draft on it, near the top of the window.
            turn = page.locator(".turn:has(.chip.mine):has(.chip.draft)").nth(1)
            segment = int(turn.get_attribute("data-seg"))
            page.evaluate(
                "(s) => document.getElementById('turn-' + s).scrollIntoView({block: 'start'})", segment
            )
            page.evaluate("() => document.querySelector('.transcript').scrollBy(0, -90)")
            # Code a passage by selecting it, then select another and look for a code.
            following = page.locator(f"#turn-{segment} ~ .turn.role-respondent").first
            target = int(following.get_attribute("data-seg"))
            page.evaluate(SELECT, [segment, 12, 80])
            page.fill("#code-filter", "åpenhet")
            page.press("#code-filter", "Enter")
            page.wait_for_timeout(400)
            page.evaluate(SELECT, [target, 0, 60])
            page.fill("#code-filter", "rel")
            page.wait_for_timeout(300)
            page.screenshot(path=str(shots / "workbench-reader.png"))
            page.keyboard.press("Escape")
            page.keyboard.press("?")
            page.screenshot(path=str(shots / "workbench-help.png"))
            page.keyboard.press("Escape")

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
