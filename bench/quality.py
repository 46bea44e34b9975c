"""How well the auto-coder agrees with the hand-coded gold standard, per top code.

Builds a temporary project from ``sample_transcripts/``, installs the codebook, auto-codes it, and
compares every respondent turn's top codes with the gold layer in ``tests/data/gold_top_codes_*.csv``
(an auto coding of ``tillit/åpenhet`` counts as ``tillit``). Prints precision, recall and F1 per top
code and micro-F1 for the tuning half (R1, R3, R5, R7) and the held-out half (R2, R4, R6, R8).

``--set fresh|blind-b|blind-c`` measures instead on ``bench/data/<set>/``: five interviews each
from other (fictional) clusters, written and hand-coded blind by separate sessions that never saw
the codebook's vocabulary or ran the auto-coder (see each folder's README). They stand in for the
"real quotes you have not seen". ``fresh`` has since been used for tuning; nobody has read the
errors on ``blind-b`` and ``blind-c``, and every measurement of them is logged in their READMEs.

    python bench/quality.py [--set sample|fresh|blind-b|blind-c] [--codebook codebooks/klynge.yaml]
                            [--half tuning|heldout|both] [--errors] [--terms]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from qualcode.autocode import autocode_project  # noqa: E402
from qualcode.codebook import install_codebook, load_codebook  # noqa: E402
from qualcode.ingest import ingest_paths  # noqa: E402
from qualcode.layers import read_layer_file  # noqa: E402
from qualcode.store import create_store  # noqa: E402

TOP = ("forankring", "tillit", "samkonkurranse", "fasilitering")
HALVES = {"tuning": ("R1", "R3", "R5", "R7"), "heldout": ("R2", "R4", "R6", "R8")}
BLIND_SETS = ("fresh", "blind-b", "blind-c")  # folders under bench/data/


def gold_rows(files: list[Path]) -> dict[tuple[str, int], set[str]]:
    """(file, turn) → top codes, from the gold layer files."""
    gold: dict[tuple[str, int], set[str]] = defaultdict(set)
    for path in files:
        for row in read_layer_file(path):
            codes = gold[(row.file, row.turn)]
            if row.code:
                codes.add(row.code.split("/", 1)[0])
    return gold


def scores(pairs: list[tuple[set[str], set[str]]]) -> tuple[dict[str, tuple[float, float, float, int]], float]:
    """Per top code (precision, recall, F1, support) and micro-F1 over (gold, auto) pairs."""
    table = {}
    tp_all = fp_all = fn_all = 0
    for code in TOP:
        tp = sum(1 for g, a in pairs if code in g and code in a)
        fp = sum(1 for g, a in pairs if code not in g and code in a)
        fn = sum(1 for g, a in pairs if code in g and code not in a)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        table[code] = (p, r, f, tp + fn)
    p = tp_all / (tp_all + fp_all) if tp_all + fp_all else 0.0
    r = tp_all / (tp_all + fn_all) if tp_all + fn_all else 0.0
    return table, (2 * p * r / (p + r) if p + r else 0.0)


def matched_terms(store, codebook) -> dict[int, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """segment id → (top code, term) of every rule match before scoring (respondent turns)."""
    from qualcode.autocode import CompiledCodebook

    compiled = CompiledCodebook(codebook)
    found: dict[int, list[tuple[str, str]]] = {}
    for seg_id, text in store.conn.execute("SELECT id, text FROM segments WHERE role = 'respondent'"):
        found[seg_id] = sorted({(m.code.split("/", 1)[0], m.term) for m in compiled.match(text)})
    return found


def _term_table(pairs: list[tuple[set[str], list[tuple[str, str]]]]) -> None:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for gold, terms in pairs:
        for top, term in terms:
            counts[(top, term)][0] += 1
            counts[(top, term)][1] += top in gold
    print(f"{'code':<16}{'term':<34}{'turns':>6}{'in gold':>8}")
    for (top, term), (n, ok) in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[1][1] / kv[1][0])):
        print(f"{top:<16}{term[:33]:<34}{n:>6}{ok:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codebook", type=Path, default=REPO / "codebooks" / "klynge.yaml")
    parser.add_argument("--set", dest="which", choices=("sample", *BLIND_SETS), default="sample")
    parser.add_argument("--half", choices=("tuning", "heldout", "both"), default="both")
    parser.add_argument(
        "--errors", action="store_true",
        help="List the disagreeing turns of the chosen half, with false positives (FP) and negatives (FN).",
    )
    parser.add_argument(
        "--terms", action="store_true",
        help="Per matched term: in how many turns it fired and how many of those gold has its top code.",
    )
    args = parser.parse_args()
    if args.which in BLIND_SETS:
        folder = REPO / "bench" / "data" / args.which
        gold = gold_rows([folder / "gold_top_codes.csv"])
        corpus, attributes = sorted(folder.glob("*.txt")), folder / "respondents.csv"
        with attributes.open(encoding="utf-8") as handle:
            labels = tuple(row["respondent"] for row in csv.DictReader(handle))
        halves: dict[str, tuple[str, ...]] = {args.which: labels}
    else:
        gold = gold_rows(sorted((REPO / "tests" / "data").glob("gold_top_codes_*.csv")))
        corpus, attributes = [REPO / "sample_transcripts"], None
        halves = HALVES if args.half == "both" else {args.half: HALVES[args.half]}
    codebook = load_codebook(args.codebook)
    with tempfile.TemporaryDirectory() as tmp, create_store(Path(tmp) / "p") as store:
        ingest_paths(store, corpus, attributes_file=attributes, command="quality: ingest")
        install_codebook(store, codebook, "quality: codebook")
        autocode_project(store, codebook, command="quality: code")
        auto: dict[int, set[str]] = defaultdict(set)
        evidence: dict[int, list[str]] = defaultdict(list)
        raw = matched_terms(store, codebook)
        for seg_id, path, ev in store.conn.execute(
            "SELECT c.segment_id, k.path, c.evidence FROM codings c JOIN codes k ON k.id = c.code_id"
            " JOIN coders d ON d.id = c.coder_id WHERE d.name = 'auto'"
        ):
            auto[seg_id].add(path.split("/", 1)[0])
            evidence[seg_id].append(f"{path}: {ev}")
        segments = {
            (name, pos): (seg_id, label, text)
            for seg_id, name, pos, label, text in store.conn.execute(
                "SELECT s.id, t.name, s.position, r.label, s.text FROM segments s"
                " JOIN transcripts t ON t.id = s.transcript_id JOIN respondents r ON r.id = s.respondent_id"
            )
        }
    for half, respondents in halves.items():
        pairs = []
        pairs_ev: list[tuple[set[str], list[tuple[str, str]]]] = []
        errors = []
        for key, codes in sorted(gold.items()):
            found = segments.get(key)
            if found is None or found[1] not in respondents:
                continue
            seg_id, _, text = found
            pairs.append((codes, auto.get(seg_id, set())))
            pairs_ev.append((codes, raw.get(seg_id, [])))
            if codes != auto.get(seg_id, set()):
                errors.append((key, codes, auto.get(seg_id, set()), text, evidence.get(seg_id, [])))
        table, micro = scores(pairs)
        print(f"\n{half} ({', '.join(respondents)}): {len(pairs)} respondent turns")
        print(f"{'code':<16}{'precision':>10}{'recall':>8}{'F1':>8}{'gold':>6}")
        for code, (p, r, f, n) in table.items():
            print(f"{code:<16}{p:>10.2f}{r:>8.2f}{f:>8.2f}{n:>6}")
        print(f"{'micro-F1':<16}{micro:>26.2f}")
        if args.terms:
            _term_table(pairs_ev)
        if args.errors:
            for key, g, a, text, ev in errors:
                fp, fn = sorted(a - g), sorted(g - a)
                print(f"\n--- {key} gold={sorted(g)} auto={sorted(a)} FP={fp} FN={fn}\n{text[:600]}")
                for line in ev:
                    print("   ", line[:300])


if __name__ == "__main__":
    main()
