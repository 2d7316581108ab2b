"""Segment computation and the read models built on it (segment table, deciles, movement, customer record).

A run computes, as of a reference date, each customer's recency (whole days from the day of the last purchase to the
reference date: a purchase on that date gives 0), frequency (distinct orders, returns excluded), monetary value
(net revenue: sales minus returns), their 1-5 quintile scores, the named segment (first matching row of
``segment_definition``), the monetary decile and the historical LTV. Purchases up to the end of the reference date
count. Customers whose transactions to date were all cancelled have no purchase to date a recency from: they are
left out of the run, its revenue and its deciles, and the run records how many there were.
Every run is kept as a dated snapshot, so movement between segments can be shown.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from insight.db import session_scope
from insight.errors import InsightError, InvalidSegmentDefinition, NotFound
from insight.repositories import segments as segments_repo
from models import SegmentDefinition, SegmentRun
from models.base import utcnow

log = logging.getLogger(__name__)

UNCLASSIFIED = "unclassified"

# Per-run segment totals are read on every dashboard view but only change when a run completes (a new run id) or a
# customer is erased; they are kept for COUNTS_TTL_S, and erasure in this process drops them at once.
COUNTS_TTL_S = 30.0
_CountsKey = tuple[str, int, datetime | None, datetime]
_counts_cache: dict[_CountsKey, tuple[float, list[segments_repo.SegmentCount]]] = {}
_counts_lock = threading.Lock()


def _segment_counts(session: Session, run: SegmentRun) -> list[segments_repo.SegmentCount]:
    assert run.id is not None
    # The database and the run's own timestamps are part of the key: run ids repeat across databases (and after a
    # database is emptied), a run's start and finish instants do not.
    key: _CountsKey = (str(session.get_bind().engine.url), run.id, run.finished_at, run.started_at)
    now = time.monotonic()
    with _counts_lock:
        hit = _counts_cache.get(key)
    if hit is not None and now - hit[0] < COUNTS_TTL_S:
        return hit[1]
    counts = segments_repo.segment_counts(session, run.id)
    with _counts_lock:
        if len(_counts_cache) > 64:
            _counts_cache.clear()
        _counts_cache[key] = (now, counts)
    return counts


def forget_cached_counts() -> None:
    """Drop the cached per-run segment totals (after customers were erased)."""
    with _counts_lock:
        _counts_cache.clear()


def as_of_instant(value: date | datetime | None) -> datetime:
    """The end (exclusive) of a run's counted period: a date means the start of the next day (that whole day
    counts), UTC; an instant is taken as it is; none means now.
    """
    if value is None:
        return utcnow()
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC) + timedelta(days=1)


def reference_day(as_of: datetime) -> date:
    """The date a run is as of: the UTC day of its last counted instant (``--as-of 2026-11-30`` → 2026-11-30)."""
    return (as_of.astimezone(UTC) - timedelta(microseconds=1)).date()


def as_of_label(run: SegmentRun) -> str:
    """How to print a run's reference: the date when it counted whole days, else the instant it stopped at."""
    instant = run.as_of.astimezone(UTC)
    if instant.time() == datetime.min.time():
        return reference_day(instant).isoformat()
    return f"{instant:%Y-%m-%d %H:%M} UTC"


