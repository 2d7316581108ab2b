"""``insight samples``: synthesised sample calls for a demo or a test."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from insight.cli.common import console


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
