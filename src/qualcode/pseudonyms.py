"""Pseudonymisation of everything a report exports: ``pseudonyms.csv`` in the project folder.

The file has two columns, ``original,replacement`` (e.g. ``Fjordal Aluminium,[bedriften]``).
Replacement rules, chosen so that a name never slips through in a thesis appendix:

- whole words only, without regard to case or accents, with the Norwegian letters folded
  (``ø`` ~ ``o``/``oe``, ``å`` ~ ``a``/``aa``, ``æ`` ~ ``ae``): ``Bølgen`` also replaces
  ``bolgen`` and ``BOELGEN``, ``Aasen`` also ``Åsen``; ``Ola`` replaces ``ola`` but not ``Olav``;
  Norwegian letters (æ, ø, å) and digits are word characters, so ``Ås`` does not match inside ``Åsen``;
- the longest original wins where two overlap (``Fjordal Aluminium`` before ``Fjordal``);
- white space inside an original matches any run of white space (a name broken over a line);
- a genitive ``s`` (``Fjordal Aluminiums``) or ``'s``/``'`` is kept after the replacement
  (``[bedriften]s``), so the sentence still reads, and the name itself is gone;
- a hyphenated compound keeps its other part: ``Fjordal-ansatte`` becomes ``[bedriften]-ansatte``.

:func:`check` reads exported files back (docx, xlsx, csv, md, txt) and lists every original that is
still there: the last check before a file leaves the student's machine.
"""

from __future__ import annotations

import bisect
import functools
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from qualcode.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from qualcode.store import Store

PSEUDONYMS_FILE = "pseudonyms.csv"
CHECKABLE_SUFFIXES = (".docx", ".xlsx", ".csv", ".md", ".txt")

# The genitive endings kept after a replacement: Norwegian "s", and "'s"/"'" after a final s.
_GENITIVE = r"(?P<gen>s|['’]s?)?"
_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass(frozen=True)
class Pseudonym:
    """One row of the pseudonym list."""

    original: str
    replacement: str
    line: int = 0


@dataclass(frozen=True)
class Finding:
    """An original name found in an exported file."""

    file: str
    location: str  # e.g. "line 12", "paragraph 40", "Sitater!C17"
    original: str
    context: str


class Pseudonyms:
    """A compiled pseudonym list: apply it to text, tables and chart labels."""

    def __init__(self, entries: Sequence[Pseudonym] = ()):
        self.entries = sorted(entries, key=lambda e: (-len(e.original), e.original.casefold()))
        # Longest first: the regex alternation takes the first alternative that matches.
        self._ordered = sorted(self.entries, key=lambda e: -len(e.original))
        self._pattern = _compile([e.original for e in self._ordered]) if self.entries else None

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where originals occur in ``text`` (character spans, genitive ending included)."""
        if self._pattern is None or not text:
            return []
        return [m.span() for m in self._pattern.finditer(text)]

    def _entry(self, match: re.Match[str]) -> Pseudonym:
        """The list entry a match stands for (the text may be spelled otherwise: ``bolgen``)."""
        for i, entry in enumerate(self._ordered):
            if match.group(f"n{i}") is not None:
                return entry
        raise AssertionError("a match of the pseudonym pattern names no entry")

    def find(self, text: str) -> list[tuple[str, int, int]]:
        """Originals found in ``text`` as (original as listed, start, end)."""
        if self._pattern is None or not text:
            return []
        return [(self._entry(m).original, m.start(), m.end()) for m in self._pattern.finditer(text)]

    def apply(self, text: Any) -> Any:
        """``text`` with every original replaced; anything that is not a string is returned as is."""
        if self._pattern is None or not isinstance(text, str) or not text:
            return text

        def replace(match: re.Match[str]) -> str:
            return self._entry(match).replacement + (match.group("gen") or "")

        return self._pattern.sub(replace, text)

    def replacements(self, text: str) -> list[tuple[int, int, str]]:
        """Every original in ``text`` as (start, end, replacement), genitive ending kept."""
        if self._pattern is None or not text:
            return []
        return [
            (
                m.start(),
                m.end(),
                self._entry(m).replacement + (m.group("gen") or ""),
            )
            for m in self._pattern.finditer(text)
        ]

    def apply_with_offsets(self, text: str) -> tuple[str, Callable[[int], int]]:
        """``text`` with every original replaced, and a map from old to new character offsets.

        The map sends an offset before, after or at the edge of a replaced name to the same
        place in the new text, so spans that hold whole names keep holding exactly them.
        """
        return replace_spans(text, self.replacements(text))

    def apply_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with every string cell, column name and index label replaced."""
        if self._pattern is None:
            return frame
        from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

        out = frame.copy()
        for column in out.columns:
            dtype = out[column].dtype
            # Text may sit in object, "string" or categorical columns: map all but numbers and dates.
            if not (
                is_numeric_dtype(dtype) or is_bool_dtype(dtype) or is_datetime64_any_dtype(dtype)
            ):
                out[column] = out[column].map(self.apply)
        if out.columns.dtype == object:
            out.columns = out.columns.map(lambda c: self.apply(c) if isinstance(c, str) else c)
        if out.index.dtype == object:  # a RangeIndex stays one
            out.index = out.index.map(lambda c: self.apply(c) if isinstance(c, str) else c)
        if out.index.name:
            out.index.name = self.apply(out.index.name)
        return out


