"""Segmentation queries: RFM scores, named segments, deciles and LTV, computed by one INSERT ... SELECT.

Everything runs inside the database with window functions, the same statement on SQLite and PostgreSQL; the only
dialect differences are how a calendar-day difference is written. Scores are rank-based quintiles computed in
integer arithmetic (``1 + 5 * (rank - 1) / n``), so customers with equal values share a score and both databases
agree to the last customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, Date, bindparam, func, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from models import Customer, CustomerSegment, SegmentDefinition, SegmentRun, SegmentRunStatus
from models.base import UTCDateTime, utcnow


def _days_between(dialect: str, earlier: str, later: str) -> str:
    """SQL for whole calendar days from ``earlier`` to ``later`` (both timestamps)."""
    if dialect == "sqlite":
        return f"CAST(julianday(date({later})) - julianday(date({earlier})) AS INTEGER)"
    return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"


def _day(dialect: str, expr: str) -> str:
    return f"date({expr})" if dialect == "sqlite" else f"CAST({expr} AS DATE)"


def _compute_sql(dialect: str, *, windowed: bool) -> str:
    in_window = "occurred_at >= :window_start" if windowed else "1 = 1"
    # Purchases before the instant :as_of count; recency is whole days from the last one to the reference day (a
    # purchase on that day has recency 0).
    recency = _days_between(dialect, "last_at", ":as_of_day")
    return f"""
INSERT INTO customer_segment (run_id, customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
                              segment_key, decile, ltv, orders, returns, first_purchase_at, last_purchase_at)
WITH agg AS (
    SELECT customer_id,
           MIN(CASE WHEN NOT is_return THEN occurred_at END) AS first_at,
           MAX(CASE WHEN NOT is_return THEN occurred_at END) AS last_at,
           COUNT(DISTINCT CASE WHEN NOT is_return THEN order_id END) AS orders,
           COUNT(DISTINCT CASE WHEN NOT is_return AND {in_window} THEN order_id END) AS frequency,
           ROUND(SUM(CASE WHEN {in_window} THEN amount ELSE 0 END), 4) AS monetary,
           ROUND(SUM(amount), 4) AS ltv,
           SUM(CASE WHEN is_return THEN 1 ELSE 0 END) AS returns
    FROM customer_transaction
    WHERE occurred_at < :as_of
    GROUP BY customer_id
),
rfm AS (
    SELECT agg.*, {recency} AS recency_days
    FROM agg
    WHERE last_at IS NOT NULL
),
ranked AS (
    SELECT rfm.*,
           COUNT(*) OVER () AS n,
           RANK() OVER (ORDER BY recency_days DESC) AS r_rank,
           RANK() OVER (ORDER BY frequency) AS f_rank,
           RANK() OVER (ORDER BY monetary) AS m_rank,
           NTILE(10) OVER (ORDER BY monetary DESC, customer_id) AS decile
    FROM rfm
),
scored AS (
    SELECT ranked.*,
           1 + (5 * (r_rank - 1)) / n AS r_score,
           1 + (5 * (f_rank - 1)) / n AS f_score,
           1 + (5 * (m_rank - 1)) / n AS m_score
    FROM ranked
)
SELECT :run_id, customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
       (SELECT d.key FROM segment_definition d
        WHERE scored.r_score BETWEEN d.r_min AND d.r_max
          AND scored.f_score BETWEEN d.f_min AND d.f_max
          AND scored.m_score BETWEEN d.m_min AND d.m_max
        ORDER BY d.priority, d.key LIMIT 1),
       decile, ltv, orders, returns, first_at, last_at
