"""The FastAPI application: ``create_app(settings)`` plus a lifespan that owns the runtime and embedded worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.dashboard import routes as dashboard
from api.routes import calls, customers, health, imports, segments, speakers
from insight.runtime import Runtime
from insight.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, runtime: Runtime | None = None, embedded_worker: bool | None = None) -> FastAPI:
    """Build the app. The runtime (engine, store, queues) is created in the lifespan unless one is given."""
    run_worker = settings.embedded_worker if embedded_worker is None else embedded_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or Runtime.build(settings)
        app.state.runtime = rt
        worker = None
        if run_worker:
            from insight.worker import EmbeddedWorker

            worker = EmbeddedWorker(rt)
            worker.start()
            log.info("embedded worker started")
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if runtime is None:
                rt.close()

    app = FastAPI(
        title="insight",
        version="0.1.0",
        summary="Conversation insight for sales calls: upload, transcribe, read back.",
        lifespan=lifespan,
    )
    errors.register(app)
    app.include_router(health.router)
    app.include_router(calls.router)
    app.include_router(speakers.router)
    app.include_router(customers.router)
    app.include_router(segments.router)
    app.include_router(imports.router)
    app.include_router(dashboard.router)
    return app
