"""The FastAPI application: ``create_app(settings)`` plus a lifespan that owns the runtime and embedded worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI

from api import errors, limits
from api.auth import authorize
from api.dashboard import routes as dashboard
from api.middleware import RequestContext
from api.proxies import TrustedProxies
from api.routes import (
    account,
    admin,
    calls,
    customers,
    deals,
    health,
    imports,
    insights,
    metrics,
    minutes,
    segments,
    speakers,
    topics,
    trackers,
)
from api.security import SecurityHeaders
from insight.auth import policy
from insight.runtime import Runtime
from insight.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, runtime: Runtime | None = None, embedded_worker: bool | None = None) -> FastAPI:
    """Build the app. The runtime (engine, store, queues) is created in the lifespan unless one is given."""
    run_worker = settings.embedded_worker if embedded_worker is None else embedded_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or Runtime.build(settings)
        app.state.runtime = rt
        # Sync endpoints and blocking dependencies run on this pool; see Settings.api_threads.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
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
    # Inside RequestContext, so their answers carry the request id: the client's address first (what trusted proxies
    # forwarded), then the body caps, before any route reads a body.
    default_cap, route_caps = limits.caps(settings)
    app.add_middleware(limits.BodyLimits, default=default_cap, routes=route_caps)
    app.add_middleware(TrustedProxies, trusted=settings.trusted_proxies)
    app.add_middleware(RequestContext)
    # Keep this the last middleware added (the outermost), so every answer gets the security headers, including
    # those made by the middlewares inside it (RequestContext answers unexpected errors itself).
    app.add_middleware(SecurityHeaders, docs_paths=(app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url))

    # Access control in one place: every router is attached to the area of the policy it belongs to
    # (insight/auth/policy.py); the area's dependency checks scopes and, for {call_id} routes, the call itself.
    def guarded(area: policy.Area) -> list[Any]:
        return [Depends(authorize(area))]

    app.include_router(health.router)  # liveness and readiness: public
    app.include_router(account.public)  # sign-in
    app.include_router(dashboard.public)  # sign-in page, static files
    app.include_router(account.router, dependencies=guarded(policy.ACCOUNT))
    app.include_router(calls.router, dependencies=guarded(policy.CALLS))
    app.include_router(speakers.router, dependencies=guarded(policy.CALLS))
    app.include_router(minutes.router, dependencies=guarded(policy.CALLS))
    app.include_router(trackers.call_router, dependencies=guarded(policy.CALLS))
    app.include_router(customers.router, dependencies=guarded(policy.CUSTOMERS))
    app.include_router(segments.router, dependencies=guarded(policy.INSIGHTS))
    app.include_router(insights.router, dependencies=guarded(policy.INSIGHTS))
    app.include_router(topics.router, dependencies=guarded(policy.TOPICS))
    app.include_router(trackers.router, dependencies=guarded(policy.TRACKERS))
    app.include_router(imports.router, dependencies=guarded(policy.IMPORTS))
    app.include_router(deals.router, dependencies=guarded(policy.DEALS))
    app.include_router(admin.router, dependencies=guarded(policy.ADMIN))
    app.include_router(metrics.router, dependencies=[] if settings.metrics_public else guarded(policy.METRICS))
    app.include_router(dashboard.router, dependencies=guarded(policy.PAGES))
    return app


def app_from_env() -> FastAPI:
    """The app built from INSIGHT_* settings: the factory each process runs under ``insight serve --workers N``."""
    return create_app(get_settings())