def replace_spans(
    text: str, edits: Sequence[tuple[int, int, str]]
) -> tuple[str, Callable[[int], int]]:
    """``text`` with each span (start, end, replacement) replaced, and a map from old to new
    character offsets.

    The spans must be sorted and must not overlap. The map sends an offset before, after or at
    the edge of a replaced span to the same place in the new text; an offset inside one (none
    of its characters survive) goes to the end of its replacement.
    """
    if not edits:
        return text, lambda offset: offset
    pieces: list[str] = []
    moved: list[tuple[int, int, int]] = []  # (old end, new end, old start) per replacement
    last = shift = 0
    for start, end, replacement in edits:
        pieces += [text[last:start], replacement]
        shift += len(replacement) - (end - start)
        moved.append((end, end + shift, start))
        last = end
    pieces.append(text[last:])
    ends = [old_end for old_end, _, _ in moved]

    def new_offset(offset: int) -> int:
        i = bisect.bisect_right(ends, offset)
        if i < len(moved) and moved[i][2] < offset:
            return moved[i][1]
        return offset + (moved[i - 1][1] - moved[i - 1][0] if i else 0)

    return "".join(pieces), new_offset


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


#: Letters that may stand for one another in a name: a letter matches any accented form of it,
#: and each Norwegian letter also its two-letter spelling (``ø`` ~ ``o``/``oe``, ``å`` ~
#: ``a``/``aa``, ``æ`` ~ ``ae``), as file names and e-mail addresses write them.
_DIGRAPHS = {"oe": "ø", "aa": "å", "ae": "æ"}
_SPECIAL_BASE = {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "þ": "th"}


def fold(text: str) -> str:
    """``text`` in lower case without accents, Norwegian letters as their base letters
    (``Bølgen`` -> ``bolgen``, ``Ærø`` -> ``aero``)."""
    import unicodedata

    out = []
    for char in text.casefold():
        if char in _SPECIAL_BASE:
            out.append(_SPECIAL_BASE[char])
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(out)


@functools.cache
def _variants() -> dict[str, list[str]]:
    """Base letter -> every lower-case letter of Latin-1 and Latin Extended-A that folds to it."""
    groups: dict[str, list[str]] = {}
    for code in [*range(0x61, 0x7B), *range(0xDF, 0x100), *range(0x100, 0x180)]:
        char = chr(code)
        if char != char.lower():
            continue
        groups.setdefault(fold(char), []).append(char)
    return groups


