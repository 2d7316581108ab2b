"""Reading transaction files (CSV, CSV.gz, whitespace text, Parquet) in batches and validating each row.

Pure functions and small types: no database, no session. ``importer.py`` feeds the validated rows to the database.
A file is read in batches of a few thousand rows, so memory does not grow with the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from insight.errors import InvalidImport

FileFormat = Literal["csv", "whitespace", "parquet"]

# Target fields a column can be mapped to. ``customer`` and ``occurred_at`` are required, and either ``amount`` or
# both ``quantity`` and ``unit_price``.
FIELDS: tuple[str, ...] = (
    "customer",
    "occurred_at",
    "amount",
    "quantity",
    "unit_price",
    "order_id",
    "product",
    "currency",
    "external_id",
    "customer_name",
    "country",
)

# Column mappings of known public data sets; ``--map`` entries override them.
PRESETS: dict[str, dict[str, Any]] = {
    "online-retail": {
        "mapping": {
            "customer": "CustomerID",
            "occurred_at": "InvoiceDate",
            "quantity": "Quantity",
            "unit_price": "UnitPrice",
            "order_id": "InvoiceNo",
            "product": "StockCode",
            "country": "Country",
        },
        "return_prefix": "C",
        "currency": "GBP",
        "date_format": None,
    },
    "cdnow": {
        # CDNOW_master.txt: customer id, date YYYYMMDD, number of CDs, dollar value
        "mapping": {"customer": "1", "occurred_at": "2", "quantity": "3", "amount": "4"},
        "format": "whitespace",
        "header": False,
        "currency": "USD",
        "date_format": "%Y%m%d",
    },
    "cdnow-sample": {
        # CDNOW_sample.txt: master id, sample id, date, number of CDs, dollar value; the sample id is the customer
        "mapping": {"customer": "2", "occurred_at": "3", "quantity": "4", "amount": "5"},
        "format": "whitespace",
        "header": False,
        "currency": "USD",
        "date_format": "%Y%m%d",
    },
}

MAX_VALUE_CHARS = 80


@dataclass(frozen=True)
class ImportOptions:
    """How to read one transaction file.

    Attributes:
        mapping: target field → column name (or 1-based column number for files without a header).
        source: the system the rows come from; ``(source, external_id)`` identifies a transaction. Default: the file
            name without its extensions.
        customer_source: the namespace of the customer ids in the file; default: ``source``.
        file_format: ``csv``, ``whitespace`` or ``parquet``; default: from the file name.
        header: whether a CSV/text file starts with a header line.
        delimiter: CSV delimiter.
        encoding: text encoding (a byte order mark is skipped).
        date_format: ``strptime`` format of ``occurred_at``; default: ISO 8601.
        timezone: zone of dates that carry none (IANA name); stored as UTC.
        currency: currency of rows without a currency column (ISO 4217).
        return_prefix: order ids starting with this mark returns/cancellations (e.g. ``C``). Rows with a negative
            quantity or amount are returns too.
        batch_rows: rows per batch.
        max_errors: bad rows listed in the report (all are counted).
    """

    mapping: Mapping[str, str] = field(default_factory=dict)
    source: str | None = None
    customer_source: str | None = None
    file_format: FileFormat | None = None
    header: bool = True
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    date_format: str | None = None
    timezone: str = "UTC"
    currency: str | None = None
    return_prefix: str | None = None
    batch_rows: int = 10_000
    max_errors: int = 10_000

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> ImportOptions:
        """Options for a known data set (``online-retail``, ``cdnow``, ``cdnow-sample``), with overrides on top."""
        if name not in PRESETS:
            raise InvalidImport(
                f"Unknown preset {name!r}.", hint=f"Known presets: {', '.join(sorted(PRESETS))}.", code="unknown_preset"
            )
        preset = dict(PRESETS[name])
        mapping = dict(preset.pop("mapping"))
        mapping.update(overrides.pop("mapping", None) or {})
        if "format" in preset:
            preset["file_format"] = preset.pop("format")
        preset.update({k: v for k, v in overrides.items() if v is not None})
        return cls(mapping=mapping, **preset)


@dataclass(frozen=True)
class RowError:
    """One rejected row: its 1-based data row number, the column at fault and why."""

    row: int
    column: str | None
    value: str | None
    reason: str


class ParsedRow(NamedTuple):
    """A valid row, ready for the database (``occurred_at`` naive UTC, ``amount`` rounded to 4 decimals).

    A tuple whose field order is the staging table's column order, so rows go to the database as they are.
    """

    row: int
    customer_ref: str | None
    customer_name: str | None
    country: str | None
    external_id: str
    occurred_at: datetime
    amount: float
    currency: str | None
    quantity: float | None
    unit_price: float | None
    order_id: str
    product: str | None
    is_return: bool


def detect_format(path: Path) -> tuple[FileFormat, bool]:
    """The file format and whether it is gzip-compressed, from the name."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    if name.endswith((".parquet", ".pq")):
        return "parquet", gz
    if name.endswith((".csv", ".tsv")):
        return "csv", gz
    if name.endswith(".txt"):
        return "whitespace", gz
    raise InvalidImport(
        f"Cannot tell the format of {path.name!r} from its name.",
        hint="Use a .csv, .csv.gz, .txt or .parquet file, or pass --format.",
        code="unknown_format",
    )


