"""Win-pattern statistics: which features go with winning, per segment, with honest error control.

The unit is a decided deal (won or lost): a deal's outcome is what is observed, so one row per deal keeps deals
with many calls from counting several times (per-call rows would make the tests overconfident). A deal has a
feature when any of its calls has it; a numeric feature is the mean over its calls.

Per feature and segment (plus the pseudo-segment :data:`~insight.patterns.types.ALL_SEGMENTS` holding every deal):

* the rates in won and lost deals and the win rate with and without the feature;
* the effect: the log odds ratio of winning with versus without the feature, Haldane-corrected (0.5 added to each
  cell, so empty cells give finite values), with a normal 95 % interval. A numeric feature is split at the median
  of all deals for the effect;
* a p-value: Fisher's exact test (binary) or the Mann-Whitney U test of the won against the lost values (numeric);
  a segment is tested only with ``min_support`` deals on both sides of the split;
* the Benjamini-Hochberg q-value over every test of the run (all features, all segments, the pooled row);
* the empirical-Bayes effect: a normal-normal model on the log odds ratios of the segments, the between-segment
  variance by the DerSimonian-Laird method of moments, each segment pulled toward the pooled estimate in
  proportion to its sampling variance. A segment with six deals and an extreme raw effect ends near the pool.

A pattern is significant when it was tested, its q-value is at most ``q_max`` and the interval of its shrunk
effect excludes zero. Pure numpy/scipy: no database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from insight.patterns.types import ALL_SEGMENTS, FeatureKind, Pattern, PatternOptions, PatternResult


@dataclass(frozen=True)
class FeatureColumn:
    """One feature's value per deal: 0/1 for binary, a number for numeric; NaN where unknown (left out)."""

    name: str
    kind: FeatureKind
    values: NDArray[np.float64]


@dataclass
class _Cell:
    segment: str
    deals: int
    won: int
    n_with: int
    n_without: int
    won_with: int
    won_without: int
    rate_won: float | None
    rate_lost: float | None
    effect: float
    variance: float
    p: float | None
    tested: bool


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg q-values (step-up, monotone, capped at 1), in the order of ``p_values``."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    # Running minimum from the largest p down keeps q monotone in p.
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return [float(x) for x in q]


def log_odds_ratio(a: float, b: float, c: float, d: float, haldane: float = 0.5) -> tuple[float, float]:
    """The log odds ratio of a 2x2 table ``[[a, b], [c, d]]`` and its variance, with ``haldane`` added to each cell.

    Rows are with/without the feature, columns won/lost.
    """
    a, b, c, d = (x + haldane for x in (a, b, c, d))
    return math.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


def shrink(effects: NDArray[np.float64], variances: NDArray[np.float64]) -> tuple[float, float, float]:
    """The pooled estimate, its variance and the between-segment variance tau² (DerSimonian-Laird).

    Args:
        effects: Per-segment log odds ratios.
        variances: Their sampling variances.

    Returns:
        ``(mu, var_mu, tau2)``; with fewer than two segments tau² is infinite (nothing to shrink toward).
    """
    k = effects.size
    if k == 0:
        return 0.0, math.inf, math.inf
    w = 1.0 / variances
    mu_fixed = float(np.sum(w * effects) / np.sum(w))
    if k < 2:
        return mu_fixed, float(1.0 / np.sum(w)), math.inf
    q_stat = float(np.sum(w * (effects - mu_fixed) ** 2))
    denom = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q_stat - (k - 1)) / denom) if denom > 0 else 0.0
    w_star = 1.0 / (variances + tau2)
    mu = float(np.sum(w_star * effects) / np.sum(w_star))
    return mu, float(1.0 / np.sum(w_star)), tau2


def _cell(
    segment: str,
    won: NDArray[np.bool_],
    present: NDArray[np.bool_],
    raw: NDArray[np.float64] | None,
    options: PatternOptions,
) -> _Cell:
    n = int(won.size)
    n_won = int(won.sum())
    n_with = int(present.sum())
    n_without = n - n_with
    a = int((won & present).sum())
    c = n_won - a
    b = n_with - a
    d = n_without - c
    effect, variance = log_odds_ratio(a, b, c, d, options.haldane)
    tested = n_with >= options.min_support and n_without >= options.min_support and 0 < n_won < n
    p: float | None = None
    if raw is None:
        rate_won = a / n_won if n_won else None
        rate_lost = b / (n - n_won) if n > n_won else None
        if tested:
            p = float(stats.fisher_exact([[a, b], [c, d]])[1])
    else:
        rate_won = float(raw[won].mean()) if n_won else None
        rate_lost = float(raw[~won].mean()) if n > n_won else None
        if tested:
            p = float(stats.mannwhitneyu(raw[won], raw[~won], alternative="two-sided").pvalue)
            if math.isnan(p):  # every value equal: no evidence either way
                p = 1.0
    return _Cell(segment, n, n_won, n_with, n_without, a, c, rate_won, rate_lost, effect, variance, p, tested)


