"""Import a transaction file: stream, validate every row, then merge all of it or nothing.

The file is read in batches. Valid rows go to a temporary staging table on one connection (``COPY`` on PostgreSQL);
bad rows are collected into the report and reading goes on, so one pass reports every bad row. Only when the whole
file is clean are rows keyed, customers created and rows merged, in one write transaction, skipping rows whose
``(source, external_id)`` is already stored.

A row's key is its id column, or else its content (customer, order, item, time, quantity, price, amount) with its
occurrence among identical rows of the file; the source defaults to the data set (the preset) or ``import``, never
to the file name. So the same rows imported again under another name, in another format or as part of an
overlapping export add nothing, and are reported as already present. Customers are created only for rows that are
inserted.

Returns/cancellations (negative quantity or amount, or an order id with the return prefix) are stored with
``is_return`` and count as returns, not sales, with or without a customer. Rows without a customer are counted
(also among the sales and returns) and not stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from insight.crm_sync.tabular import DEFAULT_SOURCE, BatchReader, ImportOptions, ParsedRow, RowError, RowParser
from insight.db import WRITE_OPTION
from insight.errors import InvalidImport
from insight.repositories import customers as customers_repo
from insight.repositories import transactions as transactions_repo
from models.base import utcnow

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total) in the reader's unit: bytes for text files, rows for Parquet
SCALE = 10_000  # amounts are summed as integers of 1/10,000 so the totals are exact


@dataclass
class ImportReport:
    """What an import read, rejected, skipped and stored. Amounts are rounded to cents.

    ``sales_rows``/``returns`` count every valid line by kind, with or without a customer; ``rows_no_customer``
    (of which ``no_customer_return_rows`` are cancellations) are not stored. ``already_present`` rows were stored
    by an earlier import (``already_present_from``/``_to``: their first and last date); ``inserted`` are new.
    """

    file: str
    source: str
    customer_source: str
    file_format: str
    preset: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    rows_rejected: int = 0
    rows_no_customer: int = 0
    no_customer_return_rows: int = 0
    sales_rows: int = 0
    return_rows: int = 0
    gross_total: float = 0.0
    no_customer_total: float = 0.0
    sales_total: float = 0.0
    returns_total: float = 0.0
    inserted: int = 0
    already_present: int = 0
    already_present_from: datetime | None = None
    already_present_to: datetime | None = None
    customers_created: int = 0
    calls_linked: int = 0
    committed: bool = False
    duration_s: float = 0.0
    missing_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    errors_truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The report as a dict of plain values (dates stay ``datetime``), for JSON output and the API."""
        return asdict(self)


class _Totals:
    """Exact running sums (integers of 1/10,000) of the amounts seen."""

    def __init__(self) -> None:
        self.gross = self.no_customer = self.sales = self.returns = 0

    def add(self, row: ParsedRow) -> None:
        units = round(row.amount * SCALE)
        self.gross += units
        if row.customer_external_id is None:
            self.no_customer += units
        if row.is_return:
            self.returns += units
        else:
            self.sales += units

    def fill(self, report: ImportReport) -> None:
        report.gross_total = round(self.gross / SCALE, 2)
        report.no_customer_total = round(self.no_customer / SCALE, 2)
        report.sales_total = round(self.sales / SCALE, 2)
        report.returns_total = round(self.returns / SCALE, 2)


