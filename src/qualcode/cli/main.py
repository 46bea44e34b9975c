"""Entry point of the ``qualcode`` command: the app with every command module attached."""

from __future__ import annotations

import sys

if sys.argv[1:] == ["--version"]:
    # Answer without importing Typer: scripts call this to check the installation.
    from qualcode import __version__

    print(f"qualcode {__version__}")
    raise SystemExit(0)

# Each module attaches its commands to the app when imported; they import heavy libraries
# (spaCy, pandas, python-docx) only inside the commands, so --help stays fast.
from qualcode.cli import (  # noqa: F401
    agreement_cmds,
    coding_cmds,
    progress_cmds,
    project_cmds,
    recode_cmds,
    refi_cmds,
    report_cmds,
    workbench_cmds,
)
from qualcode.cli.app import app


def run() -> None:
    """Run the command line."""
    app()
