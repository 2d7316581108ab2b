"""API contracts for customers, segments, deciles and imports (not tables)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class ExternalIdPublic(BaseModel):
    """A customer's id in an outside system (a CRM, or an import's customer source)."""

    source: str
    external_id: str


class SegmentLabelPublic(BaseModel):
    """A segment's key with its English and Japanese labels."""

    key: str
    label_en: str
    label_ja: str


class RFMPublic(BaseModel):
    """A customer's RFM scores (1-5), segment, decile and lifetime value in one segment run."""

    run_id: int
    as_of: datetime
    recency_days: int = Field(description="Days from the last purchase to the reference date")
    frequency: int = Field(description="Distinct orders (returns excluded)")
    monetary: float = Field(description="Net revenue: sales minus returns")
    r_score: int
    f_score: int
    m_score: int
    rfm_cell: str = Field(description="The three scores, e.g. '545'")
    segment: SegmentLabelPublic | None
    decile: int = Field(description="1 = the tenth of customers with the highest monetary value")
    ltv: float = Field(description="Historical lifetime value: all net revenue up to the reference date")


class SegmentHistoryPublic(BaseModel):
    """A customer's segment, decile and scores in one run."""

    run_id: int
    as_of: datetime
    segment_key: str | None
    decile: int
    r_score: int
    f_score: int
    m_score: int


class TransactionPublic(BaseModel):
    """One purchase line, or a return line (is_return, negative amount)."""

    id: int
    occurred_at: datetime
    amount: float
    currency: str | None
    quantity: float | None
    order_id: str
    product: str | None
    is_return: bool
    source: str


class TransactionsSummaryPublic(BaseModel):
    """Totals of a customer's purchases and returns, with the most recent transactions."""

    transactions: int
    sales: int
    returns: int
    orders: int
    gross_sales: float
    returns_amount: float
    net_revenue: float
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None
    currencies: list[str]
    recent: list[TransactionPublic]


class DealPublic(BaseModel):
    """A deal with the customer, as synced from a CRM."""

    id: int
    source: str
    external_id: str
    name: str | None
    stage: str | None
    outcome: str
    amount: float | None
    currency: str | None
    closed_at: datetime | None
    owner: str | None


class CustomerCallPublic(BaseModel):
    """A call with the customer, in brief, with its insights once analysed."""

    id: int
    status: str
    filename: str
    created_at: datetime
    recorded_at: datetime | None
    duration_s: float
    language: str | None
    deal_id: int | None
    insights: dict[str, Any] = Field(
        default_factory=dict, description="Minutes, topics and sentiment of the call once analysed"
    )
    urls: dict[str, str] = {}


class CustomerPublic(BaseModel):
    """A customer's profile and ids in outside systems."""

    id: int
    name: str | None
    company: str | None
    email: str | None
    phone: str | None
    country: str | None
    properties: dict[str, Any]
    external_ids: list[ExternalIdPublic]
    created_at: datetime
    updated_at: datetime


class EvidencePublic(BaseModel):
    """Where an insight was said: the call, the utterance, seconds into the call, and the quote (redacted unless
    you may read the call's original).
    """

    call_id: int
    utterance_id: int | None
    start: float
    quote: str
    view: str = Field(description="original or redacted: the view of the call the quote comes from")


class InsightItemPublic(BaseModel):
    """A need or an objection, how many calls raised it, and the evidence of its latest mention."""

    text: str
    confidence: float
    call_id: int
    at: datetime
    calls: list[int]
    evidence: EvidencePublic


class InsightActionPublic(BaseModel):
    """A next action of the latest minutes, with its owner, due date and evidence."""

    text: str
    owner_role: str
    owner_name: str | None
    due: date | None
    due_text: str | None
    confidence: float
    call_id: int
    at: datetime
    evidence: EvidencePublic


