"""Codebook patterns that can never hang a run: checked when a codebook is read, timed when matched.

Patterns are compiled with the ``regex`` package rather than ``re`` because only ``regex`` can
stop a match after a time limit: a pattern such as ``^(\\w+\\s?)*$`` backtracks exponentially on
an ordinary sentence, and the standard library would run it for hours. Two defences:

- :func:`pattern_problem` (used by ``codebook validate`` and every codebook load) refuses
  patterns it can show to backtrack catastrophically (an unbounded repeat inside another
  unbounded repeat, or over alternatives that can match the same text) and patterns that match
  the empty string (they would "match" in every turn);
- :class:`TimedPattern` runs every match under :data:`~qualcode.limits.PATTERN_TIMEOUT_SECONDS`;
  a pattern that runs out of time on a turn finds nothing there and is reported, and after a few
  such turns it is switched off for the rest of the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import regex

from qualcode.limits import MAX_PATTERN_LENGTH, PATTERN_TIMEOUT_SECONDS

#: Turns a pattern may run out of time on before it is switched off for the rest of the run.
MAX_TIMEOUTS_PER_PATTERN = 3

_FLAGS = regex.IGNORECASE | regex.VERSION0


def compile_pattern(pattern: str) -> Any:
    """``pattern`` compiled case-insensitively (``regex.error`` if it is not valid)."""
    return regex.compile(pattern, _FLAGS)


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used in a codebook, or None if it can."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"longer than {MAX_PATTERN_LENGTH} characters"
    try:
        compiled = compile_pattern(pattern)
    except regex.error as exc:
        return f"not a valid regular expression: {exc}"
    except (RecursionError, OverflowError, MemoryError):
        return "too deeply nested"
    structure = _structure_problem(pattern)
    if structure:
        return structure
    try:
        empty = compiled.fullmatch("", timeout=PATTERN_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        empty = False
    if empty:
        return "it matches an empty string, so it would match in every turn; make it need a word"
    return None


def _structure_problem(pattern: str) -> str | None:
    """Catastrophic backtracking found in the parsed pattern, or None."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - Python 3.11 still has the old name
        import sre_parse  # type: ignore[no-redef]
    try:
        parsed = sre_parse.parse(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError):
        return None  # syntax only ``regex`` knows: the time limit still guards it
    return _walk(parsed, sre_parse)


def _walk(parsed: Any, sre: Any) -> str | None:
    # An explicit stack: a pattern nested thousands deep must not exhaust Python's recursion.
    stack: list[tuple[Any, bool]] = [(parsed, False)]
    max_repeat = sre.MAXREPEAT
    repeats = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)}
    while stack:
        items, inside_unbounded = stack.pop()
        for op, value in items:
            if op in repeats and op is not None:
                _low, high, body = value
                unbounded = high == max_repeat or high > 1000
                possessive = op == getattr(sre, "POSSESSIVE_REPEAT", object())
                if unbounded and not possessive:
                    if inside_unbounded:
                        return (
                            "a repeated part inside another repeated part (like '(\\w+\\s?)*') "
                            "can take forever on an ordinary sentence; repeat only one level"
                        )
                    if _ambiguous_alternatives(body, sre):
                        return (
                            "a repeated choice whose alternatives can match the same text "
                            "(like '(a|aa)*') can take forever; make the alternatives distinct"
                        )
                stack.append((body, inside_unbounded or (unbounded and not possessive)))
            elif op == sre.SUBPATTERN:
                stack.append((value[-1], inside_unbounded))
            elif op == sre.BRANCH:
                for branch in value[1]:
                    stack.append((branch, inside_unbounded))
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                stack.append((value[1], inside_unbounded))
            elif op == getattr(sre, "ATOMIC_GROUP", None):
                stack.append((value, False))
    return None


def _ambiguous_alternatives(body: Any, sre: Any) -> bool:
    """True if ``body`` holds a choice whose alternatives may match the same text.

    The parser factors a common start out of a choice (``a|aa`` becomes ``a(?:|a)``), so an
    empty alternative is as ambiguous as two that start alike.
    """
    stack = [list(body)]
    while stack:
        for op, value in stack.pop():
            if op == sre.SUBPATTERN:
                stack.append(list(value[-1]))
            elif op == sre.BRANCH:
                branches = [list(b) for b in value[1]]
                if any(not b for b in branches):
                    return True
                firsts = [_first_literals(b, sre) for b in branches]
                for i, a in enumerate(firsts):
                    for b in firsts[i + 1 :]:
                        if a is None or b is None or a & b:
                            return True
                stack.extend(branches)
    return False


def _first_literals(branch: Any, sre: Any) -> set[int] | None:
    """The code points a branch can start with, or None when it is not a plain literal start."""
    items = list(branch)
    if not items:
        return None
    op, value = items[0]
    if op == sre.LITERAL:
        ch = chr(value)
        return {ord(ch.lower()), ord(ch.upper())}
    if op == sre.IN:
        result: set[int] = set()
        for inner_op, inner in value:
            if inner_op == sre.LITERAL:
                result |= {ord(chr(inner).lower()), ord(chr(inner).upper())}
            elif inner_op == sre.RANGE and inner[1] - inner[0] < 512:
                result |= set(range(inner[0], inner[1] + 1))
            else:
                return None
        return result
    return None


@dataclass
class TimedPattern:
    """A compiled codebook pattern whose every match runs under a time limit."""

    source: str
    compiled: Any
    timeout: float = PATTERN_TIMEOUT_SECONDS
    timeouts: int = 0
    disabled: bool = False
    slow_texts: list[str] = field(default_factory=list)

    @classmethod
    def compile(cls, source: str, timeout: float = PATTERN_TIMEOUT_SECONDS) -> TimedPattern:
        """Compile ``source`` (case-insensitive)."""
        return cls(source, compile_pattern(source), timeout)

    def finditer(self, text: str) -> Iterator[Any]:
        """The pattern's matches in ``text``; none when the pattern runs out of time on it."""
        if self.disabled:
            return iter(())
        try:
            # Collected first: a timeout halfway must not leave half the matches used.
            found = list(self.compiled.finditer(text, timeout=self.timeout))
        except TimeoutError:
            self.timeouts += 1
            self.slow_texts.append(text[:60])
            if self.timeouts >= MAX_TIMEOUTS_PER_PATTERN:
                self.disabled = True
            return iter(())
        return iter(found)

    def warning(self) -> str | None:
        """A line for the user when the pattern ran out of time, else None."""
        if not self.timeouts:
            return None
        tail = " and was switched off for the rest of the run" if self.disabled else ""
        return (
            f"pattern '{self.source}' took longer than {self.timeout:g} s on "
            f"{self.timeouts} turn{'s' if self.timeouts != 1 else ''} (first: "
            f"'{self.slow_texts[0]}…'){tail}; it found nothing there. Simplify it "
            "(run 'qualcode codebook validate')"
        )
