"""Queries on transactions, including the staged bulk import (a temporary table merged in one statement).

The import path works on a Core ``Connection`` so it can use each database's fast path: ``executemany`` on SQLite
and ``COPY`` on PostgreSQL, into a temporary table that only the importing connection sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, bindparam, func, insert, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from models import Customer, CustomerExternalId, Transaction
from models.base import UTCDateTime

STAGING = "import_staging"
KEYED = "import_keyed"  # the staged rows with their final keys, less those already stored
NEW_CUSTOMERS = "import_new_customer"
STAGING_COLUMNS = (
    "row_no",
    "customer_external_id",
    "customer_name",
    "country",
    "external_id",
    "occurred_at",
    "amount",
    "currency",
    "quantity",
    "unit_price",
    "order_id",
    "product",
    "is_return",
)


def _is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def create_staging(conn: Connection) -> None:
    """(Re)create this connection's temporary staging tables."""
    sqlite = _is_sqlite(conn)
    ts = "TEXT" if sqlite else "TIMESTAMP"
    money = "REAL" if sqlite else "NUMERIC(18, 4)"
    real = "REAL" if sqlite else "DOUBLE PRECISION"
    boolean = "INTEGER" if sqlite else "BOOLEAN"
    drop_staging(conn)
    for table in (STAGING, KEYED):
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {table} (row_no INTEGER NOT NULL, customer_external_id VARCHAR(255) NOT NULL, "
            f"customer_name VARCHAR(255), country VARCHAR(64), external_id VARCHAR(255) NOT NULL, "
            f"occurred_at {ts} NOT NULL, amount {money} NOT NULL, currency VARCHAR(3), quantity {real}, "
            f"unit_price {money}, order_id VARCHAR(255) NOT NULL, product VARCHAR(255), is_return {boolean} NOT NULL)"
        )
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {NEW_CUSTOMERS} "
        "(external_id VARCHAR(255) PRIMARY KEY, name VARCHAR(255), country VARCHAR(64))"
    )


def drop_staging(conn: Connection) -> None:
    """Drop this connection's temporary import tables, where they exist."""
    for table in (STAGING, KEYED, NEW_CUSTOMERS):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")


