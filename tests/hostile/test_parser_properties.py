"""Runs parser_properties.py in a child process under a memory and CPU-time limit."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

#: Address space of the child: far above what any parser needs, far below a blow-up.
MEMORY_LIMIT_BYTES = 3 * 1024**3
#: CPU seconds of the child: every property together takes well under a minute.
CPU_LIMIT_SECONDS = 300


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_SECONDS, CPU_LIMIT_SECONDS))


def test_every_parser_property_holds_under_limits(tmp_path):
    here = Path(__file__).resolve().parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "--import-mode=importlib",
            "--rootdir",
            str(tmp_path),
            "--basetemp",
            str(tmp_path / "base"),
            str(here / "parser_properties.py"),
        ],
        capture_output=True,
        text=True,
        preexec_fn=_limit,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        timeout=CPU_LIMIT_SECONDS * 2,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
