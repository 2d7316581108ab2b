"""``insight data``: retention and erasure of personal data."""

from __future__ import annotations

from typing import Annotated

import typer

from insight.cli.common import CLI_ACTOR_LABEL, build_runtime, console, fail, load_settings
from insight.errors import InsightError

app = typer.Typer(help="Retention and erasure of personal data.", no_args_is_help=True)


@app.command("purge")
def data_purge(
    days: Annotated[
        int | None, typer.Option(help="Older than this many days (default INSIGHT_RETENTION_DAYS).")
    ] = None,
) -> None:
    """Apply the retention policy now: strip old calls to their anonymous figures."""
    from insight import audit
    from insight.retention.service import purge_expired

    settings = load_settings()
    runtime = build_runtime(settings)
    report = purge_expired(
        runtime.engine,
        runtime.store,
        days=days if days is not None else settings.retention_days,
        actor=audit.Actor(label=CLI_ACTOR_LABEL),
    )
    console.print(f"✓ {report.calls_purged} calls purged, {report.audio_files_deleted} audio files deleted")


@app.command("erase-customer")
def data_erase_customer(customer_id: int) -> None:
    """Delete one customer and every piece of data about them (calls, transcripts, deals, purchases, ids)."""
    from insight import audit
    from insight.customers.service import erase_customer

    runtime = build_runtime(load_settings())
    try:
        report = erase_customer(runtime.engine, runtime.store, customer_id, actor=audit.Actor(label=CLI_ACTOR_LABEL))
    except InsightError as exc:
        raise fail(exc) from exc
    console.print(f"✓ customer {customer_id} erased: {report.rows_deleted}; {report.audio_files_deleted} audio files")
