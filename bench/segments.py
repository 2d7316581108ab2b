"""Segmentation in SQL vs a straightforward pandas implementation, at 1M and 5M transactions, SQLite and PostgreSQL.

    .venv/bin/python bench/segments.py                      # 1M and 5M, both databases
    .venv/bin/python bench/segments.py --sizes 1000000 --databases sqlite

The UCI Online Retail file is imported once (406,829 lines with a customer), then scaled inside the database: copy k
gets customer ids shifted by k x 1,000,000 and dates shifted back by k x 30 days. Each measurement runs in a fresh
process and reports its wall time and peak resident memory (ru_maxrss). Both sides go from stored transactions to
stored segments: SQL = one INSERT ... SELECT with window functions (``insight.segments.service.compute_segments``);
pandas = read the transactions, groupby, rank/quantile scores, deciles, segment rules, write the snapshot back with
``to_sql``. Both use the same definitions, and the bench checks that they store the same scores, segments and
deciles for every customer. PostgreSQL's server memory is not in either figure (it is a separate process).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UCI = ROOT.parent / "shared" / "data" / "transactions" / "uci_online_retail" / "online_retail_2010-12_2011-12.parquet"
PG_ADMIN = os.environ.get("INSIGHT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AS_OF = date(2011, 12, 9)
OFFSET = 1_000_000


# -- data set -------------------------------------------------------------------------------------------------------
def build(url: str, target: int) -> int:
    """Import UCI once, then add shifted copies until the table holds ``target`` rows. Returns the row count."""
    from sqlalchemy import text

    from insight.crm_sync.importer import import_transactions
    from insight.crm_sync.tabular import ImportOptions
    from insight.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        have = conn.execute(text("SELECT COUNT(*) FROM customer_transaction")).scalar_one()
    if have == 0:
        import_transactions(engine, UCI, ImportOptions.from_preset("online-retail", source="uci"))
    with engine.begin() as conn:
        base = conn.execute(text("SELECT COUNT(*) FROM customer_transaction WHERE source = 'uci'")).scalar_one()
        have = conn.execute(text("SELECT COUNT(*) FROM customer_transaction")).scalar_one()
        copies = conn.execute(text("SELECT COUNT(DISTINCT source) FROM customer_transaction")).scalar_one() - 1
        while have < target:
            k = copies + 1
            n = min(base, target - have)
            conn.execute(
                text(
                    "INSERT INTO customer (id, created_at, updated_at, name, country, properties) "
                    "SELECT id + :off, created_at, updated_at, name, country, properties FROM customer "
                    "WHERE id < :base"
                ),
                {"off": k * OFFSET, "base": OFFSET},
            )
            shifted = (
                f"datetime(occurred_at, '-{30 * k} days') || '.000000'"
                if sqlite
                else f"occurred_at - interval '{30 * k} days'"
            )
            conn.execute(
                text(
                    "INSERT INTO customer_transaction (customer_id, source, external_id, occurred_at, amount, "
                    "currency, quantity, unit_price, order_id, product, is_return, imported_at) "
                    f"SELECT customer_id + :off, :src, external_id, {shifted}, amount, currency, quantity, unit_price, "
                    "order_id || :suffix, product, is_return, imported_at FROM customer_transaction "
                    "WHERE source = 'uci' ORDER BY id LIMIT :n"
                ),
                {"off": k * OFFSET, "src": f"copy{k}", "suffix": f"#{k}", "n": n},
            )
            have += n
            copies = k
    if not sqlite:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE customer_transaction"))
    engine.dispose()
    return int(have)


# -- the two implementations (run in a child process) --------------------------------------------------------------
def run_sql(url: str) -> int:
    from insight.db import make_engine
    from insight.segments.service import compute_segments

    run = compute_segments(make_engine(url), as_of=AS_OF, trigger="bench-sql")
    assert run.id is not None
    return run.id


def run_pandas(url: str) -> int:
    import numpy as np
    import pandas as pd
    from sqlalchemy import text

    from insight.db import make_engine, session_scope
    from insight.segments.service import as_of_instant
    from models import SegmentRun, SegmentRunStatus

    engine = make_engine(url)
    instant = as_of_instant(AS_OF)
    with session_scope(engine) as session:
        run = SegmentRun(as_of=instant, trigger="bench-pandas")
        session.add(run)
        session.flush()
        run_id = run.id
    started = time.monotonic()
    sqlite = engine.dialect.name == "sqlite"
    cutoff: object = instant.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else instant
    with engine.connect() as conn:
        df = pd.read_sql(
            text(
                "SELECT customer_id, occurred_at, amount, order_id, is_return FROM customer_transaction "
                "WHERE occurred_at < :as_of"
            ),
            conn,
            params={"as_of": cutoff},
        )
        definitions = pd.read_sql(text("SELECT * FROM segment_definition ORDER BY priority, key"), conn)
    df["occurred_at"] = pd.to_datetime(df["occurred_at"], format="ISO8601", utc=True)
    df["is_return"] = df["is_return"].astype(bool)
    df["amount"] = df["amount"].astype(float)
    sales = df[~df["is_return"]]
    rfm = sales.groupby("customer_id").agg(
        first_purchase_at=("occurred_at", "min"),
        last_purchase_at=("occurred_at", "max"),
        orders=("order_id", "nunique"),
    )
    totals = df.groupby("customer_id").agg(ltv=("amount", "sum"), returns=("is_return", "sum"))
    rfm = rfm.join(totals, how="left").reset_index()
    rfm["ltv"] = rfm["ltv"].round(4)
    rfm["monetary"] = rfm["ltv"]
    rfm["frequency"] = rfm["orders"]
    day = pd.Timestamp(instant).normalize()
    rfm["recency_days"] = (day - rfm["last_purchase_at"].dt.normalize()).dt.days
    n = len(rfm)
    for column, score, ascending in (("recency_days", "r_score", False), ("frequency", "f_score", True)):
        rank = rfm[column].rank(method="min", ascending=ascending).astype(np.int64)
        rfm[score] = 1 + (5 * (rank - 1)) // n
    rank = rfm["monetary"].rank(method="min").astype(np.int64)
    rfm["m_score"] = 1 + (5 * (rank - 1)) // n
    # Deciles: equal-count tenths by monetary value, highest first (what NTILE(10) does).
    rfm = rfm.sort_values(["monetary", "customer_id"], ascending=[False, True]).reset_index(drop=True)
    q, r = divmod(n, 10)
    i = np.arange(n)
    big = r * (q + 1)
    rfm["decile"] = np.where(i < big, i // (q + 1) + 1, r + (i - big) // max(q, 1) + 1)
    key = pd.Series([None] * n, dtype=object)
    for d in definitions.itertuples():
        hit = (
            key.isna()
            & rfm["r_score"].between(d.r_min, d.r_max)
            & rfm["f_score"].between(d.f_min, d.f_max)
            & rfm["m_score"].between(d.m_min, d.m_max)
        )
        key[hit] = d.key
    rfm["segment_key"] = key
    rfm["run_id"] = run_id
    for column in ("first_purchase_at", "last_purchase_at"):
        rfm[column] = rfm[column].dt.tz_convert(None)
        if sqlite:  # SQLAlchemy's SQLite storage format, as the ORM writes it
            rfm[column] = rfm[column].dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    columns = [
        "run_id",
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "segment_key",
        "decile",
        "ltv",
        "orders",
        "returns",
        "first_purchase_at",
        "last_purchase_at",
    ]
    with engine.begin() as conn:
        rfm[columns].to_sql("customer_segment", conn, if_exists="append", index=False, chunksize=10_000)
        conn.execute(
            text("UPDATE segment_run SET status = :s, customers = :n, duration_s = :d WHERE id = :id"),
            {"s": SegmentRunStatus.done, "n": n, "d": time.monotonic() - started, "id": run_id},
        )
    engine.dispose()
    assert run_id is not None
    return run_id


def child(kind: str, url: str) -> None:
    started = time.perf_counter()
    run_id = run_sql(url) if kind == "sql" else run_pandas(url)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"run_id": run_id, "seconds": seconds, "peak_mb": peak_mb}))


def measure(kind: str, url: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--url", url], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{out.stderr[-4000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def agree(url: str, a: int, b: int) -> tuple[int, int]:
    """(customers with identical scores, segment, decile and values in both runs, customers in run a)."""
    from sqlalchemy import text

    from insight.db import make_engine

    engine = make_engine(url)
    cols = (
        "customer_id, recency_days, frequency, ROUND(CAST(monetary AS NUMERIC), 2), "
        "r_score, f_score, m_score, segment_key, decile"
    )
    with engine.connect() as conn:
        same = conn.execute(
            text(
                f"SELECT COUNT(*) FROM (SELECT {cols} FROM customer_segment WHERE run_id = :a "
                f"INTERSECT SELECT {cols} FROM customer_segment WHERE run_id = :b) x"
            ),
            {"a": a, "b": b},
        ).scalar_one()
        total = conn.execute(text("SELECT COUNT(*) FROM customer_segment WHERE run_id = :a"), {"a": a}).scalar_one()
    engine.dispose()
    return int(same), int(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,5000000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child", choices=["sql", "pandas"])
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[tuple[str, int, int, dict[str, float], dict[str, float], tuple[int, int]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-segments-") as tmp:
        for database in args.databases.split(","):
            admin = None
            if database == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            else:
                name = f"bench_segments_{uuid.uuid4().hex[:8]}"
                admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
            try:
                for size in sizes:
                    t = time.perf_counter()
                    n = build(url, size)
                    print(f"[{database}] {n:,} transactions ready ({time.perf_counter() - t:.0f} s)", file=sys.stderr)
                    sql = measure("sql", url)
                    pandas = measure("pandas", url)
                    same = agree(url, int(sql["run_id"]), int(pandas["run_id"]))
                    rows.append((database, n, same[1], sql, pandas, same))
                    print(f"[{database}] sql {sql} pandas {pandas} agree {same}", file=sys.stderr)
            finally:
                if admin is not None:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
    print(
        f"\nsegmentation end to end (stored transactions → stored segments), as of {AS_OF}, "
        f"run {datetime.now(UTC):%Y-%m-%d}"
    )
    print(f"machine: {os.cpu_count()} CPU cores; peak = max resident memory of the process doing the work\n")
    header = (
        f"{'database':<11}{'transactions':>13}{'customers':>11}{'SQL s':>8}{'pandas s':>10}{'SQL/pandas':>12}"
        f"{'SQL peak MB':>13}{'pandas peak MB':>16}{'identical':>14}"
    )
    print(header)
    print("-" * len(header))
    for database, n, customers, sql, pandas, (same, total) in rows:
        print(
            f"{database:<11}{n:>13,}{customers:>11,}{sql['seconds']:>8.2f}{pandas['seconds']:>10.2f}"
            f"{sql['seconds'] / pandas['seconds']:>11.2f}x{sql['peak_mb']:>13.0f}{pandas['peak_mb']:>16.0f}"
            f"{f'{same}/{total}':>14}"
        )


if __name__ == "__main__":
    main()