def compute_segments(
    engine: Engine,
    *,
    as_of: date | datetime | None = None,
    window_days: int | None = None,
    trigger: str = "manual",
) -> SegmentRun:
    """Compute a new segmentation run inside the database and store its snapshot.

    Args:
        engine: the database.
        as_of: reference date (purchases up to the end of that day count; recency is counted to it) or instant
            (purchases before it count; recency is counted to its day); default now.
        window_days: count frequency and monetary value over this many days before ``as_of`` only (recency and
            LTV always use the whole history); default: the whole history.
        trigger: what started the run (``cli``, ``api``, ``periodic``), kept on the run.

    Returns:
        The finished run (status ``done``) with its customer count and revenue, and the customers it left out.

    Raises:
        InsightError: the computation failed; the run is marked ``failed`` with the error.
    """
    instant = as_of_instant(as_of)
    window_start = instant - timedelta(days=window_days) if window_days else None
    with session_scope(engine) as session:
        run = segments_repo.create_run(session, as_of=instant, window_days=window_days, trigger=trigger)
        assert run.id is not None
        run_id = run.id
    started = time.monotonic()
    try:
        with session_scope(engine) as session:
            n = segments_repo.fill_run(
                session, run_id=run_id, as_of=instant, as_of_day=reference_day(instant), window_start=window_start
            )
            left_out = segments_repo.left_out(session, as_of=instant)
            run = segments_repo.finish_run(
                session, run_id=run_id, duration_s=time.monotonic() - started, left_out=left_out
            )
    except Exception as exc:
        with session_scope(engine) as session:
            segments_repo.fail_run(session, run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        if isinstance(exc, InsightError):
            raise
        raise InsightError(
            f"Segment computation {run_id} failed: {exc}", hint="See the server log.", code="segments_failed"
        ) from exc
    log.info(
        "segment run %s: %d customers as of %s (%d left out: only cancellations) in %.2f s",
        run_id,
        n,
        as_of_label(run),
        run.left_out_customers,
        run.duration_s or 0,
    )
    return run


@dataclass(frozen=True)
class SegmentStat:
    """One line of the segment table: a segment's labels, customers and net revenue in a run.

    Shares are fractions (0..1) of the run's totals; ``priority`` is None for the ``unclassified`` line.
    """

    key: str
    label_en: str
    label_ja: str
    description: str
    priority: int | None
    customers: int
    customer_share: float
    revenue: float
    revenue_share: float


@dataclass(frozen=True)
class SegmentTable:
    """The segment table of one run: its totals and a line per defined segment.

    A last ``unclassified`` line holds the customers no definition matched, if any.
    """

    run: SegmentRun
    customers: int
    revenue: float
    segments: list[SegmentStat]


def latest_run(session: Session, run_id: int | None = None) -> SegmentRun:
    """The given run, or the newest completed one."""
    if run_id is not None:
        run = segments_repo.get_run(session, run_id)
        if run is None:
            raise NotFound(f"Segment run {run_id} does not exist.", hint="List runs with GET /api/segments/runs.")
        return run
    runs = segments_repo.latest_runs(session, limit=1)
    if not runs:
        raise NotFound(
            "No segments have been computed yet.",
            hint="Import transactions, then run `insight segments compute` or POST /api/segments/compute.",
            code="no_segments",
        )
    return runs[0]


def segment_table(session: Session, run_id: int | None = None) -> SegmentTable:
    """Every defined segment with its customers, net revenue and their shares in one run (empty ones included)."""
    run = latest_run(session, run_id)
    assert run.id is not None
    counts = {c.key: c for c in _segment_counts(session, run)}
    total_customers = sum(c.customers for c in counts.values())
    total_revenue = sum(c.revenue for c in counts.values())
    stats: list[SegmentStat] = []

    def share(part: float, whole: float) -> float:
        return round(part / whole, 6) if whole else 0.0

    defined = segments_repo.definitions(session)
    for d in defined:
        c = counts.pop(d.key, None)
        n, revenue = (c.customers, c.revenue) if c else (0, 0.0)
        stats.append(
            SegmentStat(
                key=d.key,
                label_en=d.label_en,
                label_ja=d.label_ja,
                description=d.description,
                priority=d.priority,
                customers=n,
                customer_share=share(n, total_customers),
                revenue=round(revenue, 2),
                revenue_share=share(revenue, total_revenue),
            )
        )
    # Customers no definition matched, or whose segment was deleted since the run.
    leftover = list(counts.values())
    if leftover:
        n = sum(c.customers for c in leftover)
        revenue = sum(c.revenue for c in leftover)
        stats.append(
            SegmentStat(
                key=UNCLASSIFIED,
                label_en="Unclassified",
                label_ja="未分類",
                description="No segment definition matched these customers' scores.",
                priority=None,
                customers=n,
                customer_share=share(n, total_customers),
                revenue=round(revenue, 2),
                revenue_share=share(revenue, total_revenue),
            )
        )
    return SegmentTable(run=run, customers=total_customers, revenue=round(total_revenue, 2), segments=stats)


@dataclass(frozen=True)
class DecileStat:
    """One monetary decile of a run (1 = top tenth) with its share and cumulative share (0..1) of revenue."""

    decile: int
    customers: int
    revenue: float
    revenue_share: float
    cumulative_share: float
    min_monetary: float
    max_monetary: float


def decile_analysis(session: Session, run_id: int | None = None) -> tuple[SegmentRun, list[DecileStat]]:
    """The decile table of a run: each tenth of customers by monetary value and its share of revenue."""
    run = latest_run(session, run_id)
    assert run.id is not None
    rows = segments_repo.decile_table(session, run.id)
    total = sum(r.revenue for r in rows)
    return run, [
        DecileStat(
            decile=r.decile,
            customers=r.customers,
            revenue=round(r.revenue, 2),
            revenue_share=round(r.revenue / total, 6) if total else 0.0,
            cumulative_share=round(r.cumulative_revenue / total, 6) if total else 0.0,
            min_monetary=round(r.min_monetary, 2),
            max_monetary=round(r.max_monetary, 2),
        )
        for r in rows
    ]


def segment_movement(
    session: Session, *, from_run: int | None = None, to_run: int | None = None
) -> tuple[int, int, list[tuple[str, str, int]]]:
    """Customers per (segment before, segment after) between two runs; default: the two newest runs."""
    if from_run is None or to_run is None:
        runs = segments_repo.latest_runs(session, limit=2)
        if len(runs) < 2:
            raise NotFound(
                "Movement needs two completed segment runs.",
                hint="Compute segments again later (or with another --as-of) to compare.",
                code="no_segments",
            )
        assert runs[0].id is not None
        assert runs[1].id is not None
        to_run = to_run or runs[0].id
        from_run = from_run or runs[1].id
    for run_id in (from_run, to_run):
        latest_run(session, run_id)
    rows = segments_repo.movement(session, from_run=from_run, to_run=to_run)
    named = [(a or "none", b or "none", n) for a, b, n in rows]
    return from_run, to_run, sorted(named, key=lambda r: (-r[2], r[0], r[1]))


def update_definition(session: Session, key: str, **values: object) -> SegmentDefinition:
    """Change a segment definition (labels, priority, score ranges); used by the next run."""
    definition = segments_repo.get_definition(session, key)
    if definition is None:
        raise NotFound(f"Segment {key!r} is not defined.", hint="List segments with GET /api/segments/definitions.")
    for name, value in values.items():
        if value is not None:
            setattr(definition, name, value)
    for low, high in (("r_min", "r_max"), ("f_min", "f_max"), ("m_min", "m_max")):
        lo, hi = getattr(definition, low), getattr(definition, high)
        if not 1 <= lo <= hi <= 5:
            raise InvalidSegmentDefinition(
                f"{low}..{high} must satisfy 1 <= min <= max <= 5 (got {lo}..{hi}).",
                hint="Scores run from 1 (lowest fifth) to 5 (highest fifth).",
            )
    return segments_repo.save_definition(session, definition)
