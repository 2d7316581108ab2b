"""What the commands share: the consoles, settings, the runtime, error printing, server access and progress bars."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from insight.errors import InsightError
from insight.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from insight.runtime import Runtime

console = Console()
err = Console(stderr=True)

# Who the audit log names for what the command line does: it has the database itself, with no signed-in user.
CLI_ACTOR_LABEL = "cli"


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment, with the command line's options (``None``: not given) on top.

    Raises:
        typer.Exit: 2 when the settings are invalid (the reason is printed).
    """
    try:
        return get_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        err.print(f"[red]Invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc


def configure_logging(settings: Settings) -> None:
    """Log as the settings say (level and format), for the long-running commands."""
    from insight.logs import configure

    configure(settings.log_level, settings.log_format)


def fail(exc: InsightError) -> typer.Exit:
    """Print an error's message and hint; the exit (status 1) for the caller to raise."""
    err.print(f"[red]{exc.message}[/red]")
    if exc.hint:
        err.print(exc.hint)
    return typer.Exit(1)


def build_runtime(settings: Settings, *, run_migrations: bool = True) -> Runtime:
    """The runtime (database, audio store, queues) for a command.

    Raises:
        typer.Exit: 1 when it cannot be built (the error is printed).
    """
    from insight.runtime import Runtime

    try:
        return Runtime.build(settings, run_migrations=run_migrations)
    except InsightError as exc:
        raise fail(exc) from exc


def migrated_engine() -> Engine:
    """An engine on the configured database, its schema brought up to date."""
    from insight.db import make_engine, migrate

    engine = make_engine(load_settings().resolved_database_url)
    migrate(engine)
    return engine


def read_password(password_stdin: bool, prompt: bool) -> str | None:
    """A password from the first line of standard input, or asked for (twice, hidden), or none."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if prompt:
        value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return value
    return None


def progress(
    label: str = "{task.description}",
    *,
    out: Console = err,
    size: bool = False,
    state: bool = False,
    eta: bool = True,
    transient: bool = False,
    disable: bool = False,
) -> Progress:
    """A progress display: the label, a bar, then how far (bytes or percent), the state and the time left.

    Args:
        label: the text before the bar: a fixed text (a file name) or a format of the task, by default its
            description.
        out: the console to draw on; standard error unless the progress is the command's output.
        size: show bytes done and in all (a download or upload) instead of a percentage.
        state: show the task's ``state`` field (pass ``state=...`` to ``add_task`` and ``update``).
        eta: show the estimated time left.
        transient: clear the display when done (when standard output carries the result).
        disable: show nothing.

    Returns:
        The display, to use as a context manager.
    """
    columns: list[ProgressColumn] = [TextColumn(label), BarColumn(), DownloadColumn() if size else TaskProgressColumn()]
    if state:
        columns.append(TextColumn("{task.fields[state]}"))
    if eta:
        columns.append(TimeRemainingColumn())
    return Progress(*columns, console=out, transient=transient, disable=disable)


def server_url(server: str | None) -> str:
    """The server's base URL: ``--server``, else the configured public URL (or host and port)."""
    return (server or load_settings().base_url).rstrip("/")


def auth_headers(token: str | None) -> dict[str, str]:
    """The Authorization header from --token or INSIGHT_TOKEN."""
    configured = load_settings().token
    value = token or (configured.get_secret_value() if configured is not None else None)
    return {"Authorization": f"Bearer {value}"} if value else {}


def auth_hint(resp: Any) -> None:
    """After a refused request (HTTP 401): how to pass a token."""
    if resp.status_code == 401:
        err.print("Pass an API token with --token or INSIGHT_TOKEN (create one with `insight tokens create EMAIL`).")


def require_credentials(client: Any, base: str, scope: str) -> None:
    """Fail fast, before any file is sent, when there is no token or the server refuses it or its scopes."""
    import httpx

    if "Authorization" not in client.headers:
        err.print("[red]No API token.[/red] Pass --token or set INSIGHT_TOKEN.")
        err.print("Create one with `insight tokens create EMAIL --scopes calls:read,calls:write`.")
        raise typer.Exit(1)
    try:
        resp = client.get("/api/auth/me")
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach {base}: {exc}[/red]")
        err.print("Is the server running? Start it with `insight serve`, or pass --server URL.")
        raise typer.Exit(1) from exc
    if resp.status_code == 401:
        err.print(f"[red]{base} refused the API token (unknown, expired or revoked).[/red]")
        auth_hint(resp)
        raise typer.Exit(1)
    if resp.status_code >= 400:
        err.print(f"[red]{base} answered HTTP {resp.status_code} to GET /api/auth/me.[/red] Check --server.")
        raise typer.Exit(1)
    scopes = resp.json().get("scopes", [])
    if scope not in scopes:
        err.print(f"[red]The token lacks the {scope} scope[/red] (it has: {', '.join(scopes) or 'none'}).")
        err.print(f"Create one that has it: `insight tokens create EMAIL --scopes {scope}`.")
        raise typer.Exit(1)


def api_error(resp: Any) -> typer.Exit:
    """Print a server's error answer (message, hint, how to pass a token); the exit (status 1) to raise."""
    try:
        body = resp.json().get("error", {})
    except ValueError:
        body = {"message": f"HTTP {resp.status_code}", "hint": resp.text[:200]}
    err.print(f"[red]{body.get('message', resp.status_code)}[/red] {body.get('hint', '')}")
    auth_hint(resp)
    return typer.Exit(1)
