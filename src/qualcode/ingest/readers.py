"""Readers for each transcript format; each returns a :class:`ParsedTranscript`."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest.model import ParsedTranscript, Turn
from qualcode.ingest.turns import paragraph_turns, parse_labelled_text, parse_time
from qualcode.limits import check_zip_archive
from qualcode.textfile import (
    DecodedText,
    decode_bytes,
    looks_binary,
    normalise,
    read_bytes,
    replace_control_characters,
)

SUFFIX_FORMATS = {".txt": "txt", ".md": "md", ".docx": "docx", ".vtt": "vtt", ".srt": "srt"}

NO_LABELS_HELP = (
    "no speaker labels found; start each turn on a new line with a label and a colon "
    "('I: …', 'R7: …'), or pass --respondent R7 to read the whole text as that respondent's speech; "
    "keep notes that are not transcripts in a README file, a subfolder or outside the folder"
)


def format_of(path: Path) -> str | None:
    """The transcript format for a file name, or None if qualcode does not read it."""
    return SUFFIX_FORMATS.get(path.suffix.lower())


def read_transcript(
    path: Path, interviewer_labels: Iterable[str], whole_text_speaker: str | None = None
) -> ParsedTranscript:
    """Read one transcript file of any supported format.

    ``whole_text_speaker``: when the file has no speaker labels at all, read each paragraph as a
    turn by this speaker instead of failing.
    """
    fmt = format_of(path)
    if fmt is None:
        raise InputError(
            f"unknown file type '{path.suffix}'; qualcode reads "
            + ", ".join(sorted(SUFFIX_FORMATS)),
            path=path,
        )
    reader = _READERS[fmt]
    return reader(path, list(interviewer_labels), whole_text_speaker)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_text(path: Path) -> tuple[bytes, DecodedText]:
    data = read_bytes(path)
    decoded = decode_bytes(data, path)
    decoded.text, replaced = replace_control_characters(normalise(decoded.text), path)
    decoded.warnings.extend(replaced)
    if not decoded.text.strip():
        raise InputError("empty file", path=path)
    return data, decoded


def _labelled(
    path: Path,
    fmt: str,
    text: str,
    sha: str,
    interviewer_labels: list[str],
    whole_text_speaker: str | None,
    warnings: list[str],
    strong_labels: Iterable[str] = (),
) -> ParsedTranscript:
    turns, preamble = parse_labelled_text(text, interviewer_labels, strong_labels)
    if not turns:
        if whole_text_speaker is None:
            raise InputError(NO_LABELS_HELP, path=path)
        turns = paragraph_turns(text, whole_text_speaker)
        preamble = 0
    if preamble:
        warnings.append(
            f"{path}: {preamble} characters before the first speaker label are kept in the "
            "transcript but belong to no turn"
        )
    return ParsedTranscript(path, fmt, text, turns, sha, warnings)


# -- plain text and Markdown -----------------------------------------------------------------
def kind_hint(path: Path, suffix: str) -> str:
    """'; looks like …: rename it to …' for a file whose content is not what ``suffix`` says."""
    try:
        with path.open("rb") as handle:
            start = handle.read(4096)
    except OSError:
        return ""
    if start.startswith(b"PK\x03\x04") and suffix != ".docx":
        return "; it looks like a Word document (a zip archive): rename it to .docx"
    if start.startswith(b"\xd0\xcf\x11\xe0"):
        return "; it looks like an old Word .doc file: open it in Word and save it as .docx"
    if start.startswith(b"%PDF"):
        return "; it looks like a PDF: save the text as .txt or .docx"
    if start.startswith(b"{\\rtf"):
        return "; it looks like an RTF file: open it in Word and save it as .docx"
    if start.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT") and suffix != ".vtt":
        return "; it looks like WebVTT subtitles: rename it to .vtt"
    if suffix != ".txt" and not looks_binary(start):
        return "; it looks like plain text: rename it to .txt"
    return ""


def _read_plain(path: Path, interviewer_labels: list[str], speaker: str | None) -> ParsedTranscript:
    if read_bytes(path).startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")):
        raise InputError("not a text file" + kind_hint(path, path.suffix.lower()), path=path)
    data, decoded = _read_text(path)
    fmt = format_of(path) or "txt"
    return _labelled(
        path, fmt, decoded.text, _sha256(data), interviewer_labels, speaker, decoded.warnings
    )


# -- Word ------------------------------------------------------------------------------------
_HEADING_STYLES = ("heading", "overskrift", "title", "tittel", "subtitle", "undertittel")


def _is_heading(paragraph) -> bool:  # type: ignore[no-untyped-def]
    """True for a paragraph in a Word heading or title style (English or Norwegian Word)."""
    try:
        style = paragraph.style
    except (KeyError, ValueError, AttributeError):
        return False
    names = [str(getattr(style, "name", "") or ""), str(getattr(style, "style_id", "") or "")]
    return any(n.casefold().startswith(_HEADING_STYLES) for n in names if n)


def _docx_lines(path: Path) -> tuple[list[str], set[str], set[int]]:
    """Paragraph texts in document order (table rows included), the labels set in bold, and the
    indexes of the lines that are headings (section markers, never part of a turn)."""
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    with path.open("rb") as handle:
        start = handle.read(8)
    if not start.startswith(b"PK\x03\x04"):
        raise InputError(
            "not a Word .docx file (a .docx is a zip archive)" + kind_hint(path, ".docx"),
            path=path,
        )
    check_zip_archive(path, kind=".docx file")
    try:
        document = Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(
            f"not a readable .docx file ({exc.__class__.__name__})", path=path
        ) from None
    except Exception as exc:  # lxml raises its own XMLSyntaxError family for broken parts
        raise InputError(f"corrupt .docx file: {exc}", path=path) from None

    lines: list[str] = []
    bold_labels: set[str] = set()
    headings: set[int] = set()

    def paragraph_line(paragraph) -> str:  # type: ignore[no-untyped-def]
        text = paragraph.text
        label = _bold_label(paragraph)
        if label:
            name = label.rstrip(": \t")
            bold_labels.add(" ".join(name.split()))
            rest = text[len(label) :].lstrip()
            if rest.startswith(":"):
                rest = rest[1:].lstrip()
            return f"{name}: {rest}"
        return text

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = _unique_cells(row.cells)
                texts = [c.text.strip() for c in cells]
                if len(texts) >= 2 and texts[0] and len(texts[0]) <= 40 and "\n" not in texts[0]:
                    # A two-column transcript table: speaker | what was said.
                    name = texts[0].rstrip(":").strip()
                    bold_labels.add(name)
                    lines.append(f"{name}: " + " ".join(t for t in texts[1:] if t))
                else:
                    for cell in cells:
                        lines.extend(paragraph_line(p) for p in cell.paragraphs)
        else:
            if _is_heading(block) and block.text.strip():
                headings.add(len(lines))
                lines.append(block.text)
                continue
            lines.append(paragraph_line(block))
    return lines, bold_labels, headings


def _unique_cells(cells):  # type: ignore[no-untyped-def]
    # Merged cells come back once per grid column; keep each once.
    seen: list = []
    for cell in cells:
        if all(cell._tc is not other._tc for other in seen):
            seen.append(cell)
    return seen


def _bold_label(paragraph) -> str | None:  # type: ignore[no-untyped-def]
    """The paragraph's leading bold text if it looks like a speaker label, else None."""
    bold = ""
    for run in paragraph.runs:
        if not run.text:
            continue
        if run.bold:
            bold += run.text
        else:
            break
    name = bold.strip().rstrip(":").strip()
    words = name.split()
    if not name or len(name) > 40 or not 1 <= len(words) <= 3:
        return None
    if not all(w[0].isupper() or w[0].isdigit() for w in words):
        return None
    if not paragraph.text.strip()[len(bold.strip()) :].strip():
        return None  # a bold heading on its own line, not a label
    return bold


