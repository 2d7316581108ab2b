"""``insight segments``: RFM scores, segments, deciles and LTV of the customers."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from insight.cli.common import build_runtime, console, err, fail, load_settings
from insight.errors import InsightError

app = typer.Typer(help="Customer segments (RFM, deciles).", no_args_is_help=True)


@app.command("compute")
def segments_compute(
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Reference date: purchases up to the end of that day count, recency is days to it; default now.",
        ),
    ] = None,
    window_days: Annotated[
        int | None, typer.Option(min=1, help="Frequency/monetary over the last N days only.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Compute RFM scores, segments, deciles and LTV in the database, and print the segment and decile tables."""
    from sqlmodel import Session

    from insight.segments import service

    settings = load_settings()
    try:
        runtime = build_runtime(settings)
        with err.status("Computing segments in the database…"):
            run = service.compute_segments(
                runtime.engine, as_of=as_of.date() if as_of else None, window_days=window_days, trigger="cli"
            )
        with Session(runtime.engine) as session:
            table = service.segment_table(session, run.id)
            _, deciles = service.decile_analysis(session, run.id)
    except InsightError as exc:
        raise fail(exc) from exc
    if as_json:
        out = {
            "run": run.model_dump(mode="json") | {"as_of_date": service.reference_day(run.as_of).isoformat()},
            "segments": [asdict(s) for s in table.segments],
            "deciles": [asdict(d) for d in deciles],
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        return
    seg = Table(title=f"segments as of {service.as_of_label(run)} (run {run.id})", header_style="bold")
    for column in ("segment", "", "customers", "share", "revenue", "share"):
        seg.add_column(column, justify="right" if column in {"customers", "share", "revenue"} else "left")
    for s in table.segments:
        seg.add_row(
            s.label_en,
            s.label_ja,
            f"{s.customers:,}",
            f"{s.customer_share:.1%}",
            f"{s.revenue:,.2f}",
            f"{s.revenue_share:.1%}",
        )
    console.print(seg)
    dec = Table(title="decile analysis (by monetary value)", header_style="bold")
    for column in ("decile", "customers", "revenue", "share", "cumulative", "monetary range"):
        dec.add_column(column, justify="right")
    for d in deciles:
        dec.add_row(
            str(d.decile),
            f"{d.customers:,}",
            f"{d.revenue:,.2f}",
            f"{d.revenue_share:.1%}",
            f"{d.cumulative_share:.1%}",
            f"{d.min_monetary:,.2f} – {d.max_monetary:,.2f}",
        )
    console.print(dec)
    console.print(f"✓ {run.customers:,} customers in {run.duration_s or 0:.2f} s")
    if run.left_out_customers:
        console.print(
            f"{run.left_out_customers:,} customers left out: all their transactions up to {service.as_of_label(run)} "
            f"were cancellations ({run.left_out_revenue:,.2f} net), so they have no recency, segment or decile"
        )
