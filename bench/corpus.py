"""Generated interview-like Norwegian for the benchmarks (cached under ``bench/.cache/``).

The sample transcripts' respondent turns are cut into sentences, and each generated turn is 2–12
sentences drawn from different turns (so phrases, negations and clause structure stay natural).
About one word in six is then perturbed the way a large real corpus differs from eight interviews:
other inflections, invented compounds of two sample words, transcription slips, nynorsk/dialect
spellings, names, numbers and time stamps, and punctuation glued to different words. That gives
tens of thousands of word types, so spaCy's tokenizer cache is not hit unrealistically often.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
CACHE = REPO / "bench" / ".cache"


def build_corpus(
    tokens: int = 0, *, interviews: int = 0, pairs: int = 40, perturb: float = 0.17
) -> Path:
    """A folder with generated transcripts (reused when present): about ``tokens`` tokens, or
    exactly ``interviews`` transcripts of ``pairs`` question-answer pairs each; ``perturb`` is
    the share of words changed (more: more word types)."""
    name = f"corpus-v2-{tokens}" if not interviews else f"interviews-{interviews}x{pairs}"
    if perturb != 0.17:
        name += f"-p{round(perturb * 100)}"
    folder = CACHE / name
    if (folder / "done").is_file():
        return folder
    from qualcode.ingest import ingest_paths
    from qualcode.store import create_store
    from qualcode.text import sentence_spans

    perturb_share = perturb
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp, create_store(Path(tmp) / "p") as store:
        ingest_paths(store, [REPO / "sample_transcripts"], command="bench: ingest")
        turns = [t for (t,) in store.conn.execute("SELECT text FROM segments WHERE role = 'respondent'")]
        questions = [t for (t,) in store.conn.execute("SELECT text FROM segments WHERE role = 'interviewer'")]
    sentences = [t[a:b] for t in turns for a, b in sentence_spans(t) if b - a > 3]
    vocab = sorted({w.strip(".,!?:;«»()…").lower() for t in turns for w in t.split()} - {""})
    long_words = [w for w in vocab if len(w) >= 4 and w.isalpha()]
    endings = ["en", "ene", "et", "a", "er", "te", "ar", "ane", "s", "ar", "ingen", "heten"]
    dialect = {"ikke": "ikkje", "jeg": "eg", "hva": "kva", "hvordan": "korleis", "noe": "noko",
               "selv": "sjøl", "mye": "mykje", "hvem": "kven", "også": "òg", "bare": "berre"}
    names = ["Kari", "Ola", "Ingrid", "Per", "Sunniva", "Tor", "Aslak", "Mette", "Jon", "Randi"]

    def perturb(word: str) -> str:
        core = word.strip(".,!?:;«»()…")
        if not core.isalpha() or len(core) < 3:
            return word
        r = rng.random()
        if r < 0.30:
            new = core.rstrip("e") + rng.choice(endings)
        elif r < 0.55:
            new = core.lower() + rng.choice(["s", "e", ""]) + rng.choice(long_words)
        elif r < 0.70:
            i = rng.randrange(1, len(core))
            kind = rng.random()
            new = (core[:i] + core[i + 1 :] if kind < 0.4 else core[:i] + core[i - 1] + core[i:]
                   if kind < 0.7 else core[: i - 1] + core[i] + core[i - 1] + core[i + 1 :])
        elif r < 0.80:
            new = dialect.get(core.lower(), core + "a")
        elif r < 0.90:
            new = rng.choice(names) + rng.choice(["", "s", "sen"])
        else:
            new = rng.choice([str(rng.randrange(1, 3000)), f"[{rng.randrange(0, 59):02d}:{rng.randrange(0, 59):02d}]",
                              f"{rng.randrange(1, 99)}-{rng.choice(long_words)}"])
        return word.replace(core, new, 1) + (rng.choice([",", ".", ""]) if rng.random() < 0.1 else "")

    folder.mkdir(parents=True, exist_ok=True)
    written, n = 0, 0
    while (n < interviews) if interviews else (written < tokens):
        n += 1
        lines = []
        for _ in range(pairs):
            lines.append(f"I: {rng.choice(questions)}")
            words = " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 12))).split()
            body = [perturb(w) if rng.random() < perturb_share else w for w in words]
            lines.append(f"R{n}: " + " ".join(body))
            written += int(len(body) * 1.2)
        (folder / f"R{n}_bench.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    (folder / "done").write_text("ok")
    return folder
