"""The win-pattern statistics on generated corpora: a planted effect is found where it is, the false discovery rate
is held on null corpora, and small segments are shrunk toward the pooled estimate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from insight.patterns.engine import FeatureColumn, benjamini_hochberg, log_odds_ratio, win_patterns
from insight.patterns.types import ALL_SEGMENTS, PatternOptions

SEGMENTS = ("champions", "loyal", "at_risk", "new")


def _corpus(
    seed: int, *, deals_per_segment: int = 200, features: int = 12, planted: float = 0.0
) -> tuple[np.ndarray, list[str], list[FeatureColumn]]:
    """Deals in four segments with binary phrase features and one numeric feature; ``planted`` raises the win
    probability of deals with feature ``f0`` in segment ``at_risk`` only (0 = a null corpus)."""
    rng = np.random.default_rng(seed)
    n = deals_per_segment * len(SEGMENTS)
    labels = [s for s in SEGMENTS for _ in range(deals_per_segment)]
    base = {"champions": 0.55, "loyal": 0.45, "at_risk": 0.3, "new": 0.4}
    prevalence = rng.uniform(0.15, 0.6, size=features)
    x = rng.random((n, features)) < prevalence
    p_win = np.array([base[s] for s in labels])
    at_risk = np.array([s == "at_risk" for s in labels])
    p_win = np.where(at_risk & x[:, 0], np.minimum(p_win + planted, 0.95), p_win)
    won = rng.random(n) < p_win
    columns = [FeatureColumn(f"f{i}", "binary", x[:, i].astype(float)) for i in range(features)]
    # A numeric feature unrelated to the outcome (talk ratio-like).
    columns.append(FeatureColumn("talk_ratio", "numeric", rng.beta(4, 4, size=n)))
    return won, labels, columns


def test_benjamini_hochberg_matches_the_textbook_example() -> None:
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    assert q == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg([]) == []


def test_log_odds_ratio_is_finite_with_empty_cells() -> None:
    effect, variance = log_odds_ratio(5, 0, 0, 5)
    assert effect == pytest.approx(np.log(5.5 * 5.5 / (0.5 * 0.5)))
    assert variance == pytest.approx(2 / 5.5 + 2 / 0.5)


def test_planted_effect_is_found_in_its_segment_only() -> None:
    won, labels, columns = _corpus(7, planted=0.45)
    result = win_patterns(won, labels, columns)
    significant = {(p.feature, p.segment) for p in result.significant()}
    assert ("f0", "at_risk") in significant
    # Nothing else in the segments is claimed (the pooled row of f0 may carry the diluted true effect).
    assert significant - {("f0", "at_risk"), ("f0", ALL_SEGMENTS)} == set()
    planted = next(p for p in result.patterns if p.feature == "f0" and p.segment == "at_risk")
    assert planted.effect > 0
    assert planted.shrunk > 0
    assert planted.q is not None
    assert planted.q <= 0.1
    assert planted.win_rate_with is not None
    assert planted.win_rate_without is not None
    assert planted.win_rate_with > planted.win_rate_without
    # Every tested cell took part in the same BH correction.
    assert result.tests == sum(p.tested for p in result.patterns)
    assert result.tests == len(columns) * (len(SEGMENTS) + 1)


def test_false_discovery_rate_is_held_on_null_corpora() -> None:
    runs = 200
    any_discovery = 0
    fdp = []
    for seed in range(runs):
        won, labels, columns = _corpus(1000 + seed, deals_per_segment=120, features=10)
        found = win_patterns(won, labels, columns).significant()
        any_discovery += bool(found)
        fdp.append(1.0 if found else 0.0)  # every discovery on a null corpus is false
    # Under the global null the FDR equals the family-wise error rate: BH holds it at q_max = 0.1.
    assert any_discovery / runs <= 0.1 + 0.05
    assert float(np.mean(fdp)) <= 0.1 + 0.05


def test_planted_corpora_hold_the_false_discovery_proportion() -> None:
    fdps = []
    hits = 0
    for seed in range(60):
        won, labels, columns = _corpus(5000 + seed, deals_per_segment=150, planted=0.35)
        found = {(p.feature, p.segment) for p in win_patterns(won, labels, columns).significant()}
        true = {("f0", "at_risk"), ("f0", ALL_SEGMENTS)}
        hits += ("f0", "at_risk") in found
        fdps.append(len(found - true) / len(found) if found else 0.0)
    assert float(np.mean(fdps)) <= 0.1 + 0.05
    # Power, measured 46 of 60 at this size and effect (+0.35 win probability in a quarter of the deals).
    assert hits / 60 >= 0.65


def test_a_small_segment_with_an_extreme_effect_is_pulled_toward_the_pool() -> None:
    rng = np.random.default_rng(3)
    labels: list[str] = []
    won: list[bool] = []
    present: list[float] = []
    # Three big segments where the feature mildly helps (about +0.4 log odds).
    for segment in ("a", "b", "c"):
        for _ in range(300):
            has = bool(rng.random() < 0.5)
            labels.append(segment)
            present.append(float(has))
            won.append(bool(rng.random() < (0.55 if has else 0.45)))
    # Six deals: the three with the feature all lost, the three without all won.
    for has, outcome in ((1.0, False), (1.0, False), (1.0, False), (0.0, True), (0.0, True), (0.0, True)):
        labels.append("tiny")
        present.append(has)
        won.append(outcome)
    result = win_patterns(won, labels, [FeatureColumn("phrase", "binary", np.array(present))])
    by_segment = {p.segment: p for p in result.patterns}
    tiny, pooled = by_segment["tiny"], by_segment[ALL_SEGMENTS]
    assert tiny.deals == 6
    assert not tiny.tested
    assert tiny.p is None
    assert not tiny.significant
    assert tiny.effect < -3  # the raw claim: winning is 50 times less likely with the phrase
    assert abs(tiny.shrunk - pooled.effect) < abs(tiny.effect - pooled.effect) / 3
    assert tiny.shrunk_high - tiny.shrunk_low < tiny.ci_high - tiny.ci_low
    # The big segments keep most of their own estimate.
    assert abs(by_segment["a"].shrunk - by_segment["a"].effect) < 0.2


def test_numeric_features_use_mann_whitney_and_a_median_split() -> None:
    rng = np.random.default_rng(11)
    n = 400
    won = rng.random(n) < 0.5
    values = rng.normal(0, 1, n) + np.where(won, 0.6, 0.0)
    result = win_patterns(won, ["x"] * n, [FeatureColumn("questions", "numeric", values)])
    pooled = next(p for p in result.patterns if p.segment == ALL_SEGMENTS)
    expected = stats.mannwhitneyu(values[won], values[~won], alternative="two-sided").pvalue
    assert pooled.p == pytest.approx(expected)
    assert pooled.rate_won is not None
    assert pooled.rate_lost is not None
    assert pooled.rate_won > pooled.rate_lost
    assert pooled.n_with + pooled.n_without == n
    assert pooled.significant
    assert pooled.effect > 0


def test_missing_values_are_left_out_and_bad_input_is_refused() -> None:
    values = np.array([1.0, 0.0, np.nan, 1.0])
    result = win_patterns([True, False, True, False], ["s"] * 4, [FeatureColumn("f", "binary", values)])
    assert next(p for p in result.patterns if p.segment == ALL_SEGMENTS).deals == 3
    with pytest.raises(ValueError, match="segment labels"):
        win_patterns([True], ["a", "b"], [])
    with pytest.raises(ValueError, match="q_max"):
        PatternOptions(q_max=0)
