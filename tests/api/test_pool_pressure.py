"""Many requests against a tiny connection pool and thread pool, through a real server: none waits for a pooled
connection held by a request that is itself waiting for a thread (SQLite and PostgreSQL)."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import uvicorn
from fastapi.routing import APIRoute, iter_route_contexts

from api.main import create_app
from api.routing import Route
from insight.db import session_scope
from insight.runtime import Runtime
from models import Call
from tests.fixtures import auth


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_one_connection_and_two_threads_serve_forty_concurrent_requests(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_s": 5.0, "api_threads": 2}
    )
    tight = Runtime.build(settings)
    headers = auth.admin(tight).headers
    with session_scope(tight.engine) as s:
        calls = [
            Call(
                audio_sha256=f"{i:064x}",
                audio_bytes=1000,
                filename=f"pool-{i}.m4a",
                media_format="mov,mp4,m4a",
                codec="aac",
                duration_s=60.0,
                sample_rate=16000,
                channels=1,
                status="done",
                progress=1.0,
            )
            for i in range(5)
        ]
        s.add_all(calls)
        s.flush()
        ids = [c.id for c in calls]
    app = create_app(settings, runtime=tight, embedded_worker=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
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
    finally:
        server.should_exit = True
        thread.join(10)
        tight.close()


def test_every_route_releases_its_sessions_in_its_own_thread(runtime: Runtime) -> None:
    app = create_app(runtime.settings, runtime=runtime, embedded_worker=False)
    routes = [c.original_route for c in iter_route_contexts(app.routes)]
    routes = [r for r in routes if isinstance(r, APIRoute)]
    assert len(routes) > 30
    assert [r.path for r in routes if not isinstance(r, Route)] == []
