"""``report all`` against an earlier release: time and peak memory, interleaved, median of three.

Issue 17, target 5: ``qualcode report all`` at 1,000 interviews takes half the time of the
release before that round (commit 7129925) or less. Both sides get the same generated corpus
(``bench/corpus.py``), ingested and auto-coded by their own ``qualcode``; then the two
``report all`` runs alternate, so the machine's load falls on both alike. Each run is a whole
process; the ratio is new / old of the medians.

Make the old side once (its own folder and venv)::

    git -C /work/main archive 7129925 | tar -x -C /tmp/qualcode-old
    python3 -m venv /tmp/qualcode-old/.venv && /tmp/qualcode-old/.venv/bin/pip install -e /tmp/qualcode-old

    python bench/report_vs_release.py --old /tmp/qualcode-old [--interviews 1000] [--runs 3]
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
sys.path.insert(0, str(REPO / "bench"))

from corpus import build_corpus  # noqa: E402
from scale import measure  # noqa: E402


def prepare(qualcode: str, codebook: Path, project: Path, folder: Path) -> None:
    """A project with the corpus ingested and auto-coded by ``qualcode``."""
    for command in (
        ["init", str(project)],
        ["-p", str(project), "ingest", str(folder)],
        ["-p", str(project), "code", "--codebook", str(codebook)],
    ):
        subprocess.run([qualcode, *command], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True,
                        help="a checkout of the old release with its own .venv")
    parser.add_argument("--interviews", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=52)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sides = {
        "old": (str(args.old / ".venv" / "bin" / "qualcode"), args.old / "codebooks" / "klynge.yaml"),
        "new": (str(Path(sys.executable).with_name("qualcode")), REPO / "codebooks" / "klynge.yaml"),
    }
    folder = build_corpus(interviews=args.interviews, pairs=args.pairs)
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        for name, (qualcode, codebook) in sides.items():
            prepare(qualcode, codebook, Path(tmp) / name, folder)
        print(f"{args.interviews:,} interviews ingested and coded by both sides"
              f" in {time.perf_counter() - began:.0f} s", flush=True)
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        for run in range(1, args.runs + 1):
            for name, (qualcode, _) in sides.items():
                out = Path(tmp) / f"out-{name}-{run}"
                figures[name].append(
                    measure([qualcode, "-p", str(Path(tmp) / name), "report", "all",
                             "--out", str(out)], dict(os.environ))
                )
            cells = "  ".join(f"{n} {figures[n][-1][0]:5.1f} s {figures[n][-1][1]:4.0f} MB"
                              for n in sides)
            print(f"run {run}: {cells}", flush=True)
    median = {n: statistics.median(s for s, _ in figures[n]) for n in sides}
    ratios = [new[0] / old[0] for old, new in zip(figures["old"], figures["new"], strict=True)]
    print(f"median: old {median['old']:.1f} s, new {median['new']:.1f} s;"
          f" new/old {median['new'] / median['old']:.2f}"
          f" (per run: {', '.join(f'{r:.2f}' for r in ratios)}; target <= 0.50)")


if __name__ == "__main__":
    main()
