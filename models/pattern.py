"""Win patterns: one computation (a run, with the data snapshot it used) and its per feature and segment results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from models.base import UTCDateTime, utcnow


class PatternRunStatus:
    running = "running"
    done = "done"
    failed = "failed"


class PatternRun(SQLModel, table=True):
    """One computation of win patterns for a segmentation, with the data it was computed on.

    ``segment_run_id`` is the segment snapshot the RFM and decile labels came from (None for other segmentations);
    ``parameters`` holds the options (q threshold, support, feature sources) so a result can be read as it was made.
    """

    __tablename__ = "pattern_run"

    id: int | None = Field(default=None, primary_key=True)
    segmentation: str = Field(max_length=128, index=True)
    segment_run_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("segment_run.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    status: str = Field(default=PatternRunStatus.running, max_length=16, index=True)
    trigger: str = Field(default="manual", max_length=32)
    deals: int = 0
    won: int = 0
    lost: int = 0
    features: int = 0
    tests: int = 0
    significant: int = 0
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = None


class WinPattern(SQLModel, table=True):
    """One feature in one segment of a run: rates, effect (log odds ratio), interval, p, q, shrunk effect, evidence."""

    __tablename__ = "win_pattern"
    __table_args__ = (Index("ix_win_pattern_run_segment", "run_id", "segment"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("pattern_run.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    feature: str = Field(max_length=255)
    kind: str = Field(max_length=16, description="binary or numeric")
    source: str = Field(max_length=32, description="The feature source: lexical, talk_metrics, minutes ...")
    segment: str = Field(max_length=128)
    deals: int
    won: int
    n_with: int
    n_without: int
    won_with: int
    won_without: int
    rate_won: float | None = None
    rate_lost: float | None = None
    win_rate_with: float | None = None
    win_rate_without: float | None = None
    effect: float
    ci_low: float
    ci_high: float
    p: float | None = None
    q: float | None = None
    shrunk: float
    shrunk_low: float
    shrunk_high: float
    tested: bool
    significant: bool = Field(index=True)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
