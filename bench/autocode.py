"""Speed of the auto-coder on ~1,000,000 tokens of interview-like Norwegian.

Prints, in one run: the pipeline's load time, tokens/s of the spaCy tokenizer alone, tokens/s of
full auto-coding (lemmas, phrases, compounds, fuzzy, negation and storing the codings), their
ratio, and peak memory. Targets: ≥150,000 tokens/s, ≥60 % of the tokenizer, <1 GB, load <2 s.

The corpus is generated once into ``bench/.cache/`` from the sample transcripts' respondent turns,
with words shuffled between turns and invented compounds and slips mixed in, so it has many more
word types than the samples (as a real corpus would).

    python bench/autocode.py [--tokens 1000000]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
CACHE = REPO / "bench" / ".cache"


def build_corpus(tokens: int) -> Path:
    """A folder with generated transcripts of about ``tokens`` tokens (reused when present)."""
    folder = CACHE / f"corpus-{tokens}"
    if (folder / "done").is_file():
        return folder
    from qualcode.ingest import ingest_paths
    from qualcode.store import create_store

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp, create_store(Path(tmp) / "p") as store:
        ingest_paths(store, [REPO / "sample_transcripts"], command="bench: ingest")
        turns = [t for (t,) in store.conn.execute("SELECT text FROM segments WHERE role = 'respondent'")]
    words = [w for t in turns for w in t.split()]
    heads = ["arbeid", "prosjekt", "møte", "plan", "avtale", "gruppe", "leder", "kultur", "system"]
    fronts = ["klynge", "tillits", "nettverks", "leverandør", "kunde", "samarbeids", "kompetanse", "data"]
    folder.mkdir(parents=True, exist_ok=True)
    written, n = 0, 0
    while written < tokens:
        n += 1
        lines = []
        for _ in range(40):
            lines.append(f"I: {rng.choice(turns)[:160]}")
            base = rng.choice(turns).split()
            extra = []
            for _ in range(len(base) // 3):
                r = rng.random()
                if r < 0.05:
                    extra.append(rng.choice(fronts) + rng.choice(heads) + rng.choice(["", "en", "ene", "a"]))
                elif r < 0.07:
                    w = rng.choice(words)
                    i = rng.randrange(len(w)) if w else 0
                    extra.append(w[:i] + w[i + 1 :] + "x" * (r < 0.06))
                else:
                    extra.append(rng.choice(words))
            body = base + extra
            rng.shuffle(body)
            lines.append(f"R{n}: " + " ".join(body))
            written += int(len(body) * 1.25) + 30
        (folder / f"R{n}_bench.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    (folder / "done").write_text("ok")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--codebook", type=Path, default=REPO / "codebooks" / "klynge.yaml")
    args = parser.parse_args()
    folder = build_corpus(args.tokens)

    from qualcode.codebook import install_codebook, load_codebook
    from qualcode.ingest import ingest_paths
    from qualcode.store import create_store

    with tempfile.TemporaryDirectory() as tmp:
        store = create_store(Path(tmp) / "p")
        ingest_paths(store, [folder], command="bench: ingest")
        texts = [t for (t,) in store.conn.execute("SELECT text FROM segments WHERE role = 'respondent'")]
        codebook = load_codebook(args.codebook)
        install_codebook(store, codebook, "bench: codebook")

        began = time.perf_counter()
        from qualcode.autocode import CompiledCodebook, autocode_project
        from qualcode.nlp import get_pipeline

        pipeline = get_pipeline()
        CompiledCodebook(codebook, pipeline)
        load = time.perf_counter() - began

        began = time.perf_counter()
        n_tokens = sum(len(doc) for doc in pipeline.tokenizer.pipe(texts, batch_size=256))
        tok_seconds = time.perf_counter() - began

        began = time.perf_counter()
        summary = autocode_project(store, codebook, command="bench: code")
        code_seconds = time.perf_counter() - began
        store.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    tok_speed, code_speed = n_tokens / tok_seconds, n_tokens / code_seconds
    print(f"corpus: {n_tokens:,} tokens in {len(texts):,} respondent turns ({folder})")
    print(f"pipeline load (spaCy + lexicon + codebook): {load:.2f} s   (target < 2 s)")
    print(f"tokenizer alone:  {tok_speed:>10,.0f} tokens/s")
    print(f"full auto-coding: {code_speed:>10,.0f} tokens/s   (target ≥ 150,000; {summary.codings:,} codings stored)")
    print(f"ratio:            {code_speed / tok_speed:>10.0%}        (target ≥ 60 %)")
    print(f"peak memory: {rss:,.0f} MiB (peak RSS of the whole run)   (target < 1 GB)")


if __name__ == "__main__":
    main()
