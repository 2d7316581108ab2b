"""The ``insight`` command line assembled from its parts: one module per command or group of commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from insight.cli import calls, data, db, deals, embeddings, imports, insights, models, segments, tokens, topics, users
from insight.cli.minutes import minutes
from insight.cli.samples import samples
from insight.cli.transcribe import transcribe
from insight.cli.worker import worker


def create_app(*first: Callable[..., Any]) -> typer.Typer:
    """The command line: its commands, then its groups of commands.

    Args:
        first: further commands, listed before the others; the API's package adds ``serve`` this way, so that this
            package needs no web framework.

    Returns:
        The Typer application.
    """
    app = typer.Typer(help="insight: conversation insight for sales calls.", no_args_is_help=True)
    for command in first:
        app.command()(command)
    app.command()(worker)
    app.command()(calls.upload)
    app.command()(calls.show)
    app.command()(transcribe)
    app.command()(minutes)
    app.command()(samples)
    app.add_typer(users.app, name="users")
    app.add_typer(tokens.app, name="tokens")
    app.add_typer(data.app, name="data")
    app.add_typer(calls.app, name="calls")
    app.add_typer(models.app, name="models")
    app.add_typer(db.app, name="db")
    app.add_typer(imports.app, name="import")
    app.add_typer(segments.app, name="segments")
    app.add_typer(insights.app, name="insights")
    app.add_typer(topics.app, name="topics")
    app.add_typer(deals.app, name="deals")
    app.add_typer(embeddings.app, name="embeddings")
    return app


# Without ``serve``: run the whole command line with ``python -m api.cli`` or the ``insight`` script.
app = create_app()
