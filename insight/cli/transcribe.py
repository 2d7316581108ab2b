"""``insight transcribe``: a file transcribed on this machine, without a server."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from insight.cli.common import build_runtime, console, err, fail, load_settings, progress
from insight.errors import InsightError

# Channel names accepted by --rep-channel, and the channel index each names.
CHANNELS = {"left": 0, "right": 1, "0": 0, "1": 1}


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
    if rep_channel is not None and rep_channel.lower() not in CHANNELS:
        err.print(f"[red]--rep-channel must be left or right, got {rep_channel!r}[/red]")
        raise typer.Exit(2)
    settings = load_settings()
    logging.basicConfig(level=logging.WARNING)
    try:
        lang = check_language(language)
        runtime = build_runtime(settings, run_migrations=False)
        base = runtime.transcribe_options()
        options = TranscribeOptions(
            language=lang,
            split_channels=split_channels,
            beam_size=base.beam_size,
            batch_size=base.batch_size,
            window_s=base.window_s,
        )
        with progress(file.name, transient=to_stdout) as bar:
            task = bar.add_task("transcribe", total=1.0)
            runtime.models.transcriber()  # loaded before the clock starts: the processing time is the file's
            started = time.monotonic()
            result = transcribe_speakers(
                file,
                models=runtime.models,
                options=options,
                rep_channel=CHANNELS[rep_channel.lower()] if rep_channel is not None else None,
                num_speakers=speakers,
                max_duration_s=settings.max_duration_s,
                on_progress=lambda f: bar.update(task, completed=f),
            )
            elapsed = time.monotonic() - started
    except InsightError as exc:
        raise fail(exc) from exc
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