def _letter_pattern(char: str) -> str:
    """A regex for one letter of an original: its base letter in any accented form, and the
    two-letter spelling of a Norwegian letter."""
    base = fold(char)
    if not base.isalpha():
        return re.escape(char)
    same = [c for c in _variants().get(base, []) if c != base]
    if len(base) == 1:
        options = ["[" + "".join(sorted({base, *same})) + "]"]
    else:  # æ, œ, ß: the letter itself or its spelling in two letters
        options = [*sorted({char.casefold(), *same}), base]
    for digraph, letter in _DIGRAPHS.items():
        if char.casefold() == letter:
            options.append(digraph)
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


def _word_pattern(word: str) -> str:
    """A regex for one word of an original, folded as :func:`_letter_pattern` says; a digraph
    written in the list (``Aasen``) also matches its letter (``Åsen``)."""
    parts, i = [], 0
    lowered = word.casefold()
    while i < len(word):
        pair = lowered[i : i + 2]
        if pair in _DIGRAPHS:
            letter = _DIGRAPHS[pair]
            both = _letter_pattern(word[i]) + _letter_pattern(word[i + 1])
            parts.append(f"(?:{letter}|{both})")
            i += 2
            continue
        parts.append(_letter_pattern(word[i]))
        i += 1
    return "".join(parts)


def _compile(originals: Sequence[str]) -> re.Pattern[str]:
    """One pattern for the whole list, longest original first; group ``n<i>`` is original i."""
    alternatives = [
        f"(?P<n{i}>" + r"\s+".join(_word_pattern(word) for word in original.split()) + ")"
        for i, original in enumerate(originals)
    ]
    # A name stands between non-letters: [^\W_] is Unicode-aware (æøå are letters), and the
    # underscore is a separator too, as in the file name "R2_fjordal.vtt".
    return re.compile(
        r"(?<![^\W_])(?P<name>" + "|".join(alternatives) + r")" + _GENITIVE + r"(?![^\W_])",
        re.IGNORECASE,
    )


def load(path: Path) -> Pseudonyms:
    """Read and check a pseudonym list (``original,replacement``); a missing file is an error."""
    from qualcode.csvio import read_csv

    if not path.is_file():
        raise InputError("no such file", path=path)
    table = read_csv(path, required=["original", "replacement"])
    entries: list[Pseudonym] = []
    seen: dict[str, Pseudonym] = {}
    for row in table.rows:
        original = " ".join(row.values["original"].split())
        replacement = row.values["replacement"].strip()
        if not original:
            raise InputError("empty 'original'", path=path, line=row.line)
        if not replacement:
            raise InputError(
                f"no replacement for '{original}' (use a placeholder such as [navn] or [bedriften])",
                path=path,
                line=row.line,
            )
        if not re.search(r"\w", original):
            raise InputError(f"'{original}' holds no letters or digits", path=path, line=row.line)
        earlier = seen.get(_key(original))
        if earlier is not None:
            if earlier.replacement != replacement:
                raise InputError(
                    f"'{original}' is listed twice with different replacements "
                    f"(line {earlier.line}: '{earlier.replacement}')",
                    path=path,
                    line=row.line,
                )
            continue
        entry = Pseudonym(original, replacement, row.line)
        seen[_key(original)] = entry
        entries.append(entry)
    result = Pseudonyms(entries)
    # A replacement that contains an original would never pass `pseudonyms check`.
    for entry in entries:
        found = result.find(entry.replacement)
        if found:
            raise InputError(
                f"the replacement '{entry.replacement}' contains the original '{found[0][0]}'",
                path=path,
                line=entry.line,
            )
    return result


def pseudonyms_to_adopt(folders: Iterable[Path], project: Path) -> Path | None:
    """The ``pseudonyms.csv`` among the transcripts that a project without one should take.

    The first of ``folders`` holding one; None if the project has its own (the student may have
    extended it there: it wins) or no folder has one. The file is checked (:func:`load`) here, so
    a bad list is refused before anything is stored.
    """
    if (project / PSEUDONYMS_FILE).exists():
        return None
    for folder in folders:
        source = folder / PSEUDONYMS_FILE
        if folder.is_dir() and source.is_file():
            load(source)
            return source
    return None