def default_source(path: Path) -> str:
    """The file name without its extensions (``online_retail.csv.gz`` → ``online_retail``)."""
    name = path.name
    while "." in name and name.rsplit(".", 1)[1].lower() in {"gz", "csv", "tsv", "txt", "parquet", "pq"}:
        name = name.rsplit(".", 1)[0]
    return name[:64] or "import"


class BatchReader:
    """Reads a file as batches of rows (lists of cell values in ``columns`` order), tracking progress."""

    def __init__(self, path: Path, options: ImportOptions) -> None:
        self.path = path
        self.options = options
        detected, self.gz = detect_format(path)
        self.format: FileFormat = options.file_format or detected
        self.total = path.stat().st_size
        self.done = 0
        self.columns: list[str] = []

    def batches(self) -> Iterator[list[list[Any]]]:
        if self.format == "parquet":
            yield from self._parquet()
        else:
            yield from self._text()

    def _parquet(self) -> Iterator[list[list[Any]]]:
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
            raise InvalidImport("Reading Parquet needs pyarrow.", hint="pip install pyarrow") from exc
        try:
            pf = pq.ParquetFile(self.path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a corrupt file
            raise InvalidImport(
                f"{self.path.name} is not a readable Parquet file: {exc}",
                hint="Check the file, or import it as CSV.",
                code="unreadable_file",
            ) from exc
        self.columns = list(pf.schema_arrow.names)
        self.total = pf.metadata.num_rows
        wanted = self.wanted_columns()
        for batch in pf.iter_batches(batch_size=self.options.batch_rows, columns=wanted):
            cols = {name: batch.column(name).to_pylist() for name in wanted}
            values = [cols.get(name) for name in self.columns]
            n = batch.num_rows
            empty: list[Any] = [None] * n
            rows = [list(r) for r in zip(*(v if v is not None else empty for v in values), strict=True)]
            self.done += n
            yield rows

    def wanted_columns(self) -> list[str]:
        return sorted({c for c in self.options.mapping.values() if c in self.columns}, key=self.columns.index)

    def _open_text(self) -> tuple[IO[bytes], IO[str]]:
        raw = self.path.open("rb")
        binary: IO[bytes] = gzip.GzipFile(fileobj=raw) if self.gz else raw  # type: ignore[assignment]
        return raw, io.TextIOWrapper(binary, encoding=self.options.encoding, newline="")

    def _text(self) -> Iterator[list[list[Any]]]:
        raw, text = self._open_text()
        with raw, text:
            lines: Iterator[list[str]]
            if self.format == "whitespace":
                lines = (line.split() for line in text if line.strip())
            else:
                lines = csv.reader(text, delimiter=self.options.delimiter)
            try:
                first = next(lines, None)
            except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
                raise self._unreadable(exc) from exc
            if first is None:
                return
            if self.options.header:
                self.columns = [c.strip() for c in first]
                pending: list[list[Any]] = []
            else:
                self.columns = [str(i + 1) for i in range(len(first))]
                pending = [list(first)]
            while True:
                try:
                    for line in lines:
                        pending.append(line)
                        if len(pending) >= self.options.batch_rows:
                            break
                    else:
                        self.done = raw.tell()
                        if pending:
                            yield pending
                        return
                except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
                    raise self._unreadable(exc) from exc
                self.done = raw.tell()
                yield pending
                pending = []

    def _unreadable(self, exc: Exception) -> InvalidImport:
        return InvalidImport(
            f"{self.path.name} cannot be read as {self.format}{' (gzip)' if self.gz else ''}: {exc}",
            hint="Check the file's format, compression and encoding (--encoding).",
            code="unreadable_file",
        )


class RowParser:
    """Turns raw cells into ``ParsedRow``s or ``RowError``s according to the options."""

    def __init__(self, options: ImportOptions, columns: list[str], *, ragged: bool = True) -> None:
        self.options = options
        mapping = dict(options.mapping)
        # Unmapped fields fall back to a column of the same name (case-insensitive).
        lower = {c.lower(): c for c in columns}
        for name in FIELDS:
            if name not in mapping and name in lower:
                mapping[name] = lower[name]
        unknown = sorted(set(mapping) - set(FIELDS))
        if unknown:
            raise InvalidImport(
                f"Unknown target field(s) in the mapping: {', '.join(unknown)}.",
                hint=f"Map columns to: {', '.join(FIELDS)}.",
                code="invalid_mapping",
            )
        self.mapping = mapping
        self.index: dict[str, int] = {}
        missing: list[str] = []
        for name, column in mapping.items():
            if column in columns:
                self.index[name] = columns.index(column)
            else:
                missing.append(f"{column} (for {name})")
        required = ["customer", "occurred_at"]
        if "amount" not in mapping:
            required += ["quantity", "unit_price"]
        for name in required:
            if name not in mapping:
                missing.append(f"<unmapped> (for {name})")
        self.missing = missing
        try:
            self.tz: tzinfo = UTC if options.timezone.upper() == "UTC" else ZoneInfo(options.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidImport(
                f"Unknown time zone {options.timezone!r}.",
                hint="Use an IANA name such as Asia/Tokyo.",
                code="invalid_timezone",
            ) from exc
        self.width = len(columns)
        # Parquet columns always line up; text rows can be ragged.
        self.check_width = ragged

    def _cell(self, cells: list[Any], name: str) -> Any:
        i = self.index.get(name, -1)
        return None if i < 0 or i >= len(cells) else _clean(cells[i])

    def parse(self, row_no: int, cells: list[Any]) -> ParsedRow | RowError:
        """Validate one row. Rows without a customer are valid (they are counted and skipped later)."""
        if self.check_width and len(cells) != self.width:
            return RowError(row_no, None, _short(cells), f"expected {self.width} columns, found {len(cells)}")
        cell = self._cell
        customer = _ident(cell(cells, "customer"))
        raw_date = cell(cells, "occurred_at")
        try:
            occurred_at = self._date(raw_date)
        except ValueError as exc:
            return RowError(row_no, self.mapping["occurred_at"], _short(raw_date), str(exc))
        raw_amount = cell(cells, "amount")
        raw_quantity = cell(cells, "quantity")
        raw_price = cell(cells, "unit_price")
        try:
            amount = _number(raw_amount)
        except ValueError as exc:
            return RowError(row_no, self.mapping["amount"], _short(raw_amount), str(exc))
        try:
            quantity = _number(raw_quantity)
        except ValueError as exc:
            return RowError(row_no, self.mapping["quantity"], _short(raw_quantity), str(exc))
        try:
            price = _number(raw_price)
        except ValueError as exc:
            return RowError(row_no, self.mapping["unit_price"], _short(raw_price), str(exc))
        if amount is None:
            if quantity is None or price is None:
                column = self.mapping["quantity" if quantity is None else "unit_price"]
                return RowError(row_no, column, None, "missing value (needed for the amount)")
            amount = quantity * price
        amount = round(amount, 4)
        order_id = _ident(cell(cells, "order_id"))
        external_id = _ident(cell(cells, "external_id"))
        if external_id is None:
            if "external_id" in self.mapping:
                return RowError(row_no, self.mapping["external_id"], None, "missing external id")
            # Without an id column the row number identifies the row, so re-importing the same file is a no-op.
            external_id = f"row:{row_no}"
        currency = cell(cells, "currency")
        if currency is None:
            currency = self.options.currency
        else:
            currency = str(currency).upper()
            if len(currency) != 3 or not currency.isalpha():
                return RowError(row_no, self.mapping.get("currency"), _short(currency), "not an ISO 4217 currency")
        prefix = self.options.return_prefix
        is_return = (
            amount < 0
            or (quantity is not None and quantity < 0)
            or (prefix is not None and order_id is not None and order_id.startswith(prefix))
        )
        for name, value in (("order_id", order_id), ("external_id", external_id), ("customer", customer)):
            if value is not None and len(value) > 255:
                return RowError(row_no, self.mapping.get(name), _short(value), "longer than 255 characters")
        product = cell(cells, "product")
        name = cell(cells, "customer_name")
        country = cell(cells, "country")
        return ParsedRow(
            row_no,
            customer,
            None if name is None else str(name)[:255],
            None if country is None else str(country)[:64],
            external_id,
            occurred_at,
            amount,
            currency,
            quantity,
            price,
            order_id or external_id,
            None if product is None else str(product)[:255],
            is_return,
        )

    def _date(self, value: Any) -> datetime:
        if value is None:
            raise ValueError("missing date")
        if value.__class__ is datetime:
            if value.tzinfo is None and self.tz is UTC and 1900 <= value.year <= 2200:
                return value  # the common case, first
            dt = value
        elif isinstance(value, datetime):
            dt = value
        elif hasattr(value, "isoformat") and not isinstance(value, str):  # a date from Parquet
            dt = datetime(value.year, value.month, value.day)
        else:
            text = str(value)
            fmt = self.options.date_format
            try:
                if fmt is None:
                    dt = datetime.fromisoformat(text)
                else:
                    dt = datetime.strptime(text, fmt)
            except ValueError:
                expected = fmt or "ISO 8601 (YYYY-MM-DD[ HH:MM[:SS]])"
                raise ValueError(f"not a date in the format {expected}") from None
        if not 1900 <= dt.year <= 2200:
            raise ValueError("date out of range (1900-2200)")
        if dt.tzinfo is None:
            if self.tz is UTC:
                return dt
            dt = dt.replace(tzinfo=self.tz)
        return dt.astimezone(UTC).replace(tzinfo=None)


def _clean(value: Any) -> Any:
    """Blank strings and NaN are missing values."""
    if value.__class__ is str:
        value = value.strip()
        return value or None
    if value.__class__ is float and value != value:
        return None
    return value


def _ident(value: Any) -> str | None:
    """An id as text; Parquet/pandas store integer ids with missing values as floats (17850.0 → "17850")."""
    if value is None:
        return None
    if value.__class__ is str:
        return value  # already stripped by _clean
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    cls = value.__class__
    if cls is float or cls is int:
        number = float(value)
    elif cls is bool:
        raise ValueError("not a number")
    else:
        try:
            number = float(str(value))
        except ValueError:
            raise ValueError("not a number") from None
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"
