"""Calls on a running server: ``insight upload``, ``insight show`` and ``insight calls list|set``."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from insight.cli.common import (
    api_error,
    auth_headers,
    auth_hint,
    console,
    err,
    progress,
    require_credentials,
    server_url,
)

app = typer.Typer(help="Calls on a running server: list them, correct their details.", no_args_is_help=True)


class _ProgressReader:
    """A file wrapper that advances a progress bar as httpx reads it."""

    def __init__(self, fh: BinaryIO, progress: Progress, task: TaskID) -> None:
        self.fh, self.progress, self.task = fh, progress, task

    def read(self, n: int = -1) -> bytes:
        chunk = self.fh.read(n)
        self.progress.advance(self.task, len(chunk))
        return chunk


def _print_transcript(transcript: dict[str, Any]) -> None:
    table = Table(show_header=True, header_style="bold", expand=True)
    table.add_column("time", no_wrap=True)
    table.add_column("speaker", no_wrap=True)
    table.add_column("text")
    for u in transcript["utterances"]:
        start = int(u["start"])
        who = u.get("role") or u["speaker"]
        table.add_row(f"{start // 60}:{start % 60:02d}", who, u["text"])
    console.print(table)


def upload(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    server: Annotated[str | None, typer.Option(help="Server URL (default: INSIGHT_PUBLIC_URL or host:port).")] = None,
    customer: Annotated[str | None, typer.Option(help="Customer external id.")] = None,
    deal: Annotated[str | None, typer.Option(help="Deal external id.")] = None,
    language: Annotated[str | None, typer.Option(help="Language hint, e.g. ja or en.")] = None,
    rep_channel: Annotated[str | None, typer.Option(help="Stereo: left or right is the rep.")] = None,
    rep: Annotated[str | None, typer.Option(help="Who the rep is (user id or e-mail), for voice matching.")] = None,
    speakers: Annotated[int | None, typer.Option(help="Number of speakers, if known (mono recordings).")] = None,
    recorded_at: Annotated[
        str | None,
        typer.Option(
            help="When the call took place (ISO 8601, e.g. 2026-11-20T14:00+09:00); relative dates in the minutes "
            "(来週, next Friday) are resolved against it. Default: the upload time."
        ),
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait until every call is processed.")] = False,
    show: Annotated[bool, typer.Option(help="With --wait: print the first call's transcript.")] = False,
    timeout: Annotated[float, typer.Option(help="With --wait: give up after this many seconds.")] = 3600.0,
    token: Annotated[str | None, typer.Option(help="API token (default: INSIGHT_TOKEN).")] = None,
) -> None:
    """Upload recordings to a running server."""
    import httpx

    if recorded_at is not None:
        try:
            datetime.fromisoformat(recorded_at)
        except ValueError:
            err.print(f"[red]--recorded-at {recorded_at!r} is not a date-time.[/red]")
            err.print("Use ISO 8601 with the offset, e.g. 2026-11-20T14:00+09:00")
            raise typer.Exit(2) from None
    base = server_url(server)
    ids: list[int] = []
    failed = 0
    headers = auth_headers(token)
    with httpx.Client(base_url=base, timeout=httpx.Timeout(600.0, connect=10.0), headers=headers) as client:
        require_credentials(client, base, "calls:write")
        with progress(out=console, size=True) as bars:
            for path in files:
                task = bars.add_task(path.name, total=path.stat().st_size)
                data = {
                    k: v
                    for k, v in {
                        "customer_external_id": customer,
                        "deal_external_id": deal,
                        "language": language,
                        "rep_channel": rep_channel,
                        "rep": rep,
                        "speakers": str(speakers) if speakers else None,
                        "recorded_at": recorded_at,
                    }.items()
                    if v
                }
                with path.open("rb") as fh:
                    try:
                        resp = client.post(
                            "/api/calls",
                            files={"file": (path.name, _ProgressReader(fh, bars, task))},  # type: ignore[dict-item]
                            data=data,
                        )
                    except httpx.HTTPError as exc:
                        err.print(f"[red]{path.name}: cannot reach {base}: {exc}[/red]")
                        err.print("Is the server running? Start it with `insight serve`, or pass --server URL.")
                        raise typer.Exit(1) from exc
                try:
                    body = resp.json()
                except ValueError:
                    body = {"error": {"message": f"HTTP {resp.status_code} from {base}", "hint": resp.text[:200]}}
                if resp.status_code >= 400:
                    failed += 1
                    e = body.get("error", {})
                    bars.console.print(f"[red]✗ {path.name}: {e.get('message')}[/red] {e.get('hint', '')}")
                    if resp.status_code == 401:
                        auth_hint(resp)
                        raise typer.Exit(1)
                    continue
                ids.append(body["id"])
                note = " (already uploaded)" if body.get("duplicate") else ""
                bars.console.print(f"✓ {path.name} → call {body['id']}{note}  {base}/calls/{body['id']}")
                if body.get("not_applied"):
                    bars.console.print(f"[yellow]  {body.get('notice', '')}[/yellow]")
        if wait and ids:
            failed += _wait_for(client, ids, timeout)
            if show:
                transcript = client.get(f"/api/calls/{ids[0]}/transcript").json()
                _print_transcript(transcript)
    if failed:
        raise typer.Exit(1)


def _wait_for(client: Any, ids: list[int], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    failed = 0
    with progress(out=console, state=True, eta=False) as bars:
        tasks = {i: bars.add_task(f"call {i}", total=100, state="queued") for i in ids}
        pending = set(ids)
        while pending and time.monotonic() < deadline:
            for call_id in sorted(pending):
                call = client.get(f"/api/calls/{call_id}").json()
                state = call["status"]
                bars.update(tasks[call_id], completed=100 if state == "done" else call["progress"], state=state)
                if state in {"done", "failed"}:
                    pending.discard(call_id)
                    if state == "failed":
                        failed += 1
                        bars.console.print(f"[red]call {call_id} failed: {call['error']['message']}[/red]")
            time.sleep(0.5)
    if pending:
        err.print(f"[yellow]still processing after {timeout:.0f} s: {sorted(pending)}[/yellow]")
        failed += len(pending)
    return failed


def show(
    call_id: int,
    server: Annotated[str | None, typer.Option(help="Server URL.")] = None,
    token: Annotated[str | None, typer.Option(help="API token (default: INSIGHT_TOKEN).")] = None,
) -> None:
    """Print a call's transcript from a running server."""
    import httpx

    base = server_url(server)
    resp = httpx.get(f"{base}/api/calls/{call_id}/transcript", timeout=30, headers=auth_headers(token))
    if resp.status_code >= 400:
        err.print(f"[red]{resp.json()['error']['message']}[/red]")
        auth_hint(resp)
        raise typer.Exit(1)
    _print_transcript(resp.json())


