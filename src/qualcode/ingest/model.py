"""What a reader returns: the normalised text of one transcript and its speaker turns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class Turn(NamedTuple):
    """One speaker turn: ``text[char_start:char_end]`` of its transcript is what was said.

    A named tuple rather than a dataclass: a long transcript has hundreds of turns and ingest
    creates them by the tens of thousands.
    """

    speaker: str
    char_start: int
    char_end: int
    start_time: float | None = None
    end_time: float | None = None


@dataclass
class ParsedTranscript:
    """A transcript read from a file, before it is stored."""

    path: Path
    format: str
    text: str
    turns: list[Turn]
    sha256: str
    warnings: list[str] = field(default_factory=list)

    def turn_text(self, turn: Turn) -> str:
        """The words of one turn."""
        return self.text[turn.char_start : turn.char_end]

    @property
    def name(self) -> str:
        """The transcript's name in the project: its file name."""
        return self.path.name