FROM scored
"""


# -- runs ---------------------------------------------------------------------------------------------------------
def create_run(session: Session, *, as_of: datetime, window_days: int | None, trigger: str) -> SegmentRun:
    """Insert a segment run in state ``running`` and flush, so its id is set; :func:`fill_run` fills it."""
    run = SegmentRun(as_of=as_of, window_days=window_days, trigger=trigger)
    session.add(run)
    session.flush()
    return run


def fill_run(
    conn: Connection | Session, *, run_id: int, as_of: datetime, as_of_day: date, window_start: datetime | None
) -> int:
    """Compute every customer's snapshot row for ``run_id``. Returns the number of customers segmented.

    Purchases before the instant ``as_of`` count; recency is counted in days to ``as_of_day``.
    """
    dialect = conn.get_bind().dialect.name if isinstance(conn, Session) else conn.dialect.name
    stmt = text(_compute_sql(dialect, windowed=window_start is not None)).bindparams(
        bindparam("as_of", type_=UTCDateTime()), bindparam("as_of_day", type_=Date())
    )
    params: dict[str, Any] = {"run_id": run_id, "as_of": as_of, "as_of_day": as_of_day}
    if window_start is not None:
        stmt = stmt.bindparams(bindparam("window_start", type_=UTCDateTime()))
        params["window_start"] = window_start
    result = conn.execute(stmt, params)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def left_out(conn: Connection | Session, *, as_of: datetime) -> tuple[int, float]:
    """Customers with transactions before ``as_of`` that are all cancellations/returns, and their net amount.

    They have no purchase to date a recency from, so a run leaves them out (of its revenue and deciles too).
    """
    stmt = text(
        "SELECT COUNT(*), COALESCE(SUM(net), 0) FROM (SELECT customer_id, SUM(amount) AS net "
        "FROM customer_transaction WHERE occurred_at < :as_of GROUP BY customer_id "
        "HAVING SUM(CASE WHEN is_return THEN 0 ELSE 1 END) = 0) x"
    ).bindparams(bindparam("as_of", type_=UTCDateTime()))
    row = conn.execute(stmt, {"as_of": as_of}).one()
    return int(row[0]), round(float(row[1]), 2)


def finish_run(
    session: Session, *, run_id: int, duration_s: float, left_out: tuple[int, float] = (0, 0.0)
) -> SegmentRun:
    """Mark a run done with its totals; returns the refreshed run.

    The run's customer count and revenue (sum of ``monetary``) are read from its snapshot rows.

    Args:
        session: the write session.
        run_id: the run filled by :func:`fill_run`.
        duration_s: how long the computation took, in seconds.
        left_out: customers with only cancellations/returns and their net amount, as :func:`left_out` returns them.
    """
    cs = CustomerSegment
    customers, revenue = session.execute(
        sa_select(func.count(), func.coalesce(func.sum(cs.monetary), 0.0)).where(col(cs.run_id) == run_id)
    ).one()
    session.execute(
        update(SegmentRun)
        .where(col(SegmentRun.id) == run_id)
        .values(
            status=SegmentRunStatus.done,
            customers=int(customers),
            revenue=round(float(revenue), 2),
            left_out_customers=left_out[0],
            left_out_revenue=left_out[1],
            finished_at=utcnow(),
            duration_s=round(duration_s, 3),
        )
    )
    run = session.get(SegmentRun, run_id)
    assert run is not None
    session.refresh(run)
    return run


def fail_run(session: Session, *, run_id: int, error: str) -> None:
    """Mark a run failed with ``error`` (cut to 2000 characters)."""
    session.execute(
        update(SegmentRun)
        .where(col(SegmentRun.id) == run_id)
        .values(status=SegmentRunStatus.failed, error=error[:2000], finished_at=utcnow())
    )


def get_run(session: Session, run_id: int) -> SegmentRun | None:
    """The run with this id, in any state, or None."""
    return session.get(SegmentRun, run_id)


def latest_runs(session: Session, *, limit: int = 2) -> list[SegmentRun]:
    """The newest completed runs, newest first."""
    return list(
        session.exec(
            select(SegmentRun)
            .where(SegmentRun.status == SegmentRunStatus.done)
            .order_by(col(SegmentRun.id).desc())
            .limit(limit)
        ).all()
    )


def list_runs(session: Session, *, limit: int) -> list[SegmentRun]:
    """The newest runs in any state (running, done or failed), newest first."""
    return list(session.exec(select(SegmentRun).order_by(col(SegmentRun.id).desc()).limit(limit)).all())


# -- definitions ----------------------------------------------------------------------------------------------------
def definitions(session: Session) -> list[SegmentDefinition]:
    """Every segment definition in matching order: lowest ``priority`` first, then by key."""
    return list(
        session.exec(select(SegmentDefinition).order_by(col(SegmentDefinition.priority), col(SegmentDefinition.key)))
    )


def get_definition(session: Session, key: str) -> SegmentDefinition | None:
    """The segment definition with this key, or None."""
    return session.get(SegmentDefinition, key)


def save_definition(session: Session, definition: SegmentDefinition) -> SegmentDefinition:
    """Insert or update a segment definition, stamping ``updated_at``; runs computed after it use it."""
    definition.updated_at = utcnow()
    session.add(definition)
    session.flush()
    return definition


# -- reading a run --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentCount:
    """Customers and net revenue of one segment in one run (``key`` None: no definition matched)."""

    key: str | None
    customers: int
    revenue: float


def segment_counts(session: Session, run_id: int) -> list[SegmentCount]:
    """Customers and net revenue per segment key in one run (``None``: no definition matched)."""
    cs = CustomerSegment
    rows = session.execute(
        sa_select(col(cs.segment_key), func.count(), func.coalesce(func.sum(cs.monetary), 0.0))
        .where(col(cs.run_id) == run_id)
        .group_by(col(cs.segment_key))
    ).all()
    return [SegmentCount(key=r[0], customers=int(r[1]), revenue=float(r[2])) for r in rows]


@dataclass(frozen=True)
class DecileRow:
    """One monetary decile of a run (1 = top tenth): size, revenue, monetary range, revenue of deciles 1..this."""

    decile: int
    customers: int
    revenue: float
    min_monetary: float
    max_monetary: float
    cumulative_revenue: float


def decile_table(session: Session, run_id: int) -> list[DecileRow]:
    """Customers, revenue and cumulative revenue per monetary decile (1 = top tenth), in SQL."""
    rows = session.execute(
        text(
            "SELECT decile, COUNT(*), SUM(monetary), MIN(monetary), MAX(monetary), "
            "SUM(SUM(monetary)) OVER (ORDER BY decile) "
            "FROM customer_segment WHERE run_id = :run_id GROUP BY decile ORDER BY decile"
        ),
        {"run_id": run_id},
    ).all()
    return [
        DecileRow(
            decile=int(r[0]),
            customers=int(r[1]),
            revenue=float(r[2]),
            min_monetary=float(r[3]),
            max_monetary=float(r[4]),
            cumulative_revenue=float(r[5]),
        )
        for r in rows
    ]


def customers_in_segment(
    session: Session, *, run_id: int, key: str, offset: int, limit: int
) -> tuple[list[tuple[CustomerSegment, Customer]], int]:
    """A page of a segment's customers, highest monetary value first, and the segment's size."""
    cs = CustomerSegment
    where = (col(cs.run_id) == run_id, col(cs.segment_key) == key)
    rows = session.exec(
        select(cs, Customer)
        .join(Customer, col(Customer.id) == col(cs.customer_id))
        .where(*where)
        .order_by(col(cs.monetary).desc(), col(cs.customer_id))
        .offset(offset)
        .limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(cs).where(*where)).one()
    return [(r[0], r[1]) for r in rows], int(total)


def snapshot_for_customer(session: Session, *, run_id: int, customer_id: int) -> CustomerSegment | None:
    """The customer's snapshot in run ``run_id``, or None when that run left the customer out."""
    return session.get(CustomerSegment, (run_id, customer_id))


