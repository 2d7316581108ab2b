"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import RuntimeDep
from api.routing import Route
from insight.transcribe.provision import model_status

router = APIRouter(tags=["health"], route_class=Route)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(runtime: RuntimeDep) -> JSONResponse:
    """The database and the queue answer, and the speech model is in place."""
    checks: dict[str, str] = {}
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
        checks["database"] = f"error: {exc}"
    try:
        for queue in runtime.queues.hueys:
            runtime.queues.pending(queue)
        checks["queue"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["queue"] = f"error: {exc}"
    settings = runtime.settings
    checks["model"] = model_status(settings.whisper_model, settings.models_dir)
    ok = all(v.startswith("ok") for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)
