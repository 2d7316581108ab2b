"""``insight import``: data files into the database (transactions, for segments and win patterns)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from insight.cli.common import build_runtime, console, err, fail, load_settings, progress
from insight.errors import InsightError

app = typer.Typer(help="Import data files.", no_args_is_help=True)


def _parse_map(entries: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for entry in entries:
        for part in entry.split(","):
            field, sep, column = part.partition("=")
            if not sep or not field.strip() or not column.strip():
                err.print(f"[red]--map expects FIELD=COLUMN, not {part!r}[/red]")
                raise typer.Exit(2)
            mapping[field.strip()] = column.strip()
    return mapping


@app.command("transactions")
def import_transactions_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, CSV.gz, or Parquet.")],
    map_: Annotated[
        list[str],
        typer.Option(
            "--map",
            help="FIELD=COLUMN (repeatable or comma-separated). Fields: customer, occurred_at, amount or quantity + "
            "unit_price, order_id, product, currency, external_id, customer_name, country. Without a header, "
            "COLUMN is the 1-based column number.",
        ),
    ] = [],  # noqa: B006 - typer needs a list default
    preset: Annotated[
        str | None,
        typer.Option(help="online-retail (both UCI layouts; recognised by itself), cdnow or cdnow-sample."),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Source system name (default: the preset's name, else 'import').")
    ] = None,
    customer_source: Annotated[str | None, typer.Option(help="Namespace of customer ids (default: source).")] = None,
    file_format: Annotated[str | None, typer.Option("--format", help="csv, whitespace or parquet.")] = None,
    header: Annotated[bool | None, typer.Option(help="The file starts with a header line.")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (default: detected).")] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Text encoding, e.g. cp932 (default: detected: UTF-8 with or without BOM, UTF-16, CP932)."),
    ] = None,
    date_format: Annotated[
        str | None,
        typer.Option(help="strptime format, e.g. %m/%d/%Y %H:%M (default: ISO 8601, YYYY/MM/DD or YYYY年M月D日)."),
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of dates without one (default UTC).")] = None,
    currency: Annotated[str | None, typer.Option(help="Currency of rows without a currency column.")] = None,
    return_prefix: Annotated[
        str | None, typer.Option(help="Order ids starting with this are returns (e.g. C).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import a transaction file: all rows or none. Rows already imported (by id, or by content in any file or
    format) are skipped and reported.
    """
    from insight.crm_sync.importer import import_transactions
    from insight.crm_sync.tabular import ImportOptions
    from insight.errors import InvalidImport

    if file_format is not None and file_format not in {"csv", "whitespace", "parquet"}:
        err.print(f"[red]--format must be csv, whitespace or parquet, not {file_format!r}[/red]")
        raise typer.Exit(2)
    mapping = _parse_map(map_)
    settings = load_settings()
    try:
        options = ImportOptions.build(
            preset=preset,
            mapping=mapping,
            source=source,
            customer_source=customer_source,
            file_format=file_format,
            header=header,
            delimiter=delimiter,
            encoding=encoding,
            date_format=date_format,
            timezone=timezone,
            currency=currency,
            return_prefix=return_prefix,
        )
        runtime = build_runtime(settings)
        with progress(file.name, transient=as_json) as bar:
            task = bar.add_task("import", total=None)
            report = import_transactions(
                runtime.engine,
                file,
                options,
                on_progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except InvalidImport as exc:
        if exc.report is not None:
            _print_import_report(exc.report, as_json=as_json)
        raise fail(exc) from exc
    except InsightError as exc:
        raise fail(exc) from exc
    _print_import_report(report, as_json=as_json)


def _print_import_report(report: Any, *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if report.missing_columns:
        return  # nothing was read: the error says which columns to name
    if report.columns:
        found = ", ".join(f"{target} ← {column}" for target, column in report.columns.items())
        preset = f" ({report.preset} layout)" if report.preset else ""
        console.print(f"columns{preset}: {found}")
    table = Table(show_header=False, box=None)
    no_customer = f"{report.rows_no_customer:,}  ({report.no_customer_total:,.2f})"
    if report.no_customer_return_rows:
        no_customer += f", of which {report.no_customer_return_rows:,} cancellations"
    rows = [
        ("rows read", f"{report.rows_read:,}"),
        ("rejected", f"{report.rows_rejected:,}"),
        ("sales lines", f"{report.sales_rows:,}  ({report.sales_total:,.2f})"),
        ("return / cancellation lines", f"{report.return_rows:,}  ({report.returns_total:,.2f})"),
        ("gross total (all valid rows)", f"{report.gross_total:,.2f}"),
        ("without customer (not stored)", no_customer),
        ("inserted", f"{report.inserted:,}"),
        ("already present (skipped)", f"{report.already_present:,}"),
        ("customers created", f"{report.customers_created:,}"),
        ("calls linked", f"{report.calls_linked:,}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if report.errors:
        bad = Table(title="rejected rows", show_header=True, header_style="bold")
        for column in ("row", "column", "value", "reason"):
            bad.add_column(column)
        for e in report.errors[:200]:
            bad.add_row(str(e.row), e.column or "", e.value or "", e.reason)
        console.print(bad)
        if len(report.errors) > 200 or report.errors_truncated:
            console.print(f"… {report.rows_rejected - 200:,} more (use --json for the full list)")
    if report.committed:
        if report.already_present:
            span = ""
            if report.already_present_from and report.already_present_to:
                span = f", dated {report.already_present_from:%Y-%m-%d} to {report.already_present_to:%Y-%m-%d}"
            console.print(
                f"{report.already_present:,} rows were imported before (the same rows{span}): nothing added for them"
            )
        console.print(f"✓ {report.file} imported as source {report.source!r} in {report.duration_s:.1f} s")
