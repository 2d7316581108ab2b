"""The must-show figures on real public data: CDNOW repeat-purchase maths, and the UCI Online Retail totals,
cancellations, guests, every customer's RFM values and scores and the decile table against pandas, identical on
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from insight.crm_sync.importer import ImportReport, import_transactions
from insight.crm_sync.tabular import ImportOptions
from insight.db import make_engine, migrate
from insight.repositories import segments as segments_repo
from insight.runtime import Runtime
from insight.segments import service
from insight.segments.service import DecileStat
from models import CustomerExternalId, CustomerSegment, SegmentRun
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


def expected_uci(as_of: date) -> dict[str, Any]:
    """The figures computed straight from the Parquet file with pandas, written apart from the importer and the SQL.

    Definitions: a line's amount is quantity x unit price; a cancellation is an invoice starting with C, a negative
    quantity or a negative amount; recency is the days from the day of a customer's last purchase to ``as_of``;
    frequency their distinct invoices without cancellations; monetary the sum of all their lines (cancellations
    subtract); scores are rank quintiles, 1 + 5 (rank - 1) // n with ties sharing the lowest rank; deciles split
    customers by monetary value, highest first, into ten groups whose sizes differ by at most one.
    """
    df = pd.read_parquet(shared(UCI))
    df["amount"] = (df["Quantity"] * df["UnitPrice"]).round(4)
    cancelled = df["InvoiceNo"].str.startswith("C") | (df["Quantity"] < 0) | (df["amount"] < 0)
    guest = df["CustomerID"].isna()
    lines = df[~guest & (df["InvoiceDate"] < pd.Timestamp(as_of + timedelta(days=1)))].copy()
    lines["customer"] = lines["CustomerID"].astype("int64").astype(str)
    sales = lines[~cancelled[lines.index]]
    last = sales.groupby("customer")["InvoiceDate"].max()
    rfm = pd.DataFrame(
        {
            "recency": (pd.Timestamp(as_of) - last.dt.normalize()).dt.days,
            "frequency": sales.groupby("customer")["InvoiceNo"].nunique(),
            "monetary": lines.groupby("customer")["amount"].sum().round(4).reindex(last.index),
        }
    )
    n = len(rfm)
    for column, key, ascending in (("r", "recency", False), ("f", "frequency", True), ("m", "monetary", True)):
        rank = rfm[key].rank(method="min", ascending=ascending).astype(int)
        rfm[column] = 1 + (5 * (rank - 1)) // n
    by_value = rfm["monetary"].sort_values(ascending=False).to_numpy()
    deciles = [float(part.sum()) for part in np.array_split(by_value, 10)]
    left_out = lines.groupby("customer")["amount"].sum().drop(index=rfm.index)
    return {
        "rows": len(df),
        "gross": round(float(df["amount"].sum()), 2),
        "cancellations": int(cancelled.sum()),
        "cancellations_total": round(float(df["amount"][cancelled].sum()), 2),
        "no_customer_rows": int(guest.sum()),
        "no_customer_cancellations": int((guest & cancelled).sum()),
        "no_customer_total": round(float(df["amount"][guest].sum()), 2),
        "customers": int(df["CustomerID"].nunique()),
        "rfm": rfm,
        "decile_sizes": [len(part) for part in np.array_split(by_value, 10)],
        "decile_shares": [d / sum(deciles) for d in deciles],
        "left_out": (len(left_out), round(float(left_out.sum()), 2)),
    }


def load_and_segment(url: str, as_of: date) -> tuple[ImportReport, SegmentRun, pd.DataFrame, list[DecileStat]]:
    engine = make_engine(url)
    migrate(engine)
    report = import_transactions(engine, UCI, ImportOptions())  # the layout is recognised: no preset, no --map
    run = service.compute_segments(engine, as_of=as_of)
    with Session(engine) as s:
        rows = s.exec(
            select(CustomerSegment, CustomerExternalId.external_id)
            .join(CustomerExternalId, CustomerExternalId.customer_id == CustomerSegment.customer_id)
            .where(CustomerSegment.run_id == run.id)
        ).all()
        ours = pd.DataFrame(
            [
                (ext, c.recency_days, c.frequency, c.monetary, c.r_score, c.f_score, c.m_score, c.decile, c.segment_key)
                for c, ext in rows
            ],
            columns=["customer", "recency", "frequency", "monetary", "r", "f", "m", "decile", "segment"],
        ).set_index("customer")
        _, deciles = service.decile_analysis(s, run.id)
    engine.dispose()
    return report, run, ours.sort_index(), list(deciles)


@pytest.mark.slow
def test_uci_online_retail_matches_an_independent_computation(both_dbs: tuple[str, str]) -> None:
    """One full-file import per database; every figure against pandas, and the two databases against each other.
    Re-imports (other names, formats, layouts, overlapping exports) are checked on slices in test_real_exports.py."""
    as_of = date(2011, 12, 9)  # the file's last day
    want = expected_uci(as_of)
    results = [load_and_segment(url, as_of) for url in both_dbs]
    for report, run, ours, deciles in results:
        assert report.preset == "online-retail"
        assert report.rows_read == want["rows"] == 541_909
        assert report.rows_rejected == 0
        assert report.gross_total == want["gross"] == 9_747_747.93
        assert report.return_rows == want["cancellations"]  # customers or not
        assert report.returns_total == want["cancellations_total"]
        assert report.rows_no_customer == want["no_customer_rows"] == 135_080
        assert report.no_customer_return_rows == want["no_customer_cancellations"]
        assert report.no_customer_total == want["no_customer_total"]
        assert report.inserted == report.sales_rows + report.return_rows - report.rows_no_customer == 406_829
        assert report.customers_created == want["customers"] == 4_372
        # Customers who only ever cancelled (their purchases predate the data) are left out, and the run says so.
        rfm: pd.DataFrame = want["rfm"]
        assert (run.customers, run.left_out_customers) == (len(rfm), want["left_out"][0]) == (4_339, 33)
        assert run.left_out_customers + run.customers == want["customers"]
        assert run.left_out_revenue == pytest.approx(want["left_out"][1], abs=0.01)
        assert service.as_of_label(run) == "2011-12-09"
        # Every customer's R, F and M and their scores; so every distribution too.
        assert list(ours.index) == list(rfm.index)
        for column in ("recency", "frequency", "r", "f", "m"):
            assert ours[column].tolist() == rfm[column].tolist(), column
        assert ours["monetary"].to_numpy() == pytest.approx(rfm["monetary"].to_numpy(), abs=1e-6)
        assert ours["recency"].min() == 0  # bought on the as-of day
        assert [d.customers for d in deciles] == want["decile_sizes"] == [434] * 9 + [433]
        assert [d.revenue_share for d in deciles] == pytest.approx(want["decile_shares"], abs=1e-6)
        assert run.revenue == pytest.approx(float(rfm["monetary"].sum()), abs=0.01)
    (sq_report, _, sq_customers, sq_deciles), (pg_report, _, pg_customers, pg_deciles) = results
    assert sq_report.to_dict() | {"duration_s": 0} == pg_report.to_dict() | {"duration_s": 0}
    pd.testing.assert_frame_equal(sq_customers, pg_customers)  # same values, scores, deciles and segments
    assert sq_deciles == pg_deciles