class CompetitorPublic(BaseModel):
    """A competitor named in the customer's calls."""

    name: str
    mentions: int
    calls: list[int]
    evidence: EvidencePublic


class SentimentPointPublic(BaseModel):
    """The customer's sentiment in one call, in [-1, 1]."""

    call_id: int
    at: datetime
    overall: float
    label: str
    confidence: float | None


class InsightCallPublic(BaseModel):
    """One of the customer's calls in the profile: when, its deal and the deal's outcome."""

    call_id: int
    at: datetime
    status: str
    deal_id: int | None
    deal_external_id: str | None
    outcome: str | None
    minutes: bool
    sentiment: str | None


class InsightDealPublic(BaseModel):
    """One of the customer's deals with its outcome and the calls about it you may see."""

    deal_id: int
    external_id: str
    source: str
    name: str | None
    stage: str | None
    outcome: str
    amount: float | None
    currency: str | None
    closed_at: datetime | None
    call_ids: list[int]


class CustomerInsightsPublic(BaseModel):
    """What the customer's calls (those you may see), minutes and deals say; every item cites its evidence."""

    last_contact: datetime | None
    calls: list[InsightCallPublic] = Field(description="In the order they took place")
    needs: list[InsightItemPublic] = Field(description="The most often raised first")
    objections: list[InsightItemPublic] = Field(description="Raised in calls whose deal is still open (or none)")
    next_actions: list[InsightActionPublic] = Field(description="From the latest minutes")
    competitors: list[CompetitorPublic]
    sentiment: list[SentimentPointPublic] = Field(description="Per call, in the order the calls took place")
    deals: list[InsightDealPublic]
    topics: list[dict[str, Any]] | None = Field(
        default=None,
        description="The customer side's topics in the calls you may see, most calls first, with redacted quotes "
        "(empty until topics are fitted)",
    )
    win_patterns: list[dict[str, Any]] | None = Field(
        default=None,
        description="The significant win patterns of the customer's segment, each matched (with the utterance), "
        "missed or measured (empty until patterns are computed)",
    )


class CustomerRecordPublic(BaseModel):
    """Everything known about a customer: profile, RFM, segment history, purchases, deals and calls."""

    profile: CustomerPublic
    rfm: RFMPublic | None = Field(description="From the newest segment run; null when not segmented")
    segment_history: list[SegmentHistoryPublic]
    transactions: TransactionsSummaryPublic
    deals: list[DealPublic]
    calls: list[CustomerCallPublic] = Field(description="The customer's newest calls among those you may see")
    calls_total: int = Field(description="How many of the customer's calls you may see")
    insights: CustomerInsightsPublic | None = Field(
        default=None, description="Needs, objections, next actions, competitors, sentiment and deals, with evidence"
    )


class RunPublic(BaseModel):
    """A segment run: the period it counted, its totals and how it went."""

    id: int
    as_of: datetime = Field(description="End of the counted period (exclusive): for a date, the next day's start")
    as_of_date: date = Field(description="The reference date: recency is whole days from the last purchase to it")
    window_days: int | None
    status: str
    trigger: str
    customers: int
    revenue: float
    left_out_customers: int = Field(
        description="Customers whose transactions to date were all cancellations: no segment, outside the revenue"
    )
    left_out_revenue: float = Field(description="Their net amount (sum of their cancellations)")
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    error: str | None


class SegmentPublic(BaseModel):
    """One segment in a run: its customers and net revenue, and their shares (0-1) of the run's totals."""

    key: str
    label_en: str
    label_ja: str
    description: str
    priority: int | None
    customers: int
    customer_share: float
    revenue: float
    revenue_share: float


class SegmentsPublic(BaseModel):
    """Every defined segment in a run (empty ones included), with the run's totals."""

    run: RunPublic
    customers: int
    revenue: float
    data: list[SegmentPublic]


