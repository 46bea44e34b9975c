"""Intercoder agreement: the statistics, and agreement between coder layers of a project.

The first half is pure statistics on *reliability data*: one sequence per coder, one value per
unit, ``None`` where a coder gave no value (missing data). Formulas and sources are in
``docs/agreement.md``; in short:

- percent agreement: the share of pairable value pairs that agree;
- Cohen's κ (Cohen 1960), Scott's π (Scott 1955): two coders, units both coded;
- Brennan–Prediger κ (Brennan & Prediger 1981): chance agreement fixed at 1/q for q categories;
- Krippendorff's α for nominal data (Krippendorff 2011), via the coincidence matrix, any number
  of coders and categories, missing values allowed;
- percentile bootstrap confidence intervals (Efron & Tibshirani 1993) resampling units.

A statistic that is not defined for the data (no unit coded by two coders, no variation) comes
back as a :class:`Stat` with ``value=None`` and a ``reason``, never NaN and never an exception.

The second half builds the unit × coder matrices from a project's coder layers and computes the
statistics per code and pooled over codes; :func:`disagreements` lists the segments where two
coders differ.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from qualcode.errors import InputError
from qualcode.progress import done_transcripts
from qualcode.recode import unknown_code_hint
from qualcode.store import Store

Value = Hashable | None

#: Fewer bootstrap resamples than this give intervals too rough to report.
MIN_BOOTSTRAP = 200
POOLED = "(pooled)"
UNIT_KINDS = ("segment", "respondent")
LEVELS = ("top", "all")


# =============================================================================================
# Pure statistics
# =============================================================================================


@dataclass(frozen=True)
class Stat:
    """One agreement statistic: its value, or ``None`` with the reason it is not defined.

    ``ci_low``/``ci_high`` are the bounds of a bootstrap confidence interval when one was asked
    for; ``ci_note`` says why there is none, or how many resamples were undefined.
    """

    value: float | None
    reason: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_note: str | None = None

    @property
    def defined(self) -> bool:
        """Whether the statistic has a value."""
        return self.value is not None


def _undefined(reason: str) -> Stat:
    return Stat(None, reason)


@dataclass(frozen=True)
class Counts:
    """Two coders, one present/absent code: how the units they both coded fall."""

    both: int
    only_a: int
    only_b: int
    neither: int

    @property
    def n_units(self) -> int:
        """Units coded (present or absent) by both coders."""
        return self.both + self.only_a + self.only_b + self.neither


def _check_data(data: Sequence[Sequence[Value]]) -> list[list[Value]]:
    rows = [list(r) for r in data]
    if not rows:
        raise ValueError("reliability data needs at least one coder")
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("every coder needs one value per unit (None for missing)")
    return rows


@dataclass
class _Tabulation:
    """Reliability data reduced to what every statistic needs, kept per unit for the bootstrap.

    Per pairable unit (at least two values): ``m`` values, ``counts`` per category, and the
    disagreement sum ``d = (m² − Σ n_c²) / (m − 1)`` (the unit's off-diagonal coincidences).
    With exactly two coders also ``pair``: the coder A × coder B table of units both coded.
    A "unit" here may stand for several variables at once (pooling); all parts are additive.
    """

    categories: list[Any]
    m: list[int] = field(default_factory=list)
    counts: list[list[int]] = field(default_factory=list)
    d: list[float] = field(default_factory=list)
    # Σ d over all units, exactly: numerators summed per denominator (m − 1).
    d_parts: dict[int, int] = field(default_factory=dict)
    pair: list[list[int]] | None = None  # per unit, flattened q × q (A row, B column)
    all_same: list[int] = field(default_factory=list)  # per unit: variables where all agree
    #: Per kept unit: its index in the data (a cluster bootstrap maps units to transcripts).
    unit_index: list[int] = field(default_factory=list)
    unanimous_by_category: list[list[int]] = field(default_factory=list)

    def d_total(self) -> Fraction:
        """Σ d over all units as an exact fraction."""
        return sum((Fraction(num, den) for den, num in self.d_parts.items()), Fraction(0))


def _tabulate(
    variables: Sequence[Sequence[Sequence[Value]]], categories: Sequence[Any] | None = None
) -> _Tabulation:
    """Tabulate one or more variables (each coders × units) sharing the same units.

    The result has one entry per unit that is pairable in at least one variable.
    """
    checked = [_check_data(v) for v in variables]
    if categories is None:
        seen: set[Any] = set()
        for rows in checked:
            for row in rows:
                seen.update(v for v in row if v is not None)
        categories = _sorted_categories(seen)
    index = {c: i for i, c in enumerate(categories)}
    q = len(categories)
    n_coders = len(checked[0]) if checked else 0
    width = len(checked[0][0]) if checked else 0
    tab = _Tabulation(list(categories), pair=[] if n_coders == 2 else None)
    for u in range(width):
        m_u = 0
        counts = [0] * q
        d_u = 0.0
        pair = [0] * (q * q)
        unanimous = [0] * q
        for rows in checked:
            values = [r[u] for r in rows if r[u] is not None]
            if len(values) < 2:
                continue
            local = [0] * q
            for v in values:
                if v not in index:
                    raise ValueError(f"value {v!r} is not among the categories")
                local[index[v]] += 1
            mv = len(values)
            m_u += mv
            for c in range(q):
                counts[c] += local[c]
                if local[c] == mv:
                    unanimous[c] += 1
            numerator = mv * mv - sum(x * x for x in local)
            d_u += numerator / (mv - 1)
            tab.d_parts[mv - 1] = tab.d_parts.get(mv - 1, 0) + numerator
            if n_coders == 2:
                pair[index[rows[0][u]] * q + index[rows[1][u]]] += 1
        if m_u == 0:
            continue
        tab.m.append(m_u)
        tab.counts.append(counts)
        tab.d.append(d_u)
        tab.unanimous_by_category.append(unanimous)
        tab.unit_index.append(u)
        if tab.pair is not None:
            tab.pair.append(pair)
    return tab


def _sorted_categories(values: Iterable[Any]) -> list[Any]:
    values = list(values)
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=repr)


# -- statistics from sums (shared by the point estimates and the bootstrap) -------------------


def _alpha_from_sums(n: float, d: float, n_c: Sequence[float]) -> float | None:
    """Nominal α = 1 − (n − 1)·D / (n² − Σ n_c²); None when the denominator is 0."""
    expected = n * n - sum(x * x for x in n_c)
    if n < 2 or expected <= 0:
        return None
    return 1.0 - (n - 1) * d / expected


def _kappa_from_pair(pair: Sequence[float], q: int, scott: bool = False) -> float | None:
    """Cohen's κ (or Scott's π) from a flattened q × q table; None if chance agreement is 1."""
    n = sum(pair)
    if n == 0:
        return None
    agree = sum(pair[i * q + i] for i in range(q))
    rows = [sum(pair[i * q + j] for j in range(q)) for i in range(q)]
    cols = [sum(pair[j * q + i] for j in range(q)) for i in range(q)]
    if scott:
        # π uses the pooled distribution of both coders' values: (r + c) / 2n per category.
        chance = sum((r + c) * (r + c) for r, c in zip(rows, cols, strict=True)) / 4
    else:
        chance = sum(r * c for r, c in zip(rows, cols, strict=True))
    # κ = (n·agree − chance) / (n² − chance), everything in counts so the test for "no room
    # above chance" is exact.
    denominator = n * n - chance
    if denominator <= 0:
        return None
    return (n * agree - chance) / denominator


def _fraction_value(x: Fraction | None) -> float | None:
    return None if x is None else float(x)


# -- public point estimates -------------------------------------------------------------------


def percent_agreement(data: Sequence[Sequence[Value]]) -> Stat:
    """The share of agreeing pairs among all pairs of values coded for the same unit.

    For two coders this is the share of units (both coded) where they gave the same value; for
    more coders each unit's pairs are weighted as in Krippendorff's coincidence matrix.
    """
    tab = _tabulate([data])
    return _percent(tab)


def _percent(tab: _Tabulation) -> Stat:
    n = sum(tab.m)
    if n == 0:
        return _undefined("no unit was coded by two or more coders")
    return Stat(float(1 - tab.d_total() / n))


def krippendorff_alpha(data: Sequence[Sequence[Value]]) -> Stat:
    """Krippendorff's α for nominal data; any number of coders, ``None`` for missing values.

    Units with fewer than two values are not pairable and are left out (Krippendorff 2011).
    """
    return _alpha(_tabulate([data]))


def _alpha(tab: _Tabulation) -> Stat:
    n = sum(tab.m)
    if n < 2:
        return _undefined("fewer than 2 pairable values (no unit coded by two or more coders)")
    n_c = [sum(col) for col in zip(*tab.counts, strict=True)]
    expected = n * n - sum(x * x for x in n_c)
    if expected == 0:
        only = tab.categories[next(i for i, x in enumerate(n_c) if x)]
        return _undefined(f"no variation: every value is {_show(only)}")
    d = tab.d_total()
    return Stat(float(1 - Fraction(n - 1) * d / expected))


def cohen_kappa(a: Sequence[Value], b: Sequence[Value]) -> Stat:
    """Cohen's κ for two coders over the units both coded (Cohen 1960)."""
    return _kappa(_tabulate([[a, b]]), scott=False)


