"""``insight db``: the database schema."""

from __future__ import annotations

import typer

from insight.cli.common import console, load_settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    from insight.db import make_engine, migrate

    settings = load_settings()
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    console.print(f"✓ schema up to date ({engine.url.render_as_string(hide_password=True)})")
