"""Split-half replication: compute win patterns on half of the deals and check them on the other half.

The halves are drawn at random by group (a dialogue's rows stay together). Features are computed once on all rows:
choosing them uses no outcome, so the second half stays an honest test. A pattern found on the first half
replicates when the second half's raw effect has the same sign; the stricter count also asks p < 0.05 there.
The baseline is the naive method: raw p < 0.05 on the first half, no multiple-testing correction, no shrinkage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from insight.patterns.engine import FeatureColumn, win_patterns
from insight.patterns.features import DealFacts
from insight.patterns.types import Pattern, PatternOptions


@dataclass(frozen=True)
class Replication:
    """How many patterns of the first half replicate on the second, for the method and the naive baseline."""

    found: int
    same_sign: int
    same_sign_significant: int
    baseline_found: int
    baseline_same_sign: int

    @property
    def rate(self) -> float | None:
        """Share of the method's patterns that replicate with the same sign (None when none was found)."""
        return self.same_sign / self.found if self.found else None

    @property
    def baseline_rate(self) -> float | None:
        """Share of the baseline's patterns that replicate with the same sign."""
        return self.baseline_same_sign / self.baseline_found if self.baseline_found else None


def _subset(columns: Sequence[FeatureColumn], mask: np.ndarray) -> list[FeatureColumn]:
    return [FeatureColumn(c.name, c.kind, c.values[mask]) for c in columns]


def split_half(
    deals: Sequence[DealFacts],
    columns: Sequence[FeatureColumn],
    *,
    seed: int,
    options: PatternOptions | None = None,
    group: Callable[[DealFacts], str] = lambda d: str(d.deal_id).split(":")[0],
) -> Replication:
    """One random split: patterns of the first half checked on the second.

    Args:
        deals: The decided rows (outcome and segment).
        columns: Their feature columns, same order.
        seed: Seeds the split.
        options: The pattern options of both halves.
        group: Rows with the same group key go to the same half.

    Returns:
        The counts of the method and of the naive baseline.
    """
    groups = sorted({group(d) for d in deals})
    rng = np.random.default_rng(seed)
    first = set(rng.permutation(len(groups))[: len(groups) // 2].tolist())
    in_first = {g for i, g in enumerate(groups) if i in first}
    mask = np.array([group(d) in in_first for d in deals])
    won = np.array([d.won for d in deals])
    labels = [d.segment for d in deals]

    def run(m: np.ndarray) -> dict[tuple[str, str], Pattern]:
        result = win_patterns(won[m], [s for s, k in zip(labels, m, strict=True) if k], _subset(columns, m), options)
        return {(p.feature, p.segment): p for p in result.patterns}

    a, b = run(mask), run(~mask)

    def replicates(p: Pattern) -> tuple[bool, bool]:
        other = b.get((p.feature, p.segment))
        if other is None or other.deals == 0:
            return False, False
        same = np.sign(other.effect) == np.sign(p.effect)
        return bool(same), bool(same and other.p is not None and other.p < 0.05)

    found = [p for p in a.values() if p.significant]
    checked = [replicates(p) for p in found]
    baseline = [p for p in a.values() if p.tested and p.p is not None and p.p < 0.05]
    return Replication(
        found=len(found),
        same_sign=sum(s for s, _ in checked),
        same_sign_significant=sum(s for _, s in checked),
        baseline_found=len(baseline),
        baseline_same_sign=sum(replicates(p)[0] for p in baseline),
    )
