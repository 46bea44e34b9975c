"""Start-up cost of the look-up commands: ``search`` and ``explain`` against ``qualcode --help``.

Target (issue 17): on the sample project each takes at most 3× ``qualcode --help``, measured as
whole processes, interleaved (help, search, explain, help, …), median of 5 runs each. The project
is built from ``sample_transcripts/`` (ingested and auto-coded once, not timed), and the commands
run with the user's cache folder, as a student's second command of the day would: with Python's
bytecode cache written by the warm-up runs, as an installed qualcode has it, even where the
calling shell sets ``PYTHONDONTWRITEBYTECODE``.

    python bench/lookups.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    qualcode = str(Path(sys.executable).with_name("qualcode"))
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "p"
        subprocess.run([qualcode, "analyze", str(REPO / "sample_transcripts"), "--out",
                        str(project)], check=True, capture_output=True)
        segment = subprocess.run(
            [sys.executable, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
             "\"SELECT segment_id FROM codings LIMIT 1\").fetchone()[0])",
             str(project / "qualcode.db")], check=True, capture_output=True, text=True,
        ).stdout.strip()
        commands = {
            "--help": [qualcode, "--help"],
            "search": [qualcode, "-p", str(project), "search", "--lemma", "tillit"],
            "explain": [qualcode, "-p", str(project), "explain", segment],
        }
        for command in commands.values():  # warm the file cache, lexicon memo and bytecode
            subprocess.run(command, check=True, capture_output=True, env=env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                began = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, env=env)
                times[name].append(time.perf_counter() - began)
    help_median = statistics.median(times["--help"])
    for name, values in times.items():
        median = statistics.median(values)
        line = f"{name:<8} median {median:.3f} s  runs " + " ".join(f"{v:.3f}" for v in values)
        if name != "--help":
            ratio = median / help_median
            line += f"   {ratio:.1f}× --help  target ≤ {TARGET:.0f}×: "
            line += "meets" if ratio <= TARGET else "MISSES"
        print(line)


if __name__ == "__main__":
    main()