def history_for_customer(session: Session, customer_id: int, *, limit: int) -> list[tuple[CustomerSegment, SegmentRun]]:
    """The customer's snapshot in each completed run, newest first."""
    rows = session.exec(
        select(CustomerSegment, SegmentRun)
        .join(SegmentRun, col(SegmentRun.id) == col(CustomerSegment.run_id))
        .where(CustomerSegment.customer_id == customer_id, SegmentRun.status == SegmentRunStatus.done)
        .order_by(col(SegmentRun.id).desc())
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def movement(session: Session, *, from_run: int, to_run: int) -> list[tuple[str | None, str | None, int]]:
    """How many customers moved from each segment in ``from_run`` to each segment in ``to_run``.

    A customer absent from one run (no purchase yet / no longer in the data) appears with ``None`` on that side.
    """
    rows = session.execute(
        text(
            "SELECT a.segment_key, b.segment_key, COUNT(*) FROM "
            "(SELECT customer_id, segment_key FROM customer_segment WHERE run_id = :a) a "
            "FULL OUTER JOIN (SELECT customer_id, segment_key FROM customer_segment WHERE run_id = :b) b "
            "ON a.customer_id = b.customer_id "
            "GROUP BY a.segment_key, b.segment_key"
        ),
        {"a": from_run, "b": to_run},
    ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


# -- repeat-purchase summary (inputs of BG/NBD-style lifetime models) -----------------------------------------------
@dataclass(frozen=True)
class RepeatPurchase:
    """One customer's repeat-purchase figures in days, the inputs of a BG/NBD-style lifetime model."""

    customer_id: int
    frequency: int  # purchase days after the first
    recency_days: int  # first purchase day to last purchase day
    age_days: int  # first purchase day to the end of the observation period ("T")


def repeat_purchase_summary(session: Session, *, period_end: datetime) -> list[RepeatPurchase]:
    """Per customer, from sales up to and including the day of ``period_end``: repeat purchase days, recency and age.

    These are the definitions of the ``lifetimes`` package's ``summary_data_from_transaction_data``: purchases on
    the same day count once, ``frequency`` excludes the first purchase day.
    """
    dialect = session.get_bind().dialect.name
    day = _day(dialect, "occurred_at")
    stmt = text(
        f"SELECT customer_id, COUNT(DISTINCT {day}) - 1, "
        f"{_days_between(dialect, 'MIN(occurred_at)', 'MAX(occurred_at)')}, "
        f"{_days_between(dialect, 'MIN(occurred_at)', ':period_end')} "
        f"FROM customer_transaction WHERE NOT is_return AND {day} <= {_day(dialect, ':period_end')} "
        "GROUP BY customer_id ORDER BY customer_id"
    ).bindparams(bindparam("period_end", type_=UTCDateTime()))
    rows = session.execute(stmt, {"period_end": period_end}).all()
    return [RepeatPurchase(int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]
