"""Plain types of the win-pattern statistics: the options of a run and one pattern (feature x segment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FeatureKind = Literal["binary", "numeric"]

# The pseudo-segment that holds every deal: the estimate each segment's effect is shrunk toward.
ALL_SEGMENTS = "all"


@dataclass(frozen=True)
class PatternOptions:
    """How a run decides what is a pattern.

    Attributes:
        q_max: Benjamini-Hochberg q-value at or below which a tested pattern may be significant.
        min_support: Deals needed both with and without the feature (numeric: above and at-or-below the median)
            in a segment before it is tested at all.
        z: Normal quantile of the intervals (1.96: 95 %).
        haldane: Added to every cell of a 2x2 table for the log odds ratio (0.5: Haldane-Anscombe).
    """

    q_max: float = 0.1
    min_support: int = 5
    z: float = 1.959963984540054
    haldane: float = 0.5

    def __post_init__(self) -> None:
        """Reject options that make no statistical sense."""
        if not 0.0 < self.q_max < 1.0:
            raise ValueError(f"q_max must be in (0, 1), not {self.q_max}")
        if self.min_support < 1:
            raise ValueError(f"min_support must be at least 1, not {self.min_support}")
        if self.haldane <= 0:
            raise ValueError(f"haldane must be positive, not {self.haldane}")


@dataclass(frozen=True)
class Pattern:
    """One feature in one segment: its rates, effect on winning, test and shrunk effect.

    ``effect`` is the log odds ratio of winning with versus without the feature (numeric features: above versus
    at-or-below the all-deal median), with the Haldane correction; ``p`` is Fisher's exact test for a binary
    feature and the Mann-Whitney U test of won against lost values for a numeric one; ``q`` is the
    Benjamini-Hochberg q-value over every test of the run. ``shrunk`` is the empirical-Bayes estimate pulled toward
    the pooled estimate of all segments. ``p`` and ``q`` are None when the segment lacks support (not tested).
    """

    feature: str
    kind: FeatureKind
    segment: str
    deals: int
    won: int
    n_with: int
    n_without: int
    won_with: int
    won_without: int
    rate_won: float | None  # share of won deals with the feature (numeric: mean value in won deals)
    rate_lost: float | None  # share of lost deals with the feature (numeric: mean value in lost deals)
    win_rate_with: float | None
    win_rate_without: float | None
    effect: float
    ci_low: float
    ci_high: float
    p: float | None
    q: float | None
    shrunk: float
    shrunk_low: float
    shrunk_high: float
    tested: bool
    significant: bool


@dataclass(frozen=True)
class PatternResult:
    """Every pattern of a run, the number of tests made and the pooled between-segment variances."""

    patterns: list[Pattern]
    tests: int
    tau2: dict[str, float] = field(default_factory=dict)

    def significant(self) -> list[Pattern]:
        """The significant patterns, strongest shrunk effect first."""
        return sorted((p for p in self.patterns if p.significant), key=lambda p: -abs(p.shrunk))
