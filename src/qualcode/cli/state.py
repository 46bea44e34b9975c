"""Per-invocation CLI state (the chosen project) and the consoles; kept light for fast startup."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from qualcode.store import Store

_project: Path | None = None
_arguments: list[str] = []


def set_project(project: Path | None) -> None:
    """Remember ``--project`` for the command about to run."""
    global _project
    _project = project


def set_arguments(arguments: list[str]) -> None:
    """Remember the command and its arguments as typed (for hints that repeat the command)."""
    global _arguments
    _arguments = list(arguments)


def arguments() -> list[str]:
    """The command and its arguments as typed, after the global options."""
    return list(_arguments)


def project_option() -> Path | None:
    """The ``--project`` given, if any."""
    return _project


@cache
def console() -> Console:
    """The console for results (stdout)."""
    from rich.console import Console

    return Console(highlight=False)


@cache
def err_console() -> Console:
    """The console for errors, warnings and progress (stderr)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def open_project() -> Store:
    """Open the project named by ``--project``, or the nearest one from the current folder up."""
    from qualcode.store import SCHEMA_VERSION, find_project, open_store

    store = open_store(find_project(_project))
    if store.upgraded_from is not None:
        version, copy = store.upgraded_from
        kept = f"; the old store is kept as {copy}" if copy is not None else ""
        err_console().print(
            f"Upgraded the project store from format {version} to {SCHEMA_VERSION}{kept}",
            highlight=False, soft_wrap=True, markup=False,
        )
    return store


def interactive() -> bool:
    """True when a person can answer a question: both stdin and stdout are terminals."""
    import sys

    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
