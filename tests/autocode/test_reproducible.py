"""The same text gets the same codings and evidence in every process.

Python randomises string hashing per process, so anything that iterates over a set of strings can
change order between runs; an auto-coder whose results depend on it is not reproducible.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_CODE_SAMPLE = """
import hashlib, json
from pathlib import Path
from qualcode.autocode import CompiledCodebook
from qualcode.codebook import load_codebook
from qualcode.ingest import read_transcript
from qualcode.store import DEFAULT_INTERVIEWER_LABELS

repo = Path(%r)
compiled = CompiledCodebook(load_codebook(repo / "codebooks" / "klynge.yaml"))
texts = []
for path in sorted((repo / "sample_transcripts").iterdir()):
    if path.suffix in {".txt", ".docx", ".vtt", ".srt"}:
        parsed = read_transcript(path, DEFAULT_INTERVIEWER_LABELS)
        texts += [parsed.turn_text(t) for t in parsed.turns]
result = []
for text, coded in zip(texts, compiled.code_many(texts)):
    result.append({path: [m.evidence() for m in matches] for path, matches in sorted(coded.items())})
print(hashlib.sha256(json.dumps(result, sort_keys=True).encode()).hexdigest(), sum(map(len, result)))
"""


def run_with_hash_seed(seed: int) -> str:
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    done = subprocess.run(
        [sys.executable, "-c", _CODE_SAMPLE % str(REPO)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    return done.stdout.strip()


def test_codings_do_not_depend_on_string_hashing():
    results = {seed: run_with_hash_seed(seed) for seed in (1, 2, 3)}
    assert len(set(results.values())) == 1, results
