"""Benchmark: `qualcode report all` on a generated project of 1,000 coded transcripts.

Builds the project straight into the store with SQL (ingest and auto-coding are benchmarked
elsewhere), then runs `qualcode report all` in a child process and prints its wall time and peak
memory. Targets: under 30 s and under 1.5 GB.

    python bench/report.py [--transcripts 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qualcode.store import create_store, now_iso

TREE = {
    "forankring": ["ledelse", "ressurser", "mål", "ansatte", "regional"],
    "tillit": ["relasjoner", "erfaring", "åpenhet", "mistillit"],
    "samkonkurranse": ["konkurrenter", "deling", "spenning", "felles_front"],
    "fasilitering": ["klyngeledelse", "møteplasser", "kobling", "digitalt", "offentlig"],
}
# Sentences with the word that an auto-coder would take as evidence for the code.
EVIDENCE = {
    "forankring/ledelse": "Ledelsen hos oss har egentlig ikke tid til klyngen i det daglige.",
    "forankring/ressurser": "Vi har satt av en halv stilling til klyngearbeidet i år.",
    "forankring/mål": "Vi har ingen skrevne mål for medlemskapet, det ligger mest i hodet mitt.",
    "forankring/ansatte": "Ute på gulvet er det nok ingen som har hørt om klyngen.",
    "forankring/regional": "Kommunen og fylket har vært med fra starten, det er vår region.",
    "tillit/relasjoner": "Vi kjenner hverandre godt, vi har jo spilt fotball sammen i mange år.",
    "tillit/erfaring": "Vi har levert til dem i femten år, så vi stoler på hverandre.",
    "tillit/åpenhet": "På samlingene deler vi erfaringer ganske åpent, også det som gikk galt.",
    "tillit/mistillit": "Det er noen der som jeg ikke stoler helt på, for å si det rett ut.",
    "samkonkurranse/konkurrenter": "Flere av konkurrentene våre sitter i samme klynge.",
    "samkonkurranse/deling": "Priser og anbud deler vi aldri, det er forretningshemmeligheter.",
    "samkonkurranse/spenning": "Det er en balansegang mellom å samarbeide og å konkurrere.",
    "samkonkurranse/felles_front": "Sammen står vi sterkere mot de store aktørene utenfra.",
    "fasilitering/klyngeledelse": "Klyngeledelsen er flinke til å dra ting i gang.",
    "fasilitering/møteplasser": "Frokostmøtene og samlingene er det viktigste for oss.",
    "fasilitering/kobling": "De koblet oss med en leverandør vi ikke kjente fra før.",
    "fasilitering/digitalt": "Det digitale forumet bruker vi nesten ikke.",
    "fasilitering/offentlig": "Innovasjon Norge og programmet har betydd mye for finansieringen.",
}
FILLER = [
    "Altså, det er sånn at vi har holdt på en stund nå.",
    "Eh, det er vanskelig å si, egentlig.",
    "Vi er rundt førti ansatte, litt avhengig av hvordan du teller.",
    "Det har endret seg litt de siste årene, ikke sant.",
    "Jeg tror de fleste ser nytten, men det tar tid.",
    "[latter] Ja, det kan du si.",
    "Vi driver med maskinering, sveis og vedlikehold for industrien.",
    "Det var vel i tjueseksten eller deromkring.",
]
QUESTIONS = [
    "Kan du fortelle litt om bedriften?",
    "Hvordan er medlemskapet forankret hos dere?",
    "Hva betyr tillit mellom medlemmene for dere?",
    "Konkurrerer dere med andre i klyngen?",
    "Hva gjør klyngeledelsen for dere?",
]
SECTORS = ["leverandør", "prosessindustri", "teknologi", "FoU", "offentlig", "logistikk"]


def build(folder: Path, transcripts: int, seed: int = 7) -> dict[str, int]:
    """Create the project with ``transcripts`` interviews of ~40 turns and auto codings."""
    rng = random.Random(seed)
    store = create_store(folder)
    paths = [p for top, subs in TREE.items() for p in (top, *(f"{top}/{s}" for s in subs))]
    counts = {"segments": 0, "codings": 0}
    with store.write("bench: generate", coder="auto") as tx:
        for order, path in enumerate(paths):
            store.upsert_code(
                tx, path, sort_order=order, description=f"Definisjon av {path.rsplit('/', 1)[-1]}."
            )
        coder_id = store.ensure_coder(tx, "auto")
        code_ids = {p: store.code_id(p) for p in paths}
        conn = tx.conn
        created = now_iso()
        for n in range(1, transcripts + 1):
            label = f"R{n}"
            rid = conn.execute("INSERT INTO respondents (label) VALUES (?)", (label,)).lastrowid
            conn.executemany(
                "INSERT INTO respondent_attributes (respondent_id, name, value) VALUES (?, ?, ?)",
                [
                    (rid, "sector", rng.choice(SECTORS)),
                    (rid, "size", str(rng.randint(3, 900))),
                    (rid, "mode", rng.choice(["fysisk", "video"])),
                ],
            )
            turns, codings = [], []
            for _ in range(20):
                turns.append(("I", "interviewer", rng.choice(QUESTIONS), []))
                chosen = rng.sample(sorted(EVIDENCE), k=rng.choice([0, 0, 1, 1, 2]))
                sentences = [rng.choice(FILLER) for _ in range(rng.randint(1, 4))]
                spots = []
                for code in chosen:
                    at = rng.randint(0, len(sentences))
                    sentences.insert(at, EVIDENCE[code])
                    spots.append(code)
                turns.append((label, "respondent", " ".join(sentences), spots))
            text_parts, offset, rows = [], 0, []
            for position, (speaker, role, body, spots) in enumerate(turns, start=1):
                line = f"{speaker}: {body}\n"
                start = offset + len(speaker) + 2
                rows.append((position, speaker, role, start, start + len(body), body, spots))
                text_parts.append(line)
                offset += len(line)
            text = "".join(text_parts)
            tid = conn.execute(
                "INSERT INTO transcripts (respondent_id, name, format, sha256, text, imported_at)"
                " VALUES (?, ?, 'txt', ?, ?, ?)",
                (rid, f"{label}.txt", hashlib.sha256(text.encode()).hexdigest(), text, created),
            ).lastrowid
            for position, speaker, role, start, end, body, spots in rows:
                sid = conn.execute(
                    "INSERT INTO segments (transcript_id, respondent_id, position, speaker, role,"
                    " char_start, char_end, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (tid, rid, position, speaker, role, start, end, body),
                ).lastrowid
                counts["segments"] += 1
                for code in spots:
                    s = body.index(EVIDENCE[code])
                    evidence = [
                        {
                            "rule": "keyword",
                            "term": code.rsplit("/", 1)[-1],
                            "words": EVIDENCE[code][:20],
                            "start": s,
                            "end": s + 20,
                            "negated": False,
                            "negator": None,
                        }
                    ]
                    codings.append(
                        (
                            sid,
                            code_ids[code],
                            coder_id,
                            "auto",
                            0,
                            json.dumps(evidence, ensure_ascii=False),
                            created,
                        )
                    )
            conn.executemany(
                "INSERT INTO codings (segment_id, code_id, coder_id, source, negated, evidence,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                codings,
            )
            counts["codings"] += len(codings)
    store.close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="Build the project here and keep it.")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="qualcode-bench-report-"))
    if folder.exists():
        shutil.rmtree(folder)
    try:
        started = time.perf_counter()
        counts = build(folder, args.transcripts)
        print(
            f"built {args.transcripts} transcripts, {counts['segments']} turns, "
            f"{counts['codings']} codings in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "qualcode",
                "--project",
                str(folder),
                "report",
                "all",
                "--out",
                str(folder / "out"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            raise SystemExit(result.returncode)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        sizes = ", ".join(
            f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in sorted((folder / "out").iterdir())
        )
        print(
            f"report all: {seconds:.1f} s (target < 30 s), peak memory {peak_mb:.0f} MB "
            f"(target < 1536 MB); {sizes}"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
