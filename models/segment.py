"""Segment definitions (editable data), segmentation runs and the per-customer snapshot of each run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from models.base import TimestampMixin, UTCDateTime, utcnow


class SegmentDefinition(TimestampMixin, table=True):
    """A named segment as a box in RFM score space; the first box (lowest ``priority``) that holds a customer wins.

    Rows are seeded by the migration and meant to be edited: renaming, re-ranging or adding a segment needs no code.
    """

    __tablename__ = "segment_definition"

    key: str = Field(primary_key=True, max_length=32)
    label_en: str = Field(max_length=64)
    label_ja: str = Field(max_length=64)
    description: str = ""
    priority: int = Field(index=True)
    r_min: int = Field(default=1, ge=1, le=5)
    r_max: int = Field(default=5, ge=1, le=5)
    f_min: int = Field(default=1, ge=1, le=5)
    f_max: int = Field(default=5, ge=1, le=5)
    m_min: int = Field(default=1, ge=1, le=5)
    m_max: int = Field(default=5, ge=1, le=5)


class SegmentRunStatus:
    running = "running"
    done = "done"
    failed = "failed"


class SegmentRun(SQLModel, table=True):
    """One computation of every customer's RFM scores, segment and decile as of a reference date.

    ``as_of`` is the end of the counted period (exclusive): for a date, the start of the next day. Recency counts
    days to the day of the last counted instant (``insight.segments.service.reference_day``).
    """

    __tablename__ = "segment_run"

    id: int | None = Field(default=None, primary_key=True)
    as_of: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    window_days: int | None = None
    status: str = Field(default=SegmentRunStatus.running, max_length=16, index=True)
    trigger: str = Field(default="manual", max_length=32)
    customers: int = 0
    revenue: float = 0.0
    # Customers with transactions before ``as_of`` that were all cancellations: no segment, outside the revenue.
    left_out_customers: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    left_out_revenue: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_s: float | None = None
    error: str | None = None


class CustomerSegment(SQLModel, table=True):
    """A customer's RFM values, scores, segment, decile and LTV in one run (a dated snapshot)."""

    __tablename__ = "customer_segment"
    __table_args__ = (
        Index("ix_customer_segment_run_segment", "run_id", "segment_key"),
        Index("ix_customer_segment_run_decile", "run_id", "decile"),
    )

    run_id: int = Field(sa_column=Column(Integer, ForeignKey("segment_run.id", ondelete="CASCADE"), primary_key=True))
    customer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True, index=True)
    )
    recency_days: int = Field(description="Days from the last purchase to the reference date.")
    frequency: int = Field(description="Distinct orders (returns excluded) in the window.")
    monetary: float = Field(description="Net revenue (sales minus returns) in the window.")
    r_score: int
    f_score: int
    m_score: int
    segment_key: str | None = Field(default=None, max_length=32)
    decile: int = Field(description="1 = the tenth of customers with the highest monetary value.")
    ltv: float = Field(description="Historical lifetime value: all net revenue up to the reference date.")
    orders: int = Field(description="Distinct orders over the whole history up to the reference date.")
    returns: int = Field(description="Return / cancellation lines up to the reference date.")
    first_purchase_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_purchase_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
