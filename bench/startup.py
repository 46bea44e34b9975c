"""How fast ``qualcode --help`` and ``qualcode --version`` answer (target: under 0.3 s).

Heavy libraries (spaCy, pandas, python-docx, matplotlib) must be imported only inside the
commands that need them; this prints the wall time of fresh processes and the heavy libraries
``--help`` imports. Python is allowed to cache bytecode (``PYTHONDONTWRITEBYTECODE`` is removed
from the environment, and a first run warms the cache), as on a user's machine where pip compiles
the package at install time; without the cache every run would recompile qualcode's modules.

Run: ``python bench/startup.py [--runs N]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 0.3
HEAVY = ("spacy", "pandas", "docx", "openpyxl", "matplotlib", "numpy", "rapidfuzz", "simplemma")


def command() -> list[str]:
    """The installed console script, or the module if it is not on PATH."""
    script = shutil.which("qualcode", path=os.path.dirname(sys.executable)) or shutil.which(
        "qualcode"
    )
    return [script] if script else [sys.executable, "-m", "qualcode"]


def user_environment() -> dict[str, str]:
    """The environment with bytecode caching allowed, as a user's shell has it."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def time_runs(args: list[str], runs: int) -> list[float]:
    """Wall-clock seconds of ``runs`` fresh processes."""
    times = []
    env = user_environment()
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*command(), *args], check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return times


def heavy_imports() -> list[str]:
    """Heavy packages that ``qualcode --help`` imports (should be none)."""
    code = (
        "import sys; sys.argv=['qualcode','--help']\n"
        "from qualcode.cli.main import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    marked = [line for line in out.stdout.splitlines() if line.startswith("HEAVY:")]
    return [m for m in marked[-1].removeprefix("HEAVY:").split(",") if m] if marked else []


def main() -> None:
    """Print startup figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    time_runs(["--help"], 2)  # warm the file and bytecode caches
    print(f"command: {' '.join(command())}  ({args.runs} runs each)")
    worst = 0.0
    for flags in (["--help"], ["--version"]):
        times = time_runs(flags, args.runs)
        median = statistics.median(times)
        worst = max(worst, median)
        print(
            f"qualcode {flags[0]:<10} median {median:.3f} s  min {min(times):.3f} s  max {max(times):.3f} s"
        )
    heavy = heavy_imports()
    print(f"heavy libraries imported by --help: {', '.join(heavy) if heavy else 'none'}")
    verdict = "meets" if worst < TARGET_SECONDS else "MISSES"
    print(f"target < {TARGET_SECONDS:.1f} s: {verdict} (worst median {worst:.3f} s)")


if __name__ == "__main__":
    main()
