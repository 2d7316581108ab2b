"""``insight topics``: fit the topics of customers' (or reps') utterances, and list them."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from insight.cli.common import build_runtime, console, err, fail, load_settings
from insight.errors import InsightError

app = typer.Typer(help="Topics across calls (BERTopic on the stored utterance vectors).", no_args_is_help=True)

SideOption = Annotated[str, typer.Option(help="Whose utterances: customer or rep.")]


@app.command("fit")
def topics_fit(
    side: SideOption = "customer",
    method: Annotated[
        str, typer.Option(help="pca_kmeans (fast, default), pca_hdbscan, or umap_hdbscan (BERTopic's classic).")
    ] = "pca_kmeans",
    sample_size: Annotated[
        int | None, typer.Option(min=100, help="Fit on at most this many utterances (default from settings).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fit run as JSON.")] = False,
) -> None:
    """Fit (or refit) the topics of a side: topics found again keep their id and label; every utterance is assigned."""
    from insight.topics import service
    from insight.topics.types import Method, TopicOptions

    settings = load_settings()
    try:
        chosen = service.parse_side(side)
        try:
            chosen_method = Method(method)
        except ValueError:
            raise typer.BadParameter(f"unknown method {method!r}", param_hint="--method") from None
        runtime = build_runtime(settings)
        options = TopicOptions(method=chosen_method, sample_size=sample_size or settings.topics_sample_size)
        with err.status(f"Fitting {chosen.value} topics…"):
            run = service.fit_topics(
                runtime.engine, model=settings.embedding_model, side=chosen, options=options, trigger="cli"
            )
    except InsightError as exc:
        raise fail(exc) from exc
    if as_json:
        sys.stdout.write(json.dumps(run.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n")
        return
    console.print(
        f"fit {run.id} ({run.side}, {run.method}): {run.topics} topics on {run.sample_size:,} of "
        f"{run.utterances:,} utterances in {run.duration_s or 0:.1f} s — kept {run.kept}, new {run.new}, "
        f"merged {run.merged}, split {run.split}, retired {run.retired}; {run.outlier_share:.1%} without a topic"
    )


@app.command("list")
def topics_list(
    side: SideOption = "customer",
    as_json: Annotated[bool, typer.Option("--json", help="Print the topics as JSON.")] = False,
) -> None:
    """The topics in force with their keywords and share of the side's utterances (all calls)."""
    from sqlmodel import Session

    from insight.topics import service

    settings = load_settings()
    try:
        chosen = service.parse_side(side)
        runtime = build_runtime(settings)
        with Session(runtime.engine) as session:
            shares = service.list_topics(session, chosen, None)
            run = service.latest_run(session, chosen)
    except InsightError as exc:
        raise fail(exc) from exc
    if as_json:
        out = [
            {
                "id": s.topic.id,
                "label": s.topic.label,
                "keywords": [k[0] for k in s.topic.keywords],
                "utterances": s.utterances,
                "calls": s.calls,
                "share": s.share,
            }
            for s in shares
        ]
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        return
    if run is None:
        console.print(f"No {chosen.value} topics yet: run `insight topics fit --side {chosen.value}`.")
        return
    table = Table(title=f"{chosen.value} topics (fit {run.id}, {run.method})", header_style="bold")
    for column in ("id", "label", "keywords", "utterances", "calls", "share"):
        table.add_column(column, justify="right" if column in {"id", "utterances", "calls", "share"} else "left")
    for s in shares:
        table.add_row(
            str(s.topic.id),
            s.topic.label,
            ", ".join(str(k[0]) for k in s.topic.keywords[:6]),
            f"{s.utterances:,}",
            f"{s.calls:,}",
            f"{s.share:.1%}",
        )
    console.print(table)