def scott_pi(a: Sequence[Value], b: Sequence[Value]) -> Stat:
    """Scott's π for two coders over the units both coded (Scott 1955)."""
    return _kappa(_tabulate([[a, b]]), scott=True)


def _kappa(tab: _Tabulation, scott: bool) -> Stat:
    if tab.pair is None:
        return _undefined("defined for exactly two coders")
    q = len(tab.categories)
    total = [sum(col) for col in zip(*tab.pair, strict=True)] if tab.pair else [0] * (q * q)
    n = sum(total)
    if n == 0:
        return _undefined("no unit was coded by both coders")
    value = _kappa_from_pair([Fraction(x) for x in total], q, scott=scott)
    if value is None:
        only = tab.categories[next(i for i in range(q) if total[i * q + i])]
        return _undefined(f"no variation: both coders gave {_show(only)} to every unit")
    return Stat(float(value))


def brennan_prediger(data: Sequence[Sequence[Value]], q: int) -> Stat:
    """Brennan–Prediger κ: (p_o − 1/q) / (1 − 1/q) with q possible categories (1981)."""
    if q < 2:
        raise ValueError("Brennan–Prediger κ needs at least 2 possible categories")
    return _brennan_prediger(_tabulate([data]), q)


def _brennan_prediger(tab: _Tabulation, q: int) -> Stat:
    n = sum(tab.m)
    if n == 0:
        return _undefined("no unit was coded by two or more coders")
    observed = 1 - tab.d_total() / n
    chance = Fraction(1, q)
    return Stat(float((observed - chance) / (1 - chance)))