def stage(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append rows (values in ``STAGING_COLUMNS`` order, ``occurred_at`` a naive UTC datetime) to the staging table.

    On SQLite dates are written in SQLAlchemy's storage format (``YYYY-MM-DD HH:MM:SS.ffffff``) so merged rows read
    back and compare like rows written through the ORM.
    """
    if not rows:
        return
    if _is_sqlite(conn):
        at = STAGING_COLUMNS.index("occurred_at")
        params = [(*r[:at], r[at].isoformat(" ", "microseconds"), *r[at + 1 :]) for r in rows]
        marks = ", ".join("?" for _ in STAGING_COLUMNS)
        conn.exec_driver_sql(f"INSERT INTO {STAGING} ({', '.join(STAGING_COLUMNS)}) VALUES ({marks})", params)
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cur, cur.copy(f"COPY {STAGING} ({', '.join(STAGING_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def staged_duplicates(conn: Connection, *, limit: int) -> list[tuple[str, int, int]]:
    """External ids that occur more than once in the staged file: (external id, first row, count)."""
    result = conn.exec_driver_sql(
        f"SELECT external_id, MIN(row_no), COUNT(*) FROM {STAGING} GROUP BY external_id HAVING COUNT(*) > 1 "
        f"ORDER BY MIN(row_no) LIMIT {int(limit)}"
    )
    return [(str(r[0]), int(r[1]), int(r[2])) for r in result]


def key_staged(conn: Connection, *, by_content: bool) -> None:
    """Copy the staged rows into the keyed table with their final external ids.

    Rows keyed by content get their occurrence among identical rows of the file (``k:…#1``, ``#2`` …), so two
    identical lines of one order stay two lines, and the same file read again yields the same keys. A row without
    an order id is an order of its own, named by its key.
    """
    columns = ", ".join(STAGING_COLUMNS)
    if by_content:
        key = "external_id || '#' || CAST(ROW_NUMBER() OVER (PARTITION BY external_id ORDER BY row_no) AS VARCHAR(20))"
    else:
        key = "external_id"
    values = [key if c == "external_id" else c for c in STAGING_COLUMNS]
    conn.exec_driver_sql(f"INSERT INTO {KEYED} ({columns}) SELECT {', '.join(values)} FROM {STAGING}")
    conn.exec_driver_sql(f"UPDATE {KEYED} SET order_id = external_id WHERE order_id = ''")
    if not _is_sqlite(conn):
        # Temporary tables are never auto-analyzed; without statistics the planner picks nested loops over the
        # whole file for the joins below.
        conn.exec_driver_sql(f"ANALYZE {KEYED}")


@dataclass(frozen=True)
class AlreadyPresent:
    """Keyed rows that an earlier import stored: how many, and the first and last purchase among them."""

    rows: int
    first_at: datetime | None
    last_at: datetime | None


def drop_present(conn: Connection, *, source: str) -> AlreadyPresent:
    """Remove the keyed rows whose ``(source, external_id)`` is stored already, and say what they were."""
    present = (
        "EXISTS (SELECT 1 FROM customer_transaction t WHERE t.source = :source "
        f"AND t.external_id = {KEYED}.external_id)"
    )
    row = conn.execute(
        text(f"SELECT COUNT(*), MIN(occurred_at), MAX(occurred_at) FROM {KEYED} WHERE {present}"), {"source": source}
    ).one()
    if row[0]:
        conn.execute(text(f"DELETE FROM {KEYED} WHERE {present}"), {"source": source})
    return AlreadyPresent(int(row[0]), _utc(row[1]), _utc(row[2]))


def create_missing_customers(conn: Connection, *, customer_source: str, now: datetime, chunk: int = 5000) -> int:
    """Create a customer (and its external id) for every customer id of the rows to insert not yet known in
    ``customer_source``: rows already stored bring no customer.

    New ids are collected into a temporary table, then created in chunks with ``RETURNING`` so memory stays bounded
    however many customers a file brings.
    """
    conn.execute(
        text(
            f"INSERT INTO {NEW_CUSTOMERS} (external_id, name, country) "
            f"SELECT s.customer_external_id, MIN(s.customer_name), MIN(s.country) FROM {KEYED} s "
            "WHERE NOT EXISTS (SELECT 1 FROM customer_external_id x "
            "WHERE x.source = :source AND x.external_id = s.customer_external_id) "
            "GROUP BY s.customer_external_id"
        ),
        {"source": customer_source},
    )
    created = 0
    last = ""
    page = text(
        f"SELECT external_id, name, country FROM {NEW_CUSTOMERS} "
        "WHERE external_id > :last ORDER BY external_id LIMIT :n"
    )
    customer_table = Customer.__table__  # type: ignore[attr-defined]
    ext_table = CustomerExternalId.__table__  # type: ignore[attr-defined]
    while True:
        refs = conn.execute(page, {"last": last, "n": chunk}).all()
        if not refs:
            return created
        ids = conn.execute(
            insert(customer_table).returning(customer_table.c.id, sort_by_parameter_order=True),
            [{"name": r[1], "country": r[2], "properties": {}, "created_at": now, "updated_at": now} for r in refs],
        ).scalars()
        conn.execute(
            insert(ext_table),
            [
                {"customer_id": cid, "source": customer_source, "external_id": r[0]}
                for cid, r in zip(ids, refs, strict=True)
            ],
        )
        created += len(refs)
        last = refs[-1][0]


def merge_staged(conn: Connection, *, source: str, customer_source: str, now: datetime) -> int:
    """Insert the keyed rows that are not stored yet (by source + external id). Returns how many were inserted."""
    stmt = text(
        "INSERT INTO customer_transaction (customer_id, source, external_id, occurred_at, amount, currency, "
        "quantity, unit_price, order_id, product, is_return, imported_at) "
        "SELECT x.customer_id, :source, s.external_id, s.occurred_at, s.amount, s.currency, s.quantity, "
        f"s.unit_price, s.order_id, s.product, s.is_return, :now FROM {KEYED} s "
        "JOIN customer_external_id x ON x.source = :customer_source AND x.external_id = s.customer_external_id "
        # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT to parse it (sqlite.org/lang_upsert.html).
        "WHERE 1 = 1 ON CONFLICT (source, external_id) DO NOTHING"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
    result = conn.execute(stmt, {"source": source, "customer_source": customer_source, "now": now})
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


@dataclass(frozen=True)
class TransactionSummary:
    """A customer's purchase history in figures."""

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


def summary_for_customer(session: Session, customer_id: int) -> TransactionSummary:
    """The customer's purchase history in figures: sales and returns apart, net revenue over both.

    Purchase dates come from sales only; amounts are rounded to 2 decimals and added up whatever their currency
    (``currencies`` lists the ones seen).
    """
    t = Transaction
    is_sale = col(t.is_return).is_(False)
    row = session.execute(
        sa_select(
            func.count(),
            func.count().filter(is_sale),
            func.count().filter(col(t.is_return).is_(True)),
            func.count(func.distinct(t.order_id)).filter(is_sale),
            func.coalesce(func.sum(t.amount).filter(is_sale), 0.0),
            func.coalesce(func.sum(t.amount).filter(col(t.is_return).is_(True)), 0.0),
            func.coalesce(func.sum(t.amount), 0.0),
            func.min(t.occurred_at).filter(is_sale),
            func.max(t.occurred_at).filter(is_sale),
        ).where(col(t.customer_id) == customer_id)
    ).one()
    currencies = session.exec(
        select(t.currency).where(t.customer_id == customer_id, col(t.currency).is_not(None)).distinct()
    ).all()
    return TransactionSummary(
        transactions=int(row[0]),
        sales=int(row[1]),
        returns=int(row[2]),
        orders=int(row[3]),
        gross_sales=round(float(row[4]), 2),
        returns_amount=round(float(row[5]), 2),
        net_revenue=round(float(row[6]), 2),
        first_purchase_at=_utc(row[7]),
        last_purchase_at=_utc(row[8]),
        currencies=sorted(c for c in currencies if c is not None),
    )


def _utc(value: Any) -> datetime | None:
    """Aggregates bypass the column type on SQLite (strings come back): convert like ``UTCDateTime`` does."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    result = UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]
    return result


def recent_for_customer(session: Session, customer_id: int, *, limit: int) -> list[Transaction]:
    """The customer's latest transactions, sales and returns alike, newest first."""
    return list(
        session.exec(
            select(Transaction)
            .where(Transaction.customer_id == customer_id)
            .order_by(col(Transaction.occurred_at).desc(), col(Transaction.id).desc())
            .limit(limit)
        ).all()
    )


def count(session: Session, *, source: str | None = None) -> int:
    """How many transactions are stored, from one import ``source`` only when given."""
    query = select(func.count()).select_from(Transaction)
    if source is not None:
        query = query.where(Transaction.source == source)
    return int(session.exec(query).one())


def totals(session: Session, *, source: str | None = None) -> tuple[int, float, int, float]:
    """(sales lines, sales amount, return lines, returns amount), optionally for one source."""
    t = Transaction
    query = sa_select(
        func.count().filter(col(t.is_return).is_(False)),
        func.coalesce(func.sum(t.amount).filter(col(t.is_return).is_(False)), 0.0),
        func.count().filter(col(t.is_return).is_(True)),
        func.coalesce(func.sum(t.amount).filter(col(t.is_return).is_(True)), 0.0),
    )
    if source is not None:
        query = query.where(col(t.source) == source)
    row = session.execute(query).one()
    return int(row[0]), float(row[1]), int(row[2]), float(row[3])
