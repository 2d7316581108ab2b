"""``insight users``: user accounts, their roles and teams, and their sign-in waits."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from insight.cli.common import CLI_ACTOR_LABEL, console, fail, migrated_engine, read_password
from insight.errors import InsightError

app = typer.Typer(help="User accounts and roles.", no_args_is_help=True)


@app.command("create")
def users_create(
    email: str,
    role: Annotated[str, typer.Option(help="rep, manager or admin.")] = "rep",
    team: Annotated[str | None, typer.Option(help="Team name (created if new).")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No password: the user can only use API tokens.")
    ] = False,
    if_missing: Annotated[bool, typer.Option(help="Do nothing (exit 0) when the user exists.")] = False,
) -> None:
    """Create a user; asks for the password unless --password-stdin or --no-password."""
    from insight import audit
    from insight.auth import service as auth_service
    from insight.db import session_scope
    from insight.repositories import users as users_repo

    engine = migrated_engine()
    if if_missing:
        with Session(engine) as session:
            if users_repo.get_by_email(session, email) is not None:
                console.print(f"✓ {email} exists")
                return
    password = read_password(password_stdin, prompt=not no_password)
    try:
        with session_scope(engine) as session:
            user = auth_service.create_user(
                session,
                audit.Actor(label=CLI_ACTOR_LABEL),
                email=email,
                role=role,
                team=team,
                password=password,
                name=name,
            )
            console.print(f"✓ user {user.id} {user.email} ({user.role}{', team ' + team if team else ''})")
    except InsightError as exc:
        raise fail(exc) from exc


@app.command("list")
def users_list() -> None:
    """List users with role and team."""
    from insight.repositories import users as users_repo

    with Session(migrated_engine()) as session:
        teams = {t.id: t.name for t in users_repo.list_teams(session)}
        table = Table(header_style="bold")
        for column in ("id", "email", "role", "team", "active"):
            table.add_column(column)
        for u in users_repo.list_users(session):
            table.add_row(str(u.id), u.email, u.role, teams.get(u.team_id, "") if u.team_id else "", str(u.active))
    console.print(table)


@app.command("set")
def users_set(
    email: str,
    role: Annotated[str | None, typer.Option(help="New role (audited).")] = None,
    team: Annotated[str | None, typer.Option(help="New team; empty string: none.")] = None,
    active: Annotated[bool | None, typer.Option(help="Activate or deactivate.")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read a new password from standard input.")] = False,
    keep_tokens: Annotated[
        bool, typer.Option(help="With a new password: keep the user's API tokens (default: revoke them).")
    ] = False,
) -> None:
    """Change a user's role, team, status or password; takes effect on the next request of running servers."""
    from insight import audit
    from insight.auth import service as auth_service
    from insight.db import session_scope
    from insight.errors import NotFound
    from insight.repositories import users as users_repo

    engine = migrated_engine()
    try:
        with session_scope(engine) as session:
            user = users_repo.get_by_email(session, email)
            if user is None or user.id is None:
                raise NotFound(f"No user {email}.", hint="List users with `insight users list`.")
            auth_service.update_user(
                session,
                audit.Actor(label=CLI_ACTOR_LABEL),
                user.id,
                role=role,
                team=team or None,
                clear_team=team == "",
                active=active,
                password=read_password(password_stdin, prompt=False),
                keep_tokens=keep_tokens,
            )
            console.print(f"✓ {user.email}: {user.role}")
    except InsightError as exc:
        raise fail(exc) from exc


@app.command("unlock")
def users_unlock(
    email: str,
    address: Annotated[str | None, typer.Option(help="Only the waits of this client address.")] = None,
) -> None:
    """Clear the waits imposed after failed sign-ins for an e-mail (audited)."""
    from insight import audit
    from insight.auth import lockout
    from insight.db import session_scope
    from insight.repositories import users as users_repo

    with session_scope(migrated_engine()) as session:
        cleared = lockout.unlock(session, email, address=address)
        user = users_repo.get_by_email(session, email)
        audit.record(
            session,
            audit.Actor(label=CLI_ACTOR_LABEL),
            audit.Action.login_unlock,
            object_type="user",
            object_id=user.id if user is not None else None,
            details={"cleared": cleared, **({"address": address} if address else {})},
        )
    console.print(f"✓ {email}: {cleared} record(s) of failed sign-ins cleared")
