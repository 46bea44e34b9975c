"""The statistics against published values, against scikit-learn and the krippendorff package,
and their properties.

References:
- Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
  Communication, University of Pennsylvania. Section C (nominal data, 4 coders × 12 units with
  missing values): α = 0.743. Section A (binary data, 2 coders × 10 units): α = 0.095, and the
  same data give Cohen's κ = 0.091 and Scott's π = 0.048.
- Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and Psychological
  Measurement 20(1), 37–46: κ = (p_o − p_e) / (1 − p_e); the 2×2 table [[20, 5], [10, 15]] gives
  p_o = 0.70, p_e = 0.50, κ = 0.40.
"""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from qualcode.agreement import (
    binary_counts,
    bootstrap_ci,
    brennan_prediger,
    cohen_kappa,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
    variable_agreement,
)

N = None
# Krippendorff (2011), section C: coders A–D (rows) × units 1–12, "." = missing.
K2011_NOMINAL = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
# Krippendorff (2011), section A: two observers, ten units, binary values.
K2011_A = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
K2011_B = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]


def test_krippendorff_2011_nominal_example() -> None:
    assert round(krippendorff_alpha(K2011_NOMINAL).value, 3) == 0.743


def test_krippendorff_2011_binary_example_alpha_kappa_pi_differ() -> None:
    alpha = krippendorff_alpha([K2011_A, K2011_B]).value
    kappa = cohen_kappa(K2011_A, K2011_B).value
    pi = scott_pi(K2011_A, K2011_B).value
    assert round(alpha, 3) == 0.095
    assert round(kappa, 3) == 0.091
    assert round(pi, 3) == 0.048
    # Exact rational values: α = 1 − 19·8/168, κ = 0.04/0.44, π = 0.02/0.42.
    assert alpha == pytest.approx(1 - 19 * 8 / 168, abs=1e-15)
    assert kappa == pytest.approx(0.04 / 0.44, abs=1e-15)
    assert pi == pytest.approx(0.02 / 0.42, abs=1e-15)
    assert percent_agreement([K2011_A, K2011_B]).value == pytest.approx(0.6)
    # Brennan–Prediger with q = 2: (0.6 − 0.5) / 0.5.
    assert brennan_prediger([K2011_A, K2011_B], 2).value == pytest.approx(0.2)


def _from_table(table: list[list[int]]) -> tuple[list[int], list[int]]:
    a: list[int] = []
    b: list[int] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


def test_cohen_1960_two_by_two_table() -> None:
    a, b = _from_table([[20, 5], [10, 15]])
    assert cohen_kappa(a, b).value == pytest.approx(0.40, abs=1e-12)
    counts = binary_counts(a, b)  # category 0 is "present" in this table's first row
    assert counts.n_units == 50


def test_counts_both_only_neither() -> None:
    counts = binary_counts([1, 1, 0, 0, None], [1, 0, 1, 0, 1])
    assert (counts.both, counts.only_a, counts.only_b, counts.neither) == (1, 1, 1, 1)


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    first = bootstrap_ci(K2011_NOMINAL, "alpha", 1000, seed=7)
    again = bootstrap_ci(K2011_NOMINAL, "alpha", 1000, seed=7)
    other = bootstrap_ci(K2011_NOMINAL, "alpha", 1000, seed=8)
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)
    assert first.ci_low < first.value < first.ci_high
    assert first.ci_low >= -1 and first.ci_high <= 1
    kappa = bootstrap_ci([K2011_A, K2011_B], "kappa", 500, seed=1)
    assert kappa.value == pytest.approx(0.04 / 0.44)
    assert kappa.ci_low < kappa.value < kappa.ci_high


