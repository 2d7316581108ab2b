"""Liveness and readiness probes."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from insight.runtime import Runtime


def test_ready_when_database_queue_and_model_answer(runtime: Runtime, model_dir: Path) -> None:
    with TestClient(create_app(runtime.settings, runtime=runtime, embedded_worker=False)) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        r = c.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "queue": "ok", "model": "ok"}


def test_not_ready_without_the_model(runtime: Runtime, tmp_path: Path) -> None:
    settings = runtime.settings.model_copy(update={"model_dir": tmp_path / "empty-models"})
    bare = Runtime(settings=settings, engine=runtime.engine, store=runtime.store, queues=runtime.queues)
    with TestClient(create_app(settings, runtime=bare, embedded_worker=False)) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    assert "insight models install" in r.json()["checks"]["model"]
