"""Hostile input: every bomb and hang case from issue 16, with the time and peak memory to refuse it.

Generates each file (under a temporary folder), runs the ``qualcode`` command that reads it in a
child process, and prints the wall time, the child's peak memory (max RSS, from ``wait4``), the
exit code and the first line of the error. Target: every case refused (or done) within 5 s and
under 500 MB. The honest .qdpx case is not refused: it prints the peak memory as a multiple of
the source text (target: under 10x, the ~40 MB the interpreter takes before reading excepted).

Run: ``python bench/hostile.py [--quick]`` (``--quick``: smaller bombs, for a fast look).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hostile_files as make

TARGET_SECONDS = 5.0
TARGET_MB = 500.0
MB = 1024 * 1024


@dataclass
class Result:
    """One case: what ran and what it cost."""

    name: str
    seconds: float
    peak_mb: float
    exit_code: int
    message: str


def run(args: list[str], cwd: Path, timeout: float = 120.0) -> tuple[float, float, int, str]:
    """Run ``qualcode ARGS`` in ``cwd``; (seconds, peak MB, exit code, first stderr line)."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "qualcode", *args],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "200"},
        )
        deadline = began + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - began
        err.seek(0)
        lines = [line for line in err.read().decode("utf-8", "replace").splitlines() if line]
    code = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, code, (lines[0] if lines else "")[:110]


def setup_project(folder: Path) -> Path:
    """A project with two ingested transcripts and a codebook: the target of the import cases."""
    project = folder / "prosjekt"
    corpus = folder / "korpus"
    corpus.mkdir()
    (corpus / "R1.txt").write_text(make.honest_text(3000, seed=1), encoding="utf-8")
    (corpus / "R2.txt").write_text(
        make.honest_text(3000, seed=2).replace("R1:", "R2:"), encoding="utf-8"
    )
    book = folder / "kodebok.yaml"
    book.write_text(
        "name: liten\ncodes:\n  - id: tillit\n    keywords: [tillit]\n"
        "  - id: kompetanse\n    keywords: [kompetanse]\n",
        encoding="utf-8",
    )
    for args in (["init", str(project)], ["ingest", str(corpus)], ["codebook", "load", str(book)]):
        subprocess.run(
            [sys.executable, "-m", "qualcode", *args],
            cwd=project if args[0] != "init" else folder,
            check=True,
            capture_output=True,
        )
    return project


def segment_ids(project: Path) -> list[int]:
    """The project's respondent turn ids."""
    import sqlite3

    with sqlite3.connect(project / "qualcode.db") as conn:
        return [r[0] for r in conn.execute("SELECT id FROM segments WHERE role = 'respondent'")]


