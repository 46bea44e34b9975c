"""Two processes recoding the same project at once: both succeed and no change is lost."""

from __future__ import annotations

import subprocess
import sys
import time

WORKER = """
import sys, time
from pathlib import Path
from qualcode.recode import recode
from qualcode.store import open_store

folder, coder, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
store = open_store(folder)
segments = [r[0] for r in store.conn.execute("SELECT id FROM segments ORDER BY id")]
codes = store.code_paths()
while not go.exists():  # start together, so the writes really interleave
    time.sleep(0.005)
for i, code in enumerate(codes):
    recode(store, [segments[i % len(segments)]], coder, add=[code], memo=f"{coder} {i}",
           command=f"recode by {coder}")
store.close()
print("ok")
"""


def test_two_processes_recode_at_once(coded, tmp_path, layer):
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(coded.folder), coder, str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for coder in ("kari", "ola")
    ]
    time.sleep(0.3)  # let both open the store first; not a timing assertion
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    n = len(coded.code_paths())
    assert len(layer(coded, "kari")) == n and len(layer(coded, "ola")) == n
    memos = coded.conn.execute("SELECT coder, COUNT(*) FROM memos GROUP BY coder").fetchall()
    assert sorted(memos) == [("kari", n), ("ola", n)]
    commands = coded.conn.execute(
        "SELECT coder, COUNT(*) FROM commands WHERE command LIKE 'recode by %' GROUP BY coder"
    ).fetchall()
    assert sorted(commands) == [("kari", n), ("ola", n)]