def win_patterns(
    won: Sequence[bool] | NDArray[np.bool_],
    segments: Sequence[str],
    features: Sequence[FeatureColumn],
    options: PatternOptions | None = None,
) -> PatternResult:
    """Every feature's pattern in every segment and across all deals, with BH q-values and shrunk effects.

    Args:
        won: One outcome per decided deal (True = won, False = lost).
        segments: The deal's segment label under the chosen segmentation, same order.
        features: Feature columns with one value per deal.
        options: Support, q threshold, interval width and the continuity correction.

    Returns:
        The patterns (segments in sorted order, the pooled row first per feature) and the number of tests made.

    Raises:
        ValueError: When the lengths differ or a feature name repeats.
    """
    opts = options or PatternOptions()
    outcome = np.asarray(won, dtype=bool)
    labels = np.asarray([str(s) for s in segments], dtype=object)
    if labels.size != outcome.size:
        raise ValueError(f"{outcome.size} outcomes but {labels.size} segment labels")
    names = [f.name for f in features]
    if len(set(names)) != len(names):
        raise ValueError("feature names must be unique")
    segment_names = sorted({str(s) for s in labels} - {ALL_SEGMENTS})

    per_feature: list[tuple[FeatureColumn, list[_Cell]]] = []
    for feature in features:
        values = np.asarray(feature.values, dtype=np.float64)
        if values.size != outcome.size:
            raise ValueError(f"feature {feature.name!r} has {values.size} values for {outcome.size} deals")
        known = ~np.isnan(values)
        if feature.kind == "numeric":
            median = float(np.median(values[known])) if known.any() else 0.0
            present = values > median
            raw: NDArray[np.float64] | None = values
        else:
            present = values > 0.5
            raw = None
        cells = [_cell(ALL_SEGMENTS, outcome[known], present[known], None if raw is None else raw[known], opts)]
        for segment in segment_names:
            mask = known & (labels == segment)
            cells.append(_cell(segment, outcome[mask], present[mask], None if raw is None else raw[mask], opts))
        per_feature.append((feature, cells))

    tested = [c for _, cells in per_feature for c in cells if c.tested]
    q_values = dict(zip(map(id, tested), benjamini_hochberg([c.p for c in tested if c.p is not None]), strict=True))

    patterns: list[Pattern] = []
    tau2s: dict[str, float] = {}
    for feature, cells in per_feature:
        # Segments with deals on both sides of the split inform the pool; the rest are shrunk with it all the same.
        informative = [c for c in cells[1:] if c.n_with > 0 and c.n_without > 0 and 0 < c.won < c.deals]
        mu, var_mu, tau2 = shrink(
            np.array([c.effect for c in informative]), np.array([c.variance for c in informative])
        )
        if math.isinf(tau2):
            mu, var_mu, tau2 = cells[0].effect, cells[0].variance, math.inf
        tau2s[feature.name] = tau2
        for cell in cells:
            se = math.sqrt(cell.variance)
            if cell.segment == ALL_SEGMENTS or math.isinf(tau2):
                shrunk, post_var = cell.effect, cell.variance
            else:
                weight = cell.variance / (cell.variance + tau2)  # 1: all pool, 0: all data
                shrunk = weight * mu + (1 - weight) * cell.effect
                post_var = (1 - weight) * cell.variance + weight**2 * var_mu
            post_se = math.sqrt(post_var)
            low, high = shrunk - opts.z * post_se, shrunk + opts.z * post_se
            q = q_values.get(id(cell))
            significant = cell.tested and q is not None and q <= opts.q_max and (low > 0 or high < 0)
            patterns.append(
                Pattern(
                    feature=feature.name,
                    kind=feature.kind,
                    segment=cell.segment,
                    deals=cell.deals,
                    won=cell.won,
                    n_with=cell.n_with,
                    n_without=cell.n_without,
                    won_with=cell.won_with,
                    won_without=cell.won_without,
                    rate_won=cell.rate_won,
                    rate_lost=cell.rate_lost,
                    win_rate_with=cell.won_with / cell.n_with if cell.n_with else None,
                    win_rate_without=cell.won_without / cell.n_without if cell.n_without else None,
                    effect=cell.effect,
                    ci_low=cell.effect - opts.z * se,
                    ci_high=cell.effect + opts.z * se,
                    p=cell.p,
                    q=q,
                    shrunk=shrunk,
                    shrunk_low=low,
                    shrunk_high=high,
                    tested=cell.tested,
                    significant=significant,
                )
            )
    return PatternResult(patterns=patterns, tests=len(tested), tau2=tau2s)
