"""Reading transaction files (CSV, CSV.gz, whitespace text, Parquet) in batches and validating each row.

Pure functions and small types: no database, no session. ``importer.py`` feeds the validated rows to the database.
A file is read in batches of a few thousand rows, so memory does not grow with the file.

Files as users have them need few options: columns are found by their usual names in English and Japanese (顧客ID,
購入日, 単価 …), both layouts of the UCI Online Retail data sets are recognised, the text encoding (UTF-8 with or
without a byte order mark, UTF-16, Shift_JIS/CP932) and the delimiter are detected, and ids are normalised the same
way from every format (``13085.0`` is ``13085``). A row without an id column is keyed by its content, so the same
purchase read from another file, another format or an overlapping export is recognised as already imported.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import itertools
import math
import re
import unicodedata
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
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

# The usual names of each field's column, in English and Japanese; matched ignoring case, width, spaces, "_", "-"
# and ".", in this order of preference. ``--map`` entries and a preset's own names come first.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    name: tuple(names.split())
    for name, names in {
        "customer": "customer customer_id customer_no customer_number customer_code client_id member_id "
        "顧客ID 顧客番号 顧客コード 顧客 会員ID 会員番号 お客様ID お客様番号 得意先コード 取引先コード",
        "occurred_at": "occurred_at invoice_date order_date purchase_date transaction_date sale_date created_at date "
        "datetime timestamp 購入日 購入日時 注文日 注文日時 受注日 売上日 取引日 取引日時 日付 日時",
        "amount": "amount line_total total sales revenue 金額 売上金額 購入金額 売上 合計金額 合計 小計 税込金額",
        "quantity": "quantity qty units 数量 個数 購入数",
        "unit_price": "unit_price price 単価 販売単価 価格",
        "order_id": "order_id order_no order_number order invoice_no invoice_number invoice 注文番号 注文ID "
        "受注番号 伝票番号 請求書番号 オーダー番号",
        "product": "product product_id product_code stock_code sku item_id item_code item 商品コード 商品ID 商品番号 "
        "品番 JANコード",
        "currency": "currency 通貨",
        "external_id": "external_id",
        "customer_name": "customer_name 顧客名 お客様名 会員名 氏名",
        "country": "country 国 国名",
    }.items()
}

# Known public data sets. ``columns`` lists each field's column names in the data set's layouts; a file whose header
# holds a column for every one of them is recognised as that data set without ``--preset``. The preset's name is
# the default source of its rows (the namespace of their ids).
PRESETS: dict[str, dict[str, Any]] = {
    "online-retail": {
        # UCI "Online Retail" (InvoiceNo, UnitPrice, CustomerID) and "Online Retail II" (Invoice, Price, Customer ID)
        "columns": {
            "customer": ("CustomerID", "Customer ID"),
            "occurred_at": ("InvoiceDate",),
            "quantity": ("Quantity",),
            "unit_price": ("UnitPrice", "Price"),
            "order_id": ("InvoiceNo", "Invoice"),
            "product": ("StockCode",),
            "country": ("Country",),
        },
        "return_prefix": "C",
        "currency": "GBP",
    },
    "cdnow": {
        # CDNOW_master.txt: customer id, date YYYYMMDD, number of CDs, dollar value
        "columns": {"customer": ("1",), "occurred_at": ("2",), "quantity": ("3",), "amount": ("4",)},
        "format": "whitespace",
        "header": False,
        "currency": "USD",
        "date_format": "%Y%m%d",
    },
    "cdnow-sample": {
        # CDNOW_sample.txt: master id, sample id, date, number of CDs, dollar value; the sample id is the customer
        "columns": {"customer": ("2",), "occurred_at": ("3",), "quantity": ("4",), "amount": ("5",)},
        "format": "whitespace",
        "header": False,
        "currency": "USD",
        "date_format": "%Y%m%d",
    },
}
# Presets recognised from a file's header: those whose columns have names, not numbers.
RECOGNISABLE = ("online-retail",)
DEFAULT_SOURCE = "import"
DELIMITERS = (",", "\t", ";", "|")

MAX_VALUE_CHARS = 80
SNIFF_BYTES = 1 << 20  # read to detect the encoding


@dataclass(frozen=True)
class ImportOptions:
    """How to read one transaction file.

    Attributes:
        mapping: target field → column name (or 1-based column number for files without a header). Fields left
            out are found by their usual column names (``COLUMN_NAMES``, the preset's names first).
        preset: a known data set (``PRESETS``) whose layout, return prefix and currency apply; recognised from the
            header when not given.
        source: the system the rows come from; ``(source, external_id)`` identifies a transaction. Default: the
            preset's name, else ``import`` (never the file name: the same rows under another name are the same rows).
        customer_source: the namespace of the customer ids in the file; default: ``source``.
        file_format: ``csv``, ``whitespace`` or ``parquet``; default: from the file name.
        header: whether a CSV/text file starts with a header line; default: yes, unless the preset says not.
        delimiter: CSV delimiter; default: whichever of , tab ; | the header line uses most.
        encoding: text encoding; default: detected (UTF-8 with or without a byte order mark, UTF-16 with one,
            Shift_JIS/CP932).
        date_format: ``strptime`` format of ``occurred_at``; default: ISO 8601, ``YYYY/MM/DD`` or ``YYYY年M月D日``
            with an optional time.
        timezone: zone of dates that carry none (IANA name); stored as UTC.
        currency: currency of rows without a currency column (ISO 4217).
        return_prefix: order ids starting with this mark returns/cancellations (e.g. ``C``). Rows with a negative
            quantity or amount are returns too.
        batch_rows: rows per batch.
        max_errors: bad rows listed in the report (all are counted).
    """

    mapping: Mapping[str, str] = field(default_factory=dict)
    preset: str | None = None
    source: str | None = None
    customer_source: str | None = None
    file_format: FileFormat | None = None
    header: bool | None = None
    delimiter: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    timezone: str = "UTC"
    currency: str | None = None
    return_prefix: str | None = None
    batch_rows: int = 10_000
    max_errors: int = 10_000

    def __post_init__(self) -> None:
        if self.preset is not None and self.preset not in PRESETS:
            raise InvalidImport(
                f"Unknown preset {self.preset!r}.",
                hint=f"Known presets: {', '.join(sorted(PRESETS))}.",
                code="unknown_preset",
            )
        if self.encoding is not None:
            try:
                # Bytes-to-bytes and text-to-text codecs (base64, rot13 …) are not encodings of text files.
                if not getattr(codecs.lookup(self.encoding), "_is_text_encoding", True):
                    raise LookupError(self.encoding)
            except (LookupError, ValueError):
                raise InvalidImport(
                    f"Unknown text encoding {self.encoding!r}.",
                    hint="Use e.g. utf-8, cp932 (Shift_JIS) or latin-1, or leave it out to detect it.",
                    code="invalid_encoding",
                ) from None

    @classmethod
    def build(
        cls,
        *,
        preset: str | None = None,
        mapping: Mapping[str, str] | None = None,
        source: str | None = None,
        customer_source: str | None = None,
        file_format: str | None = None,
        header: bool | None = None,
        delimiter: str | None = None,
        encoding: str | None = None,
        date_format: str | None = None,
        timezone: str | None = None,
        currency: str | None = None,
        return_prefix: str | None = None,
    ) -> ImportOptions:
        """Options from what a caller (command line or API request) was given: ``None`` means not given.

        Values not given keep their defaults; with a preset, its layout, currency, date format and return prefix
        fill them (``from_preset``).

        Raises:
            InvalidImport: an unknown preset or text encoding.
        """
        values: dict[str, Any] = {
            "source": source,
            "customer_source": customer_source,
            "file_format": file_format,
            "header": header,
            "delimiter": delimiter,
            "encoding": encoding,
            "date_format": date_format,
            "timezone": timezone,
            "currency": currency,
            "return_prefix": return_prefix,
        }
        given = dict(mapping or {})
        if preset:
            return cls.from_preset(preset, mapping=given, **values)
        return cls(mapping=given, **{k: v for k, v in values.items() if v is not None})

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> ImportOptions:
        """Options for a known data set (``online-retail``, ``cdnow``, ``cdnow-sample``), with overrides on top."""
        if name not in PRESETS:
            raise InvalidImport(
                f"Unknown preset {name!r}.", hint=f"Known presets: {', '.join(sorted(PRESETS))}.", code="unknown_preset"
            )
        return cls(preset=name, **{k: v for k, v in overrides.items() if v is not None}).with_preset_defaults()

    def with_preset_defaults(self) -> ImportOptions:
        """These options with the preset's format, header, currency, date format and return prefix where unset."""
        if self.preset is None:
            return self
        preset = PRESETS[self.preset]
        values: dict[str, Any] = {}
        for key, attr in (("format", "file_format"), ("currency", "currency"), ("date_format", "date_format")):
            if key in preset and getattr(self, attr) is None:
                values[attr] = preset[key]
        if "return_prefix" in preset and self.return_prefix is None:
            values["return_prefix"] = preset["return_prefix"]
        if "header" in preset and self.header is None:
            values["header"] = preset["header"]
        return replace(self, **values) if values else self


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
    customer_external_id: str | None
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


def detect_encoding(sample: bytes, name: str) -> str:
    """The text encoding of a file from its first bytes: a byte order mark, else UTF-8, else Shift_JIS (CP932).

    Japanese spreadsheet programs write CSV in CP932 by default, and UTF-8 with a byte order mark when asked for
    UTF-8. A sample that is neither is refused with a hint rather than read as mojibake.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "cp932"):
        try:
            # The sample may end inside a character: decode incrementally without flushing.
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise InvalidImport(
        f"{name} is neither UTF-8 nor Shift_JIS (CP932) text.",
        hint="Pass its encoding with --encoding (API: encoding), e.g. latin-1 or cp1252.",
        code="unreadable_file",
    )


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
        self.encoding: str | None = options.encoding

    def batches(self) -> Iterator[list[list[Any]]]:
        """Yield the file's data rows in batches of at most ``options.batch_rows`` rows.

        ``columns`` is set before the first batch (from the header, or "1", "2", ... when there is none) and ``done``
        advances after each batch: in bytes read from the (possibly compressed) file for text, in rows for Parquet. Of a
        Parquet file only the columns the parser reads are loaded; the others come back as None.

        Raises:
            InvalidImport: the file cannot be read in its format or encoding (code ``unreadable_file``).
        """
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
        """The columns the row parser will read (the same resolution as ``RowParser``'s)."""
        _, mapping = resolve_columns(self.options, self.columns)
        return sorted({c for c in mapping.values() if c in self.columns}, key=self.columns.index)

    def _binary(self) -> tuple[IO[bytes], IO[bytes]]:
        raw = self.path.open("rb")
        binary: IO[bytes] = gzip.GzipFile(fileobj=raw) if self.gz else raw  # type: ignore[assignment]
        return raw, binary

    def _open_text(self) -> tuple[IO[bytes], IO[str]]:
        encoding = self.options.encoding
        if encoding is None:
            raw, binary = self._binary()
            with raw, binary:
                try:
                    sample = binary.read(SNIFF_BYTES)
                except (OSError, EOFError, zlib.error) as exc:
                    raise self._unreadable(exc) from exc
            encoding = detect_encoding(sample, self.path.name)
        self.encoding = encoding
        raw, binary = self._binary()
        return raw, io.TextIOWrapper(binary, encoding=encoding, newline="")

    def _text(self) -> Iterator[list[list[Any]]]:
        raw, text = self._open_text()
        with raw, text:
            lines: Iterator[list[str]]
            try:
                if self.format == "whitespace":
                    lines = (line.split() for line in text if line.strip())
                else:
                    delimiter = self.options.delimiter
                    if delimiter is None:
                        head = text.readline()
                        delimiter = max(DELIMITERS, key=head.count) if any(d in head for d in DELIMITERS) else ","
                        lines = csv.reader(itertools.chain([head], text), delimiter=delimiter)
                    else:
                        lines = csv.reader(text, delimiter=delimiter)
                first = next(lines, None)
            except (UnicodeError, csv.Error, OSError, EOFError, zlib.error) as exc:
                raise self._unreadable(exc) from exc
            if first is None:
                return
            if self.options.header is not False:
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
                except (UnicodeError, csv.Error, OSError, EOFError, zlib.error) as exc:
                    raise self._unreadable(exc) from exc
                self.done = raw.tell()
                yield pending
                pending = []

    def _unreadable(self, exc: Exception) -> InvalidImport:
        if isinstance(exc, UnicodeError):
            return InvalidImport(
                f"{self.path.name} is not valid {self.encoding} text: {exc}",
                hint="Pass the file's encoding with --encoding (API: encoding), e.g. cp932 for Shift_JIS, latin-1.",
                code="unreadable_file",
            )
        return InvalidImport(
            f"{self.path.name} cannot be read as {self.format}{' (gzip)' if self.gz else ''}: {exc}",
            hint="Check the file's format (--format), compression and encoding (--encoding).",
            code="unreadable_file",
        )


def _column_key(name: str) -> str:
    """A column name as matched: NFKC (full-width letters and digits as ASCII), case-folded, without separators."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", name).casefold())


_SEPARATORS = re.compile(r"[\s_\-.・/()（）\[\]]+")


def recognise_preset(columns: list[str]) -> str | None:
    """The known data set whose column names the header holds, every one of them (e.g. a UCI Online Retail export)."""
    present = {_column_key(c) for c in columns}
    for name in RECOGNISABLE:
        wanted = PRESETS[name]["columns"].values()
        if all(any(_column_key(c) in present for c in names) for names in wanted):
            return name
    return None


def resolve_columns(options: ImportOptions, columns: list[str]) -> tuple[ImportOptions, dict[str, str]]:
    """The options with the preset recognised from the header, and the column of each field found in the file.

    Explicit ``mapping`` entries win (even when their column is absent: that is reported); then the preset's
    names; then the usual names of ``COLUMN_NAMES``. A column serves one field only. With quantity and unit price
    found, an amount column is used only when the mapping names it.
    """
    if options.preset is None:
        recognised = recognise_preset(columns)
        if recognised is not None:
            options = replace(options, preset=recognised)
    options = options.with_preset_defaults()
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_column_key(column), column)
    mapping = dict(options.mapping)
    used = {_column_key(c) for c in mapping.values()}
    preset_columns: dict[str, tuple[str, ...]] = PRESETS[options.preset]["columns"] if options.preset else {}
    for name in FIELDS:
        if name in mapping:
            continue
        for candidate in (*preset_columns.get(name, ()), *COLUMN_NAMES[name]):
            key = _column_key(candidate)
            if key in by_key and key not in used:
                mapping[name] = by_key[key]
                used.add(key)
                break
    if "amount" not in options.mapping and {"amount", "quantity", "unit_price"} <= mapping.keys():
        # A column found as "total" or 合計 may be the order's total repeated on each line: with a quantity and a
        # price, a line's amount is their product unless the mapping names its amount column.
        del mapping["amount"]
    return options, mapping


class RowParser:
    """Turns raw cells into ``ParsedRow``s or ``RowError``s according to the options.

    ``options`` and ``mapping`` are the resolved ones (the recognised preset, the columns found). Rows of a file
    without an ``external_id`` column are keyed by their content (``content_key``).
    """

    def __init__(self, options: ImportOptions, columns: list[str], *, ragged: bool = True) -> None:
        unknown = sorted(set(options.mapping) - set(FIELDS))
        if unknown:
            raise InvalidImport(
                f"Unknown target field(s) in the mapping: {', '.join(unknown)}.",
                hint=f"Map columns to: {', '.join(FIELDS)}.",
                code="invalid_mapping",
            )
        options, mapping = resolve_columns(options, columns)
        self.options = options
        self.mapping = mapping
        self.columns = columns
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
        self.unmapped = [name for name in required if name not in mapping]
        missing += [f"no column for {name}" for name in self.unmapped]
        self.missing = missing
        self.by_content = "external_id" not in mapping
        self.positions = [self.index.get(name, -1) for name in FIELDS]
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

    def missing_message(self, file_name: str) -> tuple[str, str]:
        """What to tell when columns are missing: the message, and a hint naming the ``--map`` entries to pass."""
        shown = ", ".join(self.columns[:20]) + (", …" if len(self.columns) > 20 else "")
        message = f"{file_name} lacks column(s): {'; '.join(self.missing)}. Its columns: {shown}."
        examples = [f"{name}=COLUMN" for name in self.unmapped]
        examples += [f"{m.rsplit(' (for ', 1)[1][:-1]}=COLUMN" for m in self.missing if " (for " in m]
        names = COLUMN_NAMES[self.unmapped[0]] if self.unmapped else ()
        usual = ", ".join([n for n in names if n.isascii()][1:4] + [n for n in names if not n.isascii()][:3])
        hint = (
            f"Name the column of each missing field: --map {','.join(examples)} (API: the mapping field)."
            + (f" Recognised by themselves: {usual} …" if usual else "")
            + ("" if "amount" in self.mapping else " A line's amount is amount, or quantity and unit_price.")
        )
        return message, hint

    def _cells(self, cells: list[Any]) -> list[Any]:
        """The cleaned cell of every field, in ``FIELDS`` order (None where the field has no column)."""
        n = len(cells)
        return [None if i < 0 or i >= n else _clean(cells[i]) for i in self.positions]

    def parse(self, row_no: int, cells: list[Any]) -> ParsedRow | RowError:
        """Validate one row. Rows without a customer are valid (they are counted and skipped later)."""
        if self.check_width and len(cells) != self.width:
            return RowError(row_no, None, _short(cells), f"expected {self.width} columns, found {len(cells)}")
        (  # in FIELDS order
            raw_customer,
            raw_date,
            raw_amount,
            raw_quantity,
            raw_price,
            raw_order,
            raw_product,
            currency,
            raw_external_id,
            name,
            country,
        ) = self._cells(cells)
        customer = _ident(raw_customer)
        try:
            occurred_at = self._date(raw_date)
        except ValueError as exc:
            return RowError(row_no, self.mapping["occurred_at"], _short(raw_date), str(exc))
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
        order_id = _ident(raw_order)
        product = _ident(raw_product)
        external_id = _ident(raw_external_id)
        if external_id is None:
            if not self.by_content:
                return RowError(row_no, self.mapping["external_id"], None, "missing external id")
            # Without an id column a row is known by what it says (the import numbers identical rows of a file):
            # the same purchase from another file, format or an overlapping export has the same key.
            external_id = (
                ""
                if customer is None
                else content_key(customer, order_id, product, occurred_at, quantity, price, amount)
            )
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
        for target, value in (("order_id", order_id), ("external_id", external_id), ("customer", customer)):
            if value is not None and len(value) > 255:
                return RowError(row_no, self.mapping.get(target), _short(value), "longer than 255 characters")
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
            # Without an order column each line is an order of its own: the import gives it the line's key.
            order_id or ("" if self.by_content else external_id),
            None if product is None else product[:255],
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
                    dt = _parse_date(text)
                else:
                    dt = datetime.strptime(text, fmt)
            except ValueError:
                if fmt is not None:
                    raise ValueError(f"not a date in the format {fmt}") from None
                raise ValueError(
                    "not a date in a known format (YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日, optionally with "
                    "HH:MM[:SS]); pass --date-format for others, e.g. %m/%d/%Y %H:%M"
                ) from None
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
    """An id as text, the same from every format: pandas stores integer ids with missing values as floats, and
    their CSV exports write them so (17850.0 and "17850.0" → "17850").
    """
    if value is None:
        return None
    if value.__class__ is str:
        # already stripped by _clean
        return value[: value.index(".")] if "." in value and _FLOAT_INTEGER.fullmatch(value) else value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


_FLOAT_INTEGER = re.compile(r"[+-]?\d+\.0+")
_DATE = re.compile(
    r"(\d{4})[/.年-](\d{1,2})[/.月-](\d{1,2})日?"
    r"(?:[ T　]*(\d{1,2})[:時](\d{1,2})(?:[:分](\d{1,2})(?:\.(\d{1,6}))?秒?)?分?)?"
)


def _parse_date(text: str) -> datetime:
    """ISO 8601 first (fast), then the spreadsheet forms ``2026/11/30 9:05`` and ``2026年11月30日 9時5分``."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _DATE.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction = match.groups()
    return datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        int((fraction or "0").ljust(6, "0")),
    )


def content_key(
    customer: str,
    order_id: str | None,
    product: str | None,
    occurred_at: datetime,
    quantity: float | None,
    unit_price: float | None,
    amount: float,
) -> str:
    """The key of a row without an id: a hash of its customer, order, item, time, quantity, price and amount.

    Numbers are written as floats rounded to 4 decimals, so ``6``, ``6.0`` and ``"6"`` agree; the import appends the
    row's occurrence among identical rows of its file (``#1``, ``#2`` …).
    """
    text = (
        f"{customer}\x1f{order_id or ''}\x1f{product or ''}\x1f{occurred_at.isoformat()}\x1f"
        f"{_key_number(quantity)}\x1f{_key_number(unit_price)}\x1f{_key_number(amount)}"
    )
    return "k:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _key_number(value: float | None) -> str:
    return "" if value is None else repr(round(value, 4) + 0.0)


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


# Helpers for readers of other kinds of rows (deals ...) that share this module's file reading and column matching.


def find_columns(
    columns: list[str], names: Mapping[str, tuple[str, ...]], mapping: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The column of each field in ``names`` found in a header, matched as transaction columns are.

    Args:
        columns: the file's column names.
        names: field → its usual column names, in order of preference.
        mapping: explicit field → column entries; they win, even when their column is absent (the caller reports it).

    Returns:
        Field → column name, for the fields found. A column serves one field only.
    """
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_column_key(column), column)
    found = dict(mapping or {})
    used = {_column_key(c) for c in found.values()}
    for name, candidates in names.items():
        if name in found:
            continue
        for candidate in candidates:
            key = _column_key(candidate)
            if key in by_key and key not in used:
                found[name] = by_key[key]
                used.add(key)
                break
    return found


def cell_ident(value: Any) -> str | None:
    """A cell as an id: stripped, blank as None, ``17850.0`` as ``17850`` (the same from every format)."""
    return _ident(_clean(value))


def cell_number(value: Any) -> float | None:
    """A cell as a finite number (None when blank); thousands separators are allowed in text.

    Raises:
        ValueError: not a number.
    """
    value = _clean(value)
    if value.__class__ is str:
        value = value.replace(",", "").replace("，", "")
    return _number(value)


def cell_datetime(value: Any, tz: tzinfo = UTC) -> datetime | None:
    """A cell as a naive UTC datetime (None when blank): ISO 8601, ``YYYY/MM/DD`` or ``YYYY年M月D日`` with an
    optional time, or a date/datetime from Parquet; dates without a zone are in ``tz``.

    Raises:
        ValueError: not a date in a known format, or out of range (1900-2200).
    """
    value = _clean(value)
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif hasattr(value, "isoformat") and not isinstance(value, str):
        dt = datetime(value.year, value.month, value.day)
    else:
        try:
            dt = _parse_date(str(value))
        except ValueError:
            raise ValueError("not a date in a known format (YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日)") from None
    if not 1900 <= dt.year <= 2200:
        raise ValueError("date out of range (1900-2200)")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC).replace(tzinfo=None)


def short_value(value: Any) -> str | None:
    """A cell's value as shown in a report: text, cut at ``MAX_VALUE_CHARS``."""
    return _short(value)
