"""Prometheus metrics (scrape with a token that has the metrics scope, or set INSIGHT_METRICS_PUBLIC)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from api.routing import Route
from insight import telemetry

router = APIRouter(tags=["health"], route_class=Route)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def prometheus_metrics(runtime: RuntimeDep) -> Response:
    """Jobs by queue and state, job durations, real-time factor, sync errors, HTTP requests."""
    body = await run_in_threadpool(telemetry.render, runtime.engine)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
