#!/usr/bin/env python3
"""Check coding CSV files of the sample corpus against the transcripts.

Standalone (stdlib only). Usage:

    python scripts/check_corpus_codings.py tests/data/gold_top_codes_R1-R4.csv \
        sample_transcripts/koding/kari_R1-R4.csv sample_transcripts/koding/jonas_R1-R4.csv

Two kinds of CSV are recognised by their header:

* gold layer, columns ``file,turn,code,excerpt``: codes must be top codes or empty;
  interviewer turns must not appear; EVERY respondent turn of every file named in the
  CSV must have at least one row; an empty-code row must be the only row of its turn.
* coder layer, columns ``file,turn,code,memo,excerpt``: codes must be ``parent/child``
  paths of the code tree; interviewer turns are reported as warnings only.

For every row: the turn number must exist in the file, and ``excerpt`` must be a
literal substring (3-8 words, no line breaks) of that turn's text.

Transcripts are parsed the way the ingest reads plain text: a line that starts with an
optional ``[hh:mm:ss] `` and then a label of 1-3 words followed by ``: `` starts a turn;
other non-blank lines continue the previous turn (joined with a space). A ``.txt`` file
name is looked up in ``sample_transcripts/``; a ``.vtt``, ``.srt`` or ``.docx`` file name
is checked against its plain-text source ``scripts/sample_sources/<stem>.txt``.

Exit status 0 when no errors were found, 1 otherwise.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TRANSCRIPT_DIR = REPO / "sample_transcripts"
SOURCE_DIR = REPO / "scripts" / "sample_sources"

INTERVIEWER_LABELS = {"I", "Intervjuer"}
TREE = {
    "forankring": {"ledelse", "ressurser", "mål", "ansatte", "regional"},
    "tillit": {"relasjoner", "erfaring", "åpenhet", "mistillit"},
    "samkonkurranse": {"konkurrenter", "deling", "spenning", "felles_front"},
    "fasilitering": {"klyngeledelse", "møteplasser", "kobling", "digitalt", "offentlig"},
}
TURN_RE = re.compile(
    r"^(?:\[(?P<ts>\d{1,2}:\d{2}:\d{2})\] )?(?P<label>[^\s:]+(?: [^\s:]+){0,2}): (?P<text>.*)$"
)
GOLD_HEADER = ["file", "turn", "code", "excerpt"]
CODER_HEADER = ["file", "turn", "code", "memo", "excerpt"]


def parse_turns(path: Path) -> list[tuple[str, str]]:
    """Return [(label, text), ...] for a plain-text transcript/source."""
    turns: list[list[str]] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        m = TURN_RE.match(line)
        if m:
            turns.append([m.group("label"), m.group("text").strip()])
        elif turns:
            turns[-1][1] = (turns[-1][1] + " " + line).strip()
        else:
            raise ValueError(f"{path}:{lineno}: text before the first speaker label")
    return [(label, text) for label, text in turns]


def source_for(name: str) -> Path:
    p = Path(name)
    if p.suffix == ".txt":
        return TRANSCRIPT_DIR / p.name
    return SOURCE_DIR / (p.stem + ".txt")


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, msg: str) -> None:
        self.errors.append(msg)

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)


def check_csv(csv_path: Path, cache: dict, rep: Report, verbose: bool) -> None:
    with csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        rows = list(reader)
    if header == GOLD_HEADER:
        kind = "gold"
    elif header == CODER_HEADER:
        kind = "coder"
    else:
        rep.error(f"{csv_path}: unknown header {header!r}")
        return
    where = csv_path.name
    per_turn: dict[tuple[str, int], list[str]] = defaultdict(list)
    code_counts: Counter = Counter()
    files_seen: list[str] = []
    for i, row in enumerate(rows, 2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            rep.error(f"{where}:{i}: expected {len(header)} fields, got {len(row)}")
            continue
        rec = dict(zip(header, row))
        fname = rec["file"]
        if fname not in cache:
            src = source_for(fname)
            if not src.exists():
                rep.error(f"{where}:{i}: no transcript/source for {fname!r} (looked for {src})")
                cache[fname] = None
            else:
                try:
                    cache[fname] = parse_turns(src)
                except ValueError as exc:
                    rep.error(str(exc))
                    cache[fname] = None
        turns = cache[fname]
        if turns is None:
            continue
        if fname not in files_seen:
            files_seen.append(fname)
        try:
            tno = int(rec["turn"])
        except ValueError:
            rep.error(f"{where}:{i}: turn {rec['turn']!r} is not an integer")
            continue
        if not 1 <= tno <= len(turns):
            rep.error(f"{where}:{i}: {fname} has {len(turns)} turns, no turn {tno}")
            continue
        label, text = turns[tno - 1]
        code = rec["code"].strip()
        if code != rec["code"]:
            rep.error(f"{where}:{i}: code {rec['code']!r} has surrounding spaces")
        if label in INTERVIEWER_LABELS:
            msg = f"{where}:{i}: {fname} turn {tno} is an interviewer turn ({label})"
            (rep.error if kind == "gold" else rep.warn)(msg)
        if kind == "gold":
            if code and code not in TREE:
                rep.error(f"{where}:{i}: {code!r} is not a top code")
        else:
            parent, _, child = code.partition("/")
            if parent not in TREE or child not in TREE[parent]:
                rep.error(f"{where}:{i}: {code!r} is not a parent/child path of the code tree")
        per_turn[(fname, tno)].append(code)
        code_counts[code] += 1
        exc = rec["excerpt"]
        if "\n" in exc or "\r" in exc:
            rep.error(f"{where}:{i}: excerpt contains a line break")
        nwords = len(exc.split())
        if not 3 <= nwords <= 8:
            rep.error(f"{where}:{i}: excerpt has {nwords} words (want 3-8): {exc!r}")
        if exc not in text:
            rep.error(f"{where}:{i}: excerpt not in {fname} turn {tno}: {exc!r}")
        elif Path(fname).suffix in {".vtt", ".srt"} and re.search(r"[.!?…]\s", exc):
            rep.warn(f"{where}:{i}: excerpt spans a sentence end (may cross a cue): {exc!r}")

    for (fname, tno), codes in per_turn.items():
        dup = [c for c, n in Counter(codes).items() if n > 1]
        if dup:
            rep.error(f"{where}: {fname} turn {tno}: duplicate code(s) {dup}")
        if kind == "gold" and "" in codes and len(codes) > 1:
            rep.error(f"{where}: {fname} turn {tno}: empty-code row next to coded rows")

    print(f"== {csv_path} ({kind}, {len(rows)} rows)")
    for fname in files_seen:
        turns = cache[fname]
        resp = [n for n, (lab, _) in enumerate(turns, 1) if lab not in INTERVIEWER_LABELS]
        labels = Counter(lab for lab, _ in turns)
        coded = {t for (f, t) in per_turn if f == fname}
        print(f"   {fname}: {len(turns)} turns, {len(resp)} respondent turns, "
              f"labels {dict(labels)}, {len(coded)} turns in this CSV")
        if len(labels) > 2:
            rep.warn(f"{fname}: more than two speaker labels {dict(labels)} "
                     "(a line inside a turn may look like a label)")
        if kind == "gold":
            missing = [n for n in resp if n not in coded]
            if missing:
                rep.error(f"{where}: {fname}: respondent turns without a gold row: {missing}")
    if verbose or kind == "gold":
        shown = {("(empty)" if c == "" else c): n for c, n in sorted(code_counts.items())}
        print(f"   rows per code: {shown}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", nargs="+", type=Path, help="coding CSV files")
    ap.add_argument("-v", "--verbose", action="store_true", help="print code counts for all CSVs")
    args = ap.parse_args(argv)
    rep = Report()
    cache: dict = {}
    for p in args.csv:
        if not p.exists():
            rep.error(f"{p}: no such file")
            continue
        check_csv(p, cache, rep, args.verbose)
    for w in rep.warnings:
        print("WARNING:", w)
    for e in rep.errors:
        print("ERROR:", e)
    print(f"{len(rep.errors)} error(s), {len(rep.warnings)} warning(s)")
    return 1 if rep.errors else 0


if __name__ == "__main__":
    sys.exit(main())
