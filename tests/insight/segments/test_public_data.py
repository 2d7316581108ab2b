"""The must-show figures on real public data: CDNOW repeat-purchase maths and the UCI Online Retail totals,
cancellations, guests and decile table, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, func, select

from insight.crm_sync.importer import ImportReport, import_transactions
from insight.crm_sync.tabular import ImportOptions
from insight.db import make_engine, migrate
from insight.repositories import segments as segments_repo
from insight.repositories import transactions as transactions_repo
from insight.runtime import Runtime
from insight.segments import service
from models import CustomerExternalId, CustomerSegment, Transaction
from tests.conftest import SHARED_DATA, TABLES, shared

CDNOW = SHARED_DATA / "transactions" / "cdnow"
UCI = SHARED_DATA / "transactions" / "uci_online_retail" / "online_retail_2010-12_2011-12.parquet"


def test_cdnow_frequency_recency_and_age_match_lifetimes(runtime: Runtime) -> None:
    sample = shared(CDNOW / "CDNOW_sample.txt")
    expected = list(csv.DictReader(shared(CDNOW / "cdnow_customers_summary.csv").open()))
    report = import_transactions(runtime.engine, sample, ImportOptions.from_preset("cdnow-sample", source="cdnow"))
    assert (report.rows_read, report.customers_created) == (6919, 2357)
    with Session(runtime.engine) as s:
        ids = dict(s.exec(select(CustomerExternalId.customer_id, CustomerExternalId.external_id)).all())
        summary = segments_repo.repeat_purchase_summary(s, period_end=datetime(1997, 9, 30, tzinfo=UTC))
    ours = {int(ids[r.customer_id]): r for r in summary}
    assert len(expected) == 2357
    mismatches = []
    for row in expected:
        r = ours.get(int(row["ID"]))
        got = None if r is None else (r.frequency, round(r.recency_days / 7, 2), round(r.age_days / 7, 2))
        want = (int(row["frequency"]), float(row["recency"]), float(row["T"]))
        if got != want:
            mismatches.append((row["ID"], want, got))
    assert mismatches == []


@pytest.fixture
def both_dbs(tmp_path: Path, pg_url: str) -> Iterator[tuple[str, str]]:
    yield f"sqlite:///{tmp_path / 'uci.db'}", pg_url
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()


def expected_uci() -> dict[str, float | int]:
    """The same figures computed straight from the Parquet file with pyarrow (an independent path)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    t = pq.read_table(shared(UCI))
    amount = pc.round(pc.multiply(pc.cast(t["Quantity"], "float64"), t["UnitPrice"]), 4)
    has_customer = pc.is_valid(t["CustomerID"])
    cancelled = pc.or_(pc.starts_with(t["InvoiceNo"], "C"), pc.less(t["Quantity"], 0))
    cancelled = pc.or_(cancelled, pc.less(amount, 0))
    with_customer = t.filter(has_customer)
    returns = pc.and_(has_customer, cancelled)
    return {
        "rows": t.num_rows,
        "gross": round(pc.sum(amount).as_py(), 2),
        "no_customer_rows": t.num_rows - with_customer.num_rows,
        "no_customer_total": round(pc.sum(amount.filter(pc.invert(has_customer))).as_py(), 2),
        "return_rows": pc.sum(pc.cast(returns, "int64")).as_py(),
        "c_invoices_with_customer": pc.sum(
            pc.cast(pc.and_(has_customer, pc.starts_with(t["InvoiceNo"], "C")), "int64")
        ).as_py(),
        "customers": pc.count_distinct(with_customer["CustomerID"]).as_py(),
    }


def load_and_segment(url: str) -> tuple[ImportReport, ImportReport, dict[str, tuple[object, ...]], list[object]]:
    engine = make_engine(url)
    migrate(engine)
    options = ImportOptions.from_preset("online-retail", source="uci")
    first = import_transactions(engine, UCI, options)
    again = import_transactions(engine, UCI, options)
    run = service.compute_segments(engine, as_of=date(2011, 12, 9))
    with Session(engine) as s:
        assert transactions_repo.count(s, source="uci") == first.inserted
        stored = s.exec(select(func.sum(Transaction.amount))).one()
        assert round(float(stored or 0), 2) == round(first.sales_total + first.returns_total, 2)
        rows = s.exec(
            select(CustomerSegment, CustomerExternalId.external_id)
            .join(CustomerExternalId, CustomerExternalId.customer_id == CustomerSegment.customer_id)
            .where(CustomerSegment.run_id == run.id)
        ).all()
        per_customer = {
            ext: (c.recency_days, c.frequency, round(c.monetary, 2), c.r_score, c.f_score, c.m_score, c.decile)
            + (c.segment_key, round(c.ltv, 2), c.orders, c.returns)
            for c, ext in rows
        }
        _, deciles = service.decile_analysis(s, run.id)
        # Net amount of the customers left out of the segmentation (no purchase at all, only cancellations).
        unsegmented = s.exec(
            select(func.coalesce(func.sum(Transaction.amount), 0.0)).where(
                Transaction.customer_id.not_in(
                    select(CustomerSegment.customer_id).where(CustomerSegment.run_id == run.id)
                )  # type: ignore[attr-defined]
            )
        ).one()
    engine.dispose()
    net = first.sales_total + first.returns_total
    assert sum(d.revenue for d in deciles) == pytest.approx(net - float(unsegmented), abs=0.05)
    assert -11_000 < float(unsegmented) < 0
    return first, again, per_customer, list(deciles)


@pytest.mark.slow
def test_uci_online_retail_on_sqlite_and_postgresql(both_dbs: tuple[str, str]) -> None:
    want = expected_uci()
    results = [load_and_segment(url) for url in both_dbs]
    for first, again, per_customer, deciles in results:
        assert first.rows_read == want["rows"] == 541_909
        assert first.rows_rejected == 0
        assert first.gross_total == want["gross"] == 9_747_747.93
        assert first.rows_no_customer == want["no_customer_rows"] == 135_080
        assert first.no_customer_total == want["no_customer_total"]
        assert first.return_rows == want["return_rows"] == want["c_invoices_with_customer"] == 8_905
        assert first.sales_rows + first.return_rows == first.inserted == 541_909 - 135_080
        assert first.customers_created == want["customers"] == 4_372
        assert round(first.sales_total + first.returns_total + first.no_customer_total, 2) == first.gross_total
        # Importing the same file again changes nothing.
        assert (again.inserted, again.already_present, again.customers_created) == (0, first.inserted, 0)
        # 33 customers only ever cancelled (their purchases predate the data): they have no segment.
        assert len(per_customer) == 4_339
        assert [d.customers for d in deciles] == [434] * 9 + [433]
        assert deciles[-1].cumulative_share == 1.0
        assert deciles[0].revenue_share > 0.5  # the top tenth brings most of the revenue
    (sq_first, _, sq_customers, sq_deciles), (pg_first, _, pg_customers, pg_deciles) = results
    assert sq_first.to_dict() | {"duration_s": 0} == pg_first.to_dict() | {"duration_s": 0}
    assert sq_customers == pg_customers  # every customer: same RFM values, scores, segment, decile and LTV
    assert sq_deciles == pg_deciles
