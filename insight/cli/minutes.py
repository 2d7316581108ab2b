"""``insight minutes``: the minutes of a call (from a server or the local database) or of an audio file."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from insight.cli.common import (
    api_error,
    auth_headers,
    build_runtime,
    console,
    err,
    fail,
    load_settings,
    migrated_engine,
    progress,
    server_url,
)
from insight.cli.transcribe import CHANNELS
from insight.errors import InsightError


def _print_minutes(doc: Any, *, header: str) -> None:
    """The minutes in the terminal: one table per section, each item with the time of its evidence."""
    from rich.panel import Panel

    from insight.nlp.minutes.render import clock, item_details, labels_for, sentiment_text
    from insight.nlp.minutes.schemas import SECTIONS

    t = labels_for(doc.language)
    console.print(Panel.fit(f"[bold]{header}[/bold]\n{t['date']}: {doc.reference_date}", title=t["title"]))
    if doc.notice:
        console.print(f"[yellow]{doc.notice}[/yellow]")
    if doc.participants:
        people = ", ".join(
            f"{p.speaker} {t['role_' + p.role]}"
            + (f" ({' · '.join(x for x in (p.name, p.organization) if x)})" if p.name or p.organization else "")
            for p in doc.participants
        )
        console.print(f"[bold]{t['participants']}[/bold]: {people}")
    for section in SECTIONS:
        items = getattr(doc, section)
        if not items:
            continue
        table = Table(title=t[section], title_justify="left", show_header=False, expand=True, box=None)
        table.add_column("time", style="dim", no_wrap=True)
        table.add_column("item", ratio=3)
        table.add_column("details", style="cyan", ratio=2)
        for item in items:
            table.add_row(clock(item.start), item.text, item_details(item, t))
        console.print(table)
    if doc.sentiment is not None:
        console.print(f"[bold]{t['sentiment']}[/bold]: {sentiment_text(doc.sentiment, t)}")


def minutes(
    target: Annotated[str, typer.Argument(help="An audio file (processed locally) or a call id.")],
    server: Annotated[str | None, typer.Option(help="Server URL for a call id (default: INSIGHT_PUBLIC_URL).")] = None,
    token: Annotated[str | None, typer.Option(help="API token (default: INSIGHT_TOKEN).")] = None,
    local: Annotated[bool, typer.Option(help="Call id: read the local database instead of a server.")] = False,
    view: Annotated[
        str | None,
        typer.Option(help="redacted or original. Default: redacted for a call, original for your own file."),
    ] = None,
    language: Annotated[str | None, typer.Option(help="File: language (default: detect).")] = None,
    rep_channel: Annotated[str | None, typer.Option(help="File, stereo: left or right is the rep.")] = None,
    speakers: Annotated[int | None, typer.Option(help="File, mono: number of speakers, if known.")] = None,
    call_date: Annotated[str | None, typer.Option(help="File: the call's date, YYYY-MM-DD (default: today).")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the minutes of a call (by id) or of an audio file (transcribed locally, nothing stored)."""
    from insight.nlp.minutes.render import render_markdown
    from insight.nlp.minutes.schemas import MinutesDoc

    if view not in (None, "redacted", "original"):
        err.print("[red]--view must be redacted or original[/red]")
        raise typer.Exit(2)
    path = Path(target)
    header = target
    if path.is_file():
        redacted = view == "redacted"
        content, header = _minutes_of_file(path, language, rep_channel, speakers, call_date, redacted, quiet=as_json)
    elif target.isdigit():
        content = _minutes_of_call(int(target), server=server, token=token, local=local, view=view or "redacted")
    else:
        err.print(f"[red]{target!r} is neither a file nor a call id.[/red]")
        raise typer.Exit(2)
    doc = MinutesDoc.model_validate(content)
    if as_json:
        sys.stdout.write(json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n")
    elif markdown:
        sys.stdout.write(render_markdown(doc, title=header))
    else:
        _print_minutes(doc, header=header)


def _minutes_of_call(call_id: int, *, server: str | None, token: str | None, local: bool, view: str) -> Any:
    if local:
        from sqlmodel import Session

        from insight.repositories import minutes as minutes_repo

        with Session(migrated_engine()) as session:
            row = minutes_repo.get(session, call_id)
        if row is None:
            err.print(f"[red]Call {call_id} has no minutes in the local database.[/red]")
            raise typer.Exit(1)
        # Local database access is an operator's: the original is theirs to read, but only when asked.
        return row.content if view == "original" else row.content_redacted
    import httpx

    base = server_url(server)
    try:
        resp = httpx.get(
            f"{base}/api/calls/{call_id}/minutes", params={"view": view}, timeout=30, headers=auth_headers(token)
        )
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach {base}: {exc}[/red]")
        raise typer.Exit(1) from exc
    if resp.status_code >= 400:
        raise api_error(resp)
    return resp.json()["minutes"]


def _minutes_of_file(
    path: Path,
    language: str | None,
    rep_channel: str | None,
    num_speakers: int | None,
    call_date: str | None,
    redacted: bool,
    *,
    quiet: bool,
) -> tuple[Any, str]:
    from datetime import date

    from insight.calls.service import check_language
    from insight.nlp.minutes.local import minutes_for_file
    from insight.nlp.service import AnalyzeConfig
    from insight.transcribe.types import TranscribeOptions

    settings = load_settings()
    logging.basicConfig(level=logging.WARNING)
    try:
        reference = date.fromisoformat(call_date) if call_date else date.today()
    except ValueError as exc:
        err.print(f"[red]--call-date must be YYYY-MM-DD, got {call_date!r}[/red]")
        raise typer.Exit(2) from exc
    channel = CHANNELS.get((rep_channel or "").lower())
    try:
        runtime = build_runtime(settings, run_migrations=False)
        base = runtime.transcribe_options()
        options = TranscribeOptions(
            language=check_language(language),
            beam_size=base.beam_size,
            batch_size=base.batch_size,
            window_s=base.window_s,
        )
        with progress(path.name, eta=False, transient=True, disable=quiet) as bar:
            task = bar.add_task("minutes", total=1.0)
            result = minutes_for_file(
                path,
                models=runtime.models,
                options=options,
                config=AnalyzeConfig.from_settings(settings),
                reference_date=reference,
                rep_channel=channel,
                num_speakers=num_speakers,
                max_duration_s=settings.max_duration_s,
                on_progress=lambda f: bar.update(task, completed=f),
            )
    except InsightError as exc:
        raise fail(exc) from exc
    written = result.written
    if written.fallback_reason:
        err.print(f"[yellow]LLM minutes failed, offline minutes shown: {written.fallback_reason}[/yellow]")
    # The file is the user's own recording: the original unless they ask for the redacted form.
    content = written.doc.model_dump(mode="json")
    if redacted and result.redacted is not None:
        content = result.redacted
    return content, f"{path.name} ({written.backend})"