def import_transactions(
    engine: Engine, path: Path, options: ImportOptions, *, on_progress: Progress | None = None
) -> ImportReport:
    """Import one transaction file, all or nothing.

    Args:
        engine: the database.
        path: a ``.csv``, ``.csv.gz``, ``.txt`` (whitespace-separated) or ``.parquet`` file.
        options: column mapping and parsing options.
        on_progress: called after each batch with (done, total).

    Returns:
        The report of a committed import (``committed`` is True; re-imports report ``already_present`` rows).

    Raises:
        InvalidImport: the file is unreadable, columns are missing or rows are bad; ``exc.report`` lists each bad
            row and nothing was written.
    """
    started = time.monotonic()
    reader = BatchReader(path, options)
    report = ImportReport(
        file=path.name,
        source=(options.source or options.preset or DEFAULT_SOURCE)[:64],
        customer_source=(options.customer_source or options.source or options.preset or DEFAULT_SOURCE)[:64],
        file_format=reader.format,
        preset=options.preset,
    )
    totals = _Totals()
    parser: RowParser | None = None
    row_no = 0
    with engine.connect() as conn:
        try:
            # Staging runs in short transactions on this connection's temporary tables: nothing is visible to
            # others and, on SQLite, no write lock is held while the file is read.
            with conn.begin():
                transactions_repo.create_staging(conn)
            for batch in reader.batches():
                if parser is None:
                    parser = RowParser(options, reader.columns, ragged=reader.format != "parquet")
                    _describe(report, parser, reader, options)
                    if parser.missing:
                        report.missing_columns = parser.missing
                        message, hint = parser.missing_message(path.name)
                        raise _rejected(report, started, message, code="missing_columns", hint=hint)
                staged: list[tuple[Any, ...]] = []
                for cells in batch:
                    row_no += 1
                    parsed = parser.parse(row_no, cells)
                    if isinstance(parsed, RowError):
                        _add_error(report, parsed, options.max_errors)
                        continue
                    totals.add(parsed)
                    if parsed.is_return:
                        report.return_rows += 1
                    else:
                        report.sales_rows += 1
                    if parsed.customer_external_id is None:
                        report.rows_no_customer += 1
                        report.no_customer_return_rows += parsed.is_return
                        continue
                    if not report.rows_rejected:  # once a row is bad nothing will be stored: just validate
                        staged.append(parsed)
                report.rows_read = row_no
                if staged:
                    with conn.begin():
                        transactions_repo.stage(conn, staged)
                if on_progress is not None:
                    on_progress(reader.done, reader.total)
            if parser is None:
                raise _rejected(report, started, f"{path.name} has no rows.", code="empty_file")
            totals.fill(report)
            if report.rows_rejected:
                raise _rejected(report, started, f"{report.rows_rejected} of {row_no} rows in {path.name} are invalid.")
            if not parser.by_content:
                with conn.begin():
                    duplicates = transactions_repo.staged_duplicates(conn, limit=options.max_errors)
                for external_id, first_row, n in duplicates:
                    _add_error(
                        report,
                        RowError(
                            first_row, parser.mapping["external_id"], external_id, f"external id occurs {n} times"
                        ),
                        options.max_errors,
                    )
                if report.rows_rejected:
                    raise _rejected(report, started, f"{path.name} has duplicate external ids.")
            with conn.begin():
                transactions_repo.key_staged(conn, by_content=parser.by_content)
            now = utcnow()
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                present = transactions_repo.drop_present(conn, source=report.source)
                report.already_present = present.rows
                report.already_present_from, report.already_present_to = present.first_at, present.last_at
                report.customers_created = transactions_repo.create_missing_customers(
                    conn, customer_source=report.customer_source, now=now
                )
                report.inserted = transactions_repo.merge_staged(
                    conn, source=report.source, customer_source=report.customer_source, now=now
                )
                report.calls_linked = customers_repo.link_calls(conn)
            # Rows another import stored between the check and the insert count as present too.
            report.already_present = report.sales_rows + report.return_rows - report.rows_no_customer - report.inserted
            report.committed = True
        finally:
            _cleanup(conn)
    report.duration_s = round(time.monotonic() - started, 3)
    log.info(
        "imported %s: %d rows read, %d inserted, %d already present, %d without customer, %d customers created",
        path.name,
        report.rows_read,
        report.inserted,
        report.already_present,
        report.rows_no_customer,
        report.customers_created,
    )
    return report


def _describe(report: ImportReport, parser: RowParser, reader: BatchReader, options: ImportOptions) -> None:
    """Fill in what was found in the file: the (recognised) preset, its source, the encoding and the columns."""
    report.preset = parser.options.preset
    report.encoding = reader.encoding
    report.columns = dict(parser.mapping)
    if options.source is None and parser.options.preset is not None:
        report.source = parser.options.preset
        if options.customer_source is None:
            report.customer_source = parser.options.preset


def _add_error(report: ImportReport, error: RowError, limit: int) -> None:
    report.rows_rejected += 1
    if len(report.errors) < limit:
        report.errors.append(error)
    else:
        report.errors_truncated = True


def _rejected(
    report: ImportReport, started: float, message: str, *, code: str | None = None, hint: str | None = None
) -> InvalidImport:
    report.duration_s = round(time.monotonic() - started, 3)
    return InvalidImport(
        message + " Nothing was imported.",
        hint=hint
        or "Fix the rows listed in the report (row numbers count data rows from 1) and import the file again.",
        code=code,
        report=report,
    )


def _cleanup(conn: Any) -> None:
    try:
        if conn.in_transaction():
            conn.rollback()
        conn.execution_options(**{WRITE_OPTION: False})
        with conn.begin():
            transactions_repo.drop_staging(conn)
    except Exception:  # noqa: BLE001 - the connection is discarded anyway; keep the original error
        log.debug("could not drop the staging tables", exc_info=True)
