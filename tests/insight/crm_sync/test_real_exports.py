"""Imports of real exports as users have them: the same rows under another name, in another format or layout, or in
an overlapping later export add nothing; Japanese spreadsheet exports (Shift_JIS, Japanese headers) need no options.

The expected figures are computed straight from the UCI file with pandas, not with the importer's code.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import Session, func, select

from insight.crm_sync.importer import ImportReport, import_transactions
from insight.crm_sync.tabular import ImportOptions, resolve_columns
from insight.errors import InvalidImport
from insight.runtime import Runtime
from models import Customer, CustomerExternalId, Transaction
from tests.conftest import SHARED_DATA, shared
from tests.fixtures.transactions import JA_HEADER, JA_ROWS, write_ja

UCI = SHARED_DATA / "transactions" / "uci_online_retail" / "online_retail_2010-12_2011-12.parquet"
# Column names of the UCI "Online Retail II" layout for those of "Online Retail".
LAYOUT_II = {"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}


def uci_days(first: str, last: str) -> pd.DataFrame:
    """The UCI lines dated from ``first`` to ``last`` (whole days): a deterministic slice of real data."""
    df = pd.read_parquet(shared(UCI))
    day = df["InvoiceDate"].dt.normalize()
    return df[(day >= first) & (day <= last)].reset_index(drop=True)


def figures(df: pd.DataFrame) -> dict[str, float | int]:
    """What an import of these lines should report, by pandas."""
    amount = (df["Quantity"] * df["UnitPrice"]).round(4)
    cancelled = df["InvoiceNo"].str.startswith("C") | (df["Quantity"] < 0) | (amount < 0)
    guest = df["CustomerID"].isna()
    return {
        "rows": len(df),
        "gross": round(float(amount.sum()), 2),
        "cancellations": int(cancelled.sum()),
        "cancellations_total": round(float(amount[cancelled].sum()), 2),
        "no_customer": int(guest.sum()),
        "no_customer_cancellations": int((guest & cancelled).sum()),
        "stored": int((~guest).sum()),
        "customers": int(df["CustomerID"].nunique()),
    }


def stored(runtime: Runtime) -> tuple[int, int, float]:
    with Session(runtime.engine) as s:
        return (
            int(s.exec(select(func.count()).select_from(Transaction)).one()),
            int(s.exec(select(func.count()).select_from(Customer)).one()),
            round(float(s.exec(select(func.coalesce(func.sum(Transaction.amount), 0.0))).one()), 2),
        )


def check_report(report: ImportReport, want: dict[str, float | int]) -> None:
    assert report.rows_read == want["rows"]
    assert report.rows_rejected == 0
    assert report.gross_total == want["gross"]
    assert report.return_rows == want["cancellations"]  # with or without a customer
    assert report.returns_total == want["cancellations_total"]
    assert report.rows_no_customer == want["no_customer"]
    assert report.no_customer_return_rows == want["no_customer_cancellations"]
    assert report.sales_rows + report.return_rows == want["rows"]


def test_the_same_rows_under_another_name_format_or_layout_add_nothing(runtime: Runtime, tmp_path: Path) -> None:
    first_days = uci_days("2010-12-01", "2010-12-10")
    later_days = uci_days("2010-12-06", "2010-12-20")  # a later export overlapping the first by five days
    want = figures(first_days)
    assert want["no_customer_cancellations"] > 0  # the slice has cancellations without a customer

    export = tmp_path / "sales_export.parquet"
    first_days.to_parquet(export, index=False)
    first = import_transactions(runtime.engine, export, ImportOptions())  # recognised: no preset, no --map
    assert first.preset == "online-retail"
    assert first.source == "online-retail"
    check_report(first, want)
    assert (first.inserted, first.already_present, first.customers_created) == (want["stored"], 0, want["customers"])
    after_first = stored(runtime)
    assert after_first[:2] == (want["stored"], want["customers"])

    # The same file under the name a browser gives a second download.
    again = import_transactions(
        runtime.engine, shutil.copy(export, tmp_path / "sales_export (1).parquet"), ImportOptions()
    )
    assert (again.inserted, again.already_present, again.customers_created) == (0, want["stored"], 0)
    assert again.already_present_from == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)

    # The same sheet as CSV in the "Online Retail II" layout: pandas writes the customer ids as 17850.0.
    csv_ii = tmp_path / "online_retail_II.csv"
    first_days.rename(columns=LAYOUT_II).to_csv(csv_ii, index=False)
    assert ",17850.0," in csv_ii.read_text()
    as_csv = import_transactions(runtime.engine, csv_ii, ImportOptions.from_preset("online-retail"))
    check_report(as_csv, want)
    assert as_csv.columns["customer"] == "Customer ID"
    assert (as_csv.inserted, as_csv.already_present, as_csv.customers_created) == (0, want["stored"], 0)
    assert stored(runtime) == after_first

    # A later export overlapping the first: only the new days' rows and customers are added.
    later = tmp_path / "sales_export_2010-12-20.csv.gz"
    with gzip.open(later, "wt", encoding="utf-8") as fh:
        later_days.rename(columns=LAYOUT_II).to_csv(fh, index=False)
    overlap = later_days[later_days["InvoiceDate"] < "2010-12-11"]
    new = later_days[later_days["InvoiceDate"] >= "2010-12-11"]
    new_customers = set(new["CustomerID"].dropna()) - set(first_days["CustomerID"].dropna())
    report = import_transactions(runtime.engine, later, ImportOptions())
    check_report(report, figures(later_days))
    assert report.already_present == int(overlap["CustomerID"].notna().sum())
    assert report.inserted == int(new["CustomerID"].notna().sum())
    assert report.customers_created == len(new_customers)
    both = pd.concat([first_days, new])
    count, customers, net = stored(runtime)
    assert (count, customers) == (int(both["CustomerID"].notna().sum()), int(both["CustomerID"].nunique()))
    with_customer = both[both["CustomerID"].notna()]
    assert net == pytest.approx(
        float((with_customer["Quantity"] * with_customer["UnitPrice"]).round(4).sum()), abs=0.01
    )
    with Session(runtime.engine) as s:
        refs = set(s.exec(select(CustomerExternalId.external_id)).all())
    assert refs == {str(int(c)) for c in both["CustomerID"].dropna()}  # never "17850.0"


def test_japanese_spreadsheet_exports_need_no_options(runtime: Runtime, tmp_path: Path) -> None:
    sjis = write_ja(tmp_path / "売上明細.csv", JA_HEADER, JA_ROWS, encoding="cp932")
    with pytest.raises(UnicodeDecodeError):
        sjis.read_bytes().decode("utf-8")
    report = import_transactions(runtime.engine, sjis, ImportOptions())
    assert report.encoding == "cp932"
    assert report.columns == {
        "customer": "顧客番号",
        "occurred_at": "注文日",
        "quantity": "数量",
        "unit_price": "単価",
        "order_id": "伝票番号",
        "product": "商品コード",
        "customer_name": "氏名",
    }
    assert (report.rows_read, report.inserted, report.customers_created) == (5, 4, 2)
    assert (report.return_rows, report.rows_no_customer, report.gross_total) == (1, 1, 9800.0)
    with Session(runtime.engine) as s:
        names = set(s.exec(select(Customer.name)).all())
        first = s.exec(select(Transaction).order_by(Transaction.occurred_at)).first()
    assert names == {"山田 太郎", "佐藤 花子"}
    assert first is not None
    assert first.occurred_at == datetime(2026, 11, 2, 10, 15, tzinfo=UTC)

    # The same rows saved as "UTF-8 (BOM)" with other usual headers, ids as 1001.0 and 年月日 dates; and as
    # "Unicode text" (UTF-16, tab-separated): nothing new.
    other = ["顧客ID", "お客様名", "購入日", "注文番号", "品番", "個数", "販売単価"]
    alt_rows = [[f"{r[0]}.0" if r[0] else "", *r[1:]] for r in JA_ROWS]
    for r in alt_rows:
        r[2] = r[2].replace("2026/11/", "2026年11月").replace(" ", "日 ", 1) if " " in r[2] else r[2]
    bom = write_ja(tmp_path / "export.csv", other, alt_rows, encoding="utf-8-sig")
    utf16 = write_ja(tmp_path / "export.tsv", JA_HEADER, JA_ROWS, encoding="utf-16", sep="\t")
    for path, encoding in ((bom, "utf-8-sig"), (utf16, "utf-16")):
        again = import_transactions(runtime.engine, path, ImportOptions())
        assert again.encoding == encoding
        assert (again.inserted, again.already_present, again.customers_created) == (0, 4, 0), path.name

    # A customer column under a name of its own: the error names the --map entry to pass, and nothing is read.
    header = ["会員No", *JA_HEADER[1:]]
    unusual = write_ja(tmp_path / "members.csv", header, JA_ROWS, encoding="cp932")
    with pytest.raises(InvalidImport) as caught:
        import_transactions(runtime.engine, unusual, ImportOptions())
    assert caught.value.code == "missing_columns"
    assert "no column for customer" in caught.value.message
    assert "会員No" in caught.value.message  # the file's columns are listed
    assert "--map customer=COLUMN" in caught.value.hint
    assert "Fix the rows" not in caught.value.hint
    mapped = import_transactions(runtime.engine, unusual, ImportOptions(mapping={"customer": "会員No"}))
    assert (mapped.inserted, mapped.already_present) == (0, 4)


def test_undetectable_encoding_says_to_pass_it(runtime: Runtime, tmp_path: Path) -> None:
    latin = tmp_path / "ventes.csv"
    latin.write_bytes("customer,date,amount,product\nC1,2026-11-02,12.5,Café, crème\n".encode("latin-1"))
    with pytest.raises(InvalidImport) as caught:
        import_transactions(runtime.engine, latin, ImportOptions())
    assert "--encoding" in caught.value.hint
    latin.write_bytes("customer,date,amount,product\nC1,2026-11-02,12.5,Café crème\n".encode("latin-1"))
    report = import_transactions(runtime.engine, latin, ImportOptions(encoding="latin-1"))
    assert report.inserted == 1
    with Session(runtime.engine) as s:
        assert s.exec(select(Transaction.product)).one() == "Café crème"
    for unknown in ("shift-jisx", "rot13", "base64"):
        with pytest.raises(InvalidImport, match="Unknown text encoding"):
            ImportOptions(encoding=unknown)


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSIGHT_")}
    env.update({"INSIGHT_DATA_DIR": str(data_dir), "NO_COLOR": "1", "COLUMNS": "200"})
    return subprocess.run(
        [sys.executable, "-m", "insight.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_import_names_the_map_flag_and_takes_an_encoding(tmp_path: Path) -> None:
    data = tmp_path / "data"
    unusual = write_ja(tmp_path / "members.csv", ["会員No", *JA_HEADER[1:]], JA_ROWS, encoding="cp932")
    missing = cli("import", "transactions", str(unusual), data_dir=data)
    assert missing.returncode != 0
    assert "--map customer=COLUMN" in missing.stderr + missing.stdout
    assert "rows read" not in missing.stdout  # no table of zeros
    done = cli("import", "transactions", str(unusual), "--map", "customer=会員No", "--encoding", "cp932", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert "customer ← 会員No" in done.stdout
    again = cli("import", "transactions", str(unusual), "--map", "customer=会員No", data_dir=data)
    assert again.returncode == 0, again.stderr
    assert "4 rows were imported before" in again.stdout
    assert "dated 2026-11-02 to 2026-11-16" in again.stdout
    segments = cli("segments", "compute", "--as-of", "2026-11-30", data_dir=data)
    assert segments.returncode == 0, segments.stderr
    assert "as of 2026-11-30 (run 1)" in segments.stdout  # the date given, not 2026-12-01 00:00
    assert "as of 2026-12-01" not in segments.stdout


@pytest.mark.parametrize(
    ("columns", "found"),
    [
        # Online Retail II as UCI publishes it
        (
            ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"],
            {"customer": "Customer ID", "order_id": "Invoice", "unit_price": "Price", "occurred_at": "InvoiceDate"},
        ),
        # full-width letters, spaces and case do not matter
        (["顧客ＩＤ", "購入日", "金額"], {"customer": "顧客ＩＤ", "occurred_at": "購入日", "amount": "金額"}),
        # an order's total repeated on each line is not a line's amount when quantity and price are there
        (
            ["Order ID", "Customer", "Created at", "Quantity", "Total", "Price"],
            {"customer": "Customer", "occurred_at": "Created at", "quantity": "Quantity", "unit_price": "Price"},
        ),
    ],
)
def test_columns_are_found_by_their_usual_names(columns: list[str], found: dict[str, str]) -> None:
    options, mapping = resolve_columns(ImportOptions(), columns)
    assert found.items() <= mapping.items()
    assert "amount" not in mapping or "quantity" not in mapping
    if "StockCode" in columns:
        assert (options.preset, options.return_prefix, options.currency) == ("online-retail", "C", "GBP")
