"""``insight worker``: queue consumers in this process."""

from __future__ import annotations

from typing import Annotated

import typer

from insight.cli.common import build_runtime, configure_logging, err, fail, load_settings
from insight.errors import InsightError
from insight.settings import QUEUE_NAMES


def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues to consume.")] = ",".join(QUEUE_NAMES),
    threads: Annotated[int | None, typer.Option(help="Concurrent jobs per queue.")] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's Prometheus metrics on this port (127.0.0.1).")
    ] = None,
) -> None:
    """Run queue consumers until interrupted."""
    from insight.worker import run_worker

    names = tuple(q.strip() for q in queues.split(",") if q.strip())
    unknown = set(names) - set(QUEUE_NAMES)
    if unknown:
        err.print(f"[red]Unknown queue(s): {', '.join(sorted(unknown))}[/red]; known: {', '.join(QUEUE_NAMES)}")
        raise typer.Exit(2)
    settings = load_settings(worker_threads=threads)
    configure_logging(settings)
    if metrics_port:
        from prometheus_client import start_http_server

        from insight.telemetry import REGISTRY

        start_http_server(metrics_port, addr="127.0.0.1", registry=REGISTRY)
    runtime = build_runtime(settings)
    try:
        run_worker(runtime, names)
    except InsightError as exc:
        raise fail(exc) from exc
