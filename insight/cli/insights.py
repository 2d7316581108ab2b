"""``insight insights``: win patterns of the decided deals per segment."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from insight.cli.common import build_runtime, console, err, fail, load_settings
from insight.errors import InsightError

app = typer.Typer(help="Insights across deals: win patterns per segment.", no_args_is_help=True)

SegmentationOption = Annotated[
    str,
    typer.Option(help="rfm, decile, all, customer.<attribute> or deal.<attribute>."),
]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _print(run_json: dict[str, object], rows: list[dict[str, object]], *, title: str) -> None:
    console.print(
        f"run {run_json['id']} ({run_json['segmentation']}): {run_json['deals']} deals "
        f"({run_json['won']} won, {run_json['lost']} lost), {run_json['features']} features, "
        f"{run_json['tests']} tests, {run_json['significant']} significant"
    )
    table = Table(title=title, header_style="bold")
    for column in ("segment", "feature", "with/without", "win rate with", "without", "log OR [95%]", "shrunk", "q"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["segment"]),
            str(r["feature"]),
            f"{r['n_with']}/{r['n_without']}",
            _fmt(r["win_rate_with"]),  # type: ignore[arg-type]
            _fmt(r["win_rate_without"]),  # type: ignore[arg-type]
            f"{r['effect']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]",
            _fmt(r["shrunk"]),  # type: ignore[arg-type]
            _fmt(r["q"], 3),  # type: ignore[arg-type]
        )
    console.print(table)


@app.command("compute")
def insights_compute(
    segmentation: SegmentationOption = "rfm",
    q_max: Annotated[float, typer.Option(min=0.001, max=0.5, help="q-value at or below which a pattern counts.")] = 0.1,
    min_support: Annotated[int, typer.Option(min=1, help="Deals needed with and without a feature.")] = 5,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run and its significant patterns as JSON.")
    ] = False,
) -> None:
    """Compute the win patterns of every decided deal for a segmentation and print the significant ones."""
    from sqlmodel import Session

    from insight.patterns import service
    from insight.patterns.types import PatternOptions

    settings = load_settings()
    try:
        runtime = build_runtime(settings)
        options = service.ComputeOptions(patterns=PatternOptions(q_max=q_max, min_support=min_support))
        with err.status("Computing win patterns…"):
            run = service.compute_patterns(runtime.engine, segmentation=segmentation, options=options, trigger="cli")
        with Session(runtime.engine) as session:
            _, rows = service.pattern_table(
                session, run_id=run.id, segmentation=run.segmentation, significant_only=True
            )
    except InsightError as exc:
        raise fail(exc) from exc
    out_rows = [r.model_dump(mode="json") for r in rows]
    if as_json:
        sys.stdout.write(json.dumps({"run": run.model_dump(mode="json"), "patterns": out_rows}, ensure_ascii=False))
        sys.stdout.write("\n")
        return
    _print(run.model_dump(mode="json"), out_rows, title="significant win patterns")


@app.command("show")
def insights_show(
    segmentation: SegmentationOption = "rfm",
    segment: Annotated[str | None, typer.Option(help="Only this segment (all = every deal).")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Every tested pattern, not only the significant.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run and its patterns as JSON.")] = False,
) -> None:
    """Show the newest win patterns of a segmentation."""
    from sqlmodel import Session

    from insight.patterns import service

    settings = load_settings()
    try:
        runtime = build_runtime(settings)
        with Session(runtime.engine) as session:
            run, rows = service.pattern_table(
                session, segmentation=segmentation, segment=segment, significant_only=not show_all
            )
    except InsightError as exc:
        raise fail(exc) from exc
    out_rows = [r.model_dump(mode="json") for r in rows if r.tested]
    if as_json:
        sys.stdout.write(json.dumps({"run": run.model_dump(mode="json"), "patterns": out_rows}, ensure_ascii=False))
        sys.stdout.write("\n")
        return
    _print(run.model_dump(mode="json"), out_rows, title="win patterns" if show_all else "significant win patterns")
