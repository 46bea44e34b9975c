"""Build the sample corpus's .vtt, .srt and .docx transcripts from plain-text sources.

The interviews are written as labelled plain text in ``scripts/sample_sources/``; this script turns
them into the formats students actually get: a Microsoft Teams WebVTT export (voice tags, one or
two sentences per cue), a Zoom SubRip file (``Name: text`` cues) and Word documents (bold labels,
or a two-column table). Timings are made up from a speaking rate, deterministically.

Run: ``python scripts/make_sample_formats.py`` (needs python-docx; rewrites the outputs).
"""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path

from docx import Document
from docx.shared import Pt

from qualcode.ingest.turns import parse_labelled_text
from qualcode.store import DEFAULT_INTERVIEWER_LABELS
from qualcode.text import sentence_spans

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "scripts" / "sample_sources"
OUT = ROOT / "sample_transcripts"

# source stem -> (output format, docx layout)
TARGETS = {
    "R2_fjordal": "vtt",
    "R3_kvernes": "vtt",
    "R4_forskning": "docx-table",
    "R6_kommune": "srt",
    "R7_nordvik": "docx-bold",
}
WORDS_PER_SECOND = 2.6
MAX_CUE_WORDS = 22


def read_turns(path: Path) -> list[tuple[str, str]]:
    """(speaker, text) per turn of a labelled source, with line breaks inside turns folded."""
    text = path.read_text(encoding="utf-8")
    turns, _ = parse_labelled_text(text, DEFAULT_INTERVIEWER_LABELS)
    return [(t.speaker, " ".join(text[t.char_start : t.char_end].split())) for t in turns]


def cues_of(text: str) -> list[str]:
    """Split a turn into subtitle cues of one or two sentences, as Teams and Zoom do."""
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    cues: list[str] = []
    for sentence in sentences:
        words = sentence.split()
        while len(words) > MAX_CUE_WORDS:  # a long sentence is cut at a word boundary
            cues.append(" ".join(words[:MAX_CUE_WORDS]))
            words = words[MAX_CUE_WORDS:]
        piece = " ".join(words)
        if cues and len(cues[-1].split()) + len(words) <= 12 and cues[-1][-1:] in ".?!…":
            cues[-1] += " " + piece
        else:
            cues.append(piece)
    return cues


def timed_cues(turns: list[tuple[str, str]], seed: str) -> list[tuple[str, str, float, float]]:
    """(speaker, text, start, end) for every cue, with pauses between turns."""
    rng = random.Random(seed)
    clock = rng.uniform(1.0, 4.0)
    timed = []
    for speaker, text in turns:
        for cue in cues_of(text):
            duration = max(1.2, len(cue.split()) / WORDS_PER_SECOND * rng.uniform(0.85, 1.2))
            timed.append((speaker, cue, clock, clock + duration))
            clock += duration + rng.uniform(0.05, 0.4)
        clock += rng.uniform(0.4, 1.8)
    return timed


def stamp(seconds: float, separator: str) -> str:
    """``hh:mm:ss.mmm`` (WebVTT) or ``hh:mm:ss,mmm`` (SubRip)."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def write_vtt(stem: str, turns: list[tuple[str, str]]) -> Path:
    """A Teams-style WebVTT export: cue ids, voice tags."""
    meeting = uuid.uuid5(uuid.NAMESPACE_URL, f"qualcode-sample/{stem}")
    lines = ["WEBVTT", ""]
    for n, (speaker, cue, start, end) in enumerate(timed_cues(turns, stem)):
        lines += [
            f"{meeting}/{n + 11}-0",
            f"{stamp(start, '.')} --> {stamp(end, '.')}",
            f"<v {speaker}>{cue}</v>",
            "",
        ]
    path = OUT / f"{stem}.vtt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_srt(stem: str, turns: list[tuple[str, str]]) -> Path:
    """A Zoom-style SubRip file: numbered cues, ``Name: text``, CRLF line ends."""
    blocks = []
    for n, (speaker, cue, start, end) in enumerate(timed_cues(turns, stem), start=1):
        blocks.append(f"{n}\r\n{stamp(start, ',')} --> {stamp(end, ',')}\r\n{speaker}: {cue}\r\n")
    path = OUT / f"{stem}.srt"
    path.write_bytes("\r\n".join(blocks).encode("utf-8"))
    return path


def write_docx(stem: str, turns: list[tuple[str, str]], layout: str) -> Path:
    """A Word transcript: bold labels in paragraphs, or a two-column speaker | text table."""
    document = Document()
    document.core_properties.title = f"Intervju {stem.split('_')[0]}"
    document.core_properties.author = "Masterstudent"
    style = document.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    if layout == "docx-table":
        table = document.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for speaker, text in turns:
            cells = table.add_row().cells
            cells[0].text = speaker
            cells[1].text = text
    else:
        for speaker, text in turns:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{speaker}:").bold = True
            paragraph.add_run(f" {text}")
    path = OUT / f"{stem}.docx"
    document.save(str(path))
    return path


def main() -> None:
    """Rebuild every generated sample transcript from its source."""
    for stem, target in TARGETS.items():
        source = SOURCES / f"{stem}.txt"
        if not source.is_file():
            print(f"missing source {source}")
            continue
        turns = read_turns(source)
        turns = [(speaker, re.sub(r"^\[[\d:]+\]\s*", "", text)) for speaker, text in turns]
        if target == "vtt":
            path = write_vtt(stem, turns)
        elif target == "srt":
            path = write_srt(stem, turns)
        else:
            path = write_docx(stem, turns, target)
        print(f"{path.relative_to(ROOT)}: {len(turns)} turns")


if __name__ == "__main__":
    main()
