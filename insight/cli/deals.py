"""``insight deals``: import, list and change deals (their outcomes are what win patterns are learnt from)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from insight import audit
from insight.cli.common import CLI_ACTOR_LABEL, build_runtime, console, err, fail, load_settings
from insight.cli.imports import _parse_map as parse_map
from insight.errors import InsightError, InvalidImport, NotFound

app = typer.Typer(help="Deals and their outcomes.", no_args_is_help=True)


@app.command("import")
def deals_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, CSV.gz or Parquet.")],
    map_: Annotated[
        list[str],
        typer.Option(
            "--map",
            help="FIELD=COLUMN (repeatable or comma-separated) for columns not found by their usual names. Fields: "
            "deal, customer, name, stage, amount, currency, outcome, closed_at, owner.",
        ),
    ] = [],  # noqa: B006 - typer needs a list default
    source: Annotated[str | None, typer.Option(help="The deals' source system (default: 'import').")] = None,
    customer_source: Annotated[str | None, typer.Option(help="Namespace of customer ids (default: source).")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding, e.g. cp932 (default: detected).")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (default: detected).")] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of close dates without one (default UTC).")] = None,
    currency: Annotated[str | None, typer.Option(help="Currency of rows without a currency column.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import a deal file: new deals are inserted, changed ones updated; the same file again changes nothing. Bad
    rows are listed with their reasons and the others imported.
    """
    from insight.crm_sync.tabular import ImportOptions
    from insight.customers.deals import import_deals

    settings = load_settings()
    try:
        options = ImportOptions.build(
            mapping=parse_map(map_),
            source=source,
            customer_source=customer_source,
            encoding=encoding,
            delimiter=delimiter,
            timezone=timezone,
            currency=currency,
        )
        runtime = build_runtime(settings)
        report = import_deals(runtime.engine, file, options, actor=audit.Actor(label=CLI_ACTOR_LABEL))
    except InvalidImport as exc:
        if exc.report is not None and as_json:
            _print_json(exc.report.to_dict())  # type: ignore[attr-defined]
        raise fail(exc) from exc
    except InsightError as exc:
        raise fail(exc) from exc
    if as_json:
        _print_json(report.to_dict())
        return
    console.print("columns: " + ", ".join(f"{target} ← {column}" for target, column in report.columns.items()))
    table = Table(show_header=False, box=None)
    for name, value in (
        ("rows read", report.rows_read),
        ("inserted", report.inserted),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("rejected", report.rejected),
        ("customers created", report.customers_created),
        ("calls linked", report.calls_linked),
    ):
        table.add_row(name, f"{value:,}")
    table.add_row("outcomes", ", ".join(f"{k} {v:,}" for k, v in sorted(report.outcomes.items())) or "-")
    console.print(table)
    if report.errors:
        bad = Table(title="rejected rows", header_style="bold")
        for column in ("row", "column", "value", "reason"):
            bad.add_column(column)
        for e in report.errors[:200]:
            bad.add_row(str(e.row), e.column or "", e.value or "", e.reason)
        console.print(bad)
    console.print(f"✓ {report.file} imported as source {report.source!r}")


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


@app.command("list")
def deals_list(
    customer: Annotated[str | None, typer.Option(help="Only the deals of this customer (external id).")] = None,
    outcome: Annotated[str | None, typer.Option(help="won, lost or open.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List deals, newest first."""
    from sqlmodel import Session

    from insight.customers.deals import list_deals
    from insight.repositories import customers as customers_repo

    runtime = build_runtime(load_settings())
    with Session(runtime.engine) as session:
        customer_id = None
        if customer is not None:
            customer_id = customers_repo.resolve_external_id(session, customer)
            if customer_id is None:
                err.print(f"[red]No customer is known as {customer!r} (name the source as source:id).[/red]")
                raise typer.Exit(1)
        try:
            rows, total = list_deals(session, customer_id=customer_id, outcome=outcome, limit=limit)
        except InsightError as exc:
            raise fail(exc) from exc
    if as_json:
        _print_json({"data": [d.model_dump() for d in rows], "count": total})
        return
    table = Table(header_style="bold")
    for column in ("id", "deal", "customer", "name", "stage", "outcome", "amount", "closed"):
        table.add_column(column)
    for d in rows:
        amount = "" if d.amount is None else f"{d.amount:,.0f} {d.currency or ''}".strip()
        table.add_row(
            str(d.id),
            f"{d.source}:{d.external_id}",
            "" if d.customer_id is None else str(d.customer_id),
            d.name or "",
            d.stage or "",
            d.outcome,
            amount,
            "" if d.closed_at is None else f"{d.closed_at:%Y-%m-%d}",
        )
    console.print(table)
    console.print(f"{len(rows)} of {total} deals")


@app.command("set")
def deals_set(
    deal: Annotated[str, typer.Argument(help="The deal: its id here, source:id, or an id one source knows.")],
    outcome: Annotated[str | None, typer.Option(help="won, lost or open (also 受注, 失注 …).")] = None,
    closed_at: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z"], help="Close date (UTC)."),
    ] = None,
    stage: Annotated[str | None, typer.Option(help="The deal's stage.")] = None,
    amount: Annotated[float | None, typer.Option(help="The deal's amount.")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217, e.g. JPY.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who owns the deal.")] = None,
    name: Annotated[str | None, typer.Option(help="The deal's name.")] = None,
    customer: Annotated[str | None, typer.Option(help="The deal's customer (external id; empty: none).")] = None,
) -> None:
    """Change a deal's outcome, close date, stage, amount, owner, name or customer (audited)."""
    from datetime import UTC

    from sqlmodel import Session

    from insight.customers.deals import DealChanges, find_deal, update_deal

    changes = DealChanges(
        outcome=outcome,
        closed_at=None if closed_at is None else closed_at if closed_at.tzinfo else closed_at.replace(tzinfo=UTC),
        stage=stage,
        amount=amount,
        currency=currency,
        owner=owner,
        name=name,
        customer_external_id=customer,
    )
    if changes.is_empty():
        err.print("[red]Nothing to change: give --outcome, --closed-at, --stage, --amount … [/red]")
        raise typer.Exit(2)
    runtime = build_runtime(load_settings())
    try:
        with Session(runtime.engine) as session:
            found = find_deal(session, deal)
        if found is None or found.id is None:
            raise NotFound(
                f"No deal is known as {deal!r}.", hint="List deals with `insight deals list`.", object_type="deal"
            )
        updated = update_deal(runtime.engine, found.id, changes, actor=audit.Actor(label=CLI_ACTOR_LABEL))
    except InsightError as exc:
        raise fail(exc) from exc
    closed = "" if updated.closed_at is None else f", closed {updated.closed_at:%Y-%m-%d}"
    console.print(f"✓ deal {updated.id} ({updated.source}:{updated.external_id}): {updated.outcome}{closed}")
