"""Benchmark: how often the 95 % bootstrap intervals of Cohen's κ cover the true value when the
interviews differ from each other.

Each simulated project has a thesis-sized set of interviews (default 12, 20–50 respondent turns
each). Interviews differ: how often the code applies (prevalence drawn per interview from a Beta
distribution) and how well each coder spots it (sensitivity and false-positive rate drawn per
interview and coder). The true κ is that of the whole population of such interviews: κ of the
expected 2×2 table, turns weighted as in the pooled estimate, computed from 200,000 simulated
interviews' cell probabilities. For each of ``--reps`` projects the bench asks qualcode for a 95 %
interval twice, resampling turns as if independent and resampling whole transcripts (the default
with 5 or more transcripts), and prints the share of intervals that contain the true κ and their
mean width. Target: coverage >= 0.93 for transcripts.

    python bench/agreement_ci.py [--reps 1000] [--transcripts 12] [--resamples 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qualcode.agreement import bootstrap_ci

TARGET = 0.93


def interview_parameters(rng: np.random.Generator, count: int) -> dict[str, np.ndarray]:
    """Per interview: turns, prevalence, and each coder's sensitivity and false-positive rate."""
    return {
        "turns": rng.integers(20, 51, size=count).astype(float),
        "prevalence": rng.beta(1.6, 4.0, size=count),
        "sens_a": rng.beta(8.0, 2.0, size=count),
        "sens_b": rng.beta(5.0, 2.5, size=count),
        "fpr_a": rng.beta(1.0, 14.0, size=count),
        "fpr_b": rng.beta(1.2, 10.0, size=count),
    }


def cell_probabilities(p: dict[str, np.ndarray]) -> np.ndarray:
    """Per interview, P(A, B) for (absent, absent), (absent, present), (present, absent),
    (present, present); coders err independently given the truth."""
    prev = p["prevalence"]
    cells = []
    for a in (0, 1):
        for b in (0, 1):
            given_true = (p["sens_a"] if a else 1 - p["sens_a"]) * (
                p["sens_b"] if b else 1 - p["sens_b"]
            )
            given_false = (p["fpr_a"] if a else 1 - p["fpr_a"]) * (
                p["fpr_b"] if b else 1 - p["fpr_b"]
            )
            cells.append(prev * given_true + (1 - prev) * given_false)
    return np.stack(cells, axis=1)


def kappa_of_table(table: np.ndarray) -> float:
    """Cohen's κ of a 2×2 table given as (00, 01, 10, 11) counts or proportions."""
    total = table.sum()
    n00, n01, n10, n11 = table / total
    observed = n00 + n11
    a1, b1 = n10 + n11, n01 + n11
    chance = a1 * b1 + (1 - a1) * (1 - b1)
    return float((observed - chance) / (1 - chance))


def true_kappa(rng: np.random.Generator) -> float:
    """κ of the population: the expected table over many interviews, weighted by their turns."""
    p = interview_parameters(rng, 200_000)
    expected = (cell_probabilities(p) * p["turns"][:, None]).sum(axis=0)
    return kappa_of_table(expected)


def simulate(rng: np.random.Generator, count: int) -> tuple[list[bool], list[bool], list[int]]:
    """One project: coder A's and B's values per turn, and each turn's interview."""
    p = interview_parameters(rng, count)
    a: list[bool] = []
    b: list[bool] = []
    interview: list[int] = []
    for g in range(count):
        n = int(p["turns"][g])
        truth = rng.random(n) < p["prevalence"][g]
        says_a = np.where(truth, rng.random(n) < p["sens_a"][g], rng.random(n) < p["fpr_a"][g])
        says_b = np.where(truth, rng.random(n) < p["sens_b"][g], rng.random(n) < p["fpr_b"][g])
        a += says_a.tolist()
        b += says_b.tolist()
        interview += [g] * n
    return a, b, interview


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--transcripts", type=int, default=12)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    truth = true_kappa(rng)
    hits = {"turns": 0, "transcripts": 0}
    widths: dict[str, list[float]] = {"turns": [], "transcripts": []}
    no_interval = 0
    started = time.perf_counter()
    for rep in range(args.reps):
        a, b, interview = simulate(rng, args.transcripts)
        for method, clusters in (("turns", None), ("transcripts", interview)):
            stat = bootstrap_ci([a, b], "kappa", args.resamples, seed=rep, clusters=clusters)
            if stat.ci_low is None or stat.ci_high is None:
                no_interval += 1
                continue
            hits[method] += stat.ci_low <= truth <= stat.ci_high
            widths[method].append(stat.ci_high - stat.ci_low)
    seconds = time.perf_counter() - started
    print(
        f"{args.reps} simulated projects of {args.transcripts} interviews (20-50 turns each), "
        f"{args.resamples} resamples per interval, seed {args.seed}; true kappa {truth:.3f}"
    )
    for method in ("turns", "transcripts"):
        coverage = hits[method] / args.reps
        mark = (
            ""
            if method == "turns"
            else (
                "  (target >= 0.93: met)" if coverage >= TARGET else "  (target >= 0.93: NOT met)"
            )
        )
        print(
            f"  resampling {method:<11}: coverage of the 95% intervals {coverage:.3f}, "
            f"mean width {np.mean(widths[method]):.3f}{mark}"
        )
    if no_interval:
        print(f"  intervals not given (degenerate): {no_interval}")
    print(f"  {seconds:.1f} s")


if __name__ == "__main__":
    main()