def cases(folder: Path, project: Path, quick: bool) -> list[tuple[str, Callable[[], list[str]]]]:
    """(name, function that writes the file and returns the qualcode arguments) per case."""
    bomb = 200_000_000 if quick else 1_200_000_000
    f = folder

    def codings_layer() -> None:
        ids = segment_ids(project)
        good = f / "lag.csv"
        good.write_text(
            "segment_id,code,coder,memo\n" + "".join(f"{s},tillit,kari,\n" for s in ids),
            encoding="utf-8",
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "qualcode",
                "import",
                "codings",
                str(good),
                "--coder",
                "kari",
                "--new-coder",
            ],
            cwd=project,
            check=True,
            capture_output=True,
        )

    def unclosed() -> list[str]:
        codings_layer()
        path = make.codings_csv_unclosed_quote(f / "uavsluttet.csv", segment_ids(project), "tillit")
        return ["import", "codings", str(path), "--coder", "kari"]

    def header_only() -> list[str]:
        path = f / "tom.csv"
        path.write_text("segment_id,code,coder,memo\n", encoding="utf-8")
        return ["import", "codings", str(path), "--coder", "kari"]

    def huge_segment_id() -> list[str]:
        path = f / "stor_id.csv"
        path.write_text("segment_id,code,coder\n" + "9" * 30 + ",tillit,kari\n", encoding="utf-8")
        return ["import", "codings", str(path), "--coder", "kari"]

    def respondents(rows: int) -> Callable[[], list[str]]:
        def build() -> list[str]:
            corpus = f / f"resp{rows}"
            corpus.mkdir()
            name = f"Q{rows}.txt"
            (corpus / name).write_text(make.honest_text(2000), encoding="utf-8")
            make.respondents_csv(corpus / "respondents.csv", rows, files=(name,))
            return ["ingest", str(corpus)]

        return build

    return [
        ("codings csv, unclosed quote", unclosed),
        ("codings csv, header only", header_only),
        ("codings csv, segment id of 30 digits", huge_segment_id),
        (
            "docx bomb (document.xml 1.2 GB)" if not quick else "docx bomb (200 MB)",
            lambda: ["ingest", str(make.docx_bomb(f / "bombe.docx", bomb))],
        ),
        (
            "qdpx bomb (source 1.2 GB)" if not quick else "qdpx bomb (200 MB)",
            lambda: ["import", "qdpx", str(make.qdpx_bomb(f / "bombe.qdpx", bomb)), str(f / "ny1")],
        ),
        (
            "qdpx encrypted",
            lambda: [
                "import",
                "qdpx",
                str(make.encrypted_qdpx(f / "kryptert.qdpx")),
                str(f / "ny2"),
            ],
        ),
        (
            "qdpx code tree 5,000 deep",
            lambda: ["import", "qdpx", str(make.deep_qdpx(f / "dyp.qdpx")), str(f / "ny3")],
        ),
        (
            "qdc code tree 5,000 deep",
            lambda: ["import", "qdc", str(make.deep_qdc(f / "dyp.qdc")), "-o", str(f / "dyp.yaml")],
        ),
        (
            "xlsx with XXE",
            lambda: [
                "import",
                "codings",
                str(make.xlsx_with_xxe(f / "xxe.xlsx")),
                "--coder",
                "kari",
            ],
        ),
        (
            "vtt unclosed <v/<a, 800 KB",
            lambda: [
                "ingest",
                str(make.vtt_unclosed_tags(f / "tagger.vtt", 800_000)),
                "--respondent",
                "R9",
            ],
        ),
        (
            "vtt hour of 100,000 digits",
            lambda: ["ingest", str(make.vtt_huge_hour(f / "time.vtt")), "--respondent", "R8"],
        ),
        (
            "yaml alias bomb",
            lambda: ["codebook", "validate", str(make.yaml_alias_bomb(f / "alias.yaml"))],
        ),
        (
            "yaml recursive alias + merge key",
            lambda: ["codebook", "validate", str(make.yaml_recursive_alias(f / "rekursiv.yaml"))],
        ),
        (
            "pattern ^(\\w+\\s?)*$ in code --codebook",
            lambda: [
                "code",
                "--codebook",
                str(make.catastrophic_pattern_codebook(f / "treg.yaml")),
            ],
        ),
        (
            "codebook load, 4,000 codes",
            lambda: ["codebook", "load", str(make.many_codes_codebook(f / "mange.yaml", 4000))],
        ),
        (
            "codebook load, 4,000 codes nested",
            lambda: [
                "codebook",
                "load",
                str(make.many_codes_codebook(f / "dype.yaml", 4000, True)),
            ],
        ),
        ("respondents.csv, 1,000,000 rows", respondents(1_000_000)),
        ("respondents.csv, 150,000 rows (accepted)", respondents(150_000)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 MB bombs instead of 1.2 GB")
    options = parser.parse_args()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="qualcode-hostile-") as tmp:
        folder = Path(tmp)
        project = setup_project(folder)
        for name, build in cases(folder, project, options.quick):
            args = build()
            seconds, peak, code, message = run(args, project)
            results.append(Result(name, seconds, peak, code, message))
            print(f"{name:42} {seconds:6.2f} s {peak:7.0f} MB  exit {code}  {message}", flush=True)

        # Made in a child process: a child's peak memory (ru_maxrss) counts what the parent held
        # when it forked, so the parent must not hold 20 MB of text then.
        source = folder / "ærlig.qdpx"
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; sys.path.insert(0, sys.argv[1]); import "
                "hostile_files, pathlib; hostile_files.honest_qdpx(pathlib.Path(sys.argv[2]), "
                "20_000_000, 2000)",
                str(Path(__file__).resolve().parent),
                str(source),
            ],
            check=True,
        )
        with zipfile.ZipFile(source) as archive:
            text_mb = archive.getinfo("sources/kilde.txt").file_size / MB
        seconds, peak, code, message = run(
            ["import", "qdpx", str(source), str(folder / "ærlig")], folder, timeout=600
        )
        # The same modules loaded, nothing read: what the interpreter takes before any source.
        baseline = run(["import", "qdpx", str(folder / "mangler.qdpx"), str(folder / "x")], folder)
        print(
            f"{'qdpx honest, ' + format(text_mb, '.0f') + ' MB source':42} {seconds:6.2f} s "
            f"{peak:7.0f} MB  exit {code}  {peak / text_mb:.1f}x the source in all, "
            f"{(peak - baseline[1]) / text_mb:.1f}x above the {baseline[1]:.0f} MB the interpreter "
            "takes before reading (target < 10x)"
        )
    print(
        f"(this script's own peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB;"
        " a child's peak is never below what its parent held when it started it)"
    )
    slow = [r for r in results if r.seconds > TARGET_SECONDS or r.peak_mb > TARGET_MB]
    crashed = [r for r in results if r.exit_code not in (0, 2) or "Traceback" in r.message]
    print(
        f"\n{len(results)} cases; over {TARGET_SECONDS:g} s or {TARGET_MB:g} MB: "
        f"{', '.join(r.name for r in slow) or 'none'}; not a clean exit 0/2: "
        f"{', '.join(r.name for r in crashed) or 'none'}"
    )


if __name__ == "__main__":
    main()
