"""The ``insight`` console script: the core command line (``insight.cli``) with ``serve``, which runs this API."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from sqlmodel import Session

from insight.cli import create_app
from insight.cli.common import configure_logging, console, err, load_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (INSIGHT_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (INSIGHT_PORT).")] = None,
    worker: Annotated[bool, typer.Option(help="Run an embedded worker in the server process.")] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes, up to one per core (request rate limits are counted per process). "
            "With more than one, run the workers apart: `--no-worker` here and `insight worker` beside it.",
        ),
    ] = 1,
) -> None:
    """Run the API and web pages (with an embedded worker by default)."""
    import uvicorn

    from api.main import create_app as create_api
    from insight.db import make_engine, migrate
    from insight.repositories import users as users_repo

    settings = load_settings(host=host, port=port, embedded_worker=worker)
    configure_logging(settings)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    with Session(engine) as session:
        no_users = users_repo.count(session) == 0
    engine.dispose()
    console.print(f"insight on [bold]{settings.base_url}[/bold]  (API docs: {settings.base_url}/docs)")
    if no_users:
        err.print("[yellow]No users yet:[/yellow] create one with `insight users create you@example.com --role admin`")
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "log_config": None,  # keep our JSON logging; the middleware logs each request
        "access_log": False,
        # h11 bounds the size of a request's header block (httptools does not); measured no slower here.
        "http": "h11",
        # uvicorn would take X-Forwarded-For from any local peer; the app believes it only from INSIGHT_TRUSTED_PROXIES.
        "proxy_headers": False,
    }
    if workers > 1:
        # Each process builds the app from the environment: pass the command-line choices down that way.
        os.environ.update(
            {"INSIGHT_HOST": settings.host, "INSIGHT_PORT": str(settings.port), "INSIGHT_EMBEDDED_WORKER": str(worker)}
        )
        from api import serve as multi

        if multi.SUPPORTED:
            raise typer.Exit(multi.serve_processes(settings.host, settings.port, workers, options))
        uvicorn.run("api.main:app_from_env", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_api(settings), **options)


# ``serve`` first, as ``insight --help`` lists it.
app = create_app(serve)

if __name__ == "__main__":
    app()
