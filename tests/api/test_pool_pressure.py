"""Many requests against a tiny connection pool and thread pool, through a real server: none waits for a pooled
connection held by a request that is itself waiting for a thread (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.routing import APIRoute, iter_route_contexts

from api.main import create_app
from api.routing import Route
from insight.db import session_scope
from insight.runtime import Runtime
from tests.fixtures import auth
from tests.fixtures.rows import processed_call
from tests.fixtures.server import serving


def test_one_connection_and_two_threads_serve_forty_concurrent_requests(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_s": 5.0, "api_threads": 2}
    )
    tight = Runtime.build(settings)
    headers = auth.admin(tight).headers
    with session_scope(tight.engine) as s:
        calls = [processed_call(i, f"pool-{i}.m4a") for i in range(5)]
        s.add_all(calls)
        s.flush()
        ids = [c.id for c in calls]
    app = create_app(settings, runtime=tight, embedded_worker=False)
    try:
        with serving(app) as base:
            run_requests(base, headers, ids)
    finally:
        tight.close()


def run_requests(base: str, headers: dict[str, str], ids: list[int | None]) -> None:
    """40 concurrent requests: every one answered 200, none after a pool timeout."""
    # Call routes take three thread hops (the guard's call check, the endpoint, the response model) and two
    # database sessions; the list and the page take two hops.
    paths = [f"/api/calls/{ids[i % 5]}" for i in range(20)] + ["/api/calls?limit=5", "/"] * 10

    def get(path: str) -> tuple[int, float]:
        started = time.monotonic()
        r = httpx.get(base + path, headers=headers, timeout=60)
        return r.status_code, time.monotonic() - started

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(get, paths))
    took = time.monotonic() - started
    assert [status for status, _ in answers] == [200] * len(paths)
    # A stall would last until the pool's 5 s timeout and then answer 503.
    assert max(t for _, t in answers) < 5.0, answers
    assert took < 10.0


def test_every_route_releases_its_sessions_in_its_own_thread(runtime: Runtime) -> None:
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    routes = [c.original_route for c in iter_route_contexts(app.routes)]
    routes = [r for r in routes if isinstance(r, APIRoute)]
    assert len(routes) > 30
    assert [r.path for r in routes if not isinstance(r, Route)] == []
