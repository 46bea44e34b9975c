"""Benchmark: the workbench's server time for the longest reader page and a passage coding.

On the sample project (``qualcode analyze sample_transcripts``) and on a generated project of 20
interviews of about 10,000 words each (turns drawn from the sample interviews, auto-coded with
the project's codebook), this prints the median and slowest server time of

- rendering the reader (``GET /t/ID``) for the longest transcript, with the auto draft and a
  coder's layer; target under 300 ms;
- coding a passage (``POST /api/code`` with start and end), which writes one command and answers
  with the re-rendered turn; target under 100 ms.

Requests go through FastAPI's TestClient in this process, so the figures are the server's time
without a network. Run: ``python bench/workbench.py [--runs 15] [--interviews 20] [--words 10000]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
TARGET_READER_MS = 300.0
TARGET_CODING_MS = 100.0


def sample_project(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "qualcode", "analyze", str(REPO / "sample_transcripts"), "--out",
         str(folder / "sample")],
        check=True, cwd=folder, capture_output=True,
    )
    return folder / "sample"


def generated_project(folder: Path, sample: Path, interviews: int, words: int) -> Path:
    """Interviews made of the sample's turns in a seeded random order, then ingested and coded."""
    from qualcode.store import open_store

    with open_store(sample) as store:
        questions = [r[0] for r in store.conn.execute("SELECT text FROM segments WHERE role = 'interviewer'")]
        answers = [r[0] for r in store.conn.execute("SELECT text FROM segments WHERE role = 'respondent'")]
    rng = random.Random(13)
    corpus = folder / "corpus"
    corpus.mkdir()
    for n in range(1, interviews + 1):
        lines, count = [], 0
        while count < words:
            lines.append("I: " + rng.choice(questions).replace("\n", " "))
            answer = rng.choice(answers).replace("\n", " ")
            lines.append(f"R{n}: " + answer)
            count += len(answer.split())
        (corpus / f"R{n}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    project = folder / "generated"
    run = [sys.executable, "-m", "qualcode", "--project", str(project)]
    subprocess.run([sys.executable, "-m", "qualcode", "init", str(project)], check=True, capture_output=True)
    subprocess.run([*run, "ingest", str(corpus)], check=True, capture_output=True)
    subprocess.run([*run, "codebook", "load", str(REPO / "codebooks" / "klynge.yaml")], check=True, capture_output=True)
    subprocess.run([*run, "code"], check=True, capture_output=True)
    return project


def measure(project: Path, runs: int) -> tuple[int, list[float], list[float]]:
    """Reader render times and passage-coding times (ms) for the longest transcript."""
    from fastapi.testclient import TestClient

    from qualcode.store import open_store
    from qualcode.web.app import create_app

    with open_store(project) as store:
        longest, words = store.conn.execute(
            "SELECT transcript_id, SUM(LENGTH(text)) AS n FROM segments GROUP BY transcript_id"
            " ORDER BY n DESC LIMIT 1"
        ).fetchone()
        turns = store.conn.execute(
            "SELECT id, text FROM segments WHERE transcript_id = ? AND role = 'respondent'"
            " AND LENGTH(text) > 80 ORDER BY position",
            (longest,),
        ).fetchall()
        code = store.code_paths()[0]
    client = TestClient(create_app(project, token=TOKEN), base_url="http://127.0.0.1")
    client.cookies.set("qualcode_token_0", TOKEN)
    client.headers["X-Qualcode-Token"] = TOKEN
    client.post("/api/coder", json={"name": "bench", "new": True}).raise_for_status()
    client.get(f"/t/{longest}").raise_for_status()  # warm the templates
    reader, coding = [], []
    for i in range(runs):
        segment, _text = turns[i % len(turns)]
        start = time.perf_counter()
        response = client.post("/api/code", json={"segment": segment, "code": code, "start": 10, "end": 60})
        coding.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        start = time.perf_counter()
        client.get(f"/t/{longest}").raise_for_status()
        reader.append((time.perf_counter() - start) * 1000)
    return int(words), reader, coding


def report(name: str, project: Path, runs: int) -> None:
    from qualcode.store import open_store

    chars, reader, coding = measure(project, runs)
    with open_store(project) as store:
        turns = store.conn.execute(
            "SELECT COUNT(*) FROM segments WHERE transcript_id = (SELECT transcript_id FROM segments"
            " GROUP BY transcript_id ORDER BY SUM(LENGTH(text)) DESC LIMIT 1)"
        ).fetchone()[0]
        draft = store.conn.execute("SELECT COUNT(*) FROM codings").fetchone()[0]
    print(f"{name}: longest transcript {chars:,} characters, {turns} turns; {draft:,} codings in the store")
    print(f"  reader page     median {statistics.median(reader):6.1f} ms   slowest {max(reader):6.1f} ms"
          f"   (target < {TARGET_READER_MS:.0f} ms)")
    print(f"  code a passage  median {statistics.median(coding):6.1f} ms   slowest {max(coding):6.1f} ms"
          f"   (target < {TARGET_CODING_MS:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--interviews", type=int, default=20)
    parser.add_argument("--words", type=int, default=10_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sample = sample_project(folder)
        report("sample project (8 interviews)", sample, options.runs)
        started = time.perf_counter()
        generated = generated_project(folder, sample, options.interviews, options.words)
        print(f"(generated project built and auto-coded in {time.perf_counter() - started:.0f} s)")
        report(f"generated project ({options.interviews} interviews × ~{options.words:,} words)",
               generated, options.runs)


if __name__ == "__main__":
    main()