def _minute(value: str | None) -> str:
    """An API timestamp to the minute, in UTC (no seconds, no microseconds)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment.tzinfo else moment.strftime("%Y-%m-%d %H:%M")


@app.command("list")
def calls_list(
    status: Annotated[str | None, typer.Option(help="queued, processing, done or failed.")] = None,
    customer: Annotated[str | None, typer.Option(help="Customer external id.")] = None,
    rep: Annotated[str | None, typer.Option(help="The rep named at upload (e-mail).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Calls that took place on or after this date (YYYY-MM-DD or ISO 8601; UTC).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="... and before this date.")] = None,
    language: Annotated[str | None, typer.Option(help="Language, e.g. ja or en.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many calls, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the calls as JSON.")] = False,
    server: Annotated[str | None, typer.Option(help="Server URL (default: INSIGHT_PUBLIC_URL or host:port).")] = None,
    token: Annotated[str | None, typer.Option(help="API token (default: INSIGHT_TOKEN).")] = None,
) -> None:
    """List the calls you may see on a running server, newest first."""
    import httpx

    for name, value in (("--since", since), ("--until", until)):
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                err.print(f"[red]{name} {value!r} is not a date.[/red] Use YYYY-MM-DD or ISO 8601.")
                raise typer.Exit(2) from None
    if status is not None and status not in ("queued", "processing", "done", "failed"):
        err.print(f"[red]--status {status!r} is not a call status.[/red] Use queued, processing, done or failed.")
        raise typer.Exit(2)
    base = server_url(server)
    params = {"status": status, "customer": customer, "rep": rep, "since": since, "until": until, "language": language}
    query = {k: v for k, v in params.items() if v is not None}
    calls: list[dict[str, Any]] = []
    total = 0
    with httpx.Client(base_url=base, timeout=30, headers=auth_headers(token)) as client:
        while len(calls) < limit:
            page = {**query, "offset": str(len(calls)), "limit": str(min(200, limit - len(calls)))}
            try:
                resp = client.get("/api/calls", params=page)
            except httpx.HTTPError as exc:
                err.print(f"[red]cannot reach {base}: {exc}[/red]")
                raise typer.Exit(1) from exc
            if resp.status_code >= 400:
                raise api_error(resp)
            body = resp.json()
            calls += body["data"]
            total = body["count"]
            if not body["data"] or len(calls) >= total:
                break
    if as_json:
        sys.stdout.write(json.dumps({"count": total, "data": calls}, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(header_style="bold")
    for column in ("id", "status", "took place (UTC)", "duration", "lang", "customer", "deal", "rep", "file"):
        table.add_column(column, no_wrap=column != "file")
    for c in calls:
        seconds = int(c["duration_s"])
        table.add_row(
            str(c["id"]),
            c["status"],
            _minute(c.get("recorded_at") or c["created_at"]),
            f"{seconds // 60}:{seconds % 60:02d}",
            c.get("language") or c.get("language_hint") or "",
            c.get("customer_external_id") or "",
            c.get("deal_external_id") or "",
            c.get("rep") or "",
            c["filename"],
        )
    console.print(table)
    shown = f"{len(calls)} of {total}" if len(calls) < total else str(total)
    more = " (raise --limit for more)" if len(calls) < total else ""
    err.print(f"{shown} {'call' if total == 1 else 'calls'}{more}")


@app.command("set")
def calls_set(
    call_id: int,
    customer: Annotated[str | None, typer.Option(help="Customer external id (empty: none).")] = None,
    deal: Annotated[str | None, typer.Option(help="Deal external id (empty: none).")] = None,
    recorded_at: Annotated[
        str | None, typer.Option(help="When the call took place, ISO 8601 with offset (the minutes are rewritten).")
    ] = None,
    server: Annotated[str | None, typer.Option(help="Server URL (default: INSIGHT_PUBLIC_URL or host:port).")] = None,
    token: Annotated[str | None, typer.Option(help="API token (default: INSIGHT_TOKEN).")] = None,
) -> None:
    """Change a call's customer, deal or recording time on a running server."""
    import httpx

    body = {"customer_external_id": customer, "deal_external_id": deal, "recorded_at": recorded_at}
    body = {k: v for k, v in body.items() if v is not None}
    if not body:
        err.print("[red]Nothing to change.[/red] Pass --customer, --deal or --recorded-at.")
        raise typer.Exit(2)
    base = server_url(server)
    try:
        resp = httpx.patch(f"{base}/api/calls/{call_id}", json=body, timeout=30, headers=auth_headers(token))
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach {base}: {exc}[/red]")
        raise typer.Exit(1) from exc
    if resp.status_code >= 400:
        raise api_error(resp)
    call = resp.json()
    details = ", ".join(
        f"{label} {value}"
        for label, value in (
            ("customer", call.get("customer_external_id")),
            ("deal", call.get("deal_external_id")),
            ("recorded", _minute(call.get("recorded_at"))),
        )
        if value
    )
    console.print(f"✓ call {call['id']}: {details or 'no customer, deal or recording time'}")