def binary_counts(a: Sequence[Value], b: Sequence[Value]) -> Counts:
    """Both / only A / only B / neither over the units both coders coded (values truthy/falsy)."""
    both = only_a = only_b = neither = 0
    for x, y in zip(a, b, strict=True):
        if x is None or y is None:
            continue
        if x and y:
            both += 1
        elif x:
            only_a += 1
        elif y:
            only_b += 1
        else:
            neither += 1
    return Counts(both, only_a, only_b, neither)


def _show(value: Any) -> str:
    if value is True:
        return "present"
    if value is False:
        return "absent"
    return repr(value)


# -- bootstrap ----------------------------------------------------------------------------------


def bootstrap_ci(
    data: Sequence[Sequence[Value]] | Sequence[Sequence[Sequence[Value]]],
    statistic: str,
    n: int,
    seed: int = 0,
    *,
    level: float = 0.95,
    pooled: bool = False,
    clusters: Sequence[Hashable] | None = None,
) -> Stat:
    """Point estimate of ``statistic`` ('kappa' or 'alpha') with a percentile bootstrap interval.

    Units are resampled with replacement ``n`` times (seeded; the same seed gives the same
    interval). ``pooled=True`` takes a list of variables sharing the same units and resamples the
    units with all their variables together. ``clusters`` (one key per unit, e.g. its
    transcript) resamples whole clusters instead of units: turns of one interview are not
    independent, and resampling them as if they were gives intervals that are too narrow.
    """
    variables = data if pooled else [data]
    tab = _tabulate(variables)  # type: ignore[arg-type]
    return _with_bootstrap(tab, statistic, n, seed, level, clusters)


def _point(tab: _Tabulation, statistic: str) -> Stat:
    if statistic == "kappa":
        return _kappa(tab, scott=False)
    if statistic == "alpha":
        return _alpha(tab)
    raise ValueError(f"unknown statistic {statistic!r}")


#: Fewer units with the code present than this give no interval: the resamples say nothing.
MIN_CODED_UNITS = 5


