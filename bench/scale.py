"""How ``ingest``, ``code`` and ``report all`` grow with the project: time and peak memory.

For each size (10, 100, 1,000 and 3,000 interviews of about 5,000 tokens each, generated as in
``bench/corpus.py``), a fresh project is made and the three commands run as whole processes, as a
user runs them: ``qualcode ingest FOLDER``, ``qualcode code``, ``qualcode report all``. Each line
gives the seconds and the peak resident memory of that command's process, so growth can be seen
to stay linear and memory flat. Targets (issue 17): ``code`` and ``report all`` at most 400 MB at
3,000 interviews. The commands use the user's lexicon (and term tokens) and a cache folder of the
run's own, so every project's word types are analysed afresh: by ``ingest``, which keeps each new
word type's analysis in the store, and matched against the codebook by ``code``.

    python bench/scale.py [--sizes 10,100,1000,3000] [--pairs 52] [--report-runs 3]

``--report-runs N`` runs ``report all`` N times on each project (its figure in the table is the
median; every run is printed after it), e.g. ``--sizes 3000 --report-runs 3`` for target 4.
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
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from corpus import build_corpus  # noqa: E402

MEMORY_TARGET_MB = 400
#: Runs a command and prints its peak resident memory (KiB on Linux) after its own output.
PEAK = (
    "import resource, subprocess, sys;"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode;"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak MB of one command run as a fresh process."""
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK, *command], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return time.perf_counter() - began, float(out[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,3000")
    parser.add_argument("--pairs", type=int, default=52,
                        help="question-answer pairs per interview (52: about 5,000 tokens)")
    parser.add_argument("--report-runs", type=int, default=1,
                        help="how many times report all runs on each project (median shown)")
    args = parser.parse_args()
    from qualcode.nlp import lexicon_path

    qualcode = str(Path(sys.executable).with_name("qualcode"))
    lexicon = lexicon_path()
    print(f"{'interviews':>10} {'tokens':>11}  {'ingest':>16}  {'code':>16}  {'report all':>16}")
    for size in (int(x) for x in args.sizes.split(",")):
        folder = build_corpus(interviews=size, pairs=args.pairs)
        tokens = sum(len(p.read_text(encoding="utf-8").split()) for p in folder.glob("*.txt"))
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "cache" / "qualcode"
            cache.mkdir(parents=True)
            # The machine's one-time files: the lexicon and the codebook's punctuated terms.
            for source in [*lexicon.parent.glob(f"{lexicon.stem}*"),
                           *lexicon.parent.glob("terms-nb-*.json")]:
                if not source.name.endswith(".tmp"):
                    (cache / source.name).symlink_to(source)
            env = {**os.environ, "XDG_CACHE_HOME": str(cache.parent)}
            project = str(Path(tmp) / "p")
            subprocess.run([qualcode, "init", project], env=env, check=True, capture_output=True)
            figures = [
                measure([qualcode, "-p", project, "ingest", str(folder)], env),
                measure([qualcode, "-p", project, "code"], env),
            ]
            reports = [
                measure([qualcode, "-p", project, "report", "all", "--out",
                         str(Path(tmp) / f"out{run}")], env)
                for run in range(max(1, args.report_runs))
            ]
        figures.append((statistics.median(s for s, _ in reports),
                        statistics.median(mb for _, mb in reports)))
        cells = "  ".join(f"{s:>7.1f} s {mb:>4.0f} MB" for s, mb in figures)
        print(f"{size:>10,} {tokens:>11,}  {cells}", flush=True)
        if len(reports) > 1:
            print(f"{'':>10} report all runs: "
                  + ", ".join(f"{s:.1f} s {mb:.0f} MB" for s, mb in reports), flush=True)
        if size >= 3000:
            for name, (_, mb) in zip(("code", "report all"), figures[1:], strict=True):
                verdict = "meets" if mb <= MEMORY_TARGET_MB else "MISSES"
                print(f"{name} at {size:,} interviews: {mb:.0f} MB, target ≤ "
                      f"{MEMORY_TARGET_MB} MB: {verdict}")


if __name__ == "__main__":
    main()