def test_undefined_cases_give_reasons_not_nan() -> None:
    nobody = variable_agreement("x", ["a", "b"], [[[False] * 5, [False] * 5]])
    assert nobody.cohen_kappa.value is None and nobody.krippendorff_alpha.value is None
    assert nobody.krippendorff_alpha.reason == "no coder used this code"
    assert nobody.percent.value == 1.0  # they do agree on every unit; that is not chance-corrected
    everyone = cohen_kappa([1, 1, 1], [1, 1, 1])
    assert everyone.value is None and "no variation" in everyone.reason
    alone = krippendorff_alpha([[1, N, 0], [N, 1, N]])
    assert alone.value is None and "fewer than 2 pairable values" in alone.reason
    assert cohen_kappa([1, N], [N, 0]).reason == "no unit was coded by both coders"
    assert percent_agreement([[1, N], [N, 0]]).value is None
    three = variable_agreement("x", ["a", "b", "c"], [[[True, False], [True, False], [True, True]]])
    assert three.cohen_kappa.value is None and three.krippendorff_alpha.value is not None
    with_ci = variable_agreement("x", ["a", "b"], [[[False] * 5, [False] * 5]], bootstrap=500)
    assert with_ci.krippendorff_alpha.ci_low is None


# -- cross-checks ---------------------------------------------------------------------------------

binary_pairs = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
    )
)
nominal = st.integers(min_value=2, max_value=4).flatmap(
    lambda coders: st.integers(min_value=2, max_value=25).flatmap(
        lambda units: st.lists(
            st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=units, max_size=units),
            min_size=coders,
            max_size=coders,
        )
    )
)


@settings(max_examples=50, deadline=None)
@given(binary_pairs)
def test_kappa_matches_scikit_learn(pair: tuple[list[int], list[int]]) -> None:
    a, b = pair
    ours = cohen_kappa(a, b)
    if ours.value is None:
        assert a == b and len(set(a)) == 1  # both gave one and the same value everywhere
        return
    with np.errstate(all="ignore"):
        theirs = cohen_kappa_score(a, b)
    assert ours.value == pytest.approx(theirs, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(nominal)
def test_alpha_matches_krippendorff_package(data: list[list[int | None]]) -> None:
    ours = krippendorff_alpha(data)
    values = [v for row in data for v in row if v is not None]
    pairable = [u for u in range(len(data[0])) if sum(r[u] is not None for r in data) >= 2]
    pairable_values = {r[u] for u in pairable for r in data if r[u] is not None}
    if ours.value is None:
        assert not pairable or len(pairable_values) == 1
        return
    array = np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)
    theirs = krippendorff.alpha(reliability_data=array, level_of_measurement="nominal")
    assert values and ours.value == pytest.approx(theirs, abs=1e-9)


# -- properties ----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(nominal)
def test_alpha_does_not_depend_on_the_order_of_coders(data: list[list[int | None]]) -> None:
    forward = krippendorff_alpha(data)
    backward = krippendorff_alpha(list(reversed(data)))
    rotated = krippendorff_alpha(data[1:] + data[:1])
    assert forward.value == backward.value == rotated.value
    assert forward.reason == backward.reason
    if forward.value is not None:
        assert -1.0 <= forward.value <= 1.0


@settings(max_examples=40, deadline=None)
@given(binary_pairs)
def test_kappa_and_pi_are_symmetric_and_bounded(pair: tuple[list[int], list[int]]) -> None:
    a, b = pair
    for statistic in (cohen_kappa, scott_pi):
        ab, ba = statistic(a, b), statistic(b, a)
        assert ab.value == ba.value
        if ab.value is not None:
            assert -1.0 <= ab.value <= 1.0
    bp = brennan_prediger([a, b], 2).value
    assert bp is not None and -1.0 <= bp <= 1.0


@settings(max_examples=40, deadline=None)
@given(nominal)
def test_identical_coders_agree_perfectly_where_defined(data: list[list[int | None]]) -> None:
    row = data[0]
    same = [row, list(row)]
    alpha = krippendorff_alpha(same)
    if alpha.value is not None:
        assert alpha.value == 1.0
    kappa = cohen_kappa(row, row)
    if kappa.value is not None:
        assert kappa.value == 1.0
    observed = [v for v in row if v is not None]
    if observed:
        assert percent_agreement(same).value == 1.0
        assert brennan_prediger(same, 4).value == 1.0
    if len(set(observed)) >= 2:
        assert alpha.value == 1.0 and kappa.value == 1.0