def _read_docx(path: Path, interviewer_labels: list[str], speaker: str | None) -> ParsedTranscript:
    data = read_bytes(path)
    lines, bold_labels, headings = _docx_lines(path)
    # NFC never joins across a line end, so lines normalise one by one to the same text.
    lines = [normalise(line) for line in lines]
    full = "\n".join(lines)
    lead = len(full) - len(full.lstrip("\n"))
    text, warnings = replace_control_characters(full.strip("\n"), path)
    if not text.strip():
        raise InputError("the document has no text", path=path)
    spans = []
    offset = -lead
    for index, line in enumerate(lines):
        if index in headings:
            spans.append((offset, offset + len(line)))
        offset += len(line) + 1
    parsed = _labelled(
        path, "docx", text, _sha256(data), interviewer_labels, speaker, warnings, bold_labels
    )
    parsed.turns = cut_at_headings(parsed.text, parsed.turns, spans)
    return parsed


def cut_at_headings(text: str, turns: list[Turn], headings: list[tuple[int, int]]) -> list[Turn]:
    """Turns with every heading span cut out: a heading ends the turn it falls in, and text after
    it (before the next label) continues as a new turn of the same speaker."""
    if not headings:
        return turns
    result: list[Turn] = []
    index = 0
    for turn in turns:
        pieces = [(turn.char_start, turn.char_end)]
        while index < len(headings) and headings[index][1] <= turn.char_start:
            index += 1
        k = index
        while k < len(headings) and headings[k][0] < turn.char_end:
            h_start, h_end = headings[k]
            start, end = pieces.pop()
            pieces += [(start, min(h_start, end)), (max(h_end, start), end)]
            k += 1
        for start, end in pieces:
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                result.append(turn._replace(char_start=start, char_end=end))
    return result