class DecilePublic(BaseModel):
    """One tenth of the customers by monetary value: its revenue, shares (0-1) and monetary range."""

    decile: int
    customers: int
    revenue: float
    revenue_share: float
    cumulative_share: float
    min_monetary: float
    max_monetary: float


class DecilesPublic(BaseModel):
    """The decile analysis of a run, decile 1 (highest monetary value) first."""

    run: RunPublic
    data: list[DecilePublic]


class SegmentCustomerPublic(BaseModel):
    """A customer in a segment, with their RFM values in the run."""

    id: int
    name: str | None
    company: str | None
    recency_days: int
    frequency: int
    monetary: float
    r_score: int
    f_score: int
    m_score: int
    decile: int
    ltv: float
    last_purchase_at: datetime
    urls: dict[str, str] = {}


class SegmentCustomersPublic(BaseModel):
    """A page of a segment's customers in a run, highest monetary value first."""

    run: RunPublic
    segment: str
    data: list[SegmentCustomerPublic]
    count: int
    offset: int
    limit: int


class MovementPublic(BaseModel):
    """How many customers went from one segment to another between two runs (none: not segmented in that run)."""

    from_segment: str
    to_segment: str
    customers: int


class MovementsPublic(BaseModel):
    """Customer movements between the segments of two runs."""

    from_run: int
    to_run: int
    data: list[MovementPublic]


class DefinitionPublic(BaseModel):
    """A segment definition: labels, priority and the score ranges (inclusive) that put a customer in it."""

    key: str
    label_en: str
    label_ja: str
    description: str
    priority: int
    r_min: int
    r_max: int
    f_min: int
    f_max: int
    m_min: int
    m_max: int


class DefinitionUpdate(BaseModel):
    """Changes to a segment definition (admin only); null fields are left alone."""

    label_en: str | None = Field(default=None, max_length=64)
    label_ja: str | None = Field(default=None, max_length=64)
    description: str | None = None
    priority: int | None = None
    r_min: int | None = Field(default=None, ge=1, le=5)
    r_max: int | None = Field(default=None, ge=1, le=5)
    f_min: int | None = Field(default=None, ge=1, le=5)
    f_max: int | None = Field(default=None, ge=1, le=5)
    m_min: int | None = Field(default=None, ge=1, le=5)
    m_max: int | None = Field(default=None, ge=1, le=5)


class ComputeRequest(BaseModel):
    """Options of a segment run; window_days counts frequency and monetary over that many days only."""

    as_of: date | None = Field(
        default=None,
        description="Reference date: purchases up to the end of that day count, recency is days to it; default now",
    )
    window_days: int | None = Field(default=None, ge=1)


class RowErrorPublic(BaseModel):
    """Why a row of an imported file was rejected, and where."""

    row: int
    column: str | None
    value: str | None
    reason: str


class ImportReportPublic(BaseModel):
    """What a transaction import read, rejected, stored and skipped, with the amounts."""

    file: str
    source: str
    customer_source: str
    file_format: str
    preset: str | None = Field(description="The data set whose layout was used, given or recognised")
    encoding: str | None = Field(description="The text encoding read (detected unless given); none for Parquet")
    columns: dict[str, str] = Field(description="The column each field was read from")
    rows_read: int
    rows_rejected: int
    rows_no_customer: int = Field(description="Valid rows without a customer (counted below too, not stored)")
    no_customer_return_rows: int = Field(description="Cancellations among the rows without a customer")
    sales_rows: int
    return_rows: int = Field(description="Returns and cancellations, with or without a customer")
    gross_total: float
    no_customer_total: float
    sales_total: float
    returns_total: float
    inserted: int
    already_present: int = Field(description="Rows stored by an earlier import (same id or same content): skipped")
    already_present_from: datetime | None
    already_present_to: datetime | None
    customers_created: int
    calls_linked: int
    committed: bool
    duration_s: float
    missing_columns: list[str]
    errors: list[RowErrorPublic]
    errors_truncated: bool