def _with_bootstrap(
    tab: _Tabulation,
    statistic: str,
    n: int,
    seed: int,
    level: float,
    clusters: Sequence[Hashable] | None = None,
) -> Stat:
    """The point estimate with a percentile interval from ``n`` resamples of the units, or of
    whole clusters of units when ``clusters`` (one key per unit of the data) is given.

    With G clusters the interval is widened about the point estimate by sqrt(G / (G − 1)) ·
    t(G − 1) / z: the bootstrap variance over G resampled clusters is (G − 1) / G of the usual
    estimate (Davison & Hinkley 1997, section 3.8), and with few clusters the quantiles of
    Student's t with G − 1 degrees of freedom replace the normal ones (Cameron, Gelbach & Miller
    2008). With the 10–20 interviews of a thesis both matter: ``bench/agreement_ci.py``
    measures the coverage.
    No interval (``ci_note`` says why) when fewer than :data:`MIN_CODED_UNITS` units have the code
    or every resample gives the same value: [1.000, 1.000] would claim a certainty no data gives.
    """
    point = _point(tab, statistic)
    if not point.defined:
        return point
    if n < MIN_BOOTSTRAP:
        raise ValueError(f"use at least {MIN_BOOTSTRAP} bootstrap resamples")
    import numpy as np

    units = len(tab.m)
    if tab.categories == [False, True]:
        coded = sum(1 for c in tab.counts if c[1] > 0)
        if coded < MIN_CODED_UNITS:
            return Stat(
                point.value,
                ci_note=f"no interval: the code is present in {coded} unit(s), fewer than "
                f"{MIN_CODED_UNITS}",
            )
    rng = np.random.default_rng(seed)
    q = len(tab.categories)
    values: list[float] = []
    undefined = 0
    membership = None
    groups = units
    if clusters is not None:
        keys = [clusters[u] for u in tab.unit_index]
        order = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        groups = len(order)
        membership = np.zeros((groups, units))
        for j, key in enumerate(keys):
            membership[order[key], j] = 1.0
    chunk = max(1, min(n, 2_000_000 // max(units, groups, 1)))
    if statistic == "alpha":
        m = np.asarray(tab.m, dtype=float)
        d = np.asarray(tab.d, dtype=float)
        counts = np.asarray(tab.counts, dtype=float).reshape(units, q)
    else:
        pair = np.asarray(tab.pair, dtype=float).reshape(units, q * q)
    done = 0
    while done < n:
        size = min(chunk, n - done)
        draws = rng.multinomial(groups, np.full(groups, 1.0 / groups), size=size).astype(float)
        weights = draws @ membership if membership is not None else draws
        if statistic == "alpha":
            total_n = weights @ m
            total_d = weights @ d
            total_c = weights @ counts
            expected = total_n * total_n - (total_c * total_c).sum(axis=1)
            ok = (total_n >= 2) & (expected > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                est = 1.0 - (total_n - 1) * total_d / expected
        else:
            tables = (weights @ pair).reshape(size, q, q)
            total_n = tables.sum(axis=(1, 2))
            agree = np.trace(tables, axis1=1, axis2=2)
            chance = (tables.sum(axis=2) * tables.sum(axis=1)).sum(axis=1)
            denominator = total_n * total_n - chance
            ok = denominator > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                est = (total_n * agree - chance) / denominator
        values.extend(est[ok].tolist())
        undefined += int((~ok).sum())
        done += size
    if len(values) < MIN_BOOTSTRAP // 2:
        return Stat(point.value, ci_note=f"no interval: {undefined} of {n} resamples undefined")
    sample = np.asarray(values)
    if float(sample.max() - sample.min()) < 1e-12:
        return Stat(point.value, ci_note="no interval: every resample gives the same value")
    tail = (1 - level) / 2
    low, high = (float(x) for x in np.quantile(sample, [tail, 1 - tail]))
    if membership is not None and groups > 2:
        widen = (groups / (groups - 1)) ** 0.5 * _t_over_z(1 - tail, groups - 1)
        low = point.value - widen * (point.value - low)
        high = point.value + widen * (high - point.value)
    bound = -1.0 if statistic == "kappa" else float("-inf")
    low, high = max(low, bound), min(high, 1.0)
    note = f"{undefined} of {n} resamples undefined (left out)" if undefined else None
    return Stat(point.value, ci_low=low, ci_high=high, ci_note=note)


def _t_over_z(p: float, df: int) -> float:
    """Student's t quantile over the normal quantile at probability ``p``, for ``df`` degrees of
    freedom (the Cornish–Fisher series of Abramowitz & Stegun 26.7.5; within 0.1 % for df >= 3)."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(p)
    v = float(df)
    t = (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4)
    )
    return t / z


# -- one variable, everything at once ------------------------------------------------------------


@dataclass(frozen=True)
class VariableAgreement:
    """Every statistic for one present/absent code (or for codes pooled)."""

    code: str
    coders: tuple[str, ...]
    n_units: int
    counts: Counts | None  # two coders only
    all_present: int
    all_absent: int
    mixed: int
    percent: Stat
    cohen_kappa: Stat
    scott_pi: Stat
    krippendorff_alpha: Stat
    brennan_prediger: Stat
    n_codes: int = 1

    @property
    def note(self) -> str:
        """The reasons statistics are undefined, for the table's last column."""
        reasons: list[str] = []
        for stat in (self.krippendorff_alpha, self.cohen_kappa, self.percent):
            if not stat.reason or stat.reason == "defined for exactly two coders":
                continue
            # α and κ word "no variation" differently; one explanation is enough.
            if not any(r.split(":")[0] == stat.reason.split(":")[0] for r in reasons):
                reasons.append(stat.reason)
        for stat in (self.cohen_kappa, self.krippendorff_alpha):
            if stat.ci_note and stat.ci_note not in reasons:
                reasons.append(stat.ci_note)
        return "; ".join(reasons)

    def as_dict(self, with_ci: bool = False) -> dict[str, Any]:
        """The JSON record: counts, statistics (None when undefined), reasons, CI bounds."""
        c = self.counts
        record: dict[str, Any] = {
            "code": self.code,
            "n_units": self.n_units,
            "both": c.both if c else self.all_present,
            "only_a": c.only_a if c else None,
            "only_b": c.only_b if c else None,
            "neither": c.neither if c else self.all_absent,
            "percent": None if self.percent.value is None else 100 * self.percent.value,
            "cohen_kappa": self.cohen_kappa.value,
            "krippendorff_alpha": self.krippendorff_alpha.value,
            "brennan_prediger": self.brennan_prediger.value,
            "scott_pi": self.scott_pi.value,
        }
        if c is None:
            record["mixed"] = self.mixed
        record["n_codes"] = self.n_codes
        if with_ci:
            record["cohen_kappa_ci_low"] = self.cohen_kappa.ci_low
            record["cohen_kappa_ci_high"] = self.cohen_kappa.ci_high
            record["krippendorff_alpha_ci_low"] = self.krippendorff_alpha.ci_low
            record["krippendorff_alpha_ci_high"] = self.krippendorff_alpha.ci_high
        record["note"] = self.note or None
        return record


def variable_agreement(
    code: str,
    coders: Sequence[str],
    variables: Sequence[Sequence[Sequence[bool | None]]],
    *,
    bootstrap: int = 0,
    seed: int = 0,
    level: float = 0.95,
    clusters: Sequence[Hashable] | None = None,
) -> VariableAgreement:
    """All statistics for present/absent data (each variable coders × units, pooled if several).

    Values are True (code present), False (absent) or None (the coder has not seen the unit).
    ``clusters`` (a key per unit) makes the bootstrap resample whole clusters (transcripts).
    """
    tab = _tabulate(variables, categories=[False, True])
    q = 2
    n_coders = len(coders)
    units_pairable = 0
    all_present = all_absent = 0
    for unanimous in tab.unanimous_by_category:
        all_absent += unanimous[0]
        all_present += unanimous[1]
    decisions = 0
    for rows in variables:
        for u in range(len(rows[0]) if rows else 0):
            if sum(r[u] is not None for r in rows) >= 2:
                decisions += 1
    units_pairable = len(tab.m)
    counts = None
    if n_coders == 2 and tab.pair is not None:
        total = [sum(col) for col in zip(*tab.pair, strict=True)] if tab.pair else [0] * 4
        counts = Counts(both=total[3], only_a=total[2], only_b=total[1], neither=total[0])
    if n_coders == 2:
        if bootstrap:
            kappa = _with_bootstrap(tab, "kappa", bootstrap, seed, level, clusters)
        else:
            kappa = _kappa(tab, scott=False)
        pi = _kappa(tab, scott=True)
    else:
        kappa = _undefined("defined for exactly two coders")
        pi = _undefined("defined for exactly two coders")
    alpha = (
        _with_bootstrap(tab, "alpha", bootstrap, seed, level, clusters)
        if bootstrap
        else _alpha(tab)
    )
    if tab.m and not any(c[1] for c in tab.counts):
        used = any(v for rows in variables for r in rows for v in r)
        reason = (
            "the code was not used in any unit two coders both saw"
            if used
            else "no coder used this code"
        )
        kappa = _undefined(reason) if n_coders == 2 else kappa
        pi = _undefined(reason) if n_coders == 2 else pi
        alpha = _undefined(reason)
    return VariableAgreement(
        code=code,
        coders=tuple(coders),
        n_units=units_pairable,
        counts=counts,
        all_present=all_present,
        all_absent=all_absent,
        mixed=decisions - all_present - all_absent,
        percent=_percent(tab),
        cohen_kappa=kappa,
        scott_pi=pi,
        krippendorff_alpha=alpha,
        brennan_prediger=_brennan_prediger(tab, q),
        n_codes=len(variables),
    )


# =============================================================================================
# Coder layers of a project
# =============================================================================================


@dataclass(frozen=True)
class Unit:
    """A unit of analysis: a segment (turn) or a respondent."""

    key: int | str  # segment id or respondent label
    transcript: str | None
    respondent: str
    position: int | None
    label: str  # how the unit is named in lists: "R1_haugland.txt #12" or "R1"


@dataclass(frozen=True)
class NotSeenByAll:
    """A transcript whose units some coders have not seen: missing data for them.

    ``n_units`` counts the units of the matrix's kind (turns, or respondents) that lie in it.
    """

    transcript: str
    seen_by: tuple[str, ...]
    not_seen_by: tuple[str, ...]
    n_units: int


@dataclass
class LayerMatrix:
    """Per coder and unit: the set of code paths applied, or None if the coder has not seen it."""

    coders: list[str]
    unit_kind: str
    units: list[Unit]
    values: dict[str, list[frozenset[str] | None]]
    not_seen_by_all: list[NotSeenByAll]

    @property
    def n_compared(self) -> int:
        """Units at least two coders have seen: the units every statistic is computed on."""
        columns = [self.values[c] for c in self.coders]
        return sum(sum(v is not None for v in unit) >= 2 for unit in zip(*columns, strict=True))

    def variable(self, code: str) -> list[list[bool | None]]:
        """Coders × units present/absent values for ``code`` with its subcodes rolled in."""
        prefix = code + "/"
        return [
            [
                None if s is None else any(p == code or p.startswith(prefix) for p in s)
                for s in self.values[coder]
            ]
            for coder in self.coders
        ]


def _check_coders(store: Store, coders: Sequence[str]) -> list[str]:
    names = [c.strip() for c in coders]
    if len(names) < 2:
        raise InputError("agreement needs at least two coder layers")
    if len(set(names)) != len(names):
        raise InputError(f"a coder layer is named twice: {', '.join(names)}")
    known = [r[0] for r in store.conn.execute("SELECT name FROM coders ORDER BY name")]
    for name in names:
        if name not in known:
            listed = ", ".join(known) if known else "none yet"
            raise InputError(f"no coder layer '{name}' in the project (layers: {listed})")
    return names


def seen_transcripts(store: Store, coder: str, *, include_in_progress: bool = False) -> set[int]:
    """Transcript ids that count as coded by ``coder``: those they have marked done.

    A transcript the coder has not finished is missing data for them, never "no code" (see
    :mod:`qualcode.progress`); ``include_in_progress`` counts the started ones too.
    """
    return done_transcripts(store, coder, include_in_progress=include_in_progress)


def layer_matrix(
    store: Store,
    coders: Sequence[str],
    unit: str = "segment",
    *,
    include_in_progress: bool = False,
) -> LayerMatrix:
    """The unit × coder matrix of code sets.

    Units: every respondent turn of the transcripts at least one of the coders has seen, plus any
    other turn there that one of them coded. A unit in a transcript a coder has not seen is
    missing (None) for that coder, never counted as "no code"; such transcripts are listed in
    ``not_seen_by_all``. With ``unit="respondent"`` a respondent is one unit holding the union of
    its turns' codes, missing for a coder who has not seen all of the respondent's transcripts.
    """
    if unit not in UNIT_KINDS:
        raise InputError(f"unknown unit '{unit}'; use segment or respondent")
    names = _check_coders(store, coders)
    seen = {
        name: seen_transcripts(store, name, include_in_progress=include_in_progress)
        for name in names
    }
    any_seen = set().union(*seen.values())
    marks = ",".join("?" * len(names))
    coded: dict[str, dict[int, set[str]]] = {name: {} for name in names}
    for seg_id, coder, path in store.conn.execute(
        "SELECT c.segment_id, d.name, k.path FROM codings c JOIN coders d ON d.id = c.coder_id"
        f" JOIN codes k ON k.id = c.code_id WHERE d.name IN ({marks})",
        names,
    ):
        coded[coder].setdefault(seg_id, set()).add(path)
    coded_any = set().union(*(set(c) for c in coded.values()))
    rows = store.conn.execute(
        "SELECT s.id, s.transcript_id, t.name, r.label, s.position, s.role FROM segments s"
        " JOIN transcripts t ON t.id = s.transcript_id JOIN respondents r ON r.id = s.respondent_id"
        " ORDER BY t.id, s.position"
    ).fetchall()
    segs = [
        row
        for row in rows
        if row[1] in any_seen and (row[5] == "respondent" or row[0] in coded_any)
    ]
    # Units per transcript in the report's own kind: a respondent whose turns lie in a
    # transcript a coder has not seen is one missing unit, however many turns it has there.
    per_transcript: dict[str, set[Any]] = {}
    transcript_seen: dict[str, tuple[str, ...]] = {}
    for seg_id, tid, tname, label, _pos, _role in segs:
        per_transcript.setdefault(tname, set()).add(seg_id if unit == "segment" else label)
        transcript_seen[tname] = tuple(n for n in names if tid in seen[n])
    not_seen = [
        NotSeenByAll(
            t,
            transcript_seen[t],
            tuple(n for n in names if n not in transcript_seen[t]),
            len(keys),
        )
        for t, keys in per_transcript.items()
        if len(transcript_seen[t]) < len(names)
    ]
    if unit == "segment":
        units = [Unit(s[0], s[2], s[3], s[4], f"{s[2]} #{s[4]}") for s in segs]
        values = {
            name: [
                frozenset(coded[name].get(s[0], ())) if s[1] in seen[name] else None for s in segs
            ]
            for name in names
        }
        return LayerMatrix(names, unit, units, values, not_seen)
    # Respondents: in order of first appearance.
    by_resp: dict[str, list[tuple[Any, ...]]] = {}
    for s in segs:
        by_resp.setdefault(s[3], []).append(s)
    units = [Unit(label, None, label, None, label) for label in by_resp]
    values = {}
    for name in names:
        column: list[frozenset[str] | None] = []
        for label in by_resp:
            group = by_resp[label]
            if all(s[1] in seen[name] for s in group):
                column.append(frozenset().union(*(coded[name].get(s[0], set()) for s in group)))
            else:
                column.append(None)
        values[name] = column
    return LayerMatrix(names, unit, units, values, not_seen)


def select_codes(
    store: Store,
    level: str = "top",
    codes: Sequence[str] | None = None,
    used: Iterable[str] = (),
) -> list[str]:
    """The code variables to compare: ``codes`` if given (each with its subcodes rolled in), else
    every top code (``level='top'``) or every code of the tree (``'all'``, each with its subtree).

    Inactive codes are included only if one of the layers used them (``used``).
    """
    if level not in LEVELS:
        raise InputError(f"unknown level '{level}'; use top or all")
    all_paths = store.code_paths(active_only=False)
    active = set(store.code_paths(active_only=True))
    used_set = set(used)
    if codes:
        wanted: list[str] = []
        for raw in codes:
            for part in raw.split(","):
                path = part.strip().strip("/")
                if not path:
                    continue
                if path not in all_paths:
                    raise InputError(f"unknown code '{path}'{unknown_code_hint(path, all_paths)}")
                if path not in wanted:
                    wanted.append(path)
        if not wanted:
            raise InputError("--codes names no code")
        return wanted
    relevant = [
        p
        for p in all_paths
        if p in active or any(u == p or u.startswith(p + "/") for u in used_set)
    ]
    # Codes used in a layer but unknown to the tree's order still come out (store has them).
    if level == "top":
        tops: list[str] = []
        for p in relevant:
            top = p.split("/", 1)[0]
            if top not in tops:
                tops.append(top)
        return tops
    return relevant


def _leaves_of(codes: Sequence[str]) -> list[str]:
    """Codes in the list that are not an ancestor of another listed code (for pooling)."""
    return [c for c in codes if not any(o.startswith(c + "/") for o in codes if o != c)]


@dataclass
class AgreementReport:
    """Agreement per code and pooled, and the transcripts not every coder has seen."""

    coders: list[str]
    unit: str
    level: str
    rows: list[VariableAgreement]
    pooled: VariableAgreement | None
    pooled_codes: list[str]
    not_seen_by_all: list[NotSeenByAll]
    n_units: int  # units at least two coders have seen, as in every row
    bootstrap: int = 0
    seed: int = 0
    #: What the bootstrap resamples: "transcripts", "turns" or "respondents" ("" without one).
    resampled: str = ""
    #: Compared codes no coder used in a compared unit: listed, left out of the pooled row.
    unused_codes: list[str] = field(default_factory=list)

    @property
    def ci_method(self) -> str:
        """How the intervals were made, for every output that shows them."""
        if not self.bootstrap:
            return ""
        return (
            f"percentile bootstrap, {self.bootstrap} resamples of {self.resampled}"
            + (" (widened for few transcripts)" if self.resampled == "transcripts" else "")
            + f", seed {self.seed}"
        )

    def records(self) -> list[dict[str, Any]]:
        """One JSON record per code, then the pooled row (code ``(pooled)``)."""
        out = [r.as_dict(with_ci=bool(self.bootstrap)) for r in self.rows]
        if self.pooled is not None:
            out.append(self.pooled.as_dict(with_ci=bool(self.bootstrap)))
        if self.pooled is not None:
            # The codes' own rows say why each is not used ("no coder used this code").
            out[-1]["not_used"] = list(self.unused_codes)
        for record in out:
            if self.bootstrap:
                record["ci_method"] = self.ci_method
        return out


#: With at least this many transcripts the bootstrap resamples transcripts, else turns.
MIN_TRANSCRIPTS_TO_RESAMPLE = 5
RESAMPLE_CHOICES = ("auto", "transcripts", "units")


def agreement(
    store: Store,
    coders: Sequence[str],
    *,
    unit: str = "segment",
    level: str = "top",
    codes: Sequence[str] | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    include_in_progress: bool = False,
    resample: str = "auto",
) -> AgreementReport:
    """Agreement between coder layers, per code and pooled over codes.

    The pooled row stacks every (unit, code) decision of the codes that are not an ancestor of
    another listed code and that at least one coder used in a compared unit; codes nobody used
    add only easy "absent" agreements, so they are listed in ``unused_codes`` instead. Its
    bootstrap resamples units with all their codes together.

    ``resample``: ``auto`` resamples whole transcripts when the turns compared lie in at least
    :data:`MIN_TRANSCRIPTS_TO_RESAMPLE` transcripts (turns of one interview are alike), else the
    units; ``transcripts`` or ``units`` force one. Respondent units are resampled as units.
    """
    if bootstrap and bootstrap < MIN_BOOTSTRAP:
        raise InputError(f"--bootstrap needs at least {MIN_BOOTSTRAP} resamples (2000 is usual)")
    if resample not in RESAMPLE_CHOICES:
        raise InputError(f"unknown resampling '{resample}'; use {', '.join(RESAMPLE_CHOICES)}")
    matrix = layer_matrix(store, coders, unit, include_in_progress=include_in_progress)
    used = {p for column in matrix.values.values() for s in column if s for p in s}
    chosen = select_codes(store, level, codes, used)
    clusters, resampled = _resampling(matrix, resample)
    rows = []
    variables: dict[str, list[list[bool | None]]] = {}
    for code in chosen:
        var = matrix.variable(code)
        variables[code] = var
        rows.append(
            variable_agreement(
                code, matrix.coders, [var], bootstrap=bootstrap, seed=seed, clusters=clusters
            )
        )
    leaves = _leaves_of(chosen)
    unused = [c for c in leaves if not _used_where_compared(variables[c])]
    pooled_codes = [c for c in leaves if c not in unused]
    pooled = None
    if len(pooled_codes) > 1:
        pooled = variable_agreement(
            POOLED,
            matrix.coders,
            [variables[c] for c in pooled_codes],
            bootstrap=bootstrap,
            seed=seed,
            clusters=clusters,
        )
    return AgreementReport(
        coders=list(matrix.coders),
        unit=unit,
        level=level,
        rows=rows,
        pooled=pooled,
        pooled_codes=pooled_codes,
        not_seen_by_all=matrix.not_seen_by_all,
        n_units=matrix.n_compared,
        bootstrap=bootstrap,
        seed=seed,
        resampled=resampled if bootstrap else "",
        unused_codes=unused,
    )


def _used_where_compared(variable: Sequence[Sequence[bool | None]]) -> bool:
    """Whether some coder gave the code to a unit at least two coders have seen."""
    for values in zip(*variable, strict=True):
        seen = [v for v in values if v is not None]
        if len(seen) >= 2 and any(seen):
            return True
    return False


def _resampling(matrix: LayerMatrix, resample: str) -> tuple[list[Any] | None, str]:
    """The cluster key per unit (None: resample units) and what is resampled, in words."""
    units = "turns" if matrix.unit_kind == "segment" else "respondents"
    if matrix.unit_kind != "segment" or resample == "units":
        return None, units
    transcripts = [u.transcript for u in matrix.units]
    if resample == "auto" and len(set(transcripts)) < MIN_TRANSCRIPTS_TO_RESAMPLE:
        return None, units
    return transcripts, "transcripts"


# -- disagreements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """A segment the two coders coded differently (within the chosen code, if any)."""

    segment_id: int
    transcript: str
    respondent: str
    position: int
    speaker: str
    text: str
    codes_a: tuple[str, ...]
    codes_b: tuple[str, ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    memos_a: tuple[str, ...]
    memos_b: tuple[str, ...]

    @property
    def size(self) -> int:
        """How many codes differ."""
        return len(self.only_a) + len(self.only_b)


def disagreements(
    store: Store,
    coder_a: str,
    coder_b: str,
    code: str | None = None,
    level: str = "top",
    *,
    include_in_progress: bool = False,
) -> list[Disagreement]:
    """Segments both coders have seen where their codes differ, in transcript order.

    With ``code`` only codes in its subtree count. ``level='top'`` (the default, as for
    :func:`agreement`, so the list holds exactly the disagreements its figures count) compares
    top codes; ``'all'`` compares the codes as applied (a sibling subcode is a disagreement). Segments in a
    transcript only one of them has seen are not listed: they are missing, not disagreements.
    """
    if level not in LEVELS:
        raise InputError(f"unknown level '{level}'; use top or all")
    matrix = layer_matrix(
        store, [coder_a, coder_b], "segment", include_in_progress=include_in_progress
    )
    if code is not None:
        code = code.strip().strip("/")
        if store.code_id(code) is None:
            raise InputError(
                f"unknown code '{code}'{unknown_code_hint(code, store.code_paths(False))}"
            )

    def view(codes: frozenset[str]) -> set[str]:
        kept = {p for p in codes if code is None or p == code or p.startswith(code + "/")}
        return {p.split("/", 1)[0] for p in kept} if level == "top" else kept

    differing: list[tuple[Unit, frozenset[str], frozenset[str]]] = []
    for u, a, b in zip(matrix.units, matrix.values[coder_a], matrix.values[coder_b], strict=True):
        if a is None or b is None:
            continue
        if view(a) != view(b):
            differing.append((u, a, b))
    if not differing:
        return []
    ids = [u.key for u, _, _ in differing]
    marks = ",".join("?" * len(ids))
    info = {
        r[0]: (r[1], r[2])
        for r in store.conn.execute(
            f"SELECT id, speaker, text FROM segments WHERE id IN ({marks})", ids
        )
    }
    memos: dict[tuple[int, str], list[str]] = {}
    for seg_id, coder, path, memo in store.conn.execute(
        "SELECT c.segment_id, d.name, k.path, c.memo FROM codings c"
        " JOIN coders d ON d.id = c.coder_id JOIN codes k ON k.id = c.code_id"
        f" WHERE c.segment_id IN ({marks}) AND d.name IN (?, ?) AND c.memo IS NOT NULL"
        " AND c.memo != '' ORDER BY k.sort_order, k.path",
        [*ids, coder_a, coder_b],
    ):
        memos.setdefault((seg_id, coder), []).append(f"{path}: {memo}")
    for seg_id, coder, text in store.conn.execute(
        f"SELECT segment_id, coder, text FROM memos WHERE segment_id IN ({marks})"
        " AND coder IN (?, ?) ORDER BY id",
        [*ids, coder_a, coder_b],
    ):
        memos.setdefault((seg_id, coder), []).append(text)
    order = {p: i for i, p in enumerate(store.code_paths(active_only=False))}
    result = []
    for u, a, b in differing:
        va, vb = view(a), view(b)
        sort = sorted(a, key=lambda p: (order.get(p, 1 << 30), p))
        sort_b = sorted(b, key=lambda p: (order.get(p, 1 << 30), p))
        speaker, text = info[u.key]
        result.append(
            Disagreement(
                segment_id=int(u.key),
                transcript=u.transcript or "",
                respondent=u.respondent,
                position=int(u.position or 0),
                speaker=speaker,
                text=text,
                codes_a=tuple(sort),
                codes_b=tuple(sort_b),
                only_a=tuple(sorted(va - vb, key=lambda p: (order.get(p, 1 << 30), p))),
                only_b=tuple(sorted(vb - va, key=lambda p: (order.get(p, 1 << 30), p))),
                memos_a=tuple(memos.get((int(u.key), coder_a), [])),
                memos_b=tuple(memos.get((int(u.key), coder_b), [])),
            )
        )
    return result


def human_layers(store: Store) -> list[str]:
    """Human coder layers that hold at least one coding, in the order they were created."""
    return [
        r[0]
        for r in store.conn.execute(
            "SELECT d.name FROM coders d WHERE d.kind = 'human'"
            " AND EXISTS (SELECT 1 FROM codings c WHERE c.coder_id = d.id) ORDER BY d.id"
        )
    ]
