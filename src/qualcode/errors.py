"""Errors that reach the user as one line, never as a traceback."""

from __future__ import annotations

from pathlib import Path


class QualcodeError(Exception):
    """An error caused by the user's input or environment, reported as one line.

    ``path`` and ``line`` name where the problem is, when there is such a place.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class InputError(QualcodeError):
    """A file the user gave us cannot be read or makes no sense."""


class ProjectError(QualcodeError):
    """The project folder or its store is missing or unusable."""