def adopt(source: Path, project: Path) -> Path:
    """Copy ``source`` (see :func:`pseudonyms_to_adopt`) into the project; returns the copy."""
    import shutil

    target = project / PSEUDONYMS_FILE
    shutil.copyfile(source, target)
    return target


def project_pseudonyms(store: Store) -> Pseudonyms:
    """The project's ``pseudonyms.csv``, or an empty list when the project has none."""
    path = Path(store.folder) / PSEUDONYMS_FILE
    return load(path) if path.is_file() else Pseudonyms()


def transcript_aliases(store: Store) -> dict[str, str]:
    """Each transcript's file name -> the name a shared file shows: the respondent's label with
    the file's suffix (``R2.vtt``), numbered when a respondent has several (``R2-2.vtt``).

    File names often carry a firm's name (``R2_fjordal.vtt``), spelled in ways a pseudonym list
    misses (``bolgen`` for Bølgen), so no file that leaves the machine shows them.
    """
    aliases: dict[str, str] = {}
    taken: set[str] = set()
    for name, label in store.conn.execute(
        "SELECT t.name, r.label FROM transcripts t"
        " JOIN respondents r ON r.id = t.respondent_id ORDER BY t.id"
    ):
        suffix = Path(name).suffix
        shown, n = f"{label}{suffix}", 1
        while shown in taken:
            n += 1
            shown = f"{label}-{n}{suffix}"
        taken.add(shown)
        aliases[name] = shown
    return aliases


# -- checking exported files -------------------------------------------------------------------
def check(files: Iterable[Path], pseudonyms: Pseudonyms) -> list[Finding]:
    """Every original name still present in the given exported files, in file order."""
    findings: list[Finding] = []
    for path in files:
        path = Path(path)
        if not path.is_file():
            raise InputError("no such file", path=path)
        suffix = path.suffix.casefold()
        if suffix not in CHECKABLE_SUFFIXES:
            raise InputError(
                f"cannot check '{suffix or path.name}' files (use {', '.join(CHECKABLE_SUFFIXES)})",
                path=path,
            )
        reader = {".docx": _docx_texts, ".xlsx": _xlsx_texts}.get(suffix, _plain_texts)
        for location, text in reader(path):
            for original, start, end in pseudonyms.find(text):
                context = " ".join(text[max(0, start - 30) : end + 30].split())
                findings.append(Finding(str(path), location, original, context))
    return findings


def _plain_texts(path: Path) -> Iterable[tuple[str, str]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        yield f"line {number}", line


def _docx_texts(path: Path) -> Iterable[tuple[str, str]]:
    """Paragraph texts of the body, headers, footers, notes, comments and document properties.

    Word splits a paragraph into runs at arbitrary places, so the runs are joined before searching.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a Word file: {exc}", path=path) from None
    with archive:
        names = [
            n
            for n in archive.namelist()
            if (n.startswith("word/") and n.endswith(".xml") and "/_rels/" not in n)
            or (n.startswith("docProps/") and n.endswith(".xml"))
        ]
        for name in sorted(names):
            try:
                root = ElementTree.fromstring(archive.read(name))
            except ElementTree.ParseError as exc:
                raise InputError(f"damaged part {name}: {exc}", path=path) from None
            part = name.rsplit("/", 1)[-1].removesuffix(".xml")
            if name.startswith("docProps/"):
                for element in root.iter():
                    if element.text and element.text.strip():
                        yield f"{part} properties", element.text
                continue
            for number, paragraph in enumerate(root.iter(f"{_W_NS}p"), start=1):
                text = "".join(t.text or "" for t in paragraph.iter(f"{_W_NS}t"))
                if text:
                    yield f"{part} paragraph {number}", text


def _xlsx_texts(path: Path) -> Iterable[tuple[str, str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"not an Excel file: {exc}", path=path) from None
    try:
        for sheet in workbook.worksheets:
            yield f"sheet name {sheet.title}", sheet.title
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value:
                        yield f"{sheet.title}!{cell.coordinate}", cell.value
    finally:
        workbook.close()
