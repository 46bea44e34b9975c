"""The one-time build of the Norwegian lexicon cache: time and peak memory of a cold build.

Target (issue 17): at most 8 s and at most 400 MB, in a fresh process (the build's own figures:
the child's wall time and its peak resident memory). Builds into a temporary folder, so your own
cache is untouched; ``--runs`` fresh builds, each printed, then their medians.

    python bench/lexicon.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = (
    "import resource, sys, time; from pathlib import Path; t = time.perf_counter();"
    "from qualcode.nlp import build_lexicon; build_lexicon(Path(sys.argv[1]));"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    seconds, peaks = [], []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD, str(Path(tmp) / "lexicon.sqlite")],
                                 check=True, capture_output=True, text=True).stdout.split()
            wall = time.perf_counter() - began
        seconds.append(wall)
        peaks.append(float(out[1]))
        print(f"run {run}: {wall:.2f} s whole process ({float(out[0]):.2f} s building), "
              f"peak {float(out[1]):.0f} MiB")
    time_ok, memory_ok = statistics.median(seconds) <= 8, statistics.median(peaks) <= 400
    print(f"median {statistics.median(seconds):.2f} s (target ≤ 8 s: "
          f"{'meets' if time_ok else 'MISSES'}), peak {statistics.median(peaks):.0f} MiB "
          f"(target ≤ 400 MB: {'meets' if memory_ok else 'MISSES'})")


if __name__ == "__main__":
    main()
