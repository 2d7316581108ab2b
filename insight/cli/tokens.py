"""``insight tokens``: API tokens, created with the database's own authority."""

from __future__ import annotations

import json
import sys
from datetime import UTC
from typing import Annotated

import typer

from insight.cli.common import CLI_ACTOR_LABEL, console, fail, load_settings, migrated_engine
from insight.errors import InsightError

app = typer.Typer(help="API tokens.", no_args_is_help=True)


@app.command("create")
def tokens_create(
    email: str,
    name: Annotated[str, typer.Option(help="A label, e.g. 'laptop' or 'hubspot sync'.")] = "cli",
    scopes: Annotated[
        str | None, typer.Option(help="Comma-separated: calls:read,calls:write,insights:read,sync,metrics,admin.")
    ] = None,
    days: Annotated[
        float | None, typer.Option(help="Lifetime in days (default 90, at most INSIGHT_TOKEN_MAX_DAYS).")
    ] = 90.0,
    no_expiry: Annotated[
        bool,
        typer.Option(
            "--no-expiry",
            help="A token that never expires: service accounts (no password) only, and only with "
            "INSIGHT_TOKEN_ALLOW_NO_EXPIRY=true.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the token as JSON.")] = False,
) -> None:
    """Create an API token for a user and print it once (it is stored only as a hash)."""
    from insight import audit
    from insight.auth import service as auth_service
    from insight.db import session_scope
    from insight.errors import NotFound
    from insight.repositories import users as users_repo

    settings = load_settings()
    engine = migrated_engine()
    wanted = [s.strip() for s in scopes.split(",") if s.strip()] if scopes else None
    policy = auth_service.TokenPolicy(max_days=settings.token_max_days, allow_no_expiry=settings.token_allow_no_expiry)
    try:
        with session_scope(engine) as session:
            user = users_repo.get_by_email(session, email)
            if user is None:
                raise NotFound(f"No user {email}.", hint="Create one with `insight users create`.")
            token, plaintext = auth_service.create_token(
                session,
                audit.Actor(label=CLI_ACTOR_LABEL),
                user,
                name=name,
                scopes=wanted,
                expires_days=None if no_expiry else days,
                policy=policy,
                by_admin=True,  # the command line has the database itself
            )
    except InsightError as exc:
        raise fail(exc) from exc
    if as_json:
        expires = token.expires_at.isoformat(timespec="seconds") if token.expires_at else None
        out = {"id": token.id, "token": plaintext, "scopes": token.scopes, "expires_at": expires}
        sys.stdout.write(json.dumps(out) + "\n")
        return
    until = token.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if token.expires_at else "never"
    console.print(f"✓ token {token.id} for {email}: {', '.join(token.scopes)}; expires {until}")
    console.print("Shown only now; store it safely (e.g. export INSIGHT_TOKEN=...):")
    sys.stdout.write(plaintext + "\n")
