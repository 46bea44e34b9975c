"""Ingest speed and store size on a generated corpus (targets: ≥ 5 MB/s for .txt, store < 3× text).

Generates (once, under bench/.cache/) 200 labelled .txt transcripts of about 8,000 words of
interview-like Norwegian, ingests them into a fresh project in one command, and prints MB/s of text
ingested, turns/s, and the store's size relative to the text. Turn lengths follow the sample
interviews in ``sample_transcripts/`` (questions about 10 words, answers about 75 words), since the
cost of ingest is partly per turn and partly per character.

Run: ``python bench/ingest.py [--transcripts N] [--words N]``
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from qualcode.ingest import ingest_paths
from qualcode.store import DB_NAME, create_store

CACHE = Path(__file__).resolve().parent / ".cache"
TARGET_MB_PER_S = 5.0
TARGET_SIZE_RATIO = 3.0

_OPENERS = ["altså", "ja", "nei", "men", "og så", "sånn sett", "egentlig", "jo", "ehm", "vel"]
_SUBJECTS = ["vi", "de", "klyngen", "ledelsen", "bedriften", "kommunen", "leverandørene", "folk"]
_VERBS = ["har", "deler", "samarbeider om", "snakker om", "tenker på", "bruker", "møter", "trenger"]
_OBJECTS = [
    "kompetanse",
    "tillit",
    "prosjekter",
    "møteplasser",
    "konkurrentene",
    "samlingene",
    "mål",
    "ressurser",
    "nettverket",
    "kundene",
    "leveransene",
    "informasjon",
    "opplæring",
    "regionen",
]
_TAILS = ["i klyngen", "hver måned", "på en måte", "liksom", "med de andre", "over tid", "", ""]
_QUESTIONS = [
    "Hvordan jobber dere med {o}?",
    "Kan du si litt mer om {o}?",
    "Hva betyr {o} for dere?",
    "Hvordan er medlemskapet forankret hos dere?",
    "Stoler dere på de andre medlemmene?",
]


def sentence(rng: random.Random) -> str:
    """One spoken-sounding sentence."""
    words = [rng.choice(_OPENERS), rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS)]
    tail = rng.choice(_TAILS)
    text = " ".join([*words, tail]).strip()
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "?", " …"])


def transcript(rng: random.Random, label: str, words: int) -> str:
    """A labelled interview of about ``words`` words."""
    lines, count = [], 0
    while count < words:
        question = rng.choice(_QUESTIONS).format(o=rng.choice(_OBJECTS))
        answer = " ".join(sentence(rng) for _ in range(rng.randint(4, 20)))
        stamp = (
            f"[{count // 9000:02d}:{count // 150 % 60:02d}:{count % 60:02d}] "
            if rng.random() < 0.2
            else ""
        )
        lines += [f"I: {question}", f"{stamp}{label}: {answer}", ""]
        count += len(question.split()) + len(answer.split())
    return "\n".join(lines)


def corpus(n: int, words: int) -> Path:
    """The generated corpus folder, made once per (n, words)."""
    folder = CACHE / f"ingest_v2_{n}x{words}"
    if folder.is_dir() and len(list(folder.glob("*.txt"))) == n:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(20261122)
    for i in range(1, n + 1):
        (folder / f"R{i}.txt").write_text(transcript(rng, f"R{i}", words), encoding="utf-8")
    return folder


def main() -> None:
    """Print ingest throughput and store size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=200)
    parser.add_argument("--words", type=int, default=8000)
    parser.add_argument("--runs", type=int, default=3, help="Ingest runs; the median is printed.")
    args = parser.parse_args()
    folder = corpus(args.transcripts, args.words)
    text_bytes = sum(p.stat().st_size for p in folder.glob("*.txt"))
    timings = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            store = create_store(Path(tmp) / "bench")
            start = time.perf_counter()
            report = ingest_paths(store, [folder], command="bench ingest")
            timings.append(time.perf_counter() - start)
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            store.close()
            if run == 0:
                db_bytes = (Path(tmp) / "bench" / DB_NAME).stat().st_size
    seconds = statistics.median(timings)
    print(f"runs: {', '.join(f'{t:.2f} s' for t in timings)} (each into a new project)")
    mb = text_bytes / 1e6
    rate = mb / seconds
    ratio = db_bytes / text_bytes
    print(f"corpus: {args.transcripts} transcripts, {mb:.1f} MB of text, {report.turns} turns")
    print(
        f"ingest: {seconds:.2f} s, {report.turns / seconds:,.0f} turns/s → {rate:.1f} MB/s "
        f"(target ≥ {TARGET_MB_PER_S} MB/s: "
        f"{'meets' if rate >= TARGET_MB_PER_S else 'MISSES'})"
    )
    print(
        f"store: {db_bytes / 1e6:.1f} MB = {ratio:.2f}× the text (target < {TARGET_SIZE_RATIO}×: "
        f"{'meets' if ratio < TARGET_SIZE_RATIO else 'MISSES'})"
    )


if __name__ == "__main__":
    main()