# -- subtitles: WebVTT and SubRip --------------------------------------------------------------
_CUE_TIME = re.compile(r"^\s*(?P<start>[\d:.,]+)\s*-->\s*(?P<end>[\d:.,]+)(?:\s+.*)?$")
# A tag never holds '<': without that, every unclosed '<v' or '<a' would scan to the end of the
# cue, and a cue of many of them would take quadratic time.
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+(?P<name>[^<>]+)>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<\d[\d:.]*>")
_NAME_PREFIX = re.compile(r"^(?P<name>[^\W\d_][\w.'’ -]{0,38}?):[ \t]+")


def _cue_blocks(text: str) -> list[list[str]]:
    return [
        [line for line in block.split("\n")]
        for block in re.split(r"\n[ \t]*\n", text.strip())
        if block.strip()
    ]


def _cue_speaker_and_text(lines: list[str]) -> tuple[str | None, str]:
    raw = " ".join(line.strip() for line in lines if line.strip())
    speaker = None
    voice = _VOICE.search(raw)
    if voice:
        speaker = " ".join(voice.group("name").split())
    body = html.unescape(_TAG.sub("", raw)).strip()
    if speaker is None:
        named = _NAME_PREFIX.match(body)
        if named and all(w[0].isupper() for w in named.group("name").split()):
            speaker = " ".join(named.group("name").split())
            body = body[named.end() :]
    return speaker, " ".join(body.split())


def _read_subtitles(
    path: Path, interviewer_labels: list[str], speaker: str | None, fmt: str
) -> ParsedTranscript:
    data, decoded = _read_text(path)
    blocks = _cue_blocks(decoded.text)
    if fmt == "vtt":
        if not blocks or not blocks[0][0].lstrip("\ufeff").startswith("WEBVTT"):
            raise InputError(
                "not a WebVTT file (the first line must be 'WEBVTT')", path=path, line=1
            )
        blocks = blocks[1:]

    # (speaker, text, start, end) per cue; consecutive cues of one speaker merge afterwards.
    cues: list[tuple[str | None, str, float, float]] = []
    line_no = 1
    for block in blocks:
        time_index = next((i for i, line in enumerate(block) if "-->" in line), None)
        if time_index is None:
            if block[0].startswith(("NOTE", "STYLE", "REGION")):
                continue
            line_no = decoded.text.find(block[0])
            raise InputError(
                "a cue without a time line ('00:00:01.000 --> 00:00:04.000')",
                path=path,
                line=decoded.text[: max(line_no, 0)].count("\n") + 1,
            )
        match = _CUE_TIME.match(block[time_index])
        try:
            if not match:
                raise ValueError
            start, end = parse_time(match["start"]), parse_time(match["end"])
        except ValueError:
            line_no = decoded.text[: decoded.text.find(block[time_index])].count("\n") + 1
            raise InputError(
                f"bad cue time '{block[time_index].strip()}'", path=path, line=line_no
            ) from None
        cue_speaker, cue_text = _cue_speaker_and_text(block[time_index + 1 :])
        if cue_text:
            cues.append((cue_speaker, cue_text, start, end))
    if not cues:
        raise InputError("no cues with text", path=path)

    if all(s is None for s, *_ in cues):
        if speaker is None:
            raise InputError(NO_LABELS_HELP, path=path)
        cues = [(speaker, *rest) for _, *rest in cues]

    merged: list[list] = []
    for cue_speaker, cue_text, start, end in cues:
        who = cue_speaker if cue_speaker is not None else (merged[-1][0] if merged else None)
        if merged and merged[-1][0] == who:
            merged[-1][1].append(cue_text)
            merged[-1][3] = end
        else:
            merged.append([who or "Ukjent", [cue_text], start, end])

    parts: list[str] = []
    turns: list[Turn] = []
    offset = 0
    for who, texts, start, end in merged:
        prefix = f"{who}: "
        body = " ".join(texts)
        turns.append(Turn(who, offset + len(prefix), offset + len(prefix) + len(body), start, end))
        parts.append(prefix + body)
        offset += len(prefix) + len(body) + 2
    return ParsedTranscript(path, fmt, "\n\n".join(parts), turns, _sha256(data), decoded.warnings)


def _read_vtt(path: Path, interviewer_labels: list[str], speaker: str | None) -> ParsedTranscript:
    return _read_subtitles(path, interviewer_labels, speaker, "vtt")


def _read_srt(path: Path, interviewer_labels: list[str], speaker: str | None) -> ParsedTranscript:
    return _read_subtitles(path, interviewer_labels, speaker, "srt")


_READERS: dict[str, Callable[[Path, list[str], str | None], ParsedTranscript]] = {
    "txt": _read_plain,
    "md": _read_plain,
    "docx": _read_docx,
    "vtt": _read_vtt,
    "srt": _read_srt,
}
