"""``insight embeddings``: the stored utterance vectors per model, and re-embedding after a model change."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from insight.cli.common import build_runtime, console, err, fail, load_settings
from insight.errors import InsightError

app = typer.Typer(help="Utterance embeddings (the vectors topics, patterns and trackers read).", no_args_is_help=True)


@app.command("status")
def embeddings_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """The configured model, the vectors stored per model, and how many analysed calls still lack the model's."""
    from sqlmodel import Session

    from insight.nlp.embeddings import embedding_model_name
    from insight.repositories import embeddings as embeddings_repo

    settings = load_settings()
    try:
        model = embedding_model_name(settings.embedding_model)
        runtime = build_runtime(settings)
        with Session(runtime.engine) as session:
            counts = embeddings_repo.counts_by_model(session)
            missing = embeddings_repo.count_calls_to_embed(session, model)
    except InsightError as exc:
        raise fail(exc) from exc
    if as_json:
        out = {"model": model, "vectors": counts, "calls_to_embed": missing}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        return
    console.print(f"configured model: [bold]{model}[/bold]")
    for name, n in sorted(counts.items()):
        mark = "" if name == model else "  (another model: replaced as calls are re-embedded)"
        console.print(f"  {name}: {n:,} vectors{mark}")
    console.print(f"calls to embed with {model}: {missing:,}")


@app.command("rebuild")
def embeddings_rebuild(
    limit: Annotated[int | None, typer.Option(min=1, help="Re-embed at most this many calls (default: all).")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Calls per round (one commit per call).")] = 50,
) -> None:
    """Re-embed, here and now, every analysed call that lacks vectors of the configured model (what the
    ``nlp.reembed`` job does in the background), one commit per call.
    """
    from insight.nlp.service import reembed_stale

    settings = load_settings()
    done = 0
    try:
        runtime = build_runtime(settings)
        embedder = runtime.models.embedder()
        with err.status(f"Re-embedding calls with {embedder.name}…") as status:
            while limit is None or done < limit:
                size = batch if limit is None else min(batch, limit - done)
                calls = reembed_stale(runtime.engine, embedder, limit=size)
                if not calls:
                    break
                done += len(calls)
                status.update(f"Re-embedding calls with {embedder.name}… {done:,} done")
    except InsightError as exc:
        raise fail(exc) from exc
    console.print(f"re-embedded {done:,} calls with {embedder.name}")
