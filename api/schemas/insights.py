"""API contracts for insights across deals: win patterns per segment (not tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class EvidencePublic(BaseModel):
    """One utterance (or, for a talk metric, one call) that shows a pattern; the quote is the redacted text."""

    deal_id: int | str
    won: bool
    call_id: int | None = None
    utterance_id: int | None = None
    start: float = Field(description="Seconds into the call.")
    text: str | None = Field(default=None, description="The redacted quote; none for a whole-call metric.")
    value: float | None = Field(default=None, description="The metric's value in that call, for talk metrics.")


class PatternRunPublic(BaseModel):
    """The computation the patterns come from: segmentation, segment snapshot, counts, parameters and time."""

    id: int
    segmentation: str
    segment_run_id: int | None = Field(description="The segment run the RFM or decile labels came from.")
    trigger: str
    deals: int
    won: int
    lost: int
    features: int
    tests: int = Field(description="Tests made in the run: the Benjamini-Hochberg correction covers all of them.")
    significant: int
    parameters: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None


class WinPatternPublic(BaseModel):
    """A feature in a segment: rates, effect on winning (log odds ratio), interval, p, q, shrunk effect, evidence."""

    feature: str
    kind: str = Field(description="binary, or numeric (split at the median for the effect).")
    source: str
    segment: str
    deals: int
    won: int
    n_with: int
    n_without: int
    won_with: int
    won_without: int
    rate_won: float | None = Field(description="Share of won deals with the feature (numeric: mean value).")
    rate_lost: float | None = Field(description="Share of lost deals with the feature (numeric: mean value).")
    win_rate_with: float | None
    win_rate_without: float | None
    effect: float = Field(description="Log odds ratio of winning with versus without the feature (Haldane).")
    ci_low: float
    ci_high: float
    p: float | None = Field(description="Fisher's exact test (binary) or Mann-Whitney U (numeric); none: untested.")
    q: float | None = Field(description="Benjamini-Hochberg q-value over every test of the run.")
    shrunk: float = Field(description="Empirical-Bayes effect, pulled toward the estimate of all segments.")
    shrunk_low: float
    shrunk_high: float
    tested: bool = Field(description="False when the segment lacks deals with or without the feature.")
    significant: bool
    evidence: list[EvidencePublic]


class WinPatternsPublic(BaseModel):
    """The win patterns of a run, with the run they come from."""

    run: PatternRunPublic
    data: list[WinPatternPublic]
